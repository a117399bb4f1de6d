package verify

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestRateLimitWindowLoopback checks the sliding-window guarantee on real
// requests: a loopback server records when each request reaches its handler,
// the first request of every second key is answered 429 (so retries count too), and with a
// limit of 4 per 300 ms window no five arrivals may fall in any 300 ms. The
// handler's clock reading lies between the client's start and end of that
// request, so the check holds however slow the machine is.
func TestRateLimitWindowLoopback(t *testing.T) {
	t.Parallel()
	const (
		n      = 4
		window = 300 * time.Millisecond
	)
	var (
		mu    sync.Mutex
		times []time.Time
		seen  = map[string]int{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		tok := r.Header.Get("Authorization")
		seen[tok]++
		limited := seen[tok] == 1 && len(seen)%2 == 0
		mu.Unlock()
		if limited {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	t.Cleanup(srv.Close)
	v, err := New(Options{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	v.limiter = newLimiter(n, window)
	keys := testKeys(12)
	var got map[string]Result
	returns(t, func() { got = v.VerifyAll(t.Context(), keys) })

	for _, k := range keys {
		if r := got[k.Token]; r.Status != Live {
			t.Errorf("%s: %+v, want live after retries", k.Token, r)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// 12 keys, 6 of them retried once after a 429: 18 requests.
	if len(times) != 18 {
		t.Errorf("server got %d requests, want 18", len(times))
	}
	checkWindow(t, times, n, window)
}
