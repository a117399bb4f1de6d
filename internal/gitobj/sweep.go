package gitobj

import (
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"math"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/go-git/go-git/v5/plumbing"
)

// The pack sweep reads many blobs of a pack at once, in the pack's own
// order rather than the history's. Git stores most versions of a file as
// deltas against another version, in chains; reading blobs one by one
// re-inflates each chain's base and intermediate versions again and
// again, or needs a big cache. The sweep instead builds the delta forest
// from the object headers, and walks each tree of it depth first from its
// whole base: every object is inflated once, and each delta is applied to
// its parent's bytes, still held in a buffer. The delta trees are shared
// out to the workers, biggest first.

// sweepHeldBytes bounds the resolved objects a sweep's workers keep, all
// together, for the deltas still to apply to them; each worker keeps its
// share (at least one object of the largest size). Past it, a parent is
// dropped and resolved again (from its chain) when its next child comes:
// slower, but memory stays bounded whatever the pack holds.
const sweepHeldBytes = 192 << 20

// sweepPlan is the delta forest of one pack, restricted to the subtrees
// that hold a wanted object.
type sweepPlan struct {
	pi    int
	p     *packFile
	pos   []int32     // index position of each object, in pack order
	offs  packOffsets // pack offset of each object, in pack order
	want  []bool
	need  []bool  // want, or an object below it is wanted
	kids  []int32 // children of object i: kids[start[i]:start[i+1]]
	start []int32
	whole bool                  // a plan of the whole pack, in pack order (else of some objects)
	node  map[int32]int32       // in a plan of some objects: the node of each wanted index position
	types []plumbing.ObjectType // what each object resolves to; 0 when unknown
	done  doneBits              // delivered to visit, in pack order
	roots []int32
}

// planSweep reads the headers of every object in pack pi and builds the
// delta forest. want is asked about each object, by its index position
// and name (it is called from one goroutine). It returns nil when no
// object is wanted.
//
// It reads the header of every object of the pack, which takes a while on
// a big one (about half a second of CPU for 356,000 objects): once ctx is
// done it stops and returns nil, so that a caller with a deadline (a
// pre-receive hook) is not held past it.
func (s *Store) planSweep(ctx context.Context, pi int, kinds Types, want func(pos int32, name []byte) bool) *sweepPlan {
	p := s.packs[pi]
	pl := &sweepPlan{pi: pi, p: p}
	pl.pos, pl.offs = p.packOrderPacked()
	n := len(pl.pos)
	pl.want = make([]bool, n)
	any := false
	for i := range n {
		if i%4096 == 0 && ctx.Err() != nil {
			return nil
		}
		if want(pl.pos[i], p.idx.name(int(pl.pos[i]))) {
			pl.want[i] = true
			any = true
		}
	}
	if !any {
		return nil
	}
	// parent of each object: -1 for a whole object (a root), -2 for a
	// delta whose base is in another pack (also a root), -3 for one that
	// cannot be read.
	parent := make([]int32, n)
	pl.types = make([]plumbing.ObjectType, n)
	// The pack order of each index position, for reference deltas: not
	// kept after planning (4 bytes an object through the sweep), and made
	// at the first one only (a pack git or fast-import writes has none:
	// 32 MB at 8 million objects, beside the plan's tables).
	var inv []int32
	pl.whole = true
	for i := range n {
		if i%4096 == 0 && ctx.Err() != nil {
			return nil
		}
		parent[i] = -3
		off := pl.offs.at(int32(i))
		if off < 0 {
			continue
		}
		h, err := p.header(off)
		if err != nil {
			continue
		}
		switch h.typ {
		case plumbing.OFSDeltaObject:
			j, ok := pl.offs.search(h.baseOff)
			if ok {
				parent[i] = int32(j)
			}
		case plumbing.REFDeltaObject:
			if ps := p.idx.find(h.base[:]); ps >= 0 {
				if inv == nil {
					inv = make([]int32, n)
					for k, ps := range pl.pos {
						inv[ps] = int32(k)
					}
				}
				parent[i] = inv[ps]
			} else {
				parent[i] = -2
			}
		default:
			parent[i] = -1
			pl.types[i] = h.typ
		}
	}
	pl.setKids(parent)
	// Each delta takes its base's type, down from the roots; objects not
	// reached (a cycle of reference deltas, a broken base) stay unread.
	reached := pl.resolveTypes(parent)
	// Deltas are only ever against objects of their own type: a delta
	// tree of a kind not asked for is not read.
	for i, t := range pl.types {
		if t != 0 && !kinds.has(t) {
			pl.want[i] = false
		}
	}
	// Need flows up from each wanted object its roots reach: a walk up
	// stops at an object needed already, which is wanted (its own walk
	// goes on from it) or was passed by one, so each is passed once.
	pl.need = slices.Clone(pl.want)
	for i, w := range pl.want {
		if !w || !reached.has(int32(i)) {
			continue
		}
		for par := parent[i]; par >= 0 && !pl.need[par]; par = parent[par] {
			pl.need[par] = true
		}
	}
	for i, par := range parent {
		if (par == -1 || par == -2) && pl.need[i] {
			pl.roots = append(pl.roots, int32(i))
		}
	}
	pl.done = newDoneBits(n)
	return pl
}

