package gitscan

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// exposerAfterScan scans repo's whole history and returns the exposer
// the scan's findings make, its graph loaded and its blobs' keys known,
// as expose has them before working out the carriers. With partial, it
// follows only the paths keys were found at, as for a range.
func exposerAfterScan(t *testing.T, repo *Repository, partial bool) *exposer {
	t.Helper()
	ctx := context.Background()
	g, err := repo.open(tuning{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.close() })
	gs := newGitSink(&scanner.Collector{})
	r := scanner.New(scanner.DefaultOptions()).Start(gs)
	sel, err := g.selectCommits(ctx, r, revSet{all: true})
	if err != nil {
		t.Fatal(err)
	}
	w := g.walkHistory(ctx, r, gs, sel)
	g.scanBlobs(ctx, r, gs, w.blobs)
	a := &attributor{g: g, r: r, gs: gs, sel: sel, w: r.NewWorker()}
	fs := a.attribute(ctx)
	if len(fs) == 0 {
		t.Fatal("the scan found no key")
	}
	x := newExposer(a, fs)
	x.partialScan = partial
	x.loadGraph(ctx)
	x.blobFileKeys()
	x.watch()
	if partial && len(x.watched) == 0 {
		t.Fatal("no path followed")
	}
	return x
}

// oracleCarry is the file keys each commit of x's order holds, each tree
// counted from its root, recursively, with no memo and no comparison.
func oracleCarry(t *testing.T, x *exposer) [][]int {
	t.Helper()
	var keysOf func(h plumbing.Hash, dir string, depth int) []int
	keysOf = func(h plumbing.Hash, dir string, depth int) []int {
		var out []int
		if depth >= maxExposureDepth {
			return nil
		}
		x.a.g.treeEntries(h, func(name []byte, mode filemode.FileMode, eh plumbing.Hash) {
			p := dir + string(name)
			switch {
			case mode == filemode.Dir && (x.watched == nil || x.dirs[shownPath(p+"/")]):
				out = append(out, keysOf(eh, p+"/", depth+1)...)
			case mode.IsFile() && x.watched == nil:
				out = append(out, x.sets.members(x.blobBits[eh])...)
			case mode.IsFile() && x.watched[shownPath(p)]:
				out = append(out, x.sets.members(x.watchedBlob(context.Background(), eh, p))...)
			}
		})
		slices.Sort(out)
		return slices.Compact(out)
	}
	want := make([][]int, x.graph.len())
	for i := range x.graph.len() {
		want[i] = keysOf(x.graph.tree(i), "", 0)
	}
	return want
}

// checkCarryOracle compares the carriers the comparison with first
// parents works out with the oracle's.
func checkCarryOracle(t *testing.T, name string, x *exposer) (carriers int) {
	t.Helper()
	got := x.commitCounts(context.Background())
	want := oracleCarry(t, x)
	for i := range x.graph.len() {
		g := x.sets.members(got[i])
		if len(g) > 0 {
			carriers++
		}
		if !slices.Equal(g, want[i]) {
			t.Errorf("%s: commit %s (%d of %d) carries keys %v, want %v", name, x.graph.hash(i), i, x.graph.len(), g, want[i])
		}
	}
	return carriers
}

// TestExposureCarryMatchesOracle checks, on random histories with merges,
// deletions, folders renamed and copied and blobs met again, that the
// keys each commit's tree holds, worked out by comparing it with its
// first parent's, are those counted from its root.
func TestExposureCarryMatchesOracle(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{3, 11} {
		r, _ := randomHistory(t, seed, 160, mildSkew, 7)
		for _, partial := range []bool{false, true} {
			x := exposerAfterScan(t, repoOf(r), partial)
			name := fmt.Sprintf("seed %d, paths followed %v", seed, partial)
			if n := checkCarryOracle(t, name, x); n == 0 {
				t.Errorf("%s: no commit carries a key: the history does not test the comparison", name)
			}
		}
	}
}

