package gitscan

import (
	"context"
	"slices"
	"unicode/utf8"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/loftyscan/loftyscan/finding"
)

// Which keys each commit's tree holds, for a scan that read every blob.
// A commit's tree is compared with its first parent's, folder by folder,
// as the history walk compares them (walk.go): a commit that changes one
// file of a tree of thousands costs the folders on that file's path. What
// a tree holds is kept as a count of the files holding each key, so that
// a file removed takes its keys away only when no other file still holds
// them: the commit's counts are its parent's, plus what the entries only
// the commit has hold, less what the entries only the parent has hold.
// A folder that only one side has is counted whole, once by its name.
//
// A scan that did not read every blob (a range, a push) follows only the
// paths its keys were found at (exposure.go: watch): the entries off
// those paths count for nothing, folders counted whole are remembered by
// name and path, and the files at those paths the scan did not read are
// read now.
//
// That holds whatever the trees hold, sorted or not: each entry of either
// side is counted once, paired with the other side's entry of the same
// name or alone, so the counts are the whole tree's, as if each tree had
// been counted from its root (the oracle in exposure_test.go does that).

// keyCount is how many files of a tree hold key (a bit of the exposer's
// key sets).
type keyCount struct{ key, n int32 }

// keyCounts is a tree's counts, sorted by key, without zero counts; nil
// for a tree that holds no key (most trees).
type keyCounts []keyCount

