package gitobj

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// graphHistory makes a history with what a commit-graph must hold: two
// roots, merges, an octopus merge of four parents, dates that go
// backwards, and a date past 2038 (34 bits). It returns the commits, each
// with a branch of its own so that --reachable finds them all.
func graphHistory(r *testgit.Repo, n int, tag string) []string {
	var commits []string
	base := testgit.Epoch.Unix()
	for i := range n {
		var parents []string
		switch {
		case i == 0 || i == n/2:
			// a root
		case i%7 == 0 && i > 4:
			parents = []string{commits[i-1], commits[i-3], commits[i-4], commits[i/2]}
		case i%3 == 0:
			parents = []string{commits[i-1], commits[i-2]}
		default:
			parents = []string{commits[i-1]}
		}
		when := base + int64(60*i)
		switch {
		case i%5 == 0:
			when -= 3600 * 24 // skewed: before its parents
		case i == n-1:
			when = 1 << 33 // the year 2242
		}
		c := r.CommitTree("", slices.Compact(parents), when, tag+" commit "+strconv.Itoa(i))
		r.Git("branch", "-f", "b"+strconv.Itoa(i), c)
		commits = append(commits, c)
	}
	return commits
}

// checkGraph compares what g says of each commit with what git says.
func checkGraph(t *testing.T, r *testgit.Repo, g *CommitGraph, commits []string, corrected bool) {
	t.Helper()
	if g == nil {
		t.Fatal("no commit-graph opened")
	}
	if g.Count() != len(commits) {
		t.Fatalf("%d commits in the graph, want %d", g.Count(), len(commits))
	}
	if g.HasCorrectedDates() != corrected {
		t.Errorf("corrected dates: %v, want %v", g.HasCorrectedDates(), corrected)
	}
	gen := map[plumbing.Hash]uint64{}
	var parents []int
	for _, c := range commits {
		h := plumbing.NewHash(c)
		pos, ok := g.Find(h)
		if !ok {
			t.Fatalf("%s not found", c)
		}
		if got, _ := g.Hash(pos); got != h {
			t.Fatalf("%s at %d, but %s is there", c, pos, got)
		}
		gc, err := g.Commit(pos, parents)
		if err != nil {
			t.Fatal(err)
		}
		parents = gc.Parents
		want := strings.Fields(r.Git("show", "-s", "--format=%T %ct %P", c))
		if gc.Tree.String() != want[0] || strconv.FormatInt(gc.When, 10) != want[1] {
			t.Errorf("%s: tree %s time %d, git says %v", c, gc.Tree, gc.When, want[:2])
		}
		var ps []string
		for _, p := range gc.Parents {
			ph, _ := g.Hash(p)
			ps = append(ps, ph.String())
			if gen[ph] >= gc.Generation {
				t.Errorf("%s: generation %d, a parent's %d", c, gc.Generation, gen[ph])
			}
		}
		if !slices.Equal(ps, want[2:]) {
			t.Errorf("%s: parents %v, git says %v", c, ps, want[2:])
		}
		if corrected && gc.Generation < uint64(gc.When) {
			t.Errorf("%s: corrected date %d before the commit time %d", c, gc.Generation, gc.When)
		}
		gen[h] = gc.Generation
	}
	if _, ok := g.Find(plumbing.NewHash("1234567890123456789012345678901234567890")); ok {
		t.Error("found a commit the graph does not have")
	}
}

func TestCommitGraph(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		writes [][]string // git commit-graph write arguments, run after each part of the history
		gen    string     // commitGraph.generationVersion
	}{
		{"one file", [][]string{{"--reachable"}}, "2"},
		{"topological levels only", [][]string{{"--reachable"}}, "1"},
		{"chain of three layers", [][]string{{"--reachable", "--split=no-merge"}, {"--reachable", "--split=no-merge"}, {"--reachable", "--split=no-merge"}}, "2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := testgit.New(t, "", "--bare")
			var commits []string
			for i, w := range tc.writes {
				// Each part grows the history on top of the last.
				part := graphHistory(r, 40, strconv.Itoa(i))
				for k := range part {
					r.Git("branch", "-m", "b"+strconv.Itoa(k), fmt.Sprintf("p%d-%d", i, k))
				}
				commits = append(commits, part...)
				r.Git(append([]string{"-c", "commitGraph.generationVersion=" + tc.gen, "commit-graph", "write"}, w...)...)
			}
			g := OpenCommitGraph(filepath.Join(r.Dir, "objects"))
			defer g.Close()
			if len(tc.writes) > 1 && (g == nil || len(g.layers) != len(tc.writes)) {
				t.Fatalf("want a chain of %d layers", len(tc.writes))
			}
			checkGraph(t, r, g, commits, tc.gen == "2")
		})
	}
}

