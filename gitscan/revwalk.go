package gitscan

import (
	"container/heap"
	"context"
	"math"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/scanner"
)

// The revision walk: which commits a scan reads. A range A..B, a pre-push
// (what the remote does not have) or --since must cost what the range
// holds, not what the history behind it holds: the walk reads the
// included and the excluded commits together, newest first, marks what an
// excluded commit reaches as excluded, and stops as soon as nothing left
// to read can be selected, as `git rev-list A..B` does.
//
// "Newest" is a commit's generation when the repository has a commit-graph
// (gitobj.CommitGraph): a commit's generation is greater than its
// parents', so when a commit is read every commit that reaches it has
// been read before, and the walk is exact. Commits the graph does not hold
// (made since it was written), or every commit without one, are ordered by
// committer date, which clock skew can make go backwards; then, like git,
// the walk reads slop more commits past the point where only excluded ones
// are left, and whatever it still got wrong includes a commit too many
// (one the excluded side reaches): never one too few.

// slop is how many commits past the last that could be selected the walk
// reads when dates, not generations, order it (git's SLOP).
const slop = 5

// The walk's nodes are commitNodes (commits.go), with their flags: a
// node holds no pointers, so that the collector need not look into the
// nodes of a walk of 400,000 commits. Generations are kept beside them,
// only when there is a commit-graph (gens).

const (
	nodeLoaded   = 1 << iota
	nodeExcluded // an excluded commit reaches it: git's UNINTERESTING
	nodeQueued   // in the queue
	nodeAdded    // has been queued: git's SEEN
	nodeSelected // read while it could be selected
	nodeBroken   // could not be read
	nodeShallow  // a shallow clone cut its parents
)

// revWalk is one walk. Its nodes become the selection (placeInOrder), or
// go once it is made.
type revWalk struct {
	ctx   context.Context
	g     *gitRepo
	r     *scanner.Run
	graph *gitobj.CommitGraph
	nodes []commitNode
	// gens is each node's generation in the commit-graph (0: not in it,
	// infinite), nil without a graph: not a field of the nodes, which
	// become the selection and would keep it to the scan's end (8 bytes
	// a commit, 16 MB at two million commits).
	gens    []uint64
	index   *nameIndex[*revWalk] // node i is i+1
	queue   nodeQueue
	shallow map[plumbing.Hash]bool
	since   int64 // commits before it are not selected; math.MinInt64 for none
	// live counts the queued nodes that may still be selected or lead to
	// one: not excluded and, with since, not known to be older.
	live    int
	edges   []int32         // the parents of the loaded nodes, as nodes
	wide    map[int32]int32 // parent counts that do not fit in a node (wideParents)
	parents []int           // scratch for the commit-graph
	phash   []plumbing.Hash // scratch for a commit's parents
	rd      *gitobj.Reader  // commits are read once each: no cache
	// looped is set when the selected commits hold a loop (topoOrder).
	looped bool
}

func newRevWalk(ctx context.Context, g *gitRepo, r *scanner.Run, set revSet, shallow map[plumbing.Hash]bool) *revWalk {
	w := &revWalk{ctx: ctx, g: g, r: r, graph: g.store.CommitGraph(), shallow: shallow, since: math.MinInt64, rd: g.store.Reader(0)}
	// A walk of everything, its nodes made room for at once: grown as it
	// goes, the last copy held the old nodes beside the new, the peak of
	// a scan's memory at a million commits, and left a quarter of them
	// unused for the selection made in them (placeInOrder).
	if n := int(g.packedCommits.Load()); set.all && n > 0 {
		n += n/64 + 64 // and loose ones
		w.nodes = make([]commitNode, 0, n)
		if w.graph != nil {
			w.gens = make([]uint64, 0, n)
		}
	}
	w.index = newNameIndex(w, cap(w.nodes))
	if !set.since.IsZero() {
		// Whole seconds, as commits have them: a commit at since's second
		// is before since only when since has a fraction of one.
		w.since = set.since.Unix()
		if set.since.Nanosecond() > 0 {
			w.since++
		}
	}
	w.queue.w = w
	return w
}

// node returns the node of commit h, made (not loaded) when new.
func (w *revWalk) node(h plumbing.Hash) int32 { return w.nodeOf(w.g.names.Ref(h)) }

