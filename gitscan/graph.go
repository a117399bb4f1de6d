package gitscan

import (
	"bytes"
	"container/heap"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/gitobj"
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
}

// loadCommit reads what a graph needs of a commit: its tree, parents and
// committer time. Commits are read through a cache of their own, which
// keeps the trees out of theirs.
func (g *gitRepo) loadCommit(h plumbing.Hash) (*graphCommit, error) {
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

// graphCommits returns the selected commits as graph nodes, by name, with
// the parents the selection knows (a parent it could not read, or one a
// shallow clone cut, is left out).
func (s *selection) graphCommits() map[plumbing.Hash]*graphCommit {
	out := make(map[plumbing.Hash]*graphCommit, len(s.commits))
	for i := range s.commits {
		c := &s.commits[i]
		n := &graphCommit{hash: c.hash, tree: c.tree, when: time.Unix(c.when, 0), reach: c.reach}
		for _, p := range s.parents(c) {
			n.parents = append(n.parents, s.parent(p).hash)
		}
		out[c.hash] = n
	}
	return out
}

// appendCommits adds cs, in their order, to the selection, with their
// parents as edges to the selection's commits and boundary (a parent in
// neither is left out, as the walk leaves out one it cannot read).
func (s *selection) appendCommits(cs []*graphCommit) {
	where := make(map[plumbing.Hash]int32, len(s.commits)+len(s.boundary)+len(cs))
	for i := range s.boundary {
		where[s.boundary[i].hash] = -1 - int32(i)
	}
	for i := range s.commits {
		where[s.commits[i].hash] = int32(i)
	}
	for _, c := range cs {
		start := int32(len(s.edges))
		if !c.shallow {
			for _, p := range c.parents {
				if e, ok := where[p]; ok {
					s.edges = append(s.edges, e)
				}
			}
		}
		where[c.hash] = int32(len(s.commits))
		s.commits = append(s.commits, commitNode{hash: c.hash, tree: c.tree, when: c.when.Unix(), pstart: start, pcount: int32(len(s.edges)) - start, reach: c.reach})
	}
}

// topoOrder sorts commits so that parents come before their children and,
// among the commits free to come next, the oldest committer time first
// (then the hash, so that the order is the same on every run). Clock skew
// cannot put a child before its parent.
func topoOrder(nodes map[plumbing.Hash]*graphCommit) []*graphCommit {
	pending := make(map[plumbing.Hash]int, len(nodes))
	children := make(map[plumbing.Hash][]*graphCommit, len(nodes))
	for _, c := range nodes {
		for _, p := range c.parents {
			if _, ok := nodes[p]; ok {
				pending[c.hash]++
				children[p] = append(children[p], c)
			}
		}
	}
	ready := &graphHeap{}
	for _, c := range nodes {
		if pending[c.hash] == 0 {
			*ready = append(*ready, c)
		}
	}
	heap.Init(ready)
	out := make([]*graphCommit, 0, len(nodes))
	for ready.Len() > 0 {
		c := heap.Pop(ready).(*graphCommit)
		out = append(out, c)
		for _, ch := range children[c.hash] {
			if pending[ch.hash]--; pending[ch.hash] == 0 {
				heap.Push(ready, ch)
			}
		}
	}
	return out
}

type graphHeap []*graphCommit

func (h graphHeap) Len() int { return len(h) }
func (h graphHeap) Less(i, j int) bool {
	if !h[i].when.Equal(h[j].when) {
		return h[i].when.Before(h[j].when)
	}
	return bytes.Compare(h[i].hash[:], h[j].hash[:]) < 0
}
func (h graphHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *graphHeap) Push(x any)   { *h = append(*h, x.(*graphCommit)) }
func (h *graphHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}
