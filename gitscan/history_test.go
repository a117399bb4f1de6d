package gitscan

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// historyFixture is a repository with a key in each of the places history
// hides them, and the commits that introduced each.
type historyFixture struct {
	repo    *testgit.Repo
	keys    map[string]string // name → token
	commits map[string]string // name → commit hash
}

// sharedHistory builds the fixture for one test (about 0.3 s).
func sharedHistory(t *testing.T) *historyFixture {
	t.Helper()
	testgit.Require(t)
	return buildHistory(t)
}

func buildHistory(t *testing.T) *historyFixture {
	r := testgit.New(t, "")
	f := &historyFixture{repo: r, keys: map[string]string{}, commits: map[string]string{}}
	key := func(name string) string {
		k := gitTestKey("git-" + name)
		f.keys[name] = k
		return k
	}
	env := func(name string) string { return "LOFTY_API_KEY=" + key(name) + "\n" }

	r.Write("root.env", "# settings\n"+env("first"))
	r.Write("sub/readme.md", "nothing here\n")
	f.commits["first"] = r.Commit("first commit")
	r.Write("deleted.env", env("deleted"))
	f.commits["deleted"] = r.Commit("add a key by mistake")
	r.Git("rm", "-q", "deleted.env")
	r.Commit("remove the key")
	r.Write("old.py", "import os\nLOFTY_KEY = '"+key("renamed")+"'\n")
	f.commits["renamed"] = r.Commit("add old.py")
	r.Git("mv", "old.py", "new.py")
	r.Commit("rename old.py to new.py")
	r.Write("b64.yaml", "data:\n  env: "+base64.StdEncoding.EncodeToString([]byte(env("b64")))+"\n")
	f.commits["b64"] = r.Commit("add a secret manifest")
	f.commits["base"] = f.commits["b64"]

	// A side branch never merged.
	r.Git("checkout", "-q", "-b", "feature")
	r.Write("side.txt", "lofty token: "+key("side")+"\n")
	f.commits["side"] = r.Commit("side work")
	// A topic branch merged with a merge commit.
	r.Git("checkout", "-q", "-b", "topic", "main")
	r.Write("topic.env", env("merged"))
	f.commits["merged"] = r.Commit("topic work")
	r.Git("checkout", "-q", "main")
	r.Git("merge", "-q", "--no-ff", "-m", "merge topic", "topic")
	r.Tick()
	f.commits["merge"] = r.Git("rev-parse", "HEAD")
	// A commit reachable only from an annotated tag.
	r.Git("checkout", "-q", "--detach")
	r.Write("tagged.env", env("tag"))
	f.commits["tag"] = r.Commit("tagged only")
	r.Git("tag", "-a", "-m", "a release", "v-secret")
	r.Git("checkout", "-q", "main")
	// A merge commit that itself adds a key.
	r.Git("checkout", "-q", "-b", "evil", "main")
	r.Write("other.txt", "other\n")
	r.Commit("other work")
	r.Git("checkout", "-q", "main")
	r.Git("merge", "-q", "--no-ff", "--no-commit", "evil")
	r.Write("evil.env", env("evil"))
	f.commits["evil"] = r.Commit("merge evil")
	// An unrelated edit of a file with a key: not a new finding.
	r.Write("root.env", "# settings, edited\n"+"LOFTY_API_KEY="+f.keys["first"]+"\nDEBUG=1\n")
	f.commits["edit"] = r.Commit("edit settings")
	// A key in a zip archive.
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("inner/app.env")
	w.Write([]byte("x=1\n" + env("zip")))
	zw.Close()
	r.Write("secrets.zip", zb.String())
	f.commits["zip"] = r.Commit("add an archive")
	// Two stash entries: refs/stash and stash@{1}, in the reflog only.
	r.Write("stash1.env", env("stash1"))
	r.Git("add", "stash1.env")
	r.Git("stash", "push", "-q", "-m", "first stash")
	r.Tick()
	r.Write("stash2.env", env("stash2"))
	r.Git("add", "stash2.env")
	r.Git("stash", "push", "-q", "-m", "second stash")
	r.Tick()
	f.commits["stash1"] = r.Git("rev-parse", "stash@{1}^2") // the index commit, parent of the stash commit
	f.commits["stash2"] = r.Git("rev-parse", "stash@{0}^2")
	return f
}

