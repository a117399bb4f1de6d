package gitscan

import (
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// A blob or tree a ref holds with no commit between (a tag of a blob, a
// tag or branch of a tree) goes wherever the ref goes: a key in one is
// reported at the ref ("refs/tags/t", "refs/tags/t:dir/file"), reachable,
// its exposure the ref, and a name in such a tree at the ref's path too;
// both were reported as in objects nothing reaches. A blob nothing holds
// still is. Loose and packed.
func TestObjectsRefsHoldWithNoCommit(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	r.Write("README.md", "hello\n")
	r.Commit("first")
	inBlob, inTree, inName, lost := gitTestKey("tag of a blob"), gitTestKey("tag of a tree"), gitTestKey("name in a tag's tree"), gitTestKey("blob nothing holds")
	hash := func(content string) plumbing.Hash {
		return plumbing.NewHash(strings.TrimSpace(mustOutput(t, r, content, "hash-object", "-w", "--stdin")))
	}
	r.Git("tag", "-a", "keyblob", "-m", "a blob", hash("LOFTY_API_KEY="+inBlob+"\n").String())
	sub := r.MkTree(testgit.TreeEntry{Mode: "100644", Hash: hash("token: " + inTree + "\n"), Name: "app.env"},
		testgit.TreeEntry{Mode: "100644", Hash: hash(""), Name: "k-" + inName + ".txt"})
	r.Git("tag", "treetag", r.MkTree(testgit.TreeEntry{Mode: "040000", Hash: sub, Name: "conf"}).String())
	hash("LOFTY_API_KEY=" + lost + "\n")
	want := map[string]string{
		"refs/tags/keyblob":                           "refs/tags/keyblob",
		"refs/tags/treetag:conf/app.env":              "refs/tags/treetag",
		"refs/tags/treetag:conf/k-" + inName + ".txt": "",
	}
	for _, packed := range []bool{false, true} {
		if packed {
			r.Git("repack", "-adq", "--keep-unreachable")
		}
		found, c, _ := scanGit(t, repoOf(r), HistoryOptions{})
		for _, w := range c.Warnings {
			t.Errorf("packed %v: warning %s", packed, w)
		}
		got := 0
		for _, f := range found {
			ref, ok := want[f.Path]
			switch {
			case f.Secret == lost:
				if !f.Unreachable {
					t.Errorf("packed %v: the blob nothing holds is not unreachable: %+v", packed, f)
				}
			case !ok || f.Unreachable || f.Commit != "":
				t.Errorf("packed %v: finding at %q, unreachable %v, commit %q", packed, f.Path, f.Unreachable, f.Commit)
			case ref != "" && (f.Exposure == nil || f.Exposure.ReachableFrom != finding.ReachRefs || len(f.Exposure.Refs) != 1 || f.Exposure.Refs[0].Name != ref):
				t.Errorf("packed %v: %s: exposure %+v, want the ref %s", packed, f.Path, f.Exposure, ref)
			case ref == "" && f.Location != finding.InPath:
				t.Errorf("packed %v: %s: location %q, want path", packed, f.Path, f.Location)
			default:
				got++
			}
		}
		if got != len(want) || len(found) != len(want)+1 {
			t.Errorf("packed %v: %d findings, %d where wanted: %v", packed, len(found), got, found)
		}
	}
}
