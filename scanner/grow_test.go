package scanner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFileGrowingWhileRead scans a folder holding a file that another
// writer keeps extending (a log being written, a disk image being
// allocated) while it is read: the scan must end, at the size the file had
// when it was opened, with one warning saying so, and report the key of the
// folder's other file; and the same for such a file named alone (read by
// path). Read to its end, as before, the scan reports no growth (and, with
// a writer that is never done, never ends).
func TestFileGrowingWhileRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.env"), []byte("LOFTY_API_KEY="+keyActive+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	alone := filepath.Join(t.TempDir(), "grow.log")
	for _, tc := range []struct {
		path, grow string
		finds      int
	}{{dir, filepath.Join(dir, "grow.log"), 1}, {alone, alone, 0}} {
		stop := growWhileRead(t, tc.grow)
		c := &Collector{}
		done := make(chan error, 1)
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			_, err := New(testOptions()).ScanPaths(ctx, []string{tc.path}, c)
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(time.Minute): // a hang, not a speed check: the read is of 136 MiB at most
			cancel()
			<-done
			t.Fatalf("%s: the scan did not end while a file it reads kept growing", tc.path)
		}
		cancel()
		stop()
		if len(c.Findings) != tc.finds || (tc.finds == 1 && c.Findings[0].Path != "a.env") {
			t.Errorf("%s: findings %+v, want %d (the key of a.env)", tc.path, c.Findings, tc.finds)
		}
		var grew int
		for _, w := range c.Warnings {
			if strings.Contains(w.String(), "grow.log: grew while it was read") {
				grew++
			}
		}
		if grew != 1 {
			t.Errorf("%s: warnings %v, want one saying grow.log grew while it was read", tc.path, c.Warnings)
		}
	}
}

// growWhileRead makes file path and a writer that extends it 16 MiB a
// millisecond with truncate (sparse: no disk space): to 128 MiB before a
// scan opens it, without end once one has (it looks for a descriptor on it
// in /proc/self/fd; by the clock where there is none), far faster than a
// scan reads. Bounded so before the open, the size a scan opens stays small
// however late a busy machine lets it open the file (a writer growing one
// file by the clock alone made it tens of GiB by the time a second scan
// opened it, which did not end within the test's minute under -race). It
// returns when the file is 128 MiB; the function it returns stops the
// writer.
func growWhileRead(t *testing.T, path string) func() {
	t.Helper()
	const start, ahead = 8 << 20, 128 << 20 // past the worker's buffer: streamed
	if err := os.WriteFile(path, make([]byte, start), 0o644); err != nil {
		t.Fatal(err)
	}
	stop, writer := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(writer)
		opened := false
		for size := int64(start); ; {
			select {
			case <-stop:
				return
			default:
			}
			open, ok := openHere(path)
			opened = opened || open || !ok
			if size < ahead || opened {
				size += 16 << 20
				if err := os.Truncate(path, size); err != nil {
					<-stop // the file system's largest file: it stays this big
					return
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	for {
		if fi, err := os.Stat(path); err != nil || fi.Size() >= ahead {
			break
		}
		time.Sleep(time.Millisecond)
	}
	return func() { close(stop); <-writer }
}

// openHere says whether this process has the file at path open, and
// false where /proc/self does not say.
func openHere(path string) (open, ok bool) {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return false, false
	}
	for _, fd := range fds {
		if target, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && target == path {
			return true, true
		}
	}
	return false, true
}
