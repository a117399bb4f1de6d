package gitscan

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// The oracle: go-git reading every object one at a time, as the history
// scan first did, is the reference the pack reader and its sweep are
// compared with. Every way of reading, on one worker or several, must
// give the same findings, the same warnings and the same counts.

func gitCmd(r *gitTestRepo, args ...string) *exec.Cmd {
	cmd := exec.Command("git", append(append([]string(nil), gitArgs...), args...)...)
	cmd.Dir = r.dir
	cmd.Env = gitEnv(r.home, r.now())
	return cmd
}

// scanWith runs a history scan reading blobs the given way, on workers
// workers (0: one per CPU).
func scanWith(t testing.TB, repo *Repository, opts GitOptions, mode gitReadMode, workers int) ([]Finding, *Collector, Stats) {
	t.Helper()
	o := DefaultOptions()
	o.Workers = workers
	s := New(o)
	s.gitRead = mode
	c := &Collector{}
	st, err := s.ScanGit(context.Background(), repo, opts, c)
	if err != nil {
		t.Fatalf("ScanGit: %v", err)
	}
	return c.Sorted(), c, st
}

// findingKey is everything a report shows of a finding.
func findingKey(f Finding) string {
	in := "nil"
	if f.InHead != nil {
		in = fmt.Sprint(*f.InHead)
	}
	return fmt.Sprintf("%s|%s|%s|%d|%d|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s",
		f.RuleID, f.Fingerprint, f.Path, f.Line, f.Column, f.Encoding, f.Status, f.ExpiresAt.Format("2006-01-02T15:04:05Z07:00"),
		f.Alg, f.Subject, f.Suppressed, f.Commit, f.Author, f.Email, f.Date.Format("2006-01-02T15:04:05Z07:00"), f.Message+"|"+in)
}

func compareFindings(t testing.TB, name string, want, got []Finding) {
	t.Helper()
	var w, g []string
	for _, f := range want {
		w = append(w, findingKey(f))
	}
	for _, f := range got {
		g = append(g, findingKey(f))
	}
	slices.Sort(w)
	slices.Sort(g)
	if !slices.Equal(w, g) {
		t.Errorf("%s: findings differ\nwant:\n  %s\ngot:\n  %s", name, strings.Join(w, "\n  "), strings.Join(g, "\n  "))
	}
}

func warningKeys(c *Collector) []string {
	var out []string
	for _, w := range c.Warnings {
		out = append(out, w.String())
	}
	slices.Sort(out)
	return out
}

// checkFastMatchesSlow scans repo every way and compares with go-git.
func checkFastMatchesSlow(t *testing.T, repo *Repository, opts GitOptions) {
	t.Helper()
	want, wc, wst := scanWith(t, repo, opts, readGoGit, 1)
	if len(want) == 0 && len(wc.Warnings) == 0 {
		t.Logf("%+v: nothing found by go-git", opts)
	}
	for _, mode := range []gitReadMode{readAuto, readSweep, readOneByOne} {
		for _, workers := range []int{1, 4} {
			name := fmt.Sprintf("%+v mode %d, %d workers", opts, mode, workers)
			got, gc, gst := scanWith(t, repo, opts, mode, workers)
			compareFindings(t, name, want, got)
			if w, g := warningKeys(wc), warningKeys(gc); !slices.Equal(w, g) {
				t.Errorf("%s: warnings %q, go-git %q", name, g, w)
			}
			if gst.Files != wst.Files || gst.Bytes != wst.Bytes || gst.Errors != wst.Errors || gst.Findings != wst.Findings {
				t.Errorf("%s: stats %+v, go-git %+v", name, gst, wst)
			}
		}
	}
}

// TestGitFastMatchesSlow compares the readers on the history fixture,
// packed in different ways, for a full scan and for selections.
func TestGitFastMatchesSlow(t *testing.T) {
	t.Parallel()
	f := sharedHistory(t)
	c := f.commits
	selections := []GitOptions{
		{},
		{Exclude: []string{c["base"]}, Refs: []string{"main"}},
		{Refs: []string{"feature"}},
		{Since: f.repo.commitTime(c["edit"])},
	}
	for _, tc := range []struct {
		name   string
		repack []string
	}{
		{name: "loose"},
		{name: "packed", repack: []string{"repack", "-a", "-d", "-f", "--depth=50", "-q"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.repack != nil {
				// A copy, so that the other subtests keep loose objects.
				dir := t.TempDir() + "/clone"
				f.repo.runIn(t.TempDir(), "clone", "-q", "--mirror", f.repo.dir, dir)
				r := &gitTestRepo{t: t, dir: dir, home: f.repo.home}
				r.git(tc.repack...)
				for _, opts := range selections {
					checkFastMatchesSlow(t, r.repository(), opts)
				}
				return
			}
			for _, opts := range selections {
				checkFastMatchesSlow(t, f.repo.repository(), opts)
			}
		})
	}
}

// TestParseCommitHead compares the walk's commit parser with go-git's
// decoder on well-formed and odd commits.
func TestParseCommitHead(t *testing.T) {
	t.Parallel()
	const (
		tree = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
		p1   = "parent 1111111111111111111111111111111111111111\n"
		p2   = "parent 2222222222222222222222222222222222222222\n"
		au   = "author Ada Author <ada@example.com> 1700000000 +0100\n"
		co   = "committer Cy Committer <cy@example.com> 1700000600 -0230\n"
		sig  = "gpgsig -----BEGIN PGP SIGNATURE-----\n \n abc\n -----END PGP SIGNATURE-----\n"
	)
	for _, body := range []string{
		tree + p1 + au + co + "\nsubject\n\nbody\n",
		tree + p1 + p2 + au + co + sig + "\nmerge\n",
		tree + au + co + "\n",
		tree + co + "\nno author\n",
		tree + au + "\nno committer\n",
		tree + co + au + "\nswapped\n",
		tree + au + p1 + co + "\nparent out of place\n",
		tree + p1 + "committer Cy <cy@example.com>\n\nno time\n",
		tree + p1 + "committer Cy <cy@example.com> notatime +0000\n\nbad time\n",
		tree + p1 + "committer Cy cy@example.com 1700000000 +0000\n\nno brackets\n",
		tree + "parent 123\n" + co + "\nbad parent\n",
		p1 + tree + co + "\ntree not first\n",
		"\n" + tree,
		"",
		tree,
		tree + p1,
		"tree 4b825dc642cb6eb9a060e54bf8d69288fbee490\n" + co + "\nshort tree\n",
	} {
		obj := &plumbing.MemoryObject{}
		obj.SetType(plumbing.CommitObject)
		obj.Write([]byte(body))
		want, werr := object.DecodeCommit(nil, obj)
		got, gerr := parseCommitHead(obj.Hash(), []byte(body))
		if (werr != nil) != (gerr != nil) {
			t.Errorf("%q: error %v, go-git %v", body, gerr, werr)
			continue
		}
		if werr != nil {
			continue
		}
		if got.tree != want.TreeHash || !slices.Equal(got.parents, want.ParentHashes) || !got.when.Equal(want.Committer.When) {
			t.Errorf("%q: tree %s parents %v when %v; go-git %s %v %v", body, got.tree, got.parents, got.when, want.TreeHash, want.ParentHashes, want.Committer.When)
		}
	}
}
