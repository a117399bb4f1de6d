package gitscan

import (
	"errors"
	"testing"
)

// TestResolveRevision resolves revisions of every kind the store's reader
// knows, and some it hands to go-git, and compares with git rev-parse.
func TestResolveRevision(t *testing.T) {
	t.Parallel()
	f := sharedHistory(t)
	r := f.repo
	r.Git("update-ref", "refs/remotes/origin/main", f.commits["edit"])
	r.Git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
	r.Git("tag", "light", f.commits["first"])
	r.Git("pack-refs", "--all") // some refs packed, HEAD and those made after loose
	r.Git("branch", "loose-branch", f.commits["merged"])
	evil := f.commits["evil"]
	// A branch named like an abbreviated hash: the ref wins, as in git.
	r.Git("branch", f.commits["first"][:8], f.commits["b64"])
	g, err := repoOf(r).open(tuning{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	for _, rev := range []string{
		"HEAD", "@", "main", "feature", "refs/heads/feature", "heads/feature", "v-secret", "tags/v-secret",
		"v-secret^{}", "v-secret^{commit}", "light", "origin/main", "origin", "refs/remotes/origin/main", "loose-branch",
		"HEAD~1", "HEAD~", "HEAD^", "HEAD~3", "main^^", "HEAD^0", "HEAD~1^1", evil + "^2", evil + "^1~2", f.commits["merge"] + "^2",
		evil, evil[:7], evil[:12], f.commits["first"][:8], f.commits["first"][:9],
		"stash", "stash@{1}", "HEAD@{1}", "main@{0}", // handed to go-git
	} {
		want := r.Git("rev-parse", "--verify", "-q", rev+"^{commit}")
		got, err := g.resolve(rev)
		if err != nil || got.String() != want {
			t.Errorf("%s: %s %v, git says %s", rev, got, err, want)
		}
	}
	for _, rev := range []string{"nope", "HEAD~1000", evil + "^3", "HEAD^{tree}", "0000000", "refs/heads", "v-secret~1000", "",
		"HEAD@{upstream}", "main@{yesterday}", "@{-1}", "HEAD@{99}", "HEAD:root.env", "HEAD^{tag}"} {
		if h, err := g.resolve(rev); !errors.Is(err, ErrUnknownRevision) {
			t.Errorf("%s: %s %v, want ErrUnknownRevision", rev, h, err)
		}
	}
}

// TestResolveAmbiguous resolves abbreviations that name several commits.
func TestResolveAmbiguous(t *testing.T) {
	t.Parallel()
	r, commits := randomHistory(t, 7, 400, noSkew, 0)
	g, err := repoOf(r).open(tuning{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	// Among 400 commits some share their first hex digits: a 4-digit
	// prefix of two of them is ambiguous to git as to the resolver.
	byPrefix := map[string]int{}
	for _, c := range commits {
		byPrefix[c[:4]]++
	}
	tried := 0
	for _, c := range commits {
		_, unique := r.Try("", "rev-parse", "--verify", "-q", c[:4]+"^{commit}")
		got, err := g.resolve(c[:4])
		switch {
		case unique && (err != nil || got.String() != r.Git("rev-parse", c[:4]+"^{commit}")):
			t.Errorf("%s: %s %v, git resolves it", c[:4], got, err)
		case !unique && !errors.Is(err, ErrUnknownRevision):
			t.Errorf("%s: %s %v, git finds it ambiguous", c[:4], got, err)
		}
		if byPrefix[c[:4]] > 1 {
			tried++
		}
	}
	t.Logf("%d commits share a 4-digit prefix", tried)
}
