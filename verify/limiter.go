package verify

import (
	"context"
	"sync"
	"time"
)

// limiter is a token bucket: it holds up to burst tokens and gains perMinute
// of them a minute. Each request takes one. A caller that finds the bucket
// empty reserves a token anyway (the count goes negative) and sleeps until
// its token would have arrived, so waiting callers are served in order and
// none can starve.
type limiter struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

func newLimiter(perMinute, burst int) *limiter {
	return &limiter{
		rate:   float64(perMinute) / 60,
		burst:  float64(burst),
		tokens: float64(burst),
		now:    time.Now,
	}
}

// wait takes a token, sleeping until one is available or ctx ends. On error
// no token is taken.
func (l *limiter) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	now := l.now()
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	l.tokens--
	deficit := -l.tokens
	l.mu.Unlock()
	if deficit <= 0 {
		return nil
	}
	d := time.Duration(deficit / l.rate * float64(time.Second))
	if err := sleepCtx(ctx, d); err != nil {
		l.mu.Lock()
		l.tokens++ // give the reservation back
		l.mu.Unlock()
		return err
	}
	return nil
}
