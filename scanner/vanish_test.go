package scanner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileVanishesDuringWalk removes a file after the walk listed it and
// before a worker opens it: one warning, counted, and the other files'
// findings are kept.
func TestFileVanishesDuringWalk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"a.env", "b.env", "c.env"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("LOFTY_API_KEY="+keyActive+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	opts := testOptions()
	opts.Workers = 1
	opts.Skip = func(rel string, isDir bool) bool {
		if rel == "a.env" {
			os.Remove(filepath.Join(dir, "b.env")) // listed already, gone before it is read
		}
		return false
	}
	c := &Collector{}
	st, err := New(opts).ScanPaths(context.Background(), []string{dir}, c)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range c.Sorted() {
		paths = append(paths, f.Path)
	}
	if strings.Join(paths, ",") != "a.env,c.env" {
		t.Errorf("findings in %v, want a.env and c.env", paths)
	}
	if st.Errors != 1 || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].String(), "b.env: cannot open") {
		t.Errorf("errors %d, warnings %v; want one 'cannot open' for b.env", st.Errors, c.Warnings)
	}
}

// TestNewlineInFileName: a file name with a newline is scanned and reported
// with the name as it is; reporters escape it.
func TestNewlineInFileName(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := "two\nlines.env"
	if err := os.WriteFile(filepath.Join(dir, name), []byte("LOFTY_API_KEY="+keyActive+"\n"), 0o644); err != nil {
		t.Skipf("this file system refuses newlines in names: %v", err)
	}
	c := &Collector{}
	if _, err := New(testOptions()).ScanPaths(context.Background(), []string{dir}, c); err != nil {
		t.Fatal(err)
	}
	if len(c.Findings) != 1 || c.Findings[0].Path != name {
		t.Errorf("findings %+v, want one at %q", c.Findings, name)
	}
}
