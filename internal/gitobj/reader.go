package gitobj

import (
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
)

// maxDeltaChain bounds a chain of deltas: git writes at most 4095. A
// longer chain, or a cycle of reference deltas, is a corrupt pack.
const maxDeltaChain = 5000

// Reader reads objects for one goroutine: it keeps zlib state, buffers and
// an optional cache of resolved objects.
type Reader struct {
	s     *Store
	z     inflater
	cache *objCache  // resolved objects by pack and offset; nil for none
	memo  *chainMemo // big objects resolved on delta chains, as checkpoints; nil for none
	limit int        // the largest object resolved in memory; bigger ones are resolved the big way (resolve.go)
	// spillMax and amplifiedFloor are maxSpill and amplifiedFloor, which
	// tests lower.
	spillMax, amplifiedFloor int64
}

// Reader returns a Reader that keeps up to cacheBytes of resolved objects
// (0: none), so that reading neighbouring versions of a file or tree (a
// walk of a history) applies each delta about once.
func (s *Store) Reader(cacheBytes int64) *Reader {
	r := &Reader{s: s, limit: bigObject, spillMax: maxSpill, amplifiedFloor: amplifiedFloor}
	if cacheBytes > 0 {
		r.cache = newObjCache(cacheBytes)
		r.memo = newChainMemo(4 * cacheBytes)
	}
	return r
}

// WorkerReader returns a Reader for one of workers goroutines that read at
// once: its cache and the largest object it holds in memory are its share
// of what all of them may hold (alloc.go), so that memory does not grow
// with their number. Bigger objects are streamed, or read the big way.
func (s *Store) WorkerReader(cacheBytes int64, workers int) *Reader {
	r := s.Reader(min(cacheBytes, cacheBudget/int64(max(workers, 1))))
	r.limit = int(share(workers))
	r.memo = nil // workers read each blob once
	return r
}

// Read returns the type and content of object h, read whole, from the
// packs or a loose object (through go-git only when the store has no
// object folder of its own). The content may be shared with the Reader's
// cache: it must not be modified. A missing object is an error that wraps
// plumbing.ErrObjectNotFound; an object over maxWhole bytes (64 MiB) is
// refused with a TooBigError, before any of it is held.
func (r *Reader) Read(h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	typ, data, err := r.readDepth(h, 0)
	switch {
	case err == nil:
		return typ, data, nil
	case errors.Is(err, errBig):
		o, err := r.resolveBig(h, modeWhole)
		return o.Type, o.Data, err
	case r.s.mayFallBack(err):
		o, err := r.s.readFallback(h, err, false)
		return o.Type, o.Data, err
	}
	return typ, data, err
}

// Type returns the type of object h without resolving its content, as
// git's object info does: a delta's is the type at its chain's end. A
// walk that only asks what a ref points to (a commit, or a tree of
// 100,000 files whose versions are a chain of deltas) reads a few
// headers, not megabytes. Errors are Read's, or that h is not in the
// store's own folders (read it with Read).
func (r *Reader) Type(h plumbing.Hash) (plumbing.ObjectType, error) {
	return r.typeDepth(h, 0)
}

func (r *Reader) typeDepth(h plumbing.Hash, depth int) (plumbing.ObjectType, error) {
	pi, pos := r.s.locate(h)
	if pi < 0 {
		o, err := r.s.openLoose(h)
		if err != nil {
			return 0, err
		}
		defer o.close()
		return o.typ, nil
	}
	chain, end, err := r.chainDown(pi, r.s.packs[pi].idx.offset(pos), depth, nil)
	switch {
	case err != nil:
		return 0, err
	case end.cached:
		return end.typ, nil
	case end.outside:
		typ, err := r.typeDepth(end.base, depth+len(chain))
		if err != nil {
			return 0, baseFailed(end.base, err)
		}
		return typ, nil
	}
	return end.whole.typ, nil
}

