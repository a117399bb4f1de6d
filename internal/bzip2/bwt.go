package bzip2

import "bytes"

// The inverse Burrows–Wheeler transform, walked along several chains at
// once.
//
// A block's table tt holds, for each position (row), a byte (low 8 bits)
// and the position that follows it (bits 8-30; see order); reading the
// block means following those links from the first position, n steps, one
// load waiting on the last. The links form a permutation, so a walk can
// start anywhere: one that starts at some position reads the bytes from
// there on, a piece of the block whose place is not known yet. Here
// positions that are multiples of a stride, and the first, are marked as
// starts (bit 31 of the entry that links to them); eight lanes walk from
// the starts at once, each stopping where the next start begins, and the
// pieces are then put in order by following from the first piece to the
// start each ended at. Each position is read by one walk at most, and each
// walk ends at the latest when it comes back to its own start, so the work
// stays n steps whatever the block holds.
//
// For a block whose links form several cycles (no compressor writes one;
// crafted data can), the reference decoder reads the first position's
// cycle over and over until it has n bytes; the pieces are repeated the
// same way.

const (
	startFlag = 1 << 31
	posMask   = 1<<23 - 1 // the next position: bits 8-30 (blocks < 2^20)
	lanes     = 8         // walks in flight at once
	segSize   = 1024      // steps the lanes take between flushes
)

// piece is what one walk read: runs of bytes in data, chained.
type piece struct {
	head, tail int32  // first and last run (-1: none yet)
	next       uint32 // the start it ended at
}

// run is a stretch of a piece's bytes in data.
type run struct {
	off, n, next int32
}

// unBWT holds a block's table and the buffers its transform reuses.
type unBWT struct {
	tt     []uint32 // one entry longer than a block: the idle lanes' loop
	counts [256]int32
	pieces []piece
	runs   []run
	data   []byte // the pieces' bytes, in the order they were read
	out    []byte // the block's bytes in order
	buf    [lanes * segSize]byte
}

// strideShift picks the stride between starts for a block of n bytes:
// about 128 pieces, so that eight lanes stay busy nearly to the end, and
// none shorter than a few flushes.
func strideShift(n int) uint {
	s := uint(12)
	for n>>s > 128 {
		s++
	}
	return s
}

// column returns room for a block's last column: at least need bytes, the
// first n of them kept from the room returned before, and no more than
// limit unless the room was bigger already. It is out's (the block before
// has been delivered when the next one is read, and order is done with the
// column before it writes out), grown as a block turns out to need it, so
// that a small file is not given a whole block's 4.5 MB up front.
func (u *unBWT) column(n, need, limit int) []byte {
	if need <= cap(u.out) {
		return u.out[:cap(u.out)]
	}
	out := make([]byte, min(limit, max(need, 2*cap(u.out), 64<<10)))
	copy(out, u.out[:n])
	u.out = out
	return out
}

// order returns the block's bytes in order from its last column (the
// first n bytes of column's room, with counts of each byte value), origPtr
// being the row of the original text.
//
// The table links each row (a rotation of the text) to the row that starts
// one byte later, and holds the row's first byte: the i-th occurrence of b
// in the last column is the i-th row starting with b. Walking from origPtr,
// the text itself, gives the text's bytes in order. Building it stores each
// entry whole, into rows of one byte value at a time; bzip2's own table,
// which keeps the last column's byte, adds the link to an entry already
// written: a load from a row far away for each byte.
func (u *unBWT) order(n int, counts *[256]int32, origPtr int) []byte {
	if cap(u.tt) < n+1 {
		u.tt = make([]uint32, cap(u.out)+1) // +1: see walk
	}
	last, tt := u.out[:n], u.tt[:n]
	shift := strideShift(n)
	var c [256]int32
	sum := int32(0)
	for b, k := range counts {
		c[b] = sum
		sum += k
	}
	// Stride by stride, so that the loop over each byte tests nothing.
	for lo := 0; lo < n; lo += 1 << shift {
		b := last[lo]
		tt[c[b]] = uint32(lo)<<8 | uint32(b) | startFlag
		c[b]++
		hi := min(lo+1<<shift, n)
		for i := lo + 1; i < hi; i++ {
			b := last[i]
			tt[c[b]] = uint32(i)<<8 | uint32(b)
			c[b]++
		}
	}
	// The entry that links to origPtr is origPtr's occurrence of its byte:
	// as many rows into those starting with it as that byte occurs before
	// origPtr in the last column.
	first := uint32(origPtr)
	b := last[origPtr]
	tt[c[b]-counts[b]+int32(bytes.Count(last[:origPtr], []byte{b}))] |= startFlag

	// Pieces 0..strides-1 start at multiples of the stride; the first
	// position, if it is none, starts piece strides.
	strides := (n-1)>>shift + 1
	firstPiece := int32(first >> shift)
	if first&(1<<shift-1) != 0 {
		firstPiece = int32(strides)
	}
	pieceAt := func(p uint32) int32 {
		if p == first {
			return firstPiece
		}
		return int32(p >> shift)
	}
	starts := strides
	if firstPiece == int32(strides) {
		starts++
	}
	u.walk(tt, starts, func(i int) uint32 {
		if i == strides {
			return first
		}
		return uint32(i) << shift
	})

	// Follow the pieces from the first; repeat its cycle if it is short.
	out := u.out[:0]
	for p := firstPiece; len(out) < n; {
		pc := &u.pieces[p]
		for r := pc.head; r >= 0 && len(out) < n; r = u.runs[r].next {
			rn := &u.runs[r]
			out = append(out, u.data[rn.off:rn.off+min(rn.n, int32(n-len(out)))]...)
		}
		p = pieceAt(pc.next)
	}
	u.out = out
	return out
}

