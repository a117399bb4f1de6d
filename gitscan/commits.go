package gitscan

import (
	"bufio"
	"bytes"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/scanner"
)

// Commit selection: which commits a scan reads, from the refs and
// revisions given, in the order the walk takes them (parents first).

// commitNode is what a scan keeps of a selected commit: a history of
// 400,000 commits keeps 400,000 of them, so they hold no more than the
// tree walk needs (see describe for what a report shows). The revision
// walk's nodes are commitNodes too, so that the selection is made in the
// walk's own nodes (placeInOrder); flags are the walk's, and 0 in a
// selection. It is 24 bytes (TestCommitNodeSize): every byte is 2 MB at
// two million commits, and so names are NameRefs, 4 bytes each, into the
// pack index that holds them already (gitobj.Names).
type commitNode struct {
	hash   gitobj.NameRef // the commit's name (gitRepo.names)
	tree   gitobj.NameRef // its tree's: 0 until the commit is read
	when   int64          // committer time, Unix seconds: the order of the walk
	pstart int32          // its parents: the selection's edges[pstart:pstart+pcount] (the walk's edges in the walk)
	pcount uint16         // wideParents: the count is in the selection's (the walk's) wide, by pstart
	flags  uint8          // the walk's (revwalk.go)
	reach  reachKind      // what reaches it: a ref, only a reflog, nothing (reflog.go)
}

// selection is the commits a scan reads, oldest first, and the commits
// just outside it whose content is not reported as new. Its nodes hold no
// pointers: the collector need not look into them.
type selection struct {
	commits  []commitNode // parents before children, then oldest committer time first
	boundary []commitNode // parents of selected commits that are not selected
	// aged says the boundary holds commits left out as older than
	// --since, not only commits an excluded one reaches: their content is
	// not new only to the commits that descend from them (heldBefore).
	aged    bool
	shallow int // selected commits whose parents were cut by a shallow clone
	// edges are where each selected commit's parents are: i >= 0 is
	// commits[i], i < 0 boundary[-1-i]; parents in neither (missing, cut
	// by a shallow clone) are left out.
	edges []int32
	// wide holds the parent counts that do not fit in a node (wideParents).
	wide map[int32]int32
	// names are what the nodes' hash and tree stand for.
	names *gitobj.Names
}

// hash is the name of commit c.
func (s *selection) hash(c *commitNode) plumbing.Hash { return s.names.Hash(c.hash) }

// tree is the name of commit c's tree.
func (s *selection) tree(c *commitNode) plumbing.Hash { return s.names.Hash(c.tree) }

// parents returns where commit c's parents are (see edges).
func (s *selection) parents(c *commitNode) []int32 {
	return s.edges[c.pstart : c.pstart+parentCount(c, s.wide)]
}

// wideParents is the pcount of a commit of 65,535 parents or more (an
// octopus merge a history crafted to exhaust memory may hold, up to
// maxOctopusLinks of them): its count is kept by pstart in a table beside
// the nodes. Real merges have a few parents: a 2-byte count keeps a node
// in 56 bytes, 16 MB less at two million commits than a 4-byte one.
const wideParents = 1<<16 - 1

// setParents sets where node n's parents are, edges[start:start+count],
// noting a count that does not fit in pcount in *wide.
func setParents(n *commitNode, start, count int32, wide *map[int32]int32) {
	n.pstart = start
	if count < wideParents {
		n.pcount = uint16(count)
		return
	}
	if *wide == nil {
		*wide = map[int32]int32{}
	}
	(*wide)[start] = count
	n.pcount = wideParents
}

// parentCount returns how many parents node n has (see setParents).
func parentCount(n *commitNode, wide map[int32]int32) int32 {
	if n.pcount == wideParents {
		return wide[n.pstart]
	}
	return int32(n.pcount)
}

// parent returns the commit an edge names.
func (s *selection) parent(p int32) *commitNode {
	if p >= 0 {
		return &s.commits[p]
	}
	return &s.boundary[-1-p]
}