// doneBits is a bit an object, set by the workers as they deliver it: at 4
// million objects, half a megabyte where a flag an object took 16 MB.
type doneBits []atomic.Uint64

func newDoneBits(n int) doneBits { return make(doneBits, (n+63)/64) }

func (d doneBits) set(i int32) { d[i/64].Or(1 << (i % 64)) }

func (d doneBits) has(i int32) bool { return d[i/64].Load()>>(i%64)&1 != 0 }

// Undelivered lists the objects the sweep wanted and did not deliver: too
// big for it, damaged, or of a type it could not tell. Callers append to
// it: the list is clipped, so an append copies it rather than write into
// the result's own.
func (res *SweepResult) Undelivered() []plumbing.Hash { return slices.Clip(res.undelivered) }

// SweepResult says which objects a sweep delivered. Once the sweep is over
// it keeps only that, a bit per object of each pack it read, and the list
// of what it wanted and did not deliver: the plans (delta forests, pack
// order, a flag per object) are dropped, since the history walk that
// follows a sweep holds the result to its end (a 400,000-commit history's
// plans are ~47 MB; its bits 0.3 MB).
type SweepResult struct {
	s           *Store
	plans       []*sweepPlan // by pack, while the sweep runs; nil where nothing was wanted
	delivered   [][]uint64   // by pack, a bit by index position, once it is over
	undelivered []plumbing.Hash
}

// settle keeps what the sweep delivered and drops its plans.
func (res *SweepResult) settle() {
	res.delivered = make([][]uint64, len(res.plans))
	for pi, pl := range res.plans {
		if pl == nil {
			continue
		}
		bits := make([]uint64, (pl.p.idx.count+63)/64)
		mark := func(pos, i int32) {
			if pos >= 0 && pl.done.has(i) {
				bits[pos/64] |= 1 << (pos % 64)
			}
		}
		if pl.whole {
			for i, pos := range pl.pos {
				mark(pos, int32(i))
			}
		} else {
			for pos, i := range pl.node {
				mark(pos, i) // in a plan of some objects, only the wanted ones are answered for
			}
		}
		for i := range pl.want {
			if pl.want[i] && !pl.done.has(int32(i)) {
				var h plumbing.Hash
				copy(h[:], pl.p.idx.name(int(pl.pos[i])))
				res.undelivered = append(res.undelivered, h)
			}
		}
		res.delivered[pi] = bits
	}
	res.plans = nil
}

// Delivered reports whether the sweep passed object h to its visitor.
func (res *SweepResult) Delivered(h plumbing.Hash) bool {
	pi, pos := res.s.locate(h)
	if pi < 0 || res.delivered[pi] == nil {
		return false
	}
	return res.delivered[pi][pos/64]>>(pos%64)&1 != 0
}

// DeliveredAt is Delivered of the object at l, found already.
func (res *SweepResult) DeliveredAt(l Loc) bool {
	if l.pack < 0 || int(l.pack) >= len(res.delivered) || res.delivered[l.pack] == nil {
		return false
	}
	return res.delivered[l.pack][l.pos/64]>>(l.pos%64)&1 != 0
}

