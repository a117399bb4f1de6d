//go:build unix

package verify

import (
	"context"
	"os/signal"
	"syscall"
	"testing"
)

// TestVerifyAllStopsOnSIGINT wires VerifyAll the way a command does, to
// signal.NotifyContext, and sends the test process a real SIGINT while
// requests hang on a server that never answers.
func TestVerifyAllStopsOnSIGINT(t *testing.T) {
	// Not parallel: the signal goes to the whole process.
	srv := newSilentServer(t)
	v := hangingVerifier(t, srv.url)
	ctx, stop := signal.NotifyContext(t.Context(), syscall.SIGINT)
	defer stop()
	keys := testKeys(6)
	var got map[string]Result
	returns(t, func() {
		go func() {
			srv.waitReceived(t, 1)
			if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
				t.Error(err)
			}
		}()
		got = v.VerifyAll(ctx, keys)
	})
	if ctx.Err() != context.Canceled {
		t.Errorf("context: %v, want canceled by the signal", ctx.Err())
	}
	for _, k := range keys {
		check(t, got[k.Token], Unknown, ReasonInterrupted, 0)
	}
}
