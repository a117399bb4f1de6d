package gitscan

import (
	"testing"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// A ref whose name holds a key is no file and no rewrite of files removes
// it, while everyone who can list the refs sees it: a scan of every ref
// reports each such ref at location ref, under its full name, with the
// key's column in it and no commit (it was a warning, and a scan with no
// other finding passed). A scan of a range lists no ref and reports none.
func TestGitScanReportsRefsWhoseNameHoldsAKey(t *testing.T) {
	r := testgit.New(t, "")
	r.Write("README.md", "# app\n")
	r.Commit("first")
	key := gitTestKey("in-a-ref-name")
	r.Git("branch", "wip/"+key)
	r.Git("tag", "backup-"+key)
	found, c, st := scanGit(t, repoOf(r), HistoryOptions{})
	for _, w := range c.Warnings {
		t.Errorf("warning: %s", w)
	}
	got := map[string]int{}
	for _, f := range found {
		if f.Location != finding.InRef || f.Commit != "" || f.Line != 1 || f.Exposure != nil {
			t.Errorf("finding %+v: want location ref, line 1, no commit or exposure", f)
		}
		got[f.Path] = f.Column
	}
	want := map[string]int{"refs/heads/wip/" + key: len("refs/heads/wip/") + 1, "refs/tags/backup-" + key: len("refs/tags/backup-") + 1}
	if len(got) != len(want) || st.Errors != 0 {
		t.Fatalf("findings at %v, %d errors: want one at each ref named by the key", got, st.Errors)
	}
	for p, col := range want {
		if got[p] != col {
			t.Errorf("%s: column %d, want %d", p[:20], got[p], col)
		}
	}
	if found, _, _ := scanGit(t, repoOf(r), HistoryOptions{Refs: []string{"HEAD"}}); len(found) != 0 {
		t.Errorf("a scan of HEAD reports %d findings", len(found))
	}
}
