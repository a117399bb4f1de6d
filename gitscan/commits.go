package gitscan

import (
	"bytes"
	"container/heap"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/scanner"
)

// Commit selection: which commits a scan reads, from the refs and
// revisions given, in the order the walk takes them (parents first).

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
	reach     reachKind // what reaches it: a ref, only a reflog, nothing (reflog.go)
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
// refs/stash, and a detached HEAD. The older stash entries, and every
// other commit a reflog names, come after (walkHidden). The refs are read
// as refs.go reads them: a damaged packed-refs is warned about, and the
// refs it still names are kept.
func (g *gitRepo) tips(r *scanner.Run, remotesOnly bool) ([]plumbing.Hash, error) {
	var out []plumbing.Hash
	for _, ref := range g.refs(r) {
		if remotesOnly && !ref.Name().IsRemote() {
			continue
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
	}
	if remotesOnly {
		return out, nil
	}
	if h, err := g.head(); err == nil && !h.IsZero() {
		out = append(out, h)
	}
	return out, nil
}

// loadCommit reads what a walk needs of a commit: its tree, parents and
// committer time. describe adds what a report shows. Commits are read
// through a cache of their own: they are read once, all before the trees,
// and would push the trees out of theirs.
func (g *gitRepo) loadCommit(h plumbing.Hash) (*commitNode, error) {
	data, err := g.commitHead(h)
	if err != nil {
		return nil, err
	}
	return parseCommitHead(h, data)
}

// commitHeadMax is how much of a big commit is read: its headers (tree,
// parents, author, committer, a signature) and the start of its message.
// A message can be any size, and a commit of a hundred megabytes is not
// held; its headers end well before this.
const commitHeadMax = 1 << 20

// commitHead returns commit h's content, or for a big one (over 32 MiB,
// streamed by the store) its first commitHeadMax bytes, which must hold
// all its headers.
func (g *gitRepo) commitHead(h plumbing.Hash) ([]byte, error) {
	o, err := g.crd.Open(h)
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
	head := make([]byte, commitHeadMax)
	if _, err := io.ReadFull(o.Stream, head); err != nil {
		return nil, err
	}
	if !bytes.Contains(head, []byte("\n\n")) {
		return nil, fmt.Errorf("commit of %d bytes whose headers take more than %d", o.Size, commitHeadMax)
	}
	return head, nil
}

// parseCommitHead reads what loadCommit returns from a commit's bytes.
func parseCommitHead(h plumbing.Hash, data []byte) (*commitNode, error) {
	c, err := gitobj.ParseCommit(data)
	if err != nil {
		return nil, err
	}
	return &commitNode{hash: h, tree: c.Tree, parents: c.Parents, when: c.When}, nil
}

// describe fills in the author, date and subject of a commit loaded by
// loadCommit: only commits with findings need them. The subject is cut
// at gitobj.MaxSubject bytes: a message is any size.
func (g *gitRepo) describe(c *commitNode) {
	if c.described {
		return
	}
	c.described = true
	if data, err := g.commitHead(c.hash); err == nil {
		info := gitobj.ParseCommitInfo(data)
		c.author, c.email, c.date, c.subject = info.Author, info.Email, info.When, info.Subject
	}
}

// reach loads every commit reachable from tips by a walk over parents,
// leaving out those in stop. A commit that cannot be read is reported once
// and its history is not followed.
func (g *gitRepo) reach(ctx context.Context, r *scanner.Run, tips []plumbing.Hash, stop map[plumbing.Hash]*commitNode, shallow map[plumbing.Hash]bool, broken map[plumbing.Hash]bool) (map[plumbing.Hash]*commitNode, error) {
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
			r.Fail("", "commit %s is missing or corrupt (%v): it and the history behind it were not scanned; run 'git fsck' to check the repository", h, err)
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
func (g *gitRepo) selectCommits(ctx context.Context, r *scanner.Run, set revSet) (*selection, error) {
	shallow := map[plumbing.Hash]bool{}
	if hs, err := g.st.Shallow(); err == nil {
		for _, h := range hs {
			shallow[h] = true
		}
	}
	include := set.include
	if set.all {
		tips, err := g.tips(r, false)
		if err != nil {
			return nil, err
		}
		include = append(include, tips...)
	}
	exclude := set.exclude
	if set.excludeRemotes {
		tips, err := g.tips(r, true)
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
