package gitscan

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scanStaged runs a staged scan and returns the keys found, by path.
func scanStaged(t *testing.T, repo *Repository, indexFile string) map[string][]string {
	t.Helper()
	c := &Collector{}
	st, err := New(DefaultOptions()).ScanStaged(context.Background(), repo, indexFile, c)
	if err != nil {
		t.Fatalf("ScanStaged: %v", err)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %v", c.Warnings)
	}
	out := map[string][]string{}
	for _, f := range c.Sorted() {
		if f.Commit != "" || f.InHead != nil {
			t.Errorf("%s: a staged finding has git fields", f.Path)
		}
		out[f.Path] = append(out[f.Path], f.Secret)
	}
	if st.Findings != int64(len(c.Findings)) {
		t.Errorf("stats count %d findings, sink got %d", st.Findings, len(c.Findings))
	}
	return out
}

func checkStaged(t *testing.T, got map[string][]string, want map[string][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("findings in %v, want in %v", keysOf(got), keysOf(want))
	}
	for p, keys := range want {
		if strings.Join(got[p], ",") != strings.Join(keys, ",") {
			t.Errorf("%s: %d keys %v, want %d", p, len(got[p]), redactAll(got[p]), len(keys))
		}
	}
}

func keysOf(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func redactAll(ks []string) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = Redact(k)
	}
	return out
}

func TestStaged(t *testing.T) {
	t.Parallel()
	r := newGitTestRepo(t)
	repo := r.repository()
	old, added, wt := gitTestKey("old"), gitTestKey("added"), gitTestKey("worktree-only")

	// The first commit: everything staged is new.
	r.write("app.env", "LOFTY_API_KEY="+old+"\n")
	r.write("dir/deep/x.txt", "x\n")
	r.git("add", "-A")
	checkStaged(t, scanStaged(t, repo, ""), map[string][]string{"app.env": {old}})
	r.commit("first")
	checkStaged(t, scanStaged(t, repo, ""), nil)

	// Another line of a file with a key changes: the key is not added.
	r.write("app.env", "DEBUG=1\nLOFTY_API_KEY="+old+"\n")
	r.git("add", "app.env")
	checkStaged(t, scanStaged(t, repo, ""), nil)

	// A second key in the same file is.
	r.write("app.env", "DEBUG=1\nLOFTY_API_KEY="+old+"\nLOFTY_TOKEN="+added+"\n")
	r.git("add", "app.env")
	checkStaged(t, scanStaged(t, repo, ""), map[string][]string{"app.env": {added}})
	r.commit("second key")

	// Partly staged: what is staged counts, not the work tree.
	r.write("dir/deep/x.txt", "x\nlofty: "+wt+"\n")
	checkStaged(t, scanStaged(t, repo, ""), nil)
	newKey := gitTestKey("staged-then-removed")
	r.write("dir/deep/y.txt", "lofty: "+newKey+"\n")
	r.git("add", "dir/deep/y.txt")
	r.write("dir/deep/y.txt", "the key is gone from the work tree\n")
	checkStaged(t, scanStaged(t, repo, ""), map[string][]string{"dir/deep/y.txt": {newKey}})
	r.git("reset", "-q")
	r.git("checkout", "--", "dir")

	// A rename, and a rename with an edit: the key is not added.
	r.git("mv", "app.env", "dir/moved.env")
	checkStaged(t, scanStaged(t, repo, ""), nil)
	r.write("dir/moved.env", "DEBUG=0\nLOFTY_API_KEY="+old+"\nLOFTY_TOKEN="+added+"\n")
	r.git("add", "-A")
	checkStaged(t, scanStaged(t, repo, ""), nil)
}