// nodeOf is node of the commit r names.
func (w *revWalk) nodeOf(r gitobj.NameRef) int32 {
	if v, ok := w.index.get(r); ok {
		return v - 1
	}
	if len(w.nodes) == cap(w.nodes) && w.g.tune.seen != nil {
		w.g.tune.seen.walkGrown++
	}
	w.nodes = append(w.nodes, commitNode{hash: r})
	if w.graph != nil {
		w.gens = append(w.gens, 0)
	}
	w.index.set(int32(len(w.nodes)))
	return int32(len(w.nodes) - 1)
}

func (w *revWalk) nameOf(v int32) gitobj.NameRef { return w.nodes[v-1].hash }

// gen is node i's generation in the commit-graph; 0 when not in it.
func (w *revWalk) gen(i int32) uint64 {
	if w.gens == nil {
		return 0
	}
	return w.gens[i]
}

// load reads commit i: from the commit-graph when it has it, else from its
// object. A commit that cannot be read is reported once and left out with
// the history behind it.
func (w *revWalk) load(i int32) bool {
	n := &w.nodes[i]
	if n.flags&(nodeLoaded|nodeBroken) != 0 {
		return n.flags&nodeLoaded != 0
	}
	h := w.g.names.Hash(n.hash)
	parents := w.phash[:0]
	ok := false
	if w.g.tune.seen != nil {
		w.g.tune.seen.commitsLoaded++
	}
	if w.graph != nil {
		if pos, found := w.graph.Find(h); found {
			if c, err := w.graph.Commit(pos, w.parents); err == nil {
				w.parents = c.Parents
				n.tree, n.when, w.gens[i] = w.g.names.Ref(c.Tree), c.When, max(c.Generation, 1)
				if n.when < w.since {
					n.when = objectTime(w.rd, h, n.when)
				}
				for _, p := range c.Parents {
					ph, _ := w.graph.Hash(p)
					parents = append(parents, ph)
				}
				ok = true
			}
		}
	}
	if !ok {
		data, err := readCommitHead(w.rd, h) // a big commit: its head
		var c gitobj.CommitHead
		if err == nil {
			c, err = gitobj.ParseCommitInto(data, parents)
		}
		if err != nil {
			n.flags |= nodeBroken
			w.g.damage.name(h)
			w.r.Fail("", "commit %s is missing or corrupt (%v): it and the history behind it were not scanned; run 'git fsck' to check the repository", h, err)
			return false
		}
		n.tree, parents = w.g.names.Ref(c.Tree), c.Parents
		if !c.When.IsZero() {
			n.when = c.When.Unix()
		}
	}
	w.phash = parents
	if err := w.g.countParents(len(parents)); err != nil {
		// Left out as a commit that cannot be read is: past an excluded
		// one a range selects commits too many (its parents are not
		// marked), past an included one it leaves out those only it
		// reaches: a scan that reads only what its walk selects then
		// stops (scanHistory), and a push is rejected.
		n.flags |= nodeBroken
		w.g.refuseOctopus(w.r, h, len(parents), err)
		return false
	}
	n.flags |= nodeLoaded
	if w.shallow[h] {
		n.flags |= nodeShallow
		return true
	}
	start := int32(len(w.edges))
	for _, p := range parents {
		w.edges = append(w.edges, w.node(p)) // may grow w.nodes: n is stale from here
	}
	setParents(&w.nodes[i], start, int32(len(parents)), &w.wide)
	ps := w.parentsOf(i)
	// An excluded commit's parents are excluded as soon as they are known,
	// as git marks them when it parses the commit: a parent newer than
	// the commit (clock skew) may be read first.
	if w.nodes[i].flags&nodeExcluded != 0 {
		for _, p := range ps {
			w.exclude(p)
		}
	}
	return true
}

// objectTime returns the later of when, a commit-graph's committer time
// for commit h, and the time its object gives. The graph keeps 34 bits of
// a date (git drops the rest), so a date git reads from the object as
// past 2514 (or as 2^63, 2^64-1: "-1") can read there as an old one, as
// 0 say; --since reads the object of a commit the graph calls older.
func objectTime(rd *gitobj.Reader, h plumbing.Hash, when int64) int64 {
	data, err := readCommitHead(rd, h)
	if err != nil {
		return when
	}
	c, err := gitobj.ParseCommit(data)
	if err != nil || c.When.IsZero() {
		return when
	}
	return max(when, c.When.Unix())
}

// parentsOf returns node i's parents; the slice is valid until the next
// node is loaded.
func (w *revWalk) parentsOf(i int32) []int32 {
	n := &w.nodes[i]
	return w.edges[n.pstart : n.pstart+parentCount(n, w.wide)]
}

