package gitobj

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
	"strings"
)

// Pack order. A sweep reads a pack's objects in the order they lie in the
// .pack, which the .idx does not give (it lists them by name): the
// positions in the index of the objects in pack order come from the
// pack's reverse index (the .rev file git writes beside the .idx since
// version 2.41, or when pack.writeReverseIndex is set), or else from
// sorting the index's offsets. On a pack of 1.6 million objects, sorting
// (off, position) pairs with slices.SortFunc took 0.3 s of CPU; a radix
// sort takes a tenth of that, and the .rev file none.

// packOrder returns the index positions of all objects of p in pack
// order, and their offsets in the same order. An entry with an invalid
// offset gets -1 and comes first.
func (p *packFile) packOrder() (pos []int32, offs []int64) {
	if pos, offs, ok := p.readRev(); ok {
		return pos, offs
	}
	return p.idx.byOffset()
}

// packOrderPacked is packOrder with the offsets as packOffsets.
func (p *packFile) packOrderPacked() (pos []int32, offs packOffsets) {
	if pos, offs, ok := p.readRev(); ok {
		return pos, newPackOffsets(offs)
	}
	return p.idx.byOffsetPacked()
}

// readRev reads the pack's .rev file, when there is one and it holds a
// valid reverse index of this pack: the right size, header and pack
// checksum, and positions whose offsets strictly increase (so that they
// are each position once). Anything else, and the caller sorts.
func (p *packFile) readRev() (pos []int32, offs []int64, ok bool) {
	n := p.idx.count
	if p.data == nil || n == 0 {
		return nil, nil, false // without a mapping, sorting costs the same as checking
	}
	b, mapped, err := mapOrRead(strings.TrimSuffix(p.name, ".pack") + ".rev")
	if err != nil {
		return nil, nil, false
	}
	if mapped {
		defer unmapFile(b)
	}
	const head = 12
	if int64(len(b)) != head+4*int64(n)+2*hashLen || string(b[:4]) != "RIDX" ||
		binary.BigEndian.Uint32(b[4:]) != 1 || binary.BigEndian.Uint32(b[8:]) != 1 ||
		!bytes.Equal(b[head+4*n:head+4*n+hashLen], p.data[p.size-hashLen:]) {
		return nil, nil, false
	}
	pos = make([]int32, n)
	offs = make([]int64, n)
	last := int64(-1)
	for i := range n {
		ps := binary.BigEndian.Uint32(b[head+4*i:])
		if ps >= uint32(n) {
			return nil, nil, false
		}
		off := p.idx.offset(int(ps))
		if off <= last {
			return nil, nil, false
		}
		pos[i], offs[i], last = int32(ps), off, off
	}
	return pos, offs, true
}

// byOffset returns the positions of all objects, ordered by pack offset,
// and their offsets in the same order. An entry with an invalid offset
// gets -1 and sorts first.
//
// Each object is a key of 64 bits, its offset above its position (offset
// 0 is never an object's: an invalid one is 0 here), radix sorted on the
// offset's bits; keys that do not fit (a pack of terabytes) are sorted by
// comparison.
func (x *packIndex) byOffset() (pos []int32, offs []int64) {
	keys, posBits, _, ok := x.offsetKeys()
	if !ok {
		return x.byOffsetSorted()
	}
	pos = make([]int32, len(keys))
	offs = make([]int64, len(keys))
	for i, k := range keys {
		pos[i] = int32(k & (1<<posBits - 1))
		if offs[i] = int64(k >> posBits); offs[i] == 0 {
			offs[i] = -1
		}
	}
	return pos, offs
}

// byOffsetPacked is byOffset with the offsets as packOffsets, made at
// once in 4 bytes each when they fit: 8-byte ones first were 64 MB at 8
// million objects beside the sort's two buffers of keys (128 MB).
func (x *packIndex) byOffsetPacked() (pos []int32, offs packOffsets) {
	keys, posBits, maxOff, ok := x.offsetKeys()
	if !ok || maxOff >= math.MaxUint32 {
		pos, big := x.byOffset()
		return pos, newPackOffsets(big)
	}
	pos = make([]int32, len(keys))
	small := make([]uint32, len(keys))
	for i, k := range keys {
		pos[i] = int32(k & (1<<posBits - 1))
		small[i] = uint32(k >> posBits) // 0 stands for -1, as in packOffsets
	}
	return pos, packOffsets{small: small}
}

// offsetKeys returns byOffset's keys, sorted, the bits of a position in
// them and the greatest offset; not ok when they do not fit in 64 bits.
func (x *packIndex) offsetKeys() (keys []uint64, posBits uint, maxOff int64, ok bool) {
	n := x.count
	posBits = uint(bits.Len(uint(n)))
	keys = make([]uint64, n)
	for i := range n {
		off := max(x.offset(i), 0)
		maxOff = max(maxOff, off)
		keys[i] = uint64(off)<<posBits | uint64(i)
	}
	offBits := uint(bits.Len64(uint64(maxOff)))
	if offBits+posBits > 64 {
		return nil, 0, maxOff, false
	}
	return radixSort(keys, posBits, offBits), posBits, maxOff, true
}

// radixSort sorts keys by their bits [lo, lo+width), 11 bits a pass,
// least significant first (each pass stable), and returns the sorted
// keys (in keys, or in a slice of the same length).
func radixSort(keys []uint64, lo, width uint) []uint64 {
	const digit = 11
	tmp := make([]uint64, len(keys))
	for shift := lo; shift < lo+width; shift += digit {
		var count [1 << digit]int
		for _, k := range keys {
			count[(k>>shift)&(1<<digit-1)]++
		}
		if count[(keys[0]>>shift)&(1<<digit-1)] == len(keys) {
			continue // every key has this digit
		}
		sum := 0
		for d, c := range count {
			count[d] = sum
			sum += c
		}
		for _, k := range keys {
			d := (k >> shift) & (1<<digit - 1)
			tmp[count[d]] = k
			count[d]++
		}
		keys, tmp = tmp, keys
	}
	return keys
}

// byOffsetSorted is byOffset by comparison sort.
func (x *packIndex) byOffsetSorted() (pos []int32, offs []int64) {
	type entry struct {
		off int64
		pos int32
	}
	es := make([]entry, x.count)
	for i := range es {
		es[i] = entry{x.offset(i), int32(i)}
	}
	slices.SortFunc(es, func(a, b entry) int { return cmp.Compare(a.off, b.off) })
	pos = make([]int32, x.count)
	offs = make([]int64, x.count)
	for i, e := range es {
		pos[i], offs[i] = e.pos, e.off
	}
	return pos, offs
}
