package gitobj

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkIndexFind looks up every object of a pack index, in a random
// order: the index of LOFTYSCAN_BENCH_REPO's biggest pack when set, else
// a synthetic index of 1,000,000 names.
//
//	LOFTYSCAN_BENCH_REPO=/path/to/repo.git go test -run '^$' -bench IndexFind ./internal/gitobj
func BenchmarkIndexFind(b *testing.B) {
	x := benchIndex(b)
	order := make([]int, x.count)
	seed := uint64(1)
	for i := range order {
		order[i] = i
	}
	for i := len(order) - 1; i > 0; i-- {
		seed = seed*6364136223846793005 + 1442695040888963407
		j := int(seed>>33) % (i + 1)
		order[i], order[j] = order[j], order[i]
	}
	names := make([][]byte, len(order))
	for i, p := range order {
		names[i] = x.name(p)
	}
	b.ResetTimer()
	k := 0
	for b.Loop() {
		if x.find(names[k]) < 0 {
			b.Fatal("not found")
		}
		if k++; k == len(names) {
			k = 0
		}
	}
}

func benchIndex(b *testing.B) *packIndex {
	b.Helper()
	if dir := os.Getenv("LOFTYSCAN_BENCH_REPO"); dir != "" {
		idxs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.idx"))
		idxs2, _ := filepath.Glob(filepath.Join(dir, ".git", "objects", "pack", "*.idx"))
		var best *packIndex
		for _, n := range append(idxs, idxs2...) {
			data, err := os.ReadFile(n)
			if err != nil {
				b.Fatal(err)
			}
			x, err := parsePackIndex(data)
			if err != nil {
				b.Fatal(err)
			}
			if best == nil || x.count > best.count {
				best = x
			}
		}
		if best != nil {
			return best
		}
	}
	return syntheticIndex(1_000_000)
}

// BenchmarkIndexFindHashed is BenchmarkIndexFind with the hash table a
// long walk builds.
func BenchmarkIndexFindHashed(b *testing.B) {
	x := benchIndex(b)
	start := time.Now()
	x.hashed.Store(newNameTable(x))
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "build-ms")
	names := make([][]byte, x.count)
	for i := range names {
		names[i] = x.name((i * 7919) % x.count)
	}
	k := 0
	b.ResetTimer()
	for b.Loop() {
		if x.find(names[k]) < 0 {
			b.Fatal("not found")
		}
		if k++; k == len(names) {
			k = 0
		}
	}
}
