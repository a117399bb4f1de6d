package gitscan

import (
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
)

// A ref whose name holds a key is no file, so no finding reports it and no
// rewrite of files removes it: a scan of every ref names each such ref in
// a warning (the check a remediation plan ends with says it is left).
func TestGitScanNamesRefsWhoseNameHoldsAKey(t *testing.T) {
	r := testgit.New(t, "")
	r.Write("README.md", "# app\n")
	r.Commit("first")
	key := gitTestKey("in-a-ref-name")
	r.Git("branch", "wip/"+key)
	r.Git("tag", "backup-"+key)
	found, c, st := scanGit(t, repoOf(r), HistoryOptions{})
	if len(found) != 0 {
		t.Errorf("findings: %v", found)
	}
	named := map[string]bool{}
	for _, w := range c.Warnings {
		if strings.Contains(w.Message, "the name of this ref holds a Lofty API key") {
			named[w.Path] = true
		}
	}
	// (A warning's path is shown as reports show it: the key redacted.)
	want := func(prefix string) bool {
		for p := range named {
			if strings.HasPrefix(p, prefix+"eyJ") {
				return true
			}
		}
		return false
	}
	if !want("refs/heads/wip/") || !want("refs/tags/backup-") || len(named) != 2 || st.Errors != 2 {
		t.Errorf("warnings %v, errors %d: want one for each ref named by the key", c.Warnings, st.Errors)
	}
}
