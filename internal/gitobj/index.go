package gitobj

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"sync/atomic"
)

// Pack indexes. A version 2 .idx file lists a pack's object names in
// sorted order, with a fan-out table by first byte, and each object's
// offset in the .pack. The pack reader holds the file mapped (or read)
// and searches it in place: nothing is decoded up front.

// packIndex is a parsed, validated version 2 pack index.
type packIndex struct {
	count   int
	fanout  [256]uint32
	names   []byte // count × 20
	offsets []byte // count × 4: an offset, or (high bit set) an index into large
	large   []byte // 8-byte offsets of objects past 2 GiB

	lookups atomic.Int64              // finds so far, until hashed is built
	hashed  atomic.Pointer[nameTable] // built after many finds
}

var errBadIndex = errors.New("not a valid version 2 pack index")

const (
	idxFanoutEnd = 8 + 256*4
	hashLen      = 20
)

// parsePackIndex checks the layout of a .idx file's bytes and returns its
// tables, which point into b. Every size is checked against the file's
// length, so a damaged or crafted index cannot make later reads go out of
// bounds; a SHA-256 repository's index (32-byte names) fails the check.
func parsePackIndex(b []byte) (*packIndex, error) {
	if len(b) < idxFanoutEnd+2*hashLen || string(b[:4]) != "\xfftOc" || binary.BigEndian.Uint32(b[4:8]) != 2 {
		return nil, errBadIndex
	}
	x := &packIndex{}
	prev := uint32(0)
	for i := range x.fanout {
		v := binary.BigEndian.Uint32(b[8+4*i:])
		if v < prev {
			return nil, fmt.Errorf("%w: fan-out table not sorted", errBadIndex)
		}
		x.fanout[i], prev = v, v
	}
	n := int64(x.fanout[255])
	fixed := int64(idxFanoutEnd) + n*(hashLen+4+4) + 2*hashLen
	if fixed > int64(len(b)) {
		return nil, fmt.Errorf("%w: %d objects do not fit in %d bytes", errBadIndex, n, len(b))
	}
	extra := int64(len(b)) - fixed
	x.count = int(n)
	p := int64(idxFanoutEnd)
	x.names = b[p : p+n*hashLen]
	p += n * hashLen
	p += n * 4 // CRC-32s: not used
	x.offsets = b[p : p+n*4]
	p += n * 4
	// What is left is the large-offset table: at most one 8-byte entry per
	// object but the first (whose offset is small), as git checks. The
	// entries are checked when used (offset), not here: opening an index
	// costs nothing per object, which the staged check, run at every
	// commit, relies on. An index with 32-byte names (a SHA-256
	// repository) leaves 12 bytes more per object than this allows.
	if maxLarge := 8 * max(n-1, 0); extra > maxLarge {
		return nil, fmt.Errorf("%w: %d bytes where at most %d of large offsets can be", errBadIndex, extra, maxLarge)
	}
	x.large = b[p : p+extra]
	return x, nil
}

// name returns the object name at position i.
func (x *packIndex) name(i int) []byte { return x.names[i*hashLen : (i+1)*hashLen] }

// find returns the position of the object named h, or -1.
func (x *packIndex) find(h []byte) int {
	if t := x.hashed.Load(); t != nil {
		if pos, ok := t.find(x, h); ok {
			return pos
		}
		return searchNames(&x.fanout, x.names, h)
	}
	if x.lookups.Add(1) == int64(x.count/4)+hashAfter {
		x.hashed.Store(newNameTable(x)) // nil when the names do not spread
	}
	return searchNames(&x.fanout, x.names, h)
}

// hashAfter is how many lookups, beyond a quarter of the objects, an
// index takes before it builds a hash table of its names: a walk of a
// whole history looks up hundreds of thousands of objects, and with the
// table a lookup costs a probe or two instead of about four steps of
// search, each a cache miss in a big index (BenchmarkIndexFindHashed). A
// range scan never gets there.
const hashAfter = 20_000

// nameTable is a hash table of an index's names, with linear probing:
// each 4-byte slot holds the object's position + 1 in its low posBits
// bits and, above them, as many of the high bits of the name's bytes 8 to
// 12 as are left over (10 in a pack of 4 million objects: one slot in a
// thousand whose name is not the one looked up has its bits). That is 6
// bytes an object, a third of the slots left empty; it was 12 with a slot
// of 8 bytes (a whole 32-bit half and the position), 48 MB of a scan of a
// million commits at its peak. Bytes 4 to 8 pick the first slot, scaled
// to the table (not masked to a power of two, which would cost up to
// twice as many slots).
type nameTable struct {
	slots   []uint32
	posBits uint // bits of a slot that hold the position + 1
}

