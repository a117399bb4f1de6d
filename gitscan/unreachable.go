package gitscan

import (
	"context"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/scanner"
)

// Objects no commit reaches. A scan of everything answers "is this key
// anywhere in this .git": besides the commits no ref reaches (reflog.go)
// it reads every commit and annotated tag of the object database, for
// their messages, and every blob, for those no commit holds (a file added
// to the index and changed before the commit, a tree written by hand).
// Such a blob is reported with Unreachable set, no commit, and the path
// an index names it under, or else its hash.

// everything reports whether a scan of set reads the whole object
// database: every ref, no --since, no --skip (a blob no commit holds has no
// path a glob could match).
func everything(set revSet, r *scanner.Run) bool {
	return set.all && set.since.IsZero() && r.Options().Skip == nil
}

// listObjects reads every commit and annotated tag of the object
// database, scans their messages and lists them in g.notes: for a scan of
// every ref that does not sweep (scanEverything does it in its sweep).
func (g *gitRepo) listObjects(ctx context.Context, r *scanner.Run) {
	types := gitobj.TypesOf(plumbing.CommitObject, plumbing.TagObject)
	g.eachObject(ctx, r, types, nil, func(w *scanner.Worker, h plumbing.Hash, o gitobj.Object) {
		g.notes.object(ctx, r, w, h, o)
	})
}

// scanUnreachableBlobs scans the blobs of the object database that no
// selected commit holds (registered in gs): for a scan of everything that
// did not sweep them already.
func (g *gitRepo) scanUnreachableBlobs(ctx context.Context, r *scanner.Run, gs *gitSink) {
	gs.orphanPath = g.orphanPlace() // their warnings come after the walk, not held
	g.eachObject(ctx, r, gitobj.TypesOf(plumbing.BlobObject), gs.met, func(w *scanner.Worker, h plumbing.Hash, o gitobj.Object) {
		g.scanBlob(ctx, r, w, h, o)
	})
}

// eachObject calls fn with every object of the given types in the object
// database, except those skip accepts, on the scan's workers: a sweep of
// the packs, then the objects it did not deliver and the loose ones one by
// one. An object too big for a worker to hold reaches fn as a stream,
// which fn must close. A damaged object does not reach fn: a blob is
// scanned up to the damage, and any other is recorded for reportDamaged
// (damaged.go). A repository read only through go-git (a test's
// reference) is listed through go-git.
func (g *gitRepo) eachObject(ctx context.Context, r *scanner.Run, types gitobj.Types, skip func(plumbing.Hash) bool, fn func(w *scanner.Worker, h plumbing.Hash, o gitobj.Object)) {
	if g.tune.mode == readGoGit {
		g.eachGoGitObject(ctx, r, types, skip, fn)
		return
	}
	want := func(name []byte) bool { return skip == nil || !skip(plumbing.Hash(name)) }
	workers := make([]*scanner.Worker, r.Workers())
	for i := range workers {
		workers[i] = r.NewWorker()
	}
	o := gitobj.SweepOptions{Workers: len(workers), Types: types, Want: want, MaxSize: g.tune.sweepMax}
	res := g.store.Sweep(ctx, o, func(w int, h plumbing.Hash, typ plumbing.ObjectType, data []byte) {
		fn(workers[w], h, gitobj.Object{Type: typ, Size: int64(len(data)), Data: data})
	})
	var rest []plumbing.Hash
	for _, h := range append(res.Undelivered(), g.store.Loose()...) {
		if skip == nil || !skip(h) {
			rest = append(rest, h)
		}
	}
	g.readEach(ctx, r, rest, func(w *scanner.Worker, rd *gitobj.Reader, h plumbing.Hash) {
		o, err := rd.Open(h) // streamed when big: fn reads what it needs and closes it
		switch {
		case err != nil:
			g.readDamaged(ctx, r, w, rd, h, types, err)
		case typeIn(types, o.Type):
			fn(w, h, o)
		case o.Stream != nil:
			o.Stream.Close()
		}
	})
}

