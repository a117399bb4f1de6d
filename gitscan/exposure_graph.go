package gitscan

import (
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"errors"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/gitobj"
)

// refGraph is the graph of the commits the refs and HEAD reach, in an
// order where parents come first, held flat: a name, a tree and parents
// by position for each commit, no node or map per commit. A scan of a
// whole history has selected every one of them already (their order is
// the selection's); a scan of a range or of a push loads the others, from
// the commit-graph file when there is one.
type refGraph struct {
	// Commit k's name and root tree are not copied (at 400,000 commits
	// that would be 16 MB of the walk's live heap): at[k] >= 0 is its
	// place in sel.commits, -(j+1) that in extra, the commits loaded.
	//
	// When the refs reach every selected commit and nothing else (a scan
	// of everything), the graph is the selection itself: at, first,
	// pstart and pedges are nil, commit k is sel.commits[k] and its
	// parents are its edges, and n says how many there are (a walk of
	// what only reflogs reach adds commits to the selection later). The
	// four tables were 32 MB at two million commits.
	sel   *selection
	n     int
	at    []int32
	extra []hashTree
	// Each commit's first parent (-1: none in the graph) and its parents
	// (pedges[pstart[i]:pstart[i+1]]), by position.
	first  []int32
	pstart []int32
	pedges []int32
	byRef  []int32 // positions sorted by NameRef, for find
	loaded int     // commits the selection did not have, loaded
	// refused is the first commit left out for countParents, and err
	// why (refuseOctopus reports it).
	refused *graphCommit
	err     error
}

// hashTree is a loaded commit's name, root tree and NameRef.
type hashTree struct {
	hash, tree plumbing.Hash
	ref        gitobj.NameRef
}

// len is the number of commits.
func (r *refGraph) len() int { return r.n }

// isSelection says the graph is the selection's first n commits.
func (r *refGraph) isSelection() bool { return r.at == nil }

// hash is the name of commit k.
func (r *refGraph) hash(k int) plumbing.Hash {
	if r.isSelection() {
		return r.sel.hash(&r.sel.commits[k])
	}
	if a := r.at[k]; a >= 0 {
		return r.sel.hash(&r.sel.commits[a])
	}
	return r.extra[-1-r.at[k]].hash
}

// isCommit reports whether commit k is sel's commit i (sel is r's
// selection), without reading names where positions tell.
func (r *refGraph) isCommit(k int, sel *selection, i int) bool {
	if r.isSelection() {
		return k == i
	}
	if a := r.at[k]; a >= 0 {
		return int(a) == i
	}
	return r.extra[-1-r.at[k]].hash == sel.hash(&sel.commits[i])
}

// ref is the NameRef of commit k.
func (r *refGraph) ref(k int) gitobj.NameRef {
	if r.isSelection() {
		return r.sel.commits[k].hash
	}
	if a := r.at[k]; a >= 0 {
		return r.sel.commits[a].hash
	}
	return r.extra[-1-r.at[k]].ref
}

// tree is the root tree of commit k.
func (r *refGraph) tree(k int) plumbing.Hash {
	if r.isSelection() {
		return r.sel.tree(&r.sel.commits[k])
	}
	if a := r.at[k]; a >= 0 {
		return r.sel.tree(&r.sel.commits[a])
	}
	return r.extra[-1-r.at[k]].tree
}

// parents lists the places of commit k's parents.
func (r *refGraph) parents(k int) []int32 {
	if r.isSelection() {
		return r.sel.parents(&r.sel.commits[k])
	}
	return r.pedges[r.pstart[k]:r.pstart[k+1]]
}

// firstParent is the place of commit k's first parent, or -1 when it has
// none in the graph.
func (r *refGraph) firstParent(k int) int32 {
	if r.isSelection() {
		if ps := r.parents(k); len(ps) > 0 {
			return ps[0]
		}
		return -1
	}
	return r.first[k]
}

// find returns the position of commit h.
func (r *refGraph) find(h plumbing.Hash) (int, bool) {
	ref, ok := r.sel.names.Find(h)
	if !ok {
		return -1, false
	}
	i, ok := slices.BinarySearchFunc(r.byRef, ref, func(p int32, ref gitobj.NameRef) int {
		return cmp.Compare(r.ref(int(p)), ref)
	})
	if !ok {
		return -1, false
	}
	return int(r.byRef[i]), true
}

