package gitobj

import (
	"github.com/go-git/go-git/v5/plumbing"
)

// chainMemo keeps some of the objects too big for a Reader's cache (over a
// quarter of it) that reading delta chains resolves, as checkpoints along
// their chains. A history's big tree (a folder of 100,000 files, 6 MB) is
// stored as a chain of deltas from its newest version, and a walk in
// commit order reads the oldest, deepest, first: without checkpoints each
// read resolved its whole chain again, so 200 versions in a chain 175
// deep (a 339 KB pack) took 58 s of CPU where git took 0.7. A read that
// resolves an object d deltas above the nearest checkpoint keeps the
// object and the ones d/2, d/4, ..., 1 below it, and drops the ones above
// it on the same chain; when the memo is full it drops the checkpoint
// nearest the one below it. Reading a chain of n from its top down then
// costs O(n log n) deltas with a few checkpoints, not O(n^2), and reading
// it up costs n.
type chainMemo struct {
	max, used int64
	ents      []memoEntry
}

// memoEntry is an object at depth deltas above the end of its chain, the
// object at root of the same pack (an object stored whole, or one that
// was in the cache).
type memoEntry struct {
	pack      int
	off, root int64
	depth     int
	// below is the depth of the checkpoint it was resolved from, on its
	// way down to root: pack's delta chains branch (many versions are
	// deltas of one), so depths alone do not say which is below which.
	below int
	typ   plumbing.ObjectType
	data  []byte
}

func newChainMemo(max int64) *chainMemo { return &chainMemo{max: max} }

func (m *chainMemo) get(pack int, off int64) (*memoEntry, bool) {
	if m == nil {
		return nil, false
	}
	for i := range m.ents {
		if e := &m.ents[i]; e.pack == pack && e.off == off {
			return e, true
		}
	}
	return nil, false
}

// keeps reports whether the object at depth, resolved by a read of the
// object at top from the checkpoint at from (depths on one chain), is
// one of the checkpoints the read keeps.
func keeps(from, depth, top int) bool {
	if depth == top {
		return true
	}
	for d := (top - from) / 2; d > 0; d /= 2 {
		if top-depth == d {
			return true
		}
	}
	return false
}

// dropAbove drops the checkpoints of chain (pack, root) above depth: a
// walk that reads a chain down is done with them.
func (m *chainMemo) dropAbove(pack int, root int64, depth int) {
	if m == nil {
		return
	}
	kept := m.ents[:0]
	for _, e := range m.ents {
		if e.pack == pack && e.root == root && e.depth > depth {
			m.used -= int64(len(e.data))
			continue
		}
		kept = append(kept, e)
	}
	clear(m.ents[len(kept):])
	m.ents = kept
}

// put keeps an object as a checkpoint; the object at top, the one the
// read is for, is not dropped to make room.
func (m *chainMemo) put(e memoEntry, top int64) {
	if m == nil || int64(len(e.data)) > m.max {
		return
	}
	if _, ok := m.get(e.pack, e.off); ok {
		return
	}
	m.ents = append(m.ents, e)
	m.used += int64(len(e.data))
	for m.used > m.max {
		m.evict(e.pack, top)
	}
}

// evict drops the checkpoint nearest the one below it on its way down
// its chain, but for the one at offset top of pack.
func (m *chainMemo) evict(pack int, top int64) {
	victim, gap := -1, 0
	for i, e := range m.ents {
		if e.pack == pack && e.off == top {
			continue
		}
		if g := e.depth - e.below; victim < 0 || g < gap {
			victim, gap = i, g
		}
	}
	if victim < 0 {
		victim = 0 // only the top: it goes too
	}
	m.used -= int64(len(m.ents[victim].data))
	m.ents[victim] = m.ents[len(m.ents)-1]
	m.ents[len(m.ents)-1] = memoEntry{}
	m.ents = m.ents[:len(m.ents)-1]
}
