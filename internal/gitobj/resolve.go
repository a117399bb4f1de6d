package gitobj

import (
	"bytes"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/finding"
)

// Big objects. Read and Object resolve objects in memory (readPacked,
// readLoose) while every object on the way is at most the reader's limit;
// one that is bigger, or a delta chain with a bigger object in it, is
// resolved here instead: the object itself streamed (Object) or read whole
// up to maxWhole (Read), each big base and intermediate result written to
// a temporary file (spill.go), at most maxSpill bytes for one read.

// mode is what resolveBig makes of a big object.
type mode int

const (
	modeStream mode = iota // a stream, for Object
	modeWhole              // whole in memory up to maxWhole, for Read
	modeSource             // a delta's base: in memory when small, else in a temporary file
)

// resolved is an object resolved the big way: in memory, in a temporary
// file, or a stream.
type resolved struct {
	typ    plumbing.ObjectType
	size   int64
	data   []byte
	file   *spillFile
	stream io.ReadCloser
}

// readerAt gives random access to a resolved base, for a delta's copies.
func (o *resolved) readerAt() io.ReaderAt {
	if o.file != nil {
		return newWindowReaderAt(o.file.f, o.size)
	}
	return bytes.NewReader(o.data)
}

// release removes a resolved object's temporary file, if it has one.
func (o *resolved) release() {
	if o.file != nil {
		o.file.close()
		o.file = nil
	}
	if o.stream != nil {
		o.stream.Close()
		o.stream = nil
	}
}

// resolveBig reads object h the big way.
func (r *Reader) resolveBig(h plumbing.Hash, m mode) (Object, error) {
	budget := spillBudget{left: r.spillMax, max: r.spillMax}
	o, err := r.resolve(h, 0, m, &budget)
	if err != nil {
		return Object{}, err
	}
	if o.file != nil { // cannot happen for modeStream and modeWhole
		o.release()
		return Object{}, fmt.Errorf("%w: object %s resolved to a file", errBadPack, h)
	}
	return Object{Type: o.typ, Size: o.size, Data: o.data, Stream: o.stream}, nil
}

// resolve finds object h and resolves it for m. budget is what is left of
// the bytes the read may write to temporary files.
func (r *Reader) resolve(h plumbing.Hash, depth int, m mode, budget *spillBudget) (resolved, error) {
	if pi, pos := r.s.locate(h); pi >= 0 {
		return r.resolvePacked(pi, r.s.packs[pi].idx.offset(pos), depth, m, budget)
	}
	return r.resolveLoose(h, m, budget)
}

// resolvePacked resolves the object at off in pack pi: it follows the
// delta chain down to a whole object (or one in the cache), then applies
// the deltas back up, each streamed.
func (r *Reader) resolvePacked(pi int, off int64, depth int, m mode, budget *spillBudget) (resolved, error) {
	p := r.s.packs[pi]
	chain, end, err := r.chainDown(pi, off, depth, nil)
	if err != nil {
		return resolved{}, err
	}
	var base resolved
	switch {
	case end.cached:
		base = resolved{typ: end.typ, size: int64(len(end.data)), data: end.data}
	case end.outside:
		if base, err = r.resolve(end.base, depth+len(chain), modeSource, budget); err != nil {
			return base, baseFailed(end.base, err)
		}
	default:
		wm := m
		if len(chain) > 0 {
			wm = modeSource
		}
		if base, err = r.wholePacked(p, end.whole, wm, budget); err != nil {
			return base, err
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		dm := m
		if i > 0 {
			dm = modeSource
		}
		if base, err = r.applyBig(p, chain[i], base, dm, budget); err != nil {
			return base, err
		}
	}
	return base, nil
}

// wholePacked resolves an object stored whole in a pack.
func (r *Reader) wholePacked(p *packFile, h objHeader, m mode, budget *spillBudget) (resolved, error) {
	o := resolved{typ: h.typ, size: h.size}
	if err := p.plausible(h); err != nil {
		return o, err
	}
	if h.size <= int64(r.limit) || m == modeWhole {
		if h.size > maxWhole {
			return o, tooBig(h.size, maxWhole)
		}
		o.data = allocObject(h.size, h.size)
		return o, r.z.inflate(p, h.data, o.data)
	}
	zs, err := p.zstream(h.data, h.size)
	if err != nil {
		return o, err
	}
	if m == modeStream {
		o.stream = io.NopCloser(zs)
		return o, nil
	}
	if err := spend(budget, h.size); err != nil {
		return o, err
	}
	o.file, err = spill(zs, h.size)
	return o, err
}

// applyBig applies the delta h to base, which it takes over (and
// releases), and resolves the result for m.
func (r *Reader) applyBig(p *packFile, h objHeader, base resolved, m mode, budget *spillBudget) (resolved, error) {
	o := resolved{typ: base.typ}
	if err := p.plausible(h); err != nil {
		base.release()
		return o, err
	}
	zs, err := p.zstream(h.data, h.size)
	if err != nil {
		base.release()
		return o, err
	}
	dr, err := newDeltaReader(base.readerAt(), base.size, zs)
	if err != nil {
		base.release()
		return o, err
	}
	dr.close = base.release
	o.size = dr.size
	// A delta can make gigabytes of a few bytes (a copy of 64 KiB takes
	// one): past amplifiedFloor, a result far bigger than its base and
	// delta together is cut there, as only a crafted pack makes one.
	if from := base.size + h.size; o.size > r.amplifiedFloor && o.size/maxAmplification > from {
		dr.cut, dr.cutAt = &AmplifiedError{Size: o.size, From: from, Read: r.amplifiedFloor}, r.amplifiedFloor
	}
	switch {
	case m == modeStream && o.size > int64(r.limit):
		o.stream = dr
		return o, nil
	case o.size <= int64(r.limit) || m == modeWhole:
		defer dr.Close()
		if o.size > maxWhole {
			return o, tooBig(o.size, maxWhole)
		}
		o.data = allocObject(o.size, o.size)
		if _, err := io.ReadFull(dr, o.data); err != nil {
			return o, err
		}
		return o, dr.finish()
	}
	defer dr.Close()
	if err := spend(budget, o.size); err != nil {
		return o, err
	}
	o.file, err = spill(dr, o.size) // to the end: the delta's own checks included
	return o, err
}

// spillBudget is what one read may write to temporary files.
type spillBudget struct{ left, max int64 }

// spend takes n bytes from what a read may write to temporary files.
func spend(budget *spillBudget, n int64) error {
	if n > budget.left {
		return &TooBigError{Size: budget.max - budget.left + n, Limit: budget.max, Chain: true}
	}
	budget.left -= n
	return nil
}

// AmplifiedError ends the stream of a delta's result that is far bigger
// than the delta and its base together: such a result is read up to
// amplifiedFloor bytes (1 GiB), however big it claims to be, so that a
// few hundred bytes of a pack cannot keep a scan busy for hours.
type AmplifiedError struct {
	Size int64 // the size the delta declares
	From int64 // the size of its base and of the delta
	Read int64 // what was read of it
}

func (e *AmplifiedError) Error() string {
	return fmt.Sprintf("a delta that expands %s of base and instructions into %s, as only a crafted pack does: only its first %s was read", finding.HumanBytes(e.From), finding.HumanBytes(e.Size), finding.HumanBytes(e.Read))
}
