package gitscan

import (
	"bytes"
	"context"
	"encoding/binary"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/scanner"
)

// The history walk: which blobs the selected commits introduced, and the
// first commit that held each. Each commit's tree is compared with its
// parents' trees, folder by folder, and only the entries that differ from
// every parent's at the same path are looked at: a commit that changes
// one file of a tree of thousands costs the folders on that file's path,
// not the tree. A blob is new when no commit before it in the selection's
// order held it; it is registered then, with that commit, in a table by
// object (gitobj.Table: 4 bytes an object, no map of blobs or trees), and
// its path is worked out again, by the same comparison, only for the few
// blobs a report names.
//
// Content the boundary commits (just outside the selection) had is not
// new, and a file that differs from its parent's is all the walk looks at:
// a blob a boundary commit held at another path (a rename out of the
// range's base) is read again. Whether a boundary commit holds a blob is
// asked only of blobs with findings or warnings (inBoundary), by a walk of
// the boundary's whole trees that a scan without findings never makes.

// The walk follows nested folders maxTreeDepth deep, to paths of
// maxDirPath bytes (tree.go), as git and file systems bound them: a
// crafted tree nested deeper, or with longer names, is reported and not
// followed. The folders on the way, and their parents' versions, are held
// up to treesHeld bytes in all: past that the oldest are dropped and read
// again when the walk comes back to them, so a crafted chain of trees of
// megabytes each costs reads, not memory.

// walkTreeSeen marks, in the walk's table, a tree already walked;
// walkTreePartial one walked where a skip glob left out part of it, to
// walk again where it comes again (skiptrees.go).
const (
	walkTreeSeen    = -1
	walkTreePartial = -2
)

// historyWalk walks the trees of a selection.
type historyWalk struct {
	g     *gitRepo
	r     *scanner.Run
	sel   *selection
	skip  func(string, bool) bool
	table *gitobj.Table // blob: its first commit + 1; tree walked: walkTreeSeen or walkTreePartial
	// partial notes where skip globs left something out.
	partial partialTrees
	blobs   []plumbing.Hash // the blobs registered that are still to scan
	// swept, when not nil, says which blobs were scanned already (by the
	// sweep): they are registered but not listed in blobs, which would
	// otherwise hold a name for every blob of the history.
	swept func(gitobj.Loc) bool
	diff  treeDiff

	paths    map[plumbing.Hash]string // paths worked out (pathOf)
	boundary map[plumbing.Hash]bool   // blobs the boundary's trees hold, once asked
	early    *earlyExposure           // exposure's comparison, made in step (nil: not made)

	names nameSearch // of the names the walk meets (names.go)
}

func newHistoryWalk(g *gitRepo, r *scanner.Run, sel *selection) *historyWalk {
	w := &historyWalk{g: g, r: r, sel: sel, skip: r.Options().Skip, table: g.store.NewTable(), paths: map[plumbing.Hash]string{}, partial: newPartialTrees(g)}
	w.diff = treeDiff{g: g, r: r, memo: &treeMemo{}}
	return w
}

// walkHistory walks the trees of the selection, oldest commit first, and
// registers each blob the selection introduced.
func (g *gitRepo) walkHistory(ctx context.Context, r *scanner.Run, gs *gitSink, sel *selection) *historyWalk {
	return g.walkHistoryExposing(ctx, r, gs, sel, nil, nil)
}

// walkHistoryExposing is walkHistory with exposure's comparison of the
// trees made in step with it (exposure_early.go), when early is not nil,
// and with the blobs swept (when not nil) left out of the walk's list.
func (g *gitRepo) walkHistoryExposing(ctx context.Context, r *scanner.Run, gs *gitSink, sel *selection, early *earlyExposure, swept func(gitobj.Loc) bool) *historyWalk {
	gs.commits, gs.names = sel.commits, sel.names
	if sel.shallow > 0 {
		warnShallow(r, sel.shallow)
	}
	w := newHistoryWalk(g, r, sel)
	w.swept = swept
	w.names = nameSearch{r: r}
	v := walkVisitor{w: w}
	for i := range sel.commits {
		if ctx.Err() != nil {
			break
		}
		v.commit = int32(i)
		w.diff.commit(w.sel, i, &v)
		early.commit(sel, i, w.diff.memo)
	}
	early.finish()
	w.early = early
	// The trees read stay no longer than the walk: the report's paths
	// (pathsOf) read the few they need again.
	w.diff.memo = &treeMemo{}
	gs.walk = w
	return w
}

