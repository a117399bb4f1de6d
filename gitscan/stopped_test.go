package gitscan

import (
	"context"
	"strings"
	"testing"

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
