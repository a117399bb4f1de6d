// Package inflate decodes deflate streams (RFC 1951) that are in memory
// and whose decoded size is known up front: a pack object's (the mapped
// pack, the object header), a small zip entry's (the central directory), a
// small gzip file's (its trailer).
//
// compress/flate decodes a stream through a 32 KiB window and an io.Reader
// a byte at a time; this decoder reads the input from a byte slice 64 bits
// at a time and writes straight into the output buffer, where
// back-references are copied from: on prometheus's packs, about 55% less
// CPU than compress/flate and 49% less than klauspost/compress/flate
// (BenchmarkInflate in internal/gitobj). It decodes the same streams
// as compress/flate does (a fuzz target compares them), and it is safe on
// hostile input: every length, distance and code is checked, the output is
// never written past its end, and reading past the input's end is an error.
package inflate

import (
	"encoding/binary"
	"errors"
	"math/bits"
)

var (
	// ErrCorrupt is returned for a stream that is not valid deflate, or
	// that ends before the output is full.
	ErrCorrupt = errors.New("corrupt deflate stream")
	// ErrTooLong is returned for a stream that decodes to more than the
	// output holds.
	ErrTooLong = errors.New("deflate stream longer than the object")
)

const (
	litBits   = 9 // first-level bits of the literal/length table
	distBits  = 7 // of the distance table
	maxCodeLn = 15

	// An entry: length | symbol<<16 for a code, or subtable bits |
	// entSub | subtable start<<16 for a prefix of longer codes. The
	// length is in the low bits so that the decoder shifts the bit buffer
	// by the entry itself (x86 takes a shift count mod 64: buf >> (e&63)
	// is one instruction), the step that every symbol waits for.
	entLenMask  = 0xff
	entSub      = 1 << 8
	entSymShift = 16
	// entInvalid fills the entries of the bits no code starts with (a
	// code of one symbol, or none): a length of 0 and a symbol that is no
	// literal, length or distance, so that the checks that reject a bad
	// symbol reject it too.
	entInvalid = 0xffff << entSymShift
	// litLimit: a literal's entry is below it.
	litLimit = 256 << entSymShift
)

// huffTable decodes one Huffman code: a first-level table indexed by the
// next bits, and subtables for the codes longer than its bits.
type huffTable struct {
	bits   uint
	first  []uint32
	sub    []uint32
	count  int      // codes in the table
	sorted []uint16 // scratch: symbols in canonical order
}

// build makes the table for code lengths lens (0: symbol unused). Codes
// must be complete (a full binary tree), except a code of one symbol of
// length 1, or none, as compress/flate accepts.
//
// A complete code fills every entry, so the tables are not cleared first:
// codes are assigned in canonical order (by length, then symbol), in which
// the long codes sharing a first-level prefix come one after another, so
// each subtable is made when its prefix first appears. A subtable is as
// big as the longest code under its prefix needs, no bigger (as zlib and
// libdeflate make them): objects are small, and building the tables of a
// dynamic block is a good part of inflating one; a subtable of the
// longest possible code would be written 2^(15-bits) entries for every
// prefix, whatever its codes.
func (t *huffTable) build(lens []uint8, tableBits uint) error {
	count := countLengths(lens)
	left := 1
	n, maxLen := 0, 0
	for l := 1; l <= maxCodeLn; l++ {
		left <<= 1
		left -= count[l]
		if left < 0 {
			return ErrCorrupt // over-subscribed
		}
		n += count[l]
		if count[l] > 0 {
			maxLen = l
		}
	}
	if left > 0 && (n > 1 || maxLen > 1) {
		return ErrCorrupt // incomplete
	}
	t.bits = tableBits
	t.count = n
	size := 1 << tableBits
	if cap(t.first) < size {
		t.first = make([]uint32, size)
	}
	first := t.first[:size]
	t.first = first
	t.sub = t.sub[:0]
	if left > 0 {
		// No code, or one: most entries stay invalid.
		for i := range first {
			first[i] = entInvalid
		}
	}
	if n == 0 {
		return nil
	}
	var offs [maxCodeLn + 1]int
	for l, sum := 1, 0; l <= maxCodeLn; l++ {
		offs[l] = sum
		sum += count[l]
	}
	if cap(t.sorted) < n {
		t.sorted = make([]uint16, 320)
	}
	sorted := t.sorted[:n]
	for sym, l := range lens {
		if l &= 15; l != 0 {
			sorted[offs[l]] = uint16(sym)
			offs[l]++
		}
	}
	// The first level, libdeflate's way: the codes of each length l are
	// written once, at their bit-reversed code in the first 2^l entries,
	// which are then doubled for the next length: a code of length l
	// fills every entry whose low l bits are its code.
	code, k := 0, 0
	l := uint(1)
	for ; l <= tableBits && int(l) <= maxLen; l++ {
		if l > 1 {
			copy(first[1<<(l-1):1<<l], first[:1<<(l-1)])
		}
		for range count[l] {
			first[bits.Reverse16(uint16(code))>>(16-l)] = uint32(sorted[k])<<entSymShift | uint32(l)
			k++
			code++
		}
		code <<= 1
	}
	for n := 1 << (l - 1); n < size; n <<= 1 {
		copy(first[n:2*n], first[:n])
	}
	if int(l) > maxLen {
		return nil
	}
	t.buildSub(sorted[k:], count, code, l, maxLen)
	return nil
}

