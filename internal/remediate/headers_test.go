package remediate

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
)

// A key in a commit's header lines is reached by no replacement. The plan
// lists each as a step by hand, and what it says is so: the rewrite drops
// a mergetag header (git filter-repo makes each commit again with only its
// author and committer among its headers), and a mailmap rewrite, as the
// step says, removes a key in an author's name. Run so, nothing is left.
func TestPlanHeaderKeysAreStepsByHand(t *testing.T) {
	requireFilterRepo(t)
	base := t.TempDir()
	r := newRepo(t, filepath.Join(base, "repo"))
	k := func(sub string) string { s, _ := testKey(sub); return s }
	first := r.commit("first", map[string]string{"README.md": "# app\n"})
	tree := strings.TrimSpace(r.git("rev-parse", "HEAD^{tree}"))
	text := "tree " + tree + "\nparent " + first + "\n" +
		"author A <a@example.com> 1700000000 +0000\ncommitter A <a@example.com> 1700000000 +0000\n" +
		"mergetag object " + first + "\n type commit\n tag v0\n tagger A <a@example.com> 1700000000 +0000\n \n token " + k("mergetag") + "\n" +
		"\nMerge tag 'v0'\n"
	merge := testgit.WriteLoose(t, filepath.Join(r.dir, ".git", "objects"), fmt.Sprintf("commit %d", len(text)), strings.NewReader(text)).String()
	r.git("reset", "-q", "--hard", merge)
	cmd := exec.Command("git", append(append([]string{}, gitArgs...), "commit", "-q", "--allow-empty", "-m", "second")...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Dev "+k("author"), "GIT_AUTHOR_EMAIL=dev@example.com")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git commit: %v\n%s", err, out)
	}
	r.git("tag", "-a", "v1", "-m", "first release") // the check scans tag messages
	keys := scanRepo(t, r.dir)
	if len(keys) != 2 {
		t.Fatalf("the scan found %d keys, want 2:\n%s", len(keys), describeKeys(keys))
	}
	p := buildPlan(t, r.dir, base, keys)
	if len(p.Manual) != 2 {
		t.Fatalf("steps by hand: %+v; want one for each key", p.Manual)
	}
	for _, m := range p.Manual {
		if !m.Occurrence.InHeaders || m.Command != nil || !strings.Contains(describeOccurrence(m.Occurrence), "in its header lines") ||
			!strings.Contains(m.Do, "--mailmap") || !strings.Contains(m.Why, "header lines") {
			t.Errorf("step by hand %+v; want one about the commit's header lines, saying how to use a mailmap", m)
		}
	}

	runCommands(t, base, p.Rewrite)
	left := scanRepo(t, r.dir)
	if len(left) != 1 || left[0].Secret != k("author") {
		t.Fatalf("after the rewrite, keys left: %s; want the author's alone (the mergetag header dropped)", describeKeys(left))
	}
	mailmap := filepath.Join(base, "mailmap")
	if err := os.WriteFile(mailmap, []byte("New Name <new@example.com> <dev@example.com>\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.git("filter-repo", "--force", "--mailmap", mailmap)
	runChecks(t, base, p.Check)
}
