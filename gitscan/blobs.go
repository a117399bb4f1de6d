package gitscan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-git/go-git/v5/plumbing"
)

// Reading the blobs of a scan. The tree walk has listed the blobs to scan
// and registered each under its hash; here they are read and scanned, each
// once, on the scan's workers. Many blobs are read with a sweep of the
// packs (see pack_sweep.go); the blobs the sweep did not deliver (loose
// objects, a few blobs of a big pack, objects too big to hold in memory)
// are read one by one; what the pack reader cannot read at all is read
// through go-git, one at a time.

// gitReadMode chooses how a scan reads blobs. Only tests choose: they
// check that every way gives the same results.
type gitReadMode int

const (
	readAuto     gitReadMode = iota // a sweep when worth it; a scan of everything sweeps first (scanEverything)
	readGoGit                       // everything through go-git, one object at a time: the reference
	readSweep                       // a sweep whatever the number of blobs, after the walk
	readOneByOne                    // never a sweep
)

// sweepFraction decides between the two ways to read: a sweep reads the
// header of every object in the packs and whole delta trees, so it pays
// off once the blobs wanted are more than about one pack object in
// sweepFraction.
const sweepFraction = 32

// scanBlobs scans blobs, each registered in gs.
func (g *gitRepo) scanBlobs(ctx context.Context, r *run, gs *gitSink, blobs []plumbing.Hash) {
	if len(blobs) == 0 {
		return
	}
	if g.store == nil {
		g.scanBlobsGoGit(ctx, r, blobs)
		return
	}
	var res *sweepResult
	if g.shouldSweep(len(blobs)) {
		index := make(map[plumbing.Hash]struct{}, len(blobs))
		for _, h := range blobs {
			index[h] = struct{}{}
		}
		res = g.sweepBlobs(ctx, r, func(name []byte) bool {
			_, ok := index[plumbing.Hash(name)]
			return ok
		})
	}
	g.scanRest(ctx, r, gs, blobs, res, nil)
}

// sweepBlobs sweeps the packs for the blobs want accepts and scans them.
func (g *gitRepo) sweepBlobs(ctx context.Context, r *run, want func(name []byte) bool) *sweepResult {
	return g.sweep(ctx, r, typesOf(plumbing.BlobObject), want, nil)
}

// sweepKinds sweeps every object of the kinds given: it scans the blobs
// and shows the trees and commits to holes.
func (g *gitRepo) sweepKinds(ctx context.Context, r *run, kinds typeSet, holes *holeFinder) *sweepResult {
	return g.sweep(ctx, r, kinds, func([]byte) bool { return true }, holes)
}

func (g *gitRepo) sweep(ctx context.Context, r *run, kinds typeSet, want func(name []byte) bool, holes *holeFinder) *sweepResult {
	workers := r.opts.workers()
	streamers := make([]*streamer, workers)
	for i := range streamers {
		streamers[i] = newStreamer(finder{cfg: r.opts.Rules})
		streamers[i].progress = r.progress
	}
	return g.store.sweepTypes(ctx, workers, kinds, want, func(w int, h plumbing.Hash, typ plumbing.ObjectType, data []byte) {
		if typ == plumbing.BlobObject {
			scanBlobBytes(ctx, r, streamers[w], h.String(), data)
		} else if holes != nil {
			holes.object(w, typ, h, data)
		}
	})
}

// scanRest scans the blobs a sweep did not deliver (all of them when res
// is nil), one by one, leaving out those in done.
func (g *gitRepo) scanRest(ctx context.Context, r *run, gs *gitSink, blobs []plumbing.Hash, res *sweepResult, done map[plumbing.Hash]bool) {
	rest := blobs
	if res != nil || done != nil {
		rest = nil
		for _, h := range blobs {
			if !done[h] && (res == nil || !res.delivered(h)) {
				rest = append(rest, h)
			}
		}
	}
	if len(rest) > 0 && ctx.Err() == nil {
		g.scanBlobsOneByOne(ctx, r, gs, rest, r.opts.workers())
	}
}

// shouldSweep says whether n blobs are worth a sweep of the packs.
func (g *gitRepo) shouldSweep(n int) bool {
	switch g.mode {
	case readSweep:
		return true
	case readOneByOne:
		return false
	}
	total := 0
	for _, p := range g.store.packs {
		total += p.idx.count
	}
	return total > 0 && n*sweepFraction >= total
}

