package scanner

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// namePlace is where a test expects a key in a name: the finding's path
// and column, and the key it is.
type namePlace struct {
	path   string
	column int
	key    string
}

// namePlaces lists the findings at location InPath, sorted, and fails on
// any finding elsewhere the test did not expect.
func namePlaces(t *testing.T, c *Collector, inFiles int) []namePlace {
	t.Helper()
	var got []namePlace
	files := 0
	for _, f := range c.Findings {
		switch f.Location {
		case finding.InPath:
			if f.Line != 1 {
				t.Errorf("%s: line %d, want 1", f.Path, f.Line)
			}
			got = append(got, namePlace{f.Path, f.Column, f.Secret})
		case finding.InFile:
			files++
		default:
			t.Errorf("%s: location %q", f.Path, f.Location)
		}
	}
	if files != inFiles {
		t.Errorf("%d findings in files, want %d", files, inFiles)
	}
	slices.SortFunc(got, func(a, b namePlace) int { return strings.Compare(a.path, b.path) })
	return got
}

// shortKey is a synthetic key short enough to be a file's name (at most
// 255 bytes on Linux), with some room for a prefix.
func shortKey(t *testing.T, sub string) string {
	t.Helper()
	k := testtoken.Short(sub)
	if len(k) > 200 {
		t.Fatalf("test key of %d bytes: too long for a file name", len(k))
	}
	return k
}

func writeFile(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestKeysInNames: a folder scan finds keys in the names of files,
// folders and links, once each (a folder's key is not reported again for
// every file below it), and in the names of zip, tar and gzip entries; a
// skipped path's name is not searched; keys in contents are still found
// beside them.
func TestKeysInNames(t *testing.T) {
	k1, k2, k3, k4, k5 := shortKey(t, "n1"), shortKey(t, "n2"), shortKey(t, "n3"), shortKey(t, "n4"), shortKey(t, "n5")
	k6, k7 := shortKey(t, "n6"), shortKey(t, "n7")
	generic := testtoken.Generic("anon")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "conf", k1+".env"), nil)
	writeFile(t, filepath.Join(dir, "cache-"+k2, "a.txt"), []byte("nothing"))
	writeFile(t, filepath.Join(dir, "cache-"+k2, "b.txt"), []byte("token: "+k3+"\n"))
	writeFile(t, filepath.Join(dir, "skipped", k4), nil)
	writeFile(t, filepath.Join(dir, "jwts", generic), nil) // not a Lofty key, no Lofty context
	if err := os.Symlink("conf", filepath.Join(dir, "link-"+k5)); err != nil {
		t.Fatal(err)
	}

	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for _, name := range []string{"a/" + k6 + "/one.txt", "a/" + k6 + "/two.txt", "b/" + k7 + ".json"} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("{}"))
	}
	zw.Close()
	writeFile(t, filepath.Join(dir, "arc.zip"), zbuf.Bytes())

	k8, k9 := shortKey(t, "n8"), shortKey(t, "n9")
	var tbuf bytes.Buffer
	gz := gzip.NewWriter(&tbuf)
	tw := tar.NewWriter(gz)
	tw.WriteHeader(&tar.Header{Name: "./keys/" + k8 + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Unix(0, 0)})
	tw.WriteHeader(&tar.Header{Name: "./keys/" + k8 + "/x", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1, ModTime: time.Unix(0, 0)})
	tw.Write([]byte("x"))
	tw.WriteHeader(&tar.Header{Name: "l", Linkname: "target", Typeflag: tar.TypeSymlink, ModTime: time.Unix(0, 0)})
	tw.Close()
	gz.Close()
	writeFile(t, filepath.Join(dir, "arc.tgz"), tbuf.Bytes())

	var gbuf bytes.Buffer
	gw := gzip.NewWriter(&gbuf)
	gw.Name = "saved-" + k9
	gw.Write([]byte("plain"))
	gw.Close()
	writeFile(t, filepath.Join(dir, "one.gz"), gbuf.Bytes())

	opts := testOptions()
	opts.Skip = func(rel string, isDir bool) bool { return rel == "skipped" }
	c, _ := scanPaths(t, opts, dir)
	got := namePlaces(t, c, 1)
	want := []namePlace{
		{"arc.tgz!keys/" + k8, 1, k8},
		{"arc.zip!a/" + k6, 1, k6},
		{"arc.zip!b/" + k7 + ".json", 1, k7},
		{"cache-" + k2, 7, k2},
		{"conf/" + k1 + ".env", 1, k1},
		{"link-" + k5, 6, k5},
		{"one.gz!saved-" + k9, 7, k9},
	}
	if !slices.Equal(got, want) {
		t.Errorf("keys in names:\n got %v\nwant %v", got, want)
	}
	for _, f := range c.Findings {
		if f.Location == finding.InFile && f.Secret != k3 {
			t.Errorf("finding in file %s: %s", f.Path, f.Secret)
		}
	}
}

