package verify

import (
	"context"
	"testing"
	"time"
)

func TestLimiterBurst(t *testing.T) {
	t.Parallel()
	now := time.Unix(0, 0)
	l := newLimiter(60, 3)
	l.now = func() time.Time { return now }
	for i := range 3 {
		if err := l.wait(t.Context()); err != nil {
			t.Fatalf("wait %d: %v", i, err)
		}
	}
	// The bucket is empty and the clock stands still: the next wait must
	// block until the context ends, then give its reservation back.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := l.wait(ctx); err == nil {
		t.Fatal("wait on an empty bucket returned at once")
	}
	if l.tokens != 0 {
		t.Errorf("tokens = %v after a canceled wait, want 0", l.tokens)
	}
	// One second later one token is back, and only one.
	now = now.Add(time.Second)
	if err := l.wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	if l.tokens != 0 {
		t.Errorf("tokens = %v, want 0", l.tokens)
	}
	// A long pause refills no more than the burst.
	now = now.Add(time.Hour)
	for range 3 {
		l.wait(t.Context())
	}
	if l.tokens != 0 {
		t.Errorf("tokens = %v after a pause and 3 waits, want 0", l.tokens)
	}
}
