package gitscan

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// The revision walk is checked against two oracles: `git rev-list`, and
// the walk it replaced (referenceSelection), which loads every commit
// either side reaches and takes the difference: exact, at the cost of the
// whole history.

// skew is how far a random history's dates go backwards.
type skew int

const (
	noSkew   skew = iota
	mildSkew      // a few commits an hour before their parents: git's slop copes
	wildSkew      // commits days before long chains of parents: only generations cope
)

// randomHistory builds, with git fast-import, a history of n commits on a
// few branches that fork and merge (octopus merges too), with several
// roots, dates skewed as asked, files edited and keys added now and then
// (keyEvery commits; 0 for none). It returns the commits in the order
// made; each branch and some tags point into it.
func randomHistory(t testing.TB, seed uint64, n int, sk skew, keyEvery int) (*testgit.Repo, []string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	r := testgit.New(t, "", "--bare")
	base := testgit.Epoch.Unix()
	var script strings.Builder
	w := bufio.NewWriter(&script)
	type branch struct {
		name string
		head int // mark of its last commit; 0 for none yet
	}
	branches := []*branch{{name: "main"}}
	var marks []int
	var contents []string
	state := map[int]map[string]string{} // each commit's files
	for i := 1; i <= n; i++ {
		// Sometimes a new branch from a random commit, or a new root.
		if i > 1 && rng.IntN(12) == 0 {
			b := &branch{name: fmt.Sprintf("b%d", len(branches))}
			if rng.IntN(4) > 0 {
				b.head = marks[rng.IntN(len(marks))]
			}
			branches = append(branches, b)
		}
		b := branches[rng.IntN(len(branches))]
		when := base + int64(i)*600
		switch {
		case sk == mildSkew && rng.IntN(6) == 0:
			when -= 3600
		case sk == wildSkew && rng.IntN(10) == 0:
			when -= int64(rng.IntN(30)) * 86400
		}
		fmt.Fprintf(w, "commit refs/heads/%s\nmark :%d\ncommitter Cy Committer <cy@example.com> %d +0000\n", b.name, i, when)
		msg := fmt.Sprintf("commit %d", i)
		fmt.Fprintf(w, "data %d\n%s\n", len(msg), msg)
		if b.head != 0 {
			fmt.Fprintf(w, "from :%d\n", b.head)
			// A merge of one to three other commits.
			if rng.IntN(5) == 0 {
				merged := map[int]bool{b.head: true}
				for range 1 + rng.IntN(3)*rng.IntN(2) {
					if m := marks[rng.IntN(len(marks))]; !merged[m] {
						merged[m] = true
						fmt.Fprintf(w, "merge :%d\n", m)
					}
				}
			}
		}
		// The tree: the first parent's, as fast-import makes it, changed.
		files := map[string]string{}
		for p, c := range state[b.head] {
			files[p] = c
		}
		f := rng.IntN(20)
		content := fmt.Sprintf("file %d, commit %d\n", f, i)
		if keyEvery > 0 && i%keyEvery == 0 {
			content += "LOFTY_API_KEY=" + gitTestKey(fmt.Sprintf("random-%d-%d", seed, i)) + "\n"
		}
		if len(contents) > 0 && rng.IntN(6) == 0 {
			content = contents[rng.IntN(len(contents))] // back to an older version: a blob met again
		}
		contents = append(contents, content)
		name := fmt.Sprintf("d%d/f%d.txt", f%4, f)
		fmt.Fprintf(w, "M 100644 inline %s\ndata %d\n%s\n", name, len(content), content)
		files[name] = content
		// Now and then a file deleted, a folder renamed or copied, a file
		// moved: trees and blobs met again under other paths.
		var paths []string
		for p := range files {
			paths = append(paths, p)
		}
		slices.Sort(paths)
		pick := paths[rng.IntN(len(paths))]
		dir := path.Dir(pick)
		switch rng.IntN(12) {
		case 0:
			if pick != name { // deleting what the commit writes would leave its blob unreachable
				fmt.Fprintf(w, "D %s\n", pick)
				delete(files, pick)
			}
		case 1, 2:
			to := fmt.Sprintf("e%d", rng.IntN(3))
			if rng.IntN(2) == 0 {
				to = dir + "/sub"
			}
			if !strings.HasPrefix(to, dir+"/") && !hasDir(files, to) {
				fmt.Fprintf(w, "C %s %s\n", dir, to)
				for p, c := range files {
					if strings.HasPrefix(p, dir+"/") {
						files[to+p[len(dir):]] = c
					}
				}
			}
		case 3:
			to := fmt.Sprintf("r%d", i)
			fmt.Fprintf(w, "R %s %s\n", dir, to)
			for p, c := range files {
				if strings.HasPrefix(p, dir+"/") {
					delete(files, p)
					files[to+p[len(dir):]] = c
				}
			}
		case 4:
			to := fmt.Sprintf("moved/m%d.txt", i)
			fmt.Fprintf(w, "R %s %s\n", pick, to)
			files[to] = files[pick]
			delete(files, pick)
		}
		state[i] = files
		b.head = i
		marks = append(marks, i)
		if rng.IntN(25) == 0 {
			fmt.Fprintf(w, "reset refs/tags/t%d\nfrom :%d\n", i, i)
		}
	}
	w.Flush()
	if out, err := r.Cmd(script.String(), nil, "fast-import", "--quiet", "--export-marks=marks").CombinedOutput(); err != nil {
		t.Fatalf("git fast-import: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(r.Dir, "marks"))
	if err != nil {
		t.Fatal(err)
	}
	commits := make([]string, n)
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m int
		var h string
		if _, err := fmt.Sscanf(line, ":%d %s", &m, &h); err != nil || m < 1 || m > n {
			t.Fatalf("marks: %q", line)
		}
		commits[m-1] = h
	}
	return r, commits
}

// hasDir reports whether a path in files is under folder dir.
func hasDir(files map[string]string, dir string) bool {
	for p := range files {
		if strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return false
}

// revList runs git rev-list and returns the commits it lists, as a set.
func revList(r *testgit.Repo, args ...string) map[string]bool {
	r.T.Helper()
	out := map[string]bool{}
	for _, h := range strings.Fields(r.Git(append([]string{"rev-list"}, args...)...)) {
		out[h] = true
	}
	return out
}

// exactSelection is what a selection must be, from two walks of the whole
// history that git makes without any date order: what include reaches
// (committed at or after since, when since is set), less what exclude
// reaches.
func exactSelection(r *testgit.Repo, include, exclude []string, since int64) map[string]bool {
	r.T.Helper()
	args := include
	if since != 0 {
		args = append([]string{fmt.Sprintf("--since-as-filter=@%d", since)}, include...)
	}
	out := revList(r, args...)
	if len(exclude) > 0 {
		for h := range revList(r, exclude...) {
			delete(out, h)
		}
	}
	return out
}

// selectFor runs the selection of set in repository r.
func selectFor(t testing.TB, r *testgit.Repo, set revSet) (*selection, []string) {
	t.Helper()
	g, err := repoOf(r).open(tuning{})
	if err != nil {
		t.Fatal(err)
	}
	// Open until the test ends: the selection's names are in its packs.
	t.Cleanup(func() { g.close() })
	c := &scanner.Collector{}
	sel, err := g.selectCommits(context.Background(), scanner.New(scanner.DefaultOptions()).Start(c), set)
	if err != nil {
		t.Fatal(err)
	}
	var warnings []string
	for _, w := range c.Warnings {
		warnings = append(warnings, w.String())
	}
	return sel, warnings
}

// checkSelection compares a selection with the commits it must hold, and
// checks its order and its boundary against git's parents.
func checkSelection(t *testing.T, what string, sel *selection, want map[string]bool, parents map[string][]string) {
	t.Helper()
	got := map[string]bool{}
	for _, c := range sel.commits {
		got[sel.hash(&c).String()] = true
	}
	if len(got) != len(sel.commits) {
		t.Errorf("%s: a commit selected twice", what)
	}
	var extra, missing []string
	for h := range got {
		if !want[h] {
			extra = append(extra, h[:7])
		}
	}
	for h := range want {
		if !got[h] {
			missing = append(missing, h[:7])
		}
	}
	if len(extra)+len(missing) > 0 {
		t.Errorf("%s: %d commits, want %d; extra %v, missing %v", what, len(got), len(want), extra, missing)
		return
	}
	// Parents first; each selected commit's parents where the selection
	// says, the others in the boundary.
	placed := map[string]int{}
	boundary := map[string]bool{}
	for _, b := range sel.boundary {
		boundary[sel.hash(&b).String()] = true
	}
	wantBoundary := map[string]bool{}
	for i, c := range sel.commits {
		h := sel.hash(&c).String()
		placed[h] = i
		var ps []string
		for _, p := range sel.parents(&c) {
			pc := sel.parent(p)
			ps = append(ps, sel.hash(pc).String())
			if p >= 0 && int(p) >= i {
				t.Fatalf("%s: %s comes before its parent %s", what, h[:7], sel.hash(pc).String()[:7])
			}
		}
		if !slices.Equal(ps, parents[h]) {
			t.Fatalf("%s: %s has parents %v, git says %v", what, h[:7], ps, parents[h])
		}
		for _, p := range parents[h] {
			if !got[p] {
				wantBoundary[p] = true
			}
		}
	}
	if len(boundary) != len(sel.boundary) || len(boundary) != len(wantBoundary) {
		t.Errorf("%s: boundary of %d commits (%d distinct), want %d", what, len(sel.boundary), len(boundary), len(wantBoundary))
	}
	for h := range wantBoundary {
		if !boundary[h] {
			t.Errorf("%s: %s not in the boundary", what, h[:7])
		}
	}
}

// gitParents lists each commit's parents, as git has them.
func gitParents(r *testgit.Repo) map[string][]string {
	out := map[string][]string{}
	for _, line := range strings.Split(r.Git("rev-list", "--parents", "--all"), "\n") {
		f := strings.Fields(line)
		out[f[0]] = f[1:]
	}
	return out
}

// TestRevWalkRanges compares the selection of random ranges, --since and
// --all of random histories with what git lists: with and without a
// commit-graph, with dates in order and skewed.
func TestRevWalkRanges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		skew  skew
		graph string // "", "all", or "part": a graph of the older commits only
	}{
		{"dates in order", noSkew, ""},
		{"dates skewed within git's slop", mildSkew, ""},
		{"commit-graph", mildSkew, "all"},
		{"commit-graph of older commits", mildSkew, "part"},
		{"wild skew, commit-graph", wildSkew, "all"},
		{"wild skew", wildSkew, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			seed := uint64(len(tc.name))*7919 + uint64(tc.skew)
			r, commits := randomHistory(t, seed, 300, tc.skew, 0)
			switch tc.graph {
			case "all":
				r.Git("commit-graph", "write", "--reachable")
			case "part":
				// A graph of what the first 200 commits reach: the
				// newer ones are outside it.
				cmd := r.Cmd(strings.Join(commits[:200], "\n")+"\n", nil, "commit-graph", "write", "--stdin-commits")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("git commit-graph write: %v\n%s", err, out)
				}
			}
			parents := gitParents(r)
			rng := rand.New(rand.NewPCG(seed, 1))
			for range 40 {
				a, b := commits[rng.IntN(len(commits))], commits[rng.IntN(len(commits))]
				sel, warnings := selectFor(t, r, revSet{include: []plumbing.Hash{plumbing.NewHash(b)}, exclude: []plumbing.Hash{plumbing.NewHash(a)}})
				if len(warnings) > 0 {
					t.Errorf("warnings %v", warnings)
				}
				what := a[:7] + ".." + b[:7]
				exact := exactSelection(r, []string{b}, []string{a}, 0)
				if tc.skew == wildSkew && tc.graph == "" {
					// Dates alone cannot be exact: the walk, like git's,
					// may select commits A reaches, never leave out one
					// it does not; and it selects what git does.
					got := map[string]bool{}
					for _, c := range sel.commits {
						got[sel.hash(&c).String()] = true
					}
					for h := range exact {
						if !got[h] {
							t.Errorf("%s: %s left out", what, h[:7])
						}
					}
					checkSelection(t, what+" (git rev-list)", sel, revList(r, b, "^"+a), parents)
					continue
				}
				checkSelection(t, what, sel, exact, parents)
				if tc.skew != wildSkew {
					// git's own walk agrees where its slop suffices.
					checkSelection(t, what+" (git rev-list)", sel, revList(r, b, "^"+a), parents)
				}
			}
			// --since, alone and with a range, and every ref.
			for range 10 {
				since := testgit.Epoch.Unix() + int64(rng.IntN(300))*600
				b := commits[rng.IntN(len(commits))]
				a := commits[rng.IntN(len(commits))]
				for _, set := range []revSet{
					{include: []plumbing.Hash{plumbing.NewHash(b)}, since: time.Unix(since, 0)},
					{include: []plumbing.Hash{plumbing.NewHash(b)}, exclude: []plumbing.Hash{plumbing.NewHash(a)}, since: time.Unix(since, 0)},
					{all: true, since: time.Unix(since, 0)},
				} {
					sel, _ := selectFor(t, r, set)
					inc, exc := []string{b}, []string(nil)
					if set.all {
						inc = []string{"--all"}
					}
					if len(set.exclude) > 0 {
						exc = []string{a}
					}
					what := fmt.Sprintf("%v..%v since %d", exc, inc, since)
					if tc.skew == wildSkew && tc.graph == "" {
						continue // dates alone cannot be exact
					}
					checkSelection(t, what, sel, exactSelection(r, inc, exc, since), parents)
				}
			}
			sel, _ := selectFor(t, r, revSet{all: true})
			checkSelection(t, "--all", sel, revList(r, "--all"), parents)
			if tc.skew == wildSkew && tc.graph == "" {
				return
			}
			// What a push of a new branch sends: what no remote-tracking
			// branch reaches.
			for k := range 5 {
				r.Git("update-ref", fmt.Sprintf("refs/remotes/origin/r%d", k), commits[rng.IntN(len(commits))])
			}
			for range 10 {
				b := commits[rng.IntN(len(commits))]
				sel, _ := selectFor(t, r, revSet{include: []plumbing.Hash{plumbing.NewHash(b)}, excludeRemotes: true})
				checkSelection(t, b[:7]+" --not --remotes", sel, exactSelection(r, []string{b}, []string{"--remotes"}, 0), parents)
			}
		})
	}
}

