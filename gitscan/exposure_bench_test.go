package gitscan

import (
	"context"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/scanner"
)

// BenchmarkExposure is what saying where each key went costs, beside the
// scan that found the keys: the synthetic history of benchRepo (100,000
// commits by default; LOFTYSCAN_BENCH_COMMITS), whose one key was added in
// the first commit and later removed, and LOFTYSCAN_BENCH_REPO when set.
// It reports the exposure step's time as a share of the whole scan
// (scan-%). A scan that finds nothing never takes the step.
//
//	go test -run '^$' -bench Exposure -benchtime 3x ./gitscan
func BenchmarkExposure(b *testing.B) {
	repo, err := FindRepository(benchRepo(b))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	c := &scanner.Collector{}
	if _, err := ScanHistory(ctx, scanner.New(scanner.DefaultOptions()), repo, HistoryOptions{}, c); err != nil {
		b.Fatal(err)
	}
	scan := time.Since(start)
	if len(c.Findings) == 0 || c.Findings[0].Exposure == nil {
		b.Fatalf("findings %+v: want one, with its exposure", c.Findings)
	}

	// The state the scan leaves before the exposure step, built again.
	g, err := repo.open(tuning{})
	if err != nil {
		b.Fatal(err)
	}
	defer g.close()
	gs := newGitSink(&scanner.Collector{})
	r := scanner.New(scanner.DefaultOptions()).Start(gs)
	sel, err := g.selectCommits(ctx, r, revSet{all: true})
	if err != nil {
		b.Fatal(err)
	}
	w := g.walkHistory(ctx, r, gs, sel)
	g.scanBlobs(ctx, r, gs, w.blobs)
	a := &attributor{g: g, r: r, gs: gs, sel: sel, w: r.NewWorker()}
	fs := a.attribute(ctx)
	var spent time.Duration
	for b.Loop() {
		start := time.Now()
		a.expose(ctx, fs, false)
		spent += time.Since(start)
	}
	b.ReportMetric(100*float64(spent)/float64(b.N)/float64(scan), "scan-%")
	b.ReportMetric(float64(fs[0].Exposure.Commits), "carriers")
	b.ReportMetric(float64(len(sel.commits)), "commits")
}
