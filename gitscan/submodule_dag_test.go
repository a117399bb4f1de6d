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
