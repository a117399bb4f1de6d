package verify

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// silentServer is a loopback TCP server that reads each request and never
// answers. received delivers one value per request read.
type silentServer struct {
	url      string
	received chan struct{}
	count    atomic.Int32
}

func newSilentServer(t *testing.T) *silentServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &silentServer{url: "http://" + ln.Addr().String(), received: make(chan struct{}, 100)}
	serveConns(t, ln, func(c net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
			s.count.Add(1)
			s.received <- struct{}{}
		}
		// Hold the connection open, say nothing, until the client or the
		// cleanup closes it.
		var b [1]byte
		c.Read(b[:])
	})
	return s
}

// waitReceived waits until n requests have reached s. It may run outside
// the test's goroutine, so it reports with Errorf.
func (s *silentServer) waitReceived(t *testing.T, n int) {
	for range n {
		select {
		case <-s.received:
		case <-time.After(10 * time.Second):
			t.Errorf("server got %d requests within 10s, want %d", s.count.Load(), n)
			return
		}
	}
}

// hangingVerifier returns a Verifier for url whose own per-request timeout
// is far away, so only the caller's context can end a request.
func hangingVerifier(t *testing.T, url string) *Verifier {
	t.Helper()
	v, err := New(Options{BaseURL: url, Timeout: time.Hour, RequestsPerMinute: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestVerifyAllInterruptedServerSilent: four requests are waiting on a
// server that never answers, two keys are queued; a cancel (what a signal
// does) must end the call, and every key is Unknown "interrupted".
func TestVerifyAllInterruptedServerSilent(t *testing.T) {
	t.Parallel()
	srv := newSilentServer(t)
	v := hangingVerifier(t, srv.url)
	keys := testKeys(6)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var got map[string]Result
	returns(t, func() {
		go func() {
			srv.waitReceived(t, concurrency)
			cancel()
		}()
		got = v.VerifyAll(ctx, keys)
	})
	if len(got) != len(keys) {
		t.Fatalf("%d results for %d keys", len(got), len(keys))
	}
	for _, k := range keys {
		check(t, got[k.Token], Unknown, ReasonInterrupted, 0)
	}
	if n := srv.count.Load(); n != concurrency {
		t.Errorf("server got %d requests, want %d (the queued keys must not be sent)", n, concurrency)
	}
}

// TestVerifyAllTimeoutServerSilent: the caller's deadline passes while
// requests wait on a silent server. Keys in flight say the timeout came
// during their check, the rest that it came before.
func TestVerifyAllTimeoutServerSilent(t *testing.T) {
	t.Parallel()
	srv := newSilentServer(t)
	v := hangingVerifier(t, srv.url)
	keys := testKeys(6)
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	var got map[string]Result
	returns(t, func() { got = v.VerifyAll(ctx, keys) })
	during, before := 0, 0
	for _, k := range keys {
		r := got[k.Token]
		switch {
		case r.Status == Unknown && r.Reason == ReasonTimeoutDuring && r.HTTPStatus == 0:
			during++
		case r.Status == Unknown && r.Reason == ReasonTimeoutBefore && r.HTTPStatus == 0:
			before++
		default:
			t.Errorf("%s: %+v, want Unknown with a --timeout reason", k.Token, r)
		}
	}
	// At most `concurrency` keys can be in flight, and every request the
	// server read was in flight.
	if received := int(srv.count.Load()); during < received || during > concurrency || before < len(keys)-concurrency {
		t.Errorf("%d during, %d before, server read %d requests", during, before, received)
	}
}

// TestVerifyAllInterruptedBodyStalls: the server sends a status and
// headers, then stalls the body. The status is the answer, so those keys
// are done; the call must still return when canceled.
func TestVerifyAllInterruptedBodyStalls(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	received := make(chan struct{}, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"message":`))
		w.(http.Flusher).Flush()
		received <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	v := hangingVerifier(t, srv.URL)
	keys := testKeys(6)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var got map[string]Result
	returns(t, func() {
		go func() {
			for range concurrency {
				<-received
			}
			cancel()
		}()
		got = v.VerifyAll(ctx, keys)
	})
	invalid, interrupted := 0, 0
	for _, k := range keys {
		r := got[k.Token]
		switch {
		case r.Status == Invalid && r.Reason == "" && r.HTTPStatus == 401:
			invalid++
		case r.Status == Unknown && r.Reason == ReasonInterrupted && r.HTTPStatus == 0:
			interrupted++
		default:
			t.Errorf("%s: %+v", k.Token, r)
		}
	}
	// The headers of the four in flight may or may not have been parsed
	// when the cancel came; the two queued keys were never sent.
	if invalid > concurrency || interrupted < len(keys)-concurrency {
		t.Errorf("%d invalid, %d interrupted", invalid, interrupted)
	}
}

// TestVerifyAllStopsInLimiter runs in simulated time: the only slot of the
// rate limit is taken, so every key waits on the limiter. Canceling, or the
// deadline passing, must end the wait; nothing is sent (the base URL points
// at a port nobody listens on, and no request is made at all).
func TestVerifyAllStopsInLimiter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		reason string
	}{
		{"canceled", ReasonInterrupted},
		{"deadline", ReasonTimeoutBefore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				v, err := New(Options{BaseURL: "http://127.0.0.1:1", RequestsPerMinute: 1})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := v.limiter.wait(t.Context()); err != nil {
					t.Fatal(err)
				}
				var ctx context.Context
				var cancel context.CancelFunc
				if tc.name == "deadline" {
					ctx, cancel = context.WithTimeout(t.Context(), 10*time.Minute)
				} else {
					ctx, cancel = context.WithCancel(t.Context())
				}
				defer cancel()
				keys := testKeys(6)
				var got map[string]Result
				finished := make(chan struct{})
				go func() {
					got = v.VerifyAll(ctx, keys)
					close(finished)
				}()
				synctest.Wait() // every worker is blocked in the limiter
				if tc.name == "canceled" {
					cancel()
				}
				<-finished
				for _, k := range keys {
					check(t, got[k.Token], Unknown, tc.reason, 0)
					if got[k.Token].Reason != tc.reason {
						t.Errorf("reason %q, want %q", got[k.Token].Reason, tc.reason)
					}
				}
			})
		})
	}
}

// TestVerifyStopsInBackoff: the server answers 429 and asks for an hour;
// the wait (capped at a minute) must end with the caller's context, and the
// result keeps the 429.
func TestVerifyStopsInBackoff(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		reason string
	}{
		{"canceled", ReasonInterrupted},
		{"deadline", ReasonTimeoutDuring},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.Header().Set("Retry-After", "3600")
				w.WriteHeader(http.StatusTooManyRequests)
			}))
			t.Cleanup(srv.Close)
			v := hangingVerifier(t, srv.URL)
			backingOff := make(chan time.Duration, 1)
			v.sleep = func(ctx context.Context, d time.Duration) error {
				backingOff <- d
				return sleepCtx(ctx, d)
			}
			var ctx context.Context
			var cancel context.CancelFunc
			if tc.name == "deadline" {
				ctx, cancel = context.WithTimeout(t.Context(), 500*time.Millisecond)
			} else {
				ctx, cancel = context.WithCancel(t.Context())
			}
			defer cancel()
			var r Result
			returns(t, func() {
				if tc.name == "canceled" {
					go func() {
						<-backingOff
						cancel()
					}()
				}
				r = v.Verify(ctx, lofty(testKey))
			})
			if tc.name == "deadline" && r.HTTPStatus == 0 {
				// The deadline passed before the first answer arrived (a very
				// busy machine): the reason must still say so.
				check(t, r, Unknown, tc.reason, 0)
				return
			}
			check(t, r, Unknown, tc.reason, 429)
			if n.Load() != 1 {
				t.Errorf("server got %d requests, want 1", n.Load())
			}
			select {
			case d := <-backingOff:
				if d != maxRetryWait {
					t.Errorf("backed off %v, want the cap %v", d, maxRetryWait)
				}
			default:
				if tc.name == "deadline" {
					t.Error("no back-off after the 429")
				}
			}
		})
	}
}
