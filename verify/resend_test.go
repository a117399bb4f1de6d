package verify

import (
	"bufio"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// hangUpServer answers the first request on each connection with 200 and
// keeps the connection open; every later request on that connection is
// read in full (the key has reached the server) and answered by hanging
// up. net/http's transport takes that for a stale keep-alive connection
// and, for a GET, sends the request again by itself, out of sight of the
// rate limiter. It returns the server's URL and the count of requests that
// reached it.
func hangUpServer(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var arrivals atomic.Int64
	serveConns(t, ln, func(c net.Conn) {
		br := bufio.NewReader(c)
		for i := 0; ; i++ {
			if _, err := http.ReadRequest(br); err != nil {
				return
			}
			arrivals.Add(1)
			if i > 0 {
				return
			}
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
		}
	})
	return "http://" + ln.Addr().String(), &arrivals
}

// refusingH2Server speaks HTTP/2 over TLS on loopback and answers every
// request (whose headers, and so the key, it has read) with RST_STREAM
// REFUSED_STREAM, which net/http's HTTP/2 client answers by sending the
// request again, up to six more times. It returns the server's URL, a
// client that trusts its certificate, and the count of requests that
// reached it.
func refusingH2Server(t *testing.T) (string, *http.Client, *atomic.Int64) {
	t.Helper()
	// An httptest TLS server only lends its certificate and a client that
	// trusts it; the raw server below answers on its own port.
	lender := httptest.NewUnstartedServer(http.NotFoundHandler())
	lender.Config.ErrorLog = log.New(io.Discard, "", 0)
	lender.StartTLS()
	t.Cleanup(lender.Close)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: lender.TLS.Certificates,
		NextProtos:   []string{"h2", "http/1.1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var arrivals atomic.Int64
	serveConns(t, ln, func(c net.Conn) {
		if tc, ok := c.(*tls.Conn); !ok || tc.Handshake() != nil || tc.ConnectionState().NegotiatedProtocol != "h2" {
			// An HTTP/1.1 client: count its request and refuse it too.
			if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
				arrivals.Add(1)
				c.Write([]byte("HTTP/1.1 503 Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			}
			return
		}
		preface := make([]byte, len(http2.ClientPreface))
		if _, err := io.ReadFull(c, preface); err != nil {
			return
		}
		fr := http2.NewFramer(c, c)
		if fr.WriteSettings() != nil {
			return
		}
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				return
			}
			switch f := f.(type) {
			case *http2.SettingsFrame:
				if !f.IsAck() {
					fr.WriteSettingsAck()
				}
			case *http2.HeadersFrame:
				arrivals.Add(1)
				fr.WriteRSTStream(f.StreamID, http2.ErrCodeRefusedStream)
			}
		}
	})
	client := lender.Client()
	client.Transport.(*http.Transport).ForceAttemptHTTP2 = true
	return "https://" + ln.Addr().String(), client, &arrivals
}

// TestRateLimitCountsTransportResends: every request that reaches the
// server takes a slot of the rate limit, including those the HTTP
// transport would resend on its own: after a keep-alive connection is hung
// up (HTTP/1.1) or a stream is refused (HTTP/2). With 4 slots in an
// hour-long window and 4 keys checked one after the other, the server may
// see at most 4 requests.
func TestRateLimitCountsTransportResends(t *testing.T) {
	t.Parallel()
	const n = 4
	t.Run("HTTP/1.1 hang-up", func(t *testing.T) {
		t.Parallel()
		url, arrivals := hangUpServer(t)
		checkSendsOnce(t, Options{BaseURL: url}, n, arrivals)
	})
	t.Run("HTTP/2 refused stream", func(t *testing.T) {
		t.Parallel()
		url, client, arrivals := refusingH2Server(t)
		checkSendsOnce(t, Options{BaseURL: url, HTTPClient: client}, n, arrivals)
	})
}

// checkSendsOnce checks n keys one after the other with a limiter of n
// slots that never come free, and fails if more than n requests arrived.
func checkSendsOnce(t *testing.T, opts Options, n int, arrivals *atomic.Int64) {
	t.Helper()
	opts.MaxRetries = -1
	v, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	v.limiter = newLimiter(n, time.Hour)
	returns(t, func() {
		for _, k := range testKeys(n) {
			checkReasonText(t, v.Verify(t.Context(), k))
		}
	})
	if got := arrivals.Load(); got > int64(n) {
		t.Errorf("the server received %d requests, but the limit allows %d in any window: the transport resent requests the limiter did not count", got, n)
	}
}
