package scanner

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestEmptyFilesNotOpened watches a folder with inotify while one worker
// scans it: after the first empty file, the empty files that follow are
// looked up, not opened, while files with content and a file that is not
// the scanning user's to read by its owner bits still are, and the
// key after the empty files is found. The counts are those of a walk that
// opens everything.
func TestEmptyFilesNotOpened(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d, err := openDir(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	exact := d.exactSizes
	d.release()
	if !exact {
		t.Fatalf("the temporary folder %s is on a file system whose sizes the walk does not trust; run the tests with TMPDIR on a disk or tmpfs", dir)
	}
	writeFixture(t, dir, "a.env", []byte("LOFTY_API_KEY="+keyActive+"\n"))
	for i := range 50 {
		writeFixture(t, dir, fmt.Sprintf("e%02d", i), nil)
	}
	writeFixture(t, dir, "e25x", nil)
	must(t, os.Chmod(dir+"/e25x", 0o200)) // write-only for its owner: opened, as the oracle would
	writeFixture(t, dir, "z.env", []byte("token: "+keyActive+"\n"))

	in, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(in)
	if _, err := unix.InotifyAddWatch(in, dir, unix.IN_OPEN); err != nil {
		t.Fatal(err)
	}
	opts := testOptions()
	opts.Workers = 1
	want := runWalk(t, (*Scanner).oracleScanPaths, opts, dir)
	opened := map[string]int{}
	readOpens(t, in, opened) // the oracle's, forgotten
	clear(opened)
	got := runWalk(t, (*Scanner).ScanPaths, opts, dir)
	readOpens(t, in, opened)
	compareWalks(t, "empty files", got, want)
	if got.stats.Files != 53 || len(got.findings) != 2 {
		t.Errorf("%d files scanned and %d findings, want 53 and 2", got.stats.Files, len(got.findings))
	}
	// e00 is the first empty file: opened. e25x is not readable by its
	// owner bits: opened (root may read it; another user is refused, as
	// the oracle is).
	wantOpened := []string{"a.env", "e00", "e25x", "z.env"}
	for _, name := range wantOpened {
		if opened[name] != 1 && !(name == "e25x" && os.Geteuid() != 0) {
			t.Errorf("%s opened %d times, want once", name, opened[name])
		}
		delete(opened, name)
	}
	if len(opened) > 0 {
		t.Errorf("empty files opened although an empty file came before each: %v", opened)
	}
}

// readOpens adds to opened the names of the IN_OPEN events waiting on the
// inotify descriptor in.
func readOpens(t *testing.T, in int, opened map[string]int) {
	t.Helper()
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(in, buf)
		if err == unix.EAGAIN {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		for b := buf[:n]; len(b) >= unix.SizeofInotifyEvent; {
			mask := binary.NativeEndian.Uint32(b[4:])
			size := int(binary.NativeEndian.Uint32(b[12:]))
			name := b[unix.SizeofInotifyEvent : unix.SizeofInotifyEvent+size]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if mask&unix.IN_OPEN != 0 && len(name) > 0 {
				opened[string(name)]++
			}
			b = b[unix.SizeofInotifyEvent+size:]
		}
	}
}
