// Package verify asks Lofty's API whether a found key is live.
//
// Lofty keys are HS256-signed JWS tokens whose secret is Lofty's, so nothing
// offline can tell a live key from a revoked one. The only oracle is the API
// itself: [Verifier.Verify] sends one GET /v1.0/me with the key in the
// Authorization header and maps the status code to a [Status].
//
// Sending a leaked key anywhere is itself a risk, so the package is strict
// about what goes where: the base URL must be https (plain http only to
// loopback, for tests), redirects are never followed, the key is only ever
// in the Authorization header, and it never appears in a [Result] or an
// error. A token without the Lofty scope may be another service's secret,
// so it is not sent unless [Options.SendUnconfirmed] says so. The package
// logs nothing.
//
// Nothing the server says can grow memory or reach the caller's output:
// at most 4 KiB of a body is read and 64 KiB of response headers, the waits
// it asks for are capped at a minute, and every Reason is one of the
// package's own fixed texts plus, at most, a numeric status code.
//
// Requests are rate limited over a sliding window: at most
// Options.RequestsPerMinute reach the server in any 60 seconds, counting
// retries. When the caller's context ends (a signal, a deadline), every call
// returns promptly, and [Verifier.VerifyAll] still returns a Result for
// every key.
package verify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Status is the answer to "is this key live?".
type Status string

const (
	// Live means Lofty accepted the key. A 200 and a 403 both count: a 403
	// says the key authenticated but the account lacks a permission for
	// /v1.0/me, and a key that authenticates can still be used for whatever
	// it is allowed to do, so it must be revoked.
	Live Status = "live"
	// Invalid means Lofty rejected the key with 401: it is revoked,
	// expired or was never issued.
	Invalid Status = "invalid"
	// Unknown means no answer could be had (the key was not sent, rate
	// limiting, a server error, a timeout, a network error, a redirect, an
	// interruption). Treat it as possibly live.
	Unknown Status = "unknown"
)

// Result is the outcome of verifying one key.
type Result struct {
	Status Status
	// Reason says why the status is Unknown, for example "rate limited",
	// "HTTP 503", "timeout: no answer within 10s", "network error:
	// connection refused" or one of the Reason constants. It is empty for
	// Live and Invalid. It is always one of this package's own texts (the
	// only part that comes from the server is a status code), so it never
	// holds the key, a header value or a control character.
	Reason string
	// HTTPStatus is the status code of the last response, or 0 if none
	// arrived.
	HTTPStatus int
}

// Key is a token to verify and whether the scan confirmed it as a Lofty
// key (its claims carry the THIRD_PARTY_OPERATION scope). An unconfirmed
// token may belong to another service, so it is sent only when
// [Options.SendUnconfirmed] is set.
type Key struct {
	Token     string
	Confirmed bool
}

// Reasons for keys that were not, or not fully, checked. Callers may match
// on them.
const (
	// ReasonUnconfirmed: the token lacks the Lofty scope and the caller did
	// not opt in to sending such tokens.
	ReasonUnconfirmed = "unconfirmed token: not sent (use --verify-unconfirmed)"
	// ReasonInterrupted: the caller's context was canceled (a signal)
	// before the check finished or began.
	ReasonInterrupted = "interrupted"
	// ReasonTimeoutBefore: the caller's context deadline (the run's
	// --timeout) passed before the key was sent.
	ReasonTimeoutBefore = "--timeout reached before this key was checked"
	// ReasonTimeoutDuring: the caller's context deadline passed while the
	// request, or the wait to retry it after a 429, was under way.
	ReasonTimeoutDuring = "--timeout reached while this key was being checked"
)

// Defaults for the zero values in [Options].
const (
	DefaultBaseURL           = "https://api.lofty.com"
	DefaultRequestsPerMinute = 100
	DefaultTimeout           = 10 * time.Second
	DefaultMaxRetries        = 2
	DefaultUserAgent         = "loftyscan"
)

const (
	// maxBodyRead is how much of a response body is read (and discarded)
	// before the connection is closed; the body itself carries no answer.
	maxBodyRead = 4 << 10
	// maxHeaderBytes caps the response headers the transport reads;
	// net/http's default allows 10 MiB per response.
	maxHeaderBytes = 64 << 10
	// maxRetryWait caps the wait after a 429, whatever the server asks for.
	maxRetryWait = 60 * time.Second
	// rateWindow is the window RequestsPerMinute counts over. Tests build
	// limiters with shorter windows.
	rateWindow = time.Minute
	// concurrency is how many requests VerifyAll keeps in flight. The rate
	// limit, not the concurrency, bounds the request rate; a few in flight
	// hide the latency.
	concurrency = 4
)

