//go:build unix

package nonblock

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A FIFO nobody writes to opens at once and reads as empty; one with a
// writer reads what it writes.
func TestFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan []byte, 1)
	go func() {
		f, err := Open(fifo)
		if err != nil {
			t.Error(err)
			done <- nil
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		done <- b
	}()
	select {
	case b := <-done:
		if len(b) != 0 {
			t.Errorf("read %q from a FIFO with no writer", b)
		}
	case <-time.After(time.Minute):
		t.Fatal("Open or read blocked on a FIFO with no writer")
	}

	r, err := Open(fifo)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.WriteString("settings")
		w.Close()
	}()
	b, err := io.ReadAll(r)
	if err != nil || string(b) != "settings" {
		t.Errorf("read %q, %v; want the writer's bytes", b, err)
	}
}

func TestRegularFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("content"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if b, _ := io.ReadAll(f); string(b) != "content" {
		t.Errorf("read %q", b)
	}
}
