package scanner

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"runtime"
	"testing"
)

// A zip of more entries than the cap is read through a view whose central
// directory holds only the cap's: archive/zip parsed the whole directory
// first, about 300 bytes of memory an entry whatever the cap (a zip of a
// million empty entries, 84 MB, took 295 MB). Here 200,000 entries (a
// zip64 directory) with a cap of 1,000: the key in the first entries is
// found, the cap is named, and the scan allocates a small part of what
// the directory would take. Not parallel: it counts the process's
// allocations.
func TestZipDirectoryCut(t *testing.T) {
	const entries, limit = 200_000, 1_000
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	env := []byte("LOFTY_API_KEY=" + keyActive + "\n")
	for i := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprint(i), Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if i == 3 || i == limit-1 {
			w.Write(env)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := writeFixture(t, t.TempDir(), "many.zip", buf.Bytes())
	opts := testOptions()
	opts.Limits.Entries = limit
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	c, _ := scanPaths(t, opts, p)
	runtime.ReadMemStats(&after)
	checkFound(t, c.Findings,
		wantFinding{Path: "many.zip!3", Line: 1, Column: 15, Token: keyActive},
		wantFinding{Path: fmt.Sprintf("many.zip!%d", limit-1), Line: 1, Column: 15, Token: keyActive})
	checkWarnings(t, c.Warnings, wantWarning{"many.zip", fmt.Sprintf("more than %d entries", limit)})
	// The whole directory: 60 MB or more; the cut one well under 1 MB
	// of records, beside the fixture and the scan's own buffers.
	if got := after.TotalAlloc - before.TotalAlloc; got > 24<<20 {
		t.Errorf("scanning a zip of %d entries with a cap of %d allocated %d MB: the whole central directory was parsed", entries, limit, got>>20)
	}
}

// A directory at or under the cap, or one the end record does not lead
// to, is not cut; a self-extracting archive's is, its offsets kept.
func TestZipDirectoryNotCut(t *testing.T) {
	t.Parallel()
	z := zipBytes(t, entry{Name: "a", Data: []byte("x")}, entry{Name: "b", Data: []byte("y")})
	for _, max := range []int{2, 3, 100} {
		if _, _, cut := cutCentralDirectory(bytes.NewReader(z), int64(len(z)), max); cut {
			t.Errorf("2 entries, cap %d: cut", max)
		}
	}
	if _, _, cut := cutCentralDirectory(bytes.NewReader(z), int64(len(z)), 1); !cut {
		t.Error("2 entries, cap 1: not cut")
	}
	// A self-extracting archive: its offsets are off by the program
	// before it, as archive/zip works out; the cut view keeps them so.
	prefixed := append([]byte("#!/bin/sh\nexit 0\n"), z...)
	view, size, cut := cutCentralDirectory(bytes.NewReader(prefixed), int64(len(prefixed)), 1)
	if !cut {
		t.Fatal("a self-extracting archive's directory was not cut")
	}
	zr, err := zip.NewReader(view, size)
	if err != nil || len(zr.File) != 1 || zr.File[0].Name != "a" {
		t.Fatalf("the cut view: %v, %d files", err, len(zr.File))
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	if data, err := io.ReadAll(rc); err != nil || string(data) != "x" {
		t.Fatalf("entry a of the cut view: %q, %v", data, err)
	}
	for _, junk := range [][]byte{nil, []byte("PK\x05\x06"), bytes.Repeat([]byte("PK\x05\x06\x00"), 10), z[:len(z)-10]} {
		if _, _, cut := cutCentralDirectory(bytes.NewReader(junk), int64(len(junk)), 1); cut {
			t.Errorf("%q: cut", junk)
		}
	}
}
