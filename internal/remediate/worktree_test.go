package remediate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// filter-repo resets only the work tree it runs in. The repository's other
// work trees (git worktree add), one on a branch and one detached, kept the
// old files and, in their indexes, the old blobs: the check found the key
// "staged" and a commit there would have brought it back. The plan resets
// each and prunes what their indexes held.
func TestPlanResetsTheOtherWorktrees(t *testing.T) {
	requireFilterRepo(t)
	base := t.TempDir()
	r := newRepo(t, filepath.Join(base, "repo"))
	secret, _ := testKey("in-every-worktree")
	r.commit("config", map[string]string{"app.env": "LOFTY_API_KEY=" + secret + "\n"})
	r.git("tag", "-a", "v1", "-m", "first release") // the check scans tag messages
	side, detached := filepath.Join(base, "side"), filepath.Join(base, "detached")
	r.git("worktree", "add", "-q", "-b", "side", side)
	r.git("worktree", "add", "-q", "--detach", detached)

	keys := scanRepo(t, r.dir)
	p := buildPlan(t, r.dir, base, keys)
	runCommands(t, base, p.Rewrite)
	runChecks(t, base, p.Check)
	for _, wt := range []string{r.dir, side, detached} {
		b, err := os.ReadFile(filepath.Join(wt, "app.env"))
		if err != nil {
			t.Fatal(err)
		}
		assertNoSecretIn(t, wt+"/app.env", string(b), keys)
		if st := git(t, wt, "status", "--porcelain"); st != "" {
			t.Errorf("%s is not clean after the plan:\n%s", filepath.Base(wt), st)
		}
	}
}

// The plan folder holds the keys in full and must be outside the
// repository, where nothing can commit it; another work tree of the
// repository is the repository too (a git add -A there committed the
// folder). From the main work tree or from a linked one, a plan folder in
// any of them is refused.
func TestPlanFolderMustBeOutsideEveryWorktree(t *testing.T) {
	base := t.TempDir()
	r := newRepo(t, filepath.Join(base, "repo"))
	r.commit("initial", map[string]string{"README.md": "# demo\n"})
	side := filepath.Join(base, "side")
	r.git("worktree", "add", "-q", "-b", "side", side)
	for _, from := range []string{r.dir, side} {
		facts, err := ReadFacts(context.Background(), from, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, parent := range []string{r.dir, side, filepath.Join(side, "sub")} {
			os.MkdirAll(parent, 0o755)
			dir, err := MakePlanDir(parent, facts)
			if err == nil || !strings.Contains(err.Error(), "inside the repository") {
				t.Errorf("from %s, a plan folder in %s: %q, %v", filepath.Base(from), parent, dir, err)
			}
		}
	}
	for _, wt := range []string{r.dir, side} {
		if st := git(t, wt, "status", "--porcelain", "--untracked-files=all"); st != "" {
			t.Errorf("the plan wrote into %s:\n%s", filepath.Base(wt), st)
		}
	}
}

// git remote add refuses a name with a space, but a repository's config
// can hold one ([remote "a b"]), and git lists it. The remotes were read
// as words: "a" and "b", which git did not know, and the plan failed
// ("cannot read the repository's refs and remotes"). Each line is a name.
func TestReadFactsReadsARemoteNamedWithASpace(t *testing.T) {
	base := t.TempDir()
	r := newRepo(t, filepath.Join(base, "repo"))
	r.commit("initial", map[string]string{"README.md": "# demo\n"})
	r.git("config", "remote.a b.url", "https://example.invalid/x.git")
	facts, err := ReadFacts(context.Background(), r.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(facts.Remotes) != 1 || facts.Remotes[0].Name != "a b" || facts.Remotes[0].FetchURL != "https://example.invalid/x.git" {
		t.Errorf("remotes %+v, want the one named \"a b\"", facts.Remotes)
	}
}
