package gitscan

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/scanner"
)

// Damaged objects. A scan of everything reads every blob, commit and
// annotated tag of the packs, and every loose object, whether a commit
// reaches it or not: one that cannot be read wholly (its zlib stream is
// damaged or cut, its delta's base is missing, a loose object's checksum
// is wrong) is named in a warning, counted as an error. A damaged blob is
// scanned up to the damage, and what it holds before it is reported; its
// warning waits for the walk, which names its path when a commit holds it
// (gitSink.release). A damaged commit, tree or tag is named at the end of
// the scan, unless a walk that met it named it already (as it names a
// commit whose history it could not follow): one warning an object.
//
// Trees are read only as far as a walk needs them (to attribute a finding,
// name a path), so a damaged tree in a pack is noticed only when a walk
// reads it; checking every object is git fsck's job.

// damage lists the objects a scan found damaged, and those a warning has
// named already. Its methods are safe for concurrent use.
type damage struct {
	mu      sync.Mutex
	named   map[plumbing.Hash]bool
	pending map[plumbing.Hash]damagedObject
}

// damagedObject is an object that could not be read wholly, and why.
type damagedObject struct {
	typ plumbing.ObjectType // 0 when not even its type could be read
	err error
}

// name records that a warning named object h as one that cannot be read.
func (d *damage) name(h plumbing.Hash) {
	d.mu.Lock()
	if d.named == nil {
		d.named = map[plumbing.Hash]bool{}
	}
	d.named[h] = true
	d.mu.Unlock()
}

// add records object h, of type typ (0: unknown), which could not be read
// because of err, to name at the end unless a warning does before.
func (d *damage) add(h plumbing.Hash, typ plumbing.ObjectType, err error) {
	d.mu.Lock()
	if d.pending == nil {
		d.pending = map[plumbing.Hash]damagedObject{}
	}
	if o, ok := d.pending[h]; !ok || o.typ == 0 {
		d.pending[h] = damagedObject{typ: typ, err: err}
	}
	d.mu.Unlock()
}

// readDamaged handles object h, whose read with Open failed with err, on
// worker w of a scan of everything that reads the objects of types. A blob
// is streamed and scanned up to the damage, when blobs are read (it
// reports whether it was); any other object is recorded, for
// reportDamaged to name. An object that is not there at all (a loose
// object removed since the scan listed it) is passed over.
func (g *gitRepo) readDamaged(ctx context.Context, r *scanner.Run, w *scanner.Worker, rd *gitobj.Reader, h plumbing.Hash, types gitobj.Types, err error) (scanned bool) {
	if err == plumbing.ErrObjectNotFound {
		return false
	}
	o, serr := rd.OpenStream(h)
	if serr != nil {
		g.damage.add(h, 0, err)
		return false
	}
	if o.Type != plumbing.BlobObject || !typeIn(types, plumbing.BlobObject) {
		o.Stream.Close()
		g.damage.add(h, o.Type, err)
		return false
	}
	if g.scanBlob(ctx, r, w, h, o) && !stopped(ctx.Err()) {
		// Read as a stream, the blob went through whole: the two ways
		// of reading disagree, and the first said why.
		g.damage.name(h)
		r.Fail(h.String(), "blob %s cannot be read in memory (%v); read as a stream it was scanned whole; run 'git fsck' to check the repository", h, err)
	}
	return true
}

// reportDamaged names the damaged objects no warning named: those no walk
// met (a commit, tree or tag no commit of the scan leads to) and those it
// read without naming. They are copied under the lock: a scan stopped by
// a signal or --timeout leaves behind a worker blocked in a read
// (readEach), which may still add one while this runs.
func (g *gitRepo) reportDamaged(r *scanner.Run) {
	type named struct {
		h plumbing.Hash
		damagedObject
	}
	var objs []named
	g.damage.mu.Lock()
	for h, o := range g.damage.pending {
		if !g.damage.named[h] {
			objs = append(objs, named{h, o})
		}
	}
	g.damage.mu.Unlock()
	slices.SortFunc(objs, func(a, b named) int { return bytes.Compare(a.h[:], b.h[:]) })
	for _, o := range objs {
		h := o.h
		switch o.typ {
		case plumbing.CommitObject, plumbing.TagObject:
			r.Fail("", "%s %s cannot be read wholly (%v): its message and headers were not scanned; run 'git fsck' to check the repository", o.typ, h, o.err)
		case plumbing.TreeObject:
			r.Fail("", "tree %s cannot be read wholly (%v); run 'git fsck' to check the repository", h, o.err)
		case plumbing.BlobObject:
			r.Fail(h.String(), "blob %s cannot be read wholly (%v): not scanned; run 'git fsck' to check the repository", h, o.err)
		default:
			r.Fail("", "object %s cannot be read (%v): not scanned; run 'git fsck' to check the repository", h, o.err)
		}
	}
}

// isChecksum reports whether err is a zlib checksum that does not match
// the content it follows: the content itself was read whole.
func isChecksum(err error) bool {
	return errors.Is(err, zlib.ErrChecksum)
}