// planObjects builds the delta forest of the wanted objects of pack pi
// (by index position) and of the objects their delta chains go through,
// and no more: the headers of those chains are read, not the pack's. The
// plan's nodes are numbered in the order met, not in pack order.
func (s *Store) planObjects(pi int, positions []int32) *sweepPlan {
	p := s.packs[pi]
	pl := &sweepPlan{pi: pi, p: p, node: map[int32]int32{}}
	byOff := map[int64]int32{} // node of each object met, by offset
	var parent []int32
	add := func(off int64, pos int32) int32 {
		i := int32(pl.offs.len())
		byOff[off] = i
		pl.offs.add(off)
		pl.pos = append(pl.pos, pos)
		pl.want = append(pl.want, false)
		parent = append(parent, -3)
		return i
	}
	for _, pos := range positions {
		off := p.idx.offset(int(pos))
		if off < 0 {
			continue
		}
		i, met := byOff[off]
		if !met {
			i = add(off, pos)
		}
		pl.want[i] = true
		pl.pos[i] = pos
		pl.node[pos] = i
		// Up the delta chain to a whole object, or to one met before.
		for depth := 0; !met && depth <= maxDeltaChain; depth++ {
			h, err := p.header(off)
			if err != nil {
				break
			}
			var base int64
			switch h.typ {
			case plumbing.OFSDeltaObject:
				base = h.baseOff
			case plumbing.REFDeltaObject:
				bp := p.idx.find(h.base[:])
				if bp < 0 {
					parent[i] = -2 // a base in another pack: resolved whole
					met = true
					continue
				}
				base = p.idx.offset(bp)
			default:
				parent[i] = -1
				met = true
				continue
			}
			j, ok := byOff[base]
			if !ok {
				j = add(base, -1)
			}
			parent[i] = j
			i, off, met = j, base, ok
		}
	}
	n := pl.offs.len()
	pl.setKids(parent)
	// What the roots lead to is read; a chain that could not be read to
	// its end (a bad header, a cycle of reference deltas) is not: its
	// wanted objects are left undelivered.
	pl.need = make([]bool, n)
	for i, par := range parent {
		if par == -1 || par == -2 {
			pl.roots = append(pl.roots, int32(i))
		}
	}
	stack := slices.Clone(pl.roots)
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		pl.need[i] = true
		stack = append(stack, pl.kids[pl.start[i]:pl.start[i+1]]...)
	}
	pl.done = newDoneBits(n)
	return pl
}

// SweepObjects reads the objects named, as Sweep does, but plans only their
// delta chains: for a few hundred objects of a pack of millions (the blobs
// of a range), each object of their chains is inflated once, where reading
// them one by one inflates a chain's objects again for every object on it.
// The objects it does not deliver (loose, too big, damaged, missing) are
// for the caller to read another way.
func (s *Store) SweepObjects(ctx context.Context, names []plumbing.Hash, o SweepOptions, visit func(w int, h plumbing.Hash, typ plumbing.ObjectType, data []byte)) *SweepResult {
	byPack := make([][]int32, len(s.packs))
	for _, h := range names {
		if pi, pos := s.locate(h); pi >= 0 {
			byPack[pi] = append(byPack[pi], int32(pos))
		}
	}
	res := &SweepResult{s: s, plans: make([]*sweepPlan, len(s.packs))}
	for pi, positions := range byPack {
		if len(positions) > 0 {
			res.plans[pi] = s.planObjects(pi, positions)
		}
	}
	s.runSweep(ctx, res, o, visit)
	res.settle()
	return res
}

// sweepTask is one delta tree to read. A sweep of a big history has
// millions (two at 4 million objects), all held while it runs: 12 bytes
// each.
type sweepTask struct {
	weight uint32 // the tree's weight (see weight), at most math.MaxUint32
	pack   int32  // its plan's place in the sweep's plans
	root   int32
}

// Types is a set of object types.
type Types uint8

// TypesOf returns the set of the types given.
func TypesOf(ts ...plumbing.ObjectType) Types {
	var s Types
	for _, t := range ts {
		s |= 1 << t
	}
	return s
}

func (s Types) has(t plumbing.ObjectType) bool { return t > 0 && t < 8 && s&(1<<t) != 0 }

// SweepOptions choose what a sweep reads.
type SweepOptions struct {
	Workers int                    // goroutines reading at once
	Types   Types                  // the types of objects to deliver
	Want    func(name []byte) bool // which objects to deliver; nil for all. Called from one goroutine
	// MaxSize is the largest object the sweep holds in memory (default
	// each worker's share, 32 MiB for up to 4 workers, less for more; see
	// alloc.go): bigger ones are left undelivered, for the caller to stream.
	MaxSize int64
	// Planned, when set, is called once every pack is planned, before an
	// object is read, with how many objects of each type the sweep is to
	// deliver (a progress display's total). The index is the object's
	// type; objects whose type the headers do not tell are not counted.
	Planned func(byType [8]int)
	// Tree, when set, is given the trees (of Types) instead of the
	// visitor, with the offsets in data of the entries that are not an
	// entry of the tree it is a delta of, copied whole (nil: every entry
	// is, and data is the tree): a walk of every tree's references looks
	// only at what each adds (see freshEntries). Of a tree stored as a
	// delta, data may hold only those entries, one after another (see
	// unmade). It is not told the tree's name, which would cost a read of
	// the pack index for each.
	Tree func(w int, data []byte, fresh []int32)
}