// graphNodes are the commits found from the tips, before they are put in
// order: the selected ones by their place in the selection, the others
// as loaded.
type graphNodes struct {
	sel *selection
	// selAt finds a selected commit's place in sel.commits by name, in 4
	// bytes a slot: a map was 109 MB at two million commits, the peak
	// of a scan's memory as exposure started.
	selAt    *selIndex
	visited  []bool // by place in sel.commits
	extra    []*graphCommit
	extraAt  map[plumbing.Hash]int32 // loaded commit → its place in extra; -1: cannot be read
	selected int                     // selected commits visited
	refused  *graphCommit            // the first commit left out for countParents, and why
	err      error
}

// loadRefGraph finds the commits tips reach, reusing the selection's.
func loadRefGraph(ctx context.Context, g *gitRepo, sel *selection, tips []plumbing.Hash) *refGraph {
	n := &graphNodes{sel: sel, selAt: newSelIndex(sel), visited: make([]bool, len(sel.commits)), extraAt: map[plumbing.Hash]int32{}}
	stack := slices.Clone(tips)
	for len(stack) > 0 && ctx.Err() == nil {
		h := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if i, ok := n.place(h); ok {
			if !n.visited[i] {
				n.visited[i] = true
				n.selected++
				// The parents the selection knows; its boundary's are not
				// known: those are loaded.
				for _, e := range sel.parents(&sel.commits[i]) {
					stack = append(stack, sel.hash(sel.parent(e)))
				}
			}
			continue
		}
		if _, ok := n.extraAt[h]; ok {
			continue
		}
		c, err := g.loadCommit(h)
		if errors.Is(err, errOctopusLinks) && n.refused == nil {
			n.refused = c // the first: reported by the exposer
			n.err = err
		}
		if err != nil {
			n.extraAt[h] = -1 // missing: the scan has said so, or the ref is broken
			continue
		}
		n.extraAt[h] = int32(len(n.extra))
		n.extra = append(n.extra, c)
		if !c.shallow {
			stack = append(stack, c.parents...)
		}
	}
	return n.graph()
}

// selected returns the place in sel.commits of commit h, when selected.
func (n *graphNodes) place(h plumbing.Hash) (int32, bool) {
	e, ok := n.selAt.get(h)
	return e, ok && e >= 0
}

// graph puts the nodes in order, parents first, and links them.
func (n *graphNodes) graph() *refGraph {
	if len(n.extra) == 0 && len(n.sel.boundary) == 0 && n.selected == len(n.sel.commits) {
		r := &refGraph{sel: n.sel, n: len(n.sel.commits)}
		r.byRef = sortByRef(r)
		return r
	}
	// Node k: the selected commits visited, in the selection's order (parents
	// first already), then the loaded ones.
	sels := make([]int32, 0, n.selected)
	nodeOfSel := make([]int32, len(n.sel.commits))
	for i, v := range n.visited {
		nodeOfSel[i] = -1
		if v {
			nodeOfSel[i] = int32(len(sels))
			sels = append(sels, int32(i))
		}
	}
	n.visited = nil
	total := len(sels) + len(n.extra)
	at := make([]int32, total)
	extra := make([]hashTree, len(n.extra))
	var when []int64 // only to sort the loaded commits in (topoPositions)
	if len(n.extra) > 0 {
		when = make([]int64, total)
	}
	pstart := make([]int32, total+1)
	pedges := make([]int32, 0, len(n.sel.edges)) // what the selected hold, at most: no copy as it grows
	loaded := func(h plumbing.Hash) (int32, bool) {
		if j, ok := n.extraAt[h]; ok && j >= 0 {
			return int32(len(sels)) + j, true
		}
		return -1, false
	}
	// A selected commit's parents are found by its edges, a loaded
	// one's by name.
	node := func(h plumbing.Hash) (int32, bool) {
		if i, ok := n.place(h); ok {
			return nodeOfSel[i], nodeOfSel[i] >= 0
		}
		return loaded(h)
	}
	edge := func(e int32) (int32, bool) {
		if e >= 0 {
			return nodeOfSel[e], nodeOfSel[e] >= 0
		}
		return loaded(n.sel.hash(n.sel.parent(e)))
	}
	first := make([]int32, total)
	link := func(k, i int, j int32, ok bool) {
		if ok {
			if i == 0 {
				first[k] = j
			}
			pedges = append(pedges, j)
		}
	}
	for k := range total {
		first[k] = -1
		if k < len(sels) {
			c := &n.sel.commits[sels[k]]
			at[k] = sels[k]
			if when != nil {
				when[k] = c.when
			}
			for i, e := range n.sel.parents(c) {
				j, ok := edge(e)
				link(k, i, j, ok)
			}
		} else {
			j := k - len(sels)
			c := n.extra[j]
			at[k], extra[j] = int32(-1-j), hashTree{c.hash, c.tree, n.sel.names.Ref(c.hash)}
			when[k] = c.when.Unix()
			if !c.shallow {
				for i, p := range c.parents {
					j, ok := node(p)
					link(k, i, j, ok)
				}
			}
		}
		pstart[k+1] = int32(len(pedges))
	}
	n.selAt = nil
	r := &refGraph{sel: n.sel, n: total, at: at, extra: extra, first: first, pstart: pstart, pedges: pedges, loaded: len(n.extra)}
	if len(n.extra) > 0 {
		// A loaded commit may be the parent of a selected one (the
		// selection's boundary): sort them all.
		r.reorder(topoPositions(r, when))
	}
	r.byRef = sortByRef(r)
	return r
}