// TestExposureCarryCraftedTrees checks the comparison on trees git would
// not write: entries out of order, names twice, a folder and a file of
// the same name, a file turned into a folder, a malformed tree, a
// submodule where a key was.
func TestExposureCarryCraftedTrees(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	blob := func(s string) plumbing.Hash {
		out, err := r.Cmd(s, nil, "hash-object", "-w", "--stdin").CombinedOutput()
		if err != nil {
			t.Fatalf("hash-object: %v\n%s", err, out)
		}
		return plumbing.NewHash(strings.TrimSpace(string(out)))
	}
	key1 := blob("LOFTY_API_KEY=" + gitTestKey("carry-1") + "\n")
	key2 := blob("LOFTY_API_KEY=" + gitTestKey("carry-2") + "\n")
	plain := blob("nothing here\n")
	type ent struct {
		mode string
		name string
		h    plumbing.Hash
	}
	// raw writes a tree of entries as given, in that order, unchecked.
	raw := func(es ...ent) plumbing.Hash {
		var b strings.Builder
		for _, e := range es {
			b.WriteString(e.mode + " " + e.name + "\x00")
			b.Write(e.h[:])
		}
		out, err := r.Cmd(b.String(), nil, "hash-object", "-t", "tree", "-w", "--literally", "--stdin").CombinedOutput()
		if err != nil {
			t.Fatalf("hash-object tree: %v\n%s", err, out)
		}
		return plumbing.NewHash(strings.TrimSpace(string(out)))
	}
	sub1 := raw(ent{"100644", "k", key1})
	sub2 := raw(ent{"100644", "k", key2}, ent{"100644", "p", plain})
	trees := []plumbing.Hash{
		raw(ent{"100644", "a", key1}, ent{"100644", "b", plain}),
		raw(ent{"100644", "b", plain}, ent{"100644", "a", key1}, ent{"100644", "a", key2}), // out of order, a twice
		raw(ent{"100644", "a", key2}, ent{"40000", "a", sub1}),                             // a file and a folder named a
		raw(ent{"40000", "a", sub2}, ent{"40000", "a", sub2}),                              // a folder twice
		raw(ent{"40000", "a", sub1}, ent{"100644", "z", key2}),
		raw(ent{"160000", "a", key1}, ent{"100644", "z", key2}), // a submodule where the folder was
		raw(ent{"100644", "z", key2}, ent{"100755", "z", key2}), // the same file twice, modes differ
	}
	// A malformed tree: an entry cut short after a good one.
	good := raw(ent{"100644", "a", key1})
	broken := []byte("100644 a\x00")
	broken = append(broken, key1[:]...)
	broken = append(broken, []byte("100644 b\x00abc")...)
	out, err := r.Cmd(string(broken), nil, "hash-object", "-t", "tree", "-w", "--literally", "--stdin").CombinedOutput()
	if err != nil {
		t.Fatalf("hash-object: %v\n%s", err, out)
	}
	trees = append(trees, plumbing.NewHash(strings.TrimSpace(string(out))), good, raw())
	parent := ""
	for i, tr := range trees {
		var ps []string
		if parent != "" {
			ps = []string{parent}
		}
		parent = r.CommitTree(tr.String(), ps, testgit.Epoch.Unix()+int64(i)*60, fmt.Sprint("crafted ", i))
	}
	r.Git("update-ref", "refs/heads/main", parent)
	r.Git("symbolic-ref", "HEAD", "refs/heads/main")
	for _, partial := range []bool{false, true} {
		x := exposerAfterScan(t, repoOf(r), partial)
		if n := checkCarryOracle(t, fmt.Sprint("crafted, paths followed ", partial), x); n == 0 {
			t.Error("no commit carries a key")
		}
	}
}