// readEach calls fn with each object name on the workers, each with its
// own streamer and object reader (with a small cache for the delta bases
// objects share).
func (g *gitRepo) readEach(ctx context.Context, r *run, names []plumbing.Hash, workers int, fn func(st *streamer, rd *objReader, h plumbing.Hash)) {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(workers, len(names)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := newStreamer(finder{cfg: r.opts.Rules})
			st.progress = r.progress
			rd := g.store.reader(16 << 20)
			for ctx.Err() == nil {
				k := next.Add(1) - 1
				if k >= int64(len(names)) {
					return
				}
				fn(st, rd, names[k])
			}
		}()
	}
	wg.Wait()
}

// scanBlobsOneByOne reads blobs by name on the workers.
func (g *gitRepo) scanBlobsOneByOne(ctx context.Context, r *run, gs *gitSink, blobs []plumbing.Hash, workers int) {
	var (
		goGit   sync.Mutex // go-git's storage is read by one goroutine at a time
		missing = newMissingBlobs(g)
	)
	g.readEach(ctx, r, blobs, workers, func(st *streamer, rd *objReader, h plumbing.Hash) {
		label := h.String()
		if zr, ok := rd.streamBig(h); ok {
			// Big and stored whole: streamed, not held.
			err := r.scanEntry(ctx, st, zr, nil, -1, label, 0, newBudget(r.opts.Limits.TotalBytes))
			if err != nil && !isContextErr(err) {
				r.fail(label, "blob %s is corrupt (%v): not wholly scanned", h, err)
			}
			return
		}
		typ, data, err := rd.read(h)
		if err == nil && typ == plumbing.BlobObject {
			scanBlobBytes(ctx, r, st, label, data)
			return
		}
		if errors.Is(err, plumbing.ErrObjectNotFound) && g.store.complete {
			if !missing.add(h) {
				r.fail(label, "blob %s is missing or corrupt (%v): not scanned; run 'git fsck' to check the repository", h, err)
			}
			return
		}
		goGit.Lock()
		defer goGit.Unlock()
		obj, gerr := g.st.EncodedObject(plumbing.BlobObject, h)
		if gerr != nil {
			if err == nil {
				err = gerr
			}
			if errors.Is(gerr, plumbing.ErrObjectNotFound) && missing.add(h) {
				return // a partial clone's: reported together
			}
			r.fail(label, "blob %s is missing or corrupt (%v): not scanned; run 'git fsck' to check the repository", h, err)
			return
		}
		scanObject(ctx, r, st, obj, h, label)
	})
	missing.report(r, gs)
}

// scanUnswept scans the objects a sweep of everything did not deliver, and
// the loose objects, that turn out to be blobs. It says which it scanned,
// and whether every object could be read: one that could not may be a
// blob the history holds, which only a walk of the trees can tell.
func (g *gitRepo) scanUnswept(ctx context.Context, r *run, names []plumbing.Hash, holes *holeFinder) (map[plumbing.Hash]bool, bool) {
	var (
		mu       sync.Mutex
		scanned  = map[plumbing.Hash]bool{}
		complete atomic.Bool
	)
	complete.Store(true)
	mark := func(h plumbing.Hash) {
		mu.Lock()
		scanned[h] = true
		mu.Unlock()
	}
	var hmu sync.Mutex // the hole finder's lookups are per sweep worker: one at a time here
	g.readEach(ctx, r, names, r.opts.workers(), func(st *streamer, rd *objReader, h plumbing.Hash) {
		label := h.String()
		if zr, ok := rd.streamBig(h); ok {
			mark(h)
			if err := r.scanEntry(ctx, st, zr, nil, -1, label, 0, newBudget(r.opts.Limits.TotalBytes)); err != nil && !isContextErr(err) {
				r.fail(label, "blob %s is corrupt (%v): not wholly scanned", h, err)
			}
			return
		}
		typ, data, err := rd.read(h)
		switch {
		case err != nil:
			complete.Store(false)
		case typ == plumbing.BlobObject:
			mark(h)
			scanBlobBytes(ctx, r, st, label, data)
		case holes != nil:
			hmu.Lock()
			holes.object(0, typ, h, data)
			hmu.Unlock()
		}
	})
	return scanned, complete.Load()
}