// sortByRef lists r's positions in the order of their NameRefs, which
// find searches: a NameRef is a number, and one for each name, so the
// sort reads no name (sorted by name, it read each commit's in the pack
// index, a cache miss each: 1% of a scan's time at a million commits).
func sortByRef(r *refGraph) []int32 {
	type keyed struct {
		ref gitobj.NameRef
		pos int32
	}
	ks := make([]keyed, r.len())
	for i := range ks {
		ks[i] = keyed{r.ref(i), int32(i)}
	}
	slices.SortFunc(ks, func(a, b keyed) int { return cmp.Compare(a.ref, b.ref) })
	out := make([]int32, len(ks))
	for i, k := range ks {
		out[i] = k.pos
	}
	return out
}

// topoPositions orders r's commits parents first, the oldest committer
// time first among those free to come next (then the name), as topoOrder
// does: perm[k] is the commit that comes k-th.
func topoPositions(r *refGraph, when []int64) []int32 {
	total := r.len()
	pending := make([]int32, total)
	start := make([]int32, total+1)
	for k := range total {
		for _, p := range r.pedges[r.pstart[k]:r.pstart[k+1]] {
			pending[k]++
			start[p+1]++
		}
	}
	for k := range total {
		start[k+1] += start[k]
	}
	children := make([]int32, start[total])
	next := slices.Clone(start[:total])
	for k := range total {
		for _, p := range r.pedges[r.pstart[k]:r.pstart[k+1]] {
			children[next[p]] = int32(k)
			next[p]++
		}
	}
	ready := &positionHeap{r: r, when: when}
	for k := range total {
		if pending[k] == 0 {
			ready.at = append(ready.at, int32(k))
		}
	}
	heap.Init(ready)
	perm := make([]int32, 0, total)
	for ready.Len() > 0 {
		k := heap.Pop(ready).(int32)
		perm = append(perm, k)
		for _, ch := range children[start[k]:start[k+1]] {
			if pending[ch]--; pending[ch] == 0 {
				heap.Push(ready, ch)
			}
		}
	}
	return perm
}

// reorder puts the commits in the order perm gives (perm[k]: the commit
// that comes k-th). A commit perm leaves out (a cycle, which only a
// crafted commit-graph could make) is dropped, with the edges to it.
func (r *refGraph) reorder(perm []int32) {
	at := make([]int32, r.len())
	for i := range at {
		at[i] = -1
	}
	for k, old := range perm {
		at[old] = int32(k)
	}
	at2 := make([]int32, len(perm))
	first := make([]int32, len(perm))
	pstart := make([]int32, len(perm)+1)
	pedges := make([]int32, 0, len(r.pedges))
	for k, old := range perm {
		at2[k], first[k] = r.at[old], -1
		if f := r.first[old]; f >= 0 {
			first[k] = at[f]
		}
		for _, p := range r.pedges[r.pstart[old]:r.pstart[old+1]] {
			if at[p] >= 0 {
				pedges = append(pedges, at[p])
			}
		}
		pstart[k+1] = int32(len(pedges))
	}
	r.n, r.at, r.first, r.pstart, r.pedges = len(perm), at2, first, pstart, pedges
}

// positionHeap holds the commits free to come next, oldest first.
type positionHeap struct {
	r    *refGraph
	when []int64
	at   []int32
}

func (h *positionHeap) Len() int { return len(h.at) }
func (h *positionHeap) Less(i, j int) bool {
	a, b := h.at[i], h.at[j]
	if h.when[a] != h.when[b] {
		return h.when[a] < h.when[b]
	}
	ha, hb := h.r.hash(int(a)), h.r.hash(int(b))
	return bytes.Compare(ha[:], hb[:]) < 0
}
func (h *positionHeap) Swap(i, j int) { h.at[i], h.at[j] = h.at[j], h.at[i] }
func (h *positionHeap) Push(x any)    { h.at = append(h.at, x.(int32)) }
func (h *positionHeap) Pop() any {
	k := h.at[len(h.at)-1]
	h.at = h.at[:len(h.at)-1]
	return k
}
