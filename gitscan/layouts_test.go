package gitscan

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// Repositories stored in ways the object store must read as go-git does:
// the layouts of internal/testgit, a thin pack on disk, partial clones.

// deltaHistory commits n versions of a few growing files, so that packs
// hold chains of deltas, with a key in one version of one file.
func deltaHistory(r *testgit.Repo, n int, tag string) {
	for i := range n {
		r.Write("src/main.go", string(testgit.Lines("package main // "+tag, 40+i)))
		r.Write("docs/notes.md", string(testgit.Lines("note "+tag, 30+2*i)))
		if i == n/2 {
			r.Write("config/app.env", "LOFTY_API_KEY="+gitTestKey("layout-"+tag)+"\n")
		}
		r.Commit(tag + " commit")
	}
}

// TestLayoutsFastMatchesSlow scans each layout every way and compares
// with go-git reading every object.
func TestLayoutsFastMatchesSlow(t *testing.T) {
	t.Parallel()
	for _, l := range testgit.Layouts() {
		t.Run(l.Name, func(t *testing.T) {
			t.Parallel()
			checkFastMatchesSlow(t, repoOf(l.Build(t, deltaHistory)), HistoryOptions{}, 0)
		})
	}
}

// TestPackThinOnDisk reads a delta whose base is in another pack, which
// git itself never leaves on disk but another tool might.
func TestPackThinOnDisk(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	base := testgit.Lines("settings", 40)
	r.Write("app.env", string(base))
	r.Commit("base")
	r.Git("repack", "-a", "-d", "-q")
	key := gitTestKey("thin")
	next := append(bytes.Clone(base), "LOFTY_API_KEY="+key+"\n"...)
	blob := testgit.ObjectName(plumbing.BlobObject, next)
	// git refuses such a pack, so the tree and commit that hold the blob
	// go in it too, whole.
	tree := append([]byte("100644 app.env\x00"), blob[:]...)
	when := fmt.Sprintf("%d +0000", r.Now().Unix())
	commit := []byte("tree " + testgit.ObjectName(plumbing.TreeObject, tree).String() + "\nparent " + r.Git("rev-parse", "HEAD") +
		"\nauthor Ada Author <ada@example.com> " + when + "\ncommitter Cy Committer <cy@example.com> " + when + "\n\nthin\n")
	names := testgit.WritePack(t, filepath.Join(r.Dir, ".git", "objects"), []testgit.Object{
		{Type: plumbing.REFDeltaObject, Ref: testgit.ObjectName(plumbing.BlobObject, base), Data: testgit.MakeDelta(base, next), Name: blob},
		{Type: plumbing.TreeObject, Data: tree},
		{Type: plumbing.CommitObject, Data: commit},
	})
	r.Git("update-ref", "refs/heads/main", names[2].String())
	r.Tick()

	g, err := repoOf(r).open(tuning{})
	if err != nil {
		t.Fatal(err)
	}
	typ, data, err := g.rd.Read(names[0])
	g.close()
	if err != nil || typ != plumbing.BlobObject || !bytes.Equal(data, next) {
		t.Fatalf("thin delta: %v %v", typ, err)
	}
	got, _, _ := scanGit(t, repoOf(r), HistoryOptions{})
	checkGitFindings(t, got, gitWant{key: key, path: "app.env", commit: names[2].String(), inHead: true})
}

// TestPartialClone scans clones made with --filter=blob:none: the blobs
// the clone left out are counted in one warning, and what is there is
// scanned.
func TestPartialClone(t *testing.T) {
	t.Parallel()
	up := testgit.New(t, "")
	deltaHistory(up, 6, "partial")
	headKey := gitTestKey("partial-head")
	up.Write("head.env", "LOFTY_API_KEY="+headKey+"\n")
	head := up.Commit("head key")
	up.Git("config", "uploadpack.allowFilter", "true")
	up.Git("config", "uploadpack.allowAnySHA1InWant", "true")

	t.Run("bare", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "bare.git")
		up.GitIn(filepath.Dir(dir), "clone", "-q", "--bare", "--filter=blob:none", "file://"+up.Dir, dir)
		got, c, st := scanGit(t, repoAt(t, dir), HistoryOptions{})
		if len(got) != 0 {
			t.Errorf("findings in a clone without blobs: %v", got)
		}
		checkPartialWarning(t, c, st)
		// No finding: the missing blobs were counted by the pass over the
		// trees, not by a walk. git counts the same.
		clone := up.At(t, dir)
		missing := strings.Count(clone.Git("rev-list", "--objects", "--all", "--missing=print"), "?")
		if st.Errors != int64(missing) || missing == 0 {
			t.Errorf("%d blobs counted missing, git says %d", st.Errors, missing)
		}
	})
	t.Run("filter that left nothing out", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "limit.git")
		up.GitIn(filepath.Dir(dir), "clone", "-q", "--bare", "--filter=blob:limit=1m", "file://"+up.Dir, dir)
		got, c, st := scanGit(t, repoAt(t, dir), HistoryOptions{})
		if len(got) != 2 || len(c.Warnings) != 0 || st.Errors != 0 {
			t.Errorf("findings %d, warnings %v, errors %d", len(got), c.Warnings, st.Errors)
		}
	})
	t.Run("trees left out", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "notrees.git")
		up.GitIn(filepath.Dir(dir), "clone", "-q", "--bare", "--filter=tree:0", "file://"+up.Dir, dir)
		_, c, st := scanGit(t, repoAt(t, dir), HistoryOptions{})
		if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].Message, "tree(s)") || st.Errors == 0 {
			t.Errorf("want one warning about missing trees, got %v (%+v)", c.Warnings, st)
		}
	})
	t.Run("checked out", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "work")
		up.GitIn(filepath.Dir(dir), "clone", "-q", "--filter=blob:none", "file://"+up.Dir, dir)
		repo := repoAt(t, dir)
		got, c, st := scanGit(t, repo, HistoryOptions{})
		// HEAD's blobs were fetched for the checkout: its keys are found.
		checkGitFindings(t, got,
			gitWant{key: headKey, path: "head.env", commit: head, inHead: true},
			gitWant{key: gitTestKey("layout-partial"), path: "config/app.env", commit: up.Git("log", "--format=%H", "-1", "--", "config/app.env"), inHead: true},
		)
		checkPartialWarning(t, c, st)
		checkFastMatchesSlowWarnings(t, repo)
	})
}

func checkPartialWarning(t *testing.T, c *scanner.Collector, st finding.Stats) {
	t.Helper()
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].Message, "partial clone") {
		t.Fatalf("want one partial clone warning, got %v", c.Warnings)
	}
	if st.Errors == 0 {
		t.Errorf("the missing blobs are not counted: %+v", st)
	}
}

// checkFastMatchesSlowWarnings compares the findings, stats and warnings
// of a scan with go-git reading every object. Both count the blobs the
// clone left out one by one, on the walk, and name them in one warning.
func checkFastMatchesSlowWarnings(t *testing.T, repo *Repository) {
	t.Helper()
	fast, fc, fst := scanWith(t, repo, HistoryOptions{}, tuning{}, 0)
	slow, sc, sst := scanWith(t, repo, HistoryOptions{}, tuning{mode: readGoGit}, 0)
	compareFindings(t, "go-git", slow, fast)
	if fst.Files != sst.Files || fst.Bytes != sst.Bytes || fst.Errors != sst.Errors {
		t.Errorf("stats: fast %+v, go-git %+v", fst, sst)
	}
	if w, g := warningKeys(sc), warningKeys(fc); !slices.Equal(w, g) {
		t.Errorf("warnings %q, go-git %q", g, w)
	}
}
