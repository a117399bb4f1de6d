package gitscan

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/internal/nonblock"
	"github.com/loftyscan/loftyscan/scanner"
)

// Commits no ref reaches. An amended commit, a branch reset past its old
// tip, an old stash entry: git keeps them while a reflog names them (90
// days by default), and every commit, reachable or not, until git gc
// prunes it. A copied .git folder (a backup, a Docker build context)
// carries them all. A scan of everything reads them after the commits
// refs reach, in two layers: those a reflog reaches, then the rest of the
// commits in the object database. A key is reported at a commit of a
// later layer only when no commit of an earlier one holds it.

// reachKind says what reaches a selected commit.
type reachKind uint8

const (
	reachRefs    reachKind = iota // a ref or HEAD
	reachReflog                   // only a reflog entry
	reachNothing                  // nothing: kept only in the object database
)

// reach names k as finding.Reach does.
func (k reachKind) reach() finding.Reach {
	switch k {
	case reachReflog:
		return finding.ReachReflog
	case reachNothing:
		return finding.ReachNothing
	}
	return finding.ReachRefs
}

// maxReflogLine bounds the part of a reflog line that is read: the two
// object names come first, and the message after them can be any length.
const maxReflogLine = 4 << 10

// reflogTips lists the commits the reflogs name, both the old and the new
// side of each entry: logs/HEAD and every log under logs/refs of the
// repository, and each linked worktree's logs/HEAD. Entries whose commit is
// gone (a reflog older than a prune) are left out.
func (g *gitRepo) reflogTips() []plumbing.Hash {
	seen := map[plumbing.Hash]bool{}
	var out []plumbing.Hash
	add := func(h plumbing.Hash) {
		// Only objects the repository holds are remembered: a reflog
		// of 2,000,000 entries naming objects that are not there (a
		// pruned history, or a crafted one) took 386 MB and 22 s of
		// CPU, to keep and look up 4 million names (Has is a lookup in
		// the packs' indexes and the listing of loose objects).
		if h.IsZero() || seen[h] || !g.has(h) {
			return
		}
		seen[h] = true
		if c, err := g.peelToCommit(h); err == nil && !c.IsZero() {
			out = append(out, c)
		}
	}
	var files []string
	dirs := []string{filepath.Join(g.loc.CommonDir, "logs")}
	if g.loc.GitDir != g.loc.CommonDir {
		files = append(files, filepath.Join(g.loc.GitDir, "logs", "HEAD"))
	}
	if wts, err := os.ReadDir(filepath.Join(g.loc.CommonDir, "worktrees")); err == nil {
		for _, wt := range wts {
			files = append(files, filepath.Join(g.loc.CommonDir, "worktrees", wt.Name(), "logs", "HEAD"))
		}
	}
	for _, d := range dirs {
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.Type().IsRegular() {
				files = append(files, p)
			}
			return nil
		})
	}
	for _, name := range files {
		readReflog(name, add)
	}
	return out
}

// readReflog calls add with the object names of each entry of the reflog
// file name: "<old> <new> <who> <when>\t<message>" a line. A line that is
// not one is skipped.
func readReflog(name string, add func(plumbing.Hash)) {
	f, _, err := nonblock.OpenRegular(name)
	if err != nil {
		return
	}
	defer f.Close()
	_ = nonblock.EachLine(f, maxReflogLine, func(line []byte, _ bool) { // a read error: the rest is not read
		if len(line) >= 82 && line[40] == ' ' && line[81] == ' ' {
			for _, id := range [][]byte{line[:40], line[41:81]} {
				if plumbing.IsHash(string(id)) {
					add(plumbing.NewHash(string(id)))
				}
			}
		}
	})
}

