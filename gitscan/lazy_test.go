package gitscan

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// A scan of every ref sweeps the packs first and walks the history only
// when it must (scanEverything). These tests take each way through it and
// compare with go-git reading blob by blob.

// quietHistory commits n versions of a few files, with no key.
func quietHistory(r *testgit.Repo, n int, tag string) {
	for i := range n {
		r.Write("src/main.go", string(testgit.Lines("package main // "+tag, 40+i)))
		r.Write("docs/notes.md", string(testgit.Lines("note "+tag, 30+2*i)))
		r.Commit(tag + " commit")
	}
}

func TestGitLazy(t *testing.T) {
	t.Parallel()
	t.Run("no keys", func(t *testing.T) {
		t.Parallel()
		r := testgit.New(t, "")
		quietHistory(r, 10, "packed")
		r.Git("repack", "-a", "-d", "-q")
		quietHistory(r, 3, "loose")
		got, c, st := scanGit(t, repoOf(r), HistoryOptions{})
		if len(got) != 0 || len(c.Warnings) != 0 || st.Files == 0 {
			t.Errorf("findings %v, warnings %v, stats %+v", got, c.Warnings, st)
		}
		checkFastMatchesSlow(t, repoOf(r), HistoryOptions{}, 0)
	})
	t.Run("key in a loose blob", func(t *testing.T) {
		t.Parallel()
		r := testgit.New(t, "")
		quietHistory(r, 10, "packed")
		r.Git("repack", "-a", "-d", "-q")
		k := gitTestKey("lazy-loose")
		r.Write("late.env", "LOFTY_API_KEY="+k+"\n")
		c := r.Commit("late key")
		quietHistory(r, 2, "after")
		got, _, _ := scanGit(t, repoOf(r), HistoryOptions{})
		checkGitFindings(t, got, gitWant{key: k, path: "late.env", commit: c, inHead: true})
		checkFastMatchesSlow(t, repoOf(r), HistoryOptions{}, 0)
	})
	t.Run("key only in garbage", func(t *testing.T) {
		t.Parallel()
		r := testgit.New(t, "")
		quietHistory(r, 5, "kept")
		k := gitTestKey("lazy-garbage")
		r.Write("oops.env", "LOFTY_API_KEY="+k+"\n")
		oops := r.Commit("oops")
		r.Git("reset", "-q", "--hard", "HEAD~1")
		r.Git("repack", "-a", "-d", "-q") // keeps what the reflog reaches
		got, c, _ := scanGit(t, repoOf(r), HistoryOptions{})
		checkGitFindings(t, got, gitWant{key: k, path: "oops.env", commit: oops, inHead: false})
		if len(c.Warnings) != 0 || got[0].Exposure == nil || got[0].Exposure.ReachableFrom != finding.ReachReflog {
			t.Errorf("a key only the reflog reaches: exposure %+v, warnings %v", got[0].Exposure, c.Warnings)
		}
		checkFastMatchesSlow(t, repoOf(r), HistoryOptions{}, 0)
	})
	t.Run("shallow", func(t *testing.T) {
		t.Parallel()
		up := testgit.New(t, "")
		quietHistory(up, 5, "up")
		dir := filepath.Join(t.TempDir(), "shallow")
		up.GitIn(filepath.Dir(dir), "clone", "-q", "--depth", "1", "file://"+up.Dir, dir)
		_, c, _ := scanGit(t, repoAt(t, dir), HistoryOptions{})
		if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].Message, "shallow clone") {
			t.Errorf("want one shallow warning, got %v", c.Warnings)
		}
	})
	t.Run("damaged blob", func(t *testing.T) {
		t.Parallel()
		r := testgit.New(t, "")
		quietHistory(r, 5, "fine")
		r.Git("repack", "-a", "-d", "-q")
		// A pack with a blob that does not inflate, in a commit's tree.
		bad := plumbing.NewHash("badbadbadbadbadbadbadbadbadbadbadbadbad0")
		tree := append([]byte("100644 broken.txt\x00"), bad[:]...)
		when := fmt.Sprintf("%d +0000", r.Now().Unix())
		commit := []byte("tree " + testgit.ObjectName(plumbing.TreeObject, tree).String() + "\nparent " + r.Git("rev-parse", "HEAD") +
			"\nauthor Ada Author <ada@example.com> " + when + "\ncommitter Cy Committer <cy@example.com> " + when + "\n\nbroken\n")
		names := testgit.WritePack(t, filepath.Join(r.Dir, ".git", "objects"), []testgit.Object{
			{Type: plumbing.BlobObject, Raw: []byte("not zlib at all"), Size: 10, Name: bad},
			{Type: plumbing.TreeObject, Data: tree},
			{Type: plumbing.CommitObject, Data: commit},
		})
		r.Git("update-ref", "refs/heads/main", names[2].String())
		_, c, st := scanGit(t, repoOf(r), HistoryOptions{})
		if len(c.Warnings) != 1 || c.Warnings[0].Path != "broken.txt" || !strings.Contains(c.Warnings[0].Message, "missing or corrupt") || st.Errors != 1 {
			t.Errorf("want one warning about broken.txt, got %v (%+v)", c.Warnings, st)
		}
	})
}

// TestGitLazyBigBlobs lowers the size the sweep holds in memory, so that
// the blobs it leaves are read after it, one by one.
func TestGitLazyBigBlobs(t *testing.T) {
	t.Parallel()
	const sweepMax = 200
	r := testgit.New(t, "")
	quietHistory(r, 8, "big")
	r.Git("repack", "-a", "-d", "-q")
	got, c, st := scanWith(t, repoOf(r), HistoryOptions{}, tuning{sweepMax: sweepMax}, 0)
	if len(got) != 0 || len(c.Warnings) != 0 {
		t.Errorf("findings %v, warnings %v", got, c.Warnings)
	}
	checkFastMatchesSlow(t, repoOf(r), HistoryOptions{}, sweepMax)
	k := gitTestKey("lazy-big")
	r.Write("big.env", string(testgit.Lines("padding", 20))+"LOFTY_API_KEY="+k+"\n")
	commit := r.Commit("big key")
	r.Git("repack", "-a", "-d", "-q")
	got, _, st2 := scanWith(t, repoOf(r), HistoryOptions{}, tuning{sweepMax: sweepMax}, 0)
	checkGitFindings(t, got, gitWant{key: k, path: "big.env", commit: commit, inHead: true})
	if st2.Files <= st.Files {
		t.Errorf("files %d, then %d", st.Files, st2.Files)
	}
}
