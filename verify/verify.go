// Package verify asks Lofty's API whether a found key is live.
//
// Lofty keys are HS256-signed JWS tokens whose secret is Lofty's, so nothing
// offline can tell a live key from a revoked one. The only oracle is the API
// itself: [Verifier.Verify] sends one GET /v1.0/me with the key in the
// Authorization header and maps the status code to a [Status].
//
// Sending a leaked key anywhere is itself a risk, so the package is strict
// about where it goes: the base URL must be https (plain http only to
// loopback, for tests), redirects are never followed, the key is only ever
// in the Authorization header, and it never appears in a [Result] or an
// error. The package logs nothing.
package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
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
	// Unknown means no answer could be had (rate limiting, a server error,
	// a timeout, a network error, a redirect). Treat it as possibly live.
	Unknown Status = "unknown"
)

// Result is the outcome of verifying one key.
type Result struct {
	Status Status
	// Reason says why the status is Unknown, for example "rate limited",
	// "HTTP 503", "timeout" or "network error: ...". It is empty for Live and
	// Invalid, and it never contains the key.
	Reason string
	// HTTPStatus is the status code of the last response, or 0 if none
	// arrived.
	HTTPStatus int
}

// Defaults for the zero values in [Options].
const (
	DefaultBaseURL           = "https://api.lofty.com"
	DefaultRequestsPerMinute = 100
	DefaultTimeout           = 10 * time.Second
	DefaultMaxRetries        = 2
	DefaultUserAgent         = "loftyscan"
)

const (
	// maxBodyRead is how much of a response body is read (and discarded) so
	// the connection can be reused; the body itself carries no answer.
	maxBodyRead = 4 << 10
	// maxRetryWait caps the wait after a 429, whatever the server asks for.
	maxRetryWait = 60 * time.Second
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
	// DefaultRequestsPerMinute if zero or less. Up to min(10, it) may go out
	// at once.
	RequestsPerMinute int
	// Timeout bounds each request, DefaultTimeout if zero or less.
	Timeout time.Duration
	// MaxRetries is how often a request answered with 429 is retried,
	// DefaultMaxRetries if zero; a negative value means never.
	MaxRetries int
	// HTTPClient sends the requests, a client using http.DefaultTransport if
	// nil. It is copied, never modified; the copy follows no redirects.
	HTTPClient *http.Client
	// UserAgent is sent as the User-Agent header, DefaultUserAgent if empty.
	UserAgent string
}

// Verifier checks keys against the Lofty API. It is safe for concurrent use.
type Verifier struct {
	endpoint   string
	client     *http.Client
	timeout    time.Duration
	maxRetries int
	userAgent  string
	limiter    *limiter

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
	var client http.Client
	if opts.HTTPClient != nil {
		client = *opts.HTTPClient
	}
	// A redirect would resend the Authorization header, and so the key, to
	// wherever the Location points. The response is returned instead and
	// reported as Unknown.
	client.CheckRedirect = func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}
	return &Verifier{
		endpoint:   endpoint,
		client:     &client,
		timeout:    timeout,
		maxRetries: retries,
		userAgent:  ua,
		limiter:    newLimiter(rpm, min(10, rpm)),
		now:        time.Now,
		sleep:      sleepCtx,
	}, nil
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

// Verify asks the API whether token is live. It sends one request, plus up
// to MaxRetries more after a 429, each after the wait the server asks for
// (at most a minute, and never past ctx). It never returns an error: every
// failure is a Result with Status Unknown and a Reason.
func (v *Verifier) Verify(ctx context.Context, token string) Result {
	r := v.verify(ctx, token)
	// The key goes only into a header, so no reason should hold it, but a
	// hostile server could echo it into a Location header, and error texts
	// are not ours to control. Make sure.
	if token != "" {
		r.Reason = strings.ReplaceAll(r.Reason, token, "[REDACTED]")
	}
	return r
}

func (v *Verifier) verify(ctx context.Context, token string) Result {
	if token == "" {
		return Result{Status: Unknown, Reason: "empty key, not sent"}
	}
	if !validHeaderValue(token) {
		return Result{Status: Unknown, Reason: "key holds characters not allowed in an HTTP header, not sent"}
	}
	var last Result
	for attempt := 0; ; attempt++ {
		if err := v.limiter.wait(ctx); err != nil {
			if attempt > 0 {
				return last
			}
			return Result{Status: Unknown, Reason: contextReason(ctx)}
		}
		r, header := v.do(ctx, token)
		if r.HTTPStatus != http.StatusTooManyRequests {
			return r
		}
		last = r
		if attempt >= v.maxRetries {
			return r
		}
		if err := v.sleep(ctx, retryDelay(header, v.now(), attempt)); err != nil {
			return r
		}
	}
}