// walkHidden adds the commits no ref reaches to the selection, after the
// others: those a reflog reaches, then the commits in dangling that
// nothing reaches (the object database's commits, for a scan of
// everything; nil otherwise). It walks their trees and registers, under
// the first hidden commit that holds it, each blob no selected commit
// registered. It returns those blobs, to scan.
func (g *gitRepo) walkHidden(ctx context.Context, r *scanner.Run, gs *gitSink, sel *selection, since time.Time, dangling []plumbing.Hash) []plumbing.Hash {
	known := &knownCommits{sel: sel, index: newSelIndex(sel), hidden: map[plumbing.Hash]*graphCommit{}}
	shallow := g.shallowCommits()
	var blobs []plumbing.Hash
	for _, layer := range []struct {
		kind reachKind
		tips []plumbing.Hash
	}{{reachReflog, g.reflogTips()}, {reachNothing, dangling}} {
		if ctx.Err() != nil {
			break
		}
		found := g.reachHidden(ctx, r, layer.tips, known, shallow)
		chosen := map[plumbing.Hash]*graphCommit{}
		for h, c := range found {
			known.hidden[h] = c
			if !since.IsZero() && c.when.Before(since) && c.fromGraph {
				c.when = time.Unix(objectTime(g.crd, h, c.when.Unix()), 0)
			}
			if since.IsZero() || !c.when.Before(since) {
				c.reach = layer.kind
				chosen[h] = c
			}
		}
		if len(chosen) == 0 {
			continue
		}
		from := len(sel.commits)
		order := topoOrder(chosen)
		gs.mu.Lock()
		sel.addAgedParents(order, chosen, known)
		sel.appendCommits(order, known.index)
		gs.commits, gs.names = sel.commits, sel.names
		gs.mu.Unlock()
		blobs = append(blobs, g.walkLayer(ctx, r, gs, sel, from, order, chosen, known)...)
	}
	return blobs
}

// unselected returns the commits of cs that neither sel nor its boundary
// holds, in their order: what walkHidden would look further at. Its index
// of sel is not kept for walkHidden: held through the walk, it would cost
// the memory cutting the list saves (walkHidden builds its own, about a
// tenth of a second at a million commits).
func unselected(sel *selection, cs []gitobj.NameRef) []plumbing.Hash {
	x := newSelIndex(sel)
	var out []plumbing.Hash
	for _, c := range cs {
		if _, ok := x.getRef(c); !ok {
			out = append(out, sel.names.Hash(c))
		}
	}
	return out
}

// knownCommits is what walkHidden knows of commits: the selection's and
// its boundary's, through the selection's index (a hidden commit chosen
// is added to the selection, and to the index), and the hidden commits it
// loaded, chosen or not (older than --since).
type knownCommits struct {
	sel    *selection
	index  *selIndex
	hidden map[plumbing.Hash]*graphCommit
}

// has reports whether commit h is known.
func (k *knownCommits) has(h plumbing.Hash) bool {
	if _, ok := k.index.get(h); ok {
		return true
	}
	return k.hidden[h] != nil
}

// get returns known commit h's tree and committer time, and whether it is
// selected (not in the boundary, not a hidden commit left out).
func (k *knownCommits) get(h plumbing.Hash) (tree plumbing.Hash, when int64, selected, ok bool) {
	if e, found := k.index.get(h); found {
		c := k.sel.parent(e)
		return k.sel.tree(c), c.when, e >= 0, true
	}
	if c := k.hidden[h]; c != nil {
		return c.tree, c.when.Unix(), false, true
	}
	return plumbing.ZeroHash, 0, false, false
}

// addAgedParents adds to sel's boundary, and to known's index, the
// parents of the layer's commits (cs; chosen by name) that were loaded and
// left out as older than --since: their keys are not new to the commits
// that descend from them. Made before the layer's commits are appended,
// so that their edges name them.
func (s *selection) addAgedParents(cs []*graphCommit, chosen map[plumbing.Hash]*graphCommit, known *knownCommits) {
	for _, c := range cs {
		for _, p := range c.parents {
			if chosen[p] != nil {
				continue
			}
			if _, ok := known.index.get(p); ok {
				continue // selected, or in the boundary already
			}
			if h := known.hidden[p]; h != nil {
				s.boundary = append(s.boundary, commitNode{hash: s.names.Ref(p), tree: s.names.Ref(h.tree), when: h.when.Unix()})
				known.index.set(-int32(len(s.boundary)))
			}
		}
	}
}