// eachGoGitObject is eachObject through go-git's iterators, on one worker.
func (g *gitRepo) eachGoGitObject(ctx context.Context, r *scanner.Run, types gitobj.Types, skip func(plumbing.Hash) bool, fn func(w *scanner.Worker, h plumbing.Hash, o gitobj.Object)) {
	w := r.NewWorker()
	for _, typ := range []plumbing.ObjectType{plumbing.CommitObject, plumbing.TagObject, plumbing.BlobObject} {
		if !typeIn(types, typ) {
			continue
		}
		iter, err := g.st.IterEncodedObjects(typ)
		if err != nil {
			continue
		}
		iter.ForEach(func(o plumbing.EncodedObject) error {
			if ctx.Err() != nil {
				return storer.ErrStop
			}
			if skip != nil && skip(o.Hash()) {
				return nil
			}
			rd, err := o.Reader()
			if err != nil {
				return nil
			}
			data, err := io.ReadAll(rd)
			rd.Close()
			if err == nil {
				fn(w, o.Hash(), gitobj.Object{Type: typ, Size: int64(len(data)), Data: data})
			}
			return nil
		})
	}
}

// typeIn reports whether types holds t.
func typeIn(types gitobj.Types, t plumbing.ObjectType) bool {
	return types&gitobj.TypesOf(t) != 0
}

// orphanFindings reports the keys of scanned blobs that no selected
// commit holds, when no other finding reports the key in a file (known).
// Each is at the path an index of the repository names the blob under, or
// else at the blob's hash.
func (a *attributor) orphanFindings(ctx context.Context, known map[string]bool) []finding.Finding {
	a.gs.mu.Lock()
	found := maps.Clone(a.gs.found)
	a.gs.mu.Unlock()
	orphans := map[plumbing.Hash][]finding.Finding{}
	for h, fs := range found {
		if !a.gs.met(h) {
			orphans[h] = fs
		}
	}
	if len(orphans) == 0 {
		return nil
	}
	var names map[plumbing.Hash]string
	var held map[plumbing.Hash]refHeld
	var out []finding.Finding
	for h, fs := range orphans {
		for _, f := range fs {
			if known[f.Fingerprint] {
				continue
			}
			if names == nil {
				names = a.g.indexNames()
				held, _ = a.g.refHeldObjects(ctx, nil)
			}
			if at, ok := held[h]; ok {
				// A blob a ref holds with no commit between: with the ref.
				f.Path = a.gs.placeOf(h, at.place, f.Path)
				f.Exposure = &finding.Exposure{ReachableFrom: finding.ReachRefs, RefCount: 1, Refs: []finding.RefExposure{{Name: at.ref, InTip: true}}}
				out = append(out, f)
				continue
			}
			p, ok := names[h]
			if !ok {
				p = h.String()
			}
			f.Path = a.gs.placeOf(h, p, f.Path)
			f.Unreachable = true
			no := false
			f.InHead = &no
			out = append(out, f)
		}
	}
	return out
}

// orphanPlace returns the path of a blob no commit holds, as
// orphanFindings gives it: where an index of the repository names it, or
// else its hash. The indexes are read at its first call.
func (g *gitRepo) orphanPlace() func(plumbing.Hash) string {
	var (
		once  sync.Once
		names map[plumbing.Hash]string
	)
	return func(h plumbing.Hash) string {
		once.Do(func() { names = g.indexNames() })
		if p, ok := names[h]; ok {
			return p
		}
		return h.String()
	}
}

// indexNames maps each blob the repository's indexes (its own and each
// linked worktree's) name to its path there.
func (g *gitRepo) indexNames() map[plumbing.Hash]string {
	files := []string{filepath.Join(g.loc.GitDir, "index"), filepath.Join(g.loc.CommonDir, "index")}
	if wts, err := os.ReadDir(filepath.Join(g.loc.CommonDir, "worktrees")); err == nil {
		for _, wt := range wts {
			files = append(files, filepath.Join(g.loc.CommonDir, "worktrees", wt.Name(), "index"))
		}
	}
	names := map[plumbing.Hash]string{}
	for _, f := range files {
		idx, _, err := readIndex(f)
		if err != nil || idx == nil {
			continue
		}
		for _, e := range idx.Entries {
			if _, ok := names[e.Hash]; !ok {
				names[e.Hash] = finding.ValidPath(e.Name)
			}
		}
	}
	return names
}

// extraFindings reports what attribute does not: the keys in commit and
// tag messages, and those in blobs no commit holds whose key no file
// finding reports (files).
func (a *attributor) extraFindings(ctx context.Context, set revSet, files []finding.Finding) []finding.Finding {
	if ctx.Err() != nil {
		return nil
	}
	known := make(map[string]bool, len(files))
	for _, f := range files {
		known[f.Fingerprint] = true
	}
	out := a.messageFindings(set)
	return append(out, a.orphanFindings(ctx, known)...)
}
