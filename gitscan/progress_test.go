package gitscan

import (
	"context"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// A history scan tells the progress display how many blobs it will read
// before it reads them: from the plan of the packs when it sweeps them all,
// from the tree walk when it reads a range. Every one is read.
func TestProgressTotal(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, t.TempDir())
	for i := range 6 {
		r.Write("a.txt", strings.Repeat("line\n", i+1))
		r.Write("dir/b.txt", "b "+strings.Repeat("x", i))
		r.Commit("c")
	}
	base := r.Git("rev-parse", "HEAD~2")
	r.Git("gc", "-q")
	var blobs int64
	for _, line := range strings.Split(r.Git("cat-file", "--batch-all-objects", "--batch-check=%(objecttype)"), "\n") {
		if line == "blob" {
			blobs++
		}
	}
	for _, c := range []struct {
		name string
		opts HistoryOptions
		want int64
	}{
		{"all history, swept", HistoryOptions{}, blobs},
		{"a range, walked", HistoryOptions{Exclude: []string{strings.TrimSpace(base)}, Refs: []string{"HEAD"}}, 4}, // two versions of each file
	} {
		o := scanner.DefaultOptions()
		o.Progress = &scanner.Progress{}
		if _, err := ScanHistory(context.Background(), scanner.New(o), repoOf(r), c.opts, &scanner.Collector{}); err != nil {
			t.Fatal(err)
		}
		if total, done := o.Progress.Total.Load(), o.Progress.Done.Load(); total != c.want || done != c.want {
			t.Errorf("%s: Total %d, Done %d; want %d blobs", c.name, total, done, c.want)
		}
	}
}