// Sweep reads the wanted objects of every pack and calls visit with each
// one of the types asked for, from o.Workers goroutines at once (w tells
// which). The bytes passed to visit are only valid during the call. An
// object in several packs is read from the first that has it. Objects the
// sweep could not read, and loose objects, are not visited (see
// SweepResult): the caller reads them another way.
func (s *Store) Sweep(ctx context.Context, o SweepOptions, visit func(w int, h plumbing.Hash, typ plumbing.ObjectType, data []byte)) *SweepResult {
	if o.MaxSize <= 0 {
		o.MaxSize = share(o.Workers)
	}
	res := &SweepResult{s: s, plans: make([]*sweepPlan, len(s.packs))}
	copies := s.laterCopies(ctx)
	for pi := range s.packs {
		res.plans[pi] = s.planSweep(ctx, pi, o.Types, func(pos int32, name []byte) bool {
			if c := copies[pi]; c != nil && c[pos/64]>>(pos%64)&1 != 0 {
				return false // read from the earlier pack
			}
			return o.Want == nil || o.Want(name)
		})
	}
	s.runSweep(ctx, res, o, visit)
	res.settle()
	return res
}

// laterCopies returns, for each pack, a bit by index position set on each
// object an earlier pack also lists (nil for a pack with none), which the
// sweep reads from the earlier one. It merges the packs' sorted lists of
// names, in time N log P for N objects in P packs: looking each name up in
// every pack before its own took N × P/2 lookups, and a folder of 10,000
// packs of 100 objects (an 80 MB .git) did not finish in 300 s of CPU (git
// cat-file --batch-all-objects took 160 s). A crafted index whose names
// are not sorted only makes the merge miss some copies: those objects are
// read twice, as a lookup in it could miss them too.
func (s *Store) laterCopies(ctx context.Context) [][]uint64 {
	copies := make([][]uint64, len(s.packs))
	if len(s.packs) < 2 {
		return copies
	}
	// A heap of the packs by their next name, then pack: of equal names
	// the earliest pack's comes out first.
	h := &nameHeap{s: s}
	for pi, p := range s.packs {
		if p.idx.count > 0 {
			h.c = append(h.c, nameCursor{pi, 0})
		}
	}
	heap.Init(h)
	var last []byte // the name last taken, and the first pack that had it
	lastPack := -1
	for n := 0; h.Len() > 0; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return copies
		}
		c := h.c[0]
		name := s.packs[c.pi].idx.name(c.pos)
		if lastPack >= 0 && c.pi != lastPack && bytes.Equal(name, last) {
			if copies[c.pi] == nil {
				copies[c.pi] = make([]uint64, (s.packs[c.pi].idx.count+63)/64)
			}
			copies[c.pi][c.pos/64] |= 1 << (c.pos % 64)
		} else if !bytes.Equal(name, last) {
			last, lastPack = name, c.pi
		}
		if c.pos+1 < s.packs[c.pi].idx.count {
			h.c[0].pos++
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	return copies
}

// nameCursor is a pack and the index position of its next name.
type nameCursor struct{ pi, pos int }

// nameHeap orders the packs' cursors by their next name, then by pack.
type nameHeap struct {
	s *Store
	c []nameCursor
}

func (h *nameHeap) Len() int { return len(h.c) }
func (h *nameHeap) Less(i, j int) bool {
	a, b := h.c[i], h.c[j]
	if c := bytes.Compare(h.s.packs[a.pi].idx.name(a.pos), h.s.packs[b.pi].idx.name(b.pos)); c != 0 {
		return c < 0
	}
	return a.pi < b.pi
}
func (h *nameHeap) Swap(i, j int) { h.c[i], h.c[j] = h.c[j], h.c[i] }
func (h *nameHeap) Push(x any)    { h.c = append(h.c, x.(nameCursor)) }
func (h *nameHeap) Pop() any {
	x := h.c[len(h.c)-1]
	h.c = h.c[:len(h.c)-1]
	return x
}