// Options configure a [Verifier]. Zero values mean the defaults.
type Options struct {
	// BaseURL is where the API lives, DefaultBaseURL if empty. The caller
	// reads LOFTY_BASE_URL (lofty-cli's own variable) and passes it here.
	// It must be https; plain http is accepted only for loopback hosts.
	BaseURL string
	// RequestsPerMinute bounds the requests sent by all calls together,
	// DefaultRequestsPerMinute if zero or less: at most this many reach the
	// server in any 60-second window, retries included, from the first
	// request on.
	RequestsPerMinute int
	// Timeout bounds each request, DefaultTimeout if zero or less.
	Timeout time.Duration
	// MaxRetries is how often a request answered with 429 is retried,
	// DefaultMaxRetries if zero; a negative value means never.
	MaxRetries int
	// SendUnconfirmed allows sending tokens whose claims lack the Lofty
	// scope (Key.Confirmed false). Off by default: such a token may be
	// another service's secret, and Lofty has no business seeing it.
	SendUnconfirmed bool
	// HTTPClient sends the requests, a client using a clone of
	// http.DefaultTransport if nil. It is copied, never modified; the copy
	// follows no redirects and, when its Transport is an *http.Transport,
	// uses a clone of it that reads at most 64 KiB of response headers and
	// sends each request once (HTTP/1.1, a connection per request, so the
	// transport never resends a request the rate limit did not count).
	// Cancellation relies on the transport honoring the request context,
	// as http.Transport does.
	HTTPClient *http.Client
	// UserAgent is sent as the User-Agent header, DefaultUserAgent if empty.
	UserAgent string
}

// Verifier checks keys against the Lofty API. It is safe for concurrent use.
type Verifier struct {
	endpoint        string
	client          *http.Client
	timeout         time.Duration
	maxRetries      int
	sendUnconfirmed bool
	userAgent       string
	limiter         *limiter

	// Test hooks.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// New returns a Verifier for opts. It fails if the base URL could send a key
// in clear text or somewhere unexpected.
func New(opts Options) (*Verifier, error) {
	base := opts.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	endpoint, err := parseBaseURL(base)
	if err != nil {
		return nil, err
	}
	rpm := opts.RequestsPerMinute
	if rpm <= 0 {
		rpm = DefaultRequestsPerMinute
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	retries := opts.MaxRetries
	switch {
	case retries == 0:
		retries = DefaultMaxRetries
	case retries < 0:
		retries = 0
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	return &Verifier{
		endpoint:        endpoint,
		client:          boundedClient(opts.HTTPClient),
		timeout:         timeout,
		maxRetries:      retries,
		sendUnconfirmed: opts.SendUnconfirmed,
		userAgent:       ua,
		limiter:         newLimiter(rpm, rateWindow),
		now:             time.Now,
		sleep:           sleepCtx,
	}, nil
}

// boundedClient copies c (or makes a client) so that it follows no
// redirects and reads bounded response headers.
func boundedClient(c *http.Client) *http.Client {
	var client http.Client
	if c != nil {
		client = *c
	}
	// A redirect would resend the Authorization header, and so the key, to
	// wherever the Location points. The response is returned instead and
	// reported as Unknown.
	client.CheckRedirect = func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}
	rt := client.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	if t, ok := rt.(*http.Transport); ok {
		t = t.Clone()
		if t.MaxResponseHeaderBytes <= 0 || t.MaxResponseHeaderBytes > maxHeaderBytes {
			t.MaxResponseHeaderBytes = maxHeaderBytes
		}
		oneSendPerRequest(t)
		client.Transport = t
	}
	return &client
}

// oneSendPerRequest makes t send each request once. net/http resends a
// GET by itself when a reused keep-alive connection is hung up after the
// request was written, and HTTP/2 resends a refused stream up to six
// times; either would put the key on the wire again without taking a slot
// of the rate limit, and a server could ask for it as often as it likes.
// A connection per request over HTTP/1.1 leaves nothing to resend on; at
// a hundred keys a minute the extra handshakes cost nothing that matters.
func oneSendPerRequest(t *http.Transport) {
	t.DisableKeepAlives = true
	t.ForceAttemptHTTP2 = false
	t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	if t.TLSClientConfig != nil {
		// A client configured for HTTP/2 offers it in the TLS handshake;
		// offer only what is spoken.
		t.TLSClientConfig = t.TLSClientConfig.Clone()
		t.TLSClientConfig.NextProtos = slices.DeleteFunc(slices.Clone(t.TLSClientConfig.NextProtos),
			func(p string) bool { return p == "h2" })
	}
	var p http.Protocols
	p.SetHTTP1(true)
	t.Protocols = &p
}

// parseBaseURL checks base and returns the URL of /v1.0/me under it.
func parseBaseURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		// url.Parse quotes the input; it is a URL from the environment, not
		// a key, but it might hold a password, so say only what is wrong.
		return "", errors.New("invalid Lofty base URL: it does not parse as a URL; check LOFTY_BASE_URL")
	}
	shown := u.Redacted()
	switch {
	case u.User != nil:
		return "", fmt.Errorf("invalid Lofty base URL %q: it must not contain a user name or password", shown)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("invalid Lofty base URL %q: it has no host; use a URL like %s", shown, DefaultBaseURL)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", fmt.Errorf("invalid Lofty base URL %q: it must not have a query or fragment", shown)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", fmt.Errorf("invalid Lofty base URL %q: it must use https, since the key would travel in clear text; plain http is allowed only for loopback hosts (127.0.0.0/8, ::1, localhost)", shown)
		}
	default:
		return "", fmt.Errorf("invalid Lofty base URL %q: it must use https, like %s", shown, DefaultBaseURL)
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/v1.0/me"
	u.RawPath = ""
	return u.String(), nil
}

// isLoopback reports whether host is a loopback address or localhost.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
