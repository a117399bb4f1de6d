package gitscan

import (
	"context"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/loftyscan/loftyscan/scanner"
)

// Trees and skip globs. A walk reads each tree once, however many folders
// and commits hold it: what it registered the first time holds for every
// other place. A glob skips paths, not trees: a tree whose walk left a
// file out (conf/k.env, under "conf/**") can be held at a path no glob
// skips (vendor/, the same tree), and a later version of a folder shares
// the entries it did not change with its parent's, so is not walked
// there (docs/, its k.env skipped, then app/, docs/ moved). So a tree is
// marked seen only where no glob has left anything out below its path;
// elsewhere it is marked partial, and met again it is walked again. A
// tree is a graph, and a glob may skip a file below every path of it
// (folders that each hold the next twice: 2^n paths from n trees): past
// maxPartialWalks walks of partial trees again, the scan says so in one
// warning, and a partial tree counts as seen.

// maxPartialWalks is how many times a walk enters a partial tree again.
const maxPartialWalks = 100_000

// partialTrees notes where globs left something out.
type partialTrees struct {
	under  map[string]bool // folders ("" the top) with a skipped path below
	max    int             // maxPartialWalks, or a test's budget
	walks  int
	capped bool
}

// newPartialTrees returns the notes of one walk of g's trees.
func newPartialTrees(g *gitRepo) partialTrees {
	if g.tune.partialWalks != 0 {
		return partialTrees{max: g.tune.partialWalks}
	}
	return partialTrees{max: maxPartialWalks}
}

// skipped notes that a glob left out path: each folder above it.
func (p *partialTrees) skipped(path []byte) {
	if p.under == nil {
		p.under = map[string]bool{}
	}
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] != '/' {
			continue
		}
		if p.under[string(path[:i])] {
			return // and so are the folders above it
		}
		p.under[string(path[:i])] = true
	}
	p.under[""] = true
}

// holds reports whether a glob left out something below folder dir.
func (p *partialTrees) holds(dir []byte) bool { return p.under[string(dir)] }

// again reports whether a partial tree may be walked again; past
// maxPartialWalks it is not, and r (when not nil) gets one warning.
func (p *partialTrees) again(r *scanner.Run) bool {
	if p.walks < p.max {
		p.walks++
		return true
	}
	if !p.capped && r != nil {
		p.capped = true
		r.Fail("", "folders held at over %d paths where a skip glob left out some of their files: a folder met again past that was not walked again, so a file the globs skip at one path may not have been scanned at another; scan without --skip (or the config's skip) to read them all", p.max)
	}
	return false
}

// treeMarks are the trees a walk by path (treeWalk) went through: seen,
// or partial where a skip glob left something out below them, and, with
// globs, the trees open on its way by their folders' paths ("" or ending
// in "/"), which a skip below makes partial.
type treeMarks struct {
	seen    map[plumbing.Hash]int8 // walkTreeSeen or walkTreePartial
	open    map[string]plumbing.Hash
	partial partialTrees
}

// newTreeMarks returns the marks of one walk of g's trees, skip its globs
// (nil: none).
func newTreeMarks(g *gitRepo, skip func(string, bool) bool) *treeMarks {
	m := &treeMarks{seen: map[plumbing.Hash]int8{}, partial: newPartialTrees(g)}
	if skip != nil {
		m.open = map[string]plumbing.Hash{}
	}
	return m
}

// done reports whether tree h is not to be walked: it was, wholly, or it
// was partly and walks of partial trees again are past their bound (r
// then gets a warning).
func (m *treeMarks) done(r *scanner.Run, h plumbing.Hash) bool {
	switch m.seen[h] {
	case walkTreeSeen:
		return true
	case walkTreePartial:
		return !m.partial.again(r)
	}
	return false
}

// enter marks tree h, at folder dir, walked.
func (m *treeMarks) enter(h plumbing.Hash, dir string) {
	m.seen[h] = walkTreeSeen
	if m.open != nil {
		m.open[dir] = h
	}
}

// skipped notes that a glob left out path p: the trees open above it,
// walked, are partial.
func (m *treeMarks) skipped(p string) {
	for i := len(p) - 1; i >= -1; i-- {
		if i >= 0 && p[i] != '/' {
			continue
		}
		if h, ok := m.open[p[:i+1]]; ok && m.seen[h] == walkTreeSeen {
			m.seen[h] = walkTreePartial
		}
	}
}

// unskippedBlobs adds to blobs every blob the trees roots hold at a path
// skip does not skip.
func (g *gitRepo) unskippedBlobs(ctx context.Context, r *scanner.Run, roots []plumbing.Hash, skip func(string, bool) bool, blobs map[plumbing.Hash]bool) {
	m := newTreeMarks(g, skip)
	w := &treeWalk{g: g, entry: func(dir string, name []byte, mode filemode.FileMode, h plumbing.Hash) bool {
		p := dir + string(name)
		switch {
		case mode.IsFile():
			if skip(p, false) {
				m.skipped(p)
				return false
			}
			blobs[h] = true
		case mode == filemode.Dir:
			if m.done(r, h) {
				return false
			}
			if skip(p, true) {
				m.skipped(p)
				return false
			}
			m.enter(h, p+"/")
			return true
		}
		return false
	}}
	for _, t := range roots {
		if !m.done(r, t) {
			m.enter(t, "")
			w.walk(ctx, t, "")
		}
	}
}
