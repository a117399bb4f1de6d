package gitscan

import (
	"context"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/scanner"
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
// and the warnings about blobs until the walk has said where each blob
// was first met (release); other warnings pass on at once.
type gitSink struct {
	out     scanner.Sink
	commits []commitNode // the selection, to name commits in warnings
	names   *gitobj.Names

	// Where blobs were met: the history walk (walk.go), once it is done,
	// which works out paths on demand, one goroutine at a time (under
	// walkMu: a worker a stopped scan left behind, see readEach, may still
	// warn); and blobs registered by hand (a staged scan's, those read
	// only to compare), which may be asked from any goroutine, under mu.
	walk   *historyWalk
	walkMu sync.Mutex

	mu      sync.Mutex
	origins map[plumbing.Hash]blobOrigin
	found   map[plumbing.Hash][]finding.Finding // Path holds what follows the hash in the label ("" or "!inner/file")
	held    bool                                // keep the warnings of blobs until release
	// orphanPath, when set, is the path of a blob no commit holds, at
	// which its warnings are passed on: as orphanFindings places its
	// keys. Safe for concurrent use.
	orphanPath func(plumbing.Hash) string
	pending    []finding.Warning
	trigger    chan struct{} // closed at the first finding or held warning
	fired      bool

	messages map[msgKey][]finding.Finding // findings of commit and tag messages (messages.go)
	nameHits []nameHit                    // the keys found in the names the walk meets (names.go)
	heads    blobHeads                    // to name what compressed blobs hold (naming.go)
}

// fire closes trigger, once; s.mu is held.
func (s *gitSink) fire() {
	if !s.fired {
		s.fired = true
		close(s.trigger)
	}
}

// triggered reports whether a finding or a held warning came.
func (s *gitSink) triggered() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fired
}

// hold keeps the warnings about blobs until release: a blob read before
// the tree walk met it has no path yet to report them under, and paths are
// worked out by one goroutine.
func (s *gitSink) hold() {
	s.mu.Lock()
	s.held = true
	s.mu.Unlock()
}

// release passes the held warnings on, with their blobs' paths, and drops
// those of blobs a boundary commit already had. Those of blobs no commit
// holds (garbage not yet pruned) are passed on at orphanPath's path, when
// it is set (a scan of everything, which reports their keys too), and
// else dropped. It is called once the walk is done, from the goroutine
// that made it.
func (s *gitSink) release(ctx context.Context) {
	s.mu.Lock()
	pending := s.pending
	s.held, s.pending = false, nil
	s.mu.Unlock()
	var hs []plumbing.Hash
	for _, w := range pending {
		if isBlobLabel(w.Path) {
			hs = append(hs, plumbing.NewHash(w.Path[:40]))
		}
	}
	s.originsOf(hs)
	for _, w := range pending {
		h, rest, _, ok := s.split(w.Path)
		switch {
		case ok && !s.notNew(ctx, h):
			s.Warning(w)
		case !ok && s.orphanPath != nil && isBlobLabel(w.Path):
			s.out.Warning(s.orphanWarning(w, h, rest, ctx.Err() == nil))
		}
	}
}

// orphanWarning is warning w about blob h, which no commit the walk met
// holds, at orphanPath's path (rest is what follows the blob's label:
// the path inside it); sure says that the walk was not cut short, so that
// no commit holds the blob.
func (s *gitSink) orphanWarning(w finding.Warning, h plumbing.Hash, rest string, sure bool) finding.Warning {
	w.Path = s.placeOf(h, s.orphanPath(h), rest)
	if sure {
		w.Message += " (a blob no commit holds)"
	}
	return w
}

// notNew reports whether blob h, met by the walk, is content a boundary
// commit already had.
func (s *gitSink) notNew(ctx context.Context, h plumbing.Hash) bool {
	if s.walk == nil {
		return false
	}
	s.walkMu.Lock()
	defer s.walkMu.Unlock()
	return s.walk.inBoundary(ctx, h)
}

