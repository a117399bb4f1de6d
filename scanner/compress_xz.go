package scanner

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
)

// xzGuard passes an xz file through, reading ahead of the decoder the
// structure that says how much memory decoding takes: the dictionary size
// in each block header. github.com/ulikunitz/xz allocates whatever a block
// header claims, up to 4 GiB (its ReaderConfig.DictCap is a floor for xz
// files, not a cap), and allocates it anew, zeroed, for every block. So a
// block's header is held until its first xzLookahead bytes are read: a
// block that ends there gets the dictionary its data can use, written into
// its header (shrinkDict; the only bytes the guard changes), and a block
// whose dictionary is still more than max is stopped before the decoder
// sees its header. Thousands of tiny blocks or files each claiming max
// would otherwise cost milliseconds each of clearing memory; a block that
// keeps a big dictionary has at least xzLookahead bytes of data.
//
// To find every block header the guard walks the container as the xz
// format (tukaani.org/xz/xz-file-format.txt) lays it out: stream header,
// blocks (header, LZMA2 chunks, padding, check), index, footer, stream
// padding, next stream. Payload bytes (chunk data, checks) pass unread.
// Anything it cannot walk is an error: the decoder would fail there too.
type xzGuard struct {
	src    io.Reader
	max    int64
	out    []byte                     // structure read and checked, not yet passed on
	pass   int64                      // payload bytes that may pass next
	next   func(*xzGuard) error       // reads the next piece of structure into out
	err    error                      // sticky: the source's error, or why the walk stopped
	check  int64                      // bytes of the check after each block, from the stream flags
	size   int64                      // bytes of the current block's data, or of the index, so far
	read   int64                      // bytes read from src
	grow   func(from, to int64) error // see share; nil: not counted
	shrink func(int64)
	claim  int64 // the dictionary this decoder holds, as counted
	keep   bool  // pass every byte unchanged (tests: the walk without shrinkDict)
	ratio  int64 // the ratio cap (windowMost); 0: off
}

func newXzGuard(src io.Reader, max int64) *xzGuard {
	return &xzGuard{src: src, max: max, next: (*xzGuard).streamStart}
}

// share makes the guard count the dictionary its decoder holds (the
// largest a block has claimed so far: the decoder keeps one at a time) in
// w, with the decoders around it on the same worker (window.go): a block
// that w cannot grow for is stopped. release gives it back.
func (g *xzGuard) share(ctx context.Context, w *windows) {
	g.grow = func(from, to int64) error { return w.grow(ctx, from, to) }
	g.shrink = w.shrink
}

func (g *xzGuard) release() {
	if g.shrink != nil {
		g.shrink(g.claim)
		g.claim = 0
	}
}

// xzWalkError says where the guard could not follow the xz structure.
type xzWalkError string

func (e xzWalkError) Error() string { return string(e) }

const (
	errXzChunk  = xzWalkError("xz: invalid LZMA2 chunk")
	errXzHeader = xzWalkError("xz: invalid block header")
	errXzVarint = xzWalkError("xz: invalid number in block header or index")
)

func (g *xzGuard) Read(p []byte) (int, error) {
	for len(g.out) == 0 && g.pass == 0 && g.err == nil {
		if err := g.next(g); err != nil {
			g.err = err
			var we *windowError
			var wk xzWalkError
			if errors.As(err, &we) || errors.As(err, &wk) {
				g.out = nil // the decoder never sees a header refused
			}
		}
	}
	if len(g.out) > 0 {
		n := copy(p, g.out)
		g.out = g.out[n:]
		return n, nil
	}
	if g.pass == 0 {
		return 0, g.err
	}
	if int64(len(p)) > g.pass {
		p = p[:g.pass]
	}
	n, err := g.src.Read(p)
	g.pass -= int64(n)
	g.read += int64(n)
	if err != nil {
		g.err = err
	}
	if err != nil && g.pass > 0 {
		return n, err
	}
	return n, nil
}

// take reads n bytes of structure into out and returns them. A short read
// keeps what came and ends the walk with the source's error, so the decoder
// gets the same bytes and the same end as it would without the guard.
func (g *xzGuard) take(n int) ([]byte, error) {
	start := len(g.out)
	g.out = append(g.out, make([]byte, n)...)
	m, err := io.ReadFull(g.src, g.out[start:])
	g.out = g.out[:start+m]
	g.read += int64(m)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return g.out[start:], err
}

