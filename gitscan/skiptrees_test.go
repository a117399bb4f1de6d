package gitscan

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// A skip glob skips paths, not trees: the same tree (or blob) held at a
// path a glob skips and at one it does not is scanned at the second.

// skipTreesFixture is a history where trees a glob partly skips come
// again at paths it does not: conf/ and vendor/, one tree, in one commit;
// docs/ whose skipped file a later version shares with it, moved to app/.
func skipTreesFixture(t *testing.T) (*testgit.Repo, map[string]string, func(string, bool) bool) {
	r := testgit.New(t, t.TempDir())
	r.Write("x.txt", "x\n")
	base := r.Commit("base")
	k1 := "LOFTY_API_KEY=" + gitTestKey("skip-trees-1") + "\n"
	k2 := "LOFTY_API_KEY=" + gitTestKey("skip-trees-2") + "\n"
	r.Write("conf/k.env", k1)
	r.Write("vendor/k.env", k1)
	c1 := r.Commit("one tree at two paths, the first skipped")
	r.Write("docs/k.env", k2)
	r.Commit("a skipped file")
	r.Write("docs/readme.md", "read me\n")
	r.Commit("a file beside it: the folder's other entries are its parent's")
	r.Git("rm", "-q", "-r", "docs")
	r.Write("app/k.env", k2)
	r.Write("app/readme.md", "read me\n")
	c4 := r.Commit("the folder, moved where nothing is skipped")
	skip := func(p string, dir bool) bool {
		return !dir && (strings.HasPrefix(p, "conf/") || p == "docs/k.env")
	}
	return r, map[string]string{"base": base, "vendor/k.env": c1, "app/k.env": c4}, skip
}

func TestWalkSkipIsByPath(t *testing.T) {
	t.Parallel()
	r, commits, skip := skipTreesFixture(t)
	checkWalk(t, "all", r, revSet{all: true}, skip)
	checkWalk(t, "range", r, revSet{include: []plumbing.Hash{plumbing.NewHash(commits["app/k.env"])}, exclude: []plumbing.Hash{plumbing.NewHash(commits["base"])}}, skip)

	o := scanner.DefaultOptions()
	o.Skip = skip
	check := func(what string, opts HistoryOptions) {
		c := &scanner.Collector{}
		if _, err := ScanHistory(context.Background(), scanner.New(o), repoOf(r), opts, c); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, f := range c.Sorted() {
			got[f.Path] = f.Commit
		}
		for _, p := range []string{"vendor/k.env", "app/k.env"} {
			if got[p] != commits[p] {
				t.Errorf("%s: the key at %s: commit %.7q, want %.7s (findings %v)", what, p, got[p], commits[p], got)
			}
		}
	}
	check("every ref", HistoryOptions{})
	check("HEAD", HistoryOptions{Refs: []string{"HEAD"}})
	check("range", HistoryOptions{Refs: []string{"HEAD"}, Exclude: []string{commits["base"]}})
	// The same commits, only a reflog's: walked by walkLayer.
	r.Git("reset", "-q", "--hard", commits["base"])
	check("reflog", HistoryOptions{})
}

// TestSkipBelowEveryPath: a glob that skips a file below every path of
// folders that each hold the next twice (2^30 paths from 30 trees) would
// have them walked by every path; past maxPartialWalks (here a budget of
// 5,000) they are not, with one warning, and the scan ends with the key the glob does not skip, in
// a commit a branch holds and in one only a reflog holds.
func TestSkipBelowEveryPath(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, t.TempDir())
	r.Write("x.txt", "x\n")
	r.Commit("base")
	blob := func(s string) plumbing.Hash {
		out, err := r.Cmd(s, nil, "hash-object", "-w", "--stdin").Output()
		if err != nil {
			t.Fatal(err)
		}
		return plumbing.NewHash(strings.TrimSpace(string(out)))
	}
	dag := func(sub string) plumbing.Hash {
		tree := r.MkTree(
			testgit.TreeEntry{Mode: "100644", Hash: blob("LOFTY_API_KEY=" + gitTestKey(sub+"-skipped") + "\n"), Name: "k.env"},
			testgit.TreeEntry{Mode: "100644", Hash: blob("LOFTY_API_KEY=" + gitTestKey(sub) + "\n"), Name: "z.env"})
		for range 30 {
			tree = r.MkTree(testgit.TreeEntry{Mode: "040000", Hash: tree, Name: "a"}, testgit.TreeEntry{Mode: "040000", Hash: tree, Name: "b"})
		}
		return tree
	}
	msg := t.TempDir() + "/msg"
	if err := os.WriteFile(msg, []byte("folders of folders\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hidden := r.CommitOnHead(dag("skip-reflog"), msg)
	r.Git("update-ref", "HEAD", hidden+"^")
	r.CommitOnHead(dag("skip-branch"), msg)

	o := scanner.DefaultOptions()
	o.Skip = func(p string, dir bool) bool { return !dir && strings.HasSuffix(p, "/k.env") }
	for _, opts := range []HistoryOptions{{}, {Refs: []string{"HEAD"}}} {
		c := &scanner.Collector{}
		if _, err := scanHistoryTuned(context.Background(), scanner.New(o), repoOf(r), opts, c, tuning{partialWalks: 5000}); err != nil {
			t.Fatal(err)
		}
		var subs []string
		for _, f := range c.Sorted() {
			subs = append(subs, f.Subject)
		}
		want := "[skip-branch skip-reflog]"
		if len(opts.Refs) > 0 {
			want = "[skip-branch]"
		}
		if fmt.Sprint(subs) != want {
			t.Errorf("%+v: keys of %v, want %s", opts, subs, want)
		}
		capped := 0
		for _, w := range c.Warnings {
			if strings.Contains(w.Message, "where a skip glob left out some of their files") {
				capped++
			}
		}
		if capped == 0 || capped > 2 {
			t.Errorf("%+v: %d warnings of the walks' bound, want one a walk: %v", opts, capped, c.Warnings)
		}
	}
}

// TestBoundaryHeldOnlySkipped: content a range's base holds only at paths
// a glob skips is new where the range puts it at another (a key under a
// skipped testdata/, copied into config/): the scan never saw it there.
// Likewise for a commit only a reflog holds, whose parent a branch holds.
func TestBoundaryHeldOnlySkipped(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, t.TempDir())
	key := "LOFTY_API_KEY=" + gitTestKey("boundary-skipped") + "\n"
	r.Write("testdata/k.env", key)
	base := r.Commit("base: a key where the glob skips")
	r.Write("config/prod.env", key)
	added := r.Commit("the same file where it does not")
	o := scanner.DefaultOptions()
	o.Skip = func(p string, dir bool) bool { return dir && p == "testdata" }
	check := func(what string, opts HistoryOptions) {
		c := &scanner.Collector{}
		if _, err := ScanHistory(context.Background(), scanner.New(o), repoOf(r), opts, c); err != nil {
			t.Fatal(err)
		}
		if fs := c.Sorted(); len(fs) != 1 || fs[0].Path != "config/prod.env" || fs[0].Commit != added {
			t.Errorf("%s: findings %v, want config/prod.env@%s", what, findingPaths(fs), added)
		}
	}
	check("range", HistoryOptions{Refs: []string{"HEAD"}, Exclude: []string{base}})
	r.Git("reset", "-q", "--hard", base)
	check("reflog", HistoryOptions{})
}
