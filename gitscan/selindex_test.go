package gitscan

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// testNames is a table of names for selections made by hand: it keeps
// every name beside, as a store's keeps those no pack holds.
func testNames() *gitobj.Names { return (*gitobj.Store)(nil).Names() }

func randomHash(rng *rand.Rand) plumbing.Hash {
	var h plumbing.Hash
	for i := range h {
		h[i] = byte(rng.Uint32())
	}
	return h
}

// TestSelIndex checks the index against what the maps it replaces said: a
// name of the selection is found as its commit (as a commit when it is in
// the boundary too), of the boundary as its boundary commit, others not at
// all; commits appended later are found, past the index's growth; and
// names that share all but their last bytes, as a crafted pack index can
// give them, are told apart.
func TestSelIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	sel := &selection{names: testNames()}
	for range 1000 {
		sel.commits = append(sel.commits, commitNode{hash: sel.names.Ref(randomHash(rng))})
	}
	for range 300 {
		sel.boundary = append(sel.boundary, commitNode{hash: sel.names.Ref(randomHash(rng))})
	}
	sel.boundary = append(sel.boundary, commitNode{hash: sel.commits[7].hash}) // in both
	crafted := randomHash(rng)
	for i := range 500 {
		h := crafted
		h[18], h[19] = byte(i>>8), byte(i)
		sel.commits = append(sel.commits, commitNode{hash: sel.names.Ref(h)})
	}
	x := newSelIndex(sel)
	check := func() {
		t.Helper()
		for i := range sel.commits {
			if e, ok := x.getRef(sel.commits[i].hash); !ok || e != int32(i) {
				t.Fatalf("commit %d: got %d, %v", i, e, ok)
			}
		}
		for i := range len(sel.boundary) - 1 {
			if e, ok := x.getRef(sel.boundary[i].hash); !ok || e != -1-int32(i) {
				t.Fatalf("boundary %d: got %d, %v", i, e, ok)
			}
		}
		for range 1000 {
			if e, ok := x.get(randomHash(rng)); ok {
				t.Fatalf("a name not indexed found at %d", e)
			}
		}
		missing := crafted
		missing[17] ^= 1
		if _, ok := x.get(missing); ok {
			t.Fatal("a crafted name not indexed found")
		}
	}
	check()
	for range 5000 { // several growths
		sel.commits = append(sel.commits, commitNode{hash: sel.names.Ref(randomHash(rng))})
		x.set(int32(len(sel.commits) - 1))
	}
	check()
	if x.x.n != len(sel.commits)+len(sel.boundary)-1 {
		t.Fatalf("%d names indexed, want %d", x.x.n, len(sel.commits)+len(sel.boundary)-1)
	}
}