// walkVisitor registers what one commit introduced.
type walkVisitor struct {
	w      *historyWalk
	commit int32
}

func (v *walkVisitor) tree(l gitobj.Loc, path []byte) bool {
	v.w.names.search(v.commit, path, true)
	switch v.w.table.Get(l) {
	case walkTreeSeen:
		return false
	case walkTreePartial:
		if !v.w.partial.again(v.w.r) {
			return false
		}
	}
	if len(path) > 0 && v.w.skip != nil && v.w.skip(string(path), true) {
		v.w.r.SkipQuietly(string(path), "folder excluded (--skip or the config's skip)")
		v.w.skipped(path)
		return false
	}
	if v.w.partial.holds(path) {
		v.w.table.Set(l, walkTreePartial)
	} else {
		v.w.table.Set(l, walkTreeSeen)
	}
	return true
}

// gitlink searches the name of a submodule the commit adds.
func (v *walkVisitor) gitlink(path []byte) { v.w.names.search(v.commit, path, false) }

func (v *walkVisitor) blob(l gitobj.Loc, path []byte) bool {
	v.w.names.search(v.commit, path, false)
	if v.w.table.Get(l) != 0 {
		return false
	}
	if v.w.skip != nil && v.w.skip(string(path), false) {
		// Not marked: the blob may come again at another path.
		v.w.r.SkipQuietly(string(path), "file excluded (--skip or the config's skip)")
		v.w.skipped(path)
		return false
	}
	v.w.table.Set(l, v.commit+1)
	if v.w.swept == nil || !v.w.swept(l) {
		v.w.blobs = append(v.w.blobs, l.Hash())
	}
	return false
}

// skipped notes that a glob left out path: the trees open above it,
// marked seen when the walk entered them, are partial.
func (w *historyWalk) skipped(path []byte) {
	w.partial.skipped(path)
	for i := range w.diff.stack {
		if l := w.g.store.Locate(w.diff.stack[i].h); w.table.Get(l) == walkTreeSeen {
			w.table.Set(l, walkTreePartial)
		}
	}
}

// met reports whether the walk registered blob h.
func (w *historyWalk) met(h plumbing.Hash) bool {
	return w.table.Get(w.g.store.Locate(h)) > 0
}

// origin returns where blob h was first met: its commit and path.
func (w *historyWalk) origin(h plumbing.Hash) (blobOrigin, bool) {
	v := w.table.Get(w.g.store.Locate(h))
	if v <= 0 {
		return blobOrigin{}, false
	}
	p, ok := w.paths[h]
	if !ok {
		w.pathsOf(int(v-1), []plumbing.Hash{h})
		p = w.paths[h]
	}
	return blobOrigin{commit: int(v - 1), path: p}, true
}

// originsOf works out the origins of many blobs, walking each commit once.
func (w *historyWalk) originsOf(hs []plumbing.Hash) {
	byCommit := map[int][]plumbing.Hash{}
	for _, h := range hs {
		if _, ok := w.paths[h]; ok {
			continue
		}
		if v := w.table.Get(w.g.store.Locate(h)); v > 0 {
			byCommit[int(v-1)] = append(byCommit[int(v-1)], h)
		}
	}
	for c, hs := range byCommit {
		w.pathsOf(c, hs)
	}
}

// pathsOf compares commit c's tree with its parents' again, as the walk
// did, and notes the path where each of hs first appears.
func (w *historyWalk) pathsOf(c int, hs []plumbing.Hash) {
	v := &pathVisitor{want: map[plumbing.Hash]bool{}, seen: map[plumbing.Hash]int8{}, paths: w.paths, left: len(hs), skip: w.skip, partial: &w.partial}
	for _, h := range hs {
		v.want[h] = true
	}
	d := treeDiff{g: w.g, memo: w.diff.memo} // no r: what the walk reported is not reported again
	v.diff = &d
	d.commit(w.sel, c, v)
	for _, h := range hs {
		if _, ok := w.paths[h]; !ok {
			w.paths[h] = "" // not found again: cannot happen
		}
	}
}