// Object is an object's content: in Data, or for a big object (over 32
// MiB, or a WorkerReader's share) in Stream, for the caller to read and close. Data may be shared
// with the Reader's cache: it must not be modified.
type Object struct {
	Type   plumbing.ObjectType
	Size   int64
	Data   []byte
	Stream io.ReadCloser
}

// Object returns object h as Read does, except that a blob over 32 MiB
// (bigObject), however it is stored (whole in a pack, a delta, loose), is
// streamed: whatever its size, and whatever its headers claim, memory
// stays bounded. A stream fails at its end when the blob turns out longer
// or shorter than its header says.
func (r *Reader) Object(h plumbing.Hash) (Object, error) {
	o, err := r.Open(h)
	if err != nil || o.Stream == nil || o.Type == plumbing.BlobObject {
		return o, err
	}
	defer o.Stream.Close()
	if o.Size > maxWhole {
		return Object{}, tooBig(o.Size, maxWhole)
	}
	o.Data = allocObject(o.Size, o.Size)
	if _, err := io.ReadFull(o.Stream, o.Data); err != nil {
		return Object{}, err
	}
	if _, err := o.Stream.Read(o.Data[:0:0]); err != io.EOF {
		return Object{}, fmt.Errorf("%w: %v", errBadPack, err)
	}
	o.Stream = nil
	return o, nil
}

// Open returns object h as Object does, except that an object over 32 MiB
// of any type is streamed: to read the head of a commit whose message is
// a hundred megabytes, say.
func (r *Reader) Open(h plumbing.Hash) (Object, error) {
	typ, data, err := r.readDepth(h, 0)
	switch {
	case err == nil:
		return Object{Type: typ, Size: int64(len(data)), Data: data}, nil
	case errors.Is(err, errBig):
		return r.resolveBig(h, modeStream)
	case r.s.mayFallBack(err):
		return r.s.readFallback(h, err, true)
	}
	return Object{}, err
}

// OpenStream returns object h streamed, whatever its size, as Open
// returns a big one: for an object whose decoding in memory failed, so
// that what its damaged data holds before the damage is read as it is
// when the object is over the reader's share (which depends on the
// number of workers).
func (r *Reader) OpenStream(h plumbing.Hash) (Object, error) {
	limit := r.limit
	r.limit = 0 // nothing held whole
	defer func() { r.limit = limit }()
	return r.resolveBig(h, modeStream)
}

func (r *Reader) readDepth(h plumbing.Hash, depth int) (plumbing.ObjectType, []byte, error) {
	if pi, pos := r.s.locate(h); pi >= 0 {
		return r.readPacked(pi, r.s.packs[pi].idx.offset(pos), depth)
	}
	return r.readLoose(h)
}

// chainEnd is where a delta chain in a pack ends: an object in the cache,
// one stored whole in the pack, or a base outside the pack (a thin pack's,
// in another pack or loose).
type chainEnd struct {
	cached bool
	typ    plumbing.ObjectType // cached
	data   []byte              // cached
	// root and depth place the end on its chain for the memo: the end of
	// the chain (its offset) and how many deltas above it the end is.
	root    int64
	depth   int
	whole   objHeader // neither cached nor outside
	outside bool
	base    plumbing.Hash // outside
}

