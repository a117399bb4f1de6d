package ghaction

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
)

// TestGitCLIRemoteBranches checks what counts as a remote-tracking branch:
// symbolic refs are left out, a ref to an annotated tag is peeled to its
// commit, a ref to a blob is left out, local branches and tags are not
// listed.
func TestGitCLIRemoteBranches(t *testing.T) {
	r := newRepo(t, filepath.Join(t.TempDir(), "r"))
	one := r.commit("one")
	two := r.commit("two")
	r.git("tag", "-a", "-m", "t", "annotated", one)
	blob := r.git("hash-object", "-w", "--stdin")
	r.git("update-ref", "refs/remotes/origin/main", two)
	r.git("update-ref", "refs/remotes/up/stream/x", one)
	r.git("update-ref", "refs/remotes/origin/tagged", r.git("rev-parse", "annotated"))
	r.git("update-ref", "refs/remotes/origin/blob", blob)
	r.git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
	r.git("remote", "add", "origin", "https://example.com/a.git")
	r.git("remote", "add", "up/stream", "https://example.com/b.git")

	g := r.cli(t)
	ctx := context.Background()
	bs, err := g.RemoteBranches(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Branch{{"refs/remotes/origin/main", two}, {"refs/remotes/origin/tagged", one}, {"refs/remotes/up/stream/x", one}}
	if !slices.Equal(bs, want) {
		t.Errorf("RemoteBranches: %v, want %v", bs, want)
	}
	remotes, err := g.Remotes(ctx)
	if err != nil || !slices.Equal(remotes, []string{"origin", "up/stream"}) {
		t.Errorf("Remotes: %q, %v", remotes, err)
	}
	if c, ok, err := g.Commit(ctx, "annotated"); c != one || !ok || err != nil {
		t.Errorf("Commit(annotated) = %q %v %v, want %s (peeled)", c, ok, err, one)
	}
	if _, ok, err := g.Commit(ctx, blob); ok || err != nil {
		t.Errorf("Commit(a blob) = %v %v, want not a commit", ok, err)
	}
	if n, b, err := g.NewCommits(ctx, two, []string{one}); n != 1 || !slices.Equal(b, []string{one}) || err != nil {
		t.Errorf("NewCommits = %d %v %v, want 1 [%s]", n, b, err, one)
	}
	if shallow, err := g.IsShallow(ctx); shallow || err != nil {
		t.Errorf("IsShallow = %v %v", shallow, err)
	}
}
