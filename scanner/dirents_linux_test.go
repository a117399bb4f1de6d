package scanner

import (
	"encoding/binary"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// dirent is one getdents64 record: inode, offset, length, type, name and
// its NUL, padded to 8 bytes as the kernel pads them.
func dirent(ino uint64, typ uint8, name string) []byte {
	n := (19 + len(name) + 1 + 7) &^ 7
	rec := make([]byte, n)
	binary.NativeEndian.PutUint64(rec, ino)
	binary.NativeEndian.PutUint16(rec[16:], uint16(n))
	rec[18] = typ
	copy(rec[19:], name)
	return rec
}

// TestReadEntries checks the getdents64 listing against os.ReadDir on a
// folder of every type, and the parser on records the kernel gives on
// some file systems only: types unknown (looked up), deleted names, a
// damaged length.
func TestReadEntries(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFixture(t, dir, "file", []byte("x"))
	writeFixture(t, dir, "sub/x", nil)
	must(t, syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644))
	must(t, os.Symlink("file", filepath.Join(dir, "link")))
	for i := range 3000 { // more than one getdents64 call's worth
		writeFixture(t, dir, "many/"+strings.Repeat("n", i%200)+strconv.Itoa(i), nil)
	}
	for _, folder := range []string{dir, filepath.Join(dir, "many")} {
		d, err := openDir(folder, false)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readEntries(d, make([]byte, 4096))
		d.release()
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadDir(folder)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(got, func(a, b dirEntry) int { return strings.Compare(a.name, b.name) })
		if len(got) != len(want) {
			t.Fatalf("%s: %d entries, os.ReadDir %d", folder, len(got), len(want))
		}
		for i, w := range want {
			if got[i].name != w.Name() || got[i].typ != w.Type() {
				t.Errorf("entry %d: %q %v, os.ReadDir %q %v", i, got[i].name, got[i].typ, w.Name(), w.Type())
			}
		}
	}

	d, err := openDir(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.release()
	var b []byte
	b = append(b, dirent(1, syscall.DT_DIR, ".")...)
	b = append(b, dirent(1, syscall.DT_DIR, "..")...)
	b = append(b, dirent(7, syscall.DT_UNKNOWN, "sub")...)
	b = append(b, dirent(0, syscall.DT_REG, "deleted")...)
	b = append(b, dirent(8, syscall.DT_UNKNOWN, "pipe")...)
	b = append(b, dirent(9, syscall.DT_UNKNOWN, "gone")...) // no such name: left out
	b = append(b, dirent(10, syscall.DT_REG, "file")...)
	bad := dirent(11, syscall.DT_REG, "cut")
	binary.NativeEndian.PutUint16(bad[16:], 4000)
	b = append(b, bad...)
	got := parseDirents(d.fd, b, nil)
	want := []dirEntry{{"sub", fs.ModeDir}, {"pipe", fs.ModeNamedPipe}, {"file", 0}}
	if !slices.Equal(got, want) {
		t.Errorf("parsed %v, want %v", got, want)
	}
}