// reachHidden loads the commits reachable from tips that are not known,
// as reach does. A commit that cannot be read is reported once.
func (g *gitRepo) reachHidden(ctx context.Context, r *scanner.Run, tips []plumbing.Hash, known *knownCommits, shallow map[plumbing.Hash]bool) map[plumbing.Hash]*graphCommit {
	found := map[plumbing.Hash]*graphCommit{}
	broken := map[plumbing.Hash]bool{}
	stack := append([]plumbing.Hash(nil), tips...)
	for len(stack) > 0 && ctx.Err() == nil {
		h := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if found[h] != nil || broken[h] || known.has(h) {
			continue
		}
		c, err := g.loadCommit(h)
		if errors.Is(err, errOctopusLinks) {
			broken[h] = true
			g.refuseOctopus(r, h, len(c.parents), err)
			continue
		}
		if err != nil {
			broken[h] = true
			g.damage.name(h)
			r.Fail("", "commit %s is missing or corrupt (%v): it and the history behind it were not scanned; run 'git fsck' to check the repository", h, err)
			continue
		}
		c.shallow = shallow[h]
		found[h] = c
		if !c.shallow {
			stack = append(stack, c.parents...)
		}
	}
	return found
}

// walkLayer walks the trees of sel.commits[from:], the commits of one
// hidden layer (layer, in that order; chosen by name), after the trees of
// their parents outside the layer, which are marked seen: only what the
// layer's commits introduced is registered, and only when no earlier
// commit registered it (gitSink.met: by hand, or met by the history walk).
func (g *gitRepo) walkLayer(ctx context.Context, r *scanner.Run, gs *gitSink, sel *selection, from int, layer []*graphCommit, chosen map[plumbing.Hash]*graphCommit, known *knownCommits) []plumbing.Hash {
	seenBlobs := map[plumbing.Hash]bool{}
	skip := r.Options().Skip
	trees := newTreeMarks(g, skip) // skiptrees.go
	commit := -1
	var blobs []plumbing.Hash
	names := nameSearch{r: r}
	// The parents' trees are read as the layer's are, skip globs
	// included: a blob a parent holds only at a skipped path is new to
	// the layer at another. The names of the files and folders a commit
	// of the layer brings (a blob or tree no earlier commit had) are
	// searched: not those of what a parent had, nor a submodule's.
	search := func(dir string, name []byte, isDir bool) {
		if commit >= 0 && scanner.MayHoldKey(name) {
			names.search(int32(commit), []byte(dir+string(name)), isDir)
		}
	}
	w := &treeWalk{g: g, entry: func(dir string, name []byte, mode filemode.FileMode, h plumbing.Hash) bool {
		switch {
		case mode.IsFile():
			if seenBlobs[h] {
				return false
			}
			search(dir, name, false)
			p := dir + string(name)
			if skip != nil && skip(p, false) {
				if commit >= 0 {
					r.SkipQuietly(p, "file excluded (--skip or the config's skip)")
				}
				trees.skipped(p)
				return false
			}
			seenBlobs[h] = true
			if commit < 0 {
				return false
			}
			if !gs.met(h) {
				gs.register(h, blobOrigin{commit: commit, path: finding.ValidPath(p)})
				blobs = append(blobs, h)
			}
		case mode == filemode.Dir:
			if trees.done(r, h) {
				return false
			}
			search(dir, name, true)
			if p := dir + string(name); skip != nil && skip(p, true) {
				trees.skipped(p)
				return false
			}
			trees.enter(h, dir+string(name)+"/")
			return true
		}
		return false
	}, broken: func(dir string, h plumbing.Hash, err error) {
		if commit >= 0 {
			g.damage.name(h)
			r.Fail(dir, "tree %s is missing or corrupt (%v): its files were not scanned; run 'git fsck' to check the repository", h, err)
		}
	}}
	root := func(t plumbing.Hash) {
		if !trees.done(r, t) {
			trees.enter(t, "")
			w.walk(ctx, t, "")
		}
	}
	inBoundary := map[plumbing.Hash]bool{}
	for _, c := range layer {
		for _, p := range c.parents {
			if chosen[p] != nil || inBoundary[p] {
				continue
			}
			inBoundary[p] = true
			tree, _, _, ok := known.get(p)
			if !ok {
				continue // missing: reported when it was reached
			}
			root(tree)
		}
	}
	for i := from; i < len(sel.commits) && ctx.Err() == nil; i++ {
		commit = i
		root(sel.tree(&sel.commits[i]))
	}
	return blobs
}
