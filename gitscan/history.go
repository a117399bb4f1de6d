package gitscan

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/scanner"
)

// HistoryOptions choose the commits a history scan reads. The zero value reads
// every commit reachable from every ref, as `git rev-list --all` lists them
// (branches, remote-tracking branches, tags, notes, the stash), plus HEAD
// and the older stash entries.
type HistoryOptions struct {
	// Refs are the revisions to start from: branches, tags, remote-tracking
	// branches, full ref names or commits. Empty means every ref.
	Refs []string
	// Exclude are revisions whose history is left out, as the A of A..B:
	// only what the other commits introduced is reported.
	Exclude []string
	// Since leaves out commits whose committer date is before it; what the
	// older commits held is not reported as introduced by the newer ones.
	Since time.Time
}

// ScanHistory scans the history of a repository: every blob reachable from the
// chosen commits is read and scanned once, however many commits hold it,
// and each finding is attributed to the commit that introduced it (see
// finding.Finding's git fields). A key is one finding, at the oldest commit and
// path that held it, whatever happened to it later (renames, edits of
// other lines, merges). Archives and encoded keys inside blobs are found as
// in a folder. A missing or corrupt object gives a warning and the scan
// goes on (the blobs a partial clone left out share one warning); a
// shallow clone gives one warning that history is cut. An empty repository
// gives no findings.
//
// A scan of every ref reads the packs in their own order and walks the
// commits and trees only to attribute findings or name the paths of
// warnings (see scanEverything): then an object missing from a repository
// that is not a partial clone is not noticed when nothing else calls for
// the walk. Checking a repository's integrity is git fsck's job.
func ScanHistory(ctx context.Context, s *scanner.Scanner, repo *Repository, opts HistoryOptions, sink scanner.Sink) (finding.Stats, error) {
	return scanHistoryTuned(ctx, s, repo, opts, sink, tuning{})
}

func scanHistoryTuned(ctx context.Context, s *scanner.Scanner, repo *Repository, opts HistoryOptions, sink scanner.Sink, t tuning) (finding.Stats, error) {
	g, err := repo.open(t)
	if err != nil {
		return finding.Stats{}, err
	}
	defer g.close()
	set := revSet{all: len(opts.Refs) == 0, since: opts.Since}
	for _, rev := range opts.Refs {
		h, err := g.resolve(rev)
		if err != nil {
			return finding.Stats{}, err
		}
		set.include = append(set.include, h)
		set.tags = append(set.tags, g.tagChain(rev)...)
	}
	for _, rev := range opts.Exclude {
		h, err := g.resolve(rev)
		if err != nil {
			return finding.Stats{}, err
		}
		set.exclude = append(set.exclude, h)
	}
	return scanHistory(ctx, s, g, set, sink)
}

// revSet is a set of commits in git's terms: reachable from include (or
// from every ref when all is set) and not from exclude (nor from any
// remote-tracking branch when excludeRemotes is set: remote's only, when
// remote names one, and none when noRemote is set), committed at or after
// since.
type revSet struct {
	all            bool
	include        []plumbing.Hash
	exclude        []plumbing.Hash
	excludeRemotes bool
	remote         string
	noRemote       bool
	since          time.Time
	tags           []plumbing.Hash // annotated tags named by include's revisions: their messages are scanned too
}

// scanHistory scans the blobs the commits of set introduced and reports
// each key once, at the commit that introduced it. It works in three
// steps: a walk of the trees, each tree once, oldest commit first, finds
// the blobs that are new and where each was first met; the blobs are read
// and scanned, in whatever order reads them fastest; the findings are
// attributed to commits.
func scanHistory(ctx context.Context, s *scanner.Scanner, g *gitRepo, set revSet, sink scanner.Sink) (finding.Stats, error) {
	gs := newGitSink(sink)
	gs.heads.s = g.store
	r := s.Start(gs)
	g.warnDamaged(r)
	g.warnBigHead(r)
	if set.all {
		g.reportKeyedRefNames(r)
	}
	if g.tune.mode == readAuto && g.store.Packed() > 0 && set.all && len(set.exclude) == 0 &&
		!set.excludeRemotes && set.since.IsZero() && r.Options().Skip == nil {
		return scanEverything(ctx, g, r, gs, set, sink)
	}
	gs.hold()
	sel, err := g.selectCommits(ctx, r, set)
	if err == nil && g.octopusRefused.Load() > 0 {
		// This scan reads only what its walk selects (a range, a ref,
		// --since, a push, a repository of loose objects): it would pass
		// over the commits only the refused merges reach.
		how := "scan the whole repository with 'loftyscan git' (without --range, --ref or --since), which reads every object"
		if set.all && set.since.IsZero() {
			how = "this scan reads only what its walk selects (the repository's objects are loose, or paths are skipped): pack them with 'git repack -ad' and scan without skipped paths, which reads every object"
		}
		err = fmt.Errorf("%w: the commits only those merges reach would be left out, so the scan stopped; %s", errOctopusLinks, how)
	}
	if err != nil {
		return r.Stats(), err
	}
	w := g.walkHistory(ctx, r, gs, sel)
	if !set.all {
		g.scanCommitMessages(ctx, r, sel.commits, set.tags)
	}
	if ctx.Err() == nil {
		g.scanBlobs(ctx, r, gs, w.blobs)
	}
	if set.all && ctx.Err() == nil {
		// Then every commit and tag of the object database (their
		// messages, and the commits no ref reaches) and the blobs of the
		// commits only a reflog or nothing reaches: after the refs'
		// blobs, so that an object that cannot be read (a loose object
		// that blocks) costs none of the refs' findings.
		g.listObjects(ctx, r)
		hidden := g.walkHidden(ctx, r, gs, sel, set.since, unselected(sel, g.notes.commits))
		if ctx.Err() == nil {
			g.scanBlobs(ctx, r, gs, hidden)
		}
	}
	// The warnings about blobs of selected commits, now that the walks
	// know where each is; those of blobs no commit holds pass on at once,
	// under the blob's hash.
	gs.release(ctx)
	if everything(set, r) && ctx.Err() == nil {
		g.scanUnreachableBlobs(ctx, r, gs)
		g.searchTreesNoWalkMet(ctx, r, gs)
	}
	g.reportDamaged(r)
	return finish(ctx, g, r, gs, sel, set, sink)
}

