package gitscan

import (
	"hash/maphash"

	"github.com/go-git/go-git/v5/plumbing"
)

// selIndex finds the commits of a selection and of its boundary by name.
// The commits no ref reaches are looked for after the selection
// (reflog.go): every commit of the object database is asked about, and
// their parents are joined to the selection's. A map of every selected
// commit's name to a node cost about 240 bytes a commit (a million
// commits: 240 MB, the scan's peak); this index holds a 4-byte slot a
// commit and reads the names in the selection itself.
//
// A slot holds an edge as the selection's edges name commits (i >= 0 is
// commits[i], i < 0 boundary[-1-i]), plus one for commits so that 0 is
// empty. The slots are probed linearly from a seeded hash of the name:
// the names come from the repository (a crafted pack index can give its
// objects any names), and with a seed the process chooses, no set of
// names can be made to pile up in one run of slots.
type selIndex struct {
	sel   *selection
	seed  maphash.Seed
	slots []int32
	n     int // filled slots
}

// newSelIndex indexes sel's boundary, then its commits: a name in both
// (which the selection does not make) is found as the commit, as the maps
// this index replaces had it.
func newSelIndex(sel *selection) *selIndex {
	x := &selIndex{sel: sel, seed: maphash.MakeSeed()}
	x.grow(len(sel.commits) + len(sel.boundary))
	for i := range sel.boundary {
		x.set(-1 - int32(i))
	}
	for i := range sel.commits {
		x.set(int32(i))
	}
	return x
}

// grow makes room for n names in all, keeping a third of the slots empty
// so that probes stay short.
func (x *selIndex) grow(n int) {
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
			x.set(edgeOf(v))
		}
	}
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
func (x *selIndex) set(e int32) {
	x.grow(x.n + 1)
	h := &x.sel.parent(e).hash
	mask := len(x.slots) - 1
	for k := x.first(h); ; k = (k + 1) & mask {
		v := x.slots[k]
		if v == 0 {
			x.slots[k] = slotValue(e)
			x.n++
			return
		}
		if x.sel.parent(edgeOf(v)).hash == *h {
			x.slots[k] = slotValue(e)
			return
		}
	}
}

// get returns where commit h is: an edge, as set; ok is false when h is
// neither selected nor in the boundary.
func (x *selIndex) get(h plumbing.Hash) (e int32, ok bool) {
	mask := len(x.slots) - 1
	for k := x.first(&h); ; k = (k + 1) & mask {
		v := x.slots[k]
		if v == 0 {
			return 0, false
		}
		if e := edgeOf(v); x.sel.parent(e).hash == h {
			return e, true
		}
	}
}

func (x *selIndex) first(h *plumbing.Hash) int {
	return int(maphash.Bytes(x.seed, h[:])) & (len(x.slots) - 1)
}