// Names crafted to share bytes 4 to 12 (an index file is data) can make
// the table slow in three ways, each bounded:
//
//   - building it: names that share a first slot each walk past the ones
//     placed before them, quadratic in their number. Real names are
//     uniform, and at a load of two thirds they are placed about one slot
//     past their first slot on average (one in 50,000 more than 64 past
//     it): past buildProbes slots in all, the index keeps its binary search;
//   - a run of filled slots longer than maxRun (real names: 125 at most
//     in 6 million slots) leaves the index without its table too;
//   - a lookup, which could still walk a run of names whose high half is
//     its own, comparing whole names at each slot, reads maxProbe slots at
//     most, then searches. A name in another pack is looked up in every
//     pack before it, so such a run in a small pack would slow the lookups
//     of a big one.
const (
	maxRun   = 4096
	maxProbe = 64
)

// buildProbes is the most slots building the table of n names may walk
// past, all together (see maxRun).
func buildProbes(n int) int { return 2*n + maxRun }

// newNameTable builds x's table, or returns nil when its names do not
// spread (maxRun, buildProbes) or are not in strictly ascending order.
//
// A name an index lists twice (git's index-pack lets a pack hold an
// object twice, and git fsck passes it) is found by the table at its
// first place, by the search at either; names out of order (a crafted
// index) are found by the table where the search cannot find them. Both
// would make find's answer for a name change once the table is built,
// and a NameRef (Names) is the place find gives: one object would get two
// refs, and the revision walk, the selection's index and exposure would
// take it for two. Such an index keeps its search: its answer for a name
// never changes, and the places of the names it finds are in their order
// (Names.Compare compares the places of one pack's names).
func newNameTable(x *packIndex) *nameTable {
	if !x.ascending() {
		return nil
	}
	t := &nameTable{
		slots:   make([]uint32, x.count+x.count/2+1), // at least one slot stays empty
		posBits: uint(bits.Len(uint(x.count))),
	}
	probes, most := 0, buildProbes(x.count)
	for i := range x.count {
		key := binary.LittleEndian.Uint64(x.names[i*hashLen+4:])
		k := t.first(key)
		for t.slots[k] != 0 {
			if probes++; probes > most {
				return nil
			}
			k = t.next(k)
		}
		t.slots[k] = t.tag(key) | uint32(i+1)
	}
	if !t.spreads() {
		return nil
	}
	return t
}

// spreads reports whether no run of filled slots is longer than maxRun.
func (t *nameTable) spreads() bool {
	run := 0
	for _, e := range t.slots {
		if e == 0 {
			run = 0
		} else if run++; run > maxRun {
			return false
		}
	}
	return true
}

// ascending reports whether x's names are in strictly ascending order.
func (x *packIndex) ascending() bool {
	for i := hashLen; i < len(x.names); i += hashLen {
		if !ascending(x.names[i-hashLen:], x.names[i:]) {
			return false
		}
	}
	return true
}

// ascending reports whether the name at a sorts before the one at b: the
// first eight bytes decide nearly always.
func ascending(a, b []byte) bool {
	if ka, kb := binary.BigEndian.Uint64(a), binary.BigEndian.Uint64(b); ka != kb {
		return ka < kb
	}
	return bytes.Compare(a[8:hashLen], b[8:hashLen]) < 0
}

// tag is the part of a slot that key decides: the high bits of its high half
// that the position leaves free (none in an index of 2^32-1 objects,
// when every filled slot's name is compared).
func (t *nameTable) tag(key uint64) uint32 {
	return uint32(key>>32) &^ (1<<t.posBits - 1)
}

// first is key's first slot: its low half, scaled to the table.
func (t *nameTable) first(key uint64) int {
	return int(uint64(uint32(key)) * uint64(len(t.slots)) >> 32)
}

// next is the slot after k, the first after the last.
func (t *nameTable) next(k int) int {
	if k++; k == len(t.slots) {
		return 0
	}
	return k
}