// walk reads every piece, lanes at a time; startOf gives piece i's start.
// The lanes step together (step8), each writing its bytes to its part of
// buf, which is flushed into data every segSize steps and where a piece
// ends. A lane with no piece left walks the entry past the block, which
// leads back to itself.
func (u *unBWT) walk(tt []uint32, starts int, startOf func(int) uint32) {
	idle := uint32(len(tt))
	tt = tt[:len(tt)+1]
	tt[idle] = idle << 8
	u.pieces = append(u.pieces[:0], make([]piece, starts)...)
	u.runs = u.runs[:0]
	u.data = u.data[:0]
	var (
		pos    [lanes]uint32
		from   [lanes]int   // where the lane's piece starts in its part of buf
		onto   [lanes]int32 // the lane's piece, -1: idle
		next   = 0          // the next piece to start
		active = 0
	)
	begin := func(l, at int) {
		if next == starts {
			pos[l], onto[l] = idle, -1
			return
		}
		pos[l], onto[l], from[l] = startOf(next), int32(next), at
		u.pieces[next] = piece{head: -1, tail: -1}
		next++
		active++
	}
	flush := func(l, to int) {
		if to == from[l] {
			return
		}
		r := int32(len(u.runs))
		u.runs = append(u.runs, run{off: int32(len(u.data)), n: int32(to - from[l]), next: -1})
		u.data = append(u.data, u.buf[l*segSize+from[l]:l*segSize+to]...)
		pc := &u.pieces[onto[l]]
		if pc.tail >= 0 {
			u.runs[pc.tail].next = r
		} else {
			pc.head = r
		}
		pc.tail = r
		from[l] = to
	}
	for l := range lanes {
		begin(l, 0)
	}
	for k := 0; active > 0; {
		var ended uint
		k, ended = step8(tt, &u.buf, &pos, k)
		for l := range lanes {
			if ended&(1<<l) != 0 && onto[l] >= 0 {
				flush(l, k)
				u.pieces[onto[l]].next = pos[l]
				active--
				begin(l, k)
			}
		}
		if k == segSize {
			for l := range lanes {
				if onto[l] >= 0 {
					flush(l, k)
				}
				from[l] = 0
			}
			k = 0
		}
	}
}

// step8 moves the eight lanes on from step k until one of them ends its
// piece or k reaches segSize, and returns k and the lanes that ended. The
// lanes are eight variables rather than an array so that they stay in
// registers: the loop is then short enough for all eight loads to be in
// flight at once.
func step8(tt []uint32, buf *[lanes * segSize]byte, pos *[lanes]uint32, k int) (int, uint) {
	p0, p1, p2, p3, p4, p5, p6, p7 := pos[0], pos[1], pos[2], pos[3], pos[4], pos[5], pos[6], pos[7]
	var e0, e1, e2, e3, e4, e5, e6, e7 uint32
	for k < segSize {
		e0, e1, e2, e3 = tt[p0], tt[p1], tt[p2], tt[p3]
		e4, e5, e6, e7 = tt[p4], tt[p5], tt[p6], tt[p7]
		b := buf[k&(segSize-1):]
		b[0*segSize], b[1*segSize], b[2*segSize], b[3*segSize] = byte(e0), byte(e1), byte(e2), byte(e3)
		b[4*segSize], b[5*segSize], b[6*segSize], b[7*segSize] = byte(e4), byte(e5), byte(e6), byte(e7)
		p0, p1, p2, p3 = e0>>8&posMask, e1>>8&posMask, e2>>8&posMask, e3>>8&posMask
		p4, p5, p6, p7 = e4>>8&posMask, e5>>8&posMask, e6>>8&posMask, e7>>8&posMask
		k++
		if (e0|e1|e2|e3|e4|e5|e6|e7)&startFlag != 0 {
			break
		}
	}
	pos[0], pos[1], pos[2], pos[3], pos[4], pos[5], pos[6], pos[7] = p0, p1, p2, p3, p4, p5, p6, p7
	ended := uint(e0>>31) | uint(e1>>31)<<1 | uint(e2>>31)<<2 | uint(e3>>31)<<3 |
		uint(e4>>31)<<4 | uint(e5>>31)<<5 | uint(e6>>31)<<6 | uint(e7>>31)<<7
	return k, ended
}