// originsOf has the walk work out the origins of many blobs at once (see
// historyWalk.originsOf), before origin asks for each.
func (s *gitSink) originsOf(hs []plumbing.Hash) {
	if s.walk == nil || len(hs) == 0 {
		return
	}
	s.walkMu.Lock()
	defer s.walkMu.Unlock()
	s.walk.originsOf(hs)
}

func newGitSink(out scanner.Sink) *gitSink {
	return &gitSink{out: out, origins: map[plumbing.Hash]blobOrigin{}, found: map[plumbing.Hash][]finding.Finding{}, trigger: make(chan struct{})}
}

// register records where a blob was met, for blobs the walk does not
// register. The blob is scanned under its hash, in hex, as its label.
func (s *gitSink) register(h plumbing.Hash, o blobOrigin) {
	s.mu.Lock()
	s.origins[h] = o
	s.mu.Unlock()
}

// met reports whether blob h has an origin: registered by hand, or met by
// the history walk. Unlike origin, it works out no path.
func (s *gitSink) met(h plumbing.Hash) bool {
	s.mu.Lock()
	_, ok := s.origins[h]
	s.mu.Unlock()
	if ok || s.walk == nil {
		return ok
	}
	s.walkMu.Lock()
	defer s.walkMu.Unlock()
	return s.walk.met(h)
}

// origin returns where blob h was first met.
func (s *gitSink) origin(h plumbing.Hash) (blobOrigin, bool) {
	s.mu.Lock()
	o, ok := s.origins[h]
	s.mu.Unlock()
	if ok || s.walk == nil {
		return o, ok
	}
	s.walkMu.Lock()
	defer s.walkMu.Unlock()
	return s.walk.origin(h)
}

// split parses a label-based path: the blob hash, what follows it, and
// where the blob was first met.
func (s *gitSink) split(p string) (h plumbing.Hash, rest string, o blobOrigin, ok bool) {
	if !isBlobLabel(p) {
		return h, "", blobOrigin{}, false
	}
	h = plumbing.NewHash(p[:40])
	o, ok = s.origin(h)
	return h, p[40:], o, ok
}

// Finding keeps f under its blob's hash. The blob's origin may not be
// known yet: a sweep can read a blob before the tree walk meets it.
func (s *gitSink) Finding(f finding.Finding) {
	if s.messageFinding(f) || s.refFinding(f) || s.nameFinding(f) {
		return
	}
	if !isBlobLabel(f.Path) {
		s.out.Finding(f) // not from a blob; cannot happen
		return
	}
	h := plumbing.NewHash(f.Path[:40])
	f.Path = f.Path[40:]
	s.mu.Lock()
	s.found[h] = append(s.found[h], f)
	s.fire()
	s.mu.Unlock()
}

