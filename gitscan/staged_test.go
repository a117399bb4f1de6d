package gitscan

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// scanStaged runs a staged scan and returns the keys found, by path.
func scanStaged(t *testing.T, repo *Repository, indexFile string) map[string][]string {
	t.Helper()
	c := &scanner.Collector{}
	st, err := ScanStaged(context.Background(), scanner.New(scanner.DefaultOptions()), repo, indexFile, c)
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
	if st.Findings != 0 {
		t.Errorf("the scan counted %d findings: only finding.Stats.Count counts them", st.Findings)
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
		out[i] = finding.Redact(k)
	}
	return out
}

func TestStaged(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	repo := repoOf(r)
	old, added, wt := gitTestKey("old"), gitTestKey("added"), gitTestKey("worktree-only")

	// The first commit: everything staged is new.
	r.Write("app.env", "LOFTY_API_KEY="+old+"\n")
	r.Write("dir/deep/x.txt", "x\n")
	r.Git("add", "-A")
	checkStaged(t, scanStaged(t, repo, ""), map[string][]string{"app.env": {old}})
	r.Commit("first")
	checkStaged(t, scanStaged(t, repo, ""), nil)

	// Another line of a file with a key changes: the key is not added.
	r.Write("app.env", "DEBUG=1\nLOFTY_API_KEY="+old+"\n")
	r.Git("add", "app.env")
	checkStaged(t, scanStaged(t, repo, ""), nil)

	// A second key in the same file is.
	r.Write("app.env", "DEBUG=1\nLOFTY_API_KEY="+old+"\nLOFTY_TOKEN="+added+"\n")
	r.Git("add", "app.env")
	checkStaged(t, scanStaged(t, repo, ""), map[string][]string{"app.env": {added}})
	r.Commit("second key")

	// Partly staged: what is staged counts, not the work tree.
	r.Write("dir/deep/x.txt", "x\nlofty: "+wt+"\n")
	checkStaged(t, scanStaged(t, repo, ""), nil)
	newKey := gitTestKey("staged-then-removed")
	r.Write("dir/deep/y.txt", "lofty: "+newKey+"\n")
	r.Git("add", "dir/deep/y.txt")
	r.Write("dir/deep/y.txt", "the key is gone from the work tree\n")
	checkStaged(t, scanStaged(t, repo, ""), map[string][]string{"dir/deep/y.txt": {newKey}})
	r.Git("reset", "-q")
	r.Git("checkout", "--", "dir")

	// A rename, and a rename with an edit: the key is not added.
	r.Git("mv", "app.env", "dir/moved.env")
	checkStaged(t, scanStaged(t, repo, ""), nil)
	r.Write("dir/moved.env", "DEBUG=0\nLOFTY_API_KEY="+old+"\nLOFTY_TOKEN="+added+"\n")
	r.Git("add", "-A")
	checkStaged(t, scanStaged(t, repo, ""), nil)
}

// TestStagedIndexFile reads the index GIT_INDEX_FILE names, as hooks of
// `git commit -a` and `git commit PATH` see it; a relative name is
// relative to the top of the work tree.
func TestStagedIndexFile(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	repo := repoOf(r)
	r.Write("a.txt", "a\n")
	r.Commit("first")
	k := gitTestKey("temp-index")
	r.Write("b.env", "LOFTY_API_KEY="+k+"\n")
	// Stage b.env in a temporary index only, as `git commit b.env` does.
	cmd := r.Cmd("", []string{"GIT_INDEX_FILE=" + filepath.Join(r.Dir, ".git", "tmp-index")}, "add", "b.env")
	r.Git("read-tree", "--index-output=.git/tmp-index", "HEAD")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git add: %v\n%s", err, out)
	}
	checkStaged(t, scanStaged(t, repo, ""), nil)
	want := map[string][]string{"b.env": {k}}
	checkStaged(t, scanStaged(t, repo, filepath.Join(r.Dir, ".git", "tmp-index")), want)
	checkStaged(t, scanStaged(t, repo, ".git/tmp-index"), want)
	// A missing index file is an empty index: nothing is added.
	checkStaged(t, scanStaged(t, repo, ".git/no-such-index"), nil)
}

func TestStagedErrors(t *testing.T) {
	t.Parallel()
	bare := testgit.New(t, "", "--bare")
	_, err := ScanStaged(context.Background(), scanner.New(scanner.DefaultOptions()), repoOf(bare), "", &scanner.Collector{})
	if !errors.Is(err, ErrNoWorkTree) {
		t.Errorf("bare: err %v, want ErrNoWorkTree", err)
	}
	r := testgit.New(t, "")
	os.WriteFile(filepath.Join(r.Dir, ".git", "index"), []byte("DIRC garbage"), 0o644)
	if _, err := ScanStaged(context.Background(), scanner.New(scanner.DefaultOptions()), repoOf(r), "", &scanner.Collector{}); err == nil {
		t.Error("a corrupt index gave no error")
	}
}