// mayLead reports whether node i, queued, may be selected or lead to a
// commit that may be: it is not excluded, and with since, it or (by its
// corrected commit date) one of its ancestors is not older.
func (w *revWalk) mayLead(i int32) bool {
	n := &w.nodes[i]
	if n.flags&nodeExcluded != 0 {
		return false
	}
	if w.since == math.MinInt64 {
		return true
	}
	if gen := w.gen(i); gen != 0 && w.graph.HasCorrectedDates() {
		return gen >= uint64(max(w.since, 0))
	}
	return n.when >= w.since
}

// push queues node i, loaded, unless it was queued before.
func (w *revWalk) push(i int32) {
	n := &w.nodes[i]
	if n.flags&nodeAdded != 0 || !w.load(i) {
		return
	}
	n = &w.nodes[i]
	n.flags |= nodeAdded | nodeQueued
	if w.mayLead(i) {
		w.live++
	}
	heap.Push(&w.queue, i)
}

// pop takes the newest queued node.
func (w *revWalk) pop() int32 {
	i := heap.Pop(&w.queue).(int32)
	if w.mayLead(i) {
		w.live--
	}
	w.nodes[i].flags &^= nodeQueued
	return i
}

// exclude marks node i and every loaded commit it reaches as excluded.
func (w *revWalk) exclude(i int32) {
	stack := []int32{i}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := &w.nodes[i]
		if n.flags&nodeExcluded != 0 {
			continue
		}
		if n.flags&nodeQueued != 0 && w.mayLead(i) {
			w.live--
		}
		n.flags |= nodeExcluded
		stack = append(stack, w.parentsOf(i)...)
	}
}

// run walks from the commits of include and exclude and marks the
// selected nodes.
func (w *revWalk) run(include, exclude []plumbing.Hash) error {
	for _, h := range exclude {
		i := w.node(h)
		w.exclude(i)
		w.push(i)
	}
	for _, h := range include {
		w.push(w.node(h))
	}
	left := slop
	last := int64(math.MaxInt64) // the committer time of the last commit selected
	for w.queue.Len() > 0 {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		i := w.pop()
		n := w.nodes[i]
		excluded := n.flags&nodeExcluded != 0
		old := n.when < w.since
		// A commit older than since whose corrected date is too leads to
		// none that is not.
		gen := w.gen(i)
		pruned := old && gen != 0 && w.graph.HasCorrectedDates() && gen < uint64(max(w.since, 0))
		if !pruned {
			for _, p := range w.parentsOf(i) {
				if excluded {
					w.exclude(p)
				}
				w.push(p)
			}
		}
		if excluded || old {
			if left = w.stillLive(last, left); left == 0 {
				break
			}
			continue
		}
		w.nodes[i].flags |= nodeSelected
		last = n.when
	}
	return nil
}

// stillLive is git's still_interesting: slop while a queued commit may be
// selected or the queue holds commits newer than the last selected, one
// less otherwise; 0 to stop. When every queued commit is in the
// commit-graph, their generations tell exactly: stop when none may lead
// to a selected commit.
func (w *revWalk) stillLive(last int64, left int) int {
	if w.queue.Len() == 0 {
		return 0
	}
	top := w.queue.nodes[0]
	if w.gen(top) != 0 {
		if w.live > 0 {
			return slop
		}
		return 0
	} else if last <= w.nodes[top].when {
		return slop
	}
	if w.live > 0 {
		return slop
	}
	return left - 1
}

// nodeQueue is the walk's priority queue: commits outside the
// commit-graph first, then the highest generation, then the newest
// committer time, then the first met.
type nodeQueue struct {
	w     *revWalk
	nodes []int32
}

func (q *nodeQueue) Len() int { return len(q.nodes) }
func (q *nodeQueue) Less(a, b int) bool {
	i, j := q.nodes[a], q.nodes[b]
	x, y := &q.w.nodes[i], &q.w.nodes[j]
	if gx, gy := q.w.gen(i), q.w.gen(j); gx != gy {
		if gx == 0 || gy == 0 {
			return gx == 0
		}
		return gx > gy
	}
	if x.when != y.when {
		return x.when > y.when
	}
	return i < j
}
func (q *nodeQueue) Swap(a, b int) { q.nodes[a], q.nodes[b] = q.nodes[b], q.nodes[a] }
func (q *nodeQueue) Push(x any)    { q.nodes = append(q.nodes, x.(int32)) }
func (q *nodeQueue) Pop() any {
	i := q.nodes[len(q.nodes)-1]
	q.nodes = q.nodes[:len(q.nodes)-1]
	return i
}