// TestWalkHiddenHoldsNoNodePerCommit runs walkHidden on a history of
// 20,000 commits with every commit of the object database to look at, as
// a scan of everything gives it, and three that no ref reaches: it must
// find those three, joined to the selection as git has them, and must not
// make a node or map entry for each selected commit (it made two, 240
// bytes a commit: 240 MB at a million commits, the scan's peak).
func TestWalkHiddenHoldsNoNodePerCommit(t *testing.T) {
	const n = 20000
	r := testgit.New(t, "", "--bare")
	base := testgit.Epoch.Unix()
	err := feedCmd(r.Cmd("", nil, "fast-import", "--quiet"), func(w *bufio.Writer) {
		for i := 1; i <= n; i++ {
			fmt.Fprintf(w, "commit refs/heads/main\nmark :%d\ncommitter C <c@example.com> %d +0000\ndata 2\nc\n", i, base+int64(i))
			if i > 1 {
				fmt.Fprintf(w, "from :%d\n", i-1)
			}
			fmt.Fprintf(w, "M 100644 inline f%d.txt\ndata 5\n%04d\n", i%50, i%10000)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Fields(r.Git("rev-list", "--all"))
	tree := r.Git("rev-parse", "main~10^{tree}")
	env := []string{"GIT_COMMITTER_DATE=@" + fmt.Sprint(base+2*n) + " +0000", "GIT_AUTHOR_DATE=@" + fmt.Sprint(base+2*n) + " +0000"}
	commitTree := func(args ...string) string {
		out, err := r.Cmd("", env, append([]string{"commit-tree", tree, "-m", "dangling"}, args...)...).Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	onMain := r.Git("rev-parse", "main~10")
	d1 := commitTree("-p", onMain)
	d2 := commitTree("-p", d1)
	d3 := commitTree()
	all = append(all, d3, d2, d1)

	g, gs, run, sel := selectEverything(t, r)
	if len(sel.commits) != n {
		t.Fatalf("selection: %d commits, want %d", len(sel.commits), n)
	}
	ctx := context.Background()
	dangling := make([]plumbing.Hash, len(all))
	for i, h := range all {
		dangling[i] = plumbing.NewHash(h)
	}

	refs := make([]gitobj.NameRef, len(dangling))
	for i, h := range dangling {
		refs[i] = g.names.Ref(h) // the dangling commits are loose: kept beside the pack's names
	}
	if got := unselected(sel, refs); fmt.Sprint(got) != fmt.Sprint([]plumbing.Hash{plumbing.NewHash(d3), plumbing.NewHash(d2), plumbing.NewHash(d1)}) {
		t.Errorf("unselected: %v, want the three dangling commits in their order", got)
	}

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	g.walkHidden(ctx, run, gs, sel, time.Time{}, dangling)
	runtime.ReadMemStats(&after)
	if allocs := after.Mallocs - before.Mallocs; allocs > n/4 {
		t.Errorf("walkHidden made %d allocations for %d selected commits", allocs, n)
	}

	if len(sel.commits) != n+3 {
		t.Fatalf("%d commits selected after walkHidden, want %d", len(sel.commits), n+3)
	}
	pos := map[string]int32{}
	for i, c := range sel.commits {
		pos[sel.hash(&c).String()] = int32(i)
	}
	for _, h := range []string{d1, d2, d3} {
		c := &sel.commits[pos[h]]
		if pos[h] < n || c.reach != reachNothing {
			t.Errorf("dangling %s at %d, reached by %v", h, pos[h], c.reach)
		}
	}
	wantParents := map[string][]int32{d1: {pos[onMain]}, d2: {pos[d1]}, d3: nil}
	for h, want := range wantParents {
		got := sel.parents(&sel.commits[pos[h]])
		if fmt.Sprint(got) != fmt.Sprint(want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("parents of %s: %v, want %v", h, got, want)
		}
	}
}

// TestWalkListsOnlyUnsweptBlobs checks that the history walk registers
// every blob it meets (where it was first met) but lists for scanning only
// those the sweep did not scan: a name for every blob of a million-commit
// history was 14 MB held through the walk.
func TestWalkListsOnlyUnsweptBlobs(t *testing.T) {
	r := testgit.New(t, "")
	for i := range 5 {
		r.Write(fmt.Sprintf("f%d.txt", i), fmt.Sprintf("content %d\n", i))
		r.Commit(fmt.Sprintf("commit %d", i))
	}
	g, gs, run, sel := selectEverything(t, r)
	ctx := context.Background()
	all := g.walkHistoryExposing(ctx, run, gs, sel, nil, nil)
	if len(all.blobs) != 5 {
		t.Fatalf("%d blobs listed with nothing swept, want 5", len(all.blobs))
	}
	notSwept := all.blobs[2]
	w := g.walkHistoryExposing(ctx, run, gs, sel, nil, func(l gitobj.Loc) bool { return l.Hash() != notSwept })
	if len(w.blobs) != 1 || w.blobs[0] != notSwept {
		t.Fatalf("listed %v, want only %s, the blob not swept", w.blobs, notSwept)
	}
	for _, h := range all.blobs {
		if o, ok := w.origin(h); !ok || o.path == "" {
			t.Errorf("blob %s swept: its origin is not registered (%v, %v)", h, o, ok)
		}
	}
}

// selectEverything opens r, closed when the test ends, and selects every
// commit its refs reach, as a scan of everything does.
func selectEverything(t *testing.T, r *testgit.Repo) (*gitRepo, *gitSink, *scanner.Run, *selection) {
	t.Helper()
	g, err := repoOf(r).open(tuning{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.close() })
	gs := newGitSink(&scanner.Collector{})
	run := scanner.New(scanner.DefaultOptions()).Start(gs)
	sel, err := g.selectCommits(context.Background(), run, revSet{all: true})
	if err != nil {
		t.Fatal(err)
	}
	return g, gs, run, sel
}
