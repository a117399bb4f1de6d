package cli

import (
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
)

// TestStagedAcceptAdviceWorks follows the terminal report's advice for a test
// fixture that the pre-commit hook blocks. Adding the fingerprint to
// .loftyscanignore in the same commit, which the advice used to suggest, does
// not work: the commit is checked against HEAD's settings. The advice must say
// to commit the entry first, and doing that must let the key through.
func TestStagedAcceptAdviceWorks(t *testing.T) {
	t.Parallel()
	testgit.Require(t)
	r := testgit.New(t, t.TempDir())
	r.Write("README", "app\n")
	r.Commit("init")
	key := gitKey("fixture")
	entry := fingerprintOf(key) + " testdata/** # synthetic key of the client tests\n"

	r.Write("testdata/client.env", "LOFTY_API_KEY="+key+"\n")
	r.Write(".loftyscanignore", entry)
	r.Git("add", "-A")
	code, stdout, stderr := runGit(t, nil, "", "git", "--staged", "--no-color", r.Dir)
	if code != exitFindings {
		t.Fatalf("key and ignore entry in one commit: exit %d, want %d (HEAD's settings apply); stderr:\n%s", code, exitFindings, stderr)
	}
	advice := strings.Join(strings.Fields(stdout), " ")
	if !strings.Contains(advice, "in a commit of its own first") {
		t.Errorf("the advice does not say to commit the .loftyscanignore entry first:\n%s", stdout)
	}

	// As the advice says: the entry alone first, then the fixture.
	r.Git("reset", "-q")
	r.Git("add", ".loftyscanignore")
	r.Git("commit", "-q", "--no-verify", "-m", "accept the client tests' fixture key")
	r.Git("add", "-A")
	if code, _, stderr := runGit(t, nil, "", "git", "--staged", r.Dir); code != exitClean {
		t.Errorf("fixture after its ignore entry was committed: exit %d, want 0; stderr:\n%s", code, stderr)
	}
}
