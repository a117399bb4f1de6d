package gitobj

import (
	"bytes"
	"fmt"
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
func freshEntries(data []byte, base entryMap, copies []copySpan, fresh []int32, bits []uint64, keep bool) ([]int32, entryMap) {
	var m entryMap
	if keep {
		m.bits = growBits(bits, len(data))
	}
	m.end = walkFresh(len(data), base, copies, &m, func(off int) int { return entryEnd(data, off) }, func(off, _ int) {
		fresh = append(fresh, int32(off))
	})
	return fresh, m
}

// walkFresh walks the entries of a tree of size bytes, made by a delta
// (its copy instructions in copies) from a base tree mapped by base:
// entryEnd says where the entry at an offset ends (-1: malformed). It
// calls fresh with each entry not copied whole from an entry of the base,
// and the malformed one that ends the walk (end -1); it maps the entries
// in m when m.bits is set, and returns where the well-formed entries end.
//
// An entry copied from where a base entry starts, by a copy that reaches
// as far as the base entry's end, has the base entry's bytes, so the same
// end: a run of such entries is crossed at once, to the last entry
// boundary of the base the copy reaches.
func walkFresh(size int, base entryMap, copies []copySpan, m *entryMap, entryEnd func(off int) int, fresh func(off, end int)) int {
	k := 0
	off := 0
	for off < size {
		for k < len(copies) && copies[k].out+copies[k].n <= off {
			k++
		}
		if k < len(copies) && copies[k].out <= off {
			c := copies[k]
			src := c.src + off - c.out
			if base.isStart(src) {
				if b := base.lastBoundary(src, min(c.src+c.n, base.end)); b > src {
					if m.bits != nil {
						copyBits(m.bits, off, base.bits, src, b-src)
					}
					off += b - src
					continue
				}
			}
		}
		// Not in a copy, copied from within a base entry, or past the
		// copy's end: fresh.
		end := entryEnd(off)
		fresh(off, end)
		if end < 0 {
			break // malformed: the reader of the entry says so
		}
		if m.bits != nil {
			m.set(off)
		}
		off = end
	}
	return off
}

// Trees left unmade. A tree that is a leaf of the delta forest (no delta
// is made from it) is needed for its fresh entries only: most of its
// bytes are copies of its base the walk crosses without reading. Rather
// than applying its delta, the sweep checks the delta as applying it
// would, and reads the bytes of the fresh entries where the instructions
// say they are.

// deltaSpan is an instruction of a delta: n bytes of the result at out,
// copied from the base at src, or, lit, inserted from the delta's
// instructions at src.
type deltaSpan struct {
	out, src, n int
	lit         bool
}

// unmade is the result of a delta, unmade: read where needed.
type unmade struct {
	base, ops []byte
	spans     []deltaSpan
	copies    []copySpan // the spans that are copies, for walkFresh
	size      int
	k         int // the span the last read was in
}

// parse checks delta against base exactly as applyDelta does, with the
// same errors (a result over limit bytes is errBig), and lists its
// instructions.
func (u *unmade) parse(base, delta []byte, limit int) error {
	baseSize, size, ops, err := deltaSizes(delta)
	if err != nil {
		return err
	}
	if baseSize != uint64(len(base)) {
		return fmt.Errorf("%w: made for a base of %d bytes, not %d", errBadDelta, baseSize, len(base))
	}
	if size > uint64(limit) {
		return errBig
	}
	u.base, u.ops, u.size, u.k = base, ops, int(size), 0
	u.spans, u.copies = u.spans[:0], u.copies[:0]
	o := 0
	for i := 0; i < len(ops); {
		op, next, err := nextDeltaOp(ops, i, o, u.size, len(base))
		if err != nil {
			return err
		}
		u.spans = append(u.spans, op)
		if !op.lit {
			u.copies = append(u.copies, copySpan{out: o, src: op.src, n: op.n})
		}
		o, i = o+op.n, next
	}
	if o != u.size {
		return fmt.Errorf("%w: result is %d bytes, not the %d declared", errBadDelta, o, u.size)
	}
	return nil
}

// span returns the index of the span that holds offset off of the
// result (< size); reads go forward, mostly.
func (u *unmade) span(off int) int {
	if u.k >= len(u.spans) || u.spans[u.k].out > off {
		u.k = 0
	}
	for u.spans[u.k].out+u.spans[u.k].n <= off {
		u.k++
	}
	return u.k
}

func (u *unmade) bytes(s deltaSpan) []byte {
	if s.lit {
		return u.ops[s.src : s.src+s.n]
	}
	return u.base[s.src : s.src+s.n]
}

// entryEnd is entryEnd on the result.
func (u *unmade) entryEnd(off int) int {
	for k := u.span(off); k < len(u.spans); k++ {
		s := u.spans[k]
		from := max(off-s.out, 0)
		if i := bytes.IndexByte(u.bytes(s)[from:], 0); i >= 0 {
			if end := s.out + from + i + 1 + hashLen; end <= u.size {
				return end
			}
			return -1
		}
	}
	return -1
}

// appendRange appends the bytes of the result from off to end.
func (u *unmade) appendRange(dst []byte, off, end int) []byte {
	for k := u.span(off); off < end; k++ {
		s := u.spans[k]
		from := off - s.out
		n := min(s.n-from, end-off)
		dst = append(dst, u.bytes(s)[from:from+n]...)
		off += n
	}
	return dst
}

// freshUnmade is freshEntries for the result of u, unmade: it appends the
// bytes of the fresh entries to out, one after another (the malformed
// one that ends a tree, if any, to the tree's end), and their offsets in
// out to fresh.
func freshUnmade(u *unmade, base entryMap, out []byte, fresh []int32) ([]byte, []int32) {
	walkFresh(u.size, base, u.copies, &entryMap{}, u.entryEnd, func(off, end int) {
		fresh = append(fresh, int32(len(out)))
		if end < 0 {
			end = u.size
		}
		out = u.appendRange(out, off, end)
	})
	return out, fresh
}

// copySpan is a delta's copy instruction: n bytes of the base at src to
// the result at out.
type copySpan struct{ out, src, n int }

// deltaCopies appends a delta's copy instructions to out, in the order of
// the result. The delta has been applied: its instructions are well formed.
func deltaCopies(delta []byte, out []copySpan) []copySpan {
	baseSize, size, ops, err := deltaSizes(delta)
	if err != nil {
		return out
	}
	o := 0
	for i := 0; i < len(ops); {
		op, next, err := nextDeltaOp(ops, i, o, int(size), int(baseSize))
		if err != nil {
			return out
		}
		if !op.lit {
			out = append(out, copySpan{out: o, src: op.src, n: op.n})
		}
		o, i = o+op.n, next
	}
	return out
}
