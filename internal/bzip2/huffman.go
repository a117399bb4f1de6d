package bzip2

const (
	maxCodeLen = 20  // bzip2's longest code
	maxAlpha   = 258 // 256 byte values + the two zero-run symbols
	fastBits   = 10  // codes up to this long are found in one lookup
)

// huffman decodes one of a block's code tables. Codes are canonical, as
// bzip2 assigns them: shorter codes first and, within a length, in symbol
// order. Codes up to fastBits long are looked up in fast; longer ones are
// found length by length with limit, as bzip2 does.
type huffman struct {
	fast   [1 << fastBits]uint16 // symbol<<5 | length, or 0: a longer code
	maxLen uint
	limit  [maxCodeLen + 1]int32 // the last code of each length (-1: none)
	base   [maxCodeLen + 1]int32 // perm index of a length's code 0
	perm   [maxAlpha]uint16      // symbols by code
}

// build makes the table for the code lengths (1-20) of each symbol. A set
// of lengths that oversubscribes the code space is refused; one that
// leaves codes unused is read as bzip2 reads it (an unused code is an
// error when met).
func (h *huffman) build(lens []uint8) error {
	var count [maxCodeLen + 2]int32
	h.maxLen = 0
	for _, l := range lens {
		count[l]++
		h.maxLen = max(h.maxLen, uint(l))
	}
	// Kraft's inequality, in units of the longest code.
	space := int64(0)
	for l := 1; l <= maxCodeLen; l++ {
		space += int64(count[l]) << (maxCodeLen - l)
	}
	if space > 1<<maxCodeLen {
		return StructuralError("Huffman code oversubscribed")
	}
	// Canonical codes: first[l] is the first code of length l, and
	// symbols are listed in perm by length, then by symbol.
	var next [maxCodeLen + 2]int32 // perm index of each length's next symbol
	code, at := int32(0), int32(0)
	for l := 1; l <= maxCodeLen; l++ {
		next[l] = at
		h.base[l] = at - code
		h.limit[l] = code + count[l] - 1
		at += count[l]
		code = (code + count[l]) << 1
	}
	h.fast = [1 << fastBits]uint16{}
	for sym, l := range lens {
		i := next[l]
		next[l]++
		h.perm[i] = uint16(sym)
		if uint(l) <= fastBits {
			c := uint(i-h.base[l]) << (fastBits - uint(l))
			e := uint16(sym)<<5 | uint16(l)
			for k := range 1 << (fastBits - uint(l)) {
				h.fast[c+uint(k)] = e
			}
		}
	}
	return nil
}

// decode reads one symbol, or returns -1 for a code no symbol has.
func (h *huffman) decode(b *bitReader) int {
	b.fill(maxCodeLen)
	if e := h.fast[b.v>>(b.n-fastBits)&(1<<fastBits-1)]; e != 0 {
		b.n -= uint(e & 31)
		return int(e >> 5)
	}
	for l := uint(fastBits + 1); l <= h.maxLen; l++ {
		c := int32(b.v >> (b.n - l) & (1<<l - 1))
		if c <= h.limit[l] {
			b.n -= l
			return int(h.perm[h.base[l]+c])
		}
	}
	return -1
}
