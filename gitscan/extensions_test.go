package gitscan

import (
	"context"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// TestRepositoryExtensions: extensions that change nothing a reader sees
// do not stop a scan. `git sparse-checkout set` turns on
// extensions.worktreeConfig (with core.repositoryformatversion 0), and
// go-git refused to open such a repository, so every loftyscan command,
// the pre-commit and pre-push hooks included, failed in sparse checkouts;
// preciousObjects and the legacy partialClone marker too. An extension that
// does change what is read (refStorage: refs in a reftable) still fails:
// reading past it would scan no refs and pass.
func TestRepositoryExtensions(t *testing.T) {
	t.Parallel()
	committed, staged := gitTestKey("committed"), gitTestKey("staged")
	setups := []struct {
		name  string
		setup func(r *testgit.Repo)
	}{
		{"git sparse-checkout", func(r *testgit.Repo) {
			r.Git("sparse-checkout", "set", "--cone", "app")
		}},
		{"format 1 with worktreeConfig and preciousObjects", func(r *testgit.Repo) {
			r.Git("config", "core.repositoryFormatVersion", "1")
			r.Git("config", "extensions.worktreeConfig", "true")
			r.Git("config", "extensions.preciousObjects", "true")
		}},
		{"legacy partialClone marker", func(r *testgit.Repo) {
			r.Git("config", "core.repositoryFormatVersion", "1")
			r.Git("config", "extensions.partialClone", "origin")
		}},
	}
	for _, tt := range setups {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := testgit.New(t, "")
			r.Write("app/app.env", "LOFTY_API_KEY="+committed+"\n")
			r.Write("other/x.txt", "x\n")
			r.Git("add", "-A")
			r.Commit("first")
			tt.setup(r)
			r.Write("app/new.env", "LOFTY_API_KEY="+staged+"\n")
			r.Git("add", "app/new.env")
			repo := repoOf(r)

			// The staged blob is in the object database too: the history
			// scan reports it as unreachable, with no commit.
			got, c, _ := scanGit(t, repo, HistoryOptions{})
			head, found := r.Git("rev-parse", "HEAD"), false
			for _, f := range got {
				switch {
				case f.Secret == committed && f.Path == "app/app.env" && f.Commit == head:
					found = true
				case f.Secret == staged && f.Commit == "":
				default:
					t.Errorf("unexpected finding at %s, commit %.7s", f.Path, f.Commit)
				}
			}
			if !found {
				t.Errorf("the committed key was not found in app/app.env at HEAD (%d findings)", len(got))
			}
			if len(c.Warnings) != 0 {
				t.Errorf("warnings: %v", c.Warnings)
			}
			checkStaged(t, scanStaged(t, repo, ""), map[string][]string{"app/new.env": {staged}})
		})
	}

	t.Run("refStorage still refused", func(t *testing.T) {
		t.Parallel()
		r := testgit.New(t, "")
		r.Write("app.env", "LOFTY_API_KEY="+committed+"\n")
		r.Git("add", "-A")
		r.Commit("first")
		r.Git("config", "core.repositoryFormatVersion", "1")
		r.Git("config", "extensions.refStorage", "reftable")
		c := &scanner.Collector{}
		_, err := ScanHistory(context.Background(), scanner.New(scanner.DefaultOptions()), repoOf(r), HistoryOptions{}, c)
		if err == nil || !strings.Contains(err.Error(), "refstorage") {
			t.Errorf("a repository with refs in a reftable: error %v, want one naming the extension", err)
		}
	})
}