// TestKeysInStreamNames: a stream (standard input) that is an archive has
// its entries' names searched too.
func TestKeysInStreamNames(t *testing.T) {
	k := shortKey(t, "s1")
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("dump/" + k + ".txt")
	w.Write([]byte("no key here"))
	zw.Close()
	c, _ := scanData(t, testOptions(), zbuf.Bytes())
	got := namePlaces(t, c, 0)
	want := []namePlace{{"in!dump/" + k + ".txt", 1, k}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestNamesWithoutKeys: ordinary names, and names that look like the start
// of a token, give nothing, and a name's search does not disturb the
// scan of the archive it is in (its entries' keys keep their places).
func TestNamesWithoutKeys(t *testing.T) {
	k := shortKey(t, "c1")
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for _, name := range []string{"eyJ", "eyJhbGciOiJIUzI1NiJ9.x", "src/main.go", "README"} {
		w, _ := zw.Create(name)
		w.Write([]byte("k=" + k + "\n"))
	}
	zw.Close()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.zip"), zbuf.Bytes())
	writeFile(t, filepath.Join(dir, "eyJhbGciOiJIUzI1NiJ9"), nil)
	c, _ := scanPaths(t, testOptions(), dir)
	namePlaces(t, c, 4)
	for _, f := range c.Findings {
		if f.Line != 1 || f.Column != 3 {
			t.Errorf("%s: %d:%d, want 1:3", f.Path, f.Line, f.Column)
		}
	}
}

// TestHostileEntryNames: an archive of long paths of base64-looking parts
// (each may hold a key, so each is looked at) costs in proportion to its
// size, not to the square of a path's length; a folder's key below many
// entries is reported once; a key in a PAX path of half a megabyte, longer
// than any path a system takes, is found in it, searched whole.
func TestHostileEntryNames(t *testing.T) {
	k1, k2 := shortKey(t, "deep"), shortKey(t, "pax")
	part := strings.Repeat("QUJD", 12) // 48 base64 characters
	var tbuf bytes.Buffer
	tw := tar.NewWriter(&tbuf)
	add := func(name string, format tar.Format) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, ModTime: time.Unix(0, 0), Format: format}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2000 {
		parts := []string{"top", k1}
		for j := range 20 {
			parts = append(parts, fmt.Sprintf("%s%d-%d", part, i, j))
		}
		add(strings.Join(parts, "/"), tar.FormatPAX)
	}
	add(strings.Repeat("x/", 1<<18)+"saved-"+k2, tar.FormatPAX)
	tw.Close()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "names.tar"), tbuf.Bytes())

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	c, _ := scanPaths(t, testOptions(), dir)
	runtime.ReadMemStats(&after)
	got := namePlaces(t, c, 0)
	if len(got) != 2 || got[0] != (namePlace{"names.tar!top/" + k1, 1, k1}) || got[1].key != k2 {
		t.Errorf("got %d findings; want the deep folder's key once and the PAX path's", len(got))
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 40*uint64(tbuf.Len()) {
		t.Errorf("a %d-byte archive of long names allocated %d bytes", tbuf.Len(), alloc)
	}
}

// TestPathParts: each folder, then the path itself, with its own name.
func TestPathParts(t *testing.T) {
	for p, want := range map[string][]string{
		"a":      {"a a"},
		"a/b/cd": {"a a", "a/b b", "a/b/cd cd"},
		"a//b":   {"a a", "a/ ", "a//b b"},
	} {
		var got []string
		for prefix, name := range PathParts(p) {
			got = append(got, prefix+" "+name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("PathParts(%q) = %q, want %q", p, got, want)
		}
	}
}
