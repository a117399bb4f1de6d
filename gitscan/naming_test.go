package gitscan

import (
	"bytes"
	"compress/gzip"
	"context"
	"os/exec"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/internal/testtool"
	"github.com/loftyscan/loftyscan/scanner"
)

// TestGitCompressedNames checks that a compressed file is named the same
// in a history as in a folder: "x.env.gz!x.env" when its header names
// nothing, its header's name otherwise.
func TestGitCompressedNames(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	compress := func(tool string, in []byte, args ...string) []byte {
		cmd := exec.Command(testtool.Need(t, tool), args...)
		cmd.Stdin = bytes.NewReader(in)
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", tool, err, stderr.String())
		}
		return out.Bytes()
	}
	want := map[string]string{} // path in the report → key
	add := func(name, inner string, data []byte, key string) {
		r.Write(name, string(data))
		want[name+"!"+inner] = key
	}
	env := func(name string) (string, []byte) {
		k := gitTestKey("names-" + name)
		return k, []byte("LOFTY_API_KEY=" + k + "\n")
	}
	k, b := env("gzip")
	add("conf/app.env.gz", "app.env", gzipOf(t, "", b), k)
	k, b = env("tgz-less")
	add("noext", "noext", gzipOf(t, "", b), k)
	k, b = env("bzip2")
	add("conf/app.env.bz2", "app.env", compress("bzip2", b, "-c"), k)
	k, b = env("xz")
	add("conf/app.env.xz", "app.env", compress("xz", b, "-c", "-T1"), k)
	k, b = env("zstd")
	add("conf/app.env.zst", "app.env", compress("zstd", b, "-q", "-c"), k)
	// A gzip header that names the file: the header's name, in both.
	k, b = env("named")
	add("conf/renamed.gz", "original.env", gzipOf(t, "original.env", b), k)
	r.Commit("compressed settings")

	got, c, _ := scanGit(t, repoOf(r), HistoryOptions{})
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %v", c.Warnings)
	}
	inGit := map[string]string{}
	for _, f := range got {
		inGit[f.Path] = f.Secret
	}
	col := &scanner.Collector{}
	if _, err := scanner.New(scanner.DefaultOptions()).ScanPaths(context.Background(), []string{r.Dir}, col); err != nil {
		t.Fatal(err)
	}
	inDir := map[string]string{}
	for _, f := range col.Findings {
		inDir[f.Path] = f.Secret
	}
	for p, key := range want {
		if inGit[p] != key {
			t.Errorf("history: no finding at %s (findings at %v)", p, pathsOf(inGit))
		}
		if inDir[p] != key {
			t.Errorf("folder: no finding at %s (findings at %v)", p, pathsOf(inDir))
		}
	}
	if len(inGit) != len(want) || len(inDir) != len(want) {
		t.Errorf("history %v, folder %v, want %d findings", pathsOf(inGit), pathsOf(inDir), len(want))
	}
	checkFastMatchesSlow(t, repoOf(r), HistoryOptions{}, 0)
}

// gzipOf compresses data with gzip, with name in the header ("" for none,
// as gzip -n writes).
func gzipOf(t *testing.T, name string, data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Name = name
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func pathsOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
