package gitscan

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// TestRefsListedOnce: exposure (refTips) and the tags of messages
// (newTagSet) take the refs from the scan's one listing once it is made,
// rather than asking go-git again: each listing reads all of packed-refs,
// and a million refs cost a second and a few hundred MB a time (a scan of
// them was 11.7–12.6 s CPU and 584–610 MB with three listings, 8.4–9.1 s
// and 403–428 MB with one). Shown by removing packed-refs after the first
// listing: the later ones still see its refs.
func TestRefsListedOnce(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	r.Write("a.txt", "a\n")
	r.Commit("one")
	r.Git("tag", "-a", "-m", "release", "v1")
	r.Git("branch", "side")
	r.Git("pack-refs", "--all")
	g, err := repoOf(r).open(tuning{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	run := scanner.New(scanner.DefaultOptions()).Start(&scanner.Collector{})
	var want []string
	for _, ref := range g.refs(run) {
		want = append(want, ref.Name().String())
	}
	if !slices.Contains(want, "refs/tags/v1") || !slices.Contains(want, "refs/heads/side") {
		t.Fatalf("refs %q lack the packed ones", want)
	}
	if err := os.Remove(filepath.Join(strings.TrimSpace(r.Git("rev-parse", "--absolute-git-dir")), "packed-refs")); err != nil {
		t.Fatal(err)
	}
	var tips []string
	for _, tip := range g.refTips() {
		tips = append(tips, tip.name)
	}
	if !slices.Equal(tips, want) {
		t.Errorf("exposure's refs %q, the scan's %q", tips, want)
	}
	tags := g.newTagSet(revSet{all: true})
	if len(tags.names) != 1 {
		t.Errorf("the tag set names %d annotated tags, want 1 (v1): %v", len(tags.names), tags.names)
	}
}

// TestRefsPeeledOnce: what a ref points at is read once, however many refs
// point at it: a million refs to one loose commit (a 61 MB packed-refs)
// opened it three million times, 32 s of CPU, now 1.9 s. Shown by removing
// the objects after the first peel: the refs listed later still reach the
// commit through the annotated tag.
func TestRefsPeeledOnce(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	r.Write("a.txt", "a\n")
	commit := r.Commit("one")
	r.Git("tag", "-a", "-m", "release", "v1")
	tag := r.Git("rev-parse", "v1")
	for i := range 50 {
		r.Git("tag", fmt.Sprintf("also%02d", i), tag)
	}
	g, err := repoOf(r).open(tuning{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	run := scanner.New(scanner.DefaultOptions()).Start(&scanner.Collector{})
	if _, err := g.peelToCommit(plumbing.NewHash(tag)); err != nil {
		t.Fatal(err)
	}
	objects := filepath.Join(r.Dir, ".git", "objects")
	for _, h := range []string{commit, tag} {
		if err := os.Remove(filepath.Join(objects, h[:2], h[2:])); err != nil {
			t.Fatal(err)
		}
	}
	tips, err := g.tips(run, false, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range tips {
		if h.String() != commit {
			t.Fatalf("a ref's tip is %s, not the commit %s: the objects were read again", h, commit)
		}
	}
	if len(tips) < 52 { // main, v1, 50 others
		t.Errorf("%d tips, want 52 or more", len(tips))
	}
}