// tips lists the commits every ref points at, for a scan of everything:
// branches, remote-tracking branches, tags (annotated ones peeled), notes,
// refs/stash, and a detached HEAD. The older stash entries, and every
// other commit a reflog names, come after (walkHidden). The refs are read
// as refs.go reads them: a damaged packed-refs is warned about, and the
// refs it still names are kept.
//
// With remotesOnly, it lists only the remote-tracking branches: those of
// the remote named remote (refs/remotes/<remote>/...), or of every remote
// when remote is "".
func (g *gitRepo) tips(r *scanner.Run, remotesOnly bool, remote string) ([]plumbing.Hash, error) {
	var out []plumbing.Hash
	nested := g.remotesUnder(remote)
	for _, ref := range g.refs(r) {
		if remotesOnly && (!ref.Name().IsRemote() || remote != "" && !trackedBy(ref.Name().String(), remote, nested)) {
			continue
		}
		h, err := g.peelToCommit(ref.Hash())
		if err == nil && !h.IsZero() {
			out = append(out, h)
		}
		// A chain of tags too long is named here; a ref to a missing
		// object is reported when the walk reaches it, and not at all
		// when it points at a tree or blob.
		switch {
		case errors.Is(err, errTagChain):
			r.Fail(ref.Name().String(), "%v: the history this ref tags was not scanned from it", err)
		case err != nil:
			out = append(out, ref.Hash())
		}
	}
	if remotesOnly {
		return out, nil
	}
	if h, err := g.head(); err == nil && !h.IsZero() {
		out = append(out, h)
	}
	return out, nil
}

// remotesUnder returns the configured remotes whose names start with
// remote's and a slash ("a/b" for "a"): their tracking branches are in a
// folder of remote's (refs/remotes/a/b/...) but are not remote's.
func (g *gitRepo) remotesUnder(remote string) []string {
	if remote == "" {
		return nil
	}
	cfg, err := g.repo.Config()
	if err != nil {
		return nil
	}
	var out []string
	for name := range cfg.Remotes {
		if strings.HasPrefix(name, remote+"/") {
			out = append(out, name)
		}
	}
	return out
}

// trackedBy reports whether ref is a tracking branch of remote, not of
// one of the remotes nested under its name (remotesUnder).
func trackedBy(ref, remote string, nested []string) bool {
	if !strings.HasPrefix(ref, "refs/remotes/"+remote+"/") {
		return false
	}
	for _, n := range nested {
		if strings.HasPrefix(ref, "refs/remotes/"+n+"/") {
			return false
		}
	}
	return true
}

// commitHeadMax is how much of a big commit's headers is kept whole: its
// tree, parents, author, committer, and the start of a signature. A
// message can be any size, and a commit of a hundred megabytes is not
// held.
const commitHeadMax = 1 << 20

// tailBack is how much of the headers a message scan keeps (commitHeadMax)
// it scans again with the rest, which it streams (readStreamedHead): the
// scanner's overlap between two stretches of a stream.
const tailBack = 64 << 10

// commitHeadsMax bounds the headers kept of a big commit: a commit of a
// million parents (48 MB of "parent" lines) is one git reads, and is read
// whole as a tree or tag would be (maxWhole, the README's 64 MiB), not
// more.
const commitHeadsMax = 64 << 20

// commitSubjectRead is how much of a big commit's message readCommitHead
// reads after its headers: the subject a report shows (MaxSubject bytes).
const commitSubjectRead = 64 << 10

