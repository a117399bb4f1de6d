package bzip2

import "io"

// bitReader reads a bzip2 stream's bits, most significant first, through
// a buffer of its own (an interface call for each byte cost a tenth of the
// decoder's time).
//
// Past the end of the input it reads zeros and keeps the error (an
// unexpected EOF) for its caller to check at the end of a header, a block
// or a stream: every loop of the block decoder ends on zeros (a zero bit
// ends each unary count, and the symbol loop is bounded by the block's
// size and its table selectors).
type bitReader struct {
	r        io.Reader
	buf      []byte
	pos, end int
	v        uint64 // the last n bits read are the low bits
	n        uint
	err      error // of the bits: an unexpected EOF or r's error
	rerr     error // r's last error, met when buf is empty
}

// fill makes at least k ≤ 56 bits available.
func (b *bitReader) fill(k uint) {
	for b.n < k {
		if b.pos == b.end && !b.refill() {
			if b.err == nil {
				b.err = noEOF(b.rerr)
			}
			b.v <<= 8
			b.n += 8
			continue
		}
		b.v = b.v<<8 | uint64(b.buf[b.pos])
		b.pos++
		b.n += 8
	}
}

// refill reads more input into buf; false when there is none.
func (b *bitReader) refill() bool {
	if b.rerr != nil {
		return false
	}
	if b.buf == nil {
		b.buf = make([]byte, 16<<10)
	}
	for range 100 { // io.Reader allows empty reads; not forever
		n, err := b.r.Read(b.buf)
		b.pos, b.end = 0, n
		if err != nil {
			b.rerr = err
		}
		if n > 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
	b.rerr = io.ErrNoProgress
	return false
}

// bits reads k ≤ 32 bits.
func (b *bitReader) bits(k uint) uint32 {
	b.fill(k)
	b.n -= k
	return uint32(b.v>>b.n) & uint32(1<<k-1)
}

func (b *bitReader) bits48() uint64 {
	b.fill(48)
	b.n -= 48
	return b.v >> b.n & (1<<48 - 1)
}

func (b *bitReader) bit() bool { return b.bits(1) == 1 }

// align drops the bits up to the next byte boundary (a stream's end).
func (b *bitReader) align() { b.n -= b.n % 8 }

// byte reads a whole byte at a byte boundary: io.EOF when the input ends
// there.
func (b *bitReader) byte() (byte, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.n >= 8 {
		b.n -= 8
		return byte(b.v >> b.n), nil
	}
	if b.pos == b.end && !b.refill() {
		return 0, b.rerr
	}
	b.pos++
	return b.buf[b.pos-1], nil
}
