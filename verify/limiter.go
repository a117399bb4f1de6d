package verify

import (
	"context"
	"sync"
	"time"
)

// limiter lets at most n requests reach the server in any window of length
// w, from the very first request on.
//
// It holds n slots. A request holds a slot from the moment it may be sent
// until it has ended (its response read or its error returned), and the slot
// comes free again only w after that end. The server sees each request
// somewhere between the request's start and its end, so two requests that
// used the same slot arrive at least w apart, whatever the network latency:
// n slots, at most n arrivals in any window of length w. Every attempt,
// including each retry after a 429, takes its own slot.
//
// A token bucket cannot promise this: it starts full and refills during
// the first window, so the first minute sees the burst plus a minute's rate.
//
// Memory is bounded by the requests actually made, not by n: slots never
// used are only a count.
type limiter struct {
	mu     sync.Mutex
	window time.Duration
	fresh  int         // slots never used yet, free at once
	free   []time.Time // used slots, by the time each comes free, earliest first
	wake   chan struct{}
	now    func() time.Time
}

func newLimiter(n int, window time.Duration) *limiter {
	return &limiter{
		window: window,
		fresh:  n,
		wake:   make(chan struct{}),
		now:    time.Now,
	}
}

// wait takes a slot, waiting until one is free or ctx ends, and returns the
// function that gives it back once the request has ended. The caller must
// call done exactly once. On error no slot is taken.
func (l *limiter) wait(ctx context.Context) (done func(), err error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		l.mu.Lock()
		at, ok := l.take()
		wake := l.wake
		l.mu.Unlock()
		if !ok {
			// Every slot is held by a request in flight: wait for one to end.
			select {
			case <-wake:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if err := l.sleepUntil(ctx, at); err != nil {
			l.mu.Lock()
			l.giveBack(at)
			l.mu.Unlock()
			return nil, err
		}
		var once sync.Once
		return func() { once.Do(l.release) }, nil
	}
}

// take reserves the slot that comes free first and says when it does; a
// fresh slot is free at the zero time, that is at once. ok is false when
// every slot is in flight. l.mu must be held.
func (l *limiter) take() (at time.Time, ok bool) {
	if l.fresh > 0 {
		l.fresh--
		return time.Time{}, true
	}
	if len(l.free) == 0 {
		return time.Time{}, false
	}
	at = l.free[0]
	l.free = l.free[1:]
	return at, true
}

// giveBack returns a reservation that was not used. It was the earliest
// free slot when taken, and every slot released since comes free later, so
// it goes back at the front. l.mu must be held.
func (l *limiter) giveBack(at time.Time) {
	if at.IsZero() {
		l.fresh++
	} else {
		l.free = append([]time.Time{at}, l.free...)
	}
	l.signal()
}

// release frees a slot whose request has ended: it may be used again one
// window from now.
func (l *limiter) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.free = append(l.free, l.now().Add(l.window))
	l.signal()
}

// signal wakes every caller waiting for a slot to come back. l.mu must be
// held.
func (l *limiter) signal() {
	close(l.wake)
	l.wake = make(chan struct{})
}

// sleepUntil waits until the clock reaches at, or ctx ends.
func (l *limiter) sleepUntil(ctx context.Context, at time.Time) error {
	if at.IsZero() {
		return ctx.Err()
	}
	return sleepCtx(ctx, at.Sub(l.now()))
}
