package remediate

import (
	"os"
	"path/filepath"
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
