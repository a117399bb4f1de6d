package verify

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Verify asks the API whether key is live. It sends one request, plus up
// to MaxRetries more after a 429, each after the wait the server asks for
// (at most a minute, and never past ctx), each within the rate limit. An
// unconfirmed key is not sent unless Options.SendUnconfirmed is set. It
// never returns an error: every failure is a Result with Status Unknown and
// a Reason. When ctx ends it returns at once (as soon as the transport has
// aborted the request in flight).
func (v *Verifier) Verify(ctx context.Context, key Key) Result {
	r := v.verify(ctx, key)
	// Reasons are the package's own texts and the key goes only into a
	// header, so no reason can hold it. Make sure anyway.
	if key.Token != "" {
		r.Reason = strings.ReplaceAll(r.Reason, key.Token, "[REDACTED]")
	}
	return r
}

func (v *Verifier) verify(ctx context.Context, key Key) Result {
	switch {
	case key.Token == "":
		return Result{Status: Unknown, Reason: "empty key, not sent"}
	case !key.Confirmed && !v.sendUnconfirmed:
		return Result{Status: Unknown, Reason: ReasonUnconfirmed}
	case !validHeaderValue(key.Token):
		return Result{Status: Unknown, Reason: "key holds characters not allowed in an HTTP header, not sent"}
	}
	var last Result // the last 429, if any
	for attempt := 0; ; attempt++ {
		done, err := v.limiter.wait(ctx)
		if err != nil {
			return stopped(ctx, last)
		}
		r, header := v.do(ctx, key.Token)
		done()
		if r.HTTPStatus != http.StatusTooManyRequests || attempt >= v.maxRetries {
			return r
		}
		last = r
		if err := v.sleep(ctx, retryDelay(header, v.now(), attempt)); err != nil {
			return stopped(ctx, last)
		}
	}
}

// stopped is the result for a key whose check ctx ended; last is the last
// answer the server gave for it, if any.
func stopped(ctx context.Context, last Result) Result {
	sent := last.HTTPStatus != 0
	return Result{Status: Unknown, Reason: contextReason(ctx, sent), HTTPStatus: last.HTTPStatus}
}

// do sends one request and maps its outcome. For a 429 it also returns the
// response header, which says how long to wait.
func (v *Verifier) do(ctx context.Context, token string) (Result, http.Header) {
	reqCtx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, v.endpoint, nil)
	if err != nil {
		// The endpoint was checked in New; this cannot happen.
		return Result{Status: Unknown, Reason: "cannot build request"}, nil
	}
	req.Header.Set("Authorization", "token "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", v.userAgent)

	resp, err := v.client.Do(req)
	if err != nil {
		return Result{Status: Unknown, Reason: v.errorReason(ctx, err)}, nil
	}
	// Only the status code matters, whatever the code. Read a little of
	// the body, never a large one; a body that stalls is cut by reqCtx.
	// The transport cuts it for an ordinary body, but a 101 with Upgrade
	// headers hands the connection over as the body and the transport
	// stops watching reqCtx: closing the body at reqCtx's end is what
	// ends that read.
	stop := context.AfterFunc(reqCtx, func() { resp.Body.Close() })
	_, _ = io.CopyN(io.Discard, resp.Body, maxBodyRead)
	stop()
	resp.Body.Close()
	return statusResult(resp.StatusCode), resp.Header
}

// statusResult maps a status code to a Result.
func statusResult(code int) Result {
	r := Result{Status: Unknown, HTTPStatus: code}
	switch {
	case code == http.StatusOK, code == http.StatusForbidden:
		r.Status = Live
	case code == http.StatusUnauthorized:
		r.Status = Invalid
	case code == http.StatusTooManyRequests:
		r.Reason = "rate limited"
	case code >= 300 && code < 400:
		// The target is not named: Location is the server's text.
		r.Reason = "HTTP " + strconv.Itoa(code) + ": redirect not followed"
	default:
		r.Reason = "HTTP " + strconv.Itoa(code)
	}
	return r
}

// VerifyAll verifies each distinct token once, a few at a time, and returns
// a Result for every token in keys. A token given both as confirmed and as
// unconfirmed counts as unconfirmed. When ctx ends, VerifyAll returns
// promptly: checks under way end Unknown with ReasonInterrupted or
// ReasonTimeoutDuring, keys not yet sent with ReasonInterrupted or
// ReasonTimeoutBefore.
func (v *Verifier) VerifyAll(ctx context.Context, keys []Key) map[string]Result {
	unique := dedupe(keys)
	results := make(map[string]Result, len(unique))
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		next = make(chan Key)
	)
	for range min(concurrency, len(unique)) {
		wg.Go(func() {
			for k := range next {
				r := v.Verify(ctx, k)
				mu.Lock()
				results[k.Token] = r
				mu.Unlock()
			}
		})
	}
	sent := 0
feed:
	for _, k := range unique {
		select {
		case next <- k:
			sent++
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	for _, k := range unique[sent:] {
		results[k.Token] = Result{Status: Unknown, Reason: contextReason(ctx, false)}
	}
	return results
}

// dedupe returns each token of keys once, in order of first appearance,
// confirmed only if every occurrence is.
func dedupe(keys []Key) []Key {
	index := make(map[string]int, len(keys))
	var unique []Key
	for _, k := range keys {
		if i, seen := index[k.Token]; seen {
			unique[i].Confirmed = unique[i].Confirmed && k.Confirmed
			continue
		}
		index[k.Token] = len(unique)
		unique = append(unique, k)
	}
	return unique
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