// countLengths counts the codes of each length in lens (0-15 each, by
// construction; count[0] is left 0), in four sets of counters added up at
// the end: lengths mostly repeat, and one set would make each increment
// wait for the last.
func countLengths(lens []uint8) [maxCodeLn + 1]int {
	var c [4][16]uint16
	i := 0
	for ; i+4 <= len(lens); i += 4 {
		c[0][lens[i]&15]++
		c[1][lens[i+1]&15]++
		c[2][lens[i+2]&15]++
		c[3][lens[i+3]&15]++
	}
	for ; i < len(lens); i++ {
		c[0][lens[i]&15]++
	}
	var count [maxCodeLn + 1]int
	for l := 1; l <= maxCodeLn; l++ {
		count[l] = int(c[0][l]) + int(c[1][l]) + int(c[2][l]) + int(c[3][l])
	}
	return count
}

// buildSub makes the subtables of the codes longer than the first level:
// syms in canonical order, the first of length l with the canonical code
// code; count says how many codes each length has.
func (t *huffTable) buildSub(syms []uint16, count [maxCodeLn + 1]int, code int, l uint, maxLen int) {
	tableBits := t.bits
	first := t.first
	k := 0
	prefix, base, subBits := -1, 0, uint(0)
	for ; int(l) <= maxLen; l++ {
		for range count[l] {
			e := uint32(syms[k])<<entSymShift | uint32(l)
			k++
			count[l]-- // count now says how many codes of each length are left
			rev := int(bits.Reverse16(uint16(code)) >> (16 - l))
			if p := code >> (l - tableBits); p != prefix {
				// The subtable takes the bits of the longest code under
				// this prefix: add bits while the codes left of the next
				// length do not fill what is left of it.
				subBits = l - tableBits
				room := 1<<subBits - 1 - count[l]
				for int(tableBits+subBits) < maxLen && room > 0 {
					subBits++
					room = room<<1 - count[tableBits+subBits]
				}
				prefix, base = p, len(t.sub)
				if cap(t.sub)-base < 1<<subBits {
					t.sub = append(t.sub, make([]uint32, 1<<subBits)...)
				} else {
					t.sub = t.sub[:base+1<<subBits]
				}
				first[rev&(1<<tableBits-1)] = uint32(base)<<entSymShift | uint32(subBits) | entSub
			}
			sub := t.sub[base : base+1<<subBits]
			for i := rev >> tableBits; i < len(sub); i += 1 << (l - tableBits) {
				sub[i] = e
			}
			code++
		}
		code <<= 1
	}
}

var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	clOrder     = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

	fixedLit, fixedDist huffTable
)

func init() {
	var lens [288]uint8
	for i := range lens {
		switch {
		case i < 144:
			lens[i] = 8
		case i < 256:
			lens[i] = 9
		case i < 280:
			lens[i] = 7
		default:
			lens[i] = 8
		}
	}
	fixedLit.build(lens[:], litBits)
	var d [32]uint8 // 30 and 31 complete the code; they are invalid when read
	for i := range d {
		d[i] = 5
	}
	fixedDist.build(d[:], distBits)
}

// Decoder decodes deflate streams for one goroutine at a time, keeping the
// tables of dynamic blocks from one stream to the next. The zero value is
// ready to use.
type Decoder struct {
	lit, dist, cl huffTable
	lens          [320]uint8
}

// bitReader reads a deflate stream's bits, least significant first.
type bitReader struct {
	in      []byte
	pos     int    // next byte of in to load
	fake    int    // zero bytes loaded past the end of in
	buf     uint64 // bits not yet consumed, in the low nbits
	nbits   uint
	corrupt bool
}

// refill loads bytes until at least 56 bits are buffered: 8 bytes at a
// time while they last (bits past nbits may be loaded twice, identical),
// then a byte at a time, then zero bytes, counted: reading them is an error.
func (b *bitReader) refill() {
	if b.pos+8 <= len(b.in) {
		b.buf |= binary.LittleEndian.Uint64(b.in[b.pos:]) << b.nbits
		b.pos += int(63-b.nbits) >> 3
		b.nbits |= 56
		return
	}
	b.refillSlow()
}

