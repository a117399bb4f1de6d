package gitscan

import (
	"math/bits"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
)

// Batched lookups. The pass over the trees of a partial clone looks up
// about every object the packs hold, most of them several times. Looked
// up one at a time, in the order the trees come, each lookup in a pack
// index bigger than the processor's caches is a miss or two (the index's
// hash table, then the name compared), and that was most of the pass's
// cost. A sweep worker instead gathers what it is to look up, sorts it by
// the first bits of the names and looks them up in that order, the
// index's (gitobj.Store.Absent): each search lands next to the one
// before, in memory the caches hold.

// holeBatchRefs is how many references the sweep workers gather, all
// together, before they look them up: 2 MiB of them.
const holeBatchRefs = 1 << 16

// holeBatchNames is how many bytes of entry names a batch keeps before it
// looks up what it holds: a tree of long names fills it first.
const holeBatchNames = 1 << 20

// holeRef is an object a tree or commit refers to, and the name it was
// met under (names[name:end] of its batch).
type holeRef struct {
	h         plumbing.Hash
	tree      bool
	name, end uint32
}

// holeBatch is one sweep worker's references not yet looked up.
type holeBatch struct {
	refs   []holeRef
	names  []byte
	groups []int32         // in sort: how many refs each group has (at groups[k+1]), then where each starts; zero between
	shift  uint            // 16 less the bits of a group's number
	sorted []plumbing.Hash // the names of refs, by group
	order  []int32         // for each of sorted, its reference
}

func newHoleBatch(size int) *holeBatch {
	n := min(max(bits.Len(uint(size)), 8), 16) // about one reference a group
	return &holeBatch{refs: make([]holeRef, 0, size), groups: make([]int32, 1<<n+1), shift: uint(16 - n)}
}

// add gathers a reference; it reports whether the batch is full.
func (b *holeBatch) add(h plumbing.Hash, tree bool, name []byte) bool {
	start := len(b.names)
	b.names = append(b.names, name...)
	b.refs = append(b.refs, holeRef{h: h, tree: tree, name: uint32(start), end: uint32(len(b.names))})
	return len(b.refs) == cap(b.refs) || len(b.names) >= holeBatchNames
}

// lookUp looks up what the batch holds, records the objects missing
// (holeFinder.add) and empties the batch.
func (b *holeBatch) lookUp(hf *holeFinder) {
	if len(b.refs) == 0 {
		return
	}
	b.sort()
	hf.s.Absent(b.sorted, func(i int) {
		r := b.refs[b.order[i]]
		hf.add(r.h, r.tree, b.names[r.name:r.end])
	})
	b.refs, b.names = b.refs[:0], b.names[:0]
	clear(b.groups)
}

// sort places the names of the references in b.sorted in groups by their
// first bits, the groups in order (a counting sort). Names of about one group lie together in a pack
// index, whatever its size: the lookups go through it front to back. The
// order within a group does not matter to them.
func (b *holeBatch) sort() {
	for _, r := range b.refs {
		b.groups[b.group(r.h)+1]++ // counted together: the counts stay in cache
	}
	for k := 1; k < len(b.groups); k++ {
		b.groups[k] += b.groups[k-1]
	}
	n := len(b.refs)
	b.sorted = slices.Grow(b.sorted[:0], n)[:n]
	b.order = slices.Grow(b.order[:0], n)[:n]
	for i, r := range b.refs {
		k := b.group(r.h)
		b.sorted[b.groups[k]] = r.h
		b.order[b.groups[k]] = int32(i)
		b.groups[k]++
	}
}

func (b *holeBatch) group(h plumbing.Hash) int {
	return int(uint(h[0])<<8|uint(h[1])) >> b.shift
}
