package gitscan

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
)

// TestFileReader reads settings files of commits as git stores them, and
// checks each against git cat-file.
func TestFileReader(t *testing.T) {
	t.Parallel()
	origin := testgit.New(t, filepath.Join(t.TempDir(), "origin.git"), "--bare")
	r := testgit.New(t, "")
	r.Write(".loftyscanignore", "v1\n")
	r.Write("ci/loftyscan.toml", "skip = []\n")
	r.Write("big", strings.Repeat("x", 100))
	first := r.Commit("first")
	r.Write(".loftyscanignore", "v2\n")
	if err := os.Symlink("big", filepath.Join(r.Dir, "link")); err != nil {
		t.Fatal(err)
	}
	second := r.Commit("second")
	r.Git("remote", "add", "origin", origin.Dir)
	r.Git("push", "-q", "origin", "main")

	f, err := repoOf(r).OpenFiles()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	if h, err := f.Resolve("HEAD~1"); err != nil || h != first {
		t.Errorf("Resolve(HEAD~1) = %s, %v; want %s", h, err, first)
	}
	if _, err := f.Resolve("nosuch"); !errors.Is(err, ErrUnknownRevision) {
		t.Errorf("Resolve(nosuch): %v", err)
	}
	if h, err := f.Head(); err != nil || h != second {
		t.Errorf("Head() = %s, %v", h, err)
	}
	for _, c := range []struct{ commit, path, want string }{
		{first, ".loftyscanignore", "v1\n"},
		{second, ".loftyscanignore", "v2\n"},
		{second, "ci/loftyscan.toml", "skip = []\n"},
	} {
		data, ok, err := f.ReadFile(c.commit, c.path, 1<<20)
		if err != nil || !ok || string(data) != c.want {
			t.Errorf("ReadFile(%s, %s) = %q, %v, %v; want %q", c.commit[:7], c.path, data, ok, err, c.want)
		}
		blob, ok, err := f.Blob(c.commit, c.path)
		if want := r.Git("rev-parse", c.commit+":"+c.path); err != nil || !ok || blob != want {
			t.Errorf("Blob(%s, %s) = %s, %v, %v; git says %s", c.commit[:7], c.path, blob, ok, err, want)
		}
	}
	// Absent: not an error. A folder or a symbolic link: ErrNotFile.
	if _, ok, err := f.ReadFile(first, "nothing/here", 10); ok || err != nil {
		t.Errorf("absent file: %v %v", ok, err)
	}
	for _, p := range []string{"ci", "link"} {
		if _, _, err := f.ReadFile(second, p, 1<<20); !errors.Is(err, ErrNotFile) {
			t.Errorf("%s: %v, want ErrNotFile", p, err)
		}
	}
	// Larger than the limit: an error, not a cut file.
	if _, _, err := f.ReadFile(first, "big", 99); !errors.Is(err, ErrFileTooBig) {
		t.Errorf("big: %v, want ErrFileTooBig", err)
	}
	if data, ok, err := f.ReadFile(first, "big", 100); err != nil || !ok || len(data) != 100 {
		t.Errorf("big at its size: %d bytes, %v, %v", len(data), ok, err)
	}
	// No origin/HEAD until git says which branch it is.
	if _, _, ok := f.RemoteDefault(); ok {
		t.Error("RemoteDefault without refs/remotes/origin/HEAD")
	}

	r.Git("fetch", "-q", "origin")
	r.Git("remote", "set-head", "origin", "main")
	g, err := repoOf(r).OpenFiles()
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if h, name, ok := g.RemoteDefault(); !ok || h != second || name != "origin/HEAD" {
		t.Errorf("RemoteDefault() = %s %s %v", h, name, ok)
	}
}

// TestStagedBlob reads the index's entry for a path, as git ls-files -s
// shows it, in the repository's index and in the one GIT_INDEX_FILE names.
func TestStagedBlob(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	r.Write(".loftyscanignore", "committed\n")
	r.Commit("first")
	r.Write(".loftyscanignore", "staged\n")
	r.Git("add", ".loftyscanignore")
	repo := repoOf(r)
	want := strings.Fields(r.Git("ls-files", "-s", ".loftyscanignore"))[1]
	if blob, ok, err := StagedBlob(repo, "", ".loftyscanignore"); err != nil || !ok || blob != want {
		t.Errorf("StagedBlob = %s, %v, %v; want %s", blob, ok, err, want)
	}
	if _, ok, err := StagedBlob(repo, "", "absent"); ok || err != nil {
		t.Errorf("absent: %v %v", ok, err)
	}
	// Another index, relative to the work tree as git gives it to hooks.
	r.GitEnv([]string{"GIT_INDEX_FILE=" + filepath.Join(r.Dir, ".git", "other-index")}, "read-tree", "HEAD")
	committed := r.Git("rev-parse", "HEAD:.loftyscanignore")
	if blob, ok, err := StagedBlob(repo, ".git/other-index", ".loftyscanignore"); err != nil || !ok || blob != committed {
		t.Errorf("StagedBlob(other index) = %s, %v, %v; want %s", blob, ok, err, committed)
	}
}
