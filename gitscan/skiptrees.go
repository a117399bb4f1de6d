package gitscan

import (
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
