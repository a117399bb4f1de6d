package gitscan

import (
	"math/rand/v2"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/gitobj"
)

// nameIndex finds things by the commit name each holds, in 4-byte slots:
// a slot holds a thing's number, never 0, and names reads the name it
// holds where the thing is kept, so the index holds no name of its own.
// Names are the store's NameRefs (gitobj.Names), one for each name.
// A Go map of a name to a 4-byte number costs about 45 bytes an entry; at
// a million commits the revision walk's was 45 MB and the selection's
// (below) 240 MB, each the peak of a scan's memory in its turn.
//
// The slots are probed linearly from a seeded hash of the name: the names
// come from the repository (a crafted pack index can give its objects any
// names, and so any NameRefs to its commits), and with a seed the process
// chooses, no set of names can be made to pile up in one run of slots.
type nameIndex[N namer] struct {
	names N
	seed  uint64
	slots []int32
	n     int // filled slots
}

// namer gives the name of the thing numbered v (not 0).
type namer interface {
	nameOf(v int32) gitobj.NameRef
}

func newNameIndex[N namer](names N, n int) *nameIndex[N] {
	x := &nameIndex[N]{names: names, seed: rand.Uint64()}
	x.grow(n)
	return x
}

// grow makes room for n names in all, keeping a third of the slots empty
// so that probes stay short.
func (x *nameIndex[N]) grow(n int) {
	size := 16
	for size < n+n/2+1 {
		size <<= 1
	}
	if size <= len(x.slots) {
		return
	}
	old := x.slots
	x.slots, x.n = make([]int32, size), 0
	for _, v := range old {
		if v != 0 {
			x.set(v)
		}
	}
}

// set indexes thing v under its name: a name indexed already is then
// found as v.
func (x *nameIndex[N]) set(v int32) {
	x.grow(x.n + 1)
	h := x.names.nameOf(v)
	mask := len(x.slots) - 1
	for k := x.first(h); ; k = (k + 1) & mask {
		s := x.slots[k]
		if s == 0 {
			x.slots[k] = v
			x.n++
			return
		}
		if x.names.nameOf(s) == h {
			x.slots[k] = v
			return
		}
	}
}

// get returns the thing named h; ok is false when none is.
func (x *nameIndex[N]) get(h gitobj.NameRef) (v int32, ok bool) {
	mask := len(x.slots) - 1
	for k := x.first(h); ; k = (k + 1) & mask {
		s := x.slots[k]
		if s == 0 {
			return 0, false
		}
		if x.names.nameOf(s) == h {
			return s, true
		}
	}
}

// first is where the probes for h start: a seeded mix of its bits
// (murmur3's finalizer), whose high bits decide.
func (x *nameIndex[N]) first(h gitobj.NameRef) int {
	k := uint64(h) ^ x.seed
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return int(k & uint64(len(x.slots)-1))
}

// selIndex finds the commits of a selection and of its boundary by name.
// The commits no ref reaches are looked for after the selection
// (reflog.go): every commit of the object database is asked about, and
// their parents are joined to the selection's.
//
// Its things are edges as the selection's edges name commits (i >= 0 is
// commits[i], i < 0 boundary[-1-i]), plus one for commits so that none is
// 0.
type selIndex struct {
	x     *nameIndex[*selection]
	names *gitobj.Names
}

func (s *selection) nameOf(v int32) gitobj.NameRef { return s.parent(edgeOf(v)).hash }

// newSelIndex indexes sel's boundary, then its commits: a name in both
// (which the selection does not make) is found as the commit, as the maps
// this index replaced had it.
func newSelIndex(sel *selection) *selIndex {
	x := &selIndex{newNameIndex(sel, len(sel.commits)+len(sel.boundary)), sel.names}
	for i := range sel.boundary {
		x.set(-1 - int32(i))
	}
	for i := range sel.commits {
		x.set(int32(i))
	}
	return x
}

// slotValue and edgeOf turn an edge into what a slot holds and back.
func slotValue(e int32) int32 {
	if e >= 0 {
		return e + 1
	}
	return e
}

func edgeOf(v int32) int32 {
	if v > 0 {
		return v - 1
	}
	return v
}

// set indexes the commit that edge e names under its name: a name indexed
// already is then found there.
func (x *selIndex) set(e int32) { x.x.set(slotValue(e)) }

// get returns where commit h is: an edge, as set; ok is false when h is
// neither selected nor in the boundary.
func (x *selIndex) get(h plumbing.Hash) (e int32, ok bool) {
	r, ok := x.names.Find(h)
	if !ok {
		return 0, false
	}
	return x.getRef(r)
}

// getRef is get of the commit r names.
func (x *selIndex) getRef(r gitobj.NameRef) (e int32, ok bool) {
	v, ok := x.x.get(r)
	return edgeOf(v), ok
}
