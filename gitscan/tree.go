package gitscan

import (
	"context"
	"errors"
	"fmt"
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
	data, err := g.treeData(h)
	if err != nil {
		return err
	}
	return gitobj.ParseTree(data, fn)
}

// Bounds of a walk. Git refuses trees nested deeper than 4096 folders
// (core.maxTreeDepth), and no file system takes a path longer than 4096
// bytes; a crafted tree can nest tens of thousands deep, with long names,
// and each folder on the way holds its path. Past either bound the walk
// reports the tree (errTooDeep) and does not go in. The trees on the way
// are held up to treesHeld bytes in all; past that the oldest are dropped
// and read again when the walk comes back to them.
const (
	maxTreeDepth = 4096
	maxDirPath   = 4096
	treesHeld    = 32 << 20
)

// errTooDeep is a folder beyond a walk's bounds.
var errTooDeep = fmt.Errorf("folder nested more than %d deep or with a path longer than %d bytes, as only a crafted tree is: not entered", maxTreeDepth, maxDirPath)

// treeWalk is one walk of trees, depth first in tree order.
type treeWalk struct {
	g *gitRepo
	// entry is called with each entry, its folder's path ("" or ending in
	// "/") and its name (valid during the call). For a folder, it returns
	// whether to walk into it.
	entry func(dir string, name []byte, mode filemode.FileMode, h plumbing.Hash) bool
	// broken, when set, is called with each tree that could not be read
	// (wholly), or that is beyond the walk's bounds (errTooDeep), and the
	// path of its folder.
	broken func(dir string, h plumbing.Hash, err error)
}

// walkFrame is a tree the walk is in and its entries not yet walked; a
// frame dropped to stay under treesHeld is read again, from skip.
type walkFrame struct {
	h       plumbing.Hash
	dir     string
	rest    []byte
	size    int
	skip    int
	dropped bool
}

// walk walks tree h, whose path is dir, until ctx is done. It is
// iterative: however deep the trees nest, Go's stack is not.
func (w *treeWalk) walk(ctx context.Context, h plumbing.Hash, dir string) {
	var stack []walkFrame
	held := 0
	push := func(h plumbing.Hash, dir string) {
		if len(stack) >= maxTreeDepth || len(dir) > maxDirPath {
			w.fail(dir, h, errTooDeep)
			return
		}
		data, err := w.g.treeData(h)
		if err != nil {
			w.fail(dir, h, err)
			return
		}
		stack = append(stack, walkFrame{h: h, dir: dir, rest: data, size: len(data)})
		held += len(data)
		for i := 0; held > treesHeld && i < len(stack)-1; i++ {
			if f := &stack[i]; !f.dropped {
				held -= f.size
				f.skip, f.rest, f.dropped = f.size-len(f.rest), nil, true
			}
		}
	}
	pop := func() {
		held -= stack[len(stack)-1].size
		stack[len(stack)-1] = walkFrame{} // its tree is not held past its end
		stack = stack[:len(stack)-1]
	}
	push(h, dir)
	for len(stack) > 0 && ctx.Err() == nil {
		f := &stack[len(stack)-1]
		if f.dropped {
			data, err := w.g.treeData(f.h)
			if err != nil || len(data) != f.size {
				w.fail(f.dir, f.h, err)
				*f = walkFrame{}
				stack = stack[:len(stack)-1]
				continue
			}
			f.rest, f.dropped = data[f.skip:], false
			held += f.size
		}
		if len(f.rest) == 0 {
			pop()
			continue
		}
		name, mode, eh, rest, err := gitobj.NextTreeEntry(f.rest)
		if err != nil {
			w.fail(f.dir, f.h, err)
			pop()
			continue
		}
		f.rest = rest
		if w.entry(f.dir, name, mode, eh) && mode == filemode.Dir {
			push(eh, f.dir+string(name)+"/")
		}
	}
}

// fail reports tree h, at folder dir, as broken.
func (w *treeWalk) fail(dir string, h plumbing.Hash, err error) {
	if err == nil {
		err = errors.New("changed while read")
	}
	if w.broken != nil {
		w.broken(strings.TrimSuffix(dir, "/"), h, err)
	}
}

// treeData reads tree h.
func (g *gitRepo) treeData(h plumbing.Hash) ([]byte, error) {
	typ, data, err := g.rd.Read(h)
	if err != nil {
		return nil, err
	}
	if typ != plumbing.TreeObject {
		return nil, plumbing.ErrObjectNotFound // not a tree, as go-git says
	}
	return data, nil
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
