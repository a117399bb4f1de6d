package gitscan

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// Odd repositories: clones that borrow their objects, damaged refs and
// packs, a .gitmodules that go-git cannot parse. Each is made with the git
// CLI; the scan keeps what it can read and says what it could not.

// borrowingClones makes a repository of 60 commits, the last adding a key,
// and two clones of it that borrow its objects: git clone --shared (the
// clone has no objects of its own) and --reference.
func borrowingClones(t *testing.T) (src *testgit.Repo, key string, clones map[string]*testgit.Repo) {
	src = testgit.New(t, "")
	for i := range 60 {
		src.Write("notes.txt", strings.Repeat("line\n", i+1))
		src.Commit("note")
	}
	key = gitTestKey("borrowed")
	src.Write("k.env", "LOFTY_API_KEY="+key+"\n")
	src.Commit("a key")
	clones = map[string]*testgit.Repo{}
	for name, args := range map[string][]string{"shared": {"--shared"}, "reference": {"--reference", src.Dir}} {
		c := src.At(t, filepath.Join(t.TempDir(), name))
		src.GitIn(filepath.Dir(c.Dir), append(append([]string{"clone", "-q"}, args...), src.Dir, c.Dir)...)
		if _, err := os.Stat(filepath.Join(c.Dir, ".git", "objects", "info", "alternates")); err != nil {
			t.Fatalf("%s: the clone borrows nothing: %v", name, err)
		}
		clones[name] = c
	}
	return src, key, clones
}

// TestGitAlternates scans clones that borrow their objects through
// alternates, by range (HEAD~50..HEAD, an abbreviated hash) as CI caches
// make them: revisions resolve through the objects the scan reads.
func TestGitAlternates(t *testing.T) {
	t.Parallel()
	src, key, clones := borrowingClones(t)
	short := src.Git("rev-parse", "--short=9", "HEAD~50")
	for name, c := range clones {
		for _, opts := range []HistoryOptions{
			{Exclude: []string{"HEAD~50"}, Refs: []string{"HEAD"}},
			{Exclude: []string{short}, Refs: []string{"main"}},
			{},
		} {
			got, w, st := scanGit(t, repoOf(c), opts)
			if len(got) != 1 || got[0].Secret != key || got[0].Path != "k.env" || len(w.Warnings) != 0 {
				t.Errorf("%s %+v: findings %v, warnings %v; want the key", name, opts, got, w.Warnings)
			}
			// Each commit's message is scanned too, and counted as a file.
			commits, _ := strconv.ParseInt(c.Git("rev-list", "--count", "HEAD", "^HEAD~50"), 10, 64)
			if want := blobsIntroduced(c, "HEAD", "^HEAD~50") + commits; len(opts.Exclude) > 0 && st.Files != want {
				t.Errorf("%s %+v: %d blobs and messages scanned, git lists %d", name, opts, st.Files, want)
			}
		}
	}
}

