package verify

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryDelay is how long to wait after a 429 before retry number attempt+1.
// It takes the longer of Retry-After (seconds or an HTTP date) and
// X-RateLimit-Reset (epoch seconds, or seconds to wait if below 1e9, which is
// September 2001), and without either doubles from one second. Values that
// are negative or not integers are ignored, times in the past mean no wait,
// and the result is capped at maxRetryWait whatever the server says.
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
				d = max(d, untilEpoch(n, now))
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

// untilEpoch is the time from now to epoch second n, capped at
// maxRetryWait before time.Unix can overflow (it does for n near 2^63).
func untilEpoch(n int64, now time.Time) time.Duration {
	if n-now.Unix() > int64(maxRetryWait/time.Second) {
		return maxRetryWait
	}
	return time.Unix(n, 0).Sub(now)
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