// pathVisitor looks for blobs in one commit's new entries, leaving out
// what the walk left out.
type pathVisitor struct {
	want  map[plumbing.Hash]bool
	seen  map[plumbing.Hash]int8 // trees walked in this commit: walkTreeSeen or walkTreePartial
	paths map[plumbing.Hash]string
	left  int
	skip  func(string, bool) bool
	// partial is the walk's: where globs left something out, and how
	// many partial trees were walked again.
	partial *partialTrees
	diff    *treeDiff
}

func (v *pathVisitor) tree(l gitobj.Loc, path []byte) bool {
	switch v.seen[l.Hash()] {
	case walkTreeSeen:
		return false
	case walkTreePartial:
		if !v.partial.again(nil) {
			return false
		}
	}
	if len(path) > 0 && v.skip != nil && v.skip(string(path), true) {
		v.skipped(path)
		return false
	}
	if v.partial.holds(path) {
		v.seen[l.Hash()] = walkTreePartial
	} else {
		v.seen[l.Hash()] = walkTreeSeen
	}
	return true
}

func (v *pathVisitor) blob(l gitobj.Loc, path []byte) bool {
	h := l.Hash()
	if !v.want[h] {
		return false
	}
	if v.skip != nil && v.skip(string(path), false) {
		v.skipped(path)
		return false
	}
	if _, ok := v.paths[h]; !ok {
		v.paths[h] = finding.ValidPath(string(path))
		v.left--
	}
	return v.left == 0
}

// skipped notes that a glob left out path, as historyWalk.skipped does.
func (v *pathVisitor) skipped(path []byte) {
	v.partial.skipped(path)
	for i := range v.diff.stack {
		if h := v.diff.stack[i].h; v.seen[h] == walkTreeSeen {
			v.seen[h] = walkTreePartial
		}
	}
}

// inBoundary reports whether a boundary commit's tree holds blob h: then
// h is not new, wherever the selection has it. A blob a boundary commit
// holds only at paths the skip globs skip is new: the scan never saw it
// there (a copy into config/ of a key under a skipped testdata/).
func (w *historyWalk) inBoundary(ctx context.Context, h plumbing.Hash) bool {
	if len(w.sel.boundary) == 0 {
		return false
	}
	if w.boundary == nil {
		w.boundary = map[plumbing.Hash]bool{}
		trees := map[plumbing.Hash]bool{}
		var roots []plumbing.Hash
		for i := range w.sel.boundary {
			if t := w.sel.tree(&w.sel.boundary[i]); !trees[t] {
				trees[t] = true
				roots = append(roots, t)
			}
		}
		if w.skip != nil {
			w.g.unskippedBlobs(ctx, w.r, roots, w.skip, w.boundary)
		} else {
			for _, t := range roots {
				w.g.treeBlobsSeen(ctx, t, w.boundary, trees)
			}
		}
	}
	return w.boundary[h]
}

// treeVisitor is told of each entry of a commit's tree that differs from
// its parents' at the same path, with its path (valid during the call):
// tree says whether to walk into a folder, blob is given a file and says
// whether to stop.
type treeVisitor interface {
	tree(l gitobj.Loc, path []byte) bool
	blob(l gitobj.Loc, path []byte) bool
}

// treeDiff compares a commit's tree with its parents', folder by folder,
// without recursion: a frame per folder open, the folder's path in one
// buffer.
type treeDiff struct {
	g     *gitRepo
	r     *scanner.Run // reports trees that cannot be read; nil: not reported
	path  []byte
	stack []diffFrame
	bases [][]byte // the parents' folders of each frame, in frame order
	match []plumbing.Hash
	deep  bool // the depth bound was reported
	memo  *treeMemo
	held  int // bytes of the trees the frames hold (not dropped)
	// Of each entry of bases: the tree's name (zero: none) and length,
	// to read it again when its frame was dropped.
	baseHash []plumbing.Hash
	baseLen  []int
}