func (b *bitReader) refillSlow() {
	for b.nbits <= 56 {
		if b.pos < len(b.in) {
			b.buf |= uint64(b.in[b.pos]) << b.nbits
			b.pos++
		} else {
			b.fake++
			if b.fake > 8 {
				b.corrupt = true // decoding went on past the input
			}
		}
		b.nbits += 8
	}
}

func (b *bitReader) take(n uint) uint32 {
	v := uint32(b.buf & (1<<n - 1))
	b.buf >>= n
	b.nbits -= n
	return v
}

// subIndex is where in the subtables the code goes on whose first-level
// entry is e, and whose bits past the first level are rest.
func subIndex(e uint32, rest uint64) int {
	return int(e>>entSymShift) + int(rest&(1<<(e&entLenMask&63)-1))
}

// consumed is how many bytes of the input the bits read so far took.
func (b *bitReader) consumed() int {
	return b.pos + b.fake - int(b.nbits/8)
}

// Into decodes the raw deflate stream at the start of src into dst,
// which must be exactly the decoded size: a stream that ends before dst
// is full, or goes on after, is an error. It returns how many bytes of src
// the stream took.
func (d *Decoder) Into(dst, src []byte) (int, error) {
	b := bitReader{in: src}
	o := 0
	for {
		b.refill()
		final := b.take(1)
		switch b.take(2) {
		case 0:
			// Stored: the rest of this byte is padding, then LEN, NLEN.
			b.take(b.nbits & 7)
			p := b.consumed()
			if p+4 > len(src) || b.corrupt {
				return 0, ErrCorrupt
			}
			n := int(binary.LittleEndian.Uint16(src[p:]))
			if uint16(n) != ^binary.LittleEndian.Uint16(src[p+2:]) || p+4+n > len(src) {
				return 0, ErrCorrupt
			}
			if n > len(dst)-o {
				return 0, ErrTooLong
			}
			o += copy(dst[o:], src[p+4:p+4+n])
			b = bitReader{in: src, pos: p + 4 + n}
		case 1:
			var err error
			if o, err = d.block(&b, dst, o, &fixedLit, &fixedDist); err != nil {
				return 0, err
			}
		case 2:
			if err := d.tables(&b); err != nil {
				return 0, err
			}
			var err error
			if o, err = d.block(&b, dst, o, &d.lit, &d.dist); err != nil {
				return 0, err
			}
		default:
			return 0, ErrCorrupt
		}
		if b.corrupt {
			return 0, ErrCorrupt
		}
		if final == 1 {
			if o != len(dst) {
				return 0, ErrCorrupt // shorter than the object
			}
			n := b.consumed()
			if n > len(src) {
				return 0, ErrCorrupt
			}
			return n, nil
		}
	}
}

// tables reads a dynamic block's code lengths and builds its tables.
func (d *Decoder) tables(b *bitReader) error {
	b.refill()
	nlit := int(b.take(5)) + 257
	ndist := int(b.take(5)) + 1
	ncl := int(b.take(4)) + 4
	if nlit > 286 || ndist > 30 {
		return ErrCorrupt
	}
	var cl [19]uint8
	for i := range ncl {
		b.refill()
		cl[clOrder[i]] = uint8(b.take(3))
	}
	if err := d.cl.build(cl[:], 7); err != nil || d.cl.count == 0 {
		return ErrCorrupt
	}
	lens := d.lens[:nlit+ndist]
	if err := d.readLengths(b, lens); err != nil {
		return err
	}
	if b.corrupt || lens[256] == 0 {
		return ErrCorrupt
	}
	if err := d.lit.build(lens[:nlit], litBits); err != nil {
		return err
	}
	return d.dist.build(lens[nlit:], distBits)
}

