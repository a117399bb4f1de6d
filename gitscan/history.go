package gitscan

import (
	"bufio"
	"bytes"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// GitOptions choose the commits a history scan reads. The zero value reads
// every commit reachable from every ref, as `git rev-list --all` lists them
// (branches, remote-tracking branches, tags, notes, the stash), plus HEAD
// and the older stash entries.
type GitOptions struct {
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

// RefUpdate is one line of git's pre-push input: what a push would change
// on the remote.
type RefUpdate struct {
	LocalRef, LocalHash, RemoteRef, RemoteHash string
}

// ParsePrePush reads the lines git writes to a pre-push hook's standard
// input, "<local ref> <local sha> <remote ref> <remote sha>", one per ref
// pushed. Blank lines are skipped.
func ParsePrePush(rd io.Reader) ([]RefUpdate, error) {
	var out []RefUpdate
	sc := bufio.NewScanner(rd)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 4 {
			return nil, fmt.Errorf("pre-push input, line %d: want \"<local ref> <local sha> <remote ref> <remote sha>\", got %d fields", n, len(f))
		}
		out = append(out, RefUpdate{LocalRef: f[0], LocalHash: f[1], RemoteRef: f[2], RemoteHash: f[3]})
	}
	return out, sc.Err()
}

// isZeroID reports whether id is git's all-zero object name, which in
// pre-push input means "no such ref": a new branch or a deletion.
func isZeroID(id string) bool {
	return id == "" || strings.Trim(id, "0") == ""
}

// ScanGit scans the history of a repository: every blob reachable from the
// chosen commits is read and scanned once, however many commits hold it,
// and each finding is attributed to the commit that introduced it (see
// Finding's git fields). A key is one finding, at the oldest commit and
// path that held it, whatever happened to it later (renames, edits of
// other lines, merges). Archives and encoded keys inside blobs are found as
// in ScanPaths. A missing or corrupt object gives a warning and the scan
// goes on (the blobs a partial clone left out share one warning); a
// shallow clone gives one warning that history is cut. An empty repository
// gives no findings.
//
// A scan of every ref reads the packs in their own order and walks the
// commits and trees only to attribute findings or name the paths of
// warnings (see scanEverything): then an object missing from a repository
// that is not a partial clone is not noticed when nothing else calls for
// the walk. Checking a repository's integrity is git fsck's job.
func (s *Scanner) ScanGit(ctx context.Context, repo *Repository, opts GitOptions, sink Sink) (Stats, error) {
	g, err := repo.open()
	if err != nil {
		return Stats{}, err
	}
	defer g.close()
	set := revSet{all: len(opts.Refs) == 0, since: opts.Since}
	for _, rev := range opts.Refs {
		h, err := g.resolve(rev)
		if err != nil {
			return Stats{}, err
		}
		set.include = append(set.include, h)
	}
	for _, rev := range opts.Exclude {
		h, err := g.resolve(rev)
		if err != nil {
			return Stats{}, err
		}
		set.exclude = append(set.exclude, h)
	}
	return s.scanHistory(ctx, g, set, sink)
}

// ScanPush scans the commits a push would send, given git's pre-push
// updates: for each updated ref, the commits reachable from its new local
// commit and not from the remote's old one. A new branch (remote sha all
// zeros), or a remote commit this clone does not have, is measured
// against every remote-tracking branch instead. Deletions send nothing.
func (s *Scanner) ScanPush(ctx context.Context, repo *Repository, updates []RefUpdate, sink Sink) (Stats, error) {
	g, err := repo.open()
	if err != nil {
		return Stats{}, err
	}
	defer g.close()
	var set revSet
	for _, u := range updates {
		if isZeroID(u.LocalHash) {
			continue
		}
		h, err := g.resolve(u.LocalHash)
		if err != nil {
			return Stats{}, err
		}
		set.include = append(set.include, h)
		if isZeroID(u.RemoteHash) {
			set.excludeRemotes = true
			continue
		}
		if rh, err := g.resolve(u.RemoteHash); err == nil {
			set.exclude = append(set.exclude, rh)
		} else {
			set.excludeRemotes = true
		}
	}
	if len(set.include) == 0 {
		return Stats{}, nil
	}
	return s.scanHistory(ctx, g, set, sink)
}

// revSet is a set of commits in git's terms: reachable from include (or
// from every ref when all is set) and not from exclude (nor from any
// remote-tracking branch when excludeRemotes is set), committed at or
// after since.
type revSet struct {
	all            bool
	include        []plumbing.Hash
	exclude        []plumbing.Hash
	excludeRemotes bool
	since          time.Time
}

// commitNode is what a scan keeps of a commit.
type commitNode struct {
	hash      plumbing.Hash
	tree      plumbing.Hash
	parents   []plumbing.Hash
	when      time.Time // committer time: the order of the walk
	author    string
	email     string
	date      time.Time // author time: what git log shows
	subject   string    // first line of the message
	described bool      // author, date and subject are read
	shallow   bool      // the clone was cut here: its parents are not in the repository
}

// selection is the commits a scan reads, oldest first, and the commits
// just outside it whose content is not reported as new.
type selection struct {
	commits  []*commitNode // parents before children, then oldest committer time first
	boundary []*commitNode // parents of selected commits that are not selected
	shallow  int           // selected commits whose parents were cut by a shallow clone
}

// tips lists the commits every ref points at, for a scan of everything:
// branches, remote-tracking branches, tags (annotated ones peeled), notes,
// refs/stash and the older stash entries in its reflog, and a detached
// HEAD.
func (g *gitRepo) tips(remotesOnly bool) ([]plumbing.Hash, error) {
	refs, err := g.st.IterReferences()
	if err != nil {
		return nil, fmt.Errorf("cannot list the refs: %w", err)
	}
	var out []plumbing.Hash
	err = refs.ForEach(func(ref *plumbing.Reference) error {
		if ref.Type() != plumbing.HashReference || (remotesOnly && !ref.Name().IsRemote()) {
			return nil
		}
		h, err := g.peelToCommit(ref.Hash())
		if err == nil && !h.IsZero() {
			out = append(out, h)
		}
		// A ref to a missing object is reported when the walk reaches it,
		// and not at all when it points at a tree or blob.
		if err != nil {
			out = append(out, ref.Hash())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if remotesOnly {
		return out, nil
	}
	if h, err := g.head(); err == nil && !h.IsZero() {
		out = append(out, h)
	}
	out = append(out, g.stashes()...)
	return out, nil
}

// stashes reads the stash's reflog: refs/stash is only the newest entry.
func (g *gitRepo) stashes() []plumbing.Hash {
	f, err := os.Open(filepath.Join(g.loc.CommonDir, "logs", "refs", "stash"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []plumbing.Hash
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && plumbing.IsHash(fields[1]) && !isZeroID(fields[1]) {
			out = append(out, plumbing.NewHash(fields[1]))
		}
	}
	return out
}

// loadCommit reads what a walk needs of a commit: its tree, parents and
// committer time. describe adds what a report shows.
func (g *gitRepo) loadCommit(h plumbing.Hash) (*commitNode, error) {
	if g.crd != nil {
		// A cache of its own: commits are read once, all before the
		// trees, and would push the trees out of theirs.
		if typ, data, err := g.crd.read(h); err == nil {
			if typ != plumbing.CommitObject {
				return nil, plumbing.ErrObjectNotFound // as go-git says
			}
			return parseCommitHead(h, data)
		}
	}
	return g.decodeCommit(h)
}

// decodeCommit reads a commit whole, with go-git.
func (g *gitRepo) decodeCommit(h plumbing.Hash) (*commitNode, error) {
	obj, err := g.objs.EncodedObject(plumbing.CommitObject, h)
	if err != nil {
		return nil, err
	}
	c, err := object.DecodeCommit(g.objs, obj)
	if err != nil {
		return nil, err
	}
	subject, _, _ := strings.Cut(strings.TrimLeft(c.Message, "\n"), "\n")
	return &commitNode{
		hash:      h,
		tree:      c.TreeHash,
		parents:   c.ParentHashes,
		when:      c.Committer.When,
		author:    c.Author.Name,
		email:     c.Author.Email,
		date:      c.Author.When,
		subject:   strings.TrimSpace(subject),
		described: true,
	}, nil
}

// describe fills in the author, date and subject of a commit loaded by
// loadCommit: only commits with findings need them.
func (g *gitRepo) describe(c *commitNode) {
	if c.described {
		return
	}
	c.described = true
	if d, err := g.decodeCommit(c.hash); err == nil {
		c.author, c.email, c.date, c.subject = d.author, d.email, d.date, d.subject
	}
}

var errBadCommit = errors.New("malformed commit")

// parseCommitHead reads a commit's tree, parents and committer time the
// way go-git's decoder does: the tree first, then the parents, each a
// full hash; the author, then the committer, only in those places.
func parseCommitHead(h plumbing.Hash, data []byte) (*commitNode, error) {
	c := &commitNode{hash: h}
	next := func() []byte {
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 {
			line := data
			data = nil
			return line
		}
		line := data[:nl]
		data = data[nl+1:]
		return line
	}
	header := func(line []byte) (string, []byte) {
		k, v, _ := bytes.Cut(line, []byte{' '})
		return string(k), v
	}
	line := next()
	k, v := header(line)
	if k != "tree" || !plumbing.IsHash(string(v)) {
		return nil, fmt.Errorf("%w: no tree first", errBadCommit)
	}
	c.tree = plumbing.NewHash(string(v))
	line = next()
	for k, v = header(line); k == "parent" && len(line) > 0; k, v = header(line) {
		if !plumbing.IsHash(string(v)) {
			return nil, fmt.Errorf("%w: bad parent", errBadCommit)
		}
		c.parents = append(c.parents, plumbing.NewHash(string(v)))
		line = next()
	}
	if k == "author" && len(line) > 0 {
		line = next()
		k, v = header(line)
	}
	if k == "committer" && len(line) > 0 {
		c.when = signatureTime(v)
	}
	return c, nil
}

// signatureTime reads the time of "Name <email> 1700000000 +0100", as
// go-git's Signature.Decode does; the zone does not matter for ordering.
func signatureTime(b []byte) time.Time {
	open, close := bytes.LastIndexByte(b, '<'), bytes.LastIndexByte(b, '>')
	if open < 0 || close < open || close+2 >= len(b) {
		return time.Time{}
	}
	b = b[close+2:]
	if sp := bytes.IndexByte(b, ' '); sp >= 0 {
		b = b[:sp]
	}
	ts, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(ts, 0)
}

// reach loads every commit reachable from tips by a walk over parents,
// leaving out those in stop. A commit that cannot be read is reported once
// and its history is not followed.
func (g *gitRepo) reach(ctx context.Context, r *run, tips []plumbing.Hash, stop map[plumbing.Hash]*commitNode, shallow map[plumbing.Hash]bool, broken map[plumbing.Hash]bool) (map[plumbing.Hash]*commitNode, error) {
	seen := map[plumbing.Hash]*commitNode{}
	queue := append([]plumbing.Hash(nil), tips...)
	for len(queue) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if _, ok := seen[h]; ok {
			continue
		}
		if _, ok := stop[h]; ok {
			continue
		}
		if broken[h] {
			continue
		}
		c, err := g.loadCommit(h)
		if err != nil {
			broken[h] = true
			r.fail("", "commit %s is missing or corrupt (%v): it and the history behind it were not scanned; run 'git fsck' to check the repository", h, err)
			continue
		}
		c.shallow = shallow[h]
		seen[h] = c
		if !c.shallow {
			queue = append(queue, c.parents...)
		}
	}
	return seen, nil
}

// selectCommits lists the commits of set, oldest first.
func (g *gitRepo) selectCommits(ctx context.Context, r *run, set revSet) (*selection, error) {
	shallow := map[plumbing.Hash]bool{}
	if hs, err := g.st.Shallow(); err == nil {
		for _, h := range hs {
			shallow[h] = true
		}
	}
	include := set.include
	if set.all {
		tips, err := g.tips(false)
		if err != nil {
			return nil, err
		}
		include = append(include, tips...)
	}
	exclude := set.exclude
	if set.excludeRemotes {
		tips, err := g.tips(true)
		if err != nil {
			return nil, err
		}
		exclude = append(exclude, tips...)
	}
	broken := map[plumbing.Hash]bool{}
	excluded, err := g.reach(ctx, r, exclude, nil, shallow, broken)
	if err != nil {
		return nil, err
	}
	reached, err := g.reach(ctx, r, include, excluded, shallow, broken)
	if err != nil {
		return nil, err
	}
	sel := &selection{}
	chosen := map[plumbing.Hash]*commitNode{}
	for h, c := range reached {
		if set.since.IsZero() || !c.when.Before(set.since) {
			chosen[h] = c
			if c.shallow {
				sel.shallow++
			}
		}
	}
	sel.commits = topoOrder(chosen)
	inBoundary := map[plumbing.Hash]bool{}
	for _, c := range sel.commits {
		for _, p := range c.parents {
			if _, ok := chosen[p]; ok || inBoundary[p] {
				continue
			}
			b := reached[p]
			if b == nil {
				b = excluded[p]
			}
			if b != nil {
				inBoundary[p] = true
				sel.boundary = append(sel.boundary, b)
			}
		}
	}
	return sel, nil
}

// topoOrder sorts commits so that parents come before their children and,
// among the commits free to come next, the oldest committer time first
// (then the hash, so that the order is the same on every run). Clock skew
// cannot put a child before its parent.
func topoOrder(nodes map[plumbing.Hash]*commitNode) []*commitNode {
	pending := make(map[plumbing.Hash]int, len(nodes))
	children := make(map[plumbing.Hash][]*commitNode, len(nodes))
	for _, c := range nodes {
		for _, p := range c.parents {
			if _, ok := nodes[p]; ok {
				pending[c.hash]++
				children[p] = append(children[p], c)
			}
		}
	}
	ready := &commitHeap{}
	for _, c := range nodes {
		if pending[c.hash] == 0 {
			*ready = append(*ready, c)
		}
	}
	heap.Init(ready)
	out := make([]*commitNode, 0, len(nodes))
	for ready.Len() > 0 {
		c := heap.Pop(ready).(*commitNode)
		out = append(out, c)
		for _, ch := range children[c.hash] {
			if pending[ch.hash]--; pending[ch.hash] == 0 {
				heap.Push(ready, ch)
			}
		}
	}
	return out
}

type commitHeap []*commitNode

func (h commitHeap) Len() int { return len(h) }
func (h commitHeap) Less(i, j int) bool {
	if !h[i].when.Equal(h[j].when) {
		return h[i].when.Before(h[j].when)
	}
	return h[i].hash.String() < h[j].hash.String()
}
func (h commitHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *commitHeap) Push(x any)   { *h = append(*h, x.(*commitNode)) }
func (h *commitHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// scanHistory scans the blobs the commits of set introduced and reports
// each key once, at the commit that introduced it. It works in three
// steps: a walk of the trees, each tree once, oldest commit first, finds
// the blobs that are new and where each was first met; the blobs are read
// and scanned, in whatever order reads them fastest; the findings are
// attributed to commits.
func (s *Scanner) scanHistory(ctx context.Context, g *gitRepo, set revSet, sink Sink) (Stats, error) {
	gs := newGitSink(sink)
	r := s.newRun(gs)
	g.mode = s.gitRead
	if g.mode == readGoGit {
		g.useGoGit()
	}
	if g.mode == readAuto && g.store != nil && len(g.store.packs) > 0 && set.all && len(set.exclude) == 0 &&
		!set.excludeRemotes && set.since.IsZero() && r.opts.Skip == nil {
		return s.scanEverything(ctx, g, r, gs, set, sink)
	}
	sel, err := g.selectCommits(ctx, r, set)
	if err != nil {
		return r.stats(), err
	}
	w := g.walkHistory(ctx, r, gs, sel)
	if ctx.Err() == nil {
		g.scanBlobs(ctx, r, gs, w.blobs)
	}
	return s.finish(ctx, g, r, gs, sel, sink)
}

// scanEverything scans a whole repository, history and garbage alike: a
// scan of every ref reads nearly every blob of the packs anyway, so it
// sweeps them all at once, and walks the commits and trees only when it
// must: to attribute a finding, to name the path of a warning, or to list
// the blobs a partial clone lacks. A repository without keys is scanned in
// about the time git takes to read its objects. Findings and warnings of
// blobs no commit holds (garbage not yet pruned) are dropped.
func (s *Scanner) scanEverything(ctx context.Context, g *gitRepo, r *run, gs *gitSink, set revSet, sink Sink) (Stats, error) {
	gs.hold()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	loose := g.store.looseObjects()
	// In a partial clone the sweep reads the trees and commits too, to
	// find what the clone's filter left out (git_partial.go).
	var holes *holeFinder
	kinds := typesOf(plumbing.BlobObject)
	if g.isPartialClone() {
		holes = newHoleFinder(g.store, loose, r.opts.workers())
		kinds = typesOf(plumbing.BlobObject, plumbing.TreeObject, plumbing.CommitObject)
	}
	swept := make(chan *sweepResult, 1)
	go func() { swept <- g.sweepKinds(sctx, r, kinds, holes) }()

	walk := false
	var (
		res     *sweepResult
		scanned map[plumbing.Hash]bool
	)
	select {
	case <-gs.trigger:
		walk = true // a finding: walk while the sweep goes on
	case res = <-swept:
		// Big blobs the sweep leaves, and loose objects.
		var complete bool
		scanned, complete = g.scanUnswept(ctx, r, append(res.undelivered(), loose...), holes)
		walk = !complete || gs.triggered() || (holes != nil && holes.broken.Load())
	}
	if !walk {
		if err := ctx.Err(); err != nil {
			return r.stats(), err
		}
		if holes != nil {
			holes.report(r)
		}
		if hs, err := g.st.Shallow(); err == nil && len(hs) > 0 {
			r.warn("", "shallow clone: history is cut at %d commit(s), so older commits were not scanned; run 'git fetch --unshallow' to scan all of it", len(hs))
		}
		gs.release()
		return r.stats(), nil
	}
	sel, err := g.selectCommits(ctx, r, set)
	if err != nil {
		if res == nil {
			cancel()
			<-swept
		}
		return r.stats(), err
	}
	w := g.walkHistory(ctx, r, gs, sel)
	if res == nil {
		res = <-swept
	}
	if ctx.Err() == nil {
		g.scanRest(ctx, r, gs, w.blobs, res, scanned)
	}
	gs.release()
	return s.finish(ctx, g, r, gs, sel, sink)
}

// walkHistory walks the trees of the selection, each once, oldest commit
// first, and registers each blob the selection introduced.
func (g *gitRepo) walkHistory(ctx context.Context, r *run, gs *gitSink, sel *selection) *treeWalker {
	gs.commits = sel.commits
	if sel.shallow > 0 {
		r.warn("", "shallow clone: history is cut at %d commit(s), so older commits were not scanned; run 'git fetch --unshallow' to scan all of it", sel.shallow)
	}
	w := newTreeWalker(g, r, gs)
	// Content the boundary commits already had is not new in the selection:
	// mark it seen without scanning it.
	for _, b := range sel.boundary {
		w.walk(ctx, b.tree, "", -1)
	}
	for i, c := range sel.commits {
		if ctx.Err() != nil {
			break
		}
		w.walk(ctx, c.tree, "", i)
	}
	w.seenTrees, w.seenBlobs = nil, nil // free them before the blobs are read
	return w
}

// finish attributes the findings and reports them.
func (s *Scanner) finish(ctx context.Context, g *gitRepo, r *run, gs *gitSink, sel *selection, sink Sink) (Stats, error) {
	if err := ctx.Err(); err != nil {
		return r.stats(), err
	}
	a := &attributor{g: g, r: r, gs: gs, sel: sel, st: newStreamer(finder{cfg: r.opts.Rules})}
	findings := a.attribute(ctx)
	for _, f := range findings {
		sink.Finding(f)
	}
	st := r.stats()
	st.Findings = int64(len(findings))
	return st, ctx.Err()
}

// maxInFlight caps the bytes of blobs read and waiting for a worker, and
// bigBlob is the size from which a blob is streamed by the reader itself
// instead of being held in memory for a worker.
const (
	maxInFlight = 64 << 20
	bigBlob     = 32 << 20
)

// treeWalker walks commit trees, each tree once, and lists every blob it
// has not met before, registering the first commit and path that reached
// it.
type treeWalker struct {
	g         *gitRepo
	r         *run
	gs        *gitSink
	seenTrees map[plumbing.Hash]struct{}
	seenBlobs map[plumbing.Hash]struct{}
	blobs     []plumbing.Hash // to scan, in the order met
}

func newTreeWalker(g *gitRepo, r *run, gs *gitSink) *treeWalker {
	return &treeWalker{g: g, r: r, gs: gs, seenTrees: map[plumbing.Hash]struct{}{}, seenBlobs: map[plumbing.Hash]struct{}{}}
}

// walk walks the tree h found at prefix in commit number commit (-1 for a
// boundary commit, whose blobs are marked seen but not scanned).
func (w *treeWalker) walk(ctx context.Context, h plumbing.Hash, prefix string, commit int) {
	if _, ok := w.seenTrees[h]; ok || ctx.Err() != nil {
		return
	}
	w.seenTrees[h] = struct{}{}
	err := w.g.treeEntries(h, func(name []byte, mode filemode.FileMode, eh plumbing.Hash) {
		w.entry(ctx, prefix, name, mode, eh, commit)
	})
	if err != nil && commit >= 0 {
		w.r.fail(strings.TrimSuffix(prefix, "/"), "tree %s is missing or corrupt (%v): its files were not scanned; run 'git fsck' to check the repository", h, err)
	}
}

func (w *treeWalker) entry(ctx context.Context, prefix string, name []byte, mode filemode.FileMode, h plumbing.Hash, commit int) {
	skip := w.r.opts.Skip
	switch {
	case mode.IsFile():
		if _, ok := w.seenBlobs[h]; ok {
			return
		}
		p := prefix + string(name)
		if skip != nil && commit >= 0 && skip(p, false) {
			w.r.skipped.Add(1) // not marked seen: the blob may come again at another path
			return
		}
		w.seenBlobs[h] = struct{}{}
		if commit >= 0 {
			w.gs.register(h, blobOrigin{commit: commit, path: validName(p)})
			w.blobs = append(w.blobs, h)
		}
	case mode == filemode.Dir:
		if _, seen := w.seenTrees[h]; seen {
			return
		}
		p := prefix + string(name)
		if skip != nil && commit >= 0 && skip(p, true) {
			w.r.skipped.Add(1)
			return
		}
		w.walk(ctx, h, p+"/", commit)
	}
	// Submodules (gitlinks) are other repositories: not read.
}

// treeEntries calls fn with each entry of tree h, in order. The name is
// only valid during the call.
func (g *gitRepo) treeEntries(h plumbing.Hash, fn func(name []byte, mode filemode.FileMode, h plumbing.Hash)) error {
	if g.rd != nil {
		typ, data, err := g.rd.read(h)
		if err == nil && typ == plumbing.TreeObject {
			return parseTree(data, fn)
		}
		if err == nil {
			return plumbing.ErrObjectNotFound // not a tree, as go-git says
		}
	}
	t, err := object.GetTree(g.objs, h)
	if err != nil {
		return err
	}
	for _, e := range t.Entries {
		fn([]byte(e.Name), e.Mode, e.Hash)
	}
	return nil
}

var errBadTree = errors.New("malformed tree")

// parseTree calls fn with each entry of a tree object's content: "<octal
// mode> <name>\x00<20-byte hash>", repeated.
func parseTree(data []byte, fn func(name []byte, mode filemode.FileMode, h plumbing.Hash)) error {
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		if sp <= 0 || sp > 7 {
			return errBadTree
		}
		var mode uint32
		for _, c := range data[:sp] {
			if c < '0' || c > '7' {
				return errBadTree
			}
			mode = mode<<3 | uint32(c-'0')
		}
		data = data[sp+1:]
		nul := bytes.IndexByte(data, 0)
		if nul < 0 || len(data) < nul+1+hashLen {
			return errBadTree
		}
		var h plumbing.Hash
		copy(h[:], data[nul+1:nul+1+hashLen])
		fn(data[:nul], filemode.FileMode(mode), h)
		data = data[nul+1+hashLen:]
	}
	return nil
}

// readBlob reads a blob whole.
func (g *gitRepo) readBlob(h plumbing.Hash) ([]byte, error) {
	if g.rd != nil {
		if typ, data, err := g.rd.read(h); err == nil && typ == plumbing.BlobObject {
			return data, nil
		}
	}
	obj, err := g.objs.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		return nil, err
	}
	return readObject(obj)
}

// readObject reads an object's content whole.
func readObject(obj plumbing.EncodedObject) ([]byte, error) {
	rd, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	data := make([]byte, obj.Size())
	if _, err := io.ReadFull(rd, data); err != nil {
		return nil, err
	}
	return data, nil
}
