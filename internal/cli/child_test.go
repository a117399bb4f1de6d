//go:build linux

package cli

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Helpers for the tests that run loftyscan as a child process: the copy of
// the test binary that testscript.Main (main_test.go) puts on PATH, which
// runs Run, the CLI's entry, as main does. Real signals go to it.

// child is a running loftyscan.
type child struct {
	t      *testing.T
	cmd    *exec.Cmd
	tmp    string // its private TMPDIR
	stdout bytes.Buffer
	stderr *lineBuffer
	done   chan struct{}
	err    error
}

// lineBuffer keeps what a child writes to stderr and lets a test wait for a
// line holding some text.
type lineBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	cond *sync.Cond
	eof  bool
}

func newLineBuffer(r io.Reader) *lineBuffer {
	l := &lineBuffer{}
	l.cond = sync.NewCond(&l.mu)
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			l.mu.Lock()
			l.buf.Write(sc.Bytes())
			l.buf.WriteByte('\n')
			l.cond.Broadcast()
			l.mu.Unlock()
		}
		l.mu.Lock()
		l.eof = true
		l.cond.Broadcast()
		l.mu.Unlock()
	}()
	return l
}

// waitFor blocks until the text has appeared, or the stream ended without
// it; it reports which.
func (l *lineBuffer) waitFor(text string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for !strings.Contains(l.buf.String(), text) {
		if l.eof {
			return false
		}
		l.cond.Wait()
	}
	return true
}

// waitEOF blocks until the stream has ended.
func (l *lineBuffer) waitEOF() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for !l.eof {
		l.cond.Wait()
	}
}

func (l *lineBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startChild starts loftyscan with args in dir, with a private TMPDIR and
// the given extra environment. stdin, when not nil, is its standard input;
// stdout, when not nil, its standard output (else a buffer).
func startChild(t *testing.T, dir string, stdin, stdout *os.File, env []string, args ...string) *child {
	t.Helper()
	exe, err := exec.LookPath("loftyscan")
	if err != nil {
		t.Fatalf("no loftyscan on PATH (testscript.Main in main_test.go puts it there): %v", err)
	}
	c := &child{t: t, tmp: t.TempDir(), done: make(chan struct{})}
	c.cmd = exec.Command(exe, args...)
	c.cmd.Dir = dir
	c.cmd.Env = append(os.Environ(), append([]string{"TMPDIR=" + c.tmp, "NO_COLOR=1", "CI="}, env...)...)
	if stdin != nil {
		c.cmd.Stdin = stdin
	}
	if stdout != nil {
		c.cmd.Stdout = stdout
	} else {
		c.cmd.Stdout = &c.stdout
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c.cmd.Stderr = pw
	c.stderr = newLineBuffer(pr)
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			c.cmd.Process.Kill()
			<-c.done
		}
		pr.Close()
	})
	return c
}

func (c *child) signal(sig os.Signal) {
	c.t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		c.t.Fatalf("cannot send %v: %v", sig, err)
	}
}

// wait returns the child's exit code once it has ended. A child that a
// signal killed (its handler did not run) or that outlives childDeadline
// fails the test.
func (c *child) wait() int {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(childDeadline):
		c.cmd.Process.Signal(syscall.SIGQUIT) // its goroutines, for the log
		time.Sleep(time.Second)
		c.cmd.Process.Kill()
		<-c.done
		c.t.Fatalf("loftyscan %q did not end within %s; stderr:\n%s", c.cmd.Args[1:], childDeadline, c.stderr)
	}
	c.stderr.waitEOF()
	var ee *exec.ExitError
	if errors.As(c.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			c.t.Fatalf("loftyscan was killed by %v, its handler did not run; stderr:\n%s", ws.Signal(), c.stderr)
		}
		return ee.ExitCode()
	}
	if c.err != nil {
		c.t.Fatal(c.err)
	}
	return 0
}

// noLeftovers fails if the child's TMPDIR holds anything: a clone folder
// or any other temporary file.
func (c *child) noLeftovers() {
	c.t.Helper()
	ents, err := os.ReadDir(c.tmp)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, e := range ents {
		c.t.Errorf("left behind in TMPDIR: %s", e.Name())
	}
}

// waitDrained blocks until the child has read everything written to the
// pipe whose read end is r (the parent keeps its copy open): FIONREAD on
// a pipe counts the bytes not yet read.
func waitDrained(t *testing.T, r *os.File) {
	t.Helper()
	deadline := time.Now().Add(childDeadline)
	for {
		n, err := unix.IoctlGetInt(int(r.Fd()), unix.TIOCINQ)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child did not read its standard input within %s", childDeadline)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitFilled blocks until the pipe whose read end is r holds some bytes:
// the child has begun writing to it.
func waitFilled(t *testing.T, r *os.File) {
	t.Helper()
	deadline := time.Now().Add(childDeadline)
	for {
		n, err := unix.IoctlGetInt(int(r.Fd()), unix.TIOCINQ)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child wrote nothing within %s", childDeadline)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
