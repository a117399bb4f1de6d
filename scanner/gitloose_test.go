package scanner

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestGitLooseObjects: a copied .git folder (backup.git, and the same in
// a tar, as a Docker layer holds it) whose loose objects hold a key in a
// file a later commit removed, in a commit message and in a tag message,
// made by real git. Each is found at its object's path. Content that only
// starts like a zlib stream, a zlib stream that is no object, and objects
// with crafted headers are scanned as plain bytes; a loose object that
// inflates to 64 MiB is cut by the ratio cap with a warning.
func TestGitLooseObjects(t *testing.T) {
	t.Parallel()
	git, tar := tool(t, "git"), tool(t, "tar")
	dir := t.TempDir()
	repo := filepath.Join(dir, "work")
	run := func(d string, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = d
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir, "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@b", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@b")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run(dir, git, "init", "-q", repo)
	writeFixture(t, repo, ".env", []byte("LOFTY_API_KEY="+keyActive+"\n"))
	run(repo, git, "add", ".env")
	run(repo, git, "commit", "-q", "-m", "configure")
	run(repo, git, "rm", "-q", ".env")
	run(repo, git, "commit", "-q", "-m", "remove it\n\nit was LOFTY_API_KEY="+keyExpired)
	run(repo, git, "tag", "-a", "-m", "release, key "+keyForever, "v1")
	blob := run(repo, git, "rev-parse", "HEAD~1:.env")
	commit := run(repo, git, "rev-parse", "HEAD")
	tag := run(repo, git, "rev-parse", "v1")
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	run(dir, "cp", "-r", filepath.Join(repo, ".git"), filepath.Join(out, "backup.git"))
	run(out, tar, "cf", "layer.tar", "backup.git")

	// Not objects: text that starts as a zlib header does, a zlib stream
	// of text with a key (no object header: not opened, as before), and
	// headers git does not write.
	zl := func(data string) []byte {
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		w.Write([]byte(data))
		w.Close()
		return b.Bytes()
	}
	writeFixture(t, out, "caret.txt", []byte("x^2 + y^2\nLOFTY_API_KEY="+keyActive+"\n"))
	writeFixture(t, out, "plain.zlib", zl("LOFTY_API_KEY="+keyActive+"\n"))
	for i, hdr := range []string{"blob \x00", "blob 12", "blob -1\x00", "bl0b 1\x00", "commit 99999999999999999999999999\x00"} {
		writeFixture(t, out, fmt.Sprintf("crafted/%d", i), zl(hdr+"LOFTY_API_KEY="+keyActive+"\n"))
	}
	// 64 MiB of zeros after a key, as a loose blob: past the ratio cap.
	bomb := zl("blob 67108878\x00LOFTY_API_KEY=" + keyActive + "\n" + strings.Repeat("\x00", 64<<20))
	writeFixture(t, out, "bomb/ab/cdef", bomb)

	c, _ := scanPaths(t, testOptions(), out)
	var got []string
	for _, f := range c.Findings {
		got = append(got, fmt.Sprintf("%s:%d:%d", strings.TrimPrefix(f.Path, filepath.ToSlash(out)+"/"), f.Line, f.Column))
	}
	sort.Strings(got)
	obj := func(h string) string { return "backup.git/objects/" + h[:2] + "/" + h[2:] + "!" + h[2:] }
	want := []string{
		"bomb/ab/cdef!cdef:1:15",
		"caret.txt:2:15",
		"backup.git/COMMIT_EDITMSG:3:22", // the last message, as git keeps it
		obj(blob) + ":1:15",
		obj(commit) + ":8:22", // tree, parent, author, committer, a blank line, the message
		obj(tag) + ":6:14",
		"layer.tar!backup.git/COMMIT_EDITMSG:3:22",
		"layer.tar!" + obj(blob) + ":1:15",
		"layer.tar!" + obj(commit) + ":8:22",
		"layer.tar!" + obj(tag) + ":6:14",
	}
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("found:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var cut bool
	for _, w := range c.Warnings {
		cut = cut || strings.HasPrefix(w.Path, "bomb/ab/cdef!cdef") && strings.Contains(w.Message, "compression ratio")
	}
	if !cut {
		t.Errorf("no warning for the bomb: %v", c.Warnings)
	}
}
