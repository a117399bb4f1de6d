package verify

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestLimiterSlots walks the slot bookkeeping with an injected clock.
func TestLimiterSlots(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	l := newLimiter(3, time.Minute)
	l.now = func() time.Time { return now }

	var done []func()
	for i := range 3 {
		d, err := l.wait(t.Context())
		if err != nil {
			t.Fatalf("wait %d: %v", i, err)
		}
		done = append(done, d)
	}
	if _, ok := l.take(); ok {
		t.Fatal("a fourth slot was free while three requests are in flight")
	}
	// A request that ends frees its slot one window later, not at once.
	now = now.Add(5 * time.Second)
	done[0]()
	done[0]() // a second call must not free a second slot
	at, ok := l.take()
	if !ok || !at.Equal(now.Add(time.Minute)) {
		t.Fatalf("take = %v, %v; want the slot back at %v", at, ok, now.Add(time.Minute))
	}
	if _, ok := l.take(); ok {
		t.Fatal("one release freed two slots")
	}
	// An unused reservation goes back first in line.
	now = now.Add(time.Second)
	done[1]()
	l.giveBack(at)
	if got, _ := l.take(); !got.Equal(at) {
		t.Errorf("after giveBack, take = %v, want %v", got, at)
	}
	if got, _ := l.take(); !got.Equal(now.Add(time.Minute)) {
		t.Errorf("second take = %v, want %v", got, now.Add(time.Minute))
	}
}

// TestLimiterCanceledWait checks that a wait cut short by its context takes
// no slot, whether it waited for a slot in flight or for a slot's time.
func TestLimiterCanceledWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newLimiter(1, time.Minute)
		done, err := l.wait(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		// The only slot is in flight.
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		if _, err := l.wait(ctx); err == nil {
			t.Fatal("wait returned a slot while the only one is in flight")
		}
		cancel()
		done()
		// The slot comes free a minute after the release: a 30 s wait fails
		// and gives it back, so a later wait still gets it, at the minute.
		start := time.Now()
		ctx, cancel = context.WithTimeout(t.Context(), 30*time.Second)
		if _, err := l.wait(ctx); err == nil {
			t.Fatal("wait returned a slot before its window passed")
		}
		cancel()
		if _, err := l.wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != time.Minute {
			t.Errorf("slot came back after %v of simulated time, want 1m0s", got)
		}
	})
}

// TestLimiterWindowSimulated runs many workers against one limiter in
// simulated time (testing/synctest's fake clock): random latencies, random
// cancellations, requests that arrive at the server anywhere between their
// start and their end. In no window of length w may more than n arrive, and
// the limiter must not be needlessly slow: the first window is used in full.
func TestLimiterWindowSimulated(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		n, workers     int
		maxLatency     time.Duration
		cancelEveryNth int
	}{
		{"default rate, no latency", 100, 4, 0, 0},
		{"latency", 10, 4, 3 * time.Second, 0},
		{"more workers than slots", 3, 8, 500 * time.Millisecond, 0},
		{"cancellations", 5, 6, 2 * time.Second, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				const w = time.Minute
				l := newLimiter(tc.n, w)
				start := time.Now()
				arrivals := simulate(t, l, tc.workers, 5*tc.n, tc.maxLatency, tc.cancelEveryNth)
				checkWindow(t, arrivals, tc.n, w)
				if tc.maxLatency == 0 {
					first := 0
					for _, a := range arrivals {
						if a.Sub(start) < w {
							first++
						}
					}
					if first != tc.n {
						t.Errorf("%d requests in the first window, want %d", first, tc.n)
					}
				}
			})
		})
	}
}

// simulate runs workers that together make total requests through l, each
// holding its slot for a random latency up to maxLatency and arriving at a
// random point within it; every cancelEveryNth wait (if not 0) is given a
// random short deadline. It returns the arrival times.
func simulate(t *testing.T, l *limiter, workers, total int, maxLatency time.Duration, cancelEveryNth int) []time.Time {
	var (
		mu       sync.Mutex
		arrivals []time.Time
		attempts int
		wg       sync.WaitGroup
	)
	for i := range workers {
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		wg.Go(func() {
			for {
				mu.Lock()
				if len(arrivals) >= total {
					mu.Unlock()
					return
				}
				attempts++
				cancelThis := cancelEveryNth > 0 && attempts%cancelEveryNth == 0
				mu.Unlock()
				ctx, cancel := t.Context(), context.CancelFunc(func() {})
				if cancelThis {
					ctx, cancel = context.WithTimeout(ctx, time.Duration(rng.Int64N(int64(30*time.Second))))
				}
				done, err := l.wait(ctx)
				cancel()
				if err != nil {
					continue
				}
				before := randDuration(rng, maxLatency)
				time.Sleep(before)
				mu.Lock()
				arrivals = append(arrivals, time.Now())
				mu.Unlock()
				time.Sleep(randDuration(rng, maxLatency-before))
				done()
			}
		})
	}
	wg.Wait()
	if len(arrivals) < total {
		t.Fatalf("%d arrivals, want at least %d", len(arrivals), total)
	}
	return arrivals
}

func randDuration(rng *rand.Rand, max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(rng.Int64N(int64(max) + 1))
}

// checkWindow fails the test if more than n of times fall in any half-open
// window of length w.
func checkWindow(t *testing.T, times []time.Time, n int, w time.Duration) {
	t.Helper()
	times = slices.Clone(times)
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	for i := 0; i+n < len(times); i++ {
		if gap := times[i+n].Sub(times[i]); gap < w {
			t.Errorf("requests %d to %d (%d of them) arrived within %v, want at most %d in any %v", i, i+n, n+1, gap, n, w)
			return
		}
	}
}