// runSweep reads the delta trees of the plans on o.Workers goroutines.
func (s *Store) runSweep(ctx context.Context, res *SweepResult, o SweepOptions, visit func(w int, h plumbing.Hash, typ plumbing.ObjectType, data []byte)) {
	if o.MaxSize <= 0 {
		o.MaxSize = bigBlob
	}
	// Made at their number: grown as they came (12 bytes a root, 52 MB
	// at 8 million objects), the last copy was held beside the one
	// before, as the plans' scratch went.
	count := 0
	for _, pl := range res.plans {
		if pl != nil {
			count += len(pl.roots)
		}
	}
	tasks := make([]sweepTask, 0, count)
	for pi, pl := range res.plans {
		if pl == nil {
			continue
		}
		for _, r := range pl.roots {
			tasks = append(tasks, sweepTask{weight: uint32(min(pl.weight(r), math.MaxUint32)), pack: int32(pi), root: r})
		}
		pl.roots = nil // the tasks hold them
	}
	if ctx.Err() != nil {
		return // stopped while planning: nothing is visited
	}
	if o.Planned != nil {
		var byType [8]int
		for _, pl := range res.plans {
			if pl == nil {
				continue
			}
			for i, w := range pl.want {
				if w && pl.types[i] > 0 && pl.types[i] < 8 {
					byType[pl.types[i]]++
				}
			}
		}
		o.Planned(byType)
	}
	// Biggest trees first, so that no worker is left with a long one at
	// the end while the others idle.
	// Ties keep the order of the packs (the sort is not stable, a stable
	// one takes several times as long on the tens of thousands of trees a
	// sweep of trees as well as blobs has).
	slices.SortFunc(tasks, func(a, b sweepTask) int {
		return cmp.Or(cmp.Compare(b.weight, a.weight), cmp.Compare(a.pack, b.pack), cmp.Compare(a.root, b.root))
	})
	// The small trees, most of a pack's, go out in groups whose names are
	// read together (sweeper.gather); the big ones one by one.
	cut := len(tasks)
	for cut > 0 && tasks[cut-1].weight < groupWeight {
		cut--
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range max(o.Workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rd := s.Reader(0)
			rd.limit = int(o.MaxSize)
			sw := &sweeper{plans: res.plans, rd: rd, kinds: o.Types, maxSize: o.MaxSize, visit: func(h plumbing.Hash, t plumbing.ObjectType, b []byte) { visit(w, h, t, b) },
				fresh: make([]int32, 0, 64)} // not nil: nil would say every entry is fresh
			sw.maxHeld = max(sweepHeldBytes/int64(max(o.Workers, 1)), o.MaxSize)
			sw.maxFree = freeKept / int64(max(o.Workers, 1))
			if o.Tree != nil {
				sw.tree = func(b []byte, fresh []int32) { o.Tree(w, b, fresh) }
			}
			for ctx.Err() == nil {
				lo, hi := claim(next.Add(1)-1, cut, len(tasks))
				if lo >= len(tasks) {
					return
				}
				group := tasks[lo:hi]
				if len(group) > 1 {
					sw.gather(group)
				}
				for _, t := range group {
					sw.run(ctx, t)
				}
				sw.names = sw.names[:0]
			}
		}()
	}
	wg.Wait()
}

// Small delta trees are read in groups: groupWeight is the weight below
// which a tree is small, groupSize how many a group has.
const (
	groupWeight = 256 << 10
	groupSize   = 64
)

// claim returns the tasks [lo, hi) of ticket t: the tasks before cut one
// a ticket, then groups of groupSize.
func claim(t int64, cut, n int) (lo, hi int) {
	if t < int64(cut) {
		return int(t), int(t) + 1
	}
	g := t - int64(cut)
	if g >= int64(n) {
		return n, n
	}
	lo = cut + int(g)*groupSize
	return min(lo, n), min(lo+groupSize, n)
}

// A sweep's visitor is given each object's name, which lies at a random
// place in the pack's index (names are sorted, objects are not): one
// cache miss per object, and on a busy machine a costly one (with the TLB
// miss, half a microsecond; a third of a key-free scan's CPU on the
// 400,000-commit synthetic history). gather reads the names of a group of
// trees' wanted objects in one tight loop before they are read, where the
// misses overlap, and touches each object's first bytes in the pack.

// groupName is an object's name read ahead by gather.
type groupName struct {
	plan *sweepPlan
	node int32
	name plumbing.Hash
}

// gather reads ahead the names of the wanted objects of the trees of
// group, in the order run meets them.
func (sw *sweeper) gather(group []sweepTask) {
	sw.names, sw.cursor = sw.names[:0], 0
	for _, t := range group {
		pl := sw.plans[t.pack]
		stack := append(sw.order[:0], t.root)
		for len(stack) > 0 && len(sw.names) < 16*groupSize {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if off := pl.offs.at(i); pl.p.data != nil && off >= 0 && off < int64(len(pl.p.data)) {
				sw.touched += pl.p.data[off]
			}
			if sw.needsName(pl, i) {
				g := groupName{plan: pl, node: i}
				copy(g.name[:], pl.p.idx.name(int(pl.pos[i])))
				sw.names = append(sw.names, g)
			}
			// Children pushed last first: popped in run's order.
			kids := pl.kids[pl.start[i]:pl.start[i+1]]
			for j := len(kids) - 1; j >= 0; j-- {
				if pl.need[kids[j]] {
					stack = append(stack, kids[j])
				}
			}
		}
		sw.order = stack[:0]
	}
}

// weight estimates the work of the tree under root: its compressed bytes
// and, for each wanted object, the size of the root (deltas mostly make
// objects about the size of their base).
// setKids lists each object's children (the deltas whose base it is), in
// pack order, from parent: an object's base index, or < 0 for none. The
// lists are filled from the back, each object's from its end, so that no
// table of where each list is filled to is made beside start (4 bytes an
// object, 32 MB at 8 million).
func (pl *sweepPlan) setKids(parent []int32) {
	n := len(parent)
	pl.start = make([]int32, n+1)
	for _, par := range parent {
		if par >= 0 {
			pl.start[par+1]++
		}
	}
	for i := range n {
		pl.start[i+1] += pl.start[i]
	}
	pl.kids = make([]int32, pl.start[n])
	// start[par+1] is where par's list ends; filled last first, it comes
	// down to where par's list starts, which start[par] must hold.
	for i := n - 1; i >= 0; i-- {
		if par := parent[i]; par >= 0 {
			pl.start[par+1]--
			pl.kids[pl.start[par+1]] = int32(i)
		}
	}
	copy(pl.start[:n], pl.start[1:])
	pl.start[n] = int32(len(pl.kids))
}