// scanEverything scans a whole repository, history and garbage alike: a
// scan of every ref reads nearly every blob of the packs anyway, so it
// sweeps them all at once, with every commit and tag for their messages,
// and walks the commits and trees only when it must: to attribute a
// finding, to name the path of a warning, or to list the blobs a partial
// clone lacks. A repository without keys is scanned in about the time git
// takes to read its objects. Keys in objects no commit reaches are
// reported as unreachable (unreachable.go), and so are warnings about
// blobs no commit holds; objects that cannot be read wholly are named
// whether a commit reaches them or not (damaged.go).
func scanEverything(ctx context.Context, g *gitRepo, r *scanner.Run, gs *gitSink, set revSet, sink scanner.Sink) (finding.Stats, error) {
	gs.hold()
	gs.orphanPath = g.orphanPlace()
	defer paceCollector()()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	loose := g.store.Loose()
	// The sweep reads the trees too, for the keys in their names
	// (names.go), and in a partial clone to find what the clone's filter
	// left out (partial.go).
	trees := &sweptTrees{}
	if g.isPartialClone() {
		trees.holes = newHoleFinder(g.store, r.Workers())
	}
	holes := trees.holes
	types := gitobj.TypesOf(plumbing.BlobObject, plumbing.TreeObject, plumbing.CommitObject, plumbing.TagObject)
	// The progress display's total: the blobs of the packs, as planned,
	// and the loose objects, some of which are blobs.
	r.AddTotal(int64(len(loose)))
	planned := func(byType [8]int) {
		r.AddTotal(int64(byType[plumbing.BlobObject]))
		g.packedCommits.Store(int64(byType[plumbing.CommitObject]))
		g.notes.expect(byType[plumbing.CommitObject])
	}
	swept := make(chan *gitobj.SweepResult, 1)
	go func() { swept <- g.sweep(sctx, r, types, nil, trees, planned) }()

	// The commits are selected from the first finding on, beside the
	// sweep: what they are does not depend on what it finds (in a history
	// of selectAfterSweep commits or more, after it: see there). The walk
	// waits for the sweep and the blobs it leaves, so that it knows every
	// key the packs hold: exposure then compares the trees in step with it
	// (exposure_early.go). Stopped (a signal, --timeout) with findings in
	// hand, the selection and the walk get a short while more, so that
	// the report can say where the keys are.
	wctx, cancelWalk := graceAfter(ctx, stoppedWalkGrace)
	defer cancelWalk()
	selecting := g.selectAtFinding(wctx, sctx, r, gs, set)
	res := <-swept
	scanned, complete := g.scanUnswept(ctx, r, append(res.Undelivered(), loose...), trees)
	walk := !complete || gs.triggered() || trees.named.Load() || (holes != nil && holes.broken.Load())
	if !walk {
		selecting.settle()
		if err := ctx.Err(); err != nil {
			return r.Stats(), err
		}
		if holes != nil {
			holes.report(r)
		}
		if n := len(g.shallowCommits()); n > 0 {
			warnShallow(r, n)
		}
		gs.release(ctx)
		return r.Stats(), nil
	}
	sel, err := selecting.wait()
	if err != nil {
		if ctx.Err() != nil {
			return finish(ctx, g, r, gs, nil, set, sink)
		}
		return r.Stats(), err
	}
	// The sweep has listed every commit; those no ref reaches are walked
	// after the others. The list is cut to them first, so as not to hold
	// a name for every commit through the walk.
	dangling := unselected(sel, g.notes.commits)
	g.notes.commits = nil
	w := g.walkHistoryExposing(wctx, r, gs, sel, g.startExposure(ctx, r, gs, sel), res.DeliveredAt)
	w.blobs = append(w.blobs, g.walkHidden(ctx, r, gs, sel, set.since, dangling)...)
	if ctx.Err() == nil {
		g.searchOrphanNames(ctx, r, gs, trees)
		g.scanRest(ctx, r, gs, w.blobs, res, scanned)
	}
	gs.release(ctx)
	g.reportDamaged(r)
	return finish(ctx, g, r, gs, sel, set, sink)
}

