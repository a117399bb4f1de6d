package gitscan

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/scanner"
)

// Reading the blobs of a scan. The tree walk has listed the blobs to scan
// and registered each under its hash; here they are read and scanned, each
// once, on the scan's workers, under their hash as a label (attribute.go
// turns labels back into paths). Many blobs are read with a sweep of the
// packs (gitobj.Store.Sweep); the blobs the sweep did not deliver (loose
// objects, a few blobs of a big pack, objects too big to hold in memory)
// are read one by one.

// sweepFraction decides between the two ways to read: a sweep reads the
// header of every object in the packs and whole delta trees, so it pays
// off once the blobs wanted are more than about one pack object in
// sweepFraction.
const sweepFraction = 32

// scanBlobs scans blobs, each registered in gs.
func (g *gitRepo) scanBlobs(ctx context.Context, r *scanner.Run, gs *gitSink, blobs []plumbing.Hash) {
	if len(blobs) == 0 {
		return
	}
	r.AddTotal(int64(len(blobs)))
	var res *gitobj.SweepResult
	switch {
	case g.shouldSweep(len(blobs)):
		index := make(map[plumbing.Hash]struct{}, len(blobs))
		for _, h := range blobs {
			index[h] = struct{}{}
		}
		res = g.sweep(ctx, r, gitobj.TypesOf(plumbing.BlobObject), func(name []byte) bool {
			_, ok := index[plumbing.Hash(name)]
			return ok
		}, nil, nil)
	case g.tune.mode != readOneByOne && g.store.Packed() > 0:
		// A few blobs: a sweep of their delta chains only.
		workers := g.scanWorkers(r)
		o := gitobj.SweepOptions{Workers: len(workers), Types: gitobj.TypesOf(plumbing.BlobObject), MaxSize: g.tune.sweepMax}
		res = g.store.SweepObjects(ctx, blobs, o, func(w int, h plumbing.Hash, typ plumbing.ObjectType, data []byte) {
			g.scanBlob(ctx, r, workers[w], h, gitobj.Object{Type: typ, Data: data})
		})
	}
	g.scanRest(ctx, r, gs, blobs, res, nil)
}

// scanWorkers makes a scanner.Worker for each of the scan's workers.
func (g *gitRepo) scanWorkers(r *scanner.Run) []*scanner.Worker {
	workers := make([]*scanner.Worker, r.Workers())
	for i := range workers {
		workers[i] = r.NewWorker()
	}
	return workers
}

// shouldSweep says whether n blobs are worth a sweep of the packs.
func (g *gitRepo) shouldSweep(n int) bool {
	switch g.tune.mode {
	case readSweep:
		return true
	case readOneByOne:
		return false
	}
	total := g.store.Packed()
	return total > 0 && n*sweepFraction >= total
}

// sweep sweeps the packs for the objects of the types given that want
// accepts (nil: all): it scans the blobs, scans the messages of commits
// and tags and lists them (g.notes), and shows the trees and commits to
// holes.
//
// planned, when set, gets the sweep's plan (gitobj.SweepOptions.Planned).
func (g *gitRepo) sweep(ctx context.Context, r *scanner.Run, types gitobj.Types, want func(name []byte) bool, trees *sweptTrees, planned func([8]int)) *gitobj.SweepResult {
	workers := g.scanWorkers(r)
	o := gitobj.SweepOptions{Workers: len(workers), Types: types, Want: want, MaxSize: g.tune.sweepMax, Planned: planned}
	var holes *holeFinder
	if trees != nil {
		o.Tree, holes = trees.tree(workers), trees.holes
	}
	res := g.store.Sweep(ctx, o, func(w int, h plumbing.Hash, typ plumbing.ObjectType, data []byte) {
		if typ == plumbing.BlobObject {
			g.scanBlob(ctx, r, workers[w], h, gitobj.Object{Type: typ, Data: data})
			return
		}
		g.notes.object(ctx, r, workers[w], h, gitobj.Object{Type: typ, Size: int64(len(data)), Data: data})
		if holes != nil {
			holes.object(w, typ, data)
		}
	})
	if holes != nil {
		holes.flush()
	}
	return res
}

// scanRest scans the blobs a sweep did not deliver (all of them when res
// is nil), one by one, leaving out those in done.
func (g *gitRepo) scanRest(ctx context.Context, r *scanner.Run, gs *gitSink, blobs []plumbing.Hash, res *gitobj.SweepResult, done map[plumbing.Hash]bool) {
	rest := blobs
	if res != nil || done != nil {
		rest = nil
		for _, h := range blobs {
			if !done[h] && (res == nil || !res.Delivered(h)) {
				rest = append(rest, h)
			}
		}
	}
	if len(rest) > 0 && ctx.Err() == nil {
		g.scanBlobsOneByOne(ctx, r, gs, rest)
	}
}