// resolveTypes gives each delta its base's type, depth first from the
// roots (parent -1 and -2), and returns which objects they reach. The
// stack holds the children still to visit: as many as the deltas of the
// objects on one chain, not a list of every object (32 MB at 8 million).
func (pl *sweepPlan) resolveTypes(parent []int32) doneBits {
	reached := newDoneBits(len(parent))
	var stack []int32
	for r, par := range parent {
		if par != -1 && par != -2 {
			continue
		}
		reached.set(int32(r))
		stack = append(stack[:0], int32(r))
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, k := range pl.kids[pl.start[i]:pl.start[i+1]] {
				pl.types[k] = pl.types[i]
				reached.set(k)
				stack = append(stack, k)
			}
		}
	}
	return reached
}

func (pl *sweepPlan) weight(root int32) int64 {
	var w int64
	rootSize := int64(0)
	if h, err := pl.p.header(pl.offs.at(root)); err == nil {
		rootSize = h.size
	}
	stack := []int32{root}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !pl.need[i] {
			continue
		}
		if pl.want[i] {
			w += rootSize
		}
		stack = append(stack, pl.kids[pl.start[i]:pl.start[i+1]]...)
	}
	return w
}

// sweeper is one sweep worker.
type sweeper struct {
	plans      []*sweepPlan // the sweep's, by pack: a task names its plan by its place
	names      []groupName  // read ahead by gather
	cursor     int          // the next of names
	order      []int32      // scratch for gather
	touched    byte         // what gather's reads of the pack add up to, kept so that they are made
	rd         *Reader
	kinds      Types
	maxSize    int64 // the largest object held
	maxHeld    int64 // this worker's share of sweepHeldBytes
	maxFree    int64 // and of freeKept
	visit      func(plumbing.Hash, plumbing.ObjectType, []byte)
	tree       func([]byte, []int32) // SweepOptions.Tree, for this worker
	free       [][][]byte            // buffers to reuse, by size class
	freeBytes  int64
	delta      []byte // scratch for inflated deltas
	lastDelta  []byte // the delta child applied last
	held       int64
	stack      []sweepFrame
	fresh      []int32    // scratch for SweepOptions.Tree
	copies     []copySpan // scratch for SweepOptions.Tree
	unmade     unmade     // a leaf tree, for SweepOptions.Tree
	freshBytes []byte     // the bytes of its fresh entries
	bits       [][]uint64 // entry maps' bits to reuse
}

type sweepFrame struct {
	node    int32
	entries entryMap // for a tree with SweepOptions.Tree: its entries; unmapped until a child needs them
	data    []byte   // nil once dropped to stay under maxHeld
	next    int32    // next child to look at
	typ     plumbing.ObjectType
}

// Buffers come in power-of-two size classes, so that one freed by an
// object serves the next object of about its size: a sweep resolves
// gigabytes, and fresh allocations would all be zeroed and collected.
const (
	minBufClass = 12       // 4 KiB
	bufsKept    = 8        // free buffers kept per class
	freeKept    = 64 << 20 // bytes of free buffers kept by all workers together
)

func bufClass(n int64) int {
	c := bits.Len64(uint64(n - 1))
	return max(c, minBufClass)
}

// buf returns a buffer of n bytes, reused when one is free.
func (sw *sweeper) buf(n int64) []byte {
	c := bufClass(n)
	if c < len(sw.free) {
		if l := sw.free[c]; len(l) > 0 {
			b := l[len(l)-1]
			sw.free[c] = l[:len(l)-1]
			sw.freeBytes -= int64(cap(b))
			return b[:n]
		}
	}
	return allocObject(n, 1<<c)
}

func (sw *sweeper) release(b []byte) {
	if b == nil {
		return
	}
	c := bufClass(int64(cap(b)))
	if 1<<c != cap(b) {
		return // not one of ours
	}
	for len(sw.free) <= c {
		sw.free = append(sw.free, nil)
	}
	if len(sw.free[c]) < bufsKept && sw.freeBytes+int64(cap(b)) <= sw.maxFree {
		sw.free[c] = append(sw.free[c], b)
		sw.freeBytes += int64(cap(b))
	}
}

