package gitscan

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// A scan stopped after its blobs were read (a signal, --timeout) still
// reports the keys it found, at the commit and path the walk met them,
// with in_head unknown; a key in a blob the walk had not met yet is named
// in a warning.
func TestStoppedScanReportsWhatItFound(t *testing.T) {
	r := testgit.New(t, "")
	key := gitTestKey("stopped")
	r.Write("config/app.env", "LOFTY_API_KEY="+key+"\n")
	added := r.Commit("add a key")
	r.Write("README", "docs\n")
	r.Commit("docs")

	g, err := repoOf(r).open(tuning{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	c := &scanner.Collector{}
	gs := newGitSink(c)
	run := scanner.New(scanner.DefaultOptions()).Start(gs)
	ctx := context.Background()
	sel, err := g.selectCommits(ctx, run, revSet{all: true})
	if err != nil {
		t.Fatal(err)
	}
	w := g.walkHistory(ctx, run, gs, sel)
	g.scanBlobs(ctx, run, gs, w.blobs)
	// A blob read before the walk met it: its findings have no origin.
	unmet := plumbing.NewHash("1111111111111111111111111111111111111111")
	gs.Finding(finding.Finding{Path: unmet.String(), Fingerprint: "ab12"})

	stopped, cancel := context.WithCancel(ctx)
	cancel()
	_, err = finish(stopped, g, run, gs, sel, revSet{all: true}, c)
	if err != context.Canceled {
		t.Errorf("finish: %v, want the context's error", err)
	}
	if len(c.Findings) != 1 {
		t.Fatalf("%d findings, want the key: %+v", len(c.Findings), c.Findings)
	}
	f := c.Findings[0]
	if f.Secret != key || f.Path != "config/app.env" || f.Commit != added || f.Message != "add a key" || f.Author == "" || f.InHead != nil {
		t.Errorf("finding %+v: want the key at config/app.env in %s, in_head unknown", f, added)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].Message, "blob "+unmet.String()+" holds a key (fingerprint ab12)") {
		t.Errorf("warnings %+v, want one naming the blob the walk had not met", c.Warnings)
	}
}

// TestSelectionStartsAtFirstFinding checks that a scan of everything
// selects its commits from the first finding on, beside the sweep (so
// that a scan stopped during the sweep has them, and its walk a head
// start), and only when asked when nothing was found.
func TestSelectionStartsAtFirstFinding(t *testing.T) {
	r := testgit.New(t, "")
	for i := range 5 {
		r.Write("f.txt", strings.Repeat("x", i+1))
		r.Commit("commit")
	}
	g, err := repoOf(r).open(tuning{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	ctx := context.Background()
	for _, finding := range []bool{true, false} {
		gs := newGitSink(&scanner.Collector{})
		run := scanner.New(scanner.DefaultOptions()).Start(gs)
		sctx, sweepDone := context.WithCancel(ctx)
		p := g.selectAtFinding(ctx, sctx, run, gs, revSet{all: true})
		if finding {
			gs.mu.Lock()
			gs.fire()
			gs.mu.Unlock()
			select {
			case <-p.done: // selected without being asked
			case <-time.After(30 * time.Second):
				t.Fatal("the first finding did not start the selection")
			}
		} else {
			sweepDone()
			if p.started.Load() {
				t.Error("the selection started with no finding")
			}
		}
		sel, err := p.wait()
		sweepDone()
		if err != nil || len(sel.commits) != 5 {
			t.Errorf("finding %v: selection %v, %v; want the 5 commits", finding, sel, err)
		}
		p.settle()
	}
}
