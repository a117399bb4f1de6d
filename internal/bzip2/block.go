package bzip2

// readBlock reads a block after its magic: its header, its code tables and
// its symbols, then puts its bytes in order for unrun.
func (z *reader) readBlock() error {
	br := &z.br
	z.wantCRC = br.bits(32)
	z.streamCRC = (z.streamCRC<<1 | z.streamCRC>>31) ^ z.wantCRC
	if br.bit() {
		return StructuralError("deprecated randomized files")
	}
	origPtr := int(br.bits(24))

	// The byte values the block uses, as a 16×16 bitmap: they are the
	// move-to-front list's first order.
	var mtf [256]byte
	inUse := 0
	ranges := br.bits(16)
	for r := range 16 {
		if ranges&(0x8000>>r) == 0 {
			continue
		}
		bits := br.bits(16)
		for s := range 16 {
			if bits&(0x8000>>s) != 0 {
				mtf[inUse] = byte(r*16 + s)
				inUse++
			}
		}
	}
	if inUse == 0 {
		return StructuralError("no symbols in input")
	}
	alpha := inUse + 2 // RUNA and RUNB, the byte values but the first, end of block

	tables, selectors, err := z.readTables(alpha)
	if err != nil {
		return err
	}
	if z.br.err != nil {
		return z.br.err
	}
	n, counts, err := z.readSymbols(tables, selectors, &mtf, alpha)
	if err != nil {
		return err
	}
	if origPtr >= n {
		return StructuralError("origPtr out of bounds")
	}
	z.out = z.bwt.order(n, counts, origPtr)
	z.i, z.same, z.rep = 0, 0, 0
	return nil
}

// tables are a block's code tables, reused from block to block.
type tables struct {
	h   [6]huffman
	sel []uint8
}

// readTables reads how many tables the block has, which one codes each
// group of 50 symbols, and each table's code lengths.
func (z *reader) readTables(alpha int) ([]huffman, []uint8, error) {
	br := &z.br
	t := &z.tables
	nt := int(br.bits(3))
	if nt < 2 || nt > 6 {
		return nil, nil, StructuralError("invalid number of Huffman trees")
	}
	ns := int(br.bits(15))
	if ns == 0 {
		return nil, nil, StructuralError("no tree selectors given")
	}
	// Selectors are unary numbers into a move-to-front list of tables.
	order := [6]uint8{0, 1, 2, 3, 4, 5}
	t.sel = t.sel[:0]
	for range ns {
		k := 0
		for br.bit() {
			if k++; k >= nt {
				return nil, nil, StructuralError("tree index too large")
			}
		}
		s := order[k]
		copy(order[1:k+1], order[:k])
		order[0] = s
		t.sel = append(t.sel, s)
	}
	// Code lengths: 5 bits, then for each symbol changes of ±1 until a
	// 0 bit.
	var lens [maxAlpha]uint8
	for i := range nt {
		l := int(br.bits(5))
		for s := range alpha {
			for {
				if l < 1 || l > maxCodeLen {
					return nil, nil, StructuralError("Huffman length out of range")
				}
				if !br.bit() {
					break
				}
				if br.bit() {
					l--
				} else {
					l++
				}
			}
			lens[s] = uint8(l)
		}
		if err := t.h[i].build(lens[:alpha]); err != nil {
			return nil, nil, err
		}
	}
	return t.h[:nt], t.sel, nil
}

// readSymbols decodes the block's symbols, its last column, into the
// transform's last and counts each byte value; it returns the block's
// length.
func (z *reader) readSymbols(h []huffman, sel []uint8, mtf *[256]byte, alpha int) (int, *[256]int32, error) {
	br := &z.br
	limit := z.blockMax
	last := z.bwt.column(0, 0, limit)
	counts := &z.bwt.counts
	*counts = [256]int32{}
	eob := alpha - 1
	n, run, runBit := 0, 0, 1
	var t *huffman
	for g, left := 0, 0; ; left-- {
		if left == 0 {
			if g == len(sel) {
				return 0, nil, StructuralError("insufficient selector indices for number of symbols")
			}
			t, left = &h[sel[g]], 50
			g++
		}
		v := t.decode(br)
		if v < 0 {
			return 0, nil, StructuralError("invalid Huffman code")
		}
		if v <= 1 { // RUNA, RUNB: a run of the front byte, counted in base 2
			run += runBit << v
			if runBit <<= 1; runBit > 1<<21 {
				return 0, nil, StructuralError("repeat count too large")
			}
			continue
		}
		if run > 0 {
			if run > limit-n {
				return 0, nil, StructuralError("repeats past end of block")
			}
			if n+run > len(last) {
				last = z.bwt.column(n, n+run, limit)
			}
			b := mtf[0]
			counts[b] += int32(run)
			fill(last[n:n+run], b)
			n += run
			run, runBit = 0, 1
		}
		if v == eob {
			return n, counts, nil
		}
		if n == limit {
			return 0, nil, StructuralError("data exceeds block size")
		}
		if n == len(last) {
			last = z.bwt.column(n, n+1, limit)
		}
		k := v - 1
		b := mtf[k]
		if k < 16 { // most are: a loop costs less than a call to memmove
			for j := k; j > 0; j-- {
				mtf[j] = mtf[j-1]
			}
		} else {
			copy(mtf[1:k+1], mtf[:k])
		}
		mtf[0] = b
		last[n] = b
		counts[b]++
		n++
	}
}
