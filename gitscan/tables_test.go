package gitscan

import (
	"bufio"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// The tables a scan of a whole history keeps grow with its commits: at
// two million commits every byte a commit is 2 MB. These tests hold the
// bytes a commit of each table to what it is now, counted as allocated
// (not as resident, which the collector's timing moves).

// tablesCommits is the length of the synthetic history the tests of bytes
// a commit measure.
const tablesCommits = 10_000

// tablesRepo opens a new synthetic history of tablesCommits commits, and
// starts a run to walk it with.
func tablesRepo(t *testing.T) (*gitRepo, *scanner.Run) {
	t.Helper()
	if raceBuild {
		t.Skip("the race detector changes what is allocated: .ci/run runs this test without it")
	}
	testgit.Require(t)
	dir, err := buildSyntheticRepo(t.TempDir(), tablesCommits)
	if err != nil {
		t.Fatal(err)
	}
	r := &testgit.Repo{T: t, Dir: dir, Home: filepath.Join(filepath.Dir(dir), "home")}
	g, err := repoOf(r).open(tuning{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.close() })
	return g, scanner.New(scanner.DefaultOptions()).Start(&scanner.Collector{})
}

// warmIndex looks up sel's names until the pack index has built its
// table of names (gitobj's hashAfter), which a scan builds in its sweep,
// before any of the tables measured here: built while one is measured, it
// counted as that table's (25 bytes a commit).
func warmIndex(g *gitRepo, sel *selection) {
	for range 8 {
		for i := range sel.commits {
			g.names.Find(sel.hash(&sel.commits[i]))
		}
	}
}

// TestRefGraphBytesPerCommit: exposure's graph of what the refs reach
// finds the selected commits by name in 4-byte slots, and when the refs
// reach every selected commit and nothing else (here) it is the selection
// itself, with no tables of its own but its index by name: about 28 bytes
// a commit, mostly sorting the names. With a map of every selected name
// (109 MB at two million commits, the peak of the scan's memory) and a
// time for each commit it allocated 142; with its own copy of the
// selection's edges, 52.
func TestRefGraphBytesPerCommit(t *testing.T) {
	g, run := tablesRepo(t)
	sel, err := g.selectCommits(context.Background(), run, revSet{all: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(sel.commits) != tablesCommits {
		t.Fatalf("selected %d commits, want %d", len(sel.commits), tablesCommits)
	}
	var tips []plumbing.Hash
	for _, tip := range g.refTips() {
		tips = append(tips, tip.commit)
	}
	warmIndex(g, sel)
	var rg *refGraph
	perCommit := allocatedBy(func() { rg = loadRefGraph(context.Background(), g, sel, tips) }) / tablesCommits
	if rg.len() != tablesCommits {
		t.Fatalf("graph of %d commits, want %d", rg.len(), tablesCommits)
	}
	if perCommit > 40 {
		t.Errorf("the graph of %d commits allocated %d bytes a commit, want at most 40", tablesCommits, perCommit)
	}
	t.Logf("%d bytes a commit", perCommit)
}

// TestCommitNodeSize: a scan keeps a commitNode a commit, in the walk and
// then in the selection, to its end: 72 bytes with the walk's generation
// in it, 64 with it beside the nodes, 56 with a 2-byte parent count
// (TestWideOctopusParents), 24 with its names as NameRefs into the pack
// index (64 MB less at two million commits).
func TestCommitNodeSize(t *testing.T) {
	if n := unsafe.Sizeof(commitNode{}); n > 24 {
		t.Errorf("a commitNode takes %d bytes, want at most 24", n)
	}
}

// TestSelectionBytesPerCommit: the selection is made in the walk's nodes,
// ordered with tables by node: 33 bytes a commit while it is made; with a
// list of the selected (grown as found), a map from node to place in it
// and a second copy of where each node's children start, 54 (about 40 MB
// more at two million commits, made while the sweep's tables are held).
func TestSelectionBytesPerCommit(t *testing.T) {
	g, run := tablesRepo(t)
	tips, err := g.tips(run, false, "")
	if err != nil {
		t.Fatal(err)
	}
	w := newRevWalk(context.Background(), g, run, revSet{all: true}, nil)
	if err := w.run(tips, nil); err != nil {
		t.Fatal(err)
	}
	var sel *selection
	perCommit := allocatedBy(func() { sel = w.selection() }) / tablesCommits
	if len(sel.commits) != tablesCommits {
		t.Fatalf("selected %d commits, want %d", len(sel.commits), tablesCommits)
	}
	if perCommit > 40 {
		t.Errorf("making the selection of %d commits allocated %d bytes a commit, want at most 40", tablesCommits, perCommit)
	}
	t.Logf("%d bytes a commit", perCommit)
}

// TestSelectionAfterSweep: a scan of everything selects its commits
// beside the sweep from the first finding on, but in a history of
// selectAfterSweep commits or more after the sweep, once its plan is
// gone: made at once, the plan and the selection's walk were the peak of
// the scan's memory at two million commits (1,188 MiB, 1,153 after).
// Here the threshold is lowered to the history's commits.
func TestSelectionAfterSweep(t *testing.T) {
	t.Parallel()
	r, _ := randomHistory(t, 5, 80, mildSkew, 7)
	seen := &tuneSeen{}
	want, _, _ := scanWith(t, repoOf(r), HistoryOptions{}, tuning{seen: seen}, 2)
	if len(want) == 0 || !seen.selectedBeside.Load() {
		t.Fatalf("%d findings, selected beside the sweep %v: the test does not test the threshold", len(want), seen.selectedBeside.Load())
	}
	seen = &tuneSeen{}
	got, _, _ := scanWith(t, repoOf(r), HistoryOptions{}, tuning{seen: seen, selectAfter: 80}, 2)
	if seen.selectedBeside.Load() {
		t.Error("a history of the threshold's commits was selected beside the sweep")
	}
	if len(got) != len(want) {
		t.Errorf("%d findings after the sweep, %d beside it", len(got), len(want))
	}
}

// TestSelectionAtFindingAfterSweepEnded: the selection starts at the
// first finding even when the sweep has ended too by the time the
// goroutine that waits for either runs (a loaded machine): select took
// either of two ready channels, and TestSelectionAfterSweep failed in
// about one run in six beside the package's other tests. Here both are
// ready before it waits, 40 times.
func TestSelectionAtFindingAfterSweepEnded(t *testing.T) {
	t.Parallel()
	r, _ := randomHistory(t, 5, 20, mildSkew, 0)
	g, err := repoOf(r).open(tuning{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	gs := newGitSink(&scanner.Collector{})
	gs.mu.Lock()
	gs.fire()
	gs.mu.Unlock()
	run := scanner.New(scanner.DefaultOptions()).Start(gs)
	swept, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 40 {
		seen := &tuneSeen{}
		g.tune.seen = seen
		p := g.selectAtFinding(context.Background(), swept, run, gs, revSet{all: true})
		deadline := time.Now().Add(20 * time.Second) // a hang guard, not a measure
		for !p.started.Load() && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if !p.started.Load() || !seen.selectedBeside.Load() {
			t.Fatalf("round %d: a finding made while sweeping did not start the selection once the sweep had ended", i)
		}
		<-p.done
	}
}

// TestWideOctopusParents: a node's parent count takes 2 bytes (a node of
// 56 bytes, TestCommitNodeSize); a merge of 65,535 parents or more keeps
// its count in a table beside the nodes, in the walk and in the
// selection. Here a merge of 66,000 commits, each of them selected.
func TestWideOctopusParents(t *testing.T) {
	if raceBuild {
		t.Skip("66,000 commits: slow under the race detector, and the code is the same")
	}
	testgit.Require(t)
	r := testgit.New(t, "")
	const n = 66_000
	key := gitTestKey("in the wide octopus")
	err := feedCmd(r.Cmd("", nil, "fast-import", "--quiet"), func(w *bufio.Writer) {
		when := testgit.Epoch.Unix()
		for i := 1; i <= n; i++ {
			fmt.Fprintf(w, "commit refs/heads/side\nmark :%d\ncommitter A <a@example.com> %d +0000\ndata 4\nc%03d\n", i, when+int64(i), i%1000)
		}
		body := "LOFTY_API_KEY=" + key + "\n"
		fmt.Fprintf(w, "commit refs/heads/main\ncommitter A <a@example.com> %d +0000\ndata 7\noctopus\n", when+n+1)
		for i := 1; i <= n; i++ {
			fmt.Fprintf(w, "merge :%d\n", i)
		}
		fmt.Fprintf(w, "M 100644 inline octopus.env\ndata %d\n%s\n", len(body), body)
	})
	if err != nil {
		t.Fatal(err)
	}
	sel, _ := selectFor(t, r, revSet{all: true})
	if len(sel.commits) != n+1 {
		t.Fatalf("selected %d commits, want %d", len(sel.commits), n+1)
	}
	octopus := &sel.commits[n] // the newest, a child of every other
	ps := sel.parents(octopus)
	if octopus.pcount != wideParents || len(ps) != n {
		t.Fatalf("the merge's node counts %d, and has %d parents; want %d", octopus.pcount, len(ps), n)
	}
	seen := make([]bool, n)
	for _, p := range ps {
		if p < 0 || int(p) >= n || seen[p] {
			t.Fatalf("the merge's parent %d: not one of the other commits, or twice", p)
		}
		seen[p] = true
	}
	fs, _, _ := scanWith(t, repoOf(r), HistoryOptions{}, tuning{}, 2)
	if len(fs) != 1 || fs[0].Secret != key {
		t.Errorf("%d findings, want the key in the merge's tree", len(fs))
	}
}