// all is every finding of a full history scan of the fixture.
func (f *historyFixture) all() []gitWant {
	k, c := f.keys, f.commits
	return []gitWant{
		{key: k["first"], path: "root.env", commit: c["first"], inHead: true, line: 2},
		{key: k["deleted"], path: "deleted.env", commit: c["deleted"], inHead: false},
		{key: k["renamed"], path: "old.py", commit: c["renamed"], inHead: true, line: 2},
		{key: k["b64"], path: "b64.yaml", commit: c["b64"], inHead: true, enc: "base64", line: 2},
		{key: k["side"], path: "side.txt", commit: c["side"], inHead: false},
		{key: k["merged"], path: "topic.env", commit: c["merged"], inHead: true},
		{key: k["tag"], path: "tagged.env", commit: c["tag"], inHead: false},
		{key: k["evil"], path: "evil.env", commit: c["evil"], inHead: true},
		{key: k["zip"], path: "secrets.zip!inner/app.env", commit: c["zip"], inHead: true, line: 2},
		{key: k["stash1"], path: "stash1.env", commit: c["stash1"], inHead: false},
		{key: k["stash2"], path: "stash2.env", commit: c["stash2"], inHead: false},
	}
}

func TestGitHistory(t *testing.T) {
	t.Parallel()
	f := sharedHistory(t)
	got, c, st := scanGit(t, repoOf(f.repo), HistoryOptions{})
	checkGitFindings(t, got, f.all()...)
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %v", c.Warnings)
	}
	if st.Findings != 0 || st.Errors != 0 || st.Files == 0 {
		t.Errorf("stats %+v", st)
	}
	for _, fd := range got {
		if fd.Secret == f.keys["evil"] && fd.Message != "merge evil" {
			t.Errorf("message %q, want the commit's subject", fd.Message)
		}
	}
}

// TestGitFromSubfolder finds the repository from a folder inside it.
func TestGitFromSubfolder(t *testing.T) {
	t.Parallel()
	f := sharedHistory(t)
	repo, err := FindRepository(filepath.Join(f.repo.Dir, "sub"))
	if err != nil {
		t.Fatal(err)
	}
	if repo.WorkTree != f.repo.Dir {
		t.Errorf("work tree %s, want %s", repo.WorkTree, f.repo.Dir)
	}
	got, _, _ := scanGit(t, repo, HistoryOptions{})
	checkGitFindings(t, got, f.all()...)
}

func TestGitBare(t *testing.T) {
	t.Parallel()
	f := sharedHistory(t)
	bare := filepath.Join(t.TempDir(), "bare.git")
	f.repo.GitIn(filepath.Dir(bare), "clone", "-q", "--bare", f.repo.Dir, bare)
	repo, err := FindRepository(bare)
	if err != nil {
		t.Fatal(err)
	}
	if repo.WorkTree != "" {
		t.Errorf("bare repository with work tree %q", repo.WorkTree)
	}
	got, _, _ := scanGit(t, repo, HistoryOptions{})
	// A clone has no stash, but a local clone copies every object: the
	// stash's commits are there, and nothing reaches them.
	checkGitFindings(t, got, f.all()...)
	for _, g := range got {
		stash := strings.HasPrefix(g.Path, "stash")
		if g.Unreachable != stash || g.Exposure == nil || (g.Exposure.ReachableFrom == finding.ReachNothing) != stash {
			t.Errorf("%s: unreachable %v, exposure %+v", g.Path, g.Unreachable, g.Exposure)
		}
	}
}

func TestGitShallow(t *testing.T) {
	t.Parallel()
	f := sharedHistory(t)
	dir := filepath.Join(t.TempDir(), "shallow")
	f.repo.GitIn(filepath.Dir(dir), "clone", "-q", "--depth", "1", "file://"+f.repo.Dir, dir)
	got, c, _ := scanGit(t, repoAt(t, dir), HistoryOptions{})
	// Only HEAD's commit is there: all it holds is attributed to it, at
	// the paths it has.
	k, head := f.keys, f.commits["zip"]
	checkGitFindings(t, got,
		gitWant{key: k["first"], path: "root.env", commit: head, inHead: true},
		gitWant{key: k["renamed"], path: "new.py", commit: head, inHead: true},
		gitWant{key: k["b64"], path: "b64.yaml", commit: head, inHead: true, enc: "base64"},
		gitWant{key: k["merged"], path: "topic.env", commit: head, inHead: true},
		gitWant{key: k["evil"], path: "evil.env", commit: head, inHead: true},
		gitWant{key: k["zip"], path: "secrets.zip!inner/app.env", commit: head, inHead: true},
	)
	n := 0
	for _, w := range c.Warnings {
		if strings.Contains(w.Message, "shallow") {
			n++
		}
	}
	if n != 1 || len(c.Warnings) != 1 {
		t.Errorf("want one warning that history is cut, got %v", c.Warnings)
	}
}

