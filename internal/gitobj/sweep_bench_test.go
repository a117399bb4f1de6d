//go:build unix

package gitobj

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// BenchmarkPlanSweep plans a sweep of every pack of LOFTYSCAN_BENCH_REPO
// (the packs' order, every object's header, the delta forest), as a
// whole-history scan does before it reads an object; "order" is the
// packs' order alone (from the .rev files where the packs have them, the
// radix sort of the index's offsets where not: "sorted"). It reports the
// CPU time (cpu-ms/op) beside the wall time.
//
//	LOFTYSCAN_BENCH_REPO=/path/to/repo.git go test -run '^$' -bench PlanSweep -cpu 1 ./internal/gitobj
func BenchmarkPlanSweep(b *testing.B) {
	dir := os.Getenv("LOFTYSCAN_BENCH_REPO")
	if dir == "" {
		b.Skip("set LOFTYSCAN_BENCH_REPO to a repository to benchmark the planning of its sweep")
	}
	objects := filepath.Join(dir, "objects")
	if _, err := os.Stat(objects); err != nil {
		objects = filepath.Join(dir, ".git", "objects")
	}
	s := Open(objects, nil)
	defer s.Close()
	all := TypesOf(plumbing.CommitObject, plumbing.TreeObject, plumbing.BlobObject, plumbing.TagObject)
	cpuLoop := func(b *testing.B, f func()) {
		var cpu time.Duration
		for b.Loop() {
			start := cpuTime()
			f()
			cpu += cpuTime() - start
		}
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	}
	b.Run("plan", func(b *testing.B) {
		cpuLoop(b, func() {
			for pi := range s.packs {
				s.planSweep(context.Background(), pi, all, func(int32, []byte) bool { return true })
			}
		})
	})
	b.Run("order", func(b *testing.B) {
		cpuLoop(b, func() {
			for _, p := range s.packs {
				p.packOrder()
			}
		})
	})
	b.Run("sorted", func(b *testing.B) {
		cpuLoop(b, func() {
			for _, p := range s.packs {
				p.idx.byOffset()
			}
		})
	})
}
