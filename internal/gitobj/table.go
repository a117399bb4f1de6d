package gitobj

import (
	"errors"

	"github.com/go-git/go-git/v5/plumbing"
)

// Tables by object: a walk of a history keeps a little for every object
// it meets (seen or not, the commit that first held a blob), and a map
// from hashes costs some 50 bytes an entry, a history of millions of
// objects gigabytes. A Table keeps an int32 for each object at its
// position in its pack's index: 4 bytes for every object in the pack,
// whatever the walk meets, and a lookup is the index search the read of
// the object needs anyway (Loc).

// Loc is where an object is: its pack and position in the pack's index,
// or, for an object no pack holds (loose or missing), its name only.
type Loc struct {
	h    plumbing.Hash
	pack int32 // -1: in no pack
	pos  int32
}

// Locate finds object h in the packs.
func (s *Store) Locate(h plumbing.Hash) Loc {
	pi, pos := s.locate(h)
	return Loc{h: h, pack: int32(pi), pos: int32(pos)}
}

// Packed reports whether a pack holds the object.
func (l Loc) Packed() bool { return l.pack >= 0 }

// Hash is the object's name.
func (l Loc) Hash() plumbing.Hash { return l.h }

// Table maps objects to int32 values, 0 for those never set. It is not
// safe for concurrent use.
type Table struct {
	packs [][]int32 // by pack, then index position; made at the first value set in the pack
	sizes []int
	other map[plumbing.Hash]int32
}

// NewTable returns an empty Table over the store's packs.
func (s *Store) NewTable() *Table {
	t := &Table{packs: make([][]int32, len(s.packs)), other: map[plumbing.Hash]int32{}}
	for _, p := range s.packs {
		t.sizes = append(t.sizes, p.idx.count)
	}
	return t
}

// Get returns the value of the object at l.
func (t *Table) Get(l Loc) int32 {
	if l.pack < 0 {
		return t.other[l.h]
	}
	if p := t.packs[l.pack]; p != nil {
		return p[l.pos]
	}
	return 0
}

// Set sets the value of the object at l.
func (t *Table) Set(l Loc, v int32) {
	if l.pack < 0 {
		if v == 0 {
			delete(t.other, l.h)
		} else {
			t.other[l.h] = v
		}
		return
	}
	p := t.packs[l.pack]
	if p == nil {
		p = make([]int32, t.sizes[l.pack])
		t.packs[l.pack] = p
	}
	p[l.pos] = v
}

// ReadLoc reads the object at l, as Read does h: the lookup is done.
func (r *Reader) ReadLoc(l Loc) (plumbing.ObjectType, []byte, error) {
	if l.pack < 0 {
		return r.Read(l.h)
	}
	typ, data, err := r.readPacked(int(l.pack), r.s.packs[l.pack].idx.offset(int(l.pos)), 0)
	switch {
	case err == nil:
		return typ, data, nil
	case errors.Is(err, errBig): // over the reader's share: read as Read reads it
		o, err := r.resolveBig(l.h, modeWhole)
		return o.Type, o.Data, err
	case r.s.mayFallBack(err):
		o, err := r.s.readFallback(l.h, err, false)
		return o.Type, o.Data, err
	}
	return typ, data, err
}
