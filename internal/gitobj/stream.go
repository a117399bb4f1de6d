package gitobj

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/flate"
)

// Streams. An object too big to hold (bigObject or more) is read as a
// stream: a whole object straight from its zlib data, a delta applied to
// its base as the result is read. Nothing in a stream is sized by what a
// header claims: buffers are fixed, and every count is checked as bytes
// come.

// zstream returns the inflated bytes of the zlib stream at start in pack
// p: exactly size of them (see exactReader); as the inflater, it does not
// verify the stream's checksum. It does not share the Reader's inflater,
// so it may outlive the call that made it.
func (p *packFile) zstream(start, size int64) (io.Reader, error) {
	var src io.Reader
	if p.data != nil {
		if start+2 > p.size || !zlibHeader(p.data[start], p.data[start+1]) {
			return nil, fmt.Errorf("%w: no zlib stream at %d", errBadPack, start)
		}
		src = bytes.NewReader(p.data[start+2:])
	} else {
		br := bufio.NewReaderSize(io.NewSectionReader(p.f, start, p.size-start), 64<<10)
		var hd [2]byte
		if _, err := io.ReadFull(br, hd[:]); err != nil || !zlibHeader(hd[0], hd[1]) {
			return nil, fmt.Errorf("%w: no zlib stream at %d", errBadPack, start)
		}
		src = br
	}
	return &exactReader{r: flate.NewReader(src), left: size, strict: true}, nil
}

// errLonger is a stream that goes on past the size its header declares.
var errLonger = errors.New("object longer than its header says")

// exactReader reads exactly left bytes from r: a stream that ends before
// is cut short (io.ErrUnexpectedEOF). With strict, a stream that goes on
// past them is an error (errLonger) at the end; otherwise what follows is
// not read.
type exactReader struct {
	r      io.Reader
	left   int64
	strict bool
	one    [1]byte
}

func (e *exactReader) Read(b []byte) (int, error) {
	if e.left <= 0 {
		if e.strict {
			e.strict = false
			if n, err := io.ReadFull(e.r, e.one[:]); n > 0 || (err != io.EOF && err != io.ErrUnexpectedEOF) {
				if err == nil || err == io.EOF {
					err = errLonger
				}
				return 0, err
			}
		}
		return 0, io.EOF
	}
	if int64(len(b)) > e.left {
		b = b[:e.left]
	}
	n, err := e.r.Read(b)
	e.left -= int64(n)
	switch {
	case err == io.EOF && e.left > 0:
		err = io.ErrUnexpectedEOF
	case err == io.EOF:
		err = nil
	}
	return n, err
}

// deltaReader applies a delta to its base as the result is read, so that
// neither the result nor the delta is held: the instructions come from ops
// (the inflated delta, after its two sizes), copies are read from base.
// Every instruction is checked as applyDelta checks it, and the result must
// come out exactly the declared size.
type deltaReader struct {
	base     io.ReaderAt
	baseSize int64
	ops      *bufio.Reader
	size     int64 // the result's declared size
	left     int64 // result bytes still to come
	copyOff  int64 // a copy under way: where in the base, and how much is left
	copyN    int64
	insertN  int // an insert under way: bytes left
	err      error
	// cut, when set, ends the result after its first cutAt bytes with cut:
	// a crafted delta that expands far past its bytes is scanned that far.
	cut   error
	cutAt int64
	close func() // releases the base and the delta's stream
}

// newDeltaReader reads the two sizes at the head of delta (an inflated
// delta stream) and returns a reader of the result of applying it to base,
// a resolved object of baseSize bytes.
func newDeltaReader(base io.ReaderAt, baseSize int64, delta io.Reader) (*deltaReader, error) {
	ops := bufio.NewReaderSize(delta, 32<<10)
	bs, err := readDeltaVarint(ops)
	if err != nil {
		return nil, fmt.Errorf("%w: bad base size", errBadDelta)
	}
	size, err := readDeltaVarint(ops)
	if err != nil || size > 1<<62 {
		return nil, fmt.Errorf("%w: bad result size", errBadDelta)
	}
	if bs != uint64(baseSize) {
		return nil, fmt.Errorf("%w: made for a base of %d bytes, not %d", errBadDelta, bs, baseSize)
	}
	return &deltaReader{base: base, baseSize: baseSize, ops: ops, size: int64(size), left: int64(size)}, nil
}

