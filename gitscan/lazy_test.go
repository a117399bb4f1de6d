package gitscan

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// A scan of every ref sweeps the packs first and walks the history only
// when it must (scanEverything). These tests take each way through it and
// compare with go-git reading blob by blob.

// quietHistory commits n versions of a few files, with no key.
func quietHistory(r *gitTestRepo, n int, tag string) {
	for i := range n {
		r.write("src/main.go", string(lines("package main // "+tag, 40+i)))
		r.write("docs/notes.md", string(lines("note "+tag, 30+2*i)))
		r.commit(tag + " commit")
	}
}

func TestGitLazy(t *testing.T) {
	t.Parallel()
	t.Run("no keys", func(t *testing.T) {
		t.Parallel()
		r := newGitTestRepo(t)
		quietHistory(r, 10, "packed")
		r.git("repack", "-a", "-d", "-q")
		quietHistory(r, 3, "loose")
		got, c, st := scanGit(t, r.repository(), GitOptions{})
		if len(got) != 0 || len(c.Warnings) != 0 || st.Files == 0 {
			t.Errorf("findings %v, warnings %v, stats %+v", got, c.Warnings, st)
		}
		checkFastMatchesSlow(t, r.repository(), GitOptions{})
	})
	t.Run("key in a loose blob", func(t *testing.T) {
		t.Parallel()
		r := newGitTestRepo(t)
		quietHistory(r, 10, "packed")
		r.git("repack", "-a", "-d", "-q")
		k := gitTestKey("lazy-loose")
		r.write("late.env", "LOFTY_API_KEY="+k+"\n")
		c := r.commit("late key")
		quietHistory(r, 2, "after")
		got, _, _ := scanGit(t, r.repository(), GitOptions{})
		checkGitFindings(t, got, gitWant{key: k, path: "late.env", commit: c, inHead: true})
		checkFastMatchesSlow(t, r.repository(), GitOptions{})
	})
	t.Run("key only in garbage", func(t *testing.T) {
		t.Parallel()
		r := newGitTestRepo(t)
		quietHistory(r, 5, "kept")
		r.write("oops.env", "LOFTY_API_KEY="+gitTestKey("lazy-garbage")+"\n")
		r.commit("oops")
		r.git("reset", "-q", "--hard", "HEAD~1")
		r.git("repack", "-a", "-d", "-q") // keeps what the reflog reaches
		got, c, _ := scanGit(t, r.repository(), GitOptions{})
		if len(got) != 0 || len(c.Warnings) != 0 {
			t.Errorf("a key no ref reaches: findings %v, warnings %v", got, c.Warnings)
		}
	})
	t.Run("shallow", func(t *testing.T) {
		t.Parallel()
		up := newGitTestRepo(t)
		quietHistory(up, 5, "up")
		dir := filepath.Join(t.TempDir(), "shallow")
		up.runIn(filepath.Dir(dir), "clone", "-q", "--depth", "1", "file://"+up.dir, dir)
		_, c, _ := scanGit(t, up.repositoryAt(dir), GitOptions{})
		if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].Message, "shallow clone") {
			t.Errorf("want one shallow warning, got %v", c.Warnings)
		}
	})
	t.Run("damaged blob", func(t *testing.T) {
		t.Parallel()
		r := newGitTestRepo(t)
		quietHistory(r, 5, "fine")
		r.git("repack", "-a", "-d", "-q")
		// A pack with a blob that does not inflate, in a commit's tree.
		bad := plumbing.NewHash("badbadbadbadbadbadbadbadbadbadbadbadbad0")
		tree := append([]byte("100644 broken.txt\x00"), bad[:]...)
		when := fmt.Sprintf("%d +0000", r.now().Unix())
		commit := []byte("tree " + objName(plumbing.TreeObject, tree).String() + "\nparent " + r.git("rev-parse", "HEAD") +
			"\nauthor Ada Author <ada@example.com> " + when + "\ncommitter Cy Committer <cy@example.com> " + when + "\n\nbroken\n")
		names := writeTestPack(t, filepath.Join(r.dir, ".git", "objects"), []testObj{
			{typ: plumbing.BlobObject, raw: []byte("not zlib at all"), size: 10, name: bad},
			{typ: plumbing.TreeObject, data: tree},
			{typ: plumbing.CommitObject, data: commit},
		})
		r.git("update-ref", "refs/heads/main", names[2].String())
		_, c, st := scanGit(t, r.repository(), GitOptions{})
		if len(c.Warnings) != 1 || c.Warnings[0].Path != "broken.txt" || !strings.Contains(c.Warnings[0].Message, "missing or corrupt") || st.Errors != 1 {
			t.Errorf("want one warning about broken.txt, got %v (%+v)", c.Warnings, st)
		}
	})
}

// TestGitLazyBigBlobs lowers the size the sweep holds in memory, so that
// the blobs it leaves are read after it, one by one.
func TestGitLazyBigBlobs(t *testing.T) {
	// Not parallel: the limit is global. Other tests see it lowered for a
	// while, which changes how they read, never what they find.
	old := sweepMaxObject.Load()
	sweepMaxObject.Store(200)
	defer sweepMaxObject.Store(old)
	r := newGitTestRepo(t)
	quietHistory(r, 8, "big")
	r.git("repack", "-a", "-d", "-q")
	got, c, st := scanGit(t, r.repository(), GitOptions{})
	if len(got) != 0 || len(c.Warnings) != 0 {
		t.Errorf("findings %v, warnings %v", got, c.Warnings)
	}
	checkFastMatchesSlow(t, r.repository(), GitOptions{})
	k := gitTestKey("lazy-big")
	r.write("big.env", string(lines("padding", 20))+"LOFTY_API_KEY="+k+"\n")
	commit := r.commit("big key")
	r.git("repack", "-a", "-d", "-q")
	got, _, st2 := scanGit(t, r.repository(), GitOptions{})
	checkGitFindings(t, got, gitWant{key: k, path: "big.env", commit: commit, inHead: true})
	if st2.Files <= st.Files {
		t.Errorf("files %d, then %d", st.Files, st2.Files)
	}
}
