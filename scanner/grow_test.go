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
// folder's other file. The writer grows the file 16 MiB a millisecond with
// truncate (sparse: no disk space), to 64 MiB before a scan opens it and
// 256 MiB more each time one does (it looks for a descriptor on it in
// /proc/self/fd; by the clock where there is none): growth bounded so, the
// size at open stays small however late a busy machine lets the scan open
// the file (a writer growing it by the clock alone made it tens of GiB by
// the second scan, which did not end within the test's minute under
// -race), and read to its end, as before, the scan reports no growth.
func TestFileGrowingWhileRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.env"), []byte("LOFTY_API_KEY="+keyActive+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	grow := filepath.Join(dir, "grow.log")
	start := int64(8 << 20) // past the worker's buffer: streamed
	if err := os.WriteFile(grow, make([]byte, start), 0o644); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	writer := make(chan struct{})
	const ahead, more = 64 << 20, 256 << 20
	go func() {
		defer close(writer)
		size, limit, wasOpen := start, int64(start+ahead), false
		for {
			select {
			case <-stop:
				return
			default:
			}
			open, ok := openHere(grow)
			switch {
			case !ok:
				limit = size + 16<<20 // no /proc: grow by the clock
			case open && !wasOpen:
				limit = size + more // a scan opened it: grow while it reads, that much
			}
			wasOpen = open
			if size < limit {
				size += 16 << 20
				if err := os.Truncate(grow, size); err != nil {
					<-stop // the file system's largest file: it stays this big
					return
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	defer func() { close(stop); <-writer }()
	for {
		if fi, err := os.Stat(grow); err != nil || fi.Size() >= start+ahead {
			break // as far ahead as it goes before a scan opens it
		}
		time.Sleep(time.Millisecond)
	}

	// The folder (read by the folder walker) and the file named alone (read
	// by path): both stop at the size the file had when opened.
	for _, tc := range []struct {
		path  string
		finds int
	}{{dir, 1}, {grow, 0}} {
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
		case <-time.After(time.Minute): // a hang, not a speed check: the read is of a few GiB at most
			cancel()
			<-done
			t.Fatalf("%s: the scan did not end while a file it reads kept growing", tc.path)
		}
		cancel()
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