// TestPermuteInto moves random parts of random node lists to random
// places, in place, and compares with a copy.
func TestPermuteInto(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 9))
	for round := range 500 {
		n := rng.IntN(200) + 1
		nodes := make([]commitNode, n)
		for i := range nodes {
			nodes[i].hash = gitobj.NameRef(rng.Uint32())
		}
		k := rng.IntN(n + 1)
		if round%5 == 0 {
			k = n // all of them, as a scan of everything
		}
		order := rng.Perm(n)[:k]
		where := make([]int32, n)
		for j, i := range order {
			where[i] = int32(j + 1)
		}
		for i := range where {
			if where[i] == 0 && rng.IntN(3) == 0 {
				where[i] = -1 - int32(rng.IntN(5)) // a boundary node: not moved
			}
		}
		want := make([]gitobj.NameRef, k)
		for j, i := range order {
			want[j] = nodes[i].hash
		}
		permuteInto(nodes, where)
		for j := range k {
			if nodes[j].hash != want[j] {
				t.Fatalf("round %d (%d of %d nodes): place %d holds the wrong node", round, k, n, j)
			}
		}
	}
}

// TestSelectionInWalkNodes checks that the selection of everything is
// made in the revision walk's own nodes (a copy beside them was the peak
// of a scan of a million commits), and that it is the selection a copy
// makes.
func TestSelectionInWalkNodes(t *testing.T) {
	t.Parallel()
	r, _ := randomHistory(t, 5, 300, mildSkew, 7)
	g, err := repoOf(r).open(tuning{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	run := scanner.New(scanner.DefaultOptions()).Start(newGitSink(&scanner.Collector{}))
	var sels [2]*selection
	for i, spare := range []int{0, 10_000} {
		w := newRevWalk(context.Background(), g, run, revSet{all: true}, nil)
		tips, err := g.tips(run, false, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := w.run(tips, nil); err != nil {
			t.Fatal(err)
		}
		w.nodes = slices.Clip(w.nodes)
		w.nodes = slices.Grow(w.nodes, spare) // room to spare: copied
		first := &w.nodes[0]
		sels[i] = w.selection()
		if inPlace := &sels[i].commits[0] == first; inPlace != (spare == 0) {
			t.Errorf("%d nodes to spare: made in the walk's nodes %v", spare, inPlace)
		}
	}
	a, b := sels[0], sels[1]
	if len(a.commits) < 300 || !slices.Equal(a.commits, b.commits) || !slices.Equal(a.boundary, b.boundary) || !slices.Equal(a.edges, b.edges) || a.shallow != b.shallow {
		t.Errorf("the selection made in place (%d commits) is not the one copied (%d)", len(a.commits), len(b.commits))
	}
}

// TestWalkOfEverythingMadeRoomFor checks that the revision walk of a scan
// of everything makes room for every commit the packs hold at once: grown
// as it went, the last copy held the old nodes beside the new (at a
// million commits, the peak of a scan's memory).
func TestWalkOfEverythingMadeRoomFor(t *testing.T) {
	t.Parallel()
	r, _ := randomHistory(t, 9, 400, mildSkew, 7)
	r.Git("repack", "-a", "-d", "-q")
	seen := &tuneSeen{}
	fs, _, _ := scanWith(t, repoOf(r), HistoryOptions{}, tuning{seen: seen}, 2)
	if len(fs) == 0 {
		t.Fatal("no finding: the history is not walked")
	}
	if seen.walkGrown != 0 {
		t.Errorf("the walk of everything grew its nodes %d times", seen.walkGrown)
	}
	// A walk that does not know the count grows them: the check can fail.
	seen = &tuneSeen{}
	g, err := repoOf(r).open(tuning{seen: seen})
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	run := scanner.New(scanner.DefaultOptions()).Start(newGitSink(&scanner.Collector{}))
	if _, err := g.selectCommits(context.Background(), run, revSet{all: true}); err != nil {
		t.Fatal(err)
	}
	if seen.walkGrown == 0 {
		t.Error("a walk of 400 commits with no room made grew its nodes 0 times")
	}
}
