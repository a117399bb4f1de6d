package gitscan

import (
	"context"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// oddModeTree writes a tree whose one entry has the mode given, as a
// crafted tree can (git mktree and git fsck refuse it; git
// hash-object --literally and a push do not): a file app.env of content,
// or, for a folder's mode, a folder cfg holding it.
func oddModeTree(r *testgit.Repo, mode, content string) (tree, path string) {
	r.T.Helper()
	inner := fileTree(r, "app.env", content)
	name, h := "app.env", r.Git("rev-parse", inner+":app.env")
	if strings.HasPrefix(mode, "4") {
		name, h, path = "cfg", inner, "cfg/app.env"
	} else {
		path = "app.env"
	}
	raw, err := hex.DecodeString(h)
	if err != nil {
		r.T.Fatal(err)
	}
	return writeObject(r, "tree", mode+" "+name+"\x00"+string(raw)), path
}

// oddModes are modes git reads as a file or a folder (canon_mode: what
// its type bits say, whatever the permission bits): 'git ls-tree' lists
// each as 100644, 100755, 120000 or 040000, and a checkout or an archive
// writes it.
var oddModes = []string{"100600", "100000", "100777", "107777", "100664", "120777", "40755", "41777"}

// TestOddModesAsGit checks that a file or folder whose tree gives it an
// odd mode is read as git reads it, by a walk of a ref and of a range:
// its key was missed, the entry being neither a file nor a folder to the
// walk.
func TestOddModesAsGit(t *testing.T) {
	t.Parallel()
	for i, mode := range oddModes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			r := testgit.New(t, "", "--bare")
			key := gitTestKey(fmt.Sprintf("odd-mode-%d", i))
			root := r.CommitTree(fileTree(r, "a.txt", "a\n"), nil, sinceNew, "root")
			tree, path := oddModeTree(r, mode, "LOFTY_API_KEY="+key+"\n")
			keyed := r.CommitTree(tree, []string{root}, sinceNew+60, "odd mode")
			r.Git("update-ref", "refs/heads/main", keyed)
			r.Git("symbolic-ref", "HEAD", "refs/heads/main")
			if ls := r.Git("ls-tree", "-r", "main"); !strings.Contains(ls, "\t"+path) {
				t.Fatalf("git ls-tree -r does not list %s: %q", path, ls)
			}
			for _, opts := range []HistoryOptions{{Refs: []string{"main"}}, {Refs: []string{"main"}, Exclude: []string{root}}, {}} {
				got, c, _ := scanGit(t, repoOf(r), opts)
				if len(got) != 1 || got[0].Secret != key || got[0].Commit != keyed || got[0].Path != path {
					t.Errorf("%+v: %d findings %+v, want the key at %s %s; warnings %v", opts, len(got), got, keyed, path, c.Warnings)
				}
			}
		})
	}
}

// TestScanPreReceiveOddModes checks that a push of a file or folder with
// an odd mode is rejected: the hook found its key in the pushed blob, but
// the walk that says where never met it, and the push went through.
func TestScanPreReceiveOddModes(t *testing.T) {
	t.Parallel()
	srv := testgit.New(t, filepath.Join(t.TempDir(), "srv.git"), "--bare")
	c := testgit.New(t, "")
	c.Write("a.txt", "a\n")
	base := c.Commit("first")
	c.Git("push", "-q", srv.Dir, "main")
	var refspecs []string
	for i, mode := range []string{"100600", "40755"} {
		tree, _ := oddModeTree(c, mode, "LOFTY_API_KEY="+gitTestKey(fmt.Sprintf("odd-push-%d", i))+"\n")
		commit := c.CommitTree(tree, []string{base}, sinceNew, "odd mode "+mode)
		refspecs = append(refspecs, fmt.Sprintf("%s:refs/heads/odd%d", commit, i))
	}
	q, updates := quarantinePush(t, srv, c, refspecs...)
	collect := &scanner.Collector{}
	res, err := ScanPreReceive(context.Background(), scanner.New(scanner.DefaultOptions()), repoAt(t, srv.Dir), updates, PreReceiveOptions{Quarantine: q}, collect)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range collect.Sorted() {
		paths = append(paths, f.Path)
	}
	if !res.Found || strings.Join(paths, ",") != "app.env,cfg/app.env" {
		t.Fatalf("found %v at %v; warnings %v", res.Found, paths, collect.Warnings)
	}
}