func (s *gitSink) Warning(w finding.Warning) {
	if mw, ok := messageWarning(w); ok {
		s.out.Warning(mw)
		return
	}
	s.mu.Lock()
	if s.held && isBlobLabel(w.Path) {
		s.pending = append(s.pending, w)
		s.fire()
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	if h, rest, o, ok := s.split(w.Path); ok {
		w.Path = s.placeOf(h, o.path, rest)
		if o.commit >= 0 && o.commit < len(s.commits) {
			w.Message += " (in commit " + shortHash(s.names.Hash(s.commits[o.commit].hash)) + ")"
		}
	} else if isBlobLabel(w.Path) && s.orphanPath != nil {
		w = s.orphanWarning(w, h, rest, true) // the walk is over
	}
	s.out.Warning(w)
}

// Skipped passes on a quiet skip: its path is a path in a tree, not a
// blob's label.
func (s *gitSink) Skipped(w finding.Warning) { scanner.Skipped(s.out, w) }

// isBlobLabel reports whether p is a blob's label, or a path inside one:
// its hash, then nothing or "!".
func isBlobLabel(p string) bool {
	if len(p) < 40 || (len(p) > 40 && p[40] != '!') {
		return false
	}
	for _, c := range []byte(p[:40]) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func shortHash(h plumbing.Hash) string { return h.String()[:7] }

// attributor turns the findings of the scanned blobs into one finding per
// key, at the commit that introduced it.
type attributor struct {
	g   *gitRepo
	r   *scanner.Run
	gs  *gitSink
	sel *selection
	w   *scanner.Worker // for the few blobs read after the walk, to compare against
	// For a selection whose boundary holds commits left out for their
	// age (selection.aged): the boundary commits each selected commit
	// descends from, and the blobs of each one's tree, once asked.
	lineage map[int][]int32
	held    map[int32]map[plumbing.Hash]bool
}

// occurrence is one finding in one scanned blob, at the blob's first
// commit and path.
type occurrence struct {
	f      finding.Finding
	origin blobOrigin
	blob   plumbing.Hash // the blob, and f.Path in it ("" or "!inner/file")
	rest   string
}

func (a *attributor) attribute(ctx context.Context) []finding.Finding {
	occs, _ := a.occurrences(ctx, true)
	if len(occs) == 0 {
		return nil
	}
	occs = a.otherPlaces(ctx, occs)

	// A key the commits just outside the selection already had at the same
	// path was not introduced by the selection: a range that edits another
	// line of a file with an old key does not report the old key.
	if len(a.sel.boundary) > 0 {
		var trees []plumbing.Hash
		for _, b := range a.sel.boundary {
			trees = append(trees, a.sel.tree(&b))
		}
		kept := occs[:0]
		for _, o := range occs {
			if a.sel.aged {
				trees = trees[:0]
				for _, b := range a.boundaryOf(o.origin.commit) {
					trees = append(trees, a.sel.tree(a.sel.parent(b)))
				}
			}
			if !a.inAny(ctx, trees, o.origin.path, o.f.Fingerprint, !a.counts(o.f, o.f.Path)) {
				kept = append(kept, o)
			}
		}
		occs = kept
	}

	out, paths := a.first(occs)
	inHead := a.headKeys(ctx, out, paths)
	for i := range out {
		b := inHead[out[i].Fingerprint]
		out[i].InHead = &b
	}
	finding.Sort(out)
	return out
}

// occurrences lists the findings of the scanned blobs that the selection
// introduced, each at its blob's first commit and path, and the blobs with
// findings whose origin the walk had not met (only a stopped scan has
// those). With boundary set, blobs a boundary commit already held are left
// out (gitSink.notNew: a walk of the boundary's trees, which a stopped
// scan does not make).
func (a *attributor) occurrences(ctx context.Context, boundary bool) (occs []occurrence, unmet map[plumbing.Hash][]finding.Finding) {
	a.gs.mu.Lock()
	found := make(map[plumbing.Hash][]finding.Finding, len(a.gs.found))
	for h, fs := range a.gs.found {
		found[h] = fs
	}
	a.gs.mu.Unlock()
	hs := make([]plumbing.Hash, 0, len(found))
	for h := range found {
		hs = append(hs, h)
	}
	a.gs.originsOf(hs)
	for hash, fs := range found {
		o, ok := a.gs.origin(hash)
		if !ok {
			if unmet == nil {
				unmet = map[plumbing.Hash][]finding.Finding{}
			}
			unmet[hash] = fs
			continue
		}
		if o.commit < 0 || (boundary && !a.scopedToPaths(fs) && a.gs.notNew(ctx, hash) && a.heldBefore(ctx, o.commit, hash)) {
			continue // a blob no selected commit introduced, or one read to compare
		}
		for _, f := range fs {
			rest := f.Path
			f.Path = a.gs.placeOf(hash, o.path, rest)
			occs = append(occs, occurrence{f: f, origin: o, blob: hash, rest: rest})
		}
	}
	return occs, unmet
}

// heldBefore reports whether a boundary commit that selected commit c
// descends from held blob h, which some boundary commit holds
// (gitSink.notNew): any of them, unless the selection is aged.
//
// A --since selection's boundary holds the commits left out for their age
// wherever they are (on another branch, in a reflog, unreachable): the
// content one of them held is not new to the commits that descend from it
// (an edit of another line of a file with an old key does not report the
// key), but it is to a commit that adds it on a line of history of its
// own, as 'git log --since -p' shows it adding it. A boundary of commits
// an excluded one reaches (a range, a push) is what the base or the server
// already has, whichever commit descends from it.
func (a *attributor) heldBefore(ctx context.Context, c int, h plumbing.Hash) bool {
	if !a.sel.aged {
		return true
	}
	for _, b := range a.boundaryOf(c) {
		blobs, ok := a.held[b]
		if !ok {
			if a.held == nil {
				a.held = map[int32]map[plumbing.Hash]bool{}
			}
			blobs = map[plumbing.Hash]bool{}
			a.g.treeBlobsSeen(ctx, a.sel.tree(a.sel.parent(b)), blobs, map[plumbing.Hash]bool{})
			a.held[b] = blobs
		}
		if blobs[h] {
			return true
		}
	}
	return false
}

// boundaryOf returns the boundary commits (as edges: negative) that
// selected commit c descends from through selected commits.
func (a *attributor) boundaryOf(c int) []int32 {
	if bs, ok := a.lineage[c]; ok {
		return bs
	}
	if a.lineage == nil {
		a.lineage = map[int][]int32{}
	}
	var out []int32
	seen := map[int32]bool{int32(c): true}
	stack := []int32{int32(c)}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, p := range a.sel.parents(&a.sel.commits[i]) {
			if seen[p] {
				continue
			}
			seen[p] = true
			if p < 0 {
				out = append(out, p)
			} else {
				stack = append(stack, p)
			}
		}
	}
	a.lineage[c] = out
	return out
}

// first keeps one finding per key: where it first appeared, with its
// commit. Within that commit, every place it appeared is kept. When every
// place there is suppressed (an allow comment, an ignore entry for a
// fixture's path) and the key appeared unsuppressed later, it is kept
// there too: a suppressed place hides no other. paths[i] is the path of
// out[i]'s blob.
func (a *attributor) first(occs []occurrence) (out []finding.Finding, paths []string) {
	first, counting := map[string]int{}, map[string]int{}
	for _, o := range occs {
		fp := o.f.Fingerprint
		if c, ok := first[fp]; !ok || o.origin.commit < c {
			first[fp] = o.origin.commit
		}
		if !a.counts(o.f, o.f.Path) {
			continue
		}
		if c, ok := counting[fp]; !ok || o.origin.commit < c {
			counting[fp] = o.origin.commit
		}
	}
	type place struct {
		fp, path, enc string
		line, col     int
	}
	seen := map[place]bool{}
	for _, o := range occs {
		if c, ok := counting[o.f.Fingerprint]; o.origin.commit != first[o.f.Fingerprint] && (!ok || o.origin.commit != c) {
			continue
		}
		k := place{o.f.Fingerprint, o.f.Path, o.f.Encoding, o.f.Line, o.f.Column}
		if seen[k] {
			continue
		}
		seen[k] = true
		c := &a.sel.commits[o.origin.commit]
		h := a.sel.hash(c)
		d := a.g.describe(h)
		f := o.f
		f.Commit = h.String()
		f.Author = d.author
		f.Email = d.email
		f.Date = d.date
		f.Message = finding.RedactText(d.subject)
		if f.Location == finding.InPath {
			// An archive's entry's name: exposure, which says what reaches
			// the other findings, passes over names.
			f.Unreachable = c.reach == reachNothing
		}
		out = append(out, f)
		paths = append(paths, o.origin.path)
	}
	return out, paths
}

// maxPlaceVisits bounds the entries otherPlaces looks at: it walks the
// selection's trees again, folders held under several names too.
const maxPlaceVisits = 1 << 22

// otherPlaces adds to occs, for each blob that holds a key the settings
// suppress at some paths only, and where the blob was first met, the first
// place the selection adds the same blob at a path where the key is not
// suppressed: a fixture's file copied or renamed out of its ignored
// folder, or added under two names at once. A blob is read once, at the
// first path the walk meets it, so without this the copy would be hidden
// behind the fixture. It walks the selection's commits again from the
// first such blob's, only when there is one.
func (a *attributor) otherPlaces(ctx context.Context, occs []occurrence) []occurrence {
	scoped, suppresses := a.r.Options().ScopedToPaths, a.r.Options().Suppresses
	if scoped == nil || suppresses == nil || a.sel == nil {
		return occs
	}
	v := &placeVisitor{want: map[plumbing.Hash][]occurrence{}, skip: a.r.Options().Skip, suppresses: suppresses, place: a.gs.placeOf}
	from := len(a.sel.commits)
	for _, o := range occs {
		if o.f.Suppressed == "" && o.origin.commit >= 0 && scoped(o.f.Fingerprint) && suppresses(o.f.Fingerprint, o.f.Path) {
			v.want[o.blob] = append(v.want[o.blob], o)
			from = min(from, o.origin.commit)
		}
	}
	if len(v.want) == 0 {
		return occs
	}
	d := treeDiff{g: a.g, memo: &treeMemo{}}
	for c := from; c < len(a.sel.commits) && ctx.Err() == nil && len(v.want) > 0 && v.visits < maxPlaceVisits; c++ {
		v.commit = c
		d.commit(a.sel, c, v)
	}
	return append(occs, v.found...)
}

// placeVisitor is otherPlaces' walk: it notes where the blobs wanted are
// added at a path where their findings count.
type placeVisitor struct {
	want       map[plumbing.Hash][]occurrence // the blobs, with their findings at their first place
	found      []occurrence
	commit     int
	visits     int
	skip       func(string, bool) bool
	suppresses func(fingerprint, path string) bool
	place      func(h plumbing.Hash, p, rest string) string // gitSink.placeOf
}

func (v *placeVisitor) tree(_ gitobj.Loc, path []byte) bool {
	v.visits++
	return v.visits < maxPlaceVisits && (len(path) == 0 || v.skip == nil || !v.skip(string(path), true))
}

func (v *placeVisitor) blob(l gitobj.Loc, path []byte) bool {
	v.visits++
	wanted, ok := v.want[l.Hash()]
	if !ok || v.skip != nil && v.skip(string(path), false) {
		return v.visits >= maxPlaceVisits
	}
	p := finding.ValidPath(string(path))
	kept := wanted[:0]
	for _, o := range wanted {
		placed := o.f
		placed.Path = v.place(o.blob, p, o.rest)
		if o.origin.commit <= v.commit && !v.suppresses(placed.Fingerprint, placed.Path) {
			v.found = append(v.found, occurrence{f: placed, origin: blobOrigin{commit: v.commit, path: p}, blob: o.blob, rest: o.rest})
			continue
		}
		kept = append(kept, o)
	}
	if len(kept) == 0 {
		delete(v.want, l.Hash())
	} else {
		v.want[l.Hash()] = kept
	}
	return len(v.want) == 0 || v.visits >= maxPlaceVisits
}

// scopedToPaths reports whether one of fs, a blob's findings, is of a key
// that the settings suppress at some paths only (scanner.Options
// .ScopedToPaths): content a boundary commit held is not old to the
// selection at another path then (a copy or a rename of an ignored
// fixture to config/), and each path is compared with the boundary's.
func (a *attributor) scopedToPaths(fs []finding.Finding) bool {
	scoped := a.r.Options().ScopedToPaths
	if scoped == nil {
		return false
	}
	for _, f := range fs {
		if scoped(f.Fingerprint) {
			return true
		}
	}
	return false
}

// counts reports whether finding f, at path (as reported), counts: no
// allow comment on its line (unless --no-inline-allow, which the scanner
// applied) and no ignore entry for its path (scanner.Options.Suppresses).
func (a *attributor) counts(f finding.Finding, path string) bool {
	if f.Suppressed != "" {
		return false
	}
	s := a.r.Options().Suppresses
	return s == nil || !s(f.Fingerprint, path)
}

// stopped is attribute for a scan that was stopped (a signal, --timeout):
// it reports what was found without reading more than the commits named.
// A key is reported at the first commit and path the walk met its blob at,
// with in_head unknown, and without the check that the commits just
// outside a range did not already hold it. A key in a blob the walk had
// not met yet is named in a warning: its path and commit are unknown.
func (a *attributor) stopped() []finding.Finding {
	occs, unmet := a.occurrences(context.Background(), false)
	var out []finding.Finding
	if a.sel != nil {
		out, _ = a.first(occs)
	}
	for h, fs := range unmet {
		fps := map[string]bool{}
		for _, f := range fs {
			if !fps[f.Fingerprint] {
				fps[f.Fingerprint] = true
				a.r.Warn("", "blob %s holds a key (fingerprint %s), not in the report: the scan was stopped before a commit holding the blob was found; 'git log --all --find-object=%s' names it", h, f.Fingerprint, h)
			}
		}
	}
	finding.Sort(out)
	return out
}

// headKeys returns the fingerprints of the keys that HEAD's tree holds,
// among those of findings: from every blob of HEAD that was scanned, and
// from HEAD's version of each finding's path (paths[i] is findings[i]'s).
func (a *attributor) headKeys(ctx context.Context, findings []finding.Finding, paths []string) map[string]bool {
	keys := map[string]bool{}
	head, err := a.g.head()
	if err != nil || head.IsZero() {
		return keys
	}
	tree, err := a.g.commitTree(head)
	if err != nil {
		return keys
	}
	blobs := map[plumbing.Hash]bool{}
	a.g.treeBlobs(ctx, tree, blobs)
	a.gs.mu.Lock()
	for h, fs := range a.gs.found {
		if blobs[h] {
			for _, f := range fs {
				keys[f.Fingerprint] = true
			}
		}
	}
	a.gs.mu.Unlock()
	for i, f := range findings {
		if !keys[f.Fingerprint] && a.inAny(ctx, []plumbing.Hash{tree}, paths[i], f.Fingerprint, true) {
			keys[f.Fingerprint] = true
		}
	}
	return keys
}

// inAny reports whether the blob at path p in any of the trees holds the
// key with fingerprint fp: at any place when all is set, else at one that
// counts (see fingerprints).
func (a *attributor) inAny(ctx context.Context, trees []plumbing.Hash, p, fp string, all bool) bool {
	for _, t := range trees {
		mode, h, ok := a.g.findEntry(t, p)
		if !ok || !mode.IsFile() {
			continue
		}
		if a.fingerprints(ctx, h, p, all)[fp] {
			return true
		}
	}
	return false
}

// fingerprints returns the keys in a blob at path p, scanning it if it
// was not: all of them, or those of its places that count (see counts).
// A key a parent held only where it was suppressed (an allow comment, an
// ignored path) is new to a commit that adds it where it is not; a
// suppressed place of it is not.
func (a *attributor) fingerprints(ctx context.Context, h plumbing.Hash, p string, all bool) map[string]bool {
	if _, scanned := a.gs.origin(h); !scanned {
		a.gs.register(h, blobOrigin{commit: -1, path: p})
		if o, err := readForScan(a.g.rd, h); err != nil {
			a.g.blobFailed(a.r, h, err, false)
		} else {
			a.g.scanBlob(ctx, a.r, a.w, h, o)
		}
	}
	a.gs.mu.Lock()
	fs := a.gs.found[h]
	a.gs.mu.Unlock()
	out := map[string]bool{}
	for _, f := range fs {
		if all || a.counts(f, a.gs.placeOf(h, p, f.Path)) {
			out[f.Fingerprint] = true
		}
	}
	return out
}
