package gitscan

import (
	"bytes"
	"container/heap"
	"fmt"
	"slices"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/scanner"
)

// Commit graphs beside the selection: the commits no ref reaches
// (reflog.go) and the graph of every ref that exposure reads (exposure.go)
// are walked with a node per commit that holds its parents' names. They
// are walked after the selection, and exposure only for a scan with
// findings; the selection itself, which every scan makes, keeps flat nodes
// without pointers (revwalk.go).

// graphCommit is a commit of such a graph.
type graphCommit struct {
	hash    plumbing.Hash
	tree    plumbing.Hash
	parents []plumbing.Hash
	when    time.Time // committer time
	shallow bool      // the clone was cut here: its parents are not in the repository
	reach   reachKind // what reaches it (reflog.go)
	// fromGraph says it was read from the commit-graph, which keeps 34
	// bits of when (objectTime)
	fromGraph bool
}

// maxOctopusLinks is how many parents past each commit's second (the
// parents of octopus merges) a scan's walks read in all. Each walk keeps
// every parent link it reads until it ends, 4 to 20 bytes each, and the
// links of a history are not bounded by its size: a commit naming 100,000
// commits is a delta of 100 bytes against another that names them too,
// so a crafted pack of a few megabytes can name billions. Real histories
// name a few thousand (the Linux kernel's largest merge has 66 parents).
const maxOctopusLinks = 4 << 20

// errOctopusLinks is the error of a walk that reached maxOctopusLinks.
var errOctopusLinks = fmt.Errorf("the history's merges name more than %d parents past each one's second, as only a history crafted to exhaust memory does (list them with 'git rev-list --min-parents=3 --all')", maxOctopusLinks)

// countParents counts the parents of a commit a walk has read against
// maxOctopusLinks: an error once the scan's walks have read more.
func (g *gitRepo) countParents(n int) error {
	if n <= 2 {
		return nil
	}
	limit := int64(maxOctopusLinks)
	if g.tune.octopusLinks != 0 {
		limit = g.tune.octopusLinks
	}
	if g.octopusLinks.Add(int64(n-2)) > limit {
		return errOctopusLinks
	}
	return nil
}

// refuseOctopus reports commit h, of n parents, left out of a walk by
// countParents: the first such commit of a scan, counted as an error,
// for all of them (a crafted history may hold thousands).
func (g *gitRepo) refuseOctopus(r *scanner.Run, h plumbing.Hash, n int, err error) {
	if g.octopusRefused.Add(1) == 1 {
		r.Fail("", "commit %s names %d parents, and %v: it, any merge of more than two parents met after it, and the history only they reach were not scanned", h, n, err)
	}
}

// loadCommit reads what a graph needs of a commit: its tree, parents and
// committer time, from the commit-graph file when the repository has one
// that holds it (as the selection's walk does: revwalk.go), else from the
// commit. Commits are read through a cache of their own, which keeps the
// trees out of theirs.
func (g *gitRepo) loadCommit(h plumbing.Hash) (*graphCommit, error) {
	c, err := g.readGraphCommit(h)
	if err != nil {
		return nil, err
	}
	return c, g.countParents(len(c.parents))
}

// readGraphCommit is loadCommit without the count of its parents.
func (g *gitRepo) readGraphCommit(h plumbing.Hash) (*graphCommit, error) {
	if c, ok := g.graphCommit(h); ok {
		return c, nil
	}
	data, err := g.commitHead(h) // a big commit: its head
	if err != nil {
		return nil, err
	}
	c, err := gitobj.ParseCommit(data)
	if err != nil {
		return nil, err
	}
	return &graphCommit{hash: h, tree: c.Tree, parents: c.Parents, when: c.When}, nil
}

