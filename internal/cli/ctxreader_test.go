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

// eofThenMore ends once, then has more: a terminal after a Ctrl-D.
type eofThenMore struct{ reads int }

func (r *eofThenMore) Read(p []byte) (int, error) {
	r.reads++
	if r.reads == 1 {
		return 0, io.EOF
	}
	return copy(p, "more\n"), nil
}

// TestContextReaderEOFStays: after the first EOF every Read returns EOF and
// the reader is not read again, so one Ctrl-D ends 'loftyscan stdin' typed
// at a terminal (it took two).
func TestContextReaderEOFStays(t *testing.T) {
	t.Parallel()
	src := &eofThenMore{}
	r := readerWithContext(context.Background(), src, nil)
	buf := make([]byte, 16)
	for i := range 3 {
		if n, err := r.Read(buf); n != 0 || err != io.EOF {
			t.Fatalf("read %d after the end: %d bytes, %v; want 0, EOF", i+1, n, err)
		}
	}
	if src.reads != 1 {
		t.Errorf("the reader was read %d times, want once", src.reads)
	}
}
