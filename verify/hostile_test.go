package verify

import (
	"bufio"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// reasonText is what every Reason must look like: short, printable ASCII
// from our own vocabulary, never a server's words.
var reasonText = regexp.MustCompile(`^[A-Za-z0-9 :;,()./-]{1,80}$`)

func checkReasonText(t *testing.T, r Result) {
	t.Helper()
	if r.Status == Unknown && !reasonText.MatchString(r.Reason) {
		t.Errorf("reason %q is not one of our short fixed texts", r.Reason)
	}
	if strings.Contains(r.Reason, testKey) || strings.Contains(strings.ToLower(r.Reason), "pwned") {
		t.Errorf("reason %q carries server text", r.Reason)
	}
}

// TestBodyReadCapped: whatever the status, a body that never ends is read
// at most maxBodyRead bytes. Reading it all would run into the hour-long
// per-request timeout and turn the answer into Unknown.
func TestBodyReadCapped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code   int
		status Status
		reason string
	}{
		{200, Live, ""},
		{403, Live, ""},
		{401, Invalid, ""},
		{429, Unknown, "rate limited"},
		{302, Unknown, "HTTP 302: redirect not followed"},
		{500, Unknown, "HTTP 500"},
		{404, Unknown, "HTTP 404"},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.code), func(t *testing.T) {
			t.Parallel()
			var written atomic.Int64
			chunk := []byte(strings.Repeat("x", 64<<10))
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(tt.code)
				for {
					n, err := w.Write(chunk)
					written.Add(int64(n))
					if err != nil {
						return
					}
				}
			}))
			t.Cleanup(srv.Close)
			v, err := New(Options{BaseURL: srv.URL, Timeout: time.Hour, MaxRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			var r Result
			returns(t, func() { r = v.Verify(t.Context(), lofty(testKey)) })
			check(t, r, tt.status, tt.reason, tt.code)
			srv.Close() // waits for the handler, which ends when the client hangs up
			// What the server managed to write is the client's 4 KiB plus
			// what the kernel buffers on loopback, a few MiB at most.
			if n := written.Load(); n > 64<<20 {
				t.Errorf("server wrote %d bytes before the client hung up", n)
			}
		})
	}
}

// TestHugeResponseHeaders: net/http would read 10 MiB of headers per
// response; the verifier stops at 64 KiB.
func TestHugeResponseHeaders(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		set  func(h http.Header)
	}{
		{"one huge value", func(h http.Header) { h.Set("X-Junk", strings.Repeat("a", 1<<20)) }},
		{"many headers", func(h http.Header) {
			for i := range 5000 {
				h.Set("X-Junk-"+strconv.Itoa(i), strings.Repeat("b", 100))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tc.set(w.Header())
			}))
			t.Cleanup(srv.Close)
			v, _ := newVerifier(t, srv, Options{})
			r := v.Verify(t.Context(), lofty(testKey))
			check(t, r, Unknown, "network error: response headers too large", 0)
		})
	}
}

// rawServer answers every request on a loopback TCP port with the given
// bytes, then closes the connection: what no well-behaved HTTP server
// would send.
func rawServer(t *testing.T, response string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveConns(t, ln, func(c net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
			c.Write([]byte(response))
		}
	})
	return "http://" + ln.Addr().String()
}

