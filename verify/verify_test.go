package verify

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Test keys are made-up strings, not JWS: only the server sees them.
const (
	testKey  = "test-key-Zq7vXo2LmR"
	otherKey = "test-key-Pw4nKd9sTe"
)

// newVerifier returns a Verifier for srv with a rate limit high enough not to
// slow the test, and a sleep hook that records waits instead of sleeping.
func newVerifier(t *testing.T, srv *httptest.Server, opts Options) (*Verifier, *[]time.Duration) {
	t.Helper()
	opts.BaseURL = srv.URL
	if opts.RequestsPerMinute == 0 {
		opts.RequestsPerMinute = 60000
	}
	v, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		waits []time.Duration
	)
	v.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return ctx.Err()
	}
	return v, &waits
}

// lofty returns tok as a confirmed Lofty key.
func lofty(tok string) Key { return Key{Token: tok, Confirmed: true} }

// testKeys returns n distinct confirmed keys.
func testKeys(n int) []Key {
	keys := make([]Key, n)
	for i := range keys {
		keys[i] = lofty("test-key-" + strconv.Itoa(i))
	}
	return keys
}

// returns runs f and fails the test if it has not returned within a
// generous bound. It checks that f ends at all, not how fast.
func returns(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("call did not return within 10s")
	}
}

// check fails the test if r is not what was wanted or holds the key.
func check(t *testing.T, r Result, status Status, reason string, code int) {
	t.Helper()
	if r.Status != status || !strings.HasPrefix(r.Reason, reason) || r.HTTPStatus != code {
		t.Errorf("got %+v, want status %q, reason starting %q, HTTP %d", r, status, reason, code)
	}
	if reason == "" && r.Reason != "" {
		t.Errorf("got reason %q, want none", r.Reason)
	}
	for _, k := range []string{testKey, otherKey} {
		if strings.Contains(r.Reason, k) {
			t.Errorf("reason %q contains the key", r.Reason)
		}
	}
}