// TestCommitGraphRepeatedParents: git writes a commit that names a parent
// more than once into its commit-graph as it is, and Commit gives each
// parent once, as ParseCommit does for the commit's object: a walk must
// see the same parents from either.
func TestCommitGraphRepeatedParents(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "", "--bare")
	a := r.CommitTree("", nil, testgit.Epoch.Unix(), "a")
	b := r.CommitTree("", []string{a}, testgit.Epoch.Unix()+60, "b")
	tree := strings.TrimSpace(r.Git("show", "-s", "--format=%T", b))
	body := "tree " + tree + "\n" + strings.Repeat("parent "+b+"\nparent "+a+"\n", 20) + "parent " + b + "\n" +
		"author A <a@example.com> 1700000000 +0000\ncommitter A <a@example.com> 1700000000 +0000\n\nrepeated\n"
	c := testgit.WriteLoose(t, r.ObjectsDir(), fmt.Sprintf("commit %d", len(body)), strings.NewReader(body))
	r.Git("branch", "main", c.String())
	r.Git("commit-graph", "write", "--reachable")
	if got := strings.Fields(r.Git("show", "-s", "--format=%P", c.String())); len(got) != 41 {
		t.Fatalf("git reads %d parents; the test wants git to keep all 41", len(got))
	}
	g := OpenCommitGraph(filepath.Join(r.Dir, "objects"))
	if g == nil {
		t.Fatal("no commit-graph opened")
	}
	defer g.Close()
	pos, ok := g.Find(c)
	if !ok {
		t.Fatal("the crafted commit is not in the graph")
	}
	gc, err := g.Commit(pos, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ps []string
	for _, p := range gc.Parents {
		h, _ := g.Hash(p)
		ps = append(ps, h.String())
	}
	parsed, err := ParseCommit([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{b, a}
	if !slices.Equal(ps, want) || len(parsed.Parents) != 2 || parsed.Parents[0].String() != b || parsed.Parents[1].String() != a {
		t.Errorf("parents from the graph %v, from the object %v; want %v", ps, parsed.Parents, want)
	}
}

// TestCommitGraphCrafted opens damaged commit-graphs: each is refused, or
// opens and gives errors, never reads out of bounds.
func TestCommitGraphCrafted(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "", "--bare")
	graphHistory(r, 30, "")
	r.Git("commit-graph", "write", "--reachable")
	name := filepath.Join(r.Dir, "objects", "info", "commit-graph")
	good, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseGraphLayer(good, 0, 0); err != nil {
		t.Fatal(err)
	}
	cdat := 0 // where the commit data starts
	for i := range int(good[6]) {
		if string(good[8+12*i:][:4]) == "CDAT" {
			cdat = int(binary.BigEndian.Uint64(good[8+12*i+4:]))
		}
	}
	edit := func(f func(b []byte)) []byte {
		b := slices.Clone(good)
		f(b)
		return b
	}
	refused := map[string][]byte{
		"empty":           nil,
		"bad signature":   edit(func(b []byte) { b[0] = 'X' }),
		"SHA-256":         edit(func(b []byte) { b[5] = 2 }),
		"base count":      edit(func(b []byte) { b[7] = 1 }),
		"chunk past end":  edit(func(b []byte) { binary.BigEndian.PutUint64(b[8+4:], uint64(len(b))) }),
		"too many chunks": edit(func(b []byte) { b[6] = 200 }),
		"truncated":       good[:len(good)/2],
		"unsorted fanout": edit(func(b []byte) {
			for i := range int(b[6]) {
				if string(b[8+12*i:][:4]) == "OIDF" {
					binary.BigEndian.PutUint32(b[binary.BigEndian.Uint64(b[8+12*i+4:]):], 0xffffff)
				}
			}
		}),
	}
	for what, b := range refused {
		if _, err := parseGraphLayer(b, 0, 0); err == nil {
			t.Errorf("%s: opened", what)
		}
	}
	// Parents past the end, and an octopus edge list that runs off: the
	// commit gives an error.
	broken := map[string][]byte{
		"parent past the end": edit(func(b []byte) { binary.BigEndian.PutUint32(b[cdat+hashLen:], 1_000_000) }),
		"edge list overrun":   edit(func(b []byte) { binary.BigEndian.PutUint32(b[cdat+hashLen+4:], graphOctopus|1_000_000) }),
	}
	for what, b := range broken {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
		g := OpenCommitGraph(filepath.Join(r.Dir, "objects"))
		if g == nil {
			t.Fatalf("%s: not opened", what)
		}
		if _, err := g.Commit(0, nil); err == nil {
			t.Errorf("%s: no error", what)
		}
		g.Close()
	}
}

// FuzzCommitGraph reads every commit of a fuzzed commit-graph file: it
// must not panic, and whatever it returns points inside the graph. The
// seed in testdata is git's graph of four commits: two roots, a date
// that goes backwards, an octopus merge.
func FuzzCommitGraph(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := parseGraphLayer(b, 0, 0)
		if err != nil {
			return
		}
		g := &CommitGraph{layers: []graphLayer{l}, count: l.count, corrected: l.gda2 != nil}
		for pos := range min(g.count, 1000) {
			h, _ := g.Hash(pos)
			if p, ok := g.Find(h); ok {
				if got, _ := g.Hash(p); got != h {
					t.Fatalf("%s found at %d, which holds %s", h, p, got)
				}
			}
			c, err := g.Commit(pos, nil)
			if err != nil {
				continue
			}
			for _, p := range c.Parents {
				if p < 0 || p >= g.count {
					t.Fatalf("parent %d of %d commits", p, g.count)
				}
			}
		}
	})
}

// A store's commit-graph is the first of its object folders' that has
// one, as git looks for it: a pre-receive hook's store starts with git's
// quarantine folder, which has none, and the repository's graph was left
// unread, so each walk there read every commit object it met (a branch
// from an old commit of go-git/go-git: 60 ms of CPU, 20 ms with the
// graph).
func TestCommitGraphOfAnAlternate(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "", "--bare")
	a := r.CommitTree("", nil, testgit.Epoch.Unix(), "a")
	r.Git("branch", "main", a)
	r.Git("commit-graph", "write", "--reachable")
	quarantine := t.TempDir()
	s := OpenDirs([]string{quarantine, r.ObjectsDir()}, nil)
	defer s.Close()
	g := s.CommitGraph()
	if g == nil {
		t.Fatal("no commit-graph: the repository's was not looked for past the first folder")
	}
	if _, ok := g.Find(plumbing.NewHash(a)); !ok {
		t.Error("the graph does not hold the repository's commit")
	}
}