// readCommitHead returns commit h's content read with rd, or for one too
// big to hold (streamed by the store) its headers and the start of its
// message (readStreamedHead): what parsing its tree, parents, author and
// subject needs. A commit is read this way wherever it is walked.
func readCommitHead(rd *gitobj.Reader, h plumbing.Hash) ([]byte, error) {
	o, err := rd.Open(h)
	if err != nil {
		return nil, err
	}
	if o.Stream != nil {
		defer o.Stream.Close()
	}
	if o.Type != plumbing.CommitObject {
		return nil, plumbing.ErrObjectNotFound // as go-git says
	}
	if o.Stream == nil {
		return o.Data, nil
	}
	head, _, err := readStreamedHead(o.Stream, o.Size, commitSubjectRead, true, nil)
	return head, err
}

// readStreamedHead reads a streamed commit or tag of size bytes from r: its
// header lines, then up to msgMax bytes of its message. A signature
// (gpgsig, a merged tag) of any size is no reason to miss a commit's tree
// or message: past commitHeadMax, the lines that go on a header's value (a
// signature's, which start with a blank) are read and dropped, and skipped
// counts them. With keepHeaders (a walk, which parses the parents and
// author), other header lines are kept up to commitHeadsMax in all, and a
// commit whose headers need more is an error that says so; without it (a
// message scan, which needs only where the message starts), nothing past
// commitHeadMax is kept: every worker scans messages at once, and 64 MiB
// of headers each would grow with -j. A message scan passes tail, which
// is handed the headers past the whole lines of the first commitHeadMax
// bytes as a stream (with the lines of up to tailBack bytes before them
// again), to scan them without holding them, the number of lines before
// the stream, and the number of bytes at its start the head keeps.
func readStreamedHead(r io.Reader, size int64, msgMax int, keepHeaders bool, tail func(rd io.Reader, lines, again int)) (head []byte, skipped int64, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head = make([]byte, 0, commitHeadMax+msgMax)
	lineStart, drop, full := true, false, false
	for {
		chunk, err := br.ReadSlice('\n')
		if lineStart {
			if len(chunk) > 0 && chunk[0] == '\n' {
				head = endHeaders(head, &skipped)
				break // the blank line before the message
			}
			drop = len(head) >= commitHeadMax && len(chunk) > 0 && chunk[0] == ' '
		}
		if !keepHeaders && tail != nil && len(head)+len(chunk) > commitHeadMax {
			// The head keeps its whole lines: a line cut here would put
			// the start of a key in one text and its end in the other.
			// The tail starts at a line's start (so that its lines and
			// columns are the object's), tailBack bytes or more before
			// the cut: the lines of a key encoded over several lines
			// (base64 wrapped at 64 columns) that starts just before the
			// cut are all in the tail. A key in both texts is reported
			// once (messageFindings).
			keep := bytes.LastIndexByte(head, '\n') + 1
			from := bytes.LastIndexByte(head[:max(keep-tailBack, 0)], '\n') + 1
			t := &headerTail{br: br, pending: chunk, lineStart: err == nil, err: err}
			if err == bufio.ErrBufferFull {
				t.err = nil
			}
			tail(io.MultiReader(bytes.NewReader(head[from:]), t), bytes.Count(head[:from], []byte("\n")), keep-from)
			io.Copy(io.Discard, t)
			skipped += t.n + int64(len(head)-keep)
			head = head[:keep]
			switch {
			case t.err == io.EOF:
				return head, skipped, nil // no message
			case t.err != nil:
				return nil, 0, t.err
			}
			head = endHeaders(head, &skipped)
			break
		}
		full = full || !keepHeaders && len(head)+len(chunk) > commitHeadMax
		switch {
		case drop || full:
			skipped += int64(len(chunk))
		case len(head)+len(chunk) > commitHeadsMax:
			return nil, 0, fmt.Errorf("object of %d bytes whose headers take more than %d", size, commitHeadsMax)
		default:
			head = append(head, chunk...)
		}
		lineStart = err == nil
		switch {
		case err == io.EOF:
			return head, skipped, nil // no message
		case err != nil && err != bufio.ErrBufferFull:
			return nil, 0, err
		}
	}
	n := len(head)
	head = slices.Grow(head, msgMax)[:n+msgMax]
	m, err := io.ReadFull(br, head[n:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, 0, err
	}
	return head[:n+m], skipped, nil
}

// endHeaders ends the headers kept of a streamed object with the blank
// line before its message, and a newline first when the last line kept
// was cut (its end is among the skipped bytes).
func endHeaders(head []byte, skipped *int64) []byte {
	if n := len(head); n > 0 && head[n-1] != '\n' {
		head = append(head, '\n') // the end of a line dropped
		*skipped--
	}
	return append(head, '\n')
}

// headerTail reads a streamed object's header lines from where its
// reader is, starting with pending (what was read last), up to the blank
// line before its message, which it reads and leaves out. n counts the
// bytes it gave; err is io.EOF when the object ended with no message.
type headerTail struct {
	br        *bufio.Reader
	pending   []byte // read from br and not given yet; valid until br's next read
	lineStart bool   // pending's end ends a line
	end       bool   // the blank line was read
	err       error
	n         int64
}

func (t *headerTail) Read(p []byte) (int, error) {
	for len(t.pending) == 0 {
		switch {
		case t.end || t.err == io.EOF:
			return 0, io.EOF
		case t.err != nil:
			return 0, t.err
		}
		chunk, err := t.br.ReadSlice('\n')
		if t.lineStart && len(chunk) > 0 && chunk[0] == '\n' {
			t.end = true
			return 0, io.EOF
		}
		t.pending, t.lineStart = chunk, err == nil
		if err != bufio.ErrBufferFull {
			t.err = err
		}
	}
	n := copy(p, t.pending)
	t.pending = t.pending[n:]
	t.n += int64(n)
	return n, nil
}

// commitHead is readCommitHead with the commits' reader.
func (g *gitRepo) commitHead(h plumbing.Hash) ([]byte, error) { return readCommitHead(g.crd, h) }

// commitTree returns the tree of commit h.
func (g *gitRepo) commitTree(h plumbing.Hash) (plumbing.Hash, error) {
	data, err := g.commitHead(h)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	c, err := gitobj.ParseCommit(data)
	return c.Tree, err
}

// commitInfo is what a report shows of a commit.
type commitInfo struct {
	author, email, subject string
	date                   time.Time // author time: what git log shows
}

// describe reads what a report shows of commit h (only commits with
// findings need it), once, from its head: the subject is cut at
// gitobj.MaxSubject bytes, as a message is any size.
func (g *gitRepo) describe(h plumbing.Hash) commitInfo {
	if d, ok := g.described[h]; ok {
		return d
	}
	var d commitInfo
	if data, err := g.commitHead(h); err == nil {
		info := gitobj.ParseCommitInfo(data)
		d = commitInfo{author: info.Author, email: info.Email, date: info.When, subject: info.Subject}
	}
	if g.described == nil {
		g.described = map[plumbing.Hash]commitInfo{}
	}
	g.described[h] = d
	return d
}

// selectCommits lists the commits of set, oldest first (see revwalk.go).
func (g *gitRepo) selectCommits(ctx context.Context, r *scanner.Run, set revSet) (*selection, error) {
	shallow := g.shallowCommits()
	include := set.include
	if set.all {
		tips, err := g.tips(r, false, "")
		if err != nil {
			return nil, err
		}
		include = append(include, tips...)
	}
	exclude := set.exclude
	if set.excludeRemotes && !set.noRemote {
		tips, err := g.tips(r, true, set.remote)
		if err != nil {
			return nil, err
		}
		exclude = append(exclude, tips...)
	}
	w := newRevWalk(ctx, g, r, set, shallow)
	if err := w.run(include, exclude); err != nil {
		return nil, err
	}
	sel := w.selection()
	if w.looped && w.graph != nil {
		// Only a commit-graph that does not match the commits, or commit
		// objects that do not match their names, make a commit its own
		// ancestor. Walked again from the objects, as git walks without
		// a commit-graph.
		r.Fail("", "the commit-graph makes a commit its own ancestor, as no history can: it was not used, and the commits were read from their objects; run 'git commit-graph verify', and 'git commit-graph write --reachable' to write it again")
		w = newRevWalk(ctx, g, r, set, shallow)
		w.graph, w.gens = nil, nil
		if err := w.run(include, exclude); err != nil {
			return nil, err
		}
		sel = w.selection()
	}
	sel.aged = !set.since.IsZero()
	return sel, nil
}

// selection lists the selected nodes in topological order, and the
// boundary. It is the walk's last step: the walk's nodes become the
// selection's commits.
func (w *revWalk) selection() *selection {
	// The walk is over: its index of names goes before the selection is
	// made, which would otherwise hold it to the end.
	w.index, w.shallow, w.gens = nil, nil, nil
	order := w.topoOrder()
	if w.looped && w.graph == nil {
		w.r.Fail("", "commits that are their own ancestors, as only objects whose content does not match their names can be: each loop was read from its oldest commit left, without its link back; run 'git fsck' to check the repository")
	}
	// where[i] is node i's place: k+1 for commits[k], -(k+1) for boundary[k].
	where := make([]int32, len(w.nodes))
	for k, i := range order {
		where[i] = int32(k + 1)
	}
	sel := &selection{names: w.g.names}
	total := 0
	for _, i := range order {
		total += int(parentCount(&w.nodes[i], w.wide))
	}
	flat := make([]int32, 0, total)
	for _, i := range order {
		n := &w.nodes[i]
		if n.flags&nodeShallow != 0 {
			sel.shallow++
		}
		start := len(flat)
		for _, p := range w.parentsOf(i) {
			switch {
			case where[p] >= where[i]:
				// A loop's link back (topoOrder): parents come first.
			case where[p] > 0:
				flat = append(flat, where[p]-1)
			case where[p] < 0:
				flat = append(flat, where[p])
			case w.nodes[p].flags&nodeLoaded != 0:
				b := &w.nodes[p]
				sel.boundary = append(sel.boundary, commitNode{hash: b.hash, tree: b.tree, when: b.when})
				where[p] = -int32(len(sel.boundary))
				flat = append(flat, where[p])
			}
		}
		// Its parents in the selection, from here on: node i is not
		// asked about its parents in the walk again.
		setParents(n, int32(start), int32(len(flat)-start), &sel.wide)
	}
	w.edges, w.wide = nil, nil
	sel.edges = flat
	sel.commits = w.placeInOrder(order, where)
	return sel
}

// placeInOrder returns the nodes of order, in that order (where is each
// node's place, as selection has it), and ends the walk. A selection
// that is most of the walk's nodes (a scan of everything) is made in
// their own memory: a copy beside them was the peak of a scan's memory
// at a million commits (a node is 72 bytes a commit). One that is a
// small part of them (a range) is copied, so that they can go.
func (w *revWalk) placeInOrder(order, where []int32) []commitNode {
	nodes, k := w.nodes, len(order)
	w.nodes = nil
	var out []commitNode
	if cap(nodes)-k > k/4 {
		out = make([]commitNode, k)
		for j, i := range order {
			out[j] = nodes[i]
		}
	} else {
		permuteInto(nodes, where)
		out = nodes[:k:k]
	}
	for j := range out {
		out[j].flags = 0
	}
	return out
}

// permuteInto moves each node i with where[i] > 0 to where[i]-1, in
// place; what the other places hold after is not defined. Each node is
// carried along a chain: the node it displaces goes next to its own
// place, until a chain meets a node that has none, or has moved.
func permuteInto(nodes []commitNode, where []int32) {
	moved := make([]uint64, (len(nodes)+63)/64)
	isMoved := func(i int) bool { return moved[i>>6]&(1<<(i&63)) != 0 }
	for i := range nodes {
		if where[i] <= 0 || isMoved(i) {
			continue
		}
		cur, ci := nodes[i], i
		moved[i>>6] |= 1 << (i & 63)
		for {
			d := int(where[ci]) - 1
			next, fresh := nodes[d], !isMoved(d)
			nodes[d] = cur
			if !fresh || where[d] <= 0 {
				moved[d>>6] |= 1 << (d & 63)
				break
			}
			moved[d>>6] |= 1 << (d & 63)
			cur, ci = next, d
		}
	}
}

// chosen reports whether node i is selected.
func (w *revWalk) chosen(i int32) bool {
	return w.nodes[i].flags&(nodeSelected|nodeExcluded) == nodeSelected
}

// topoOrder lists the selected nodes so that parents come before their
// children and, among the commits free to come next, the oldest committer
// time first (then the hash, so that the order is the same on every run).
// Clock skew cannot put a child before its parent. Its tables are by node,
// as the selected are nearly all of them in a walk of everything: a list
// of the selected (grown as found), a map from node to place in it and a
// second copy of where each node's children start were about 40 MB more
// at two million commits, made while the sweep's tables are held.
func (w *revWalk) topoOrder() []int32 {
	n := int32(len(w.nodes))
	pending := make([]int32, n) // parents not placed yet
	start := make([]int32, n+1) // children of node i: kids[start[i]:start[i+1]]
	count := 0
	for i := range n {
		if !w.chosen(i) {
			continue
		}
		count++
		for _, p := range w.parentsOf(i) {
			if w.chosen(p) {
				pending[i]++
				start[p+1]++
			}
		}
	}
	for i := range n {
		start[i+1] += start[i]
	}
	kids := make([]int32, start[n])
	for i := range n {
		if !w.chosen(i) {
			continue
		}
		for _, p := range w.parentsOf(i) {
			if w.chosen(p) {
				kids[start[p]] = i
				start[p]++
			}
		}
	}
	// Each start[i] has moved to where node i's children end, which is
	// where node i+1's start.
	copy(start[1:], start[:n])
	start[0] = 0
	ready := &readyQueue{w: w}
	for i := range n {
		if w.chosen(i) && pending[i] == 0 {
			ready.ks = append(ready.ks, i)
		}
	}
	heap.Init(ready)
	out := make([]int32, 0, count)
	next := int32(0) // where to look for a loop's commit
	for {
		for ready.Len() > 0 {
			i := heap.Pop(ready).(int32)
			out = append(out, i)
			for _, c := range kids[start[i]:start[i+1]] {
				if pending[c]--; pending[c] == 0 {
					heap.Push(ready, c)
				}
			}
		}
		if len(out) == count {
			return out
		}
		// The commits left are in a loop or behind one: a commit-graph
		// or commit objects that lie (see selectCommits). The first left
		// goes next, as if its parents were placed (selection drops its
		// links to them); every selected commit is placed.
		w.looped = true
		for !w.chosen(next) || pending[next] <= 0 {
			next++
		}
		pending[next] = 0
		heap.Push(ready, next)
	}
}

// readyQueue holds the selected nodes whose parents are all placed,
// oldest first.
type readyQueue struct {
	w  *revWalk
	ks []int32
}

func (q *readyQueue) Len() int { return len(q.ks) }
func (q *readyQueue) Less(a, b int) bool {
	x, y := &q.w.nodes[q.ks[a]], &q.w.nodes[q.ks[b]]
	if x.when != y.when {
		return x.when < y.when
	}
	return q.w.g.names.Compare(x.hash, y.hash) < 0
}
func (q *readyQueue) Swap(a, b int) { q.ks[a], q.ks[b] = q.ks[b], q.ks[a] }
func (q *readyQueue) Push(x any)    { q.ks = append(q.ks, x.(int32)) }
func (q *readyQueue) Pop() any {
	k := q.ks[len(q.ks)-1]
	q.ks = q.ks[:len(q.ks)-1]
	return k
}
