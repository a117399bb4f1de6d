package scanner

import (
	"bytes"
	"context"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Attribution. Blobs are scanned under their hash, not their path: a blob
// is scanned once however many commits and paths hold it, and findings are
// mapped back to the first commit and path that held the blob. Archive
// entries come back as "<hash>!inner/file" and become "<path>!inner/file".

// blobOrigin is where a blob was first met: the index of its commit in the
// selection (-1 for a blob read only to compare against) and its path.
type blobOrigin struct {
	commit int
	path   string
}

// gitSink keeps the findings of blobs scanned under their hash, by blob,
// and passes warnings on at once with the blob's path and commit.
type gitSink struct {
	out     Sink
	commits []*commitNode // the selection, to name commits in warnings

	mu      sync.Mutex
	origins map[string]blobOrigin // by blob hash
	found   map[string][]Finding  // by blob hash; Path holds what follows the hash ("" or "!inner/file")
}

func newGitSink(out Sink) *gitSink {
	return &gitSink{out: out, origins: map[string]blobOrigin{}, found: map[string][]Finding{}}
}

// register records where a blob was first met and returns the label it is
// scanned under.
func (s *gitSink) register(h plumbing.Hash, o blobOrigin) string {
	label := h.String()
	s.mu.Lock()
	s.origins[label] = o
	s.mu.Unlock()
	return label
}

// split parses a label-based path: the blob hash and what follows it.
func (s *gitSink) split(p string) (hash string, rest string, o blobOrigin, ok bool) {
	if len(p) < 40 {
		return "", "", blobOrigin{}, false
	}
	s.mu.Lock()
	o, ok = s.origins[p[:40]]
	s.mu.Unlock()
	return p[:40], p[40:], o, ok
}

func (s *gitSink) Finding(f Finding) {
	hash, rest, _, ok := s.split(f.Path)
	if !ok {
		s.out.Finding(f) // not from a blob; cannot happen
		return
	}
	f.Path = rest
	s.mu.Lock()
	s.found[hash] = append(s.found[hash], f)
	s.mu.Unlock()
}

func (s *gitSink) Warning(w Warning) {
	if _, rest, o, ok := s.split(w.Path); ok {
		w.Path = o.path + rest
		if o.commit >= 0 && o.commit < len(s.commits) {
			w.Message += " (in commit " + shortHash(s.commits[o.commit].hash) + ")"
		}
	}
	s.out.Warning(w)
}

func shortHash(h plumbing.Hash) string { return h.String()[:7] }

// attributor turns the findings of the scanned blobs into one finding per
// key, at the commit that introduced it.
type attributor struct {
	g   *gitRepo
	r   *run
	gs  *gitSink
	sel *selection
	st  *streamer // for the few blobs read after the walk, to compare against

	boundaryTrees []*object.Tree
	headTree      *object.Tree
}

// occurrence is one finding in one scanned blob, at the blob's first
// commit and path.
type occurrence struct {
	f      Finding
	origin blobOrigin
}

func (a *attributor) attribute(ctx context.Context) []Finding {
	a.gs.mu.Lock()
	var occs []occurrence
	for hash, fs := range a.gs.found {
		o := a.gs.origins[hash]
		if o.commit < 0 {
			continue
		}
		for _, f := range fs {
			f.Path = o.path + f.Path
			occs = append(occs, occurrence{f: f, origin: o})
		}
	}
	a.gs.mu.Unlock()
	if len(occs) == 0 {
		return nil
	}

	// A key the commits just outside the selection already had at the same
	// path was not introduced by the selection: a range that edits another
	// line of a file with an old key does not report the old key.
	if len(a.sel.boundary) > 0 {
		for _, b := range a.sel.boundary {
			if t, err := object.GetTree(a.g.objs, b.tree); err == nil {
				a.boundaryTrees = append(a.boundaryTrees, t)
			}
		}
		kept := occs[:0]
		for _, o := range occs {
			if !a.inAny(ctx, a.boundaryTrees, o.origin.path, o.f.Fingerprint) {
				kept = append(kept, o)
			}
		}
		occs = kept
	}

	// One finding per key: where it first appeared. Within that commit,
	// every place it appeared is reported.
	first := map[string]int{}
	for _, o := range occs {
		if c, ok := first[o.f.Fingerprint]; !ok || o.origin.commit < c {
			first[o.f.Fingerprint] = o.origin.commit
		}
	}
	type place struct {
		fp, path, enc string
		line, col     int
	}
	seen := map[place]bool{}
	var out []Finding
	var paths []string // the path of each finding's blob
	for _, o := range occs {
		if o.origin.commit != first[o.f.Fingerprint] {
			continue
		}
		k := place{o.f.Fingerprint, o.f.Path, o.f.Encoding, o.f.Line, o.f.Column}
		if seen[k] {
			continue
		}
		seen[k] = true
		c := a.sel.commits[o.origin.commit]
		f := o.f
		f.Commit = c.hash.String()
		f.Author = c.author
		f.Email = c.email
		f.Date = c.date
		f.Message = c.subject
		out = append(out, f)
		paths = append(paths, o.origin.path)
	}

	inHead := a.headKeys(ctx, out, paths)
	for i := range out {
		b := inHead[out[i].Fingerprint]
		out[i].InHead = &b
	}
	SortFindings(out)
	return out
}

// headKeys returns the fingerprints of the keys that HEAD's tree holds,
// among those of findings: from every blob of HEAD that was scanned, and
// from HEAD's version of each finding's path (paths[i] is findings[i]'s).
func (a *attributor) headKeys(ctx context.Context, findings []Finding, paths []string) map[string]bool {
	keys := map[string]bool{}
	head, err := a.g.head()
	if err != nil || head.IsZero() {
		return keys
	}
	c, err := a.g.loadCommit(head)
	if err != nil {
		return keys
	}
	if a.headTree, err = object.GetTree(a.g.objs, c.tree); err != nil {
		return keys
	}
	blobs := map[plumbing.Hash]bool{}
	a.g.treeBlobs(a.headTree.Hash, blobs, map[plumbing.Hash]bool{})
	a.gs.mu.Lock()
	for hash, fs := range a.gs.found {
		if blobs[plumbing.NewHash(hash)] {
			for _, f := range fs {
				keys[f.Fingerprint] = true
			}
		}
	}
	a.gs.mu.Unlock()
	for i, f := range findings {
		if !keys[f.Fingerprint] && a.inAny(ctx, []*object.Tree{a.headTree}, paths[i], f.Fingerprint) {
			keys[f.Fingerprint] = true
		}
	}
	return keys
}

// treeBlobs adds every blob under tree h to blobs.
func (g *gitRepo) treeBlobs(h plumbing.Hash, blobs, trees map[plumbing.Hash]bool) {
	if trees[h] {
		return
	}
	trees[h] = true
	t, err := object.GetTree(g.objs, h)
	if err != nil {
		return
	}
	for _, e := range t.Entries {
		switch {
		case e.Mode.IsFile():
			blobs[e.Hash] = true
		case e.Mode == 0o040000:
			g.treeBlobs(e.Hash, blobs, trees)
		}
	}
}

// inAny reports whether the blob at path p in any of trees holds the key
// with fingerprint fp.
func (a *attributor) inAny(ctx context.Context, trees []*object.Tree, p, fp string) bool {
	for _, t := range trees {
		e, err := t.FindEntry(p)
		if err != nil || !e.Mode.IsFile() {
			continue
		}
		if a.fingerprints(ctx, e.Hash, p)[fp] {
			return true
		}
	}
	return false
}

// fingerprints returns the keys in a blob, scanning it if it was not.
func (a *attributor) fingerprints(ctx context.Context, h plumbing.Hash, p string) map[string]bool {
	label := h.String()
	a.gs.mu.Lock()
	_, scanned := a.gs.origins[label]
	a.gs.mu.Unlock()
	if !scanned {
		a.gs.register(h, blobOrigin{commit: -1, path: p})
		data, err := a.g.readBlob(h)
		if err != nil {
			a.r.fail(label, "blob %s is missing or corrupt (%v): not compared", h, err)
		} else if err := a.r.scanEntry(ctx, a.st, bytes.NewReader(data), bytes.NewReader(data), int64(len(data)), label, 0, newBudget(a.r.opts.Limits.TotalBytes)); err != nil && !isContextErr(err) {
			a.r.fail(label, "read error: %v", err)
		}
	}
	a.gs.mu.Lock()
	defer a.gs.mu.Unlock()
	out := map[string]bool{}
	for _, f := range a.gs.found[label] {
		out[f.Fingerprint] = true
	}
	return out
}

// byteGate bounds the bytes read ahead of the workers. One blob bigger
// than the bound still passes, alone.
type byteGate struct {
	mu    sync.Mutex
	cond  *sync.Cond
	used  int64
	max   int64
	ctx   context.Context
	after func() bool
}

func newByteGate(ctx context.Context, max int64) *byteGate {
	g := &byteGate{max: max, ctx: ctx}
	g.cond = sync.NewCond(&g.mu)
	g.after = context.AfterFunc(ctx, func() {
		g.mu.Lock()
		g.cond.Broadcast()
		g.mu.Unlock()
	})
	return g
}

// acquire waits until n more bytes fit; it returns false when the scan is
// cancelled.
func (g *byteGate) acquire(n int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.used > 0 && g.used+n > g.max {
		if g.ctx.Err() != nil {
			return false
		}
		g.cond.Wait()
	}
	if g.ctx.Err() != nil {
		return false
	}
	g.used += n
	return true
}

func (g *byteGate) release(n int64) {
	g.mu.Lock()
	g.used -= n
	g.cond.Broadcast()
	g.mu.Unlock()
}

func (g *byteGate) stop() { g.after() }