// needsName reports whether object i may go to the visitor, which takes
// its name: wanted, and not a tree for SweepOptions.Tree (which does not;
// a plan of some objects does not know their types).
func (sw *sweeper) needsName(pl *sweepPlan, i int32) bool {
	return pl.want[i] && (sw.tree == nil || int(i) >= len(pl.types) || pl.types[i] != plumbing.TreeObject)
}

// wantedName returns the name of object i when the visitor may be given
// it (the zero hash otherwise): read ahead by gather when the object's
// tree was in a group, else from the index.
func (sw *sweeper) wantedName(pl *sweepPlan, i int32) plumbing.Hash {
	var h plumbing.Hash
	if !sw.needsName(pl, i) {
		return h
	}
	// Read ahead by gather, in the same order (objects that could not be
	// read are passed over with their trees: a few names are skipped).
	for k := sw.cursor; k < min(len(sw.names), sw.cursor+groupSize); k++ {
		if g := &sw.names[k]; g.node == i && g.plan == pl {
			sw.cursor = k + 1
			return g.name
		}
	}
	copy(h[:], pl.p.idx.name(int(pl.pos[i])))
	return h
}

// resolve reads object i of the plan whole, by itself: a root, or an
// object whose parent was dropped.
func (sw *sweeper) resolve(pl *sweepPlan, i int32) (plumbing.ObjectType, []byte, bool) {
	h, err := pl.p.header(pl.offs.at(i))
	if err != nil {
		return 0, nil, false
	}
	switch h.typ {
	case plumbing.OFSDeltaObject, plumbing.REFDeltaObject:
		typ, data, err := sw.rd.readPacked(pl.pi, pl.offs.at(i), 0)
		if err != nil || int64(len(data)) > sw.maxSize {
			return 0, nil, false
		}
		b := sw.buf(int64(len(data)))
		copy(b, data)
		return typ, b, true
	}
	if h.size > sw.maxSize || pl.p.plausible(h) != nil {
		return 0, nil, false
	}
	b := sw.buf(h.size)
	if err := sw.rd.z.inflate(pl.p, h.data, b); err != nil {
		sw.release(b)
		return 0, nil, false
	}
	return h.typ, b, true
}

// child reads object c, a delta against parent's data.
func (sw *sweeper) child(pl *sweepPlan, c int32, parent []byte) ([]byte, bool) {
	delta, ok := sw.childDelta(pl, c)
	if !ok {
		return nil, false
	}
	_, size, _, err := deltaSizes(delta)
	if err != nil || size > uint64(sw.maxSize) {
		return nil, false
	}
	out, err := applyDelta(parent, delta, sw.buf(int64(size)), int(sw.maxSize))
	if err != nil {
		return nil, false
	}
	return out, true
}

// childDelta inflates the delta of object c, in sw.delta.
func (sw *sweeper) childDelta(pl *sweepPlan, c int32) ([]byte, bool) {
	h, err := pl.p.header(pl.offs.at(c))
	// A delta is about the size of what it makes, or smaller; a bigger one
	// is left to the one-by-one reader, which streams it.
	if err != nil || h.size > sw.maxSize+sw.maxSize/8+64 || pl.p.plausible(h) != nil {
		return nil, false
	}
	if int64(cap(sw.delta)) < h.size {
		sw.delta = allocObject(h.size, h.size)
	}
	delta := sw.delta[:h.size]
	if err := sw.rd.z.inflate(pl.p, h.data, delta); err != nil {
		return nil, false
	}
	sw.lastDelta = delta
	return delta, true
}

// leafTree gives SweepOptions.Tree tree c, a delta of the tree on top of
// the stack that is no delta's base, unmade: the bytes of its fresh
// entries only (see unmade). It fails where child would.
func (sw *sweeper) leafTree(pl *sweepPlan, c int32) bool {
	top := &sw.stack[len(sw.stack)-1]
	delta, ok := sw.childDelta(pl, c)
	if !ok {
		return false
	}
	if _, size, _, err := deltaSizes(delta); err != nil || size > uint64(sw.maxSize) {
		return false
	}
	if sw.unmade.parse(top.data, delta, int(sw.maxSize)) != nil {
		return false
	}
	if !top.entries.mapped() {
		top.entries = mapEntries(top.data, sw.takeBits())
	}
	sw.freshBytes, sw.fresh = freshUnmade(&sw.unmade, top.entries, sw.freshBytes[:0], sw.fresh[:0])
	return true
}

// emit passes object i, named name (wantedName), to the visitor when it
// is wanted.
func (sw *sweeper) emit(pl *sweepPlan, i int32, name plumbing.Hash, typ plumbing.ObjectType, data []byte) {
	if pl.want[i] && sw.kinds.has(typ) {
		sw.visit(name, typ, data)
		pl.done.set(i)
	}
}

