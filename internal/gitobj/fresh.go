package gitobj

import (
	"bytes"
	"math/bits"
)

// Fresh entries. A tree stored as a delta of another tree is mostly copied
// from it: a commit changes a file or two of a folder. An entry of the
// result that one copy instruction copied whole, from where an entry of
// the base starts, is that entry of the base: same mode, name and object.
// What a tree refers to is then what its base refers to plus its fresh
// entries, and a sweep that looks at every tree's references (the objects
// a partial clone lacks) looks at the fresh entries only. An entry is
// found fresh by its bytes, not trusted from the delta's intent: a crafted
// delta that copies part of one entry and part of another makes an entry
// no copy holds whole, which is fresh.
//
// Most of a tree is such copies, so the entries a copy holds whole are
// skipped by the base's map of entry starts, a word of bits at a time,
// without reading their bytes: only the fresh entries are parsed.

// entryMap is where a tree's entries start, a bit a byte, and where its
// well-formed entries end: the tree's length, or where the first
// malformed entry starts.
type entryMap struct {
	bits []uint64
	end  int
}

func (m *entryMap) set(off int)          { m.bits[off>>6] |= 1 << (off & 63) }
func (m *entryMap) isStart(off int) bool { return off < m.end && m.bits[off>>6]&(1<<(off&63)) != 0 }
func (m *entryMap) mapped() bool         { return m.bits != nil }

// mapEntries maps the entries of tree data, in bits (reused when big
// enough).
func mapEntries(data []byte, bits []uint64) entryMap {
	m := entryMap{bits: growBits(bits, len(data))}
	off := 0
	for off < len(data) {
		end := entryEnd(data, off)
		if end < 0 {
			break
		}
		m.set(off)
		off = end
	}
	m.end = off
	return m
}

// lastBoundary returns the last place in [lo, hi] where an entry of the
// mapped tree starts or its well-formed entries end; lo must be one and
// hi at most m.end. The entries from lo to there are whole within
// [lo, hi].
func (m *entryMap) lastBoundary(lo, hi int) int {
	if hi == m.end {
		return hi
	}
	for w := hi >> 6; w >= lo>>6; w-- {
		x := m.bits[w]
		if w == hi>>6 {
			x &= ^uint64(0) >> (63 - hi&63) // the bits up to hi
		}
		if x != 0 {
			return max(w<<6+63-bits.LeadingZeros64(x), lo)
		}
	}
	return lo
}

func growBits(bits []uint64, n int) []uint64 {
	words := n/64 + 1
	if cap(bits) < words {
		return make([]uint64, words)
	}
	bits = bits[:words]
	clear(bits)
	return bits
}

// copyBits sets in dst, from doff on, the bits set in src[soff:soff+n].
func copyBits(dst []uint64, doff int, src []uint64, soff, n int) {
	for i := soff; i < soff+n; {
		take := min(64-i&63, soff+n-i)
		w := src[i>>6] >> (i & 63)
		if take < 64 {
			w &= 1<<take - 1
		}
		for ; w != 0; w &= w - 1 {
			j := doff + i - soff + bits.TrailingZeros64(w)
			dst[j>>6] |= 1 << (j & 63)
		}
		i += take
	}
}

// entryEnd returns where the tree entry at off ends ("<mode> <name>\x00"
// and 20 bytes), or -1 when it runs past the end.
func entryEnd(data []byte, off int) int {
	nul := bytes.IndexByte(data[off:], 0)
	if nul < 0 || off+nul+1+hashLen > len(data) {
		return -1
	}
	return off + nul + 1 + hashLen
}

// freshEntries compares tree data, the result of applying a delta (its
// copy instructions in copies) to a base tree mapped by base: it appends
// to fresh the offset of each entry of data that is not copied whole from
// an entry of the base. With keep, it maps data's entries too (in bits,
// reused when big enough), for the deltas whose base data is.
//
// An entry copied from where a base entry starts, by a copy that reaches
// as far as the base entry's end, has the base entry's bytes, so the same
// end: a run of such entries is crossed at once, to the last entry
// boundary of the base the copy reaches.
func freshEntries(data []byte, base entryMap, copies []copySpan, fresh []int32, bits []uint64, keep bool) ([]int32, entryMap) {
	var m entryMap
	if keep {
		m.bits = growBits(bits, len(data))
	}
	k := 0
	off := 0
	for off < len(data) {
		for k < len(copies) && copies[k].out+copies[k].n <= off {
			k++
		}
		if k < len(copies) && copies[k].out <= off {
			c := copies[k]
			src := c.src + off - c.out
			if base.isStart(src) {
				if b := base.lastBoundary(src, min(c.src+c.n, base.end)); b > src {
					if keep {
						copyBits(m.bits, off, base.bits, src, b-src)
					}
					off += b - src
					continue
				}
			}
		}
		// Not in a copy, copied from within a base entry, or past the
		// copy's end: fresh.
		end := entryEnd(data, off)
		if end < 0 {
			fresh = append(fresh, int32(off)) // malformed: the reader of the entry says so
			break
		}
		if keep {
			m.set(off)
		}
		fresh = append(fresh, int32(off))
		off = end
	}
	m.end = off
	return fresh, m
}

// copySpan is a delta's copy instruction: n bytes of the base at src to
// the result at out.
type copySpan struct{ out, src, n int }

// deltaCopies appends a delta's copy instructions to out, in the order of
// the result. The delta has been applied: its instructions are well formed.
func deltaCopies(delta []byte, out []copySpan) []copySpan {
	_, _, ops, err := deltaSizes(delta)
	if err != nil {
		return out
	}
	o := 0
	for i := 0; i < len(ops); {
		cmd := ops[i]
		i++
		if cmd&0x80 == 0 {
			o += int(cmd)
			i += int(cmd)
			continue
		}
		var off, n int
		for bit := range 4 {
			if cmd&(1<<bit) != 0 && i < len(ops) {
				off |= int(ops[i]) << (8 * bit)
				i++
			}
		}
		for bit := range 3 {
			if cmd&(0x10<<bit) != 0 && i < len(ops) {
				n |= int(ops[i]) << (8 * bit)
				i++
			}
		}
		if n == 0 {
			n = 0x10000
		}
		out = append(out, copySpan{out: o, src: off, n: n})
		o += n
	}
	return out
}
