package gitscan

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// gcPercent returns the collector's percent.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// waitPercent runs cycles until the pacing's finalizer has set a percent
// that ok accepts, and returns it; it fails after many cycles.
func waitPercent(t *testing.T, ok func(int) bool) int {
	t.Helper()
	for range 200 {
		runtime.GC()
		if p := gcPercent(); ok(p) {
			return p
		}
		time.Sleep(5 * time.Millisecond) // let the finalizer goroutine run
	}
	t.Fatalf("the collector's percent stayed %d", gcPercent())
	return 0
}

// TestPaceCollector checks the pacing of a history scan: with little live
// the heap may grow by minHeadroom (a percent above the default's 100),
// with much live by an eighth of it; the setting before is restored after,
// and GOGC set by the person running the scan is left alone.
func TestPaceCollector(t *testing.T) {
	t.Setenv("GOGC", "")
	defer debug.SetGCPercent(debug.SetGCPercent(150))

	stop := paceCollector()
	if p := waitPercent(t, func(p int) bool { return p > 100 && p != 150 }); p < 100 || p > maxGCPercent {
		t.Fatalf("percent %d with little live; want it over the default's 100, at most %d", p, maxGCPercent)
	}
	live := make([]byte, 300<<20)                       // pointer-free, as the scan's tables are
	waitPercent(t, func(p int) bool { return p == 12 }) // an eighth
	runtime.KeepAlive(live)
	live = nil
	other := paceCollector() // another scan, ended first, and whose stop is called twice
	other()
	other()
	if p := gcPercent(); p == 150 {
		t.Fatal("a second scan's end, its stop called twice, ended the first's pacing")
	}
	stop()
	if p := gcPercent(); p != 150 {
		t.Fatalf("percent %d after the scan, want the 150 set before it", p)
	}
	runtime.GC() // a finalizer of the pacing that ended changes nothing
	runtime.GC()
	if p := gcPercent(); p != 150 {
		t.Fatalf("percent %d after the pacing's last finalizer, want 150", p)
	}

	t.Setenv("GOGC", "150")
	stop = paceCollector()
	runtime.GC()
	runtime.GC()
	if p := gcPercent(); p != 150 {
		t.Fatalf("percent %d with GOGC set, want it left at 150", p)
	}
	stop()
}

// TestPacePercent: the heap may grow by minHeadroom between two cycles,
// by no more than four times what is live (the percent set from one
// cycle's live heap applies to the next cycle's, which may be far
// bigger), and from bigLive by an eighth of it, no less than bigHeadroom.
func TestPacePercent(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{{0, maxGCPercent}, {1, maxGCPercent}, {200 << 10, maxGCPercent}, {16 << 20, 400}, {32 << 20, 200}, {100 << 20, 64}, {127 << 20, 50}, {128 << 20, 25}, {190 << 20, 16}, {256 << 20, 12}, {4 << 30, 12}} {
		if got := pacePercent(c.live); got != c.want {
			t.Errorf("pacePercent(%d) = %d, want %d", c.live, got, c.want)
		}
	}
}
