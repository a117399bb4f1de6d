package remediate

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testtool"
)

// A key in a file Git LFS stores is in .git/lfs/objects and on the LFS
// server, not in git's blobs: the replacements cannot reach it, so the plan
// lists it as a step by hand that deletes the file from history and says
// where its contents are. Run as the plan says, nothing is left.
func TestPlanLFSFileIsAStepByHand(t *testing.T) {
	requireFilterRepo(t)
	testtool.Need(t, "git-lfs")
	base := t.TempDir()
	r := newRepo(t, filepath.Join(base, "repo"))
	r.git("lfs", "install", "--local")
	k := func(sub string) string { s, _ := testKey(sub); return s }
	r.commit("first", map[string]string{".gitattributes": "*.db filter=lfs diff=lfs merge=lfs -text\n", "README.md": "# app\n"})
	r.commit("add the database", map[string]string{
		"data/app.db": "SQLite format 3\x00settings\x00lofty_token\x00" + k("in-lfs") + "\x00",
		"config.env":  "LOFTY_API_KEY=" + k("plain") + "\n",
	})
	r.git("tag", "-a", "v1", "-m", "first release") // the check scans tag messages
	keys := scanRepo(t, r.dir)
	if len(keys) != 2 {
		t.Fatalf("the scan found %d keys, want 2:\n%s", len(keys), describeKeys(keys))
	}
	p := buildPlan(t, r.dir, base, keys)
	if len(p.Manual) != 1 || p.Manual[0].Occurrence.Path != "data/app.db" || !strings.Contains(p.Manual[0].Why, "Git LFS") ||
		p.Manual[0].Command == nil || strings.Join(p.Manual[0].Command.Args, " ") != "git filter-repo --invert-paths --path=data/app.db" {
		t.Fatalf("steps by hand: %+v", p.Manual)
	}
	object := ""
	for _, f := range strings.Fields(p.Manual[0].Do) {
		if strings.Contains(f, filepath.Join("lfs", "objects")) {
			object = f
			break
		}
	}
	if _, err := os.Stat(object); err != nil {
		t.Fatalf("the step does not name the contents' file (%q): %v\n%s", object, err, p.Manual[0].Do)
	}

	runCommands(t, base, p.Rewrite)
	cmd := exec.Command(p.Manual[0].Command.Args[0], append(p.Manual[0].Command.Args[1:], "--force")...)
	cmd.Dir = r.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the step by hand: %v\n%s", err, out)
	}
	if err := os.Remove(object); err != nil {
		t.Fatal(err)
	}
	runChecks(t, base, p.Check)
	filepath.WalkDir(filepath.Join(r.dir, ".git", "lfs"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(path)
			assertNoSecretIn(t, path, string(b), keys)
		}
		return nil
	})
}
