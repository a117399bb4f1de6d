package gitscan

import (
	"context"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/loftyscan/loftyscan/internal/gitobj"
)

// The tree walker. Every scan that reads trees (the history walk, HEAD's
// blobs for in_head, the staged diff, the list of submodules) walks them
// here, through the store's reader with its cache of resolved trees.

// treeEntries calls fn with each entry of tree h, in order. The name is
// only valid during the call.
func (g *gitRepo) treeEntries(h plumbing.Hash, fn func(name []byte, mode filemode.FileMode, h plumbing.Hash)) error {
	typ, data, err := g.rd.Read(h)
	if err != nil {
		return err
	}
	if typ != plumbing.TreeObject {
		return plumbing.ErrObjectNotFound // not a tree, as go-git says
	}
	return gitobj.ParseTree(data, fn)
}

// treeWalk is one walk of trees, depth first in tree order.
type treeWalk struct {
	g *gitRepo
	// entry is called with each entry, its folder's path ("" or ending in
	// "/") and its name (valid during the call). For a folder, it returns
	// whether to walk into it.
	entry func(dir string, name []byte, mode filemode.FileMode, h plumbing.Hash) bool
	// broken, when set, is called with each tree that could not be read
	// (wholly), and the path of its folder.
	broken func(dir string, h plumbing.Hash, err error)
}

// walk walks tree h, whose path is dir, until ctx is done.
func (w *treeWalk) walk(ctx context.Context, h plumbing.Hash, dir string) {
	if ctx.Err() != nil {
		return
	}
	err := w.g.treeEntries(h, func(name []byte, mode filemode.FileMode, eh plumbing.Hash) {
		if w.entry(dir, name, mode, eh) && mode == filemode.Dir {
			w.walk(ctx, eh, dir+string(name)+"/")
		}
	})
	if err != nil && w.broken != nil {
		w.broken(strings.TrimSuffix(dir, "/"), h, err)
	}
}

// treeBlobs adds every blob under tree h to blobs.
func (g *gitRepo) treeBlobs(ctx context.Context, h plumbing.Hash, blobs map[plumbing.Hash]bool) {
	g.treeBlobsSeen(ctx, h, blobs, map[plumbing.Hash]bool{h: true})
}

// treeBlobsSeen adds every blob under tree h to blobs, but for those
// under the trees in trees (walked before).
func (g *gitRepo) treeBlobsSeen(ctx context.Context, h plumbing.Hash, blobs, trees map[plumbing.Hash]bool) {
	trees[h] = true
	w := &treeWalk{g: g, entry: func(_ string, _ []byte, mode filemode.FileMode, h plumbing.Hash) bool {
		switch {
		case mode.IsFile():
			blobs[h] = true
		case mode == filemode.Dir && !trees[h]:
			trees[h] = true
			return true
		}
		return false
	}}
	w.walk(ctx, h, "")
}

// findEntry returns the mode and object of the entry at path p (slash-
// separated) below tree root.
func (g *gitRepo) findEntry(root plumbing.Hash, p string) (filemode.FileMode, plumbing.Hash, bool) {
	h, mode := root, filemode.Dir
	for name := range strings.SplitSeq(p, "/") {
		if mode != filemode.Dir {
			return 0, plumbing.ZeroHash, false
		}
		found := false
		err := g.treeEntries(h, func(n []byte, m filemode.FileMode, eh plumbing.Hash) {
			if !found && string(n) == name {
				found, mode, h = true, m, eh
			}
		})
		if err != nil || !found {
			return 0, plumbing.ZeroHash, false
		}
	}
	return mode, h, true
}