// diffFrame is an open folder: its entries not looked at yet, and its
// parents' versions of it (bases[base:base+nbase]; nil for a parent that
// has no such folder).
type diffFrame struct {
	h           plumbing.Hash // the folder's tree
	data        []byte
	size        int // the tree's length
	base, nbase int
	dir         int // the length of the folder's path in path, "/" included
	// held is the bytes of the tree and its bases when read; a dropped
	// frame (data and bases nil) notes in skip how far it had come in
	// data, and in bases' skips how far in each base.
	held    int
	dropped bool
	skip    int
	skips   []int
	// With one parent: how many bytes data starts with that its parent's
	// version starts with too, and ends with that it ends with too. A
	// commit most often changes a file or two of a folder: the entries
	// before them are skipped without a comparison, and once what is left
	// of both is the common end, the folder is done.
	prefix, suffix int
}

// newFrame opens folder h whose parents' versions are bases[base:].
func (d *treeDiff) newFrame(h plumbing.Hash, data []byte, base, dir int) diffFrame {
	f := diffFrame{h: h, data: data, size: len(data), base: base, nbase: len(d.bases) - base, dir: dir, held: len(data)}
	for _, b := range d.bases[base:] {
		f.held += len(b)
	}
	if f.nbase == 1 {
		b := d.bases[base]
		f.prefix = commonPrefix(data, b)
		f.suffix = commonSuffix(data[f.prefix:], b[f.prefix:])
	}
	return f
}

// commit compares commit c's tree with its parents' trees.
func (d *treeDiff) commit(sel *selection, c int, v treeVisitor) {
	cn := &sel.commits[c]
	for _, p := range sel.parents(cn) {
		if sel.parent(p).tree == cn.tree {
			return // a parent's tree: nothing new
		}
	}
	root := sel.names.Loc(cn.tree)
	if !v.tree(root, nil) {
		return
	}
	data, ok := d.read(root, "")
	if !ok {
		return
	}
	d.path, d.stack, d.held = d.path[:0], d.stack[:0], 0
	d.bases, d.baseHash, d.baseLen = d.bases[:0], d.baseHash[:0], d.baseLen[:0]
	for _, p := range sel.parents(cn) {
		d.addBase(sel.tree(sel.parent(p)))
	}
	d.push(d.newFrame(root.Hash(), data, 0, 0))
	d.run(v)
	clear(d.stack[:cap(d.stack)]) // no tree stays held by the frames
	clear(d.bases[:cap(d.bases)])
}

// addBase reads a parent's version of a folder (h; zero for none) into
// bases.
func (d *treeDiff) addBase(h plumbing.Hash) {
	var data []byte
	if !h.IsZero() {
		data = d.readBase(h)
	}
	d.bases, d.baseHash, d.baseLen = append(d.bases, data), append(d.baseHash, h), append(d.baseLen, len(data))
}

// push opens frame f, then drops the oldest frames until the trees held
// are within treesHeld (or only f is left).
func (d *treeDiff) push(f diffFrame) {
	d.stack = append(d.stack, f)
	d.held += f.held
	for i := 0; d.held > treesHeld && i < len(d.stack)-1; i++ {
		if g := &d.stack[i]; !g.dropped {
			d.drop(g)
		}
	}
}

// drop lets go of frame f's tree and bases, noting how far it had come.
func (d *treeDiff) drop(f *diffFrame) {
	f.skip, f.data = f.size-len(f.data), nil
	f.skips = f.skips[:0]
	for k := range f.nbase {
		i := f.base + k
		f.skips = append(f.skips, d.baseLen[i]-len(d.bases[i]))
		d.bases[i] = nil
	}
	f.dropped = true
	d.held -= f.held
}

