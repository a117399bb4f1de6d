package gitscan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/internal/testtool"
	"github.com/loftyscan/loftyscan/scanner"
)

// A file Git LFS tracks is a pointer in git and its contents in
// .git/lfs/objects: a key in the contents is reported at the pointer's
// commit and path, in history and when staged (the pre-commit hook's
// scan); contents the clone does not have are named in one warning.
func TestGitLFSContentsAreScanned(t *testing.T) {
	testtool.Need(t, "git-lfs")
	r := testgit.New(t, "")
	r.Git("lfs", "install", "--local")
	r.Write(".gitattributes", "*.db filter=lfs diff=lfs merge=lfs -text\n")
	r.Write("README.md", "# app\n")
	r.Commit("first")
	committed := gitTestKey("lfs-committed")
	r.Write("data/app.db", "SQLite format 3\x00settings\x00lofty_token\x00"+committed+"\x00")
	commit := r.Commit("add the database")
	if got := r.Git("cat-file", "-p", "HEAD:data/app.db"); !strings.HasPrefix(got, "version https://git-lfs.github.com/spec/v1") {
		t.Fatalf("git-lfs did not store a pointer: %q", got)
	}
	repo := repoOf(r)
	found, c, _ := scanGit(t, repo, HistoryOptions{})
	checkGitFindings(t, found, gitWant{key: committed, path: "data/app.db", commit: commit, inHead: true})
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %v", c.Warnings)
	}

	staged := gitTestKey("lfs-staged")
	r.Write("data/new.db", "lofty_token="+staged+"\n")
	r.Git("add", "data/new.db")
	sc := &scanner.Collector{}
	if _, err := ScanStaged(context.Background(), scanner.New(scanner.DefaultOptions()), repo, "", sc); err != nil {
		t.Fatal(err)
	}
	if got := sc.Sorted(); len(got) != 1 || got[0].Secret != staged || got[0].Path != "data/new.db" {
		t.Errorf("the staged LFS file: %d findings %v", len(got), got)
	}
	r.Git("reset", "-q")

	// A clone that lacks the contents (git lfs fetches only some
	// versions): one warning, naming the file and what to run, counted as
	// an error (what --fail-on-error and a gate's errors count look at):
	// it was a bare warning, so a key a change routed through Git LFS
	// passed a scan that fails on what it could not read.
	if err := os.RemoveAll(filepath.Join(r.Dir, ".git", "lfs", "objects")); err != nil {
		t.Fatal(err)
	}
	found, c, st := scanGit(t, repo, HistoryOptions{})
	if len(found) != 0 || len(c.Warnings) != 1 || c.Warnings[0].Path != "data/app.db" || !strings.Contains(c.Warnings[0].Message, "git lfs fetch --all") {
		t.Errorf("without the contents: %d findings, warnings %v", len(found), c.Warnings)
	}
	if st.Errors != 1 {
		t.Errorf("without the contents: %d errors, want 1", st.Errors)
	}
}

// TestLFSPointer checks which blobs name an LFS file: only 64 lower-case
// hex digits after "oid sha256:" in a pointer (either first line git-lfs
// reads) of at most lfsPointerMax bytes, since the name becomes a path.
func TestLFSPointer(t *testing.T) {
	t.Parallel()
	const v = "version https://git-lfs.github.com/spec/v1\n"
	hex := strings.Repeat("ab", 32)
	for _, tt := range []struct {
		blob string
		want string
	}{
		{v + "oid sha256:" + hex + "\nsize 12\n", hex},
		{"version https://hawser.github.com/spec/v1\noid sha256:" + hex + "\nsize 12\n", hex},
		{v + "ext-0-foo sha256:" + strings.Repeat("cd", 32) + "\noid sha256:" + hex + "\nsize 12\n", hex},
		{v + "oid sha256:" + strings.ToUpper(hex) + "\nsize 12\n", ""},
		{v + "oid sha256:../../../../etc/passwd\nsize 12\n", ""},
		{v + "oid sha256:" + hex[:62] + "/x\nsize 12\n", ""},
		{v + "oid sha256:" + hex + "0\nsize 12\n", ""},
		{v + "oid md5:" + hex[:32] + "\nsize 12\n", ""},
		{"oid sha256:" + hex + "\n", ""},
		{v + "oid sha256:" + hex + "\nsize 12\n" + strings.Repeat("x", lfsPointerMax), ""},
	} {
		if got, _ := LFSPointer([]byte(tt.blob)); got != tt.want {
			t.Errorf("%q: oid %q, want %q", tt.blob, got, tt.want)
		}
	}
}

// TestLFSObjectsThatAreLinks: the LFS store is the scanned repository's,
// so an object there that is a link (to /proc/self/pagemap, which reads as
// a regular file of endless zeros, or to a file of the person scanning
// outside the repository) is not followed: one failure naming the
// pointer's file, no finding from outside, and the scan ends. Pointers
// written by hand: git-lfs is not needed.
func TestLFSObjectsThatAreLinks(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "mine.env")
	if err := os.WriteFile(outside, []byte("LOFTY_API_KEY="+gitTestKey("lfs-outside")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/proc/self/pagemap", outside} {
		r := testgit.New(t, "")
		oid := strings.Repeat("ec", 32)
		r.Write("data.bin", "version https://git-lfs.github.com/spec/v1\noid sha256:"+oid+"\nsize 12\n")
		r.Commit("a pointer")
		obj := LFSObjectPath(filepath.Join(r.Dir, ".git"), oid)
		if err := os.MkdirAll(filepath.Dir(obj), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, obj); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		var found []finding.Finding
		var c *scanner.Collector
		go func() {
			defer close(done)
			found, c, _ = scanGit(t, repoOf(r), HistoryOptions{})
		}()
		select {
		case <-done:
		case <-time.After(time.Minute): // a hang, not a speed check
			t.Fatalf("%s: the scan of a repository whose LFS object links there did not end", target)
		}
		if len(found) != 0 || len(c.Warnings) != 1 || c.Warnings[0].Path != "data.bin" || !strings.Contains(c.Warnings[0].Message, "not a regular file") {
			t.Errorf("%s: %d findings %v, warnings %v", target, len(found), found, c.Warnings)
		}
	}
}
