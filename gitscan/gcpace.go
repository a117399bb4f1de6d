package gitscan

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// A scan of a big repository holds tables of a slot per object and a
// node per commit for as long as it runs (the sweep's plan, the pack
// index's name table, the selection, the walk's marks): at 1.6 million
// objects (400,000 commits) about 200 MB live, at 4 million about 230
// MiB. By default the collector lets the heap grow by as much as was live
// at its last cycle before it runs again, so the process held about twice
// that: RSS beyond the pack's mapping grew with the history, 495 MiB at 4
// million objects. Those tables hold no pointers, so a cycle costs little
// more than the garbage it frees; and a small repository's scan, with
// little live, runs many cycles for its few megabytes of growth.
//
// So while a history is scanned the collector is paced by headroom: after
// each cycle, the heap may grow by minHeadroom (but by no more than
// maxGCPercent of what is live) before the next; once bigLive is live, by
// an eighth of it but no less than bigHeadroom. A small repository's scan
// runs fewer cycles than the default would make it; a big history's heap
// stays within an eighth of its live data. With a quarter (and 64 MiB),
// two million commits (190 MB live through the sweep, 175 through the
// walk) peaked 25–45 MiB over the pack and index mappings + 256 MiB; the
// cycles an eighth makes mark little (the tables hold no pointers).

// minHeadroom is the least the heap may grow by between two cycles while
// less than bigLive is live.
const minHeadroom = 64 << 20

// bigLive is the live heap from which the heap may grow by an eighth of
// it, and by no less than bigHeadroom.
const (
	bigLive     = 128 << 20
	bigHeadroom = 32 << 20
)

// maxGCPercent caps the percent when little is live. The percent is set
// from the live heap of one cycle and applies to the next: minHeadroom
// over a live heap of 0.2 MiB was 32,000%, so a next cycle that found 1
// MiB live let the heap grow to 320 MiB before the one after (a reflog of
// 10 million lines, 1 MiB live, peaked at 400 MiB), and one that found 40
// MiB live to 13 GB. Capped, the heap grows by at most four times what a
// cycle found live (and at least by the runtime's 4 MiB).
const maxGCPercent = 400

// pace is the pacing's state: the collector is the process's, and scans
// of several repositories may run at once (tests do).
var pace struct {
	sync.Mutex
	scans int // being paced
	old   int // the percent before the first
	gen   int // the pacing's run: a finalizer of an earlier one stops
}

// paceCollector paces the collector (see above) until the returned
// function is called (once or more: the first ends this scan's share),
// unless GOGC was set by the person running the scan, whose setting is
// left as it is.
func paceCollector() (stop func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	pace.Lock()
	defer pace.Unlock()
	if pace.scans++; pace.scans == 1 {
		pace.gen++
		pace.old = debug.SetGCPercent(100)
		setPercentLocked(pace.gen)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			pace.Lock()
			defer pace.Unlock()
			if pace.scans--; pace.scans == 0 {
				debug.SetGCPercent(pace.old)
			}
		})
	}
}

// gcSentinel is an object made only to be found unreachable: its
// finalizer runs after the cycle that found it so.
type gcSentinel struct {
	gen int
	_   *byte // a pointer: not in the allocator's tiny blocks, whose objects may never be freed
}

// setPercentLocked sets the collector's percent from what is live now,
// and arranges to be called again after the next cycle, while pacing run
// gen goes on. pace is locked.
func setPercentLocked(gen int) {
	if pace.scans == 0 || pace.gen != gen {
		return
	}
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if live := s[0].Value.Uint64(); live > 0 {
		debug.SetGCPercent(pacePercent(live))
	}
	runtime.SetFinalizer(&gcSentinel{gen: gen}, func(s *gcSentinel) {
		pace.Lock()
		defer pace.Unlock()
		setPercentLocked(s.gen)
	})
}

// pacePercent is the collector's percent for live bytes live: the heap
// may grow by minHeadroom, but by no more than maxGCPercent of live; from
// bigLive, by an eighth of live but no less than bigHeadroom.
func pacePercent(live uint64) int {
	headroom := uint64(minHeadroom)
	if live >= bigLive {
		headroom = max(bigHeadroom, live/8)
	}
	return int(min(maxGCPercent, max(1, headroom*100/max(live, 1))))
}
