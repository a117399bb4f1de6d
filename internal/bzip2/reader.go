// Package bzip2 reads bzip2 streams: the same bytes compress/bzip2 gives
// for every stream a bzip2 compressor writes, with a block's inverse
// Burrows–Wheeler transform walked along several chains at once. On a
// crafted block where a run's count of 0 is followed by the run's byte
// again, which no compressor writes, the two differ: this reader starts a
// new run there, as bzip2 1.0.8 does (unrun), where compress/bzip2 counts
// the byte into the run before; each then checks its bytes against the
// block's CRC, so a stream written for one fails the other. Likewise a
// code table that leaves codes unused (no compressor writes one either):
// a code no symbol has is an error here, as in bzip2 1.0.8, where
// compress/bzip2 reads the table as a tree with levels left out and may
// decode what bzip2 -t calls damaged (FuzzReader's seeds hold one).
//
// Why its own reader: compress/bzip2 spends about nine tenths of its time
// in that transform, which follows one pointer per output byte through a
// table of up to 3.6 MB, each step waiting on the load before it (a cache
// miss on most steps of a large block). One test file of Go's own source
// tree (regexp/testdata/re2-exhaustive.txt.bz2, 0.4 MB that expand to
// 64 MB) cost more CPU than the rest of that tree's scan together. Here
// the walk starts at many points of the block at once, so the processor
// keeps several of those loads in flight; each piece ends where another
// begins, which gives the pieces' order (bwt.go). BenchmarkReader compares
// this reader with compress/bzip2.
//
// The rest follows the reference decoder (bzip2 1.0.8): blocks of up to
// 900,000 bytes, two to six Huffman tables switched every 50 symbols,
// move-to-front, the zero-run symbols, the run-length step, and a CRC for
// each block and for the stream. Concatenated streams are read one after
// another, as bzip2 -d and compress/bzip2 do. Memory is bounded by the
// stream's block size whatever the input claims: about 6 MB at level 9.
// Blocks in the "randomised" mode that bzip2 0.9.0 wrote are refused, as
// compress/bzip2 refuses them.
package bzip2

import (
	"encoding/binary"
	"io"
)

// StructuralError is returned for data that is not a valid bzip2 stream.
type StructuralError string

func (s StructuralError) Error() string { return "bzip2 data invalid: " + string(s) }

const (
	blockMagic = 0x314159265359 // pi: a block follows
	endMagic   = 0x177245385090 // sqrt(pi): the stream's end
)

// reader decodes one bzip2 stream, or several concatenated ones.
type reader struct {
	br  bitReader
	err error // sticky: io.EOF at the end, or the first error

	inStream  bool   // a stream header has been read and its end not yet
	inBlock   bool   // a block is being delivered
	blockMax  int    // the stream's block size: 100,000 × its level
	streamCRC uint32 // the stored CRCs of the blocks so far, combined
	wantCRC   uint32 // the current block's stored CRC
	crc       uint32 // the CRC of what the block has delivered, not inverted

	tables tables // the current block's code tables
	bwt    unBWT  // the current block's table and its bytes in order

	// The run-length step (bzip2's first): four equal bytes are followed by
	// a count of further copies.
	out     []byte // the block's bytes in order, before that step
	i       int    // next byte of out
	same    int    // how many equal bytes end what has been delivered (0-4)
	runByte byte   // the byte they are
	rep     int    // copies of runByte still to deliver
}

// NewReader returns a reader of the bzip2 data r holds. It reads r in
// blocks of 16 KiB, and so may read past the end of the data.
func NewReader(r io.Reader) io.Reader {
	return &reader{br: bitReader{r: r}}
}

func (z *reader) Read(p []byte) (int, error) {
	if z.err != nil {
		return 0, z.err
	}
	for {
		n := z.unrun(p)
		if n > 0 || len(p) == 0 {
			z.crc = updateCRC(z.crc, p[:n])
			return n, nil
		}
		if err := z.nextBlock(); err != nil {
			z.err = err
			return 0, err
		}
	}
}

