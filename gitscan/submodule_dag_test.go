package gitscan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// dagTree makes a tree whose folders each hold the next one twice, depth
// levels down to leaf: 2^depth paths with depth trees.
func dagTree(r *testgit.Repo, depth int, leaf testgit.TreeEntry) plumbing.Hash {
	t := r.MkTree(leaf)
	for range depth {
		t = r.MkTree(testgit.TreeEntry{Mode: "040000", Hash: t, Name: "a"}, testgit.TreeEntry{Mode: "040000", Hash: t, Name: "b"})
	}
	return t
}

// TestSubmodulesOfATreeGraph: listing HEAD's submodules reads each tree
// once and goes only where a gitlink is. A tree is a graph: folders that
// each hold the next one twice make 2^40 paths with 41 trees, and the
// listing, which walked every path, never ended (2^20 took 18 s of CPU).
// Gitlinks reached by more paths than maxSubmodules are an error.
func TestSubmodulesOfATreeGraph(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	r.Write("a.txt", "a\n")
	r.Commit("one")
	sub := plumbing.NewHash(r.Git("rev-parse", "HEAD"))
	blob := plumbing.NewHash(r.Git("rev-parse", "HEAD:a.txt"))
	msg := filepath.Join(t.TempDir(), "msg")
	os.WriteFile(msg, []byte("graph\n"), 0o644)

	// 2^40 paths to a file, and one submodule beside them.
	graph := dagTree(r, 40, testgit.TreeEntry{Mode: "100644", Hash: blob, Name: "f"})
	r.CommitOnHead(r.MkTree(
		testgit.TreeEntry{Mode: "040000", Hash: graph, Name: "g"},
		testgit.TreeEntry{Mode: "160000", Hash: sub, Name: "sub"},
	), msg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // never reached but by the walk of every path
	defer cancel()
	subs, _, err := listSubmodules(ctx, repoOf(r))
	if ctx.Err() != nil {
		t.Fatal("listing the submodules walked the tree's paths, not its trees")
	}
	if err != nil || len(subs) != 1 || subs[0].Path != "sub" {
		t.Fatalf("submodules %+v, %v; want sub alone", subs, err)
	}

	// 2^20 paths to a gitlink: more than maxSubmodules.
	r.CommitOnHead(dagTree(r, 20, testgit.TreeEntry{Mode: "160000", Hash: sub, Name: "s"}), msg)
	r.Git("repack", "-adq") // the walk of 100,000 paths reads a tree at each folder
	subs, _, err = listSubmodules(ctx, repoOf(r))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint(maxSubmodules)) || len(subs) != maxSubmodules {
		t.Fatalf("%d submodules, error %v; want %d and an error naming the cap", len(subs), err, maxSubmodules)
	}
}

// TestStagedOfATreeGraph: the staged check reads the folders of HEAD the
// index holds nothing of by tree, each once, not by path: with HEAD's
// tree a graph of 2^40 paths and an index that does not match it (its
// cached trees are not HEAD's), the walk of every path never ended
// (2^22 took 17.7 s of CPU and 1.9 GB). The staged key is found, and a
// staged copy of a key HEAD holds in a folder the index removed is not
// new.
func TestStagedOfATreeGraph(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	r.Write("a.txt", "a\n")
	r.Commit("one")
	held := gitTestKey("held-in-graph")
	r.Write("held.env", "KEY="+held+"\n")
	r.Git("add", "held.env")
	heldBlob := plumbing.NewHash(r.Git("rev-parse", ":held.env"))
	r.Git("rm", "-q", "--cached", "held.env")
	msg := filepath.Join(t.TempDir(), "msg")
	os.WriteFile(msg, []byte("graph\n"), 0o644)
	graph := dagTree(r, 40, testgit.TreeEntry{Mode: "100644", Hash: heldBlob, Name: "f.env"})
	r.CommitOnHead(r.MkTree(
		testgit.TreeEntry{Mode: "040000", Hash: graph, Name: "g"},
		testgit.TreeEntry{Mode: "100644", Hash: plumbing.NewHash(r.Git("rev-parse", "HEAD:a.txt")), Name: "a.txt"},
	), msg)

	staged := gitTestKey("staged")
	r.Write("new.env", "KEY="+staged+"\n")
	r.Write("moved.env", "# moved from g\nKEY="+held+"\n") // HEAD's key, in a new blob
	r.Git("add", "new.env", "moved.env")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // never reached but by the walk of every path
	defer cancel()
	c := &scanner.Collector{}
	if _, err := ScanStaged(ctx, scanner.New(scanner.DefaultOptions()), repoOf(r), "", c); err != nil || ctx.Err() != nil {
		t.Fatalf("ScanStaged: %v (context: %v): the staged check walked HEAD's paths, not its trees", err, ctx.Err())
	}
	var got []string
	for _, f := range c.Sorted() {
		got = append(got, f.Path)
		if f.Secret != staged {
			t.Errorf("%s: a key other than the staged one (HEAD's, moved?)", f.Path)
		}
	}
	if strings.Join(got, ",") != "new.env" {
		t.Fatalf("findings in %v, want in new.env only", got)
	}
}
