package gitscan

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// sinceDate is the --since of these tests: after sinceOld, before sinceNew.
var sinceDate = time.Unix(1650000000, 0)

const (
	sinceOld = 946684800  // 2000
	sinceNew = 1700000000 // 2023
)

// writeObject writes an object of type typ as given, byte for byte (git
// hash-object --literally: no check), and returns its name.
func writeObject(r *testgit.Repo, typ, body string) string {
	r.T.Helper()
	out, err := r.Cmd(body, nil, "hash-object", "-t", typ, "-w", "--stdin", "--literally").CombinedOutput()
	if err != nil {
		r.T.Fatalf("git hash-object: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// fileTree writes a blob of content and a tree holding it as name.
func fileTree(r *testgit.Repo, name, content string) string {
	r.T.Helper()
	blob := plumbing.NewHash(writeObject(r, "blob", content))
	return r.MkTree(testgit.TreeEntry{Mode: "100644", Hash: blob, Name: name}).String()
}

// commitLine writes a commit of tree with parents whose committer line
// ends with committer, after "<c@example.com>", as given.
func commitLine(r *testgit.Repo, tree string, parents []string, committer, msg string) string {
	r.T.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "tree %s\n", tree)
	for _, p := range parents {
		fmt.Fprintf(&b, "parent %s\n", p)
	}
	fmt.Fprintf(&b, "author Ada <ada@example.com> %d +0000\ncommitter Cy <c@example.com>%s\n\n%s\n", sinceNew, committer, msg)
	return writeObject(r, "commit", b.String())
}

// TestSinceReadsDatesAsGit checks that --since reads a committer date as
// git does where it is written oddly (two blanks or a tab before it,
// letters after it, a '>' after the zone, a negative number or one past
// int64, which git 2.39 takes for a date far in the future): a key added
// by a commit 'git rev-list --since' lists is reported, with and without a
// commit-graph. Each was read as 1970, and the key missed.
func TestSinceReadsDatesAsGit(t *testing.T) {
	t.Parallel()
	for i, date := range []string{
		"  1700000000 +0000",
		" \t1700000000 +0000",
		" 1700000000abc +0000",
		" 1700000000 +0000 >",
		" -1 +0000",
		" 9223372036854775808 +0000",
		" 18446744073709551615 +0000",
		" 99999999999999999999 +0000",
	} {
		t.Run(fmt.Sprintf("%d", i), func(t *testing.T) {
			t.Parallel()
			r := testgit.New(t, "", "--bare")
			key := gitTestKey(fmt.Sprintf("since-date-%d", i))
			clean := fileTree(r, "app.env", "A=1\n")
			root := r.CommitTree(clean, nil, sinceNew-100, "root")
			keyed := commitLine(r, fileTree(r, "app.env", "LOFTY_API_KEY="+key+"\n"), []string{root}, date, "odd date")
			head := r.CommitTree(clean, []string{keyed}, sinceNew+100, "head")
			r.Git("update-ref", "refs/heads/main", head)
			listed := r.Git("rev-list", fmt.Sprintf("--since=@%d", sinceDate.Unix()), "main")
			if !strings.Contains(listed, keyed) {
				t.Skipf("git lists %q since %v: not %s", listed, sinceDate, keyed)
			}
			for _, graph := range []bool{false, true} {
				if graph {
					r.Git("-c", "commitGraph.generationVersion=2", "commit-graph", "write", "--reachable")
				}
				got, _, _ := scanGit(t, repoOf(r), HistoryOptions{Since: sinceDate})
				if len(got) != 1 || got[0].Secret != key || got[0].Commit != keyed {
					t.Errorf("committer %q, commit-graph %v: %d findings %+v; want the key at %s", date, graph, len(got), got, keyed)
				}
			}
		})
	}
}

// TestSinceOldCopyElsewhere checks that a key a commit made since the
// date adds is reported although a commit older than the date holds the
// same file on another line of history (another branch, a reflog, no ref
// at all), which 'git log --since -p' shows it adding; the old commit's
// content was "not new" to every selected commit, and the key was missed.
// A commit that descends from the old one and edits another line of the
// file still does not report the key, on a branch, in a reflog, or
// unreachable.
func TestSinceOldCopyElsewhere(t *testing.T) {
	t.Parallel()
	for _, held := range []string{"branch", "reflog", "unreachable"} {
		for _, tc := range []struct{ descends, mainAdds bool }{{false, true}, {true, true}, {true, false}} {
			t.Run(fmt.Sprintf("%s/%+v", held, tc), func(t *testing.T) {
				t.Parallel()
				r := testgit.New(t, "", "--bare")
				key := gitTestKey("since-elsewhere-" + held)
				keyed := fileTree(r, "app.env", "LOFTY_API_KEY="+key+"\n")
				clean := fileTree(r, "app.env", "A=1\n")
				// Elsewhere: an old commit with the key, and a new one on it
				// that removes the key (or edits another line).
				old := r.CommitTree(keyed, nil, sinceOld, "old")
				onOld := clean
				if tc.descends {
					onOld = fileTree(r, "app.env", "LOFTY_API_KEY="+key+"\nB=2\n")
				}
				other := r.CommitTree(onOld, []string{old}, sinceNew+50, "on old")
				// main: a new root, then a commit that adds the key.
				root := r.CommitTree(clean, nil, sinceNew-100, "root")
				mainTree := clean
				if tc.mainAdds {
					mainTree = keyed
				}
				adds := r.CommitTree(mainTree, []string{root}, sinceNew, "adds the key")
				head := r.CommitTree(clean, []string{adds}, sinceNew+100, "head")
				r.Git("update-ref", "refs/heads/main", head)
				r.Git("symbolic-ref", "HEAD", "refs/heads/main")
				switch held {
				case "branch":
					r.Git("update-ref", "refs/heads/other", other)
				case "reflog":
					r.Git("update-ref", "--create-reflog", "refs/heads/other", other)
					r.Git("update-ref", "refs/heads/other", head)
				}
				got, _, _ := scanGit(t, repoOf(r), HistoryOptions{Since: sinceDate})
				var commits []string
				for _, f := range got {
					if f.Secret != key {
						t.Errorf("another key: %+v", f)
					}
					commits = append(commits, f.Commit)
				}
				switch {
				case tc.mainAdds && (len(got) != 1 || got[0].Commit != adds):
					t.Errorf("findings at %q; want one, at %s (adds the key), not at %s (on old)", commits, adds, other)
				case !tc.mainAdds && len(got) != 0:
					t.Errorf("findings at %q; want none (%s on old edits another line)", commits, other)
				}
			})
		}
	}
}