// TestHostileResponses: status lines, headers and bodies that carry the
// key, escape sequences, or nonsense. Whatever arrives, the Result is one
// of our fixed texts and the status code.
func TestHostileResponses(t *testing.T) {
	t.Parallel()
	const esc = "\x1b]0;PWNED\x07\x1b[2J\r"
	tests := []struct {
		name, response string
		status         Status
		reason         string
		code           int
	}{
		{"escape in status line", "HTTP/1.1 2" + esc + "00 OK\r\n\r\n", Unknown, "network error: malformed HTTP response", 0},
		{"key and escape in reason phrase", "HTTP/1.1 503 " + testKey + "\x1b[31m\r\nContent-Length: 0\r\n\r\n", Unknown, "HTTP 503", 503},
		{"odd status code", "HTTP/1.1 999 PWNED\r\nContent-Length: 0\r\n\r\n", Unknown, "HTTP 999", 999},
		{"not HTTP at all", esc + testKey + "\n\n", Unknown, "network error: malformed HTTP response", 0},
		{"nothing", "", Unknown, "network error: the server closed the connection without an answer", 0},
		{"key in retry-after", "HTTP/1.1 429 Slow\r\nRetry-After: " + testKey + "\r\nX-RateLimit-Reset: PWNED\r\nContent-Length: 0\r\n\r\n", Unknown, "rate limited", 429},
		{"escape in retry-after", "HTTP/1.1 429 Slow\r\nRetry-After: 1" + esc + "\r\n\r\n", Unknown, "network error: malformed HTTP response", 0},
		{"key in location", "HTTP/1.1 301 Moved\r\nLocation: https://pwned.example/" + testKey + "\r\nContent-Length: 0\r\n\r\n", Unknown, "HTTP 301: redirect not followed", 301},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + testKey, Live, "", 200},
		{"bad chunking", "HTTP/1.1 401 No\r\nTransfer-Encoding: chunked\r\n\r\nzz" + esc + "\r\n", Invalid, "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := New(Options{BaseURL: rawServer(t, tt.response), MaxRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			r := v.Verify(t.Context(), lofty(testKey))
			check(t, r, tt.status, tt.reason, tt.code)
			if r.Reason != tt.reason {
				t.Errorf("reason %q, want %q", r.Reason, tt.reason)
			}
			checkReasonText(t, r)
		})
	}
}

// TestTLSReasons: TLS failures are named in our words, not the library's
// (which quote a certificate's names, chosen by the server).
func TestTLSReasons(t *testing.T) {
	t.Parallel()
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failure is expected
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(plain.Close)
	tests := []struct{ name, url, reason string }{
		{"untrusted certificate", tlsSrv.URL, "TLS error: certificate signed by an unknown authority"},
		{"plain server", strings.Replace(plain.URL, "http://", "https://", 1), "TLS error: the server did not answer with TLS"},
	}
	for _, tt := range tests {
		v, err := New(Options{BaseURL: tt.url})
		if err != nil {
			t.Fatal(err)
		}
		r := v.Verify(t.Context(), lofty(testKey))
		check(t, r, Unknown, tt.reason, 0)
		if r.Reason != tt.reason {
			t.Errorf("%s: reason %q, want %q", tt.name, r.Reason, tt.reason)
		}
		checkReasonText(t, r)
	}
}

// serveConns serves each connection ln accepts with serve until the test
// ends, then closes every connection it accepted (a client's idle ones
// included) and waits for the handlers: the raw TCP servers of the tests
// send what no well-behaved HTTP server would.
func serveConns(t *testing.T, ln net.Listener, serve func(net.Conn)) {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				serve(c)
			})
		}
	})
}

// TestSwitchingProtocolsCannotHoldTheCheck: a 101 with Upgrade headers
// hands the connection to the caller, and net/http no longer watches the
// request's context; reading its "body" waited for bytes the server never
// sent, past --verify-timeout, --timeout and a signal (the run exited
// without a report, or never). The read ends with the request's time.
func TestSwitchingProtocolsCannotHoldTheCheck(t *testing.T) {
	t.Parallel()
	const response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: " + testKey + "\r\nConnection: Upgrade\r\n\r\n"
	// The request's time, or the wait before the caller cancels once the
	// server has sent the status line, is long enough for the status
	// line to arrive on a busy machine, and far under returns' 10 s.
	const wait = time.Second
	for _, tc := range []struct {
		name    string
		timeout time.Duration // the request's
		cancel  bool          // the caller cancels, wait after the 101 is sent
	}{
		{"request timeout", wait, false},
		{"caller canceled", time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			sent := make(chan struct{}, 1)
			serveConns(t, ln, func(c net.Conn) {
				if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
					c.Write([]byte(response))
					sent <- struct{}{}
					io.Copy(io.Discard, c) // silent until the test ends
				}
			})
			v, err := New(Options{BaseURL: "http://" + ln.Addr().String(), Timeout: tc.timeout, MaxRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tc.cancel {
				go func() {
					select {
					case <-sent:
						time.AfterFunc(wait, cancel)
					case <-ctx.Done():
					}
				}()
			}
			var r Result
			returns(t, func() { r = v.Verify(ctx, lofty(testKey)) })
			// The status line arrived: the answer is the 101.
			check(t, r, Unknown, "HTTP 101", 101)
			checkReasonText(t, r)
		})
	}
}
