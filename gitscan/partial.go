package gitscan

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/scanner"
)

// Partial clones. A clone made with --filter leaves out objects (most
// often blobs) that its history refers to, and a scan must say so. Walking
// the whole history to find them costs as much as the rest of a scan of a
// key-free repository, so a scan of everything finds them in a pass over
// trees only: the sweep reads the trees and commits of the packs along
// with the blobs, and every object they refer to is looked up. When a
// finding calls for the walk anyway, the walk counts them instead, blob by
// blob, with their paths.

// holeFinder collects the objects the trees and commits it is shown refer
// to and the repository lacks. Its methods are called from the sweep's
// workers at once. Of a tree stored as a delta of another, only the
// entries the delta does not copy whole from the other are looked up
// (gitobj.SweepOptions.Tree): what the base tree refers to was looked up
// with it. Each sweep worker gathers what it is to look up in a batch,
// looked up in order of the objects' names (see holeBatch).
type holeFinder struct {
	s       *gitobj.Store
	broken  atomic.Bool  // a tree or commit did not parse: the walk must say where
	batches []*holeBatch // by sweep worker

	mu      sync.Mutex
	missing map[plumbing.Hash]hole
}

// hole is a missing object: what it is and, for a blob, the name it was
// met under (as stored: the report makes it valid to show).
type hole struct {
	tree bool
	name string
}

// newHoleFinder returns a holeFinder for a sweep on workers workers.
func newHoleFinder(s *gitobj.Store, workers int) *holeFinder {
	hf := &holeFinder{s: s, missing: map[plumbing.Hash]hole{}, batches: make([]*holeBatch, workers)}
	// Batches about the size of the index do as well as bigger ones.
	size := max(min(holeBatchRefs, s.Packed())/max(workers, 1), 1<<10)
	for w := range hf.batches {
		hf.batches[w] = newHoleBatch(size)
	}
	return hf
}

// check looks up h, met in a tree under name (nil: unnamed), for
// sweep worker w (-1: another goroutine, which looks it up at once).
func (hf *holeFinder) check(w int, h plumbing.Hash, tree bool, name []byte) {
	if w < 0 || w >= len(hf.batches) {
		if !hf.s.Has(h) {
			hf.add(h, tree, name)
		}
		return
	}
	if b := hf.batches[w]; b.add(h, tree, name) {
		b.lookUp(hf)
	}
}

// add records h, met under name, as missing. An object met as a blob is
// a blob, named by the least of the names it was met under: what the
// report says does not depend on the order the workers met them in.
func (hf *holeFinder) add(h plumbing.Hash, tree bool, name []byte) {
	hf.mu.Lock()
	m, ok := hf.missing[h]
	switch {
	case !ok:
		hf.missing[h] = hole{tree: tree, name: string(name)}
	case tree:
	case m.tree || string(name) < m.name:
		hf.missing[h] = hole{name: string(name)}
	}
	hf.mu.Unlock()
}

// flush looks up what the batches hold, once the sweep is over.
func (hf *holeFinder) flush() {
	for _, b := range hf.batches {
		b.lookUp(hf)
	}
}

// entry looks up what the tree entry data starts with refers to, and
// returns the rest of the tree.
func (hf *holeFinder) entry(w int, data []byte) []byte {
	name, mode, eh, rest, err := gitobj.NextTreeEntry(data)
	switch {
	case err != nil:
		hf.broken.Store(true)
		return nil
	case mode.IsFile():
		hf.check(w, eh, false, name)
	case mode == filemode.Dir:
		hf.check(w, eh, true, nil) // the report names the files only
	}
	return rest
}

// tree looks up, for sweep worker w, what a tree's entries at the
// offsets fresh refer to (all of them when fresh is nil).
func (hf *holeFinder) tree(w int, data []byte, fresh []int32) {
	if fresh == nil {
		for len(data) > 0 {
			data = hf.entry(w, data)
		}
		return
	}
	for _, off := range fresh {
		hf.entry(w, data[off:])
	}
}

// object looks up, for sweep worker w (-1: another goroutine), what a
// tree or commit refers to.
func (hf *holeFinder) object(w int, typ plumbing.ObjectType, data []byte) {
	switch typ {
	case plumbing.TreeObject:
		hf.tree(w, data, nil)
	case plumbing.CommitObject:
		tree, err := gitobj.CommitTree(data)
		if err != nil {
			hf.broken.Store(true)
			return
		}
		hf.check(w, tree, true, nil)
	}
}

// report gives one warning for the missing objects, counted as errors.
// It names the files that lost the most versions.
func (hf *holeFinder) report(r *scanner.Run) {
	if len(hf.missing) == 0 {
		return
	}
	var blobs, trees int
	versions := map[string]int{}
	for _, m := range hf.missing {
		if m.tree {
			trees++
		} else {
			blobs++
			versions[finding.ValidPath(m.name)]++
		}
	}
	names := slices.Collect(maps.Keys(versions))
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(versions[b], versions[a]), cmp.Compare(a, b))
	})
	const show = 3
	var parts []string
	if blobs > 0 {
		parts = append(parts, fmt.Sprintf("%d blob(s)", blobs))
	}
	if trees > 0 {
		parts = append(parts, fmt.Sprintf("%d tree(s), with the files in them,", trees))
	}
	what := strings.Join(parts, " and ")
	var list []string
	for _, n := range names[:min(show, len(names))] {
		if versions[n] > 1 {
			n = fmt.Sprintf("%s ×%d", n, versions[n])
		}
		list = append(list, n)
	}
	if len(names) > show {
		list = append(list, fmt.Sprintf("%d more file names", len(names)-show))
	}
	detail := ""
	if len(list) > 0 {
		detail = " (" + strings.Join(list, ", ") + ")"
	}
	r.FailMany(int64(blobs+trees), "", "partial clone: %s were left out by the clone's filter and were not scanned%s; to scan them, run 'git fetch --refetch' without a filter first, or scan the remote's URL", what, detail)
}