// scanBlobBytes scans a blob held in memory.
func scanBlobBytes(ctx context.Context, r *run, st *streamer, label string, data []byte) {
	err := r.scanEntry(ctx, st, bytes.NewReader(data), bytes.NewReader(data), int64(len(data)), label, 0, newBudget(r.opts.Limits.TotalBytes))
	if err != nil && !isContextErr(err) {
		r.fail(label, "read error: %v", err)
	}
}

// scanObject scans a blob read through go-git: in memory when small (zip
// needs random access), streamed when big.
func scanObject(ctx context.Context, r *run, st *streamer, obj plumbing.EncodedObject, h plumbing.Hash, label string) {
	if obj.Size() >= bigBlob {
		rd, err := obj.Reader()
		if err == nil {
			err = r.scanEntry(ctx, st, rd, nil, -1, label, 0, newBudget(r.opts.Limits.TotalBytes))
			rd.Close()
		}
		if err != nil && !isContextErr(err) {
			r.fail(label, "blob %s is corrupt (%v): not wholly scanned", h, err)
		}
		return
	}
	data, err := readObject(obj)
	if err != nil {
		r.fail(label, "blob %s is corrupt (%v): not scanned; run 'git fsck' to check the repository", h, err)
		return
	}
	scanBlobBytes(ctx, r, st, label, data)
}

// scanBlobsGoGit reads every blob through go-git, in one goroutine, and
// scans them on the workers. It is the reference the pack reader is
// tested against.
func (g *gitRepo) scanBlobsGoGit(ctx context.Context, r *run, blobs []plumbing.Hash) {
	jobs := make(chan func(context.Context, *streamer), 256)
	gate := newByteGate(ctx, maxInFlight)
	var inline *streamer // for big blobs, scanned where they are read
	go func() {
		defer close(jobs)
		defer gate.stop()
		for _, h := range blobs {
			if ctx.Err() != nil {
				return
			}
			label := h.String()
			obj, err := g.objs.EncodedObject(plumbing.BlobObject, h)
			if err != nil {
				r.fail(label, "blob %s is missing or corrupt (%v): not scanned; run 'git fsck' to check the repository", h, err)
				continue
			}
			if obj.Size() >= bigBlob {
				if inline == nil {
					inline = newStreamer(finder{cfg: r.opts.Rules})
				}
				scanObject(ctx, r, inline, obj, h, label)
				continue
			}
			data, err := readObject(obj)
			if err != nil {
				r.fail(label, "blob %s is corrupt (%v): not scanned; run 'git fsck' to check the repository", h, err)
				continue
			}
			n := int64(len(data))
			if !gate.acquire(n) {
				return
			}
			jobs <- func(ctx context.Context, st *streamer) {
				defer gate.release(n)
				scanBlobBytes(ctx, r, st, label, data)
			}
		}
	}()
	r.pool(ctx, jobs)
}

// missingBlobs collects the blobs a partial clone (git clone --filter)
// left out, to report them in one warning instead of one each: there are
// often thousands, and the fix is the same for all.
type missingBlobs struct {
	partial bool
	mu      sync.Mutex
	blobs   []plumbing.Hash
}

func newMissingBlobs(g *gitRepo) *missingBlobs { return &missingBlobs{partial: g.isPartialClone()} }

// add records a missing blob when the repository is a partial clone.
func (m *missingBlobs) add(h plumbing.Hash) bool {
	if !m.partial {
		return false
	}
	m.mu.Lock()
	m.blobs = append(m.blobs, h)
	m.mu.Unlock()
	return true
}

func (m *missingBlobs) report(r *run, gs *gitSink) {
	if len(m.blobs) == 0 {
		return
	}
	var paths []string
	gs.mu.Lock()
	for _, h := range m.blobs {
		paths = append(paths, gs.origins[h].path)
	}
	gs.mu.Unlock()
	slices.Sort(paths)
	paths = slices.Compact(paths)
	const show = 3
	more := ""
	if len(paths) > show {
		more = fmt.Sprintf(" and %d more paths", len(paths)-show)
		paths = paths[:show]
	}
	r.errs.Add(int64(len(m.blobs)))
	r.warn("", "partial clone: %d blob(s) were left out by the clone's filter and were not scanned (%s%s); to scan them, run 'git fetch --refetch' without a filter first, or scan the remote's URL", len(m.blobs), strings.Join(paths, ", "), more)
}