// readEach calls fn with each object name on the scan's workers, each with
// its own scanner.Worker and object reader (with a small cache for the
// delta bases objects share), which hold their share of the memory all
// workers may hold (gitobj.WorkerReader). A panic becomes a warning about
// the object.
//
// Stopped (a signal, --timeout), it waits for its workers readStopGrace at
// most: a worker blocked where no context reaches (an object file that is
// a named pipe, a hung network file system) is left behind, so that the
// scan can still report, within the second the CLI gives it, the keys the
// other workers found. It reports whether every worker returned.
func (g *gitRepo) readEach(ctx context.Context, r *scanner.Run, names []plumbing.Hash, fn func(w *scanner.Worker, rd *gitobj.Reader, h plumbing.Hash)) bool {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(r.Workers(), len(names)) {
		wg.Add(1)
		g.busy.Add(1)
		go func() {
			defer g.busy.Done()
			defer wg.Done()
			w := r.NewWorker()
			rd := g.store.WorkerReader(16<<20, r.Workers())
			for ctx.Err() == nil {
				k := next.Add(1) - 1
				if k >= int64(len(names)) {
					return
				}
				h := names[k]
				r.Safely(h.String(), func() { fn(w, rd, h) })
			}
		}()
	}
	all := waitOrAbandon(ctx, &wg, readStopGrace)
	if !all {
		g.left.Store(true)
	}
	return all
}

// readStopGrace is how long a stopped readEach waits for its workers: with
// the walk's grace (stoppedWalkGrace), that keeps a stopped scan within the
// CLI's second.
const readStopGrace = 200 * time.Millisecond