// TestStagedIndexChecksum: an index whose checksum alone is wrong is one
// git reads (it checks the checksum only in fsck) and go-git refuses; the
// error says how to have git write it anew, and after that command the
// staged key is found.
func TestStagedIndexChecksum(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	r.Write("a.txt", "a\n")
	r.Commit("first")
	k := gitTestKey("index-checksum")
	r.Write("b.env", "LOFTY_API_KEY="+k+"\n")
	r.Git("add", "b.env")
	name := filepath.Join(r.Dir, ".git", "index")
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 1
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r.Git("ls-files", "--stage") // git reads it (status would write it anew)
	_, err = ScanStaged(context.Background(), scanner.New(scanner.DefaultOptions()), repoOf(r), "", &scanner.Collector{})
	const fix = "git update-index --force-write-index"
	if err == nil || !strings.Contains(err.Error(), "checksum") || !strings.Contains(err.Error(), fix) {
		t.Fatalf("a wrong checksum: err %v, want one that names the checksum and %q", err, fix)
	}
	r.Git("update-index", "--force-write-index")
	checkStaged(t, scanStaged(t, repoOf(r), ""), map[string][]string{"b.env": {k}})
}

// TestCacheTree checks the reading of the index's TREE extension against
// git's own trees, in index versions 2, 3 and 4, and that the staged scan
// gives the same answer with and without it.
func TestCacheTree(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	for _, p := range []string{"a/1.txt", "a/b/2.txt", "a/b/c/3.txt", "d/4.txt", "top.txt", "a-b/5.txt"} {
		r.Write(p, p+"\n")
	}
	r.Commit("tree")
	for _, version := range []string{"2", "3", "4"} {
		r.Git("update-index", "--index-version", version)
		if version == "3" {
			// An extended flag (skip-worktree) makes entries two bytes longer.
			r.Git("update-index", "--skip-worktree", "d/4.txt")
		}
		r.Git("write-tree") // makes the whole cache valid
		b, err := os.ReadFile(filepath.Join(r.Dir, ".git", "index"))
		if err != nil {
			t.Fatal(err)
		}
		got := cacheTree(bytes.NewReader(b), int64(len(b)))
		for _, dir := range []string{"", "a", "a/b", "a/b/c", "d", "a-b"} {
			want := r.Git("rev-parse", "HEAD:"+dir)
			if got[dir].String() != want {
				t.Errorf("v%s: cached tree of %q is %s, want %s", version, dir, got[dir], want)
			}
		}
		if len(got) != 6 {
			t.Errorf("v%s: %d cached trees, want 6", version, len(got))
		}
	}
	// A path longer than cacheTree's peek at an entry (git takes one of
	// any length into the index), in each version.
	long := strings.Repeat(strings.Repeat("p", 200)+"/", 25) + "long.txt"
	blob := r.Git("rev-parse", "HEAD:top.txt")
	r.Git("update-index", "--add", "--cacheinfo", "100644,"+blob+","+long)
	for _, version := range []string{"2", "3", "4"} {
		r.Git("update-index", "--index-version", version)
		tree := r.Git("write-tree")
		b, err := os.ReadFile(filepath.Join(r.Dir, ".git", "index"))
		if err != nil {
			t.Fatal(err)
		}
		got := cacheTree(bytes.NewReader(b), int64(len(b)))
		if got[""].String() != tree || got["d"].String() != r.Git("rev-parse", "HEAD:d") || len(got) != 6+25 {
			t.Errorf("v%s with a path of %d bytes: root %s (want %s), %d cached trees (want 31)", version, len(long), got[""], tree, len(got))
		}
	}
	r.Git("update-index", "--force-remove", long)

	// A change invalidates the folders above it; the others stay valid.
	k := gitTestKey("cache")
	r.Write("a/b/new.env", "LOFTY_API_KEY="+k+"\n")
	r.Git("add", "a/b/new.env")
	b, _ := os.ReadFile(filepath.Join(r.Dir, ".git", "index"))
	got := cacheTree(bytes.NewReader(b), int64(len(b)))
	for _, dir := range []string{"", "a", "a/b"} {
		if _, ok := got[dir]; ok {
			t.Errorf("cached tree of %q is still valid after a change below it", dir)
		}
	}
	if got["a/b/c"].String() != r.Git("rev-parse", "HEAD:a/b/c") {
		t.Errorf("cached tree of a/b/c lost")
	}
	checkStaged(t, scanStaged(t, repoOf(r), ""), map[string][]string{"a/b/new.env": {k}})
}

// TestStagedSplitIndex: a split index (core.splitIndex) is one the staged
// check cannot read. The commit is blocked, and the error says how to turn
// the extension off, after which the staged key is found: it named the
// index and "unknown extension", and a user of the pre-commit hook was left
// unable to commit with no way on but --no-verify.
func TestStagedSplitIndex(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	r.Write("a.txt", "a\n")
	r.Commit("first")
	r.Write("app.env", "LOFTY_API_KEY="+gitTestKey("split")+"\n")
	r.Git("-c", "core.splitIndex=true", "add", "app.env")
	r.Git("update-index", "--split-index")
	_, err := ScanStaged(context.Background(), scanner.New(scanner.DefaultOptions()), repoOf(r), "", &scanner.Collector{})
	if err == nil || !strings.Contains(err.Error(), "git update-index --no-split-index") {
		t.Fatalf("err %v, want the command that turns the split index off", err)
	}
	r.Git("update-index", "--no-split-index")
	if got := scanStaged(t, repoOf(r), ""); len(got["app.env"]) != 1 {
		t.Errorf("after --no-split-index: %v", got)
	}
}