// blobsIntroduced counts the blobs git lists for revs (rev-list --objects).
func blobsIntroduced(r *testgit.Repo, revs ...string) int64 {
	var names []string
	for _, line := range strings.Split(r.Git(append([]string{"rev-list", "--objects"}, revs...)...), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	out, err := r.Cmd(strings.Join(names, "\n")+"\n", nil, "cat-file", "--batch-check=%(objecttype)").Output()
	if err != nil {
		r.T.Fatal(err)
	}
	return int64(strings.Count(string(out), "blob\n"))
}

// TestGitSubmodulesBorrowed lists the submodules of a clone that borrows
// its objects: they are found, and scanned when checked out.
func TestGitSubmodulesBorrowed(t *testing.T) {
	t.Parallel()
	lib := testgit.New(t, "")
	libKey := gitTestKey("lib")
	lib.Write("lib.env", "LOFTY_API_KEY="+libKey+"\n")
	lib.Commit("lib")
	super := testgit.New(t, "")
	super.Write("README", "app\n")
	super.Commit("first")
	super.Git("submodule", "add", "-q", lib.Dir, "vendor/lib")
	super.Commit("a submodule")
	c := super.At(t, filepath.Join(t.TempDir(), "shared"))
	super.GitIn(filepath.Dir(c.Dir), "clone", "-q", "--shared", super.Dir, c.Dir)
	c.Git("submodule", "update", "-q", "--init")
	col := &scanner.Collector{}
	if _, err := ScanSubmodules(context.Background(), scanner.New(scanner.DefaultOptions()), repoOf(c), true, col); err != nil {
		t.Fatal(err)
	}
	if len(col.Findings) != 1 || col.Findings[0].Path != "vendor/lib/lib.env" || len(col.Warnings) != 0 {
		t.Errorf("findings %v, warnings %v; want the library's key", col.Findings, col.Warnings)
	}
}

// TestGitSubmodulesBadModules: one entry of .gitmodules holds a NUL, which
// makes go-git's parser give up on the whole file. The other submodules,
// named apart from their paths, are still found and scanned; the bad entry
// gets a warning.
func TestGitSubmodulesBadModules(t *testing.T) {
	t.Parallel()
	lib := testgit.New(t, "")
	lib.Write("lib.env", "LOFTY_API_KEY="+gitTestKey("named")+"\n")
	lib.Commit("lib")
	super := testgit.New(t, "")
	super.Write("README", "app\n")
	super.Commit("first")
	super.Git("submodule", "add", "-q", "--name", "one-name", lib.Dir, "one")
	super.Git("submodule", "add", "-q", "--name", "two-name", lib.Dir, "two")
	modules, err := os.ReadFile(filepath.Join(super.Dir, ".gitmodules"))
	if err != nil {
		t.Fatal(err)
	}
	modules = append(modules, "[submodule \"bad\"]\n\tpath = ba\x00d\n\turl = ../x\n"...)
	super.Write(".gitmodules", string(modules))
	super.Commit("a bad .gitmodules entry")
	col := &scanner.Collector{}
	if _, err := ScanSubmodules(context.Background(), scanner.New(scanner.DefaultOptions()), repoOf(super), true, col); err != nil {
		t.Fatal(err)
	}
	paths := map[string]bool{}
	for _, f := range col.Findings {
		paths[f.Path] = true
	}
	if !paths["one/lib.env"] || !paths["two/lib.env"] {
		t.Errorf("findings at %v; want the key in both submodules", paths)
	}
	if w := col.Warnings; len(w) != 1 || w[0].Path != ".gitmodules" || !strings.Contains(w[0].Message, "1 of its entries cannot be read") {
		t.Errorf("warnings %v; want one about the bad entry", w)
	}
}

// TestGitDamagedPackedRefs: a line of garbage in packed-refs. go-git gives
// up on every ref; the scan warns and scans the history of every ref that
// reads, loose or packed.
func TestGitDamagedPackedRefs(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	k1, k2, k3 := gitTestKey("packed-main"), gitTestKey("packed-tag"), gitTestKey("loose-branch")
	r.Write("a.env", "LOFTY_API_KEY="+k1+"\n")
	r.Commit("main")
	r.Git("checkout", "-q", "-b", "side")
	r.Write("b.env", "LOFTY_API_KEY="+k2+"\n")
	r.Commit("tagged")
	r.Git("tag", "v1")
	r.Git("checkout", "-q", "-b", "loose", "main")
	r.Write("c.env", "LOFTY_API_KEY="+k3+"\n")
	r.Commit("loose")
	r.Git("pack-refs", "--all")
	r.Git("update-ref", "refs/heads/loose", "HEAD") // a loose ref again
	r.Git("checkout", "-q", "main")
	r.Git("branch", "-q", "-D", "side") // v1 alone holds k2 now, in packed-refs
	p := filepath.Join(r.Dir, ".git", "packed-refs")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	damaged := lines[0] + "\x00\x01 garbage that is no ref\n" + strings.Join(lines[1:], "")
	if err := os.WriteFile(p, []byte(damaged), 0o644); err != nil {
		t.Fatal(err)
	}
	got, c, _ := scanGit(t, repoOf(r), HistoryOptions{})
	keys := keysFound(got)
	if keys[k1] != 1 || keys[k2] != 1 || keys[k3] != 1 {
		t.Errorf("findings %v; want the keys of main, v1 and loose", keys)
	}
	if w := warned(c, "cannot read every ref", "left out 1 line(s) of packed-refs"); len(w) != 1 {
		t.Errorf("warnings %v; want one about packed-refs", c.Warnings)
	}
}

// TestGitDamagedPack: a pack whose index is cut short cannot be opened.
// The scan says so, names the pack, and reports the keys of the objects
// outside it.
func TestGitDamagedPack(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	k1, k2 := gitTestKey("in-pack"), gitTestKey("loose")
	r.Write("a.env", "LOFTY_API_KEY="+k1+"\n")
	r.Commit("packed")
	r.Git("repack", "-a", "-d", "-q")
	r.Write("b.env", "LOFTY_API_KEY="+k2+"\n")
	r.Commit("loose")
	idx, _ := filepath.Glob(filepath.Join(r.Dir, ".git", "objects", "pack", "*.idx"))
	if len(idx) != 1 {
		t.Fatalf("packs %v", idx)
	}
	os.Chmod(idx[0], 0o644)
	if err := os.Truncate(idx[0], 100); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := &scanner.Collector{}
	if _, err := ScanHistory(ctx, scanner.New(scanner.DefaultOptions()), repoOf(r), HistoryOptions{}, c); err != nil {
		t.Fatal(err)
	}
	if keys := keysFound(c.Findings); keys[k2] != 1 || keys[k1] != 0 {
		t.Errorf("findings %v; want the loose key only", keys)
	}
	if w := warned(c, filepath.Base(idx[0]), "the objects only this pack holds were not scanned"); len(w) != 1 {
		t.Errorf("warnings %v; want one naming the pack", c.Warnings)
	}
}