// TestStagedIndexFile reads the index GIT_INDEX_FILE names, as hooks of
// `git commit -a` and `git commit PATH` see it; a relative name is
// relative to the top of the work tree.
func TestStagedIndexFile(t *testing.T) {
	t.Parallel()
	r := newGitTestRepo(t)
	repo := r.repository()
	r.write("a.txt", "a\n")
	r.commit("first")
	k := gitTestKey("temp-index")
	r.write("b.env", "LOFTY_API_KEY="+k+"\n")
	// Stage b.env in a temporary index only, as `git commit b.env` does.
	cmd := exec.Command("git", append(append([]string(nil), gitArgs...), "add", "b.env")...)
	cmd.Dir = r.dir
	cmd.Env = append(gitEnv(r.home, r.now()), "GIT_INDEX_FILE="+filepath.Join(r.dir, ".git", "tmp-index"))
	r.git("read-tree", "--index-output=.git/tmp-index", "HEAD")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git add: %v\n%s", err, out)
	}
	checkStaged(t, scanStaged(t, repo, ""), nil)
	want := map[string][]string{"b.env": {k}}
	checkStaged(t, scanStaged(t, repo, filepath.Join(r.dir, ".git", "tmp-index")), want)
	checkStaged(t, scanStaged(t, repo, ".git/tmp-index"), want)
	// A missing index file is an empty index: nothing is added.
	checkStaged(t, scanStaged(t, repo, ".git/no-such-index"), nil)
}

func TestStagedErrors(t *testing.T) {
	t.Parallel()
	bare := newGitTestRepo(t, "--bare")
	_, err := New(DefaultOptions()).ScanStaged(context.Background(), bare.repository(), "", &Collector{})
	if !errors.Is(err, ErrNoWorkTree) {
		t.Errorf("bare: err %v, want ErrNoWorkTree", err)
	}
	r := newGitTestRepo(t)
	os.WriteFile(filepath.Join(r.dir, ".git", "index"), []byte("DIRC garbage"), 0o644)
	if _, err := New(DefaultOptions()).ScanStaged(context.Background(), r.repository(), "", &Collector{}); err == nil {
		t.Error("a corrupt index gave no error")
	}
}

// TestCacheTree checks the reading of the index's TREE extension against
// git's own trees, in index versions 2, 3 and 4, and that the staged scan
// gives the same answer with and without it.
func TestCacheTree(t *testing.T) {
	t.Parallel()
	r := newGitTestRepo(t)
	for _, p := range []string{"a/1.txt", "a/b/2.txt", "a/b/c/3.txt", "d/4.txt", "top.txt", "a-b/5.txt"} {
		r.write(p, p+"\n")
	}
	r.commit("tree")
	for _, version := range []string{"2", "3", "4"} {
		r.git("update-index", "--index-version", version)
		if version == "3" {
			// An extended flag (skip-worktree) makes entries two bytes longer.
			r.git("update-index", "--skip-worktree", "d/4.txt")
		}
		r.git("write-tree") // makes the whole cache valid
		b, err := os.ReadFile(filepath.Join(r.dir, ".git", "index"))
		if err != nil {
			t.Fatal(err)
		}
		got := cacheTree(b)
		for _, dir := range []string{"", "a", "a/b", "a/b/c", "d", "a-b"} {
			want := r.git("rev-parse", "HEAD:"+dir)
			if got[dir].String() != want {
				t.Errorf("v%s: cached tree of %q is %s, want %s", version, dir, got[dir], want)
			}
		}
		if len(got) != 6 {
			t.Errorf("v%s: %d cached trees, want 6", version, len(got))
		}
	}
	// A change invalidates the folders above it; the others stay valid.
	k := gitTestKey("cache")
	r.write("a/b/new.env", "LOFTY_API_KEY="+k+"\n")
	r.git("add", "a/b/new.env")
	b, _ := os.ReadFile(filepath.Join(r.dir, ".git", "index"))
	got := cacheTree(b)
	for _, dir := range []string{"", "a", "a/b"} {
		if _, ok := got[dir]; ok {
			t.Errorf("cached tree of %q is still valid after a change below it", dir)
		}
	}
	if got["a/b/c"].String() != r.git("rev-parse", "HEAD:a/b/c") {
		t.Errorf("cached tree of a/b/c lost")
	}
	checkStaged(t, scanStaged(t, r.repository(), ""), map[string][]string{"a/b/new.env": {k}})
}