// pendingSelection is the selection of a scan of everything: started at
// the first finding, beside the sweep, or when the walk asks for it.
type pendingSelection struct {
	once    sync.Once
	started atomic.Bool
	done    chan struct{}
	sel     *selection
	err     error
	run     func()
}

// selectAfterSweep is the number of commits, as the sweep plans them,
// from which a scan of everything selects them after the sweep rather
// than beside it. The sweep's plan (190 MB at two million commits of a
// thousand files) and the selection's walk (a 64-byte node a commit, and
// the list of commits) both grow with the history: made at
// once they were the peak of the scan's memory, 1,188 MiB at two million
// commits, over the 1,084 of its pack's mapping and 256 MiB; one after
// the other, the peak is the larger of them. Below it, the selection is
// made beside the sweep, on the core the sweep's workers leave, for the
// wall time: a million commits peak at 645 MiB, under their 669. The
// cost above it: a scan stopped (a signal, --timeout) during the sweep
// has only the walk's short grace to select, so its report may not say
// where the keys it found are.
const selectAfterSweep = 1 << 20

// selectAtFinding starts selecting the commits of set, with ctx, when gs
// gets its first finding or held warning, unless sweeping (sctx) ends
// first or the sweep planned selectAfterSweep commits or more: wait then
// starts it.
func (g *gitRepo) selectAtFinding(ctx, sctx context.Context, r *scanner.Run, gs *gitSink, set revSet) *pendingSelection {
	p := &pendingSelection{done: make(chan struct{})}
	p.run = func() { p.sel, p.err = g.selectCommits(ctx, r, set) }
	after := int64(selectAfterSweep)
	if g.tune.selectAfter != 0 {
		after = g.tune.selectAfter
	}
	go func() {
		select {
		case <-gs.trigger:
		case <-sctx.Done():
			// Both may be ready by the time this runs (a loaded machine),
			// and select takes either: a finding made while sweeping
			// still starts the selection here.
			if !gs.triggered() {
				return
			}
		}
		// The sweep plans before it delivers anything, so the count is
		// known by the first finding.
		if g.packedCommits.Load() >= after {
			return
		}
		if seen := g.tune.seen; seen != nil {
			seen.selectedBeside.Store(true)
		}
		p.start()
	}()
	return p
}

func (p *pendingSelection) start() {
	p.once.Do(func() {
		p.started.Store(true)
		go func() {
			defer close(p.done)
			p.run()
		}()
	})
}

// wait returns the selection, starting it if no finding did.
func (p *pendingSelection) wait() (*selection, error) {
	p.start()
	<-p.done
	return p.sel, p.err
}

// settle waits for a selection that was started, before the repository
// it reads is closed.
func (p *pendingSelection) settle() {
	if p.started.Load() {
		<-p.done
	}
}

// stoppedWalkGrace is how long the walk that attributes findings may go on
// once the scan is stopped: well within the second the CLI gives a stopped
// scan to return.
const stoppedWalkGrace = 300 * time.Millisecond

// graceAfter returns a context that ends d after ctx does.
func graceAfter(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	gctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(d, cancel) })
	return gctx, func() {
		stop()
		cancel()
	}
}

func warnShallow(r *scanner.Run, cut int) {
	r.Warn("", "shallow clone: history is cut at %d commit(s), so older commits were not scanned; run 'git fetch --unshallow' to scan all of it", cut)
}

// finish attributes the findings, says where each key went, and reports
// them. A stopped scan still reports what it found, as far as it can tell
// where (attributor.stopped).
func finish(ctx context.Context, g *gitRepo, r *scanner.Run, gs *gitSink, sel *selection, set revSet, sink scanner.Sink) (finding.Stats, error) {
	a := &attributor{g: g, r: r, gs: gs, sel: sel, w: r.NewWorker()}
	if err := ctx.Err(); err != nil {
		for _, f := range append(a.stopped(), a.nameFindings()...) {
			sink.Finding(f)
		}
		return r.Stats(), err
	}
	fs := a.attribute(ctx)
	fs = append(fs, a.extraFindings(ctx, set, fs)...)
	a.expose(ctx, fs, !everything(set, r))
	fs = append(fs, a.nameFindings()...)
	for _, f := range fs {
		sink.Finding(f)
	}
	return r.Stats(), ctx.Err()
}