// emitTree passes a tree to SweepOptions.Tree with the offsets of its
// fresh entries (nil: all are).
func (sw *sweeper) emitTree(pl *sweepPlan, i int32, data []byte, fresh []int32) {
	if pl.want[i] && sw.kinds.has(plumbing.TreeObject) {
		sw.tree(data, fresh)
		pl.done.set(i)
	}
}

// run reads one delta tree depth first. A frame keeps its object's bytes
// while children remain; the last child takes over its parent's place,
// so that a plain chain holds one object at a time.
func (sw *sweeper) run(ctx context.Context, t sweepTask) {
	pl := sw.plans[t.pack]
	name := sw.wantedName(pl, t.root)
	typ, data, ok := sw.resolve(pl, t.root)
	if !ok {
		return
	}
	if typ == plumbing.TreeObject && sw.tree != nil {
		sw.emitTree(pl, t.root, data, nil)
	} else {
		sw.emit(pl, t.root, name, typ, data)
	}
	sw.stack = append(sw.stack[:0], sweepFrame{node: t.root, data: data, next: pl.start[t.root], typ: typ})
	sw.held = int64(len(data))
	for len(sw.stack) > 0 {
		if ctx.Err() != nil {
			break
		}
		top := &sw.stack[len(sw.stack)-1]
		end := pl.start[top.node+1]
		c := int32(-1)
		for top.next < end {
			k := pl.kids[top.next]
			top.next++
			if pl.need[k] {
				c = k
				break
			}
		}
		if c < 0 {
			sw.pop()
			continue
		}
		last := true
		for j := top.next; j < end; j++ {
			if pl.need[pl.kids[j]] {
				last = false
				break
			}
		}
		if top.data == nil {
			// Dropped to save memory: read it again.
			var ok bool
			if _, top.data, ok = sw.resolve(pl, top.node); !ok {
				sw.pop()
				continue
			}
			sw.held += int64(len(top.data))
		}
		ctyp := top.typ
		// A child with children of its own is pushed, unless the chain is
		// too long; pushed, a tree's entries are mapped for its children.
		push := pl.start[c] != pl.start[c+1] && len(sw.stack)-b2i(last) < maxDeltaChain
		if ctyp == plumbing.TreeObject && sw.tree != nil && !push {
			ok := sw.leafTree(pl, c)
			if last {
				sw.pop()
			}
			if ok {
				sw.emitTree(pl, c, sw.freshBytes, sw.fresh)
			}
			continue
		}
		cname := sw.wantedName(pl, c)
		cdata, ok := sw.child(pl, c, top.data)
		push = push && ok
		var centries entryMap
		if ok && ctyp == plumbing.TreeObject && sw.tree != nil {
			// Compared with its parent while the parent is held.
			if !top.entries.mapped() {
				top.entries = mapEntries(top.data, sw.takeBits())
			}
			sw.copies = deltaCopies(sw.lastDelta, sw.copies[:0])
			var bits []uint64
			if push {
				bits = sw.takeBits()
			}
			sw.fresh, centries = freshEntries(cdata, top.entries, sw.copies, sw.fresh[:0], bits, push)
		}
		if last {
			sw.pop()
		}
		if !ok {
			continue
		}
		if ctyp == plumbing.TreeObject && sw.tree != nil {
			sw.emitTree(pl, c, cdata, sw.fresh)
		} else {
			sw.emit(pl, c, cname, ctyp, cdata)
		}
		if !push {
			sw.release(cdata)
			continue
		}
		sw.held += int64(len(cdata))
		sw.stack = append(sw.stack, sweepFrame{node: c, data: cdata, next: pl.start[c], typ: ctyp, entries: centries})
		// Over the bound: drop the held parents, oldest first; they are
		// read again if more of their children come.
		for k := 0; sw.held > sw.maxHeld && k < len(sw.stack)-1; k++ {
			if d := sw.stack[k].data; d != nil {
				sw.held -= int64(len(d))
				sw.release(d)
				sw.stack[k].data = nil
			}
		}
	}
	for len(sw.stack) > 0 {
		sw.pop()
	}
}

func (sw *sweeper) pop() {
	top := sw.stack[len(sw.stack)-1]
	if top.data != nil {
		sw.held -= int64(len(top.data))
		sw.release(top.data)
	}
	sw.putBits(top.entries.bits)
	sw.stack = sw.stack[:len(sw.stack)-1]
}

// takeBits returns bits to reuse for an entry map, or nil.
func (sw *sweeper) takeBits() []uint64 {
	n := len(sw.bits)
	if n == 0 {
		return nil
	}
	b := sw.bits[n-1]
	sw.bits = sw.bits[:n-1]
	return b
}

// putBits keeps an entry map's bits for reuse.
func (sw *sweeper) putBits(b []uint64) {
	if b != nil && len(sw.bits) < 64 {
		sw.bits = append(sw.bits, b)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
