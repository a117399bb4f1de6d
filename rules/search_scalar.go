package rules

import (
	"encoding/binary"
	"math/bits"
)

// The search in plain Go: what arm64 and every other architecture without
// vector code run, the tail the vector code leaves, and the reference the
// tests compare the vector code with.
//
// It reads eight bytes at a time. A pair can only be where its second byte
// is, and the forms' second bytes are few (J X 5 U 9 for the forms of one
// layer): each word is tested for all of them at once with the zero-byte
// trick of "Bit Twiddling Hacks", and only a word that holds one is looked
// at byte by byte, through 256-entry tables (the nibble tables of the
// vector code, combined). A block is a run only if its every byte is of the
// run's alphabet; text is found not to be one at its first byte that is not.

// scalarTables are the tables of the search in plain Go.
type scalarTables struct {
	first, second [256]byte // the buckets a byte allows as the first and second byte of a pair
	b64           [256]bool // the bytes of a base64 run: either alphabet, line breaks
	seconds       []uint64  // each possible second byte, repeated in a word
	bySet         bool      // too many second bytes for seconds: test every position
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

func newScalarTables(t *nibbleTables) scalarTables {
	var st scalarTables
	var seconds []uint64
	for c := range 256 {
		st.first[c] = t.lo0[c&15] & t.hi0[c>>4]
		st.second[c] = t.lo1[c&15] & t.hi1[c>>4]
		st.b64[c] = t.loB64[c&15]&t.hiB64[c>>4] != 0
		if st.second[c] != 0 {
			seconds = append(seconds, uint64(c)*lsb)
		}
	}
	st.seconds, st.bySet = seconds, len(seconds) > 8
	return st
}

// nextScalar is next in plain Go.
func (s *Searcher) nextScalar(buf []byte, start, runFrom int) (int, int) {
	for b := start &^ (RunBlock - 1); b < len(buf); b += RunBlock {
		if b >= runFrom && b+RunBlock <= len(buf) {
			if kind := s.blockKind(buf[b : b+RunBlock]); kind != eventNone {
				return b, kind
			}
		}
		if p := s.pairIn(buf, max(b, start), min(b+RunBlock, len(buf)-1)); p >= 0 {
			return p, eventPair
		}
	}
	return len(buf), eventNone
}

// pairIn returns the first p in [from, to) where a bucket's pair may be at
// buf[p], buf[p+1], or -1; to is at most len(buf)-1.
func (s *Searcher) pairIn(buf []byte, from, to int) int {
	st := &s.scalar
	q := from + 1 // where the second byte is
	if !st.bySet {
		for ; q+8 <= to+1; q += 8 {
			w := binary.LittleEndian.Uint64(buf[q:])
			var m uint64
			for _, v := range st.seconds {
				m |= zeroBytes(w ^ v)
			}
			for ; m != 0; m &= m - 1 {
				i := q + bits.TrailingZeros64(m)>>3
				if st.first[buf[i-1]]&st.second[buf[i]] != 0 {
					return i - 1
				}
			}
		}
	}
	for ; q < to+1; q++ {
		if st.first[buf[q-1]]&st.second[buf[q]] != 0 {
			return q - 1
		}
	}
	return -1
}

// zeroBytes has the high bit of each zero byte of x set, and at times of a
// byte above a zero byte: never of a byte below the lowest.
func zeroBytes(x uint64) uint64 { return (x - lsb) &^ x & msb }

// blockKind says whether a block of RunBlock bytes is base64 text, ASCII
// UTF-16 text (a zero at every other byte and nowhere else), or neither.
func (s *Searcher) blockKind(block []byte) int {
	if block[0] == 0 || block[1] == 0 {
		// Zeros are not base64: UTF-16, or nothing.
		var zeros uint32
		for i, c := range block {
			if c == 0 {
				zeros |= 1 << i
			}
		}
		if zeros == 0xAAAAAAAA || zeros == 0x55555555 {
			return eventUTF16
		}
		return eventNone
	}
	for _, c := range block {
		if !s.scalar.b64[c] {
			return eventNone
		}
	}
	return eventB64
}
