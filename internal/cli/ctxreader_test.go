package cli

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"
)

// A read that would block for good (a pipe whose writer never closes it)
// ends when the context does, with the error asked for; the read left
// behind never writes into a buffer the caller has got back.
func TestContextReaderStops(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{}, 2)
	r := readerWithContext(ctx, &announcingReader{pr, started}, io.EOF)

	go pw.Write([]byte("abc"))
	p := make([]byte, 8)
	if n, err := r.Read(p); err != nil || string(p[:n]) != "abc" {
		t.Fatalf("read %q, %v; want abc", p[:n], err)
	}

	p = bytes.Repeat([]byte{'.'}, 8)
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	<-started // the first read's
	go func() {
		n, err := r.Read(p)
		done <- result{n, err}
	}()
	<-started // this read is blocked in the pipe
	cancel()
	select {
	case res := <-done:
		if res.n != 0 || res.err != io.EOF {
			t.Fatalf("read after the stop: %d, %v; want 0, EOF", res.n, res.err)
		}
	case <-time.After(childDeadline):
		t.Fatal("the read did not end when the context did")
	}

	// The read left behind now gets data: it lands in the reader's own
	// buffer, and p keeps what it held.
	if _, err := pw.Write([]byte("late")); err != nil {
		t.Fatal(err)
	}
	if string(p) != "........" {
		t.Errorf("the read left behind wrote %q into the caller's buffer", p)
	}
	if n, err := r.Read(p); n != 0 || err != io.EOF {
		t.Errorf("a read once stopped: %d, %v; want 0, EOF for good", n, err)
	}
}

// announcingReader tells of each Read as it begins.
type announcingReader struct {
	r       io.Reader
	started chan<- struct{}
}

func (a *announcingReader) Read(p []byte) (int, error) {
	a.started <- struct{}{}
	return a.r.Read(p)
}
