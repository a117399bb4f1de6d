package cli

import (
	"context"
	"io"
	"os"
)

// maxPendingRead caps the buffer of the read a contextReader has under way.
const maxPendingRead = 1 << 20

// contextReader makes a reader that can block for good (standard input
// from a pipe that is never closed, a terminal) give up when ctx ends: Read
// then returns ctx's error at once, and the read under way is left to
// finish, or not, in the background. Nothing else can interrupt a read
// from a pipe or a terminal without changing the descriptor's mode, which
// the process shares with the shell.
//
// Once the reader has returned io.EOF, every Read returns it.
//
// The read under way fills a buffer of the contextReader's own, copied out
// when it returns, so that a read left behind never writes into a buffer
// its caller has got back.
type contextReader struct {
	ctx     context.Context
	r       io.Reader
	stopErr error // what Read returns once ctx ended; nil for ctx's error
	buf     []byte
	done    chan readResult
	err     error // sticky: once ctx ended, every Read fails
}

type readResult struct {
	n   int
	err error
}

// readerWithContext returns r, wrapped so that ctx interrupts it unless it
// is a regular file, whose reads end by themselves. Once ctx has ended,
// Read returns stopErr, or ctx's error if stopErr is nil.
func readerWithContext(ctx context.Context, r io.Reader, stopErr error) io.Reader {
	if f, ok := r.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			return r
		}
	}
	return &contextReader{ctx: ctx, r: r, stopErr: stopErr, done: make(chan readResult, 1)}
}

// stop makes every Read from now on fail.
func (c *contextReader) stop() error {
	c.err = c.stopErr
	if c.err == nil {
		c.err = c.ctx.Err()
	}
	return c.err
}

func (c *contextReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.ctx.Err() != nil {
		return 0, c.stop()
	}
	if len(p) == 0 {
		return 0, nil
	}
	n := min(len(p), maxPendingRead)
	if len(c.buf) < n {
		c.buf = make([]byte, n)
	}
	buf := c.buf[:n]
	go func() {
		n, err := c.r.Read(buf)
		c.done <- readResult{n, err}
	}()
	select {
	case r := <-c.done:
		if r.err == io.EOF {
			// The end stays the end: a terminal gives one EOF per Ctrl-D
			// and reads on after it, so a caller that reads again after
			// EOF (the scanner does) would wait for a second Ctrl-D.
			c.err = io.EOF
		}
		return copy(p, buf[:r.n]), r.err
	case <-c.ctx.Done():
		return 0, c.stop()
	}
}