func TestGitRange(t *testing.T) {
	t.Parallel()
	f := sharedHistory(t)
	repo := repoOf(f.repo)
	k, c := f.keys, f.commits
	tests := []struct {
		name  string
		opts  HistoryOptions
		wants []gitWant
	}{
		{
			// What a pull request from base to main adds: not the key in
			// root.env, whose file the range edits.
			name: "base..main",
			opts: HistoryOptions{Exclude: []string{c["base"]}, Refs: []string{"main"}},
			wants: []gitWant{
				{key: k["merged"], path: "topic.env", commit: c["merged"], inHead: true},
				{key: k["evil"], path: "evil.env", commit: c["evil"], inHead: true},
				{key: k["zip"], path: "secrets.zip!inner/app.env", commit: c["zip"], inHead: true},
			},
		},
		{
			name:  "edit..main",
			opts:  HistoryOptions{Exclude: []string{c["edit"]}, Refs: []string{"main"}},
			wants: []gitWant{{key: k["zip"], path: "secrets.zip!inner/app.env", commit: c["zip"], inHead: true}},
		},
		{
			name:  "main..feature",
			opts:  HistoryOptions{Exclude: []string{"main"}, Refs: []string{"feature"}},
			wants: []gitWant{{key: k["side"], path: "side.txt", commit: c["side"], inHead: false}},
		},
		{
			name: "ref feature",
			opts: HistoryOptions{Refs: []string{"feature"}},
			wants: []gitWant{
				{key: k["first"], path: "root.env", commit: c["first"], inHead: true},
				{key: k["deleted"], path: "deleted.env", commit: c["deleted"], inHead: false},
				{key: k["renamed"], path: "old.py", commit: c["renamed"], inHead: true},
				{key: k["b64"], path: "b64.yaml", commit: c["b64"], inHead: true, enc: "base64"},
				{key: k["side"], path: "side.txt", commit: c["side"], inHead: false},
			},
		},
		{
			name:  "ref tag",
			opts:  HistoryOptions{Refs: []string{"v-secret"}, Exclude: []string{"main"}},
			wants: []gitWant{{key: k["tag"], path: "tagged.env", commit: c["tag"], inHead: false}},
		},
		{
			name:  "empty range",
			opts:  HistoryOptions{Exclude: []string{"main"}, Refs: []string{"main"}},
			wants: nil,
		},
		{
			// Since the edit: the edit does not introduce root.env's key,
			// which the commit before it had.
			name: "since edit",
			opts: HistoryOptions{Since: commitTime(f.repo, c["edit"])},
			wants: []gitWant{
				{key: k["zip"], path: "secrets.zip!inner/app.env", commit: c["zip"], inHead: true},
				{key: k["stash1"], path: "stash1.env", commit: c["stash1"], inHead: false},
				{key: k["stash2"], path: "stash2.env", commit: c["stash2"], inHead: false},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, _, _ := scanGit(t, repo, tc.opts)
			checkGitFindings(t, got, tc.wants...)
		})
	}
}

func TestGitUnknownRevision(t *testing.T) {
	t.Parallel()
	f := sharedHistory(t)
	for _, opts := range []HistoryOptions{{Refs: []string{"nope"}}, {Exclude: []string{"nope"}, Refs: []string{"main"}}} {
		_, err := ScanHistory(context.Background(), scanner.New(scanner.DefaultOptions()), repoOf(f.repo), opts, &scanner.Collector{})
		if !errors.Is(err, ErrUnknownRevision) {
			t.Errorf("%+v: err %v, want ErrUnknownRevision", opts, err)
		}
	}
}

