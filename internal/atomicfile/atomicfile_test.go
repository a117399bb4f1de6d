//go:build unix

package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// onlyEntries fails unless dir holds exactly the names given: no temporary
// file is left behind.
func onlyEntries(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if len(got) != len(names) {
		t.Fatalf("%s holds %q, want %q", dir, got, names)
	}
	for i := range names {
		if got[i] != names[i] {
			t.Fatalf("%s holds %q, want %q", dir, got, names)
		}
	}
}

func write(t *testing.T, dest, content string) error {
	t.Helper()
	f, err := Create(dest)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(f, content); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

func TestNewFileAppearsOnlyOnCommit(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "report.json")
	f, err := Create(dest)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(f.TempName()) != dir {
		t.Errorf("temporary file %s is not in the destination's folder", f.TempName())
	}
	if _, err := io.WriteString(f, "{}"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(dest); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the destination exists before Commit: %v", err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, dest); got != "{}" {
		t.Errorf("content %q", got)
	}
	onlyEntries(t, dir, "report.json")
	mask := syscall.Umask(0)
	syscall.Umask(mask)
	fi, _ := os.Stat(dest)
	if want := fs.FileMode(0o666 &^ mask); fi.Mode().Perm() != want {
		t.Errorf("mode %v, want %v as os.Create gives", fi.Mode().Perm(), want)
	}
}

func TestExistingFileKeepsItsMode(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "report.json")
	if err := os.WriteFile(dest, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dest, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := write(t, dest, "new"); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(dest)
	if fi.Mode().Perm() != 0o600 || readFile(t, dest) != "new" {
		t.Errorf("mode %v content %q, want 0600 and new", fi.Mode().Perm(), readFile(t, dest))
	}
}

// CreateMode gives a new file its mode whatever the umask, and a replaced
// file keeps its own less what the mode denies to group and others: a
// file for its owner only never stays readable by others.
func TestCreateMode(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name       string
		old        fs.FileMode // 0: no file there
		perm, want fs.FileMode
	}{
		{"new, wider than the umask gives", 0, 0o666, 0o666},
		{"new, owner only", 0, 0o600, 0o600},
		{"world-readable replaced by an owner-only file", 0o644, 0o600, 0o600},
		{"group-only kept", 0o640, 0o644, 0o640},
		{"owner bits kept", 0o700, 0o600, 0o700},
		{"no bits at all kept", 0o000, 0o644, 0o000},
	} {
		dest := filepath.Join(dir, strconv.Quote(tc.name))
		if tc.old != 0 || strings.HasPrefix(tc.name, "no bits") {
			if err := os.WriteFile(dest, []byte("old"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dest, tc.old); err != nil {
				t.Fatal(err)
			}
		}
		f, err := CreateMode(dest, tc.perm)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if _, err := io.WriteString(f, "new"); err != nil {
			t.Fatal(err)
		}
		if err := f.Commit(); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(dest)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != tc.want {
			t.Errorf("%s: mode %v, want %v", tc.name, fi.Mode().Perm(), tc.want)
		}
	}
}

// A link planted where the report goes is replaced; its target, outside
// the folder, is not written.
func TestSymlinkIsReplacedNotFollowed(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "bashrc")
	if err := os.WriteFile(outside, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "created-through-link")
	for _, target := range []string{outside, missing} {
		dir := t.TempDir()
		dest := filepath.Join(dir, "loftyscan.sarif")
		if err := os.Symlink(target, dest); err != nil {
			t.Fatal(err)
		}
		if err := write(t, dest, "report"); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(dest)
		if err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("destination is %v (%v), want a regular file in place of the link", fi.Mode(), err)
		}
		if readFile(t, dest) != "report" {
			t.Errorf("destination holds %q", readFile(t, dest))
		}
		onlyEntries(t, dir, "loftyscan.sarif")
	}
	if got := readFile(t, outside); got != "precious" {
		t.Errorf("the link's target was written: %q", got)
	}
	if _, err := os.Lstat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a dangling link's target was created: %v", err)
	}
}

func TestWriteErrorLeavesDestinationAsItWas(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "report.json")
	if err := os.WriteFile(dest, []byte("previous report"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Create(dest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(f, "half a rep"); err != nil {
		t.Fatal(err)
	}
	f.f.Close() // the next write fails, as on a full disk
	if _, err := io.WriteString(f, "ort"); err == nil {
		t.Fatal("a write to a closed file succeeded")
	}
	if err := f.Commit(); err == nil {
		t.Fatal("Commit after a failed write succeeded")
	}
	if got := readFile(t, dest); got != "previous report" {
		t.Errorf("destination %q, want the previous report", got)
	}
	onlyEntries(t, dir, "report.json")
}

func TestAbortLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	f, err := Create(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(f, "partial")
	f.Abort()
	f.Abort()
	onlyEntries(t, dir)
	if err := f.Commit(); err == nil {
		t.Error("Commit after Abort succeeded")
	}
}

func TestRefusesFolders(t *testing.T) {
	dir := t.TempDir()
	for _, dest := range []string{dir, dir + string(filepath.Separator)} {
		if err := write(t, dest, "x"); err == nil {
			t.Errorf("%s: a folder was accepted as a report file", dest)
		}
	}
	if err := write(t, filepath.Join(dir, "no", "such", "folder", "r.json"), "x"); err == nil {
		t.Error("a report in a missing folder was accepted")
	}
}

func TestWriteFileSetsMode(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "pre-commit")
	if err := WriteFile(dest, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(dest)
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("mode %v, want 0755", fi.Mode().Perm())
	}
	onlyEntries(t, dir, "pre-commit")
}

// Devices and pipes are written directly: /dev/full reports its error,
// a named pipe and the system's /dev/fd links reach their reader.
func TestDirectDestinations(t *testing.T) {
	err := write(t, "/dev/full", "report")
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("/dev/full: %v, want no space left on device", err)
	}
	if err := write(t, "/dev/null", "report"); err != nil {
		t.Errorf("/dev/null: %v", err)
	}

	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- string(b)
	}()
	if err := write(t, fifo, "through the pipe"); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "through the pipe" {
		t.Errorf("the pipe's reader got %q", s)
	}

	if runtime.GOOS != "linux" {
		return
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	link := "/dev/fd/" + strconv.Itoa(int(w.Fd()))
	if err := write(t, link, "via /dev/fd"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	b, _ := io.ReadAll(r)
	if string(b) != "via /dev/fd" {
		t.Errorf("%s: the pipe got %q", link, b)
	}
}

// Errors name the destination, not the temporary file.
func TestErrorsNameTheDestination(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "report.json")
	f, err := Create(dest)
	if err != nil {
		t.Fatal(err)
	}
	f.f.Close()
	_, err = io.WriteString(f, "x")
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != dest {
		t.Errorf("error %v, want one about %s", err, dest)
	}
	f.Abort()
}