// reread reads dropped frame f's tree and bases again, back where it had
// come. A tree that cannot be read again as it was ends the frame.
func (d *treeDiff) reread(f *diffFrame) {
	f.dropped = false
	d.held += f.held
	if f.skip == f.size {
		f.data = nil // done: only to be closed
		return
	}
	data, ok := d.read(d.g.store.Locate(f.h), finding.ValidPath(string(d.path[:max(f.dir-1, 0)])))
	if !ok || len(data) != f.size {
		f.data = nil
		return
	}
	f.data = data[f.skip:]
	for k := range f.nbase {
		i := f.base + k
		if d.baseHash[i].IsZero() {
			continue
		}
		b := d.readBase(d.baseHash[i])
		if len(b) != d.baseLen[i] {
			b = nil // cannot happen: a tree's bytes are its name's
		}
		d.bases[i] = b[min(f.skips[k], len(b)):]
	}
}

// pop closes the top frame.
func (d *treeDiff) pop() {
	top := &d.stack[len(d.stack)-1]
	if !top.dropped {
		d.held -= top.held
	}
	clear(d.bases[top.base:])
	d.bases, d.baseHash, d.baseLen = d.bases[:top.base], d.baseHash[:top.base], d.baseLen[:top.base]
	*top = diffFrame{skips: top.skips[:0]}
	d.stack = d.stack[:len(d.stack)-1]
}

// treeMemoSize is how many trees the walk keeps by name, most recent
// first in each slot: a commit's folders are read again as the parents'
// versions when its children are walked, most often next.
const treeMemoSize = 4096

// treeMemoBytes bounds what the memo holds: 4096 trees of a crafted
// repository (a few bytes each in a pack, as deltas of one another) may be
// megabytes each.
const treeMemoBytes = 32 << 20

// treeMemo keeps recently read trees by name, in slots by the name's
// first bytes; an old tree in a slot gives way to a new one. A tree that
// would take the memo past treeMemoBytes is not kept.
type treeMemo struct {
	slots [treeMemoSize]struct {
		h    plumbing.Hash
		data []byte
	}
	held int // bytes of the trees in the slots
}

func (m *treeMemo) slot(h plumbing.Hash) int {
	return int(binary.LittleEndian.Uint16(h[:2])) % treeMemoSize
}

func (m *treeMemo) get(h plumbing.Hash) ([]byte, bool) {
	s := &m.slots[m.slot(h)]
	if s.h == h && s.data != nil {
		return s.data, true
	}
	return nil, false
}

func (m *treeMemo) put(h plumbing.Hash, data []byte) {
	s := &m.slots[m.slot(h)]
	m.held -= len(s.data)
	s.h, s.data = plumbing.ZeroHash, nil
	if m.held+len(data) > treeMemoBytes {
		return
	}
	s.h, s.data = h, data
	m.held += len(data)
}

// read reads tree l, a folder of the selection at dir. One that cannot be
// read is reported: the files in it are not scanned.
func (d *treeDiff) read(l gitobj.Loc, dir string) ([]byte, bool) {
	if data, ok := d.memo.get(l.Hash()); ok {
		return data, true
	}
	typ, data, err := d.g.rd.ReadLoc(l)
	if err == nil && typ != plumbing.TreeObject {
		err = plumbing.ErrObjectNotFound // not a tree, as go-git says
	}
	if err != nil {
		if d.r != nil {
			d.g.damage.name(l.Hash())
			d.r.Fail(dir, "tree %s is missing or corrupt (%v): its files were not scanned; run 'git fsck' to check the repository", l.Hash(), err)
		}
		return nil, false
	}
	d.memo.put(l.Hash(), data)
	return data, true
}

// readBase reads a parent's version of a folder; one that cannot be read
// counts as empty: everything in the commit's version is looked at.
func (d *treeDiff) readBase(h plumbing.Hash) []byte {
	if data, ok := d.memo.get(h); ok {
		return data
	}
	typ, data, err := d.g.rd.Read(h)
	if err != nil || typ != plumbing.TreeObject {
		return nil
	}
	d.memo.put(h, data)
	return data
}

