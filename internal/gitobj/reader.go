package gitobj

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
)

// maxDeltaChain bounds a chain of deltas: git writes at most 4095. A
// longer chain, or a cycle of reference deltas, is a corrupt pack.
const maxDeltaChain = 5000

// bigBlob is the size from which a blob stored whole in a pack is streamed
// (Object) rather than held in memory, and the default bound on what a
// sweep holds.
const bigBlob = 32 << 20

// Reader reads objects for one goroutine: it keeps zlib state, buffers and
// an optional cache of resolved objects.
type Reader struct {
	s     *Store
	z     inflater
	cache *objCache // resolved objects by pack and offset; nil for none
	limit int       // the largest object read into memory
}

// Reader returns a Reader that keeps up to cacheBytes of resolved objects
// (0: none), so that reading neighbouring versions of a file or tree (a
// walk of a history) applies each delta about once.
func (s *Store) Reader(cacheBytes int64) *Reader {
	r := &Reader{s: s, limit: maxMemObject}
	if cacheBytes > 0 {
		r.cache = newObjCache(cacheBytes)
	}
	return r
}

// Read returns the type and content of object h, read whole: from the
// packs or a loose object, else through go-git. The content may be shared
// with the Reader's cache: it must not be modified. A missing object is an
// error that wraps plumbing.ErrObjectNotFound.
func (r *Reader) Read(h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	typ, data, err := r.readDepth(h, 0)
	if err == nil || !r.s.mayFallBack(err) {
		return typ, data, err
	}
	o, err := r.s.readFallback(h, err, false)
	return o.Type, o.Data, err
}

// Object is an object's content: in Data, or for a big blob (32 MiB or
// more) in Stream, for the caller to read and close. Data may be shared
// with the Reader's cache: it must not be modified.
type Object struct {
	Type   plumbing.ObjectType
	Size   int64
	Data   []byte
	Stream io.ReadCloser
}

// Object returns object h as Read does, except that a big blob is
// streamed: whatever its size, memory stays bounded.
func (r *Reader) Object(h plumbing.Hash) (Object, error) {
	if rd, size, ok := r.streamBig(h); ok {
		return Object{Type: plumbing.BlobObject, Size: size, Stream: io.NopCloser(rd)}, nil
	}
	typ, data, err := r.readDepth(h, 0)
	if err == nil {
		return Object{Type: typ, Size: int64(len(data)), Data: data}, nil
	}
	if !r.s.mayFallBack(err) {
		return Object{}, err
	}
	return r.s.readFallback(h, err, true)
}

func (r *Reader) readDepth(h plumbing.Hash, depth int) (plumbing.ObjectType, []byte, error) {
	if pi, pos := r.s.locate(h); pi >= 0 {
		return r.readPacked(pi, r.s.packs[pi].idx.offset(pos), depth)
	}
	return r.readLoose(h)
}

// readPacked resolves the object at off in pack pi: it follows the delta
// chain down to a whole object (or one in the cache), then applies the
// deltas back up.
func (r *Reader) readPacked(pi int, off int64, depth int) (plumbing.ObjectType, []byte, error) {
	p := r.s.packs[pi]
	var chain []objHeader
	var (
		typ  plumbing.ObjectType
		base []byte
	)
	for {
		if depth+len(chain) > maxDeltaChain {
			return 0, nil, fmt.Errorf("%w: delta chain longer than %d, or a cycle", errBadPack, maxDeltaChain)
		}
		if r.cache != nil {
			if t, b, ok := r.cache.get(pi, off); ok {
				typ, base = t, b
				break
			}
		}
		h, err := p.header(off)
		if err != nil {
			return 0, nil, err
		}
		if h.typ == plumbing.OFSDeltaObject {
			chain = append(chain, h)
			off = h.baseOff
			continue
		}
		if h.typ == plumbing.REFDeltaObject {
			chain = append(chain, h)
			if pos := p.idx.find(h.base[:]); pos >= 0 {
				off = p.idx.offset(pos)
				continue
			}
			// A thin pack's base in another pack, or loose.
			typ, base, err = r.readDepth(h.base, depth+len(chain))
			if err != nil {
				return 0, nil, fmt.Errorf("base %s of a delta: %w", h.base, err)
			}
			break
		}
		if err := r.fits(p, h); err != nil {
			return 0, nil, err
		}
		base = allocObject(h.size, h.size)
		if err := r.z.inflate(p, h.data, base); err != nil {
			return 0, nil, err
		}
		typ = h.typ
		r.cache.put(pi, off, typ, base)
		break
	}
	for i := len(chain) - 1; i >= 0; i-- {
		h := chain[i]
		if err := r.fits(p, h); err != nil {
			return 0, nil, err
		}
		delta := allocObject(h.size, h.size)
		if err := r.z.inflate(p, h.data, delta); err != nil {
			return 0, nil, err
		}
		out, err := applyDelta(base, delta, nil, r.limit)
		if err != nil {
			return 0, nil, err
		}
		base = out
		r.cache.put(pi, h.off, typ, base)
	}
	return typ, base, nil
}

// fits checks an object's declared size before memory is given to it:
// within the reader's limit, and no more than deflate can make of the
// bytes left in the pack, so that a few crafted bytes cannot claim
// gigabytes.
func (r *Reader) fits(p *packFile, h objHeader) error {
	if h.size > int64(r.limit) {
		return errTooBig
	}
	return p.plausible(h)
}

// streamBig returns a reader of blob h's content, and its size, when h is
// stored whole in a pack and is at least bigBlob bytes: such a blob is
// streamed rather than held in memory.
func (r *Reader) streamBig(h plumbing.Hash) (io.Reader, int64, bool) {
	pi, pos := r.s.locate(h)
	if pi < 0 {
		return nil, 0, false
	}
	p := r.s.packs[pi]
	hd, err := p.header(p.idx.offset(pos))
	if err != nil || hd.typ != plumbing.BlobObject || hd.size < bigBlob {
		return nil, 0, false
	}
	var src io.Reader
	if p.data != nil {
		src = bytes.NewReader(p.data[hd.data:])
	} else {
		src = bufio.NewReaderSize(io.NewSectionReader(p.f, hd.data, p.size-hd.data), 64<<10)
	}
	zr, err := zlib.NewReader(src)
	if err != nil {
		return nil, 0, false
	}
	return &exactReader{r: zr, left: hd.size}, hd.size, true
}

// exactReader reads exactly left bytes from r: a stream that ends before
// is cut short (io.ErrUnexpectedEOF), and what follows them is not read.
type exactReader struct {
	r    io.Reader
	left int64
}

func (e *exactReader) Read(b []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > e.left {
		b = b[:e.left]
	}
	n, err := e.r.Read(b)
	e.left -= int64(n)
	if err == io.EOF && e.left > 0 {
		err = io.ErrUnexpectedEOF
	} else if err == io.EOF {
		err = nil
	}
	return n, err
}
