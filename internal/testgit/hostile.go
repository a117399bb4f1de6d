package testgit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// Hostile repositories. A crafted repository holds objects git would not
// write: a delta that expands a few hundred bytes to gigabytes, a loose
// object whose header lies, trees nested thirty thousand deep. These
// helpers write such objects into a repository made with New, and commit
// trees that hold them on top of its history with git's plumbing
// (mktree, commit-tree), so that the keys of its other commits are still
// there to be found.

// ObjectsDir is the repository's object folder.
func (r *Repo) ObjectsDir() string {
	r.T.Helper()
	d := r.Git("rev-parse", "--git-path", "objects")
	if !filepath.IsAbs(d) {
		d = filepath.Join(r.Dir, d)
	}
	return d
}

// TreeEntry is one entry of a tree MkTree makes.
type TreeEntry struct {
	Mode string // "100644", "040000", "160000"
	Hash plumbing.Hash
	Name string
}

// MkTree writes a tree of entries with git mktree, which does not check
// that the objects exist or can be read.
func (r *Repo) MkTree(entries ...TreeEntry) plumbing.Hash {
	r.T.Helper()
	var in strings.Builder
	for _, e := range entries {
		typ := "blob"
		switch e.Mode {
		case "040000":
			typ = "tree"
		case "160000":
			typ = "commit"
		}
		fmt.Fprintf(&in, "%s %s %s\t%s\n", e.Mode, typ, e.Hash, e.Name)
	}
	out, err := r.Cmd(in.String(), nil, "mktree", "--missing").CombinedOutput()
	if err != nil {
		r.T.Fatalf("git mktree: %v\n%s", err, out)
	}
	return plumbing.NewHash(strings.TrimSpace(string(out)))
}

// CommitOnHead commits tree on top of HEAD, its message read from the file
// msgFile (any size), and moves HEAD's branch to it; it returns the
// commit. Nothing is checked out.
func (r *Repo) CommitOnHead(tree plumbing.Hash, msgFile string) string {
	r.T.Helper()
	c := r.Git("commit-tree", tree.String(), "-p", "HEAD", "-F", msgFile)
	r.Git("update-ref", "HEAD", c)
	r.tick += 60
	return c
}

// CommitFiles commits a tree of blobs (name → object) on top of HEAD with
// the message msg, as CommitOnHead does.
func (r *Repo) CommitFiles(msg string, files map[string]plumbing.Hash) string {
	r.T.Helper()
	var entries []TreeEntry
	for name, h := range files {
		entries = append(entries, TreeEntry{Mode: "100644", Hash: h, Name: name})
	}
	p := filepath.Join(r.Home, "commit-message")
	if err := os.WriteFile(p, []byte(msg+"\n"), 0o644); err != nil {
		r.T.Fatal(err)
	}
	return r.CommitOnHead(r.MkTree(entries...), p)
}

// DeltaBomb writes a pack of two objects into the repository: base, and a
// delta that repeats it to size bytes (RepeatDelta). It returns the name
// of the blob the delta makes. The pack is a few hundred bytes whatever
// size is.
func (r *Repo) DeltaBomb(base []byte, size int64) plumbing.Hash {
	r.T.Helper()
	name := RepeatName(base, size)
	WritePack(r.T, r.ObjectsDir(), []Object{
		{Type: plumbing.BlobObject, Data: base},
		{Type: plumbing.OFSDeltaObject, Base: 0, Data: RepeatDelta(base, size), Name: name},
	})
	return name
}

// DeepTree writes, in one pack, trees nested depth deep: each holds a
// folder "d" with the next, and the deepest holds the blob leaf as
// "leaf.txt". It returns the top tree. git refuses to write trees this
// deep, but reads them.
func (r *Repo) DeepTree(depth int, leaf plumbing.Hash) plumbing.Hash {
	r.T.Helper()
	entry := func(mode, name string, h plumbing.Hash) []byte {
		return append([]byte(mode+" "+name+"\x00"), h[:]...)
	}
	objs := make([]Object, 0, depth)
	data := entry("100644", "leaf.txt", leaf)
	for range depth {
		h := ObjectName(plumbing.TreeObject, data)
		objs = append(objs, Object{Type: plumbing.TreeObject, Data: data})
		data = entry("40000", "d", h)
	}
	WritePack(r.T, r.ObjectsDir(), objs)
	return ObjectName(plumbing.TreeObject, objs[len(objs)-1].Data)
}