// do sends one request and maps its outcome. For a 429 it also returns the
// response header, which says how long to wait.
func (v *Verifier) do(ctx context.Context, token string) (Result, http.Header) {
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.endpoint, nil)
	if err != nil {
		// The endpoint was checked in New; this cannot happen.
		return Result{Status: Unknown, Reason: "cannot build request"}, nil
	}
	req.Header.Set("Authorization", "token "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", v.userAgent)

	resp, err := v.client.Do(req)
	if err != nil {
		return Result{Status: Unknown, Reason: errorReason(ctx, err)}, nil
	}
	// Only the status code matters. Read a little so a small body lets the
	// connection be reused, but never a large one.
	_, _ = io.CopyN(io.Discard, resp.Body, maxBodyRead)
	resp.Body.Close()

	code := resp.StatusCode
	r := Result{Status: Unknown, HTTPStatus: code}
	switch {
	case code == http.StatusOK, code == http.StatusForbidden:
		r.Status = Live
	case code == http.StatusUnauthorized:
		r.Status = Invalid
	case code == http.StatusTooManyRequests:
		r.Reason = "rate limited"
		return r, resp.Header
	case code >= 300 && code < 400:
		r.Reason = redirectReason(resp)
	default:
		r.Reason = "HTTP " + strconv.Itoa(code)
	}
	return r, nil
}

// redirectReason describes a redirect that was not followed, naming only the
// scheme, host and path of its target.
func redirectReason(resp *http.Response) string {
	loc, err := resp.Location()
	if err != nil {
		return fmt.Sprintf("HTTP %d redirect not followed", resp.StatusCode)
	}
	target := url.URL{Scheme: loc.Scheme, Host: loc.Host, Path: loc.Path}
	return fmt.Sprintf("redirect to %s not followed", target.String())
}

// errorReason describes a failed request. ctx is the per-request context.
func errorReason(ctx context.Context, err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	if errors.Is(err, context.Canceled) {
		return contextReason(ctx)
	}
	// A *url.Error repeats the method and URL; the URL holds no key, but
	// the inner error alone is the useful part.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return "network error: " + err.Error()
}

// contextReason describes why ctx ended.
func contextReason(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "timeout"
	}
	return "canceled"
}

// retryDelay is how long to wait after a 429 before retry number attempt+1.
// It takes the longer of Retry-After (seconds or an HTTP date) and
// X-RateLimit-Reset (epoch seconds, or seconds to wait if below 1e9, which is
// September 2001), and without either doubles from one second. It is capped
// at maxRetryWait.
func retryDelay(h http.Header, now time.Time, attempt int) time.Duration {
	d, ok := time.Duration(0), false
	if s := strings.TrimSpace(h.Get("Retry-After")); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
			d, ok = seconds(n), true
		} else if t, err := http.ParseTime(s); err == nil {
			d, ok = max(d, t.Sub(now)), true
		}
	}
	if s := strings.TrimSpace(h.Get("X-RateLimit-Reset")); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
			if n < 1e9 {
				d = max(d, seconds(n))
			} else {
				d = max(d, time.Unix(n, 0).Sub(now))
			}
			ok = true
		}
	}
	if !ok {
		d = time.Second << min(attempt, 6)
	}
	return min(max(d, 0), maxRetryWait)
}

// seconds converts n seconds to a Duration without overflowing.
func seconds(n int64) time.Duration {
	if n > int64(maxRetryWait/time.Second) {
		return maxRetryWait
	}
	return time.Duration(n) * time.Second
}

// validHeaderValue reports whether s can be sent in a header as is: visible
// ASCII only. Anything else would be rejected by net/http or, worse, split
// the header.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// sleepCtx waits for d or until ctx ends, whichever comes first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// VerifyAll verifies each distinct token once, a few at a time, and returns
// the results by token. Tokens not reached before ctx ends are Unknown.
func (v *Verifier) VerifyAll(ctx context.Context, tokens []string) map[string]Result {
	results := make(map[string]Result, len(tokens))
	var unique []string
	for _, t := range tokens {
		if _, seen := results[t]; !seen {
			results[t] = Result{}
			unique = append(unique, t)
		}
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		next = make(chan string)
	)
	for range min(concurrency, len(unique)) {
		wg.Go(func() {
			for t := range next {
				r := v.Verify(ctx, t)
				mu.Lock()
				results[t] = r
				mu.Unlock()
			}
		})
	}
	for _, t := range unique {
		next <- t
	}
	close(next)
	wg.Wait()
	return results
}
