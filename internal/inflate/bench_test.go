//go:build unix

package inflate

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// BenchmarkInto decodes sets of streams like the objects of a git pack:
// text of a vocabulary of words, deflated at level 6 as git does (by
// compress/flate here, which chooses stored, fixed or dynamic blocks as
// zlib does). Pack objects are small (3.7 KB on average on prometheus), so
// that building the tables of dynamic blocks is a good part of the work:
// "small" has objects of 200 bytes to 32 KB, log-uniform; "tiny" of 100 to
// 400 bytes, like commits and small deltas; "large" four of 1 MB.
// BenchmarkInflate in internal/gitobj measures the same on a real pack.
// Beside the wall time it reports the CPU time (user and system, from
// getrusage) as cpu-ns/op: on a busy machine that is what the decoder
// costs.
func BenchmarkInto(b *testing.B) {
	rng := rand.New(rand.NewPCG(11, 12))
	words := make([]string, 800)
	for i := range words {
		w := make([]byte, 2+rng.IntN(9))
		for j := range w {
			w[j] = byte('a' + rng.IntN(26))
		}
		words[i] = string(w)
	}
	text := func(n int) []byte {
		var t bytes.Buffer
		for t.Len() < n {
			// Zipf-like: a few words are common.
			fmt.Fprintf(&t, "%s ", words[int(float64(len(words))*rng.Float64()*rng.Float64()*rng.Float64())])
			if rng.IntN(12) == 0 {
				fmt.Fprintf(&t, "%d\n\t", rng.IntN(100000))
			}
		}
		return t.Bytes()[:n]
	}
	sets := []struct {
		name     string
		n        int
		min, max float64
	}{
		{"small", 2000, 200, 32 << 10},
		{"tiny", 4000, 100, 400},
		{"large", 4, 1 << 20, 1 << 20},
	}
	for _, set := range sets {
		var streams [][]byte
		var sizes []int
		total := 0
		for range set.n {
			n := int(set.min * math.Pow(set.max/set.min, rng.Float64()))
			streams = append(streams, deflate(b, text(n), 6))
			sizes = append(sizes, n)
			total += n
		}
		b.Run(set.name, func(b *testing.B) {
			var d Decoder
			dst := make([]byte, int(set.max)+1)
			b.SetBytes(int64(total))
			var cpu time.Duration
			for b.Loop() {
				start := cpuTime()
				for i, s := range streams {
					if _, err := d.Into(dst[:sizes[i]], s); err != nil {
						b.Fatal(err)
					}
				}
				cpu += cpuTime() - start
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the user and system time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
