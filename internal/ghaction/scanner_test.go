package ghaction

import (
	"context"
	"slices"
	"testing"

	"github.com/loftyscan/loftyscan/gitscan"
	"github.com/loftyscan/loftyscan/scanner"
)

// TestRangesScan hands each kind of Result to the scanner as GitOptions
// (Refs: Include, Exclude: Exclude), as the CLI will, and checks the keys
// reported: the lists are what the scanner takes, and a range reports the
// keys its commits added and no others.
func TestRangesScan(t *testing.T) {
	f := newFixture(t)
	pr := f.checkout(t, 0, "refs/pull/1/merge")
	topic2 := f.checkout(t, 0, "refs/heads/topic2")
	for _, c := range []struct {
		name  string
		r     *repo
		env   Env
		paths []string
	}{
		// From the merge-base: main's old key, removed after the branch
		// point, is not the pull request's.
		{"pull request", pr, event(t, "pull_request", prEvent(f.base, f.head)), []string{"app/new.env"}},
		{"push", pr, event(t, "push", pushEvent("refs/heads/main", f.base, f.p2)), []string{"push.env"}},
		// feature's key too, which it merged: feature is not on the
		// default branch, and a branch pushed at the same time as this one
		// would count as scanned without having been.
		{"new branch that merged another", topic2, event(t, "push", pushEvent("refs/heads/topic2", zero40, f.t2)), []string{"app/new.env", "topic2.env"}},
		{"deletion", pr, event(t, "push", pushEvent("refs/heads/gone", f.p1, zero40)), nil},
		{"every ref", pr, event(t, "schedule", nil), []string{"app/new.env", "old.env", "push.env", "topic.env", "topic2.env"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := compute(t, c.r, c.env, Inputs{})
			if err != nil {
				t.Fatal(err)
			}
			repo, err := gitscan.FindRepository(c.r.dir)
			if err != nil {
				t.Fatal(err)
			}
			col := &scanner.Collector{}
			opts := gitscan.HistoryOptions{Refs: res.Include, Exclude: res.Exclude}
			if _, err := gitscan.ScanHistory(context.Background(), scanner.New(scanner.DefaultOptions()), repo, opts, col); err != nil {
				t.Fatal(err)
			}
			var paths []string
			for _, fd := range col.Sorted() {
				if !slices.Contains(paths, fd.Path) {
					paths = append(paths, fd.Path)
				}
			}
			if !slices.Equal(paths, c.paths) {
				t.Errorf("range %q: keys in %q, want %q", res.String(), paths, c.paths)
			}
		})
	}
}