// find returns the position of h, comparing whole names only where the
// slot's tag agrees; ok is false when it read maxProbe slots without an
// answer, and the caller searches.
func (t *nameTable) find(x *packIndex, h []byte) (pos int, ok bool) {
	key := binary.LittleEndian.Uint64(h[4:12])
	k := t.first(key)
	for range maxProbe {
		e := t.slots[k]
		if e == 0 {
			return -1, true
		}
		if mask := uint32(1)<<t.posBits - 1; e&^mask == t.tag(key) {
			if i := int(e&mask) - 1; bytes.Equal(x.name(i), h[:hashLen]) {
				return i, true
			}
		}
		k = t.next(k)
	}
	return -1, false
}

// searchNames returns the position of h among names (20 bytes each,
// sorted, with a fan-out table by first byte, as pack indexes and
// commit-graphs have them), or -1.
//
// Object names are uniformly distributed, so the search interpolates:
// the next eight bytes of h say about where in its fan-out bucket it
// lies, and each probe narrows the estimate. It takes about four probes
// where a binary search takes log2 of the bucket (a dozen in a pack of a
// million objects), and each probe into a big index is a cache miss
// (BenchmarkIndexFind: half the time). Names that are not uniform (a
// crafted index) only make it slower: after four probes it halves.
func searchNames(fanout *[256]uint32, names []byte, h []byte) int {
	lo := 0
	if h[0] > 0 {
		lo = int(fanout[h[0]-1])
	}
	hi := int(fanout[h[0]])
	if hi > len(names)/hashLen {
		return -1 // the caller checked the fan-out; not reached
	}
	key := binary.BigEndian.Uint64(h[1:9])
	// The names in [lo, hi) lie in [loKey, hiKey]: their first byte is h's.
	loKey, hiKey := uint64(0), ^uint64(0)
	for probes := 0; lo < hi; probes++ {
		var mid int
		if probes < 4 && hiKey > loKey && key >= loKey && key <= hiKey {
			// (key-loKey)/(hiKey-loKey) of the way from lo to hi-1.
			f := float64(key-loKey) / float64(hiKey-loKey)
			mid = lo + min(int(f*float64(hi-1-lo)), hi-1-lo)
		} else {
			mid = int(uint(lo+hi) >> 1)
		}
		name := names[mid*hashLen : (mid+1)*hashLen]
		// The first byte is h's; the next eight decide nearly always.
		nameKey := binary.BigEndian.Uint64(name[1:9])
		c := 0
		switch {
		case nameKey < key:
			c = -1
		case nameKey > key:
			c = 1
		default:
			c = bytes.Compare(name[9:], h[9:hashLen])
		}
		switch {
		case c == 0:
			return mid
		case c < 0:
			lo, loKey = mid+1, nameKey
		default:
			hi, hiKey = mid, nameKey
		}
	}
	return -1
}

// lowerBound returns the position of the first name not below h.
func (x *packIndex) lowerBound(h []byte) int {
	lo := 0
	if h[0] > 0 {
		lo = int(x.fanout[h[0]-1])
	}
	hi := int(x.fanout[h[0]])
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if bytes.Compare(x.name(mid), h) < 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// withPrefix returns the positions of the objects whose names start with
// prefix (at least one byte).
func (x *packIndex) withPrefix(prefix []byte) []int {
	if len(prefix) == 0 || len(prefix) > hashLen {
		return nil
	}
	lo := 0
	if prefix[0] > 0 {
		lo = int(x.fanout[prefix[0]-1])
	}
	hi := int(x.fanout[prefix[0]])
	i := lo + sort.Search(hi-lo, func(k int) bool { return bytes.Compare(x.name(lo+k), prefix) >= 0 })
	var out []int
	for ; i < hi && bytes.HasPrefix(x.name(i), prefix); i++ {
		out = append(out, i)
	}
	return out
}

// offset returns the pack offset of the object at position i, or -1 when
// the index points outside its own large-offset table.
func (x *packIndex) offset(i int) int64 {
	v := binary.BigEndian.Uint32(x.offsets[i*4:])
	if v&0x80000000 == 0 {
		return int64(v)
	}
	j := int(v & 0x7fffffff)
	if (j+1)*8 > len(x.large) {
		return -1
	}
	off := binary.BigEndian.Uint64(x.large[j*8:])
	if off > 1<<62 {
		return -1
	}
	return int64(off)
}
