package scanner

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/loftyscan/loftyscan/finding"
)

// xzGuard passes an xz file through unchanged, reading ahead of the decoder
// the structure that says how much memory decoding takes: the dictionary
// size in each block header. github.com/ulikunitz/xz allocates whatever a
// block header claims, up to 4 GiB (its ReaderConfig.DictCap is a floor for
// xz files, not a cap), and allocates it anew, zeroed, for every block. So
// a block that claims more than max is stopped here, before the decoder
// sees its header; and so are blocks whose dictionaries add up to far more
// than their data could use (xzDictFree, then xzDictPerByte for each byte
// of the file): thousands of tiny blocks each claiming max would otherwise
// cost seconds each of clearing memory.
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
	dicts  int64                      // the dictionary sizes of the blocks so far, added up
	grow   func(from, to int64) error // see share; nil: not counted
	shrink func(int64)
	claim  int64 // the dictionary this decoder holds, as counted
}

// The dictionaries all blocks of one xz file may claim together: xzDictFree,
// and xzDictPerByte more for each byte of the file. xz -T0 writes blocks of
// three times the dictionary, so its files claim a few dictionary bytes for
// each byte of data; a crafted file of tiny blocks claims millions.
const (
	xzDictFree    = 2 * maxWindow
	xzDictPerByte = 1024
)

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

// blockOrIndex reads a block header, and checks the dictionary size of its
// LZMA2 filter, or the start of the index.
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
	hdr, err := g.take(int(b[0])*4 + 3) // the header is (b+1)*4 bytes, this one included
	if err != nil {
		return err
	}
	return g.checkBlockHeader(hdr[:len(hdr)-4]) // the last 4 are its CRC32
}

// checkBlockHeader reads the block flags, the optional sizes and the filter
// flags (all after the size byte), and stops an LZMA2 dictionary over max.
func (g *xzGuard) checkBlockHeader(h []byte) error {
	if len(h) == 0 {
		return errXzHeader
	}
	flags, h := h[0], h[1:]
	if flags&0x3c != 0 {
		return errXzHeader // reserved bits
	}
	var err error
	for _, bit := range []byte{0x40, 0x80} { // compressed, then uncompressed size
		if flags&bit != 0 {
			if _, h, err = headerVarint(h); err != nil {
				return err
			}
		}
	}
	for range int(flags&3) + 1 {
		var id, n int64
		if id, h, err = headerVarint(h); err != nil {
			return err
		}
		if n, h, err = headerVarint(h); err != nil {
			return err
		}
		if n > int64(len(h)) {
			return errXzHeader
		}
		props := h[:n]
		h = h[n:]
		if id == 0x21 { // LZMA2: one byte, the dictionary size
			if n != 1 || props[0]&0x3f > 40 {
				return errXzHeader
			}
			dict := xzDictSize(props[0] & 0x3f)
			if dict > g.max {
				return &windowError{what: "xz block", claim: dict}
			}
			if g.grow != nil && dict > g.claim {
				if err := g.grow(g.claim, dict); err != nil {
					return err
				}
				g.claim = dict
			}
			if g.dicts += dict; g.dicts > xzDictFree+xzDictPerByte*g.read {
				return xzWalkError(fmt.Sprintf("xz blocks claim %s of dictionaries for %s of data (a crafted file?); decompress it with xz to scan it",
					finding.HumanBytes(g.dicts), finding.HumanBytes(g.read)))
			}
		}
	}
	g.size = 0
	g.next = (*xzGuard).chunk
	return nil
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
	b, err := g.take(1)
	if err != nil {
		return err
	}
	c := b[0]
	g.size++
	switch {
	case c == 0: // end of the block's data
		g.pass = (4-g.size%4)%4 + g.check
		g.next = (*xzGuard).blockOrIndex
		return nil
	case c == 1 || c == 2: // uncompressed chunk
		s, err := g.take(2)
		if err != nil {
			return err
		}
		g.pass = int64(s[0])<<8 | int64(s[1]) + 1
	case c >= 0x80: // LZMA chunk, with new properties from 0xc0 on
		n := 4
		if c >= 0xc0 {
			n = 5
		}
		s, err := g.take(n)
		if err != nil {
			return err
		}
		g.pass = int64(s[2])<<8 | int64(s[3]) + 1
		g.size += int64(n - 2)
	default:
		return errXzChunk
	}
	g.size += 2 + g.pass
	return nil
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