// run walks the frames on the stack until none is left or v says stop.
func (d *treeDiff) run(v treeVisitor) {
	for len(d.stack) > 0 {
		top := &d.stack[len(d.stack)-1]
		if top.dropped {
			d.reread(top)
		}
		if len(top.data) == 0 {
			d.pop()
			if len(d.stack) > 0 {
				d.path = d.path[:d.stack[len(d.stack)-1].dir]
			}
			continue
		}
		if top.nbase == 1 {
			b := d.bases[top.base]
			if len(top.data) == len(b) && len(b) <= top.suffix {
				top.data = nil // the rest is the parent's
				continue
			}
			if top.prefix > 0 {
				// The entries within the common start are the parent's.
				n := entriesWithin(top.data, top.prefix)
				top.data, d.bases[top.base] = top.data[n:], b[n:]
				top.prefix = 0
				continue
			}
		}
		e, rest, ok := nextEntry(top.data)
		if !ok {
			// A malformed tree: what parsed was looked at.
			top.data = nil
			continue
		}
		top.data = rest
		if d.inBase(top, e) {
			continue
		}
		switch {
		case e.mode.IsFile():
			d.path = append(d.path[:top.dir], e.name...)
			if v.blob(d.g.store.Locate(e.hash), d.path) {
				d.stack = d.stack[:0]
				return
			}
		case e.mode == filemode.Dir:
			d.path = append(d.path[:top.dir], e.name...)
			l := d.g.store.Locate(e.hash)
			if !v.tree(l, d.path) {
				continue
			}
			if len(d.stack) >= maxTreeDepth || len(d.path) >= maxDirPath {
				if !d.deep && d.r != nil {
					d.deep = true
					d.r.FailUnscanned(finding.ValidPath(string(d.path)), "tree %s nested more than %d folders deep or with a path longer than %d bytes, as only a crafted tree is: the folders below were not scanned", e.hash, maxTreeDepth, maxDirPath)
				}
				continue
			}
			data, ok := d.read(l, finding.ValidPath(string(d.path)))
			if !ok {
				continue
			}
			// The parents' versions of this folder.
			base := len(d.bases)
			for k := range top.nbase {
				d.addBase(d.match[k])
			}
			d.path = append(d.path, '/')
			d.push(d.newFrame(e.hash, data, base, len(d.path)))
		default:
			// Submodules (gitlinks) are other repositories: not read, but
			// their names are the tree's (a key can be one).
			if nv, ok := v.(linkVisitor); ok {
				d.path = append(d.path[:top.dir], e.name...)
				nv.gitlink(d.path)
			}
		}
	}
}

// linkVisitor is a treeVisitor that also meets the gitlinks a commit
// adds (their names only).
type linkVisitor interface {
	gitlink(path []byte)
}

// inBase reports whether a parent's version of the folder has entry e as
// it is (same name, same object). It moves each parent's entries on past
// e, in git's tree order, and notes in match the folder each parent has
// under e's name (the zero hash for none).
func (d *treeDiff) inBase(f *diffFrame, e treeEntry) bool {
	same := false
	d.match = d.match[:0]
	eDir := e.mode == filemode.Dir
	for k := range f.nbase {
		b := d.bases[f.base+k]
		var m plumbing.Hash
		for len(b) > 0 {
			be, rest, ok := nextEntry(b)
			if !ok {
				b = nil
				break
			}
			bDir := be.mode == filemode.Dir
			c := compareEntries(be.name, bDir, e.name, eDir)
			if c > 0 {
				break
			}
			b = rest
			if c == 0 {
				if be.hash == e.hash {
					same = true
				} else if bDir {
					m = be.hash
				}
				break
			}
		}
		d.bases[f.base+k] = b
		d.match = append(d.match, m)
	}
	return same
}

// compareEntries orders tree entries as git sorts them: by name, a folder's
// as if it ended in "/".
func compareEntries(a []byte, aDir bool, b []byte, bDir bool) int {
	n := min(len(a), len(b))
	if c := bytes.Compare(a[:n], b[:n]); c != 0 {
		return c
	}
	next := func(name []byte, dir bool) int {
		if len(name) > n {
			return int(name[n])
		}
		if dir {
			return '/'
		}
		return 0
	}
	x, y := next(a, aDir), next(b, bDir)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

const hashLen = 20