// waitOrAbandon waits for wg, or, once ctx has ended, for grace more at
// most. It reports whether wg finished.
func waitOrAbandon(ctx context.Context, wg *sync.WaitGroup, grace time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// scanBlobsOneByOne reads blobs by name on the workers.
func (g *gitRepo) scanBlobsOneByOne(ctx context.Context, r *scanner.Run, gs *gitSink, blobs []plumbing.Hash) {
	missing := newMissingBlobs(g)
	g.readEach(ctx, r, blobs, func(w *scanner.Worker, rd *gitobj.Reader, h plumbing.Hash) {
		o, err := readBlobForScan(rd, h)
		if err != nil {
			if !errors.Is(err, plumbing.ErrObjectNotFound) || !missing.add(h) {
				g.blobFailed(r, h, err, false)
			}
			return
		}
		g.scanBlob(ctx, r, w, h, o)
	})
	missing.report(ctx, r, gs)
}

// scanUnswept scans the objects a sweep of everything did not deliver, and
// the loose objects, that turn out to be blobs, and the messages of those
// that are commits and tags; trees and commits go to trees, as the sweep's
// do. It says which blobs it scanned,
// and whether every object could be read: one that could not may be a
// blob the history holds, which only a walk of the trees can tell.
func (g *gitRepo) scanUnswept(ctx context.Context, r *scanner.Run, names []plumbing.Hash, trees *sweptTrees) (map[plumbing.Hash]bool, bool) {
	holes := trees.holes
	var (
		mu       sync.Mutex
		scanned  = map[plumbing.Hash]bool{}
		complete atomic.Bool
	)
	complete.Store(true)
	all := g.readEach(ctx, r, names, func(w *scanner.Worker, rd *gitobj.Reader, h plumbing.Hash) {
		o, err := rd.Open(h) // a big commit or tree is streamed: not held to learn its type
		if err == nil && o.Stream != nil && o.Type != plumbing.BlobObject {
			if holes != nil {
				complete.Store(false) // too big to look into for holes: the walk will
			}
			trees.unswept(w, h, o.Type, nil)
			g.notes.object(ctx, r, w, h, o) // the start of a big commit's or tag's message; closes the stream
			return
		}
		switch {
		case err != nil:
			// Damaged (or a delta whose base is missing): a blob is
			// scanned up to the damage; the walk this calls for names
			// its path, or what else it is (damaged.go).
			complete.Store(false)
			if g.readDamaged(ctx, r, w, rd, h, gitobj.TypesOf(plumbing.BlobObject), err) {
				mu.Lock()
				scanned[h] = true
				mu.Unlock()
			}
		case o.Type == plumbing.BlobObject:
			mu.Lock()
			scanned[h] = true
			mu.Unlock()
			g.scanBlob(ctx, r, w, h, o)
		case o.Type == plumbing.CommitObject || o.Type == plumbing.TagObject:
			g.notes.object(ctx, r, w, h, o)
			if o.Type == plumbing.CommitObject {
				trees.unswept(w, h, o.Type, o.Data)
			}
		default:
			trees.unswept(w, h, o.Type, o.Data)
		}
	})
	if !all {
		// A worker left behind may still add to scanned.
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(scanned), false
	}
	return scanned, complete.Load()
}

// readForScan reads object h to scan it: held in memory, or streamed when
// big. A damaged blob that fails to decode in memory is streamed, and so
// read up to the damage, as it is when it is over the worker's share of
// memory: what a scan finds in it does not depend on the number of
// workers.
func readForScan(rd *gitobj.Reader, h plumbing.Hash) (gitobj.Object, error) {
	o, err := rd.Object(h)
	if err == nil || errors.Is(err, plumbing.ErrObjectNotFound) {
		return o, err
	}
	so, serr := rd.OpenStream(h)
	if serr != nil {
		return o, err
	}
	if so.Type != plumbing.BlobObject {
		if so.Stream != nil {
			so.Stream.Close()
		}
		return o, err
	}
	return so, nil
}

// readBlobForScan is readForScan of an object that must be a blob: any
// other object of that name is no blob of it (plumbing.ErrObjectNotFound).
func readBlobForScan(rd *gitobj.Reader, h plumbing.Hash) (gitobj.Object, error) {
	o, err := readForScan(rd, h)
	if err == nil && o.Type != plumbing.BlobObject {
		if o.Stream != nil {
			o.Stream.Close()
		}
		return gitobj.Object{}, plumbing.ErrObjectNotFound
	}
	return o, err
}

// scanBlob scans blob h, read as o: held in memory, or streamed when big;
// and, for a Git LFS pointer, the contents it names (see scanLFS). Its
// label is its hash, which the gitSink turns into its path. It reports
// false when the blob could not be read wholly (a warning says so).
func (g *gitRepo) scanBlob(ctx context.Context, r *scanner.Run, w *scanner.Worker, h plumbing.Hash, o gitobj.Object) bool {
	var err error
	if o.Stream != nil {
		err = w.Scan(ctx, h.String(), o.Stream)
		o.Stream.Close()
	} else {
		err = w.ScanBytes(ctx, h.String(), o.Data)
	}
	if err != nil && !stopped(err) {
		g.blobFailed(r, h, err, true)
		return false
	}
	if o.Stream == nil {
		g.scanLFS(ctx, r, w, h, o.Data)
	}
	return true
}

// blobFailed reports blob h as the function blobFailed does, and records
// that a warning named it, so that reportDamaged does not name it again.
func (g *gitRepo) blobFailed(r *scanner.Run, h plumbing.Hash, err error, partly bool) {
	g.damage.name(h)
	blobFailed(r, h, err, partly)
}

// blobFailed reports blob h, which could not be read (or, partly, not
// wholly) because of err: a damaged blob is scanned up to the damage. A
// loose blob whose zlib checksum alone is wrong was scanned whole.
func blobFailed(r *scanner.Run, h plumbing.Hash, err error, partly bool) {
	switch {
	case partly && isChecksum(err):
		r.Fail(h.String(), "blob %s: its zlib checksum does not match its content (%v), which was scanned whole but may be damaged; run 'git fsck' to check the repository", h, err)
	case partly:
		r.Fail(h.String(), "blob %s is corrupt (%v): not wholly scanned, only what it holds before the damage; run 'git fsck' to check the repository", h, err)
	default:
		r.Fail(h.String(), "blob %s is missing or corrupt (%v): not scanned; run 'git fsck' to check the repository", h, err)
	}
}

// stopped reports whether err is the scan's context ending.
func stopped(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
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

func (m *missingBlobs) report(ctx context.Context, r *scanner.Run, gs *gitSink) {
	m.mu.Lock() // a worker left behind by a stop may still add
	blobs := slices.Clone(m.blobs)
	m.mu.Unlock()
	if len(blobs) == 0 {
		return
	}
	gs.originsOf(blobs)
	var paths []string
	n := 0
	for _, h := range blobs {
		if gs.notNew(ctx, h) {
			continue // a boundary commit's: not read by the walk it replaced either
		}
		n++
		o, _ := gs.origin(h)
		paths = append(paths, o.path)
	}
	if n == 0 {
		return
	}
	slices.Sort(paths)
	paths = slices.Compact(paths)
	const show = 3
	more := ""
	if len(paths) > show {
		more = fmt.Sprintf(" and %d more paths", len(paths)-show)
		paths = paths[:show]
	}
	r.FailMany(int64(n), "", "partial clone: %d blob(s) were left out by the clone's filter and were not scanned (%s%s); to scan them, run 'git fetch --refetch' without a filter first, or scan the remote's URL", n, strings.Join(paths, ", "), more)
}
