package gitobj

import (
	"bytes"
	"cmp"
	"math"
	"sort"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
)

// Names in 4 bytes. A walk of a history keeps a node for every commit,
// and a node that holds the commit's name and its tree's (20 bytes each)
// is mostly names: 80 MB of them at two million commits. Every name a
// pack holds is already in memory, in its index: a NameRef is where,
// and only a name no pack holds (a loose or missing object) is kept
// beside them, once.

// NameRef stands for an object name in a store's Names: the zero NameRef
// for the zero hash, then the packs' names in the order of the packs and
// their indexes, then the names no pack holds in the order they were
// first met.
type NameRef uint32

// Names turns names into NameRefs and back. Ref and Hash are safe for
// concurrent use; a packed name's are lock-free.
type Names struct {
	s     *Store
	bases []uint32 // pack i's names are bases[i]+1 ...
	end   uint32   // the first NameRef past the packs'

	mu    sync.RWMutex
	other []plumbing.Hash // NameRef end+i is other[i]
	at    map[plumbing.Hash]NameRef
}

// Names returns a new table of the store's names; of a nil store, a
// table that keeps every name beside (for tests).
func (s *Store) Names() *Names {
	n := &Names{s: s, at: map[plumbing.Hash]NameRef{}}
	total := uint64(0)
	if s == nil {
		n.end = 1
		return n
	}
	for _, p := range s.packs {
		n.bases = append(n.bases, uint32(total))
		total += uint64(p.idx.count)
	}
	if total >= math.MaxUint32/2 {
		// Beyond any real repository: every name is kept beside.
		n.bases = nil
		total = 0
	}
	n.end = uint32(total) + 1
	return n
}

// Ref returns h's NameRef: the place the first pack that holds h gives it,
// which must be the same at every lookup (newNameTable keeps it so for an
// index that lists a name twice or out of order).
func (n *Names) Ref(h plumbing.Hash) NameRef {
	if r, ok := n.Find(h); ok {
		return r
	}
	return n.otherRef(h)
}

// Find returns h's NameRef when it has one: a packed name, or one Ref has
// given; it makes none.
func (n *Names) Find(h plumbing.Hash) (NameRef, bool) {
	if h.IsZero() {
		return 0, true
	}
	if n.bases != nil {
		if pi, pos := n.s.locate(h); pi >= 0 {
			return NameRef(n.bases[pi] + uint32(pos) + 1), true
		}
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	r, ok := n.at[h]
	return r, ok
}

// RefOf returns the NameRef of the object at l.
func (n *Names) RefOf(l Loc) NameRef {
	if l.pack >= 0 && n.bases != nil {
		return NameRef(n.bases[l.pack] + uint32(l.pos) + 1)
	}
	return n.Ref(l.h)
}

// otherRef gives h, which no pack holds, a NameRef beside the packs' (or
// the one another goroutine gave it since Find looked).
func (n *Names) otherRef(h plumbing.Hash) NameRef {
	n.mu.Lock()
	defer n.mu.Unlock()
	if r, ok := n.at[h]; ok {
		return r
	}
	r := NameRef(n.end + uint32(len(n.other)))
	n.other = append(n.other, h)
	n.at[h] = r
	return r
}

// Hash returns the name r stands for.
func (n *Names) Hash(r NameRef) (h plumbing.Hash) {
	if r == 0 {
		return h
	}
	if uint32(r) < n.end {
		pi, pos := n.packOf(r)
		return n.s.packs[pi].idx.hashAt(pos)
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.other[uint32(r)-n.end]
}

// Loc returns where the object r stands for is, as Locate does, without
// looking its name up.
func (n *Names) Loc(r NameRef) Loc {
	if r != 0 && uint32(r) < n.end {
		pi, pos := n.packOf(r)
		return Loc{h: n.s.packs[pi].idx.hashAt(pos), pack: int32(pi), pos: int32(pos)}
	}
	return n.s.Locate(n.Hash(r))
}

// packOf returns the pack and index position of a packed name's ref.
func (n *Names) packOf(r NameRef) (int, int) {
	v := uint32(r) - 1
	pi := sort.Search(len(n.bases), func(i int) bool { return n.bases[i] > v }) - 1
	return pi, int(v - n.bases[pi])
}

// Compare compares the names a and b stand for, as bytes.Compare does.
func (n *Names) Compare(a, b NameRef) int {
	if a == b {
		return 0
	}
	if a != 0 && b != 0 && uint32(a) < n.end && uint32(b) < n.end {
		pa, _ := n.packOf(a)
		pb, _ := n.packOf(b)
		if pa == pb {
			return cmp.Compare(a, b) // one pack's index is in name order
		}
	}
	x, y := n.Hash(a), n.Hash(b)
	return bytes.Compare(x[:], y[:])
}

// hashAt is the name at index position pos, copied as a whole array (a
// copy of a slice is a call of memmove: 6% of a scan's time at a million
// commits).
func (x *packIndex) hashAt(pos int) plumbing.Hash {
	return plumbing.Hash(*(*[hashLen]byte)(x.names[pos*hashLen:]))
}
