package gitobj

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	cgv2 "github.com/go-git/go-git/v5/plumbing/format/commitgraph/v2"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// BenchmarkCommitGraph reads every commit of a commit-graph by name (the
// lookup, then the tree, parents and time), as a walk does: with this
// package's reader, and with go-git's (plumbing/format/commitgraph/v2).
// The graph is LOFTYSCAN_BENCH_REPO's when it has one, else that of a
// generated history of 20,000 commits.
//
//	LOFTYSCAN_BENCH_REPO=/path/to/repo.git go test -run '^$' -bench CommitGraph ./internal/gitobj
func BenchmarkCommitGraph(b *testing.B) {
	objects := benchGraphRepo(b)
	own := OpenCommitGraph(objects)
	if own == nil {
		b.Fatal("no commit-graph")
	}
	defer own.Close()
	names := make([]plumbing.Hash, own.Count())
	for i := range names {
		names[i], _ = own.Hash(i)
	}
	b.Run("own", func(b *testing.B) {
		var parents []int
		k := 0
		for b.Loop() {
			pos, ok := own.Find(names[k])
			if !ok {
				b.Fatal("not found")
			}
			c, err := own.Commit(pos, parents)
			if err != nil {
				b.Fatal(err)
			}
			parents = c.Parents
			for _, p := range c.Parents {
				own.Hash(p)
			}
			k = (k + 1) % len(names)
		}
	})
	b.Run("go-git", func(b *testing.B) {
		idx, err := cgv2.OpenChainOrFileIndex(osfs.New(filepath.Dir(objects)))
		if err != nil {
			b.Fatal(err)
		}
		defer idx.Close()
		k := 0
		for b.Loop() {
			pos, err := idx.GetIndexByHash(names[k])
			if err != nil {
				b.Fatal(err)
			}
			if _, err := idx.GetCommitDataByIndex(pos); err != nil {
				b.Fatal(err)
			}
			k = (k + 1) % len(names)
		}
	})
}

// benchGraphRepo returns the object folder of a repository with a
// commit-graph.
func benchGraphRepo(b *testing.B) string {
	if dir := os.Getenv("LOFTYSCAN_BENCH_REPO"); dir != "" {
		for _, objects := range []string{filepath.Join(dir, "objects"), filepath.Join(dir, ".git", "objects")} {
			if g := OpenCommitGraph(objects); g != nil {
				g.Close()
				return objects
			}
		}
	}
	r := testgit.New(b, "", "--bare")
	cmd := r.Cmd("", nil, "fast-import", "--quiet")
	cmd.Stdin = nil
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(in)
	for i := range 20_000 {
		fmt.Fprintf(w, "commit refs/heads/main\ncommitter A <a@b> %d +0000\ndata 1\nx\nM 100644 inline f\ndata %d\n%d\n", 1_700_000_000+i, len(fmt.Sprint(i))+1, i)
	}
	w.Flush()
	in.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatal(err)
	}
	r.Git("commit-graph", "write", "--reachable")
	return filepath.Join(r.Dir, "objects")
}