// TestGitCommitCount checks that the walk reads every commit git lists:
// all refs, the stash and its reflog, a commit only a tag reaches.
func TestGitCommitCount(t *testing.T) {
	t.Parallel()
	f := sharedHistory(t)
	stashes := stashList(f.repo)
	wantN, err := strconv.Atoi(f.repo.Git(append([]string{"rev-list", "--count", "--all"}, stashes...)...))
	if err != nil {
		t.Fatal(err)
	}
	g, err := repoOf(f.repo).open(tuning{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	gs := newGitSink(&scanner.Collector{})
	run := scanner.New(scanner.DefaultOptions()).Start(gs)
	sel, err := g.selectCommits(context.Background(), run, revSet{all: true})
	if err != nil {
		t.Fatal(err)
	}
	g.walkHistory(context.Background(), run, gs, sel)
	g.walkHidden(context.Background(), run, gs, sel, time.Time{}, nil) // the stash's older entries
	if len(sel.commits) != wantN {
		t.Errorf("walked %d commits, git rev-list lists %d", len(sel.commits), wantN)
	}
	assertTopological(t, sel)
}

func assertTopological(t *testing.T, sel *selection) {
	t.Helper()
	for i := range sel.commits {
		c := &sel.commits[i]
		for _, p := range sel.parents(c) {
			if p >= int32(i) {
				t.Fatalf("commit %s comes before its parent %s", sel.hash(c), sel.hash(&sel.commits[p]))
			}
		}
	}
}

func TestGitEmptyRepository(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	got, c, _ := scanGit(t, repoOf(r), HistoryOptions{})
	if len(got) != 0 || len(c.Warnings) != 0 {
		t.Errorf("empty repository: %v %v", got, c.Warnings)
	}
	bare := testgit.New(t, "", "--bare")
	got, _, _ = scanGit(t, repoOf(bare), HistoryOptions{})
	if len(got) != 0 {
		t.Errorf("empty bare repository: %v", got)
	}
}

func TestGitNotRepository(t *testing.T) {
	t.Parallel()
	_, err := FindRepository(t.TempDir())
	if !errors.Is(err, ErrNotRepository) {
		t.Fatalf("err %v, want ErrNotRepository", err)
	}
}

// TestGitMissingObjects removes and damages objects: the scan warns,
// counts them, and reports what it could read.
func TestGitMissingObjects(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	k1, k2 := gitTestKey("kept"), gitTestKey("lost")
	r.Write("kept.env", "LOFTY_API_KEY="+k1+"\n")
	kept := r.Commit("kept")
	r.Write("lost.env", "LOFTY_API_KEY="+k2+"\n")
	r.Write("bad.env", "LOFTY_API_KEY=corrupt\n")
	r.Commit("lost")
	for name, damage := range map[string]func(string) error{
		"lost.env": os.Remove,
		"bad.env":  func(p string) error { os.Chmod(p, 0o644); return os.WriteFile(p, []byte("not zlib"), 0o644) },
	} {
		id := r.Git("rev-parse", "HEAD:"+name)
		if err := damage(filepath.Join(r.Dir, ".git", "objects", id[:2], id[2:])); err != nil {
			t.Fatal(err)
		}
	}
	got, c, st := scanGit(t, repoOf(r), HistoryOptions{})
	checkGitFindings(t, got, gitWant{key: k1, path: "kept.env", commit: kept, inHead: true})
	if st.Errors != 2 {
		t.Errorf("errors %d, want 2; warnings %v", st.Errors, c.Warnings)
	}
	for _, w := range c.Warnings {
		if !strings.Contains(w.Message, "missing or corrupt") || (w.Path != "lost.env" && w.Path != "bad.env") {
			t.Errorf("warning %q", w)
		}
	}
}

// TestGitLinkedWorktree scans from a linked worktree, whose .git is a file.
func TestGitLinkedWorktree(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	k := gitTestKey("wt")
	r.Write("a.env", "LOFTY_API_KEY="+k+"\n")
	c := r.Commit("one")
	wt := filepath.Join(t.TempDir(), "wt")
	r.Git("worktree", "add", "-q", "--detach", wt)
	repo, err := FindRepository(wt)
	if err != nil {
		t.Fatal(err)
	}
	if repo.CommonDir != filepath.Join(r.Dir, ".git") || repo.WorkTree != wt {
		t.Errorf("worktree repository %+v", repo)
	}
	got, _, _ := scanGit(t, repo, HistoryOptions{})
	checkGitFindings(t, got, gitWant{key: k, path: "a.env", commit: c, inHead: true})

	// The worktree has an index of its own.
	k2 := gitTestKey("wt-staged")
	if err := os.WriteFile(filepath.Join(wt, "b.env"), []byte("LOFTY_API_KEY="+k2+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.GitIn(wt, "add", "b.env")
	checkStaged(t, scanStaged(t, repo, ""), map[string][]string{"b.env": {k2}})
	checkStaged(t, scanStaged(t, repoOf(r), ""), nil)
}

// TestGitCommitCountExternal compares the walk with git on a repository of
// your choice: LOFTYSCAN_COUNT_REPO=/path/to/repo go test -run CountExternal.
func TestGitCommitCountExternal(t *testing.T) {
	dir := os.Getenv("LOFTYSCAN_COUNT_REPO")
	if dir == "" {
		t.Skip("set LOFTYSCAN_COUNT_REPO to a repository to compare with git rev-list --all")
	}
	r := testgit.Open(t, dir)
	stashes := stashList(r)
	wantN, err := strconv.Atoi(r.Git(append([]string{"rev-list", "--count", "--all"}, stashes...)...))
	if err != nil {
		t.Fatal(err)
	}
	g, err := repoOf(r).open(tuning{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	start := time.Now()
	sel, err := g.selectCommits(context.Background(), scanner.New(scanner.DefaultOptions()).Start(&scanner.Collector{}), revSet{all: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d commits in %v", len(sel.commits), time.Since(start))
	if len(sel.commits) != wantN {
		t.Errorf("walked %d commits, git rev-list lists %d", len(sel.commits), wantN)
	}
	assertTopological(t, sel)
}