// graphCommit reads commit h from the commit-graph file, if it holds it.
func (g *gitRepo) graphCommit(h plumbing.Hash) (*graphCommit, bool) {
	cg := g.store.CommitGraph()
	if cg == nil {
		return nil, false
	}
	pos, found := cg.Find(h)
	if !found {
		return nil, false
	}
	c, err := cg.Commit(pos, nil)
	if err != nil {
		return nil, false
	}
	n := &graphCommit{hash: h, tree: c.Tree, when: time.Unix(c.When, 0), parents: make([]plumbing.Hash, 0, len(c.Parents)), fromGraph: true}
	for _, p := range c.Parents {
		ph, ok := cg.Hash(p)
		if !ok {
			return nil, false
		}
		n.parents = append(n.parents, ph)
	}
	return n, true
}

// appendCommits adds cs, in their order, to the selection, with their
// parents as edges to the selection's commits and boundary (a parent in
// neither is left out, as the walk leaves out one it cannot read), and
// indexes them in x, the selection's index.
func (s *selection) appendCommits(cs []*graphCommit, x *selIndex) {
	for _, c := range cs {
		start := int32(len(s.edges))
		if !c.shallow {
			for _, p := range c.parents {
				if e, ok := x.get(p); ok {
					s.edges = append(s.edges, e)
				}
			}
		}
		s.commits = append(s.commits, commitNode{hash: s.names.Ref(c.hash), tree: s.names.Ref(c.tree), when: c.when.Unix(), reach: c.reach})
		setParents(&s.commits[len(s.commits)-1], start, int32(len(s.edges))-start, &s.wide)
		x.set(int32(len(s.commits) - 1))
	}
}

// topoOrder sorts commits so that parents come before their children and,
// among the commits free to come next, the oldest committer time first
// (then the hash, so that the order is the same on every run). Clock skew
// cannot put a child before its parent. The graph is held by position
// (one name lookup per edge): at 400,000 commits, maps of pending counts
// and children cost a second.
func topoOrder(nodes map[plumbing.Hash]*graphCommit) []*graphCommit {
	list := make([]*graphCommit, 0, len(nodes))
	for _, c := range nodes {
		list = append(list, c)
	}
	at := make(map[plumbing.Hash]int32, len(list))
	for i, c := range list {
		at[c.hash] = int32(i)
	}
	// The edges, parent → child, as lists of children by parent.
	var pairs [][2]int32
	start := make([]int32, len(list)+1)
	pending := make([]int32, len(list))
	for i, c := range list {
		for _, p := range c.parents {
			if j, ok := at[p]; ok {
				pairs = append(pairs, [2]int32{j, int32(i)})
				start[j+1]++
				pending[i]++
			}
		}
	}
	for i := range list {
		start[i+1] += start[i]
	}
	children := make([]int32, len(pairs))
	next := slices.Clone(start[:len(list)])
	for _, e := range pairs {
		children[next[e[0]]] = e[1]
		next[e[0]]++
	}
	ready := &graphHeap{list: list}
	for i := range list {
		if pending[i] == 0 {
			ready.at = append(ready.at, int32(i))
		}
	}
	heap.Init(ready)
	out := make([]*graphCommit, 0, len(list))
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int32)
		out = append(out, list[i])
		for _, ch := range children[start[i]:start[i+1]] {
			if pending[ch]--; pending[ch] == 0 {
				heap.Push(ready, ch)
			}
		}
	}
	return out
}

// graphHeap holds the commits free to come next, by position in list,
// oldest first.
type graphHeap struct {
	list []*graphCommit
	at   []int32
}

func (h *graphHeap) Len() int { return len(h.at) }
func (h *graphHeap) Less(i, j int) bool {
	a, b := h.list[h.at[i]], h.list[h.at[j]]
	if !a.when.Equal(b.when) {
		return a.when.Before(b.when)
	}
	return bytes.Compare(a.hash[:], b.hash[:]) < 0
}
func (h *graphHeap) Swap(i, j int) { h.at[i], h.at[j] = h.at[j], h.at[i] }
func (h *graphHeap) Push(x any)    { h.at = append(h.at, x.(int32)) }
func (h *graphHeap) Pop() any {
	i := h.at[len(h.at)-1]
	h.at = h.at[:len(h.at)-1]
	return i
}
