package gitscan

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/config"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/internal/nonblock"
	"github.com/loftyscan/loftyscan/scanner"
)

// Pre-receive: what a push adds to a server's repository, read from what
// git tells a pre-receive hook. The hook runs after git has received the
// push's objects and before it updates any ref; the objects are in a
// quarantine folder until the hook accepts the push (see git-receive-pack's
// "Quarantine Environment"), so they are read from there, with the
// repository's own folder as an alternate.

// ErrSHA256 is wrapped when the repository uses SHA-256 object names,
// which loftyscan cannot read.
var ErrSHA256 = errors.New("the repository uses SHA-256 object names, which loftyscan does not read yet")

// PushedRef is one line of git's pre-receive input: a ref the push
// creates, moves or deletes.
type PushedRef struct {
	Old, New string // object names; all zeros for a ref created (Old) or deleted (New)
	Ref      string // the full ref name: refs/heads/main, refs/tags/v1.0
}

// Deleted reports whether the push deletes the ref.
func (p PushedRef) Deleted() bool { return isZeroID(p.New) }

// maxPushLines bounds the pre-receive input: a push of every ref of a big
// mirror is tens of thousands of lines; a million is not a push.
const maxPushLines = 1 << 20

// ParsePreReceive reads the lines git writes to a pre-receive hook's
// standard input, "<old> <new> <ref>", one per ref pushed. Blank lines
// are skipped. Object names of 64 hex digits (a SHA-256 repository) give
// ErrSHA256.
func ParsePreReceive(rd io.Reader) ([]PushedRef, error) {
	var out []PushedRef
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<10) // a ref name is at most 4 KiB in practice
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if len(out) >= maxPushLines {
			return nil, fmt.Errorf("pre-receive input: more than %d refs", maxPushLines)
		}
		f := strings.SplitN(line, " ", 3)
		if len(f) != 3 || f[2] == "" {
			return nil, fmt.Errorf("pre-receive input, line %d: want \"<old> <new> <ref>\"", n)
		}
		for _, id := range f[:2] {
			if len(id) == 64 && isHex(id) {
				return nil, ErrSHA256
			}
			if len(id) != 40 || !isHex(id) {
				return nil, fmt.Errorf("pre-receive input, line %d: %q is not an object name", n, id)
			}
		}
		out = append(out, PushedRef{Old: f[0], New: f[1], Ref: f[2]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("pre-receive input: %w", err)
	}
	return out, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Quarantine says where a pre-receive hook finds the pushed objects.
type Quarantine struct {
	// ObjectDir is the quarantine folder git receives the push into
	// (GIT_OBJECT_DIRECTORY); empty outside a quarantine (git before 2.11,
	// or a hook run by hand), when the objects are in the repository.
	ObjectDir string
	// Alternates are the other object folders git reads the push with
	// (GIT_ALTERNATE_OBJECT_DIRECTORIES): the repository's own.
	Alternates []string
}

// QuarantineFromEnv reads the quarantine git sets up for a pre-receive
// hook from its environment. Relative folders are taken from the current
// folder, where git runs the hook.
func QuarantineFromEnv(getenv func(string) string) (Quarantine, error) {
	q := Quarantine{ObjectDir: getenv("GIT_OBJECT_DIRECTORY")}
	alts, err := parseAlternates(getenv("GIT_ALTERNATE_OBJECT_DIRECTORIES"), filepath.ListSeparator)
	if err != nil {
		return q, fmt.Errorf("GIT_ALTERNATE_OBJECT_DIRECTORIES: %w", err)
	}
	q.Alternates = alts
	return q, nil
}

// parseAlternates splits a list of object folders as git does: on sep
// (':', or ';' on Windows), where an entry that starts with a double quote
// is a C-style quoted path, which may hold sep.
func parseAlternates(s string, sep rune) ([]string, error) {
	var out []string
	for s != "" {
		var entry string
		if s[0] == '"' {
			end := 1
			for end < len(s) && s[end] != '"' {
				if s[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(s) {
				return nil, errors.New("a quoted path has no closing quote")
			}
			p, err := strconv.Unquote(s[:end+1])
			if err != nil {
				return nil, fmt.Errorf("a quoted path cannot be read: %w", err)
			}
			entry, s = p, s[end+1:]
			if s != "" && rune(s[0]) != sep {
				return nil, errors.New("a quoted path is followed by more than a separator")
			}
		} else {
			i := strings.IndexRune(s, sep)
			if i < 0 {
				i = len(s)
			}
			entry, s = s[:i], s[i:]
		}
		s = strings.TrimPrefix(s, string(sep))
		if entry != "" {
			out = append(out, entry)
		}
	}
	return out, nil
}

// dirs lists the object folders to read a push from: the quarantine, its
// alternates, then the repository's own folder (which git names among the
// alternates already; the store opens each folder once).
func (q Quarantine) dirs(repo *Repository) []string {
	own := filepath.Join(repo.CommonDir, "objects")
	if q.ObjectDir == "" {
		return []string{own}
	}
	out := []string{absFrom(q.ObjectDir)}
	for _, a := range q.Alternates {
		out = append(out, absFrom(a))
	}
	return append(out, own)
}

func absFrom(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// PushScan is what a pre-receive scan did.
type PushScan struct {
	Stats finding.Stats
	// Commits counts the new commits: reachable from what the push sets
	// refs to and from no ref the repository has, whether the push sent
	// them or the repository held them unreachable. In a quarantine whose
	// new commits all rest on what refs pointed at, those the push sent.
	Commits int
	// Unfinished says what the scan could not do before its deadline; ""
	// when it finished. Whatever it found before is reported all the
	// same.
	Unfinished string
	// Found is set when a key was found, whether or not the scan
	// finished; a key found too late to name its commit and path is
	// counted here and not reported as a finding.
	Found bool
	// Refs names, for each commit with a finding, the refs the push sets
	// that reach it, sorted.
	Refs map[string][]string
	// Unread counts the pushed objects that could not be read, or not
	// wholly (each also gave a warning): what they hold was not scanned,
	// so a hook that fails closed rejects the push. Counted for what is
	// read from a quarantine and for the trees and blobs refs are set to;
	// a key file's content that is itself damaged (a corrupt archive) is
	// a warning only.
	Unread int64
	// Dropped counts the findings the scan did not report past its cap on
	// findings (scanner.Run.FindingsDropped): they are more places of keys
	// reported already, and a key an ignore entry accepts at one path
	// would hide the same key at another among them, so the push is
	// rejected.
	Dropped int
}

// PreReceiveOptions are how a pre-receive scan runs.
type PreReceiveOptions struct {
	Quarantine Quarantine
	// Deadline, when not zero, is when the scan stops reading: a server
	// kills hooks that run too long (GitHub Enterprise Server after 5
	// seconds), and a hook that is killed cannot say why. Naming the
	// commits and paths of the keys found takes at most AttributeGrace
	// more.
	Deadline time.Time
}

// AttributeGrace is how long after the deadline a pre-receive scan may
// take to name the commits and paths of the keys it found.
const AttributeGrace = 500 * time.Millisecond

// ScanPreReceive scans what a push adds to the repository: the commits
// reachable from the objects the push sets refs to and from no ref the
// repository has now (git's own test of what is new, as its connectivity
// check makes: for an updated branch the commits of old..new that no
// other ref has, for a new branch or tag the commits no ref reaches,
// nothing for a deletion nor for a ref moved to commits the repository
// already has). Each key is reported once, at the new commit and path that
// introduced it, as ScanHistory reports it; a key the parents of the new
// commits already had at the same path is not new. A ref set to a tree or
// a blob (a tag of one) has that tree or blob scanned whole.
//
// In a quarantine, the blobs the push sent are what it can add: they are
// read straight from the quarantine's packs and loose objects, in the
// packs' order (a sweep, as a scan of every ref reads a repository), and
// the commits are walked only when a key is found, to name its commit and
// path. A push of a whole history costs about the time to read its blobs,
// and a push of a few commits to a big repository the time to read what
// it sent. Then the commits the push sent are walked, their trees compared
// with their parents': a file they add that the push did not send, because
// the repository held the blob already (unreachable, on another branch,
// in an older commit), is read from the repository and scanned, since the
// push makes it reachable all the same. So are the commits the push did
// not send that no ref reached (the repository held them unreachable:
// git does not store a commit again), found by selectSent. Outside a
// quarantine (git before 2.11, or a hook run by hand) the new commits are
// walked to list their blobs.
func ScanPreReceive(ctx context.Context, s *scanner.Scanner, repo *Repository, updates []PushedRef, opts PreReceiveOptions, sink scanner.Sink) (PushScan, error) {
	return scanPreReceive(ctx, s, repo, updates, opts, sink, tuning{})
}

// scanPreReceive is ScanPreReceive, tuned.
func scanPreReceive(ctx context.Context, s *scanner.Scanner, repo *Repository, updates []PushedRef, opts PreReceiveOptions, sink scanner.Sink, tune tuning) (PushScan, error) {
	var res PushScan
	if err := checkObjectFormat(repo); err != nil {
		return res, err
	}
	var news []PushedRef
	for _, u := range updates {
		if !u.Deleted() {
			news = append(news, u)
		}
	}
	if len(news) == 0 {
		return res, nil // deletions only: nothing is added
	}
	g, err := repo.openObjects(tune, opts.Quarantine.dirs(repo))
	if err != nil {
		return res, err
	}
	defer g.close()
	p := &pushScan{g: g, s: s, sink: sink, res: &res, tipRefs: map[plumbing.Hash][]string{}}
	var cancel, acancel context.CancelFunc
	p.bctx, cancel = ctx, func() {}
	p.actx, acancel = ctx, func() {}
	if !opts.Deadline.IsZero() {
		p.bctx, cancel = context.WithDeadline(ctx, opts.Deadline)
		p.actx, acancel = context.WithDeadline(ctx, opts.Deadline.Add(AttributeGrace))
	}
	defer cancel()
	defer acancel()

	// What each ref is set to. A push of every ref of a big mirror sets
	// tens of thousands: the deadline is checked for each.
	tagSeen := map[plumbing.Hash]bool{}
	for i, u := range news {
		if p.bctx.Err() != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			res.Unfinished = fmt.Sprintf("it had read %d of the %d refs the push sets when it stopped", i, len(news))
			return res, nil
		}
		h := plumbing.NewHash(u.New)
		target, typ, tags, err := g.peel(h)
		if err != nil {
			return res, fmt.Errorf("%s: the pushed object %s cannot be read: %w", u.Ref, h, err)
		}
		// Annotated tags: their messages are scanned, each of a chain (a
		// tag of a tag: the push makes the inner one reachable too, sent
		// or held unreachable by the repository).
		for _, t := range tags {
			if !tagSeen[t] {
				tagSeen[t] = true
				p.set.tags = append(p.set.tags, t)
			}
		}
		if typ == plumbing.CommitObject {
			p.set.include = append(p.set.include, target)
			p.tipRefs[target] = append(p.tipRefs[target], u.Ref)
		} else {
			p.others = append(p.others, pushedObject{ref: u.Ref, hash: target, typ: typ})
		}
	}

	p.gs = newGitSink(sink)
	p.r = s.Start(p.gs)
	if len(p.set.tags) > 0 {
		p.g.scanCommitMessages(p.bctx, p.r, nil, p.set.tags)
	}
	if q := opts.Quarantine.ObjectDir; q != "" {
		err = p.sweepQuarantine(absFrom(q))
	} else {
		err = p.walkNew()
	}
	switch {
	case err == nil && p.bctx.Err() == nil:
		g.scanTargets(p.bctx, s, p.others, sink, &res)
	case err == nil && len(p.others) > 0 && res.Unfinished == "":
		res.Unfinished = fmt.Sprintf("it did not scan the trees and blobs %d refs are set to", len(p.others))
	}
	if ctx.Err() != nil {
		return res, ctx.Err() // stopped by the caller, not by the deadline
	}
	if err != nil {
		return res, err
	}
	p.attribute()
	res.Stats = res.Stats.Add(p.r.Stats())
	res.Dropped = p.r.FindingsDropped()
	// A merge the walk left out (countParents) hides the new commits
	// only it reaches: what they hold was not scanned, or a key found in
	// the blobs the push sent could not be named, so the push is not
	// wholly scanned.
	res.Unread += p.unread.Load() + g.octopusRefused.Load() + p.r.Unscanned()
	return res, nil
}

// pushScan is one pre-receive scan under way.
type pushScan struct {
	g       *gitRepo
	s       *scanner.Scanner
	sink    scanner.Sink
	res     *PushScan
	set     revSet                     // the new commits' tips; the repository's refs are excluded once listed
	tipRefs map[plumbing.Hash][]string // the refs the push sets to each commit
	others  []pushedObject             // refs set to trees and blobs
	bctx    context.Context            // until the deadline
	actx    context.Context            // until the deadline and the grace to name where keys are
	gs      *gitSink
	r       *scanner.Run
	sel     *selection   // the new commits, once walked
	unread  atomic.Int64 // pushed objects not read, or not wholly
}

// reading runs job, which reads pushed object h, and counts h as unread
// when job fails (it reports false) or panics (the run reports the panic).
func (p *pushScan) reading(h plumbing.Hash, job func() bool) {
	ok := false
	p.r.Safely(h.String(), func() { ok = job() })
	if !ok {
		p.unread.Add(1)
	}
}

// scanBlob scans pushed blob h, as scanBlob does; it reports whether the
// blob was wholly scanned or the deadline stopped it.
func (p *pushScan) scanBlob(w *scanner.Worker, h plumbing.Hash, o gitobj.Object) bool {
	var err error
	if o.Stream != nil {
		err = w.Scan(p.bctx, h.String(), o.Stream)
		o.Stream.Close()
	} else {
		err = w.ScanBytes(p.bctx, h.String(), o.Data)
	}
	if err != nil && !stopped(err) {
		blobFailed(p.r, h, err, true)
		return false
	}
	return true
}

// selectNew lists the new commits: reachable from the pushed tips and from
// no ref the repository has.
func (p *pushScan) selectNew() error {
	tips, err := p.g.tips(p.r, false, "")
	if err != nil {
		return err
	}
	p.set.exclude = tips
	sel, err := p.g.selectCommits(p.bctx, p.r, p.set)
	if err != nil {
		if p.bctx.Err() != nil {
			p.res.Unfinished = "it did not finish finding which commits are new"
			return nil
		}
		return err
	}
	p.sel = sel
	p.res.Commits = len(sel.commits)
	return nil
}

// walkNew lists the blobs the new commits introduced by a walk of their
// trees, and scans them.
func (p *pushScan) walkNew() error {
	if err := p.selectNew(); err != nil || p.sel == nil {
		return err
	}
	w := p.g.walkHistory(p.bctx, p.r, p.gs, p.sel)
	if p.bctx.Err() != nil {
		p.res.Unfinished = fmt.Sprintf("it did not finish listing the files of the %d new commits", len(p.sel.commits))
		return nil
	}
	p.g.scanBlobs(p.bctx, p.r, p.gs, w.blobs)
	p.g.scanCommitMessages(p.bctx, p.r, p.sel.commits, nil)
	if p.bctx.Err() != nil {
		p.res.Unfinished = fmt.Sprintf("it scanned %d of the %d files the %d new commits added", min(p.r.Stats().Files, int64(len(w.blobs))), len(w.blobs), len(p.sel.commits))
	}
	return nil
}

// sweepQuarantine scans every blob the push sent, from the quarantine
// folder dir, and counts its commits; only when a key (or a warning that
// needs a path) turns up are the new commits walked, to say where.
func (p *pushScan) sweepQuarantine(dir string) error {
	p.gs.hold()
	defer func() { p.gs.release(p.actx) }()
	qs := gitobj.OpenDirs([]string{dir}, nil) // the quarantine alone: what the push sent
	defer qs.Close()
	loose := quarantineLoose(dir)
	total := qs.Packed() + len(loose)

	var (
		mu   sync.Mutex
		sent = map[plumbing.Hash]bool{} // the commits the push sent
	)
	addCommit := func(h plumbing.Hash) {
		mu.Lock()
		sent[h] = true
		mu.Unlock()
	}
	workers := make([]*scanner.Worker, p.r.Workers())
	for i := range workers {
		workers[i] = p.r.NewWorker()
	}
	swept := qs.Sweep(p.bctx, gitobj.SweepOptions{Workers: len(workers), Types: gitobj.TypesOf(plumbing.BlobObject, plumbing.CommitObject)},
		func(w int, h plumbing.Hash, typ plumbing.ObjectType, data []byte) {
			if typ == plumbing.CommitObject {
				addCommit(h)
				p.reading(h, func() bool {
					scanMessage(p.bctx, p.r, workers[w], h, gitobj.Object{Type: typ, Data: data})
					return true
				})
				return
			}
			p.reading(h, func() bool { return p.scanBlob(workers[w], h, gitobj.Object{Type: typ, Data: data}) })
		})
	// Blobs too big for the sweep, and loose objects, one by one through
	// the whole store (a delta's base may be in the repository).
	rest := append(swept.Undelivered(), loose...)
	p.g.readEach(p.bctx, p.r, rest, func(w *scanner.Worker, rd *gitobj.Reader, h plumbing.Hash) {
		p.reading(h, func() bool {
			o, err := readForScan(rd, h)
			switch {
			case err != nil:
				blobFailed(p.r, h, err, false)
				return false
			case o.Type == plumbing.BlobObject:
				return p.scanBlob(w, h, o)
			case o.Type == plumbing.CommitObject:
				addCommit(h)
				scanMessage(p.bctx, p.r, w, h, o)
			default:
				if o.Stream != nil {
					o.Stream.Close()
				}
			}
			return true
		})
	})
	p.res.Commits = len(sent)
	if p.bctx.Err() != nil {
		p.res.Unfinished = fmt.Sprintf("it had scanned %d files when it stopped, of a push of %d objects", p.r.Stats().Files, total)
		return nil
	}
	// The new commits are walked whatever the sweep found: a file they
	// add that the push did not send is content the repository holds
	// already (an unreachable blob a deleted branch left, a file of
	// another branch, an older commit's file put back by a revert), which
	// git does not store again, and the push makes it reachable from its
	// refs all the same. The walk compares each commit's tree with its
	// parents' (walk.go), the folders on the paths changed: a push of a
	// few commits costs a few trees.
	if err := p.selectSent(sent); err != nil || p.sel == nil {
		return err
	}
	// The messages of the new commits the push did not send.
	var held []commitNode
	for _, c := range p.sel.commits {
		if !sent[p.sel.hash(&c)] {
			held = append(held, c)
		}
	}
	if len(held) > 0 {
		p.g.scanCommitMessages(p.bctx, p.r, held, nil)
	}
	w := p.g.walkHistoryExposing(p.bctx, p.r, p.gs, p.sel, nil, func(l gitobj.Loc) bool { return qs.Has(l.Hash()) })
	if p.bctx.Err() != nil {
		if p.gs.triggered() {
			p.res.Unfinished = fmt.Sprintf("it found a key but did not finish walking the %d new commits to say where", len(p.sel.commits))
		} else {
			p.res.Unfinished = fmt.Sprintf("it did not finish walking the %d new commits to list the files they add that the push did not send", len(p.sel.commits))
		}
		return nil
	}
	if len(w.blobs) > 0 {
		before := p.r.Stats().Files
		p.scanHeld(w.blobs)
		if p.bctx.Err() != nil {
			p.res.Unfinished = fmt.Sprintf("it had scanned %d of the %d files the new commits add that the repository held already when it stopped", min(p.r.Stats().Files-before, int64(len(w.blobs))), len(w.blobs))
		}
	}
	return nil
}

// scanHeld scans the blobs the new commits add that the push did not
// send, from the repository's objects: many with a sweep of the packs
// (as scanBlobs chooses), a few with a sweep of their delta chains, and
// what no sweep delivered one by one. A blob that cannot be read wholly
// is counted unread, as a pushed one is.
func (p *pushScan) scanHeld(blobs []plumbing.Hash) {
	g := p.g
	p.r.AddTotal(int64(len(blobs)))
	workers := g.scanWorkers(p.r)
	visit := func(w int, h plumbing.Hash, typ plumbing.ObjectType, data []byte) {
		p.reading(h, func() bool { return p.scanBlob(workers[w], h, gitobj.Object{Type: typ, Data: data}) })
	}
	var res *gitobj.SweepResult
	if g.tune.mode != readOneByOne && g.store.Packed() > 0 {
		o := gitobj.SweepOptions{Workers: len(workers), Types: gitobj.TypesOf(plumbing.BlobObject), MaxSize: g.tune.sweepMax}
		if g.shouldSweep(len(blobs)) {
			index := make(map[plumbing.Hash]struct{}, len(blobs))
			for _, h := range blobs {
				index[h] = struct{}{}
			}
			o.Want = func(name []byte) bool {
				_, ok := index[plumbing.Hash(name)]
				return ok
			}
			res = g.store.Sweep(p.bctx, o, visit)
		} else {
			res = g.store.SweepObjects(p.bctx, blobs, o, visit)
		}
	}
	var rest []plumbing.Hash
	for _, h := range blobs {
		if res == nil || !res.Delivered(h) {
			rest = append(rest, h)
		}
	}
	if len(rest) == 0 || p.bctx.Err() != nil {
		return
	}
	g.readEach(p.bctx, p.r, rest, func(w *scanner.Worker, rd *gitobj.Reader, h plumbing.Hash) {
		p.reading(h, func() bool {
			o, err := readBlobForScan(rd, h)
			if err != nil {
				blobFailed(p.r, h, err, false)
				return false
			}
			return p.scanBlob(w, h, o)
		})
	})
}

// selectSent lists the new commits from those the push sent: the ones the
// pushed tips reach through commits it sent. The commits at their edge,
// the parents the push did not send and the pushed tips it did not send,
// are the repository's already; when each is what a ref pointed at before
// the push (the old tip of the branch pushed onto, the tip a new branch
// starts from), no ref's content is new there, and the walk reads the
// commits the push sent and never the repository's history, whatever its
// length. An edge commit no ref pointed at may be one the repository
// holds unreachable (a branch deleted before the hook, the objects of a
// push an update hook turned down): git does not store it again, so the
// push did not send it, and it is new all the same. Then the new commits
// are found as git finds them, those the pushed tips reach and no ref
// does (selectNew): a walk that stops where only commits the refs reach
// are left. The nodes and the order are the revision walk's (revwalk.go).
func (p *pushScan) selectSent(sent map[plumbing.Hash]bool) error {
	w := newRevWalk(p.bctx, p.g, p.r, revSet{}, nil)
	var stack []int32
	for _, h := range p.set.include {
		stack = append(stack, w.node(h))
	}
	var chosen []int32
	for len(stack) > 0 {
		if err := p.bctx.Err(); err != nil {
			p.res.Unfinished = "it did not finish finding which commits are new"
			return nil
		}
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if w.nodes[i].flags&nodeSelected != 0 || !sent[p.g.names.Hash(w.nodes[i].hash)] || !w.load(i) {
			continue // taken, or the repository's, or reported by load
		}
		w.nodes[i].flags |= nodeSelected
		chosen = append(chosen, i)
		stack = append(stack, w.parentsOf(i)...)
	}
	// The edge. A commit the push sent that could not be read is not in
	// it: load reported it, and the push is not wholly scanned.
	var edge []plumbing.Hash
	for _, h := range p.set.include {
		if !sent[h] {
			edge = append(edge, h)
		}
	}
	for _, i := range chosen {
		for _, parent := range w.parentsOf(i) {
			if h := p.g.names.Hash(w.nodes[parent].hash); !sent[h] {
				edge = append(edge, h)
			}
		}
	}
	if !p.refTips(edge) {
		return p.selectNew()
	}
	// The boundary: the edge's parents, read so that the selection keeps
	// them. One the repository does not have is left out, as a shallow
	// clone's cut is.
	for _, i := range chosen {
		for _, parent := range slices.Clone(w.parentsOf(i)) { // load grows the edges
			if n := &w.nodes[parent]; n.flags&nodeSelected == 0 && p.g.store.Has(p.g.names.Hash(n.hash)) {
				w.load(parent)
			}
		}
	}
	p.sel = w.selection()
	return nil
}

// refTips reports whether each of commits is what a ref pointed at before
// the push, or is missing from the repository (a shallow clone's cut,
// whose content the repository does not have). The refs are read from the
// repository, as they are: the old values git gives the hook are the
// pusher's word, which git checks only when it moves the refs (a push
// that names a held commit as the old value of a ref it cannot move would
// otherwise pass it off as reachable for its other refs).
func (p *pushScan) refTips(commits []plumbing.Hash) bool {
	var all map[plumbing.Hash]bool
	for _, h := range commits {
		if !p.g.store.Has(h) {
			continue
		}
		if all == nil {
			all = map[plumbing.Hash]bool{}
			for _, ref := range p.g.refs(p.r) {
				all[ref.Hash()] = true
			}
			if head, err := p.g.head(); err == nil {
				all[head] = true
			}
		}
		if !all[h] {
			return false
		}
	}
	return true
}

// quarantineLoose lists the loose objects of the quarantine folder dir
// (a small push is unpacked into loose objects, see receive.unpackLimit).
func quarantineLoose(dir string) []plumbing.Hash {
	var out []plumbing.Hash
	for i := range 256 {
		sub := fmt.Sprintf("%02x", i)
		names, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			continue
		}
		for _, e := range names {
			if hex := sub + e.Name(); len(hex) == 40 && plumbing.IsHash(hex) {
				out = append(out, plumbing.NewHash(hex))
			}
		}
	}
	return out
}

// attribute names the commit and path of each key found, and reports
// them. A key whose blob's commits could not all be walked before the
// deadline counts as found all the same: whether the new commits' parents
// had it is not known.
func (p *pushScan) attribute() {
	p.gs.mu.Lock()
	rawFound := len(p.gs.found) > 0 || len(p.gs.messages) > 0 || len(p.gs.nameHits) > 0
	p.gs.mu.Unlock()
	var found []finding.Finding
	if p.sel == nil || len(p.sel.commits) == 0 {
		// No new commit (a tag or branch set to a commit the repository
		// has): only the messages of the annotated tags pushed can be new.
		a := &attributor{g: p.g, r: p.r, gs: p.gs, sel: &selection{names: p.g.names}}
		found = p.messageFindings(a)
		for _, f := range found {
			p.sink.Finding(f)
		}
		p.res.Found = p.res.Found || len(found) > 0 || (rawFound && p.res.Unfinished != "")
		return
	}
	a := &attributor{g: p.g, r: p.r, gs: p.gs, sel: p.sel, w: p.r.NewWorker()}
	found = a.attribute(p.actx)
	found = append(found, p.messageFindings(a)...)
	if p.actx.Err() == nil {
		found = append(found, a.nameFindings()...)
	}
	p.res.Refs = refsReaching(p.sel, p.tipRefs, found)
	for _, f := range found {
		p.sink.Finding(f)
	}
	// A key found in the blobs the push sent, whose commit a merge left
	// out of the walk (countParents) may hide, is found all the same.
	cut := p.g.octopusRefused.Load() > 0
	p.res.Found = p.res.Found || len(found) > 0 || (rawFound && (p.actx.Err() != nil || p.res.Unfinished != "" || cut))
}

// messageFindings are the keys in the messages of the new commits and of
// the annotated tags the push sets refs to. A pushed tag is not yet in the
// repository's refs, which the tag set names tags by: it is reachable (the
// push is adding a ref to it), not an unreachable object.
func (p *pushScan) messageFindings(a *attributor) []finding.Finding {
	if p.actx.Err() != nil {
		return nil
	}
	found := a.messageFindings(p.set)
	for i := range found {
		if found[i].Location.OfTag() {
			found[i].Unreachable = false
		}
	}
	return found
}

// refsReaching names, for each commit of the findings, the pushed refs
// whose new commits reach it: a walk from the commit to its descendants
// in the selection, which holds only new commits.
func refsReaching(sel *selection, tipRefs map[plumbing.Hash][]string, found []finding.Finding) map[string][]string {
	if len(found) == 0 {
		return nil
	}
	children := map[plumbing.Hash][]plumbing.Hash{}
	for i := range sel.commits {
		c := &sel.commits[i]
		for _, p := range sel.parents(c) {
			ph := sel.hash(sel.parent(p))
			children[ph] = append(children[ph], sel.hash(c))
		}
	}
	out := map[string][]string{}
	for _, f := range found {
		if _, done := out[f.Commit]; done || !plumbing.IsHash(f.Commit) {
			continue
		}
		var refs []string
		seen := map[plumbing.Hash]bool{}
		queue := []plumbing.Hash{plumbing.NewHash(f.Commit)}
		for len(queue) > 0 {
			h := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			if seen[h] {
				continue
			}
			seen[h] = true
			refs = append(refs, tipRefs[h]...)
			queue = append(queue, children[h]...)
		}
		slices.Sort(refs)
		out[f.Commit] = slices.Compact(refs)
	}
	return out
}

// pushedObject is a ref the push sets to a tree or a blob.
type pushedObject struct {
	ref  string
	hash plumbing.Hash
	typ  plumbing.ObjectType
}

// peel follows annotated tags to what they tag, and returns it, its type
// and the tags of the chain, outermost first.
func (g *gitRepo) peel(h plumbing.Hash) (plumbing.Hash, plumbing.ObjectType, []plumbing.Hash, error) {
	start := h
	var tags []plumbing.Hash
	for range maxTagChain + 1 { // the tags, then what the last one tags
		// The type from the header: a ref to a big tree or blob is not
		// read whole to learn what it is (an object of an alternate,
		// whose header the reader does not look up, is read).
		typ, err := g.crd.Type(h)
		if err != nil {
			if typ, _, err = g.crd.Read(h); err != nil {
				return h, 0, tags, err
			}
		}
		if typ != plumbing.TagObject {
			return h, typ, tags, nil
		}
		tag, err := g.decodeTag(h)
		if err != nil {
			return h, 0, tags, err
		}
		tags = append(tags, h)
		h = tag.Target
	}
	return h, 0, tags, fmt.Errorf("tag %s: %w", start, errTagChain)
}

// scanTargets scans the trees and blobs refs are set to, whole, under the
// ref's name: "refs/tags/t:path/in/tree", "refs/tags/b".
func (g *gitRepo) scanTargets(ctx context.Context, s *scanner.Scanner, others []pushedObject, sink scanner.Sink, res *PushScan) {
	if len(others) == 0 {
		return
	}
	counted := &countingSink{Sink: sink}
	r := s.Start(counted)
	w := r.NewWorker()
	scan := func(label string, h plumbing.Hash) {
		if !g.scanTarget(ctx, r, w, label, h) {
			res.Unread++
		}
	}
	for _, o := range others {
		switch o.typ {
		case plumbing.BlobObject:
			scan(o.ref, o.hash)
		case plumbing.TreeObject:
			seen := map[plumbing.Hash]bool{o.hash: true}
			tw := &treeWalk{g: g, entry: func(dir string, name []byte, mode filemode.FileMode, h plumbing.Hash) bool {
				if seen[h] {
					return false
				}
				seen[h] = true
				if mode.IsFile() {
					scan(o.ref+":"+finding.ValidPath(dir+string(name)), h)
				}
				return mode == filemode.Dir
			}, broken: func(dir string, h plumbing.Hash, err error) {
				r.Fail(o.ref+":"+dir, "tree %s cannot be read (%v): not scanned", h, err)
				res.Unread++
			}}
			tw.walk(ctx, o.hash, "")
		}
	}
	res.Stats = res.Stats.Add(r.Stats())
	res.Found = res.Found || counted.n.Load() > 0
}

// scanTarget scans one blob a pushed ref holds, under label; it reports
// whether the blob was read wholly (or the deadline stopped it).
func (g *gitRepo) scanTarget(ctx context.Context, r *scanner.Run, w *scanner.Worker, label string, h plumbing.Hash) bool {
	o, err := g.rd.Object(h)
	if err != nil {
		r.Fail(label, "blob %s cannot be read (%v): not scanned", h, err)
		return false
	}
	if o.Stream != nil {
		err = w.Scan(ctx, label, o.Stream)
		o.Stream.Close()
	} else {
		err = w.ScanBytes(ctx, label, o.Data)
	}
	if err != nil && !stopped(err) {
		r.Fail(label, "blob %s could not be wholly scanned (%v)", h, err)
		return false
	}
	return true
}

// countingSink counts the findings it passes on.
type countingSink struct {
	scanner.Sink
	n atomic.Int64
}

func (c *countingSink) Finding(f finding.Finding) {
	c.n.Add(1)
	c.Sink.Finding(f)
}

// checkObjectFormat fails with ErrSHA256 for a repository whose config
// sets extensions.objectFormat to sha256: go-git and the object store read
// SHA-1 names only.
func checkObjectFormat(repo *Repository) error {
	if err := checkConfigSections(repo.CommonDir); err != nil {
		return err
	}
	b, err := nonblock.ReadRegular(filepath.Join(repo.CommonDir, "config"))
	if err != nil {
		return nil // no config: SHA-1, git's default
	}
	cfg := config.New()
	if err := config.NewDecoder(bytes.NewReader(b)).Decode(cfg); err != nil {
		return nil // go-git says what is wrong when it opens the repository
	}
	for _, s := range cfg.Sections {
		if s.IsName("extensions") && strings.EqualFold(s.Options.Get("objectformat"), "sha256") {
			return fmt.Errorf("%s: %w", repo.GitDir, ErrSHA256)
		}
	}
	return nil
}
