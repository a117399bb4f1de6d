package gitscan

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// The oracle: go-git reading every object one at a time, as the history
// scan first did, is the reference the pack reader and its sweep are
// compared with. Every way of reading, on one worker or several, must
// give the same findings, the same warnings and the same counts.

// scanWith runs a history scan reading objects the given way, on workers
// workers (0: one per CPU).
func scanWith(t testing.TB, repo *Repository, opts HistoryOptions, tune tuning, workers int) ([]finding.Finding, *scanner.Collector, finding.Stats) {
	t.Helper()
	o := scanner.DefaultOptions()
	o.Workers = workers
	c := &scanner.Collector{}
	st, err := scanHistoryTuned(context.Background(), scanner.New(o), repo, opts, c, tune)
	if err != nil {
		t.Fatalf("ScanHistory: %v", err)
	}
	return c.Sorted(), c, st
}

// findingKey is everything a report shows of a finding.
func findingKey(f finding.Finding) string {
	in := "nil"
	if f.InHead != nil {
		in = fmt.Sprint(*f.InHead)
	}
	return fmt.Sprintf("%s|%s|%s|%d|%d|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s",
		f.RuleID, f.Fingerprint, f.Path, f.Line, f.Column, f.Encoding, f.Status, f.ExpiresAt.Format("2006-01-02T15:04:05Z07:00"),
		f.Alg, f.Subject, f.Suppressed, f.Commit, f.Author, f.Email, f.Date.Format("2006-01-02T15:04:05Z07:00"), f.Message+"|"+in)
}

func compareFindings(t testing.TB, name string, want, got []finding.Finding) {
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

func warningKeys(c *scanner.Collector) []string {
	var out []string
	for _, w := range c.Warnings {
		out = append(out, w.String())
	}
	slices.Sort(out)
	return out
}

// checkFastMatchesSlow scans repo every way and compares with go-git. A
// sweep holds objects up to sweepMax bytes (0: the default).
func checkFastMatchesSlow(t *testing.T, repo *Repository, opts HistoryOptions, sweepMax int64) {
	t.Helper()
	want, wc, wst := scanWith(t, repo, opts, tuning{mode: readGoGit}, 1)
	if len(want) == 0 && len(wc.Warnings) == 0 {
		t.Logf("%+v: nothing found by go-git", opts)
	}
	for _, mode := range []readMode{readAuto, readSweep, readOneByOne} {
		for _, workers := range []int{1, 4} {
			name := fmt.Sprintf("%+v mode %d, %d workers", opts, mode, workers)
			got, gc, gst := scanWith(t, repo, opts, tuning{mode: mode, sweepMax: sweepMax}, workers)
			compareFindings(t, name, want, got)
			if w, g := warningKeys(wc), warningKeys(gc); !slices.Equal(w, g) {
				t.Errorf("%s: warnings %q, go-git %q", name, g, w)
			}
			if gst.Files != wst.Files || gst.Bytes != wst.Bytes || gst.Errors != wst.Errors || gst.Skipped != wst.Skipped {
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
	selections := []HistoryOptions{
		{},
		{Exclude: []string{c["base"]}, Refs: []string{"main"}},
		{Refs: []string{"feature"}},
		{Since: commitTime(f.repo, c["edit"])},
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
				f.repo.GitIn(t.TempDir(), "clone", "-q", "--mirror", f.repo.Dir, dir)
				r := f.repo.At(t, dir)
				r.Git(tc.repack...)
				for _, opts := range selections {
					checkFastMatchesSlow(t, repoOf(r), opts, 0)
				}
				return
			}
			for _, opts := range selections {
				checkFastMatchesSlow(t, repoOf(f.repo), opts, 0)
			}
		})
	}
}

// TestGitFastMatchesSlowRandom compares the readers on a random history
// with keys (merges, octopus merges, roots, renamed and copied folders,
// files back to older contents, clock skew within git's slop), for the
// whole history, random ranges, --since and single refs, with a
// commit-graph and without.
func TestGitFastMatchesSlowRandom(t *testing.T) {
	if raceBuild {
		t.Skip("random histories checked against the slow paths (45 s under -race; TestGitFastMatchesSlow runs there): .ci/run runs it without -race")
	}
	t.Parallel()
	r, commits := randomHistory(t, 5, 160, mildSkew, 9)
	rng := rand.New(rand.NewPCG(5, 6))
	var selections []HistoryOptions
	selections = append(selections, HistoryOptions{})
	for range 4 {
		// Long ranges: A among the older half, B among the newer.
		n := len(commits)
		a, b := commits[rng.IntN(n/2)], commits[n/2+rng.IntN(n/2)]
		selections = append(selections, HistoryOptions{Exclude: []string{a}, Refs: []string{b}})
	}
	selections = append(selections,
		HistoryOptions{Refs: []string{"main"}},
		HistoryOptions{Since: testgit.Epoch.Add(time.Duration(rng.IntN(160)*600) * time.Second)},
		HistoryOptions{Refs: []string{commits[len(commits)/2][:10]}, Since: testgit.Epoch.Add(time.Duration(rng.IntN(80)*600) * time.Second)},
	)
	for _, graph := range []bool{false, true} {
		if graph {
			r.Git("commit-graph", "write", "--reachable")
		}
		for _, opts := range selections {
			checkFastMatchesSlow(t, repoOf(r), opts, 0)
		}
	}
}
