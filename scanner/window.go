package scanner

import (
	"context"
	"runtime"
)

// Decoders' dictionaries. An xz block header claims its dictionary before
// any data (up to maxWindow, 128 MiB, here), and the decoder allocates it
// whole: a 156-byte xz in an xz in an xz would take 384 MiB, and eight of
// them read by eight workers 3 GiB. So the dictionaries a worker's nested
// decoders hold are bounded together by maxWindow, and a worker whose
// decoders hold more than smallWindow (the dictionary of xz -6, its
// default; zstd's, which only --long and --ultra pass) takes one of
// windowSlots slots first, waiting for one while others hold them: big
// dictionaries are decoded windowSlots at a time, whatever the number of
// workers (a zstd decoder of a 128 MiB window holds about 200 MiB). A
// worker waits only while it holds no slot, so the slots cannot deadlock.
const (
	smallWindow = 8 << 20
	windowSlots = 1
)

// windowGate holds the slots of a Run.
type windowGate struct{ slots chan struct{} }

func newWindowGate() *windowGate { return &windowGate{slots: make(chan struct{}, windowSlots)} }

// windows is what one worker's open decoders hold of dictionaries.
type windows struct {
	gate *windowGate // nil: no slots to take (a streamer outside a Run)
	held int64
	slot bool
}

// grow raises what one decoder holds from bytes to to bytes (the decoder
// keeps one dictionary at a time: the largest its blocks claimed). It
// fails when the decoders around it hold too much to add that, or when
// ctx ends while it waits for a slot.
func (w *windows) grow(ctx context.Context, from, to int64) error {
	around := w.held - from
	if around+to > maxWindow {
		return &windowError{what: "xz block", claim: to, around: around} // openZstd renames it
	}
	if around+to > smallWindow && !w.slot && w.gate != nil {
		select {
		case w.gate.slots <- struct{}{}:
			w.slot = true
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	w.held = around + to
	return nil
}

// shrink gives back n bytes a decoder held, and the slot once the rest
// is small.
func (w *windows) shrink(n int64) {
	w.held -= n
	if w.slot && w.held <= smallWindow {
		// The dictionary given back is garbage now: collected at once,
		// before the next worker's, or the heap would grow to twice
		// what the slots hold before a collection ran by itself.
		runtime.GC()
		<-w.gate.slots
		w.slot = false
	}
}

// reset gives everything back: no decoder is open between files.
func (w *windows) reset() { w.shrink(w.held) }