func statusServer(t *testing.T, code int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(code)
		io.WriteString(w, `{"message":"test"}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestVerifyStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code   int
		status Status
		reason string
	}{
		{200, Live, ""},
		{403, Live, ""},
		{401, Invalid, ""},
		{500, Unknown, "HTTP 500"},
		{503, Unknown, "HTTP 503"},
		{404, Unknown, "HTTP 404"},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.code), func(t *testing.T) {
			t.Parallel()
			v, _ := newVerifier(t, statusServer(t, tt.code), Options{})
			check(t, v.Verify(t.Context(), lofty(testKey)), tt.status, tt.reason, tt.code)
		})
	}
}

func TestVerifyTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	v, _ := newVerifier(t, srv, Options{HTTPClient: srv.Client()})
	check(t, v.Verify(t.Context(), lofty(testKey)), Live, "", 200)
}

// TestVerifyRequest checks that the key goes only where it must: one GET to
// /v1.0/me, no query, no body, the key only in Authorization.
func TestVerifyRequest(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		reqs []*http.Request
		body []byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs = append(reqs, r)
		body = append(body, b...)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	v, _ := newVerifier(t, srv, Options{UserAgent: "loftyscan-test/1"})
	check(t, v.Verify(t.Context(), lofty(testKey)), Live, "", 200)

	mu.Lock()
	defer mu.Unlock()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodGet || r.URL.Path != "/v1.0/me" || r.URL.RawQuery != "" || r.RequestURI != "/v1.0/me" {
		t.Errorf("got %s %s, want GET /v1.0/me", r.Method, r.RequestURI)
	}
	if got := r.Header.Values("Authorization"); len(got) != 1 || got[0] != "token "+testKey {
		t.Errorf("Authorization = %q, want one value %q", got, "token "+testKey)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q", got)
	}
	if got := r.Header.Get("User-Agent"); got != "loftyscan-test/1" {
		t.Errorf("User-Agent = %q", got)
	}
	if r.ContentLength != 0 || len(body) != 0 || len(r.TransferEncoding) != 0 {
		t.Errorf("request has a body: ContentLength %d, %d bytes, %v", r.ContentLength, len(body), r.TransferEncoding)
	}
	for name, values := range r.Header {
		if name == "Authorization" {
			continue
		}
		for _, val := range values {
			if strings.Contains(val, testKey) {
				t.Errorf("header %s holds the key", name)
			}
		}
	}
}

func TestVerifyBasePath(t *testing.T) {
	t.Parallel()
	var path atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path.Store(r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	v, err := New(Options{BaseURL: srv.URL + "/proxy/lofty/"})
	if err != nil {
		t.Fatal(err)
	}
	check(t, v.Verify(t.Context(), lofty(testKey)), Live, "", 200)
	if got := path.Load(); got != "/proxy/lofty/v1.0/me" {
		t.Errorf("path = %q, want /proxy/lofty/v1.0/me", got)
	}
}

// TestVerifyRateLimitedThenOK exercises real header parsing: the waits the
// verifier asks for come from the server's headers.
func TestVerifyRateLimitedThenOK(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		header   func() http.Header
		min, max time.Duration
	}{
		{"reset seconds", func() http.Header { return http.Header{"X-Ratelimit-Reset": {"3"}} }, 3 * time.Second, 3 * time.Second},
		{"reset epoch", func() http.Header {
			return http.Header{"X-Ratelimit-Reset": {strconv.FormatInt(time.Now().Unix()+5, 10)}}
		}, 3 * time.Second, 5 * time.Second},
		{"retry-after", func() http.Header { return http.Header{"Retry-After": {"7"}} }, 7 * time.Second, 7 * time.Second},
		{"capped", func() http.Header { return http.Header{"X-Ratelimit-Reset": {"3600"}} }, time.Minute, time.Minute},
		{"no header", func() http.Header { return http.Header{} }, time.Second, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					for k, v := range tt.header() {
						w.Header()[k] = v
					}
					w.WriteHeader(http.StatusTooManyRequests)
				}
			}))
			t.Cleanup(srv.Close)
			v, waits := newVerifier(t, srv, Options{})
			check(t, v.Verify(t.Context(), lofty(testKey)), Live, "", 200)
			if n.Load() != 2 {
				t.Errorf("server got %d requests, want 2", n.Load())
			}
			if len(*waits) != 1 || (*waits)[0] < tt.min || (*waits)[0] > tt.max {
				t.Errorf("waits = %v, want one in [%v, %v]", *waits, tt.min, tt.max)
			}
		})
	}
}

// TestVerifyRateLimitedRealWait uses the real sleep: the retry arrives no
// sooner than X-RateLimit-Reset said.
func TestVerifyRateLimitedRealWait(t *testing.T) {
	t.Parallel()
	var (
		mu    sync.Mutex
		times []time.Time
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		first := len(times) == 1
		mu.Unlock()
		if first {
			w.Header().Set("X-RateLimit-Reset", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	t.Cleanup(srv.Close)
	v, err := New(Options{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	check(t, v.Verify(t.Context(), lofty(testKey)), Live, "", 200)
	mu.Lock()
	defer mu.Unlock()
	if len(times) != 2 {
		t.Fatalf("server got %d requests, want 2", len(times))
	}
	if d := times[1].Sub(times[0]); d < 900*time.Millisecond {
		t.Errorf("retried after %v, want about 1s", d)
	}
}

func TestVerifyRateLimitedForever(t *testing.T) {
	t.Parallel()
	for _, retries := range []int{0, 1, 3, -1} {
		t.Run(strconv.Itoa(retries), func(t *testing.T) {
			t.Parallel()
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
			}))
			t.Cleanup(srv.Close)
			v, waits := newVerifier(t, srv, Options{MaxRetries: retries})
			check(t, v.Verify(t.Context(), lofty(testKey)), Unknown, "rate limited", 429)
			want := map[int]int{0: 3, 1: 2, 3: 4, -1: 1}[retries]
			if int(n.Load()) != want || len(*waits) != want-1 {
				t.Errorf("got %d requests and %d waits, want %d and %d", n.Load(), len(*waits), want, want-1)
			}
		})
	}
}

// TestVerifyRateLimitedContext checks that the wait after a 429 ends with
// the caller's context, whatever the server asked for, and that the result
// says so and keeps the status.
func TestVerifyRateLimitedContext(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	t.Cleanup(srv.Close)
	v, err := New(Options{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	var r Result
	returns(t, func() { r = v.Verify(ctx, lofty(testKey)) })
	check(t, r, Unknown, ReasonTimeoutDuring, 429)
}

func TestVerifyTimeout(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	v, _ := newVerifier(t, srv, Options{Timeout: 100 * time.Millisecond})
	var r Result
	returns(t, func() { r = v.Verify(t.Context(), lofty(testKey)) })
	check(t, r, Unknown, "timeout: no answer within 100ms", 0)
}

func TestVerifyCanceled(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1) }))
	t.Cleanup(srv.Close)
	v, _ := newVerifier(t, srv, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	check(t, v.Verify(ctx, lofty(testKey)), Unknown, ReasonInterrupted, 0)
	ctx, cancel = context.WithTimeout(t.Context(), 0)
	defer cancel()
	check(t, v.Verify(ctx, lofty(testKey)), Unknown, ReasonTimeoutBefore, 0)
	if n.Load() != 0 {
		t.Errorf("server got %d requests after the context ended, want none", n.Load())
	}
}

func TestVerifyClosedServer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	v, _ := newVerifier(t, srv, Options{})
	srv.Close()
	r := v.Verify(t.Context(), lofty(testKey))
	check(t, r, Unknown, "network error: connection refused", 0)
	if strings.Contains(r.Reason, "v1.0") {
		t.Errorf("reason %q repeats the URL", r.Reason)
	}
}

// TestVerifyRedirect checks that a redirect is reported, not followed: the
// key must never reach the redirect's target.
func TestVerifyRedirect(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
	}))
	t.Cleanup(other.Close)
	tests := []struct {
		name, location, reason string
		code                   int
	}{
		{"other server", other.URL + "/v1.0/me?x=1", "HTTP 302: redirect not followed", 302},
		{"key in location", other.URL + "/echo/" + testKey, "HTTP 302: redirect not followed", 302},
		{"bidi override in location", other.URL + "/\u202egpj.exe", "HTTP 302: redirect not followed", 302},
		// net/http refuses control characters in a header; its error quotes
		// the line, and the reason must not.
		{"escape in location", other.URL + "/\x1b]0;PWNED\x07" + testKey, "network error: malformed HTTP response", 0},
		{"no location", "", "HTTP 302: redirect not followed", 302},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.location != "" {
					w.Header().Set("Location", tt.location)
				}
				w.WriteHeader(http.StatusFound)
			}))
			t.Cleanup(srv.Close)
			v, _ := newVerifier(t, srv, Options{})
			r := v.Verify(t.Context(), lofty(testKey))
			check(t, r, Unknown, tt.reason, tt.code)
			if r.Reason != tt.reason {
				t.Errorf("reason = %q, want %q", r.Reason, tt.reason)
			}
		})
	}
	t.Cleanup(func() {
		if n := hits.Load(); n != 0 {
			t.Errorf("redirect target got %d requests, want none", n)
		}
	})
}

// TestVerifyRedirectCallerClient checks that a caller's client is not
// changed and its redirect policy is not used.
func TestVerifyRedirectCallerClient(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(other.Close)
	srv := httptest.NewServer(http.RedirectHandler(other.URL, http.StatusTemporaryRedirect))
	t.Cleanup(srv.Close)
	client := &http.Client{}
	v, _ := newVerifier(t, srv, Options{HTTPClient: client})
	check(t, v.Verify(t.Context(), lofty(testKey)), Unknown, "HTTP 307: redirect not followed", 307)
	if client.CheckRedirect != nil || client.Transport != nil {
		t.Error("caller's client was modified")
	}
	if hits.Load() != 0 {
		t.Error("redirect was followed")
	}
}

func TestVerifyBadKey(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1) }))
	t.Cleanup(srv.Close)
	v, _ := newVerifier(t, srv, Options{})
	for _, key := range []string{"", "a b", "a\r\nX-Evil: 1", "caf\u00e9"} {
		if r := v.Verify(t.Context(), lofty(key)); r.Status != Unknown || r.Reason == "" || r.HTTPStatus != 0 {
			t.Errorf("Verify(%q) = %+v, want Unknown without a request", key, r)
		}
	}
	if n.Load() != 0 {
		t.Errorf("server got %d requests, want none", n.Load())
	}
}

func TestVerifyAllDedupe(t *testing.T) {
	t.Parallel()
	var (
		mu     sync.Mutex
		counts = map[string]int{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "token ")
		mu.Lock()
		counts[key]++
		mu.Unlock()
		if key == otherKey {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	v, _ := newVerifier(t, srv, Options{})
	got := v.VerifyAll(t.Context(), []Key{lofty(testKey), lofty(otherKey), lofty(testKey), lofty(testKey), lofty(otherKey)})
	if len(got) != 2 {
		t.Errorf("got %d results, want 2", len(got))
	}
	check(t, got[testKey], Live, "", 200)
	check(t, got[otherKey], Invalid, "", 401)
	mu.Lock()
	defer mu.Unlock()
	if counts[testKey] != 1 || counts[otherKey] != 1 || len(counts) != 2 {
		t.Errorf("server counts = %v, want one request per distinct key", counts)
	}
}

func TestVerifyAllConcurrency(t *testing.T) {
	t.Parallel()
	var inFlight, peak, total atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		total.Add(1)
		time.Sleep(20 * time.Millisecond)
		inFlight.Add(-1)
	}))
	t.Cleanup(srv.Close)
	v, _ := newVerifier(t, srv, Options{})
	keys := testKeys(20)
	got := v.VerifyAll(t.Context(), keys)
	for _, k := range keys {
		if got[k.Token].Status != Live {
			t.Errorf("%s: %+v", k.Token, got[k.Token])
		}
	}
	if total.Load() != 20 {
		t.Errorf("server got %d requests, want 20", total.Load())
	}
	if p := peak.Load(); p > concurrency || p < 2 {
		t.Errorf("peak concurrency %d, want 2..%d", p, concurrency)
	}
}

func TestVerifyAllEmpty(t *testing.T) {
	t.Parallel()
	v, _ := newVerifier(t, statusServer(t, 200), Options{})
	if got := v.VerifyAll(t.Context(), nil); len(got) != 0 {
		t.Errorf("got %v, want no results", got)
	}
}

func TestNewBaseURL(t *testing.T) {
	t.Parallel()
	good := []string{
		"",
		"https://api.lofty.com",
		"https://api.lofty.com/",
		"https://proxy.example.com/lofty",
		"http://127.0.0.1:8080",
		"http://127.1.2.3",
		"http://[::1]:9000",
		"http://localhost:1234",
		"HTTP://LOCALHOST",
	}
	for _, u := range good {
		if _, err := New(Options{BaseURL: u}); err != nil {
			t.Errorf("New(%q): %v", u, err)
		}
	}
	bad := []struct{ url, msg string }{
		{"http://example.com", "must use https"},
		{"http://api.lofty.com", "loopback"},
		{"http://10.0.0.1", "must use https"},
		{"http://127.0.0.1.example.com", "must use https"},
		{"http://[::ffff:10.0.0.1]", "must use https"},
		{"ftp://127.0.0.1", "must use https"},
		{"api.lofty.com", "no host"},
		{"https://", "no host"},
		{"https://user:hunter2@api.lofty.com", "user name or password"},
		{"https://api.lofty.com/?x=1", "query"},
		{"https://api.lofty.com/#frag", "fragment"},
		{"https://api lofty.com/\x7f", "does not parse"},
	}
	for _, tt := range bad {
		_, err := New(Options{BaseURL: tt.url})
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("New(%q) = %v, want an error containing %q", tt.url, err, tt.msg)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error %q shows the password", err)
		}
	}
}

func TestNewAcceptsTestServer(t *testing.T) {
	t.Parallel()
	srv := statusServer(t, 200)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Skipf("test server at %s", srv.URL)
	}
	if _, err := New(Options{BaseURL: srv.URL}); err != nil {
		t.Fatal(err)
	}
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name    string
		h       http.Header
		attempt int
		want    time.Duration
	}{
		{"reset seconds", http.Header{"X-Ratelimit-Reset": {"12"}}, 0, 12 * time.Second},
		{"reset epoch", http.Header{"X-Ratelimit-Reset": {"1700000030"}}, 0, 30 * time.Second},
		{"reset epoch past", http.Header{"X-Ratelimit-Reset": {"1699999990"}}, 0, 0},
		{"reset huge", http.Header{"X-Ratelimit-Reset": {"999999999"}}, 0, time.Minute},
		{"retry-after seconds", http.Header{"Retry-After": {" 5 "}}, 0, 5 * time.Second},
		{"retry-after date", http.Header{"Retry-After": {now.Add(20 * time.Second).UTC().Format(http.TimeFormat)}}, 0, 20 * time.Second},
		{"longer wins", http.Header{"Retry-After": {"5"}, "X-Ratelimit-Reset": {"9"}}, 0, 9 * time.Second},
		{"capped", http.Header{"Retry-After": {"86400"}}, 0, time.Minute},
		{"overflow", http.Header{"Retry-After": {"9223372036854775807"}}, 0, time.Minute},
		{"garbage", http.Header{"Retry-After": {"soon"}, "X-Ratelimit-Reset": {"-4"}}, 1, 2 * time.Second},
		{"reset overflow", http.Header{"X-Ratelimit-Reset": {"9223372036854775807"}}, 0, time.Minute},
		{"reset too big to parse", http.Header{"X-Ratelimit-Reset": {"99999999999999999999999"}}, 0, time.Second},
		{"negative retry-after", http.Header{"Retry-After": {"-9223372036854775808"}}, 0, time.Second},
		{"fractional", http.Header{"Retry-After": {"5.5"}, "X-Ratelimit-Reset": {"1e9"}}, 0, time.Second},
		{"date far future", http.Header{"Retry-After": {"Fri, 31 Dec 9999 23:59:59 GMT"}}, 0, time.Minute},
		{"date past", http.Header{"Retry-After": {"Sun, 06 Nov 1994 08:49:37 GMT"}}, 3, 0},
		{"reset as date", http.Header{"X-Ratelimit-Reset": {"Fri, 31 Dec 9999 23:59:59 GMT"}}, 0, time.Second},
		{"control characters", http.Header{"Retry-After": {"\x1b[2J5"}}, 0, time.Second},
		{"none first", http.Header{}, 0, time.Second},
		{"none third", http.Header{}, 2, 4 * time.Second},
		{"none late", http.Header{}, 40, time.Minute},
	}
	for _, tt := range tests {
		if got := retryDelay(tt.h, now, tt.attempt); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