// TestRefGraphMatchesGit checks the graph exposure walks against git: the
// commits every ref and HEAD reach (git rev-list --all HEAD), each after
// its parents, with git's first parent, whether the selection held all of
// them (a whole history) or a few (a range: the rest loaded, from the
// commit-graph file or from the commits).
func TestRefGraphMatchesGit(t *testing.T) {
	t.Parallel()
	r, commits := randomHistory(t, 21, 120, wildSkew, 0)
	for _, graphFile := range []bool{false, true} {
		if graphFile {
			r.Git("commit-graph", "write", "--reachable")
		}
		want := strings.Fields(r.Git("rev-list", "--all", "HEAD"))
		firsts := map[string]string{}
		for _, line := range strings.Split(r.Git("rev-list", "--all", "HEAD", "--parents"), "\n") {
			if f := strings.Fields(line); len(f) > 1 {
				firsts[f[0]] = f[1]
			}
		}
		ranges := []revSet{{all: true}, {include: []plumbing.Hash{plumbing.NewHash(commits[len(commits)-1])}, exclude: []plumbing.Hash{plumbing.NewHash(commits[len(commits)/2])}}}
		for _, set := range ranges {
			name := fmt.Sprintf("commit-graph %v, all %v", graphFile, set.all)
			g, err := repoOf(r).open(tuning{})
			if err != nil {
				t.Fatal(err)
			}
			run := scanner.New(scanner.DefaultOptions()).Start(&scanner.Collector{})
			sel, err := g.selectCommits(context.Background(), run, set)
			if err != nil {
				t.Fatal(err)
			}
			var tips []plumbing.Hash
			for _, tip := range g.refTips() {
				tips = append(tips, tip.commit)
			}
			head, _ := g.head()
			rg := loadRefGraph(context.Background(), g, sel, append(tips, head))
			var got []string
			for i := range rg.len() {
				h := rg.hash(i)
				got = append(got, h.String())
				for _, p := range rg.parents(i) {
					if int(p) >= i {
						t.Errorf("%s: commit %s comes before its parent %s", name, h, rg.hash(int(p)))
					}
				}
				wantFirst, hasFirst := firsts[h.String()]
				switch f := rg.firstParent(i); {
				case f < 0 && hasFirst:
					t.Errorf("%s: commit %s has no first parent, want %s", name, h, wantFirst)
				case f >= 0 && rg.hash(int(f)).String() != wantFirst:
					t.Errorf("%s: commit %s has first parent %s, want %s", name, h, rg.hash(int(f)), wantFirst)
				}
				if j, ok := rg.find(h); !ok || j != i {
					t.Errorf("%s: find(%s) = %d, %v; want %d", name, h, j, ok, i)
				}
			}
			slices.Sort(got)
			w := slices.Clone(want)
			slices.Sort(w)
			if !slices.Equal(got, w) {
				t.Errorf("%s: %d commits, want the %d of git rev-list --all HEAD", name, len(got), len(w))
			}
			g.close() // after the graph's names are read: they are in its pack index
		}
	}
}

// TestRefGraphFindsNamesSharingTheirStart: the positions are sorted by
// NameRef, one for each name; names that share their first bytes (which
// only crafted objects do), selected or loaded, are each found at their
// own position.
func TestRefGraphFindsNamesSharingTheirStart(t *testing.T) {
	t.Parallel()
	var names []plumbing.Hash
	for i := range 40 {
		var h plumbing.Hash
		h[0], h[7], h[19] = byte(i%3), 0xee, byte(255-i) // three starts, many names each
		names = append(names, h)
	}
	sel := &selection{names: testNames()}
	for _, h := range names[:25] {
		sel.commits = append(sel.commits, commitNode{hash: sel.names.Ref(h)})
	}
	r := &refGraph{sel: sel}
	for i := range names {
		if i < 25 {
			r.at = append(r.at, int32(i))
		} else {
			r.extra = append(r.extra, hashTree{hash: names[i], ref: sel.names.Ref(names[i])})
			r.at = append(r.at, int32(-len(r.extra)))
		}
	}
	r.n = len(r.at)
	r.byRef = sortByRef(r)
	for i, h := range names {
		if k, ok := r.find(h); !ok || k != i {
			t.Errorf("find(%s) = %d, %v; want %d", h, k, ok, i)
		}
	}
	var missing plumbing.Hash
	missing[7], missing[19] = 0xee, 1
	if k, ok := r.find(missing); ok {
		t.Errorf("find(%s) = %d, found", missing, k)
	}
}