// nextBlock checks the block just delivered and reads the next one,
// crossing stream ends and starts; io.EOF when the input ends after a
// stream.
func (z *reader) nextBlock() error {
	br := &z.br
	if z.inBlock {
		z.inBlock = false
		if ^z.crc != z.wantCRC {
			return StructuralError("block checksum mismatch")
		}
	}
	for {
		if !z.inStream {
			if err := z.streamHeader(); err != nil {
				return err
			}
			continue
		}
		switch br.bits48() {
		case blockMagic:
			if err := z.readBlock(); err != nil {
				return err
			}
			if br.err != nil {
				return br.err
			}
			z.inBlock = true
			z.crc = 0xffffffff
			return nil
		case endMagic:
			want := br.bits(32)
			if br.err != nil {
				return br.err
			}
			if want != z.streamCRC {
				return StructuralError("file checksum mismatch")
			}
			z.inStream = false
			br.align()
		default:
			if br.err != nil {
				return br.err
			}
			return StructuralError("bad magic value found")
		}
	}
}

// streamHeader reads "BZh" and the level, or reports io.EOF when the input
// ends cleanly before another stream.
func (z *reader) streamHeader() error {
	br := &z.br
	first := z.blockMax == 0
	b, err := br.byte()
	if err == io.EOF && !first {
		return io.EOF // the end, after a whole stream
	}
	if err != nil {
		return noEOF(err)
	}
	var head [3]byte
	for i := range head {
		if head[i], err = br.byte(); err != nil {
			return noEOF(err)
		}
	}
	switch {
	case b != 'B' || head[0] != 'Z':
		if first {
			return StructuralError("bad magic value")
		}
		return StructuralError("bad magic value in continuation file")
	case head[1] != 'h':
		return StructuralError("non-Huffman entropy encoding")
	case head[2] < '1' || head[2] > '9':
		return StructuralError("invalid compression level")
	}
	z.blockMax = 100_000 * int(head[2]-'0')
	z.streamCRC = 0
	z.inStream = true
	return nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// unrun delivers the current block's bytes into p, undoing the run-length
// step, and returns how many it wrote (0 at the block's end). It follows
// bzip2 1.0.8: after a count the next byte starts a new run whatever it is.
func (z *reader) unrun(p []byte) int {
	n := 0
	for n < len(p) {
		if z.rep > 0 {
			k := min(z.rep, len(p)-n)
			fill(p[n:n+k], z.runByte)
			n += k
			z.rep -= k
			continue
		}
		// Byte by byte, with the state in locals; where six bytes ahead
		// complete no run of four, they are copied at once (noRun).
		out, i, same, runByte := z.out, z.i, z.same, z.runByte
		for try := i; i < len(out) && n < len(p); {
			if i >= try && same < 4 {
				if k := noRun(out, i, p[n:]); k > 0 {
					i, n = i+k, n+k
					runByte, same = out[i-1], 1
					if out[i-2] == runByte {
						same++
						if out[i-3] == runByte {
							same++
						}
					}
					continue
				}
				try = i + 6 // not here: some bytes one by one first
			}
			b := out[i]
			i++
			if same == 4 {
				z.rep = int(b)
				same = 0
				break
			}
			if same > 0 && b == runByte {
				same++
			} else {
				runByte, same = b, 1
			}
			p[n] = b
			n++
		}
		z.i, z.same, z.runByte = i, same, runByte
		if i >= len(out) && z.rep == 0 {
			break
		}
	}
	return n
}

func fill(p []byte, b byte) {
	if len(p) == 0 {
		return
	}
	p[0] = b
	for k := 1; k < len(p); k *= 2 {
		copy(p[k:], p[:k])
	}
}

// noRun copies out[i:] to p six bytes at a time for as long as no run of
// four equal bytes ends in the six (the three before i included), and
// returns how many it copied. Where none ends, the run-length step leaves
// the bytes as they are; a count byte follows a run of four, so there is
// none among them either.
func noRun(out []byte, i int, p []byte) int {
	if i < 3 {
		return 0
	}
	k := 0
	for i+k+6 <= len(out) && k+8 <= len(p) {
		// Byte j of eq is 0x80 where out[i-3+k+j] == out[i-2+k+j] (j < 8).
		w := binary.LittleEndian.Uint64(out[i-3+k:])
		x := w ^ binary.LittleEndian.Uint64(out[i-2+k:])
		eq := ^((x&0x7f7f7f7f7f7f7f7f + 0x7f7f7f7f7f7f7f7f) | x | 0x7f7f7f7f7f7f7f7f)
		// Three equal pairs in a row from byte j: a run of four ending at
		// out[i+k+j], j < 6.
		if eq&(eq>>8)&(eq>>16)&0x808080808080 != 0 {
			break
		}
		binary.LittleEndian.PutUint64(p[k:], binary.LittleEndian.Uint64(out[i+k-2:])>>16)
		k += 6
	}
	return k
}
