package gitscan

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/internal/testtoken"
	"github.com/loftyscan/loftyscan/scanner"
)

// The git tests build real repositories with the git CLI (internal/testgit)
// and scan them.

// repoOf finds the repository r made.
func repoOf(r *testgit.Repo) *Repository {
	r.T.Helper()
	return repoAt(r.T, r.Dir)
}

// repoAt finds the repository at dir.
func repoAt(t testing.TB, dir string) *Repository {
	t.Helper()
	repo, err := FindRepository(dir)
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// commitTime is a commit's committer date.
func commitTime(r *testgit.Repo, rev string) time.Time {
	r.T.Helper()
	n, err := strconv.ParseInt(r.Git("show", "-s", "--format=%ct", rev), 10, 64)
	if err != nil {
		r.T.Fatal(err)
	}
	return time.Unix(n, 0)
}

// stashList lists the stash entries, as git stash list does, in a bare
// repository too.
func stashList(r *testgit.Repo) []string {
	r.T.Helper()
	if r.Git("for-each-ref", "refs/stash") == "" {
		return nil
	}
	return strings.Fields(r.Git("log", "-g", "--format=%H", "refs/stash"))
}

// scanGit runs a history scan and returns its findings, sorted, and the
// collector with the warnings.
func scanGit(t testing.TB, repo *Repository, opts HistoryOptions) ([]finding.Finding, *scanner.Collector, finding.Stats) {
	t.Helper()
	c := &scanner.Collector{}
	st, err := ScanHistory(context.Background(), scanner.New(scanner.DefaultOptions()), repo, opts, c)
	if err != nil {
		t.Fatalf("ScanHistory: %v", err)
	}
	return c.Sorted(), c, st
}

// testKey is a synthetic key for sub, in an assignment that names Lofty.
func gitTestKey(sub string) string {
	return testtoken.Key(sub, time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
}

// want is what a test expects of a finding.
type gitWant struct {
	key    string // the token
	path   string
	commit string // full hash
	inHead bool
	line   int // 0: not checked
	enc    string
}

// checkGitFindings asserts that findings are exactly wants, in any order.
func checkGitFindings(t testing.TB, got []finding.Finding, wants ...gitWant) {
	t.Helper()
	if len(got) != len(wants) {
		for _, f := range got {
			t.Logf("got %s:%d commit %.7s in_head %v enc %q (%s)", f.Path, f.Line, f.Commit, gitDeref(f.InHead), f.Encoding, f.Subject)
		}
		t.Fatalf("got %d findings, want %d", len(got), len(wants))
	}
	for _, w := range wants {
		found := false
		for _, f := range got {
			if f.Secret != w.key || f.Path != w.path {
				continue
			}
			found = true
			if f.Commit != w.commit {
				t.Errorf("%s: commit %.7s, want %.7s", w.path, f.Commit, w.commit)
			}
			if f.InHead == nil || *f.InHead != w.inHead {
				t.Errorf("%s: in_head %v, want %v", w.path, gitDeref(f.InHead), w.inHead)
			}
			if w.line != 0 && f.Line != w.line {
				t.Errorf("%s: line %d, want %d", w.path, f.Line, w.line)
			}
			if f.Encoding != w.enc {
				t.Errorf("%s: encoding %q, want %q", w.path, f.Encoding, w.enc)
			}
			if f.Author != "Ada Author" || f.Email != "ada@example.com" || f.Date.IsZero() || f.Message == "" {
				t.Errorf("%s: git fields missing: %q %q %v %q", w.path, f.Author, f.Email, f.Date, f.Message)
			}
		}
		if !found {
			t.Errorf("no finding of the key at %s", w.path)
		}
	}
}

func gitDeref(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}
