//go:build unix

package scanner

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/loftyscan/loftyscan/finding"
)

// scanPathsNoHang runs ScanPaths on special files. A FIFO opened for
// reading blocks until a writer comes, which no context can interrupt: a
// scanner that opened one would hang here, and go test's -timeout would
// stop the test binary with every goroutine's stack, the open among them.
// No wall-clock deadline of its own: a busy machine cannot fail the test.
func scanPathsNoHang(t *testing.T, opts Options, roots ...string) (*Collector, finding.Stats) {
	t.Helper()
	c := &Collector{}
	st, err := New(opts).ScanPaths(context.Background(), roots, c)
	if err != nil {
		t.Fatalf("ScanPaths: %v", err)
	}
	return c, st
}

func TestSpecialFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFixture(t, dir, "ok.env", []byte("LOFTY_API_KEY="+keyActive+"\n"))
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := os.Symlink(filepath.Join(dir, "gone.env"), filepath.Join(dir, "broken")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("pipe", filepath.Join(dir, "pipelink")); err != nil {
		t.Fatal(err)
	}
	found := []wantFinding{{Path: "ok.env", Line: 1, Column: 15, Token: keyActive}}

	t.Run("walked", func(t *testing.T) {
		t.Parallel()
		c, st := scanPathsNoHang(t, testOptions(), dir)
		checkFound(t, c.Findings, found...)
		checkWarnings(t, c.Warnings,
			wantWarning{"pipe", "named pipe (FIFO), not read"},
			wantWarning{"broken", "broken symbolic link"},
		)
		checkStats(t, st, c, 1, 0, 3) // the FIFO, the broken link, the link not followed
	})
	t.Run("links followed", func(t *testing.T) {
		t.Parallel()
		opts := testOptions()
		opts.FollowSymlinks = true
		c, st := scanPathsNoHang(t, opts, dir)
		checkFound(t, c.Findings, found...)
		checkWarnings(t, c.Warnings,
			wantWarning{"pipe", "named pipe (FIFO), not read"},
			wantWarning{"pipelink", "symbolic link to a named pipe (FIFO), not read"},
			wantWarning{"broken", "broken symbolic link"},
		)
		checkStats(t, st, c, 1, 0, 3)
	})
	t.Run("FIFO as a root", func(t *testing.T) {
		t.Parallel()
		c, st := scanPathsNoHang(t, testOptions(), fifo, filepath.Join(dir, "ok.env"))
		found := []wantFinding{{Path: filepath.ToSlash(filepath.Join(dir, "ok.env")), Line: 1, Column: 15, Token: keyActive}}
		checkFound(t, c.Findings, found...)
		checkWarnings(t, c.Warnings, wantWarning{filepath.ToSlash(fifo), "named pipe (FIFO), not read"})
		checkStats(t, st, c, 1, 0, 1)
	})
}

// TestUnreadable checks that a file that cannot be read gives a warning,
// counts as an error, and does not stop the scan.
func TestUnreadable(t *testing.T) {
	t.Parallel()
	t.Run("permission denied", func(t *testing.T) {
		t.Parallel()
		// Root reads files whatever their mode; the tests in this
		// repository's CI run as root, so this case runs only for others
		// (the read-error case below stands in for it).
		if os.Geteuid() == 0 {
			t.Skip("running as root: chmod 000 does not stop reads")
		}
		dir := t.TempDir()
		writeFixture(t, dir, "ok.env", []byte("x="+keyActive))
		p := writeFixture(t, dir, "secret.env", []byte("x="+keyExpired))
		if err := os.Chmod(p, 0); err != nil {
			t.Fatal(err)
		}
		sub := filepath.Join(dir, "locked")
		writeFixture(t, dir, "locked/in.env", []byte("x="+keyExpired))
		if err := os.Chmod(sub, 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(sub, 0o755) })
		c, st := scanPaths(t, testOptions(), dir)
		checkFound(t, c.Findings, wantFinding{Path: "ok.env", Line: 1, Column: 3, Token: keyActive})
		checkWarnings(t, c.Warnings,
			wantWarning{"secret.env", "cannot open: permission denied"},
			wantWarning{"locked", "cannot read directory: permission denied"},
		)
		checkStats(t, st, c, 1, 2, 0)
	})
	t.Run("read error", func(t *testing.T) {
		t.Parallel()
		// A regular file whose read fails even for root: /proc/self/mem
		// at offset 0, which is never mapped.
		if _, err := os.Stat("/proc/self/mem"); err != nil {
			t.Skip("no /proc/self/mem")
		}
		dir := t.TempDir()
		writeFixture(t, dir, "ok.env", []byte("x="+keyActive))
		if err := os.Symlink("/proc/self/mem", filepath.Join(dir, "mem")); err != nil {
			t.Fatal(err)
		}
		opts := testOptions()
		opts.FollowSymlinks = true
		c, st := scanPaths(t, opts, dir)
		checkFound(t, c.Findings, wantFinding{Path: "ok.env", Line: 1, Column: 3, Token: keyActive})
		checkWarnings(t, c.Warnings, wantWarning{"mem", "read error"})
		checkStats(t, st, c, 1, 1, 0)
	})
}

// TestInvalidUTF8Names checks that a name that is not UTF-8 is warned about
// once, its content scanned, and its path shown with U+FFFD.
func TestInvalidUTF8Names(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "darwin" {
		t.Skip("file names must be valid Unicode here")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad\xffname.env"), []byte("k="+keyActive), 0o644); err != nil {
		t.Skipf("cannot create a file with a non-UTF-8 name: %v", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "d\xfe\xfe"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFixture(t, dir, "d\xfe\xfe/a.env", []byte("k="+keyExpired))
	writeFixture(t, dir, "d\xfe\xfe/b.env", []byte("k="+keyForever))

	c, st := scanPaths(t, testOptions(), dir)
	checkFound(t, c.Findings,
		wantFinding{Path: "bad\uFFFDname.env", Line: 1, Column: 3, Token: keyActive},
		wantFinding{Path: "d\uFFFD/a.env", Line: 1, Column: 3, Token: keyExpired},
		wantFinding{Path: "d\uFFFD/b.env", Line: 1, Column: 3, Token: keyForever},
	)
	checkWarnings(t, c.Warnings,
		wantWarning{"bad\uFFFDname.env", "not valid UTF-8"},
		wantWarning{"d\uFFFD", "not valid UTF-8"},
	)
	checkStats(t, st, c, 3, 0, 0)
}