// varint reads a multibyte integer of the xz format.
func (g *xzGuard) varint() (int64, int, error) {
	var v int64
	for i := range 9 {
		b, err := g.take(1)
		if err != nil {
			return 0, i, err
		}
		v |= int64(b[0]&0x7f) << (7 * i)
		if b[0]&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 9, errXzVarint
}

// streamStart reads stream padding (four zero bytes) or a stream header,
// whose flags give the size of the check after each block.
func (g *xzGuard) streamStart() error {
	b, err := g.take(4)
	if err != nil {
		return err
	}
	if b[0]|b[1]|b[2]|b[3] == 0 {
		return nil
	}
	h, err := g.take(8)
	if err != nil {
		return err
	}
	if c := int64(h[3] & 0x0f); c > 0 {
		g.check = 4 << ((c - 1) / 3) // 1-3: 4 bytes, 4-6: 8, 7-9: 16, 10-12: 32, 13-15: 64
	} else {
		g.check = 0
	}
	g.next = (*xzGuard).blockOrIndex
	return nil
}

// blockOrIndex reads a block header, or the start of the index. Before
// the decoder sees a header, the block's first xzLookahead bytes are read
// too (lookahead), and the dictionary its LZMA2 filter claims is cut to
// what the block can use (shrinkDict), then checked against max.
func (g *xzGuard) blockOrIndex() error {
	b, err := g.take(1)
	if err != nil {
		return err
	}
	if b[0] == 0 {
		g.size = 1
		g.next = (*xzGuard).index
		return nil
	}
	at := len(g.out) - 1
	hdr, err := g.take(int(b[0])*4 + 3) // the header is (b+1)*4 bytes, this one included
	if err != nil {
		return err
	}
	dictAt, err := blockDictAt(hdr[:len(hdr)-4]) // the last 4 are its CRC32
	if err != nil {
		return err
	}
	g.size = 0
	g.next = (*xzGuard).chunk
	if dictAt < 0 {
		return nil
	}
	dictAt += at + 1
	used, whole, lerr := g.lookahead(at)
	if (whole || lerr != nil) && !g.keep {
		// Read to the block's end: no match reaches past its output, nor
		// is output scanned past what the ratio cap allows for the
		// bytes read so far (chunk headers can claim what they like).
		g.shrinkDict(at, dictAt, min(used, windowMost(g.read, g.ratio)))
	}
	if err := g.checkDict(xzDictSize(g.out[dictAt] & 0x3f)); err != nil {
		g.pass = 0 // the decoder never sees this header, nor what follows it
		return err
	}
	if lerr != nil {
		// What came before a damaged or missing chunk passes first, as
		// it did without the lookahead: the decoder reads up to there.
		g.next = func(*xzGuard) error { return lerr }
	}
	return nil
}

// xzLookahead is how much of a block the guard reads before passing its
// header on: a block that ends within it gets the dictionary its data can
// use. The xz tool writes the dictionary of its preset whatever the size
// of the data (xz -9: 64 MiB for a 6-byte file), and the decoder
// allocates it whole and zeroed: 500 files of 60 bytes, each claiming 128
// MiB, took 6.6 s (a history of 100,000 such blobs, half an hour). Half
// of replayMax: a stream whose header is then refused is still kept whole
// to be scanned as plain bytes.
const xzLookahead = replayMax / 2

// lookahead reads the chunks of the block whose header starts at out[at]
// into out, until the block ends (whole) or out holds xzLookahead bytes of
// it; used is the most its chunks decode to, the one being read included.
func (g *xzGuard) lookahead(at int) (used int64, whole bool, err error) {
	for len(g.out)-at < xzLookahead {
		n, unpacked, end, err := g.chunkHeader()
		if err != nil {
			return used, false, err
		}
		if end {
			g.pass = n
			return used, true, nil
		}
		used += unpacked
		if _, err := g.take(int(n)); err != nil {
			return used, false, err
		}
		g.pass = 0
	}
	return used, false, nil
}

// shrinkDict lowers the dictionary size at out[dictAt], in the block
// header at out[at], to the smallest that holds used bytes (at least 4
// KiB, the least LZMA2 has), and writes the header's CRC32 again: no
// match reaches further back than the start of the block, so the decoder
// reads the same. The header keeps its size.
func (g *xzGuard) shrinkDict(at, dictAt int, used int64) {
	code := g.out[dictAt] & 0x3f
	var c byte
	for c < code && xzDictSize(c) < used {
		c++
	}
	if c >= code {
		return
	}
	g.out[dictAt] = c
	end := at + (int(g.out[at])+1)*4
	binary.LittleEndian.PutUint32(g.out[end-4:end], crc32.ChecksumIEEE(g.out[at:end-4]))
}

// checkDict stops a block whose dictionary is over max, and counts it with
// the worker's other decoders.
func (g *xzGuard) checkDict(dict int64) error {
	if dict > g.max {
		return &windowError{what: "xz block", claim: dict}
	}
	if g.grow != nil && dict > g.claim {
		if err := g.grow(g.claim, dict); err != nil {
			return err
		}
		g.claim = dict
	}
	return nil
}

// blockDictAt reads the block flags, the optional sizes and the filter
// flags (all after the size byte) and returns where in h the LZMA2
// filter's dictionary size is, or -1 when it has none.
func blockDictAt(h []byte) (int, error) {
	all := len(h)
	if len(h) == 0 {
		return 0, errXzHeader
	}
	flags, h := h[0], h[1:]
	if flags&0x3c != 0 {
		return 0, errXzHeader // reserved bits
	}
	var err error
	for _, bit := range []byte{0x40, 0x80} { // compressed, then uncompressed size
		if flags&bit != 0 {
			if _, h, err = headerVarint(h); err != nil {
				return 0, err
			}
		}
	}
	dictAt := -1
	for range int(flags&3) + 1 {
		var id, n int64
		if id, h, err = headerVarint(h); err != nil {
			return 0, err
		}
		if n, h, err = headerVarint(h); err != nil {
			return 0, err
		}
		if n > int64(len(h)) {
			return 0, errXzHeader
		}
		if id == 0x21 { // LZMA2: one byte, the dictionary size
			if n != 1 || h[0]&0x3f > 40 {
				return 0, errXzHeader
			}
			dictAt = all - len(h)
		}
		h = h[n:]
	}
	return dictAt, nil
}

// xzDictSize decodes an LZMA2 dictionary size: 2 or 3 times a power of two,
// from 4 KiB up to 4 GiB - 1 (code 40).
func xzDictSize(code byte) int64 {
	if code == 40 {
		return 1<<32 - 1
	}
	return int64(2|code&1) << (code/2 + 11)
}

// headerVarint reads a multibyte integer from a block header held in memory.
func headerVarint(h []byte) (int64, []byte, error) {
	var v int64
	for i := 0; i < 9 && i < len(h); i++ {
		v |= int64(h[i]&0x7f) << (7 * i)
		if h[i]&0x80 == 0 {
			return v, h[i+1:], nil
		}
	}
	return 0, nil, errXzVarint
}

// chunk reads the header of an LZMA2 chunk and lets its data pass; after
// the end marker, the block padding and the check.
func (g *xzGuard) chunk() error {
	n, _, _, err := g.chunkHeader()
	g.pass = n
	return err
}

// chunkHeader reads the header of an LZMA2 chunk: n is the size of its
// data, unpacked what it decodes to. At the end marker (end) it sets what
// passes next: the block padding and the check.
func (g *xzGuard) chunkHeader() (n, unpacked int64, end bool, err error) {
	b, err := g.take(1)
	if err != nil {
		return 0, 0, false, err
	}
	c := b[0]
	g.size++
	switch {
	case c == 0: // end of the block's data
		g.next = (*xzGuard).blockOrIndex
		return (4-g.size%4)%4 + g.check, 0, true, nil
	case c == 1 || c == 2: // uncompressed chunk
		s, err := g.take(2)
		if err != nil {
			return 0, 0, false, err
		}
		n = int64(s[0])<<8 | int64(s[1]) + 1
		unpacked = n
	case c >= 0x80: // LZMA chunk, with new properties from 0xc0 on
		h := 4
		if c >= 0xc0 {
			h = 5
		}
		s, err := g.take(h)
		if err != nil {
			return 0, 0, false, err
		}
		unpacked = int64(c&0x1f)<<16 | int64(s[0])<<8 | int64(s[1]) + 1
		n = int64(s[2])<<8 | int64(s[3]) + 1
		g.size += int64(h - 2)
	default:
		return 0, 0, false, errXzChunk
	}
	g.size += 2 + n
	return n, unpacked, false, nil
}

// index reads the index after the blocks: the number of records, each
// two numbers, padding and a CRC32; then the stream footer.
func (g *xzGuard) index() error {
	count, n, err := g.varint()
	g.size += int64(n)
	if err != nil {
		return err
	}
	g.next = func(g *xzGuard) error { return g.record(count) }
	return nil
}

// record reads the index records left, one per call, then what follows
// them: the index padding, its CRC32 and the 12-byte footer.
func (g *xzGuard) record(left int64) error {
	if left == 0 {
		g.pass = (4-g.size%4)%4 + 4 + 12
		g.next = (*xzGuard).streamStart
		return nil
	}
	for range 2 { // unpadded size, uncompressed size
		_, n, err := g.varint()
		g.size += int64(n)
		if err != nil {
			return err
		}
	}
	g.next = func(g *xzGuard) error { return g.record(left - 1) }
	return nil
}