// readDeltaVarint reads a delta header size from a stream, as deltaVarint
// does from bytes.
func readDeltaVarint(r io.ByteReader) (uint64, error) {
	var v uint64
	for i, shift := 0, uint(0); i < 10; i, shift = i+1, shift+7 {
		c, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errBadDelta
}

func (d *deltaReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && d.err == nil {
		if d.cut != nil && d.size-d.left >= d.cutAt {
			d.err = d.cut
			break
		}
		switch {
		case d.copyN > 0:
			k := int(min(int64(len(p)-n), d.copyN))
			m, err := d.base.ReadAt(p[n:n+k], d.copyOff)
			n += m
			d.copyOff += int64(m)
			d.copyN -= int64(m)
			d.left -= int64(m)
			if m < k {
				if err == nil || err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				d.err = fmt.Errorf("%w: base: %v", errBadDelta, err)
			}
		case d.insertN > 0:
			k := min(len(p)-n, d.insertN)
			m, err := io.ReadFull(d.ops, p[n:n+k])
			n += m
			d.insertN -= m
			d.left -= int64(m)
			if err != nil {
				d.err = opsError(err, "insert past the delta")
			}
		case d.left == 0:
			d.err = d.end()
		default:
			d.err = d.next()
		}
	}
	if n > 0 && d.err != nil && d.err != io.EOF {
		return n, nil // the error comes with the next call
	}
	return n, d.err
}

// next reads the next instruction.
func (d *deltaReader) next() error {
	cmd, err := d.ops.ReadByte()
	if err != nil {
		return opsError(err, fmt.Sprintf("result is %d bytes, not the %d declared", d.size-d.left, d.size))
	}
	switch {
	case cmd&0x80 != 0: // copy from the base
		var off, n uint64
		for bit := range 4 {
			if cmd&(1<<bit) != 0 {
				c, err := d.ops.ReadByte()
				if err != nil {
					return opsError(err, "truncated copy")
				}
				off |= uint64(c) << (8 * bit)
			}
		}
		for bit := range 3 {
			if cmd&(0x10<<bit) != 0 {
				c, err := d.ops.ReadByte()
				if err != nil {
					return opsError(err, "truncated copy")
				}
				n |= uint64(c) << (8 * bit)
			}
		}
		if n == 0 {
			n = 0x10000
		}
		if off+n > uint64(d.baseSize) || n > uint64(d.left) {
			return fmt.Errorf("%w: copy out of bounds", errBadDelta)
		}
		d.copyOff, d.copyN = int64(off), int64(n)
	case cmd != 0: // insert the next cmd bytes
		if int64(cmd) > d.left {
			return fmt.Errorf("%w: insert out of bounds", errBadDelta)
		}
		d.insertN = int(cmd)
	default:
		return fmt.Errorf("%w: reserved instruction 0", errBadDelta)
	}
	return nil
}

// end checks, once the result is complete, that the delta ends there too.
func (d *deltaReader) end() error {
	if _, err := d.ops.ReadByte(); err != io.EOF {
		if err == nil {
			return fmt.Errorf("%w: instructions past the declared result", errBadDelta)
		}
		return opsError(err, "")
	}
	return io.EOF
}

// finish checks, once the whole result was read, that the delta ends
// there too.
func (d *deltaReader) finish() error {
	var b [1]byte
	if _, err := d.Read(b[:]); err != io.EOF {
		if err == nil {
			err = fmt.Errorf("%w: result longer than declared", errBadDelta)
		}
		return err
	}
	return nil
}

// opsError is the error for the delta's stream failing with err: damage of
// the stream itself, or a delta that ends too soon (what says why).
func opsError(err error, what string) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: %s", errBadDelta, what)
	}
	return fmt.Errorf("%w: %v", errBadPack, err)
}

// Close releases the base and the delta's stream.
func (d *deltaReader) Close() error {
	if d.close != nil {
		d.close()
		d.close = nil
	}
	return nil
}

// windowReaderAt reads a file through a small window: a delta copies many
// short ranges, mostly near one another, and a read from the file for each
// would be a system call per instruction.
type windowReaderAt struct {
	r      io.ReaderAt
	size   int64
	win    []byte
	winOff int64
}

func newWindowReaderAt(r io.ReaderAt, size int64) *windowReaderAt {
	return &windowReaderAt{r: r, size: size}
}

func (w *windowReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= w.size {
		return 0, io.EOF
	}
	if len(p) >= 64<<10 {
		return w.r.ReadAt(p, off)
	}
	n := 0
	for n < len(p) {
		at := off + int64(n)
		if at >= w.size {
			return n, io.EOF
		}
		if at < w.winOff || at >= w.winOff+int64(len(w.win)) {
			if w.win == nil {
				w.win = make([]byte, 64<<10)
			}
			w.win = w.win[:cap(w.win)]
			m, err := w.r.ReadAt(w.win[:min(int64(len(w.win)), w.size-at)], at)
			w.win, w.winOff = w.win[:m], at
			if m == 0 {
				if err == nil {
					err = io.ErrUnexpectedEOF
				}
				return n, err
			}
		}
		n += copy(p[n:], w.win[at-w.winOff:])
	}
	return n, nil
}