// chainDown follows the delta chain of the object at off in pack pi down
// to its end, and returns the deltas on the way (the object's own first)
// after chain's. depth is how many deltas above the object the read has
// already followed: a chain longer than maxDeltaChain in all, or a cycle,
// is an error. readPacked and resolvePacked share it, and differ in what
// they make of the end and of each delta back up (bytes in memory, or
// streams and temporary files).
func (r *Reader) chainDown(pi int, off int64, depth int, chain []objHeader) ([]objHeader, chainEnd, error) {
	p := r.s.packs[pi]
	for {
		if depth+len(chain) > maxDeltaChain {
			return chain, chainEnd{}, fmt.Errorf("%w: delta chain longer than %d, or a cycle", errBadPack, maxDeltaChain)
		}
		if t, b, ok := r.cache.get(pi, off); ok {
			return chain, chainEnd{cached: true, typ: t, data: b, root: off}, nil
		}
		if e, ok := r.memo.get(pi, off); ok {
			return chain, chainEnd{cached: true, typ: e.typ, data: e.data, root: e.root, depth: e.depth}, nil
		}
		h, err := p.header(off)
		if err != nil {
			return chain, chainEnd{}, err
		}
		switch h.typ {
		case plumbing.OFSDeltaObject:
			chain = append(chain, h)
			off = h.baseOff
		case plumbing.REFDeltaObject:
			chain = append(chain, h)
			pos := p.idx.find(h.base[:])
			if pos < 0 {
				return chain, chainEnd{outside: true, base: h.base}, nil
			}
			off = p.idx.offset(pos)
		default:
			return chain, chainEnd{whole: h, root: off}, nil
		}
	}
}

// baseError is a delta's base outside its pack that could not be read.
// That base may be a delta too, whose base is in another pack, and so on:
// only the deepest base that failed is named, so that a chain across packs
// thousands long (a cycle of reference deltas, stopped at maxDeltaChain)
// fails with one short error, not a line for each level, all of them held
// until the read returns (300 KB of warning and 750 MB of messages for a
// cycle of two objects).
type baseError struct {
	base plumbing.Hash
	err  error
}

func (e *baseError) Error() string { return fmt.Sprintf("base %s of a delta: %v", e.base, e.err) }
func (e *baseError) Unwrap() error { return e.err }

// baseFailed is the error of a delta whose base failed with err.
func baseFailed(base plumbing.Hash, err error) error {
	if be := (*baseError)(nil); errors.As(err, &be) {
		return err
	}
	return &baseError{base: base, err: err}
}

// readPacked resolves the object at off in pack pi: it follows the delta
// chain down to a whole object (or one in the cache), then applies the
// deltas back up.
func (r *Reader) readPacked(pi int, off int64, depth int) (plumbing.ObjectType, []byte, error) {
	p := r.s.packs[pi]
	chain, end, err := r.chainDown(pi, off, depth, nil)
	if err != nil {
		return 0, nil, err
	}
	typ, base := end.typ, end.data
	root, from := end.root, end.depth
	switch {
	case end.outside:
		root = chain[len(chain)-1].off // the base is in another pack
		typ, base, err = r.readDepth(end.base, depth+len(chain))
		if err != nil {
			return 0, nil, baseFailed(end.base, err)
		}
	case !end.cached:
		h := end.whole
		if err := r.fits(p, h); err != nil {
			return 0, nil, err
		}
		base = allocObject(h.size, h.size)
		if err := r.z.inflate(p, h.data, base); err != nil {
			return 0, nil, err
		}
		typ = h.typ
		r.cache.put(pi, h.off, typ, base)
	}
	top := from + len(chain)
	var keep []memoEntry // big objects kept as checkpoints
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
		if depth := top - i; r.memo != nil && int64(len(base)) > r.cache.max/4 && keeps(from, depth, top) {
			below := from
			if n := len(keep); n > 0 {
				below = keep[n-1].depth
			}
			keep = append(keep, memoEntry{pack: pi, off: h.off, root: root, depth: depth, below: below, typ: typ, data: base})
		}
	}
	if len(keep) > 0 {
		r.memo.dropAbove(pi, root, top)
		for _, e := range keep {
			r.memo.put(e, chain[0].off)
		}
	}
	return typ, base, nil
}

// fits checks an object's declared size before memory is given to it:
// within the reader's limit (else errBig: it is resolved the big way),
// and no more than deflate can make of the bytes left in the pack, so
// that a few crafted bytes cannot claim gigabytes.
func (r *Reader) fits(p *packFile, h objHeader) error {
	if h.size > int64(r.limit) {
		return errBig
	}
	return p.plausible(h)
}
