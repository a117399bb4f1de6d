package gitobj

import (
	"errors"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// The go-git fallback. What the store cannot read itself (an object in a
// pack it could not open, one whose bytes it finds corrupt) is read
// through go-git's storage, one goroutine at a time, unless the store is
// complete and the object is simply not there.

// mayFallBack reports whether go-git should be asked for an object the
// store's own reading failed on with err.
func (s *Store) mayFallBack(err error) bool {
	return s.fallback != nil && !(errors.Is(err, plumbing.ErrObjectNotFound) && s.complete)
}

// readFallback reads object h through go-git, after the store's own
// reading failed with ownErr. With stream, a big blob comes as a stream.
func (s *Store) readFallback(h plumbing.Hash, ownErr error, stream bool) (Object, error) {
	s.fallbackMu.Lock()
	obj, err := s.fallback.EncodedObject(plumbing.AnyObject, h)
	s.fallbackMu.Unlock()
	if err != nil {
		return Object{}, fallbackError(ownErr, err)
	}
	o := Object{Type: obj.Type(), Size: obj.Size()}
	if stream && o.Type == plumbing.BlobObject && o.Size >= bigBlob {
		if o.Stream, err = obj.Reader(); err != nil {
			return Object{}, err
		}
		return o, nil
	}
	if o.Size > maxMemObject {
		return Object{}, errTooBig
	}
	rd, err := obj.Reader()
	if err != nil {
		return Object{}, err
	}
	defer rd.Close()
	o.Data = allocObject(o.Size, o.Size)
	if _, err := io.ReadFull(rd, o.Data); err != nil {
		return Object{}, err
	}
	return o, nil
}

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
// decoders (commits, tags, trees): objects read by the store, else by
// go-git. It is not safe for concurrent use, as the Reader is not.
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
	typ, data, err := p.rd.readDepth(h, 0)
	if err != nil && !p.rd.s.mayFallBack(err) {
		return nil, err
	}
	if err != nil {
		p.rd.s.fallbackMu.Lock()
		defer p.rd.s.fallbackMu.Unlock()
		return p.EncodedObjectStorer.EncodedObject(t, h)
	}
	if t != plumbing.AnyObject && typ != t {
		return nil, plumbing.ErrObjectNotFound
	}
	obj := &plumbing.MemoryObject{}
	obj.SetType(typ)
	obj.Write(data)
	return obj, nil
}