// readLengths reads the code lengths of a dynamic block's two codes with
// the code-length code in d.cl, whose codes are at most 7 bits (no
// subtables): a symbol and its repeat count take at most 14 bits, so
// that one refill serves several.
func (d *Decoder) readLengths(b *bitReader, lens []uint8) error {
	clFirst := d.cl.first[:1<<7]
	for i := 0; i < len(lens); {
		if b.nbits < 14 {
			b.refill()
		}
		e := clFirst[b.buf&(1<<7-1)]
		n := uint(e & entLenMask)
		if n == 0 {
			return ErrCorrupt
		}
		b.buf >>= n
		b.nbits -= n
		sym := e >> entSymShift
		if sym < 16 {
			lens[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var val uint8
		switch sym {
		case 16:
			if i == 0 {
				return ErrCorrupt
			}
			val, rep = lens[i-1], 3+int(b.take(2))
		case 17:
			rep = 3 + int(b.take(3))
		default:
			rep = 11 + int(b.take(7))
		}
		if i+rep > len(lens) {
			return ErrCorrupt
		}
		for range rep {
			lens[i] = val
			i++
		}
	}
	return nil
}

// block decodes one compressed block into dst from o, and returns where
// it ended. It is the decoder's inner loop: the bit reader's state is kept
// in locals, and every symbol is checked before it is used. The tables'
// first levels are arrays (their bits are constants), so that indexing
// them by masked bits needs no bounds check.
func (d *Decoder) block(b *bitReader, dst []byte, o int, lit, dist *huffTable) (int, error) {
	in, pos, buf, nbits := b.in, b.pos, b.buf, b.nbits
	litFirst, litSub := (*[1 << litBits]uint32)(lit.first), lit.sub
	distFirst, distSub := (*[1 << distBits]uint32)(dist.first), dist.sub
	for {
		if pos+8 <= len(in) {
			buf |= binary.LittleEndian.Uint64(in[pos:]) << nbits
			pos += int(63-nbits) >> 3
			nbits |= 56
		} else {
			b.pos, b.buf, b.nbits = pos, buf, nbits
			b.refillSlow()
			if b.corrupt {
				return 0, ErrCorrupt
			}
			pos, buf, nbits = b.pos, b.buf, b.nbits
		}
		e := litFirst[buf&(1<<litBits-1)]
		if e&entSub != 0 {
			e = litSub[subIndex(e, buf>>litBits)]
		}
		// Literals, while the buffer holds a whole code: a refill takes
		// more than a literal. An invalid entry is no literal.
		for e < litLimit {
			if o >= len(dst) {
				return 0, ErrTooLong
			}
			dst[o] = byte(e >> entSymShift)
			o++
			buf >>= e & 63
			nbits -= uint(e & entLenMask)
			if nbits < maxCodeLn {
				break
			}
			e = litFirst[buf&(1<<litBits-1)]
			if e&entSub != 0 {
				e = litSub[subIndex(e, buf>>litBits)]
			}
		}
		if e < litLimit || nbits < 48 {
			continue // refill, and read the symbol again
		}
		buf >>= e & 63
		nbits -= uint(e & entLenMask)
		sym := uint(e>>entSymShift) - 257
		if sym == ^uint(0) { // 256: end of block
			b.pos, b.buf, b.nbits = pos, buf, nbits
			return o, nil
		}
		if sym >= uint(len(lengthBase)) {
			return 0, ErrCorrupt
		}
		x := uint(lengthExtra[sym])
		length := int(lengthBase[sym]) + int(buf&(1<<(x&63)-1))
		buf >>= x & 63
		nbits -= x
		e = distFirst[buf&(1<<distBits-1)]
		if e&entSub != 0 {
			e = distSub[subIndex(e, buf>>distBits)]
		}
		ds := uint(e >> entSymShift)
		if ds >= uint(len(distBase)) {
			return 0, ErrCorrupt
		}
		buf >>= e & 63
		nbits -= uint(e & entLenMask)
		x = uint(distExtra[ds])
		dd := int(distBase[ds]) + int(buf&(1<<(x&63)-1))
		buf >>= x & 63
		nbits -= x
		if dd > o {
			return 0, ErrCorrupt
		}
		if length > len(dst)-o {
			return 0, ErrTooLong
		}
		switch {
		case dd >= 8 && length <= 40 && len(dst)-o >= 48:
			// Most matches are short, and most far enough back for
			// 8-byte words: each word is read from bytes written before
			// it. Two words are written, or five: fixed counts, which
			// the branch predicts better than a loop's exit. Those past
			// the match are overwritten by the bytes after it (the room
			// is checked).
			from, to := dst[o-dd:][:40], dst[o:][:40]
			binary.LittleEndian.PutUint64(to, binary.LittleEndian.Uint64(from))
			binary.LittleEndian.PutUint64(to[8:], binary.LittleEndian.Uint64(from[8:]))
			if length > 16 {
				binary.LittleEndian.PutUint64(to[16:], binary.LittleEndian.Uint64(from[16:]))
				binary.LittleEndian.PutUint64(to[24:], binary.LittleEndian.Uint64(from[24:]))
				binary.LittleEndian.PutUint64(to[32:], binary.LittleEndian.Uint64(from[32:]))
			}
			o += length
		case length <= 16:
			// A byte loop beats a call to
			// memmove, and copying forwards repeats an overlap rightly.
			src, out := dst[o-dd:o-dd+length], dst[o:o+length]
			for j := range out {
				out[j] = src[j]
			}
			o += length
		case dd >= length:
			copy(dst[o:o+length], dst[o-dd:])
			o += length
		default:
			// Overlapping: the copy repeats the last dd bytes.
			for end := o + length; o < end; {
				o += copy(dst[o:end], dst[o-dd:o])
			}
		}
	}
}
