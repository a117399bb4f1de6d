package gitscan

import (
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/rules"
)

// TestGitSplitKeys: a key split across string literals is found in history
// whole, at its first piece's line, with the commit that introduced it;
// a later edit of the file is not a new finding, and a key whose file was
// deleted is still found.
func TestGitSplitKeys(t *testing.T) {
	t.Parallel()
	testgit.Require(t)
	r := testgit.New(t, "")
	py, js := gitTestKey("git-split-python"), gitTestKey("git-split-js")

	r.Write("app.py", "import os\n")
	r.Commit("start")
	r.Write("app.py", "import os\n\nKEY = (\n    \""+py[:40]+"\"  # header\n    \""+py[40:]+"\"\n)\n")
	r.Write("client.js", "const key = '"+js[:70]+"' +\n  '"+js[70:]+"';\n")
	introduced := r.Commit("add the client")
	r.Write("app.py", "import os\nimport sys\n\nKEY = (\n    \""+py[:40]+"\"  # header\n    \""+py[40:]+"\"\n)\n")
	r.Git("rm", "-q", "client.js")
	r.Commit("edit app.py, drop the client")

	got, _, _ := scanGit(t, repoOf(r), HistoryOptions{})
	checkGitFindings(t, got,
		gitWant{key: py, path: "app.py", commit: introduced, inHead: true, line: 4},
		gitWant{key: js, path: "client.js", commit: introduced, inHead: false, line: 1},
	)
	for _, f := range got {
		if f.RuleID != rules.RuleAPIKey || f.Status != rules.StatusActive {
			t.Errorf("%s: rule %q, status %q; want %s, %s", f.Path, f.RuleID, f.Status, rules.RuleAPIKey, rules.StatusActive)
		}
	}
}