// add returns c + sign×d, leaving out the keys whose count is no longer
// positive. Neither c nor d is changed.
func (c keyCounts) add(d keyCounts, sign int32) keyCounts {
	if len(d) == 0 {
		return c
	}
	out := make(keyCounts, 0, len(c)+len(d))
	i, j := 0, 0
	for i < len(c) || j < len(d) {
		switch {
		case j == len(d) || (i < len(c) && c[i].key < d[j].key):
			out = append(out, c[i])
			i++
		case i == len(c) || d[j].key < c[i].key:
			if n := sign * d[j].n; n > 0 {
				out = append(out, keyCount{d[j].key, n})
			}
			j++
		default:
			if n := c[i].n + sign*d[j].n; n > 0 {
				out = append(out, keyCount{c[i].key, n})
			}
			i, j = i+1, j+1
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// carryDiff works out the counts of each commit of the exposer's order.
type carryDiff struct {
	x       *exposer
	ctx     context.Context
	memo    *treeMemo                   // recently read trees by name (the walk's, in step with it)
	whole   map[plumbing.Hash]keyCounts // folders counted whole
	wholeAt map[treeAt]keyCounts        // the same, by path, for a partial scan
	blobs   map[int32]keyCounts         // the counts of one file, by its key set
	delta   map[int32]int32             // the commit being compared: key → change
	stack   []pairFrame
	held    int
	frames  []keysFrame // wholeCounts' stack, kept between calls
	work    int         // entries looked at, for tests
	polls   int         // calls of stopped
	stop    bool        // ctx was done when last asked
	reads   int         // trees read from the store, for tests
}

// stopped reports whether ctx is done, asking it once every 256 calls.
// The comparison steps tens of millions of times at 400,000 commits, and
// asked at each step the context's reads cost 0.04 s of a scan's CPU in
// one build and 0.47 s in another that differed elsewhere (profiles of
// three scans each): the cache line it lies on is shared with memory
// other goroutines write. A tree read from the store (not the memo) has
// the next call ask, since a step that reads one may cost far more than
// one that does not (a crafted tree of megabytes): a stopped scan then
// reads one tree pair more at most, not hundreds.
func (d *carryDiff) stopped() bool {
	if d.polls++; d.polls&255 == 1 {
		d.stop = d.ctx.Err() != nil
	}
	return d.stop
}

// pairFrame is a folder being compared: the commit's version (a) and the
// parent's (b), the entries of each not looked at yet. A frame dropped to
// stay under treesHeld is read again from where it was.
type pairFrame struct {
	a, b           plumbing.Hash
	ad, bd         []byte
	asize, bsize   int
	askip, bskip   int
	prefix, suffix int
	depth          int
	dir            string // the folder's path, "/" included ("" for the root)
	dropped        bool
}

// commitCounts returns the file keys of every commit of the order.
func (x *exposer) commitCounts(ctx context.Context) []int32 {
	return newCarryDiff(x, ctx).commitFiles()
}

func newCarryDiff(x *exposer, ctx context.Context) *carryDiff {
	return &carryDiff{x: x, ctx: ctx, memo: &treeMemo{}, whole: map[plumbing.Hash]keyCounts{}, wholeAt: map[treeAt]keyCounts{}, blobs: map[int32]keyCounts{}, delta: map[int32]int32{}}
}

// commitFiles works out the file keys of every commit of the order,
// parents first.
func (d *carryDiff) commitFiles() []int32 {
	n := d.x.graph.len()
	counts := newCommitCounts(n)
	files := make([]int32, n)
	for i := range n {
		if d.stopped() {
			break
		}
		d.commitAt(i, counts, files)
	}
	return files
}

// commitAt works out the counts and file keys of commit i of the order,
// whose parents' are worked out.
func (d *carryDiff) commitAt(i int, counts *commitCounts, files []int32) {
	x := d.x
	tree := x.graph.tree(i)
	p := x.firstParent(i)
	c, counted := d.counted(tree, "")
	switch {
	case p < 0:
		counts.set(i, d.treeCounts(tree, "", 0))
	case x.graph.tree(p) == tree:
		counts.same(i, p)
		files[i] = files[p]
		return
	case counted: // counted whole before, as a folder or a root
		counts.set(i, c)
	default:
		pc := counts.of(p)
		c := d.diff(pc, tree, x.graph.tree(p))
		if len(c) == len(pc) && (len(c) == 0 || &c[0] == &pc[0]) {
			counts.same(i, p)
			files[i] = files[p]
			return
		}
		counts.set(i, c)
	}
	files[i] = x.setOf(counts.of(i))
}

// commitCounts is the counts of each commit of the order: a commit's
// children start from them. Most commits change no file with a key and
// carry their parent's counts: each commit holds the 4-byte number of its
// counts among those worked out, not a slice of 24 bytes (24 MB at a
// million commits). Counts are added each time a commit's are worked out
// anew (a root, a change to the keys its tree holds, a tree counted
// whole), not looked up among those held: the same counts may be held
// twice, and a history whose every commit changes them holds one a commit.
type commitCounts struct {
	at   []int32     // by position in the order: an index into held
	held []keyCounts // held[0] is no key; the others, as worked out
}

func newCommitCounts(n int) *commitCounts {
	return &commitCounts{at: make([]int32, n), held: []keyCounts{nil}}
}

// of returns the counts of commit i.
func (cc *commitCounts) of(i int) keyCounts { return cc.held[cc.at[i]] }

// same gives commit i the counts of commit p.
func (cc *commitCounts) same(i, p int) { cc.at[i] = cc.at[p] }

// set gives commit i counts c.
func (cc *commitCounts) set(i int, c keyCounts) {
	if len(c) == 0 {
		cc.at[i] = 0
		return
	}
	cc.at[i] = int32(len(cc.held))
	cc.held = append(cc.held, c)
}

// setOf is the exposer's set of the keys counted in c.
func (x *exposer) setOf(c keyCounts) int32 {
	if len(c) == 0 {
		return 0
	}
	bits := make([]int, len(c))
	for i, kc := range c {
		bits[i] = int(kc.key)
	}
	return x.sets.of(bits...)
}

// blobCounts is what one file holds: one of each key of blob h.
func (d *carryDiff) blobCounts(h plumbing.Hash) keyCounts {
	return d.setCounts(d.x.blobBits[h])
}

// setCounts is one of each key of set s.
func (d *carryDiff) setCounts(s int32) keyCounts {
	if s == 0 {
		return nil
	}
	if c, ok := d.blobs[s]; ok {
		return c
	}
	var c keyCounts
	for _, b := range d.x.sets.members(s) {
		c = append(c, keyCount{int32(b), 1})
	}
	d.blobs[s] = c
	return c
}

// entryCounts is what entry e of folder dir holds, counted whole.
func (d *carryDiff) entryCounts(e treeEntry, dir string, depth int) keyCounts {
	if d.x.watched != nil {
		switch p := dir + string(e.name); {
		case e.mode.IsFile() && d.x.watched[shownPath(p)]:
			return d.setCounts(d.x.watchedBlob(d.ctx, e.hash, p))
		case e.mode == filemode.Dir && d.x.dirs[shownPath(p+"/")]:
			return d.treeCounts(e.hash, p+"/", depth)
		}
		return nil // off the paths followed
	}
	switch {
	case e.mode.IsFile():
		return d.blobCounts(e.hash)
	case e.mode == filemode.Dir:
		return d.wholeCounts(e.hash, depth)
	}
	return nil // a submodule: another repository
}

// treeCounts is what tree h, folder dir, holds, counted whole.
func (d *carryDiff) treeCounts(h plumbing.Hash, dir string, depth int) keyCounts {
	if d.x.watched == nil {
		return d.wholeCounts(h, depth)
	}
	return d.pathCounts(h, dir, depth)
}

// shownPath is path p as the paths followed have it: as the scan's
// findings show it (finding.ValidPath), the bytes that are not UTF-8
// replaced. Two names may then look alike: the files at both are read,
// and only those that hold a key count.
func shownPath(p string) string {
	if utf8.ValidString(p) {
		return p
	}
	return finding.ValidPath(p)
}

// pathCounts is treeCounts for a partial scan: it follows the folders on
// the paths keys were found at (few, and bounded in depth: recursion is
// fine), and counts the files at those paths.
func (d *carryDiff) pathCounts(h plumbing.Hash, dir string, depth int) keyCounts {
	if c, ok := d.wholeAt[treeAt{h, dir}]; ok {
		return c
	}
	var c keyCounts
	if depth < maxExposureDepth && !d.stopped() {
		var on []treeEntry
		if data, ok := d.read(h); ok {
			for len(data) > 0 {
				e, rest, ok := nextEntry(data)
				if !ok {
					break // a malformed tree: what parsed counts
				}
				data = rest
				p := dir + string(e.name)
				if (e.mode.IsFile() && d.x.watched[shownPath(p)]) || (e.mode == filemode.Dir && d.x.dirs[shownPath(p+"/")]) {
					// A copy of the name: the folders below must not hold
					// this tree (a path thousands deep, a big tree at each).
					e.name = append([]byte(nil), e.name...)
					on = append(on, e)
				}
			}
		}
		for _, e := range on { // the files read here may evict the tree read above
			c = c.add(d.entryCounts(e, dir, depth+1), 1)
		}
	}
	d.wholeAt[treeAt{h, dir}] = c
	return c
}

// change adds sign×c to the commit's delta.
func (d *carryDiff) change(c keyCounts, sign int32) {
	for _, kc := range c {
		d.delta[kc.key] += sign * kc.n
	}
}

// carryBudget bounds the entries one comparison with a first parent
// looks at before the tree is counted whole instead. The history walk
// reads each tree once; a comparison reads the folders that differ, met
// before or not: a crafted history of trees met again, each commit's tree
// a folder of its parent's or two big trees in turn, would make every
// commit compare thousands of entries (or folders to the depth bound).
// Counted whole, a tree's folders are kept by name (wholeCounts; by name
// and path when following paths), and a tree or pair of folders counted
// before is not compared again: the work is the trees' once, as the
// history walk's, and at most carryBudget entries a commit. No commit of
// gitleaks, go-git, amazon-chime-sdk-js or the benchmark's synthetic
// history reaches it (120 entries a commit at most on average).
const carryBudget = 1024

// diff returns the counts of tree a, whose first parent's tree b has
// counts base.
func (d *carryDiff) diff(base keyCounts, a, b plumbing.Hash) keyCounts {
	clear(d.delta)
	d.stack, d.held = d.stack[:0], 0
	d.open(a, b, "", 0)
	for steps := 0; len(d.stack) > 0 && !d.stopped(); steps++ {
		if steps == carryBudget {
			// Counted whole instead: see carryBudget.
			clear(d.stack[:cap(d.stack)])
			d.stack = d.stack[:0]
			return d.treeCounts(a, "", 0)
		}
		d.step()
		d.work++
	}
	clear(d.stack[:cap(d.stack)]) // no tree stays held
	d.stack = d.stack[:0]
	if len(d.delta) == 0 {
		return base
	}
	var change keyCounts
	for k, n := range d.delta {
		if n != 0 {
			change = append(change, keyCount{k, n})
		}
	}
	if len(change) == 0 {
		return base
	}
	slices.SortFunc(change, func(p, q keyCount) int { return int(p.key) - int(q.key) })
	return base.add(change, 1)
}

// open pushes the comparison of folder a with its parent's version b, at
// dir.
func (d *carryDiff) open(a, b plumbing.Hash, dir string, depth int) {
	if depth >= maxExposureDepth {
		return // a crafted tree: the folders below are not counted
	}
	ad, aok := d.read(a)
	bd, bok := d.read(b)
	if !aok || !bok {
		// A tree that cannot be read counts as empty, as when counted whole.
		if aok {
			d.change(d.treeCounts(a, dir, depth), 1)
		}
		if bok {
			d.change(d.treeCounts(b, dir, depth), -1)
		}
		return
	}
	f := pairFrame{a: a, b: b, ad: ad, bd: bd, asize: len(ad), bsize: len(bd), depth: depth, dir: dir}
	f.prefix = commonPrefix(ad, bd)
	f.suffix = commonSuffix(ad[f.prefix:], bd[f.prefix:])
	d.stack = append(d.stack, f)
	d.held += f.asize + f.bsize
	for i := 0; d.held > treesHeld && i < len(d.stack)-1; i++ {
		if g := &d.stack[i]; !g.dropped {
			g.askip, g.bskip = g.asize-len(g.ad), g.bsize-len(g.bd)
			g.ad, g.bd, g.dropped = nil, nil, true
			d.held -= g.asize + g.bsize
		}
	}
}

// read reads tree h; a zero or unreadable name is not a tree.
func (d *carryDiff) read(h plumbing.Hash) ([]byte, bool) {
	if data, ok := d.memo.get(h); ok {
		return data, true
	}
	d.reads++
	d.polls = 0 // the next stopped asks: a read may be costly (see stopped)
	data, err := d.x.a.g.treeData(h)
	if err != nil {
		return nil, false
	}
	d.memo.put(h, data)
	return data, true
}

// step looks at the next entries of the top frame.
func (d *carryDiff) step() {
	f := &d.stack[len(d.stack)-1]
	if f.dropped {
		d.reread(f)
	}
	if len(f.ad) == len(f.bd) && len(f.ad) <= f.suffix {
		// The rest is the parent's (or both are done).
		d.held -= f.asize + f.bsize
		d.stack[len(d.stack)-1] = pairFrame{}
		d.stack = d.stack[:len(d.stack)-1]
		return
	}
	if f.prefix > 0 {
		// The entries within the common start are the parent's. One that
		// does not parse is not skipped: counted whole, a tree ends there.
		n := parsedWithin(f.ad, f.prefix)
		f.ad, f.bd, f.prefix = f.ad[n:], f.bd[n:], 0
		return
	}
	ae, arest, aok := nextEntry(f.ad)
	be, brest, bok := nextEntry(f.bd)
	if !aok {
		f.ad, arest = nil, nil // a malformed tree: what parsed counts
	}
	if !bok {
		f.bd, brest = nil, nil
	}
	depth, dir := f.depth+1, f.dir
	switch c := d.order(ae, aok, be, bok); {
	case c < 0: // only the commit has it
		f.ad = arest
		d.change(d.entryCounts(ae, dir, depth), 1)
	case c > 0: // only the parent has it
		f.bd = brest
		d.change(d.entryCounts(be, dir, depth), -1)
	case c == 0 && aok:
		f.ad, f.bd = arest, brest
		switch {
		case ae.hash == be.hash && ae.mode.IsFile() == be.mode.IsFile() && (ae.mode == filemode.Dir) == (be.mode == filemode.Dir):
		case ae.mode == filemode.Dir && be.mode == filemode.Dir:
			p := dir + string(ae.name) + "/"
			if (d.x.watched == nil || d.x.dirs[shownPath(p)]) && !d.countedPair(ae.hash, be.hash, p) {
				d.open(ae.hash, be.hash, p, depth) // f may move: not used after
			}
		default:
			d.change(d.entryCounts(ae, dir, depth), 1)
			d.change(d.entryCounts(be, dir, depth), -1)
		}
	}
}

// counted returns the counts of tree h, folder dir, when it was counted
// whole before (by name; by name and path for a partial scan).
func (d *carryDiff) counted(h plumbing.Hash, dir string) (keyCounts, bool) {
	if d.x.watched == nil {
		c, ok := d.whole[h]
		return c, ok
	}
	c, ok := d.wholeAt[treeAt{h, dir}]
	return c, ok
}

// countedPair counts the change from folder b to a, at dir, when both
// were counted whole before (see carryBudget), and reports whether it did.
func (d *carryDiff) countedPair(a, b plumbing.Hash, dir string) bool {
	ca, ok := d.counted(a, dir)
	if !ok {
		return false
	}
	cb, ok := d.counted(b, dir)
	if !ok {
		return false
	}
	d.change(ca, 1)
	d.change(cb, -1)
	return true
}

// order says which of the next entries of a folder's two versions comes
// first (negative: a's), with an entry that is not there after the rest;
// 0 when both have it (or neither has an entry left).
func (d *carryDiff) order(a treeEntry, aok bool, b treeEntry, bok bool) int {
	switch {
	case !aok && !bok:
		return 0
	case !aok:
		return 1
	case !bok:
		return -1
	}
	return compareEntries(a.name, a.mode == filemode.Dir, b.name, b.mode == filemode.Dir)
}

// reread reads dropped frame f's trees again, back where it was.
func (d *carryDiff) reread(f *pairFrame) {
	f.dropped = false
	d.held += f.asize + f.bsize
	ad, aok := d.read(f.a)
	bd, bok := d.read(f.b)
	if !aok || !bok || len(ad) != f.asize || len(bd) != f.bsize {
		f.ad, f.bd, f.suffix = nil, nil, 0 // cannot happen: a tree's bytes are its name's
		return
	}
	f.ad, f.bd = ad[f.askip:], bd[f.bskip:]
}

// wholeCounts counts tree h whole, once by its name. It is iterative and
// holds the trees on its way up to treesHeld bytes, as wholeTreeKeys
// did: a crafted chain of big trees costs reads, not memory.
func (d *carryDiff) wholeCounts(root plumbing.Hash, depth int) keyCounts {
	if c, ok := d.whole[root]; ok {
		return c
	}
	stack := d.frames[:0]
	held := 0
	var out keyCounts
	done := func(h plumbing.Hash, c keyCounts) {
		d.whole[h] = c
		if len(stack) == 0 {
			out = c
			return
		}
		f := &stack[len(stack)-1]
		f.c = f.c.add(c, 1)
	}
	open := func(h plumbing.Hash, depth int) {
		if depth >= maxExposureDepth || d.stopped() {
			done(h, nil)
			return
		}
		data, ok := d.read(h)
		if !ok {
			done(h, nil)
			return
		}
		stack = append(stack, keysFrame{h: h, rest: data, size: len(data), depth: depth})
		held += len(data)
		for i := 0; held > treesHeld && i < len(stack)-1; i++ {
			if f := &stack[i]; !f.dropped {
				held -= f.size
				f.skip, f.rest, f.dropped = f.size-len(f.rest), nil, true
			}
		}
	}
	open(root, depth)
	for len(stack) > 0 {
		d.work++
		f := &stack[len(stack)-1]
		if f.dropped {
			f.dropped = false
			held += f.size
			data, ok := d.read(f.h)
			if !ok || len(data) != f.size {
				data = nil // cannot happen: a tree's bytes are its name's
			}
			f.rest = data[min(f.skip, len(data)):]
		}
		if len(f.rest) == 0 {
			h, c := f.h, f.c
			held -= f.size
			*f = keysFrame{}
			stack = stack[:len(stack)-1]
			done(h, c)
			continue
		}
		e, rest, ok := nextEntry(f.rest)
		if !ok {
			f.rest = nil // a malformed tree: what parsed counts
			continue
		}
		f.rest = rest
		switch {
		case e.mode == filemode.Dir:
			if c, ok := d.whole[e.hash]; ok {
				f.c = f.c.add(c, 1)
			} else {
				open(e.hash, f.depth+1)
			}
		case e.mode.IsFile():
			f.c = f.c.add(d.blobCounts(e.hash), 1)
		}
	}
	d.frames = stack[:0]
	return out
}
