package gitobj

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"
	"sort"
)

// multiTable is a hash table of the names of all of a store's packs, laid
// out as a pack's nameTable is: a slot holds a name's place across the
// packs (bases[pack] + index position + 1) and tag bits. A name that
// several packs list is held at the first one's place, where locate
// looking in each pack in turn finds it.
//
// A store of many packs asked for a name looks in every pack before the
// one that holds it, and in every pack for a name none holds: each at
// least a probe of its table, a cache miss. The scans of a history look
// up each commit's name, its tree's and its parents' (Names), each once
// at least: in 1,039 packs of 40 objects (15,000 commits) the lookups
// were two thirds of a scan's CPU, in 6,751 packs four fifths.
type multiTable struct {
	nameTable
	bases []uint32 // pack i's places start at bases[i]
}

// multiPacks is the fewest packs a store looks names up in a multiTable
// of rather than in each pack in turn.
const multiPacks = 16

// newMultiTable builds s's table, or returns nil when the packs' names do
// not spread (maxRun, buildProbes), as newNameTable does, or an index's
// names are not in strictly ascending order: the table would find a name
// that its pack's search cannot (or at another place), and locate's
// answer would change once it is built, as a pack's would (newNameTable).
func newMultiTable(s *Store) *multiTable {
	t := &multiTable{}
	total := 0
	for _, p := range s.packs {
		if !p.idx.ascending() {
			return nil
		}
		t.bases = append(t.bases, uint32(total))
		total += p.idx.count
	}
	if total >= math.MaxUint32/2 {
		return nil
	}
	t.slots = make([]uint32, total+total/2+1) // at least one slot stays empty
	t.posBits = uint(bits.Len(uint(total)))
	mask := uint32(1)<<t.posBits - 1
	probes, most := 0, buildProbes(total)
	for pi, p := range s.packs {
		for i := range p.idx.count {
			name := p.idx.name(i)
			key := binary.LittleEndian.Uint64(name[4:])
			k := t.first(key)
			for e := t.slots[k]; e != 0; e = t.slots[k] {
				if e&^mask == t.tag(key) && bytes.Equal(t.name(s, e&mask-1), name) {
					k = -1 // an earlier pack's, which locate finds first
					break
				}
				if probes++; probes > most {
					return nil
				}
				k = t.next(k)
			}
			if k >= 0 {
				t.slots[k] = t.tag(key) | (t.bases[pi] + uint32(i) + 1)
			}
		}
	}
	if !t.spreads() {
		return nil
	}
	return t
}

// place returns the pack and index position of place v (from 0).
func (t *multiTable) place(v uint32) (pi, pos int) {
	pi = sort.Search(len(t.bases), func(i int) bool { return t.bases[i] > v }) - 1
	return pi, int(v - t.bases[pi])
}

// name is the name at place v (from 0).
func (t *multiTable) name(s *Store, v uint32) []byte {
	pi, pos := t.place(v)
	return s.packs[pi].idx.name(pos)
}

// find returns the first pack that holds h and its position there, pi -1
// when none does; ok is false when it read maxProbe slots without an
// answer, and the caller asks each pack.
func (t *multiTable) find(s *Store, h []byte) (pi, pos int, ok bool) {
	key := binary.LittleEndian.Uint64(h[4:12])
	k := t.first(key)
	mask := uint32(1)<<t.posBits - 1
	for range maxProbe {
		e := t.slots[k]
		if e == 0 {
			return -1, -1, true
		}
		if e&^mask == t.tag(key) {
			if pi, pos := t.place(e&mask - 1); bytes.Equal(s.packs[pi].idx.name(pos), h[:hashLen]) {
				return pi, pos, true
			}
		}
		k = t.next(k)
	}
	return -1, -1, false
}
