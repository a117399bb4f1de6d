package gitobj

import (
	"errors"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// The go-git fallback. A store opened without an object folder of its own
// reads every object through go-git's storage, one goroutine at a time:
// the reference the store's own reading is tested against. A store with a
// folder never asks go-git for an object: go-git reads whole objects and
// deltas with allocations no bound of the store's can reach, and the only
// packs it reads that the store cannot open are damaged or crafted ones
// (see Store.Damaged).

// mayFallBack reports whether go-git should be asked for an object the
// store's own reading failed on with err.
func (s *Store) mayFallBack(err error) bool {
	return s.fallback != nil && s.viaGoGit
}

// readFallback reads object h through go-git, after the store's own
// reading failed with ownErr. With stream, an object over bigObject bytes
// comes as a stream. Objects go-git holds whole are bounded by the
// LargeObjectThreshold its storage is opened with (gitscan sets it to
// bigObject); what is read here is checked against the declared size.
func (s *Store) readFallback(h plumbing.Hash, ownErr error, stream bool) (Object, error) {
	s.fallbackMu.Lock()
	obj, err := s.fallback.EncodedObject(plumbing.AnyObject, h)
	s.fallbackMu.Unlock()
	if err != nil {
		return Object{}, fallbackError(ownErr, err)
	}
	o := Object{Type: obj.Type(), Size: obj.Size()}
	if o.Size < 0 {
		return Object{}, errBadPack
	}
	rd, err := obj.Reader()
	if err != nil {
		return Object{}, err
	}
	content := &exactReader{r: rd, left: o.Size, strict: true}
	if stream && o.Size > bigObject {
		o.Stream = &closingReader{Reader: content, close: rd.Close}
		return o, nil
	}
	defer rd.Close()
	if o.Size > maxWhole {
		return Object{}, tooBig(o.Size, maxWhole)
	}
	o.Data = allocObject(o.Size, o.Size)
	if _, err := io.ReadFull(content, o.Data); err != nil {
		return Object{}, err
	}
	return o, nil
}

// closingReader is a Reader with a Close.
type closingReader struct {
	io.Reader
	close func() error
}

func (c *closingReader) Close() error { return c.close() }

// fallbackError is what a read that failed both ways says: the store's own
// error, which names what is wrong with the pack, unless the store simply
// did not have the object; and missing (plumbing.ErrObjectNotFound) when
// go-git does not have it either, as in a partial clone.
func fallbackError(own, fallback error) error {
	shown := own
	if own == nil || errors.Is(own, plumbing.ErrObjectNotFound) {
		shown = fallback
	}
	if errors.Is(fallback, plumbing.ErrObjectNotFound) {
		return notFound{shown}
	}
	return shown
}

// notFound is an error about a missing object that says more than "object
// not found".
type notFound struct{ err error }

func (e notFound) Error() string        { return e.err.Error() }
func (e notFound) Unwrap() error        { return e.err }
func (e notFound) Is(target error) bool { return target == plumbing.ErrObjectNotFound }

// Storer returns go-git's object API over the Reader, for go-git's
// decoders (commits, tags, trees) and go-git's revision parser: objects
// read by the store (whole, up to maxWhole), never by go-git's storage
// when the store has a folder. It is not safe for concurrent use, as the
// Reader is not.
func (r *Reader) Storer() storer.EncodedObjectStorer {
	return &readerStorer{EncodedObjectStorer: r.s.fallback, rd: r}
}

// readerStorer gives go-git objects read by a Reader. Its other methods
// (writing, iterating) are go-git's storage's own.
type readerStorer struct {
	storer.EncodedObjectStorer
	rd *Reader
}

func (p *readerStorer) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	typ, data, err := p.rd.Read(h)
	if err != nil {
		return nil, err
	}
	if t != plumbing.AnyObject && typ != t {
		return nil, plumbing.ErrObjectNotFound
	}
	obj := &plumbing.MemoryObject{}
	obj.SetType(typ)
	obj.Write(data)
	return obj, nil
}

// HasEncodedObject reports whether the store holds h.
func (p *readerStorer) HasEncodedObject(h plumbing.Hash) error {
	if p.rd.s.viaGoGit {
		return p.EncodedObjectStorer.HasEncodedObject(h)
	}
	if !p.rd.s.Has(h) {
		return plumbing.ErrObjectNotFound
	}
	return nil
}

// EncodedObjectSize returns the size of object h.
func (p *readerStorer) EncodedObjectSize(h plumbing.Hash) (int64, error) {
	o, err := p.rd.Object(h)
	if err != nil {
		return 0, err
	}
	if o.Stream != nil {
		o.Stream.Close()
	}
	return o.Size, nil
}

// HashesWithPrefix lists the objects whose names start with prefix, for
// go-git's revision parser (abbreviated hashes): from the store's packs and
// loose objects, alternates included.
func (p *readerStorer) HashesWithPrefix(prefix []byte) ([]plumbing.Hash, error) {
	if p.rd.s.viaGoGit {
		if fi, ok := p.EncodedObjectStorer.(interface {
			HashesWithPrefix([]byte) ([]plumbing.Hash, error)
		}); ok {
			return fi.HashesWithPrefix(prefix)
		}
		return nil, nil
	}
	return p.rd.s.HashesWithPrefix(prefix), nil
}
