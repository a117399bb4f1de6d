package gitscan

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/scanner"
)

// sweptTrees is what the sweep of a whole repository does with the trees
// it reads: search the names each adds for keys (names.go) and, in a
// partial clone, look up what each refers to (holes, when not nil;
// partial.go).
type sweptTrees struct {
	holes *holeFinder
	// named says that a name holds a key, or that a tree too big to hold
	// may: the walk must search the names, as the sweep meets trees
	// without their commits or paths.
	named atomic.Bool

	// keyNames are the names that hold a key, up to maxKeyNames: a tree
	// no commit reaches (written by git commit before an aborted message,
	// by git write-tree, left by a rewrite) is met by no walk, and its
	// names are reported after the walks as unreachable
	// (searchOrphanNames). Nearly no repository has any.
	mu       sync.Mutex
	keyNames map[string]bool
	tooMany  bool
	// big are the trees too big for a worker of the sweep to hold (its
	// share of memory, 1–32 MiB by the number of workers), up to
	// maxBigTrees; bigLeft counts the rest. The walk reads those a commit
	// reaches; searchBigTrees reads each for the orphan search.
	big     []plumbing.Hash
	bigLeft int
}

// maxBigTrees is the most trees too big for the sweep kept to be read
// for the orphan search (each is 1 MiB or more, read one at a time).
const maxBigTrees = 4096

// maxKeyNames is the most names holding keys the sweep keeps for
// searchOrphanNames: past it, a warning says that names no commit reaches
// may not be reported.
const maxKeyNames = 4096

// tree is the sweep's SweepOptions.Tree, for the scan's workers.
func (t *sweptTrees) tree(workers []*scanner.Worker) func(w int, data []byte, fresh []int32) {
	return func(w int, data []byte, fresh []int32) {
		if t.holes != nil {
			t.holes.tree(w, data, fresh)
		}
		if treeNamesHoldKey(workers[w], data, fresh, t.keep) {
			t.named.Store(true)
		}
	}
}

// keep records name, which holds a key.
func (t *sweptTrees) keep(name []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.keyNames == nil {
		t.keyNames = map[string]bool{}
	}
	switch {
	case t.keyNames[string(name)]:
	case len(t.keyNames) < maxKeyNames:
		t.keyNames[string(name)] = true
	default:
		t.tooMany = true
	}
}

// unswept is given, on worker w, a tree or commit h the sweep left to be
// read one by one (a loose object, or one bigger than the sweep holds);
// data is nil for a tree too big to hold.
func (t *sweptTrees) unswept(w *scanner.Worker, h plumbing.Hash, typ plumbing.ObjectType, data []byte) {
	if t.holes != nil && data != nil {
		t.holes.object(-1, typ, data)
	}
	if typ == plumbing.TreeObject && data == nil {
		t.keepBig(h)
	}
	if typ == plumbing.TreeObject && (data == nil || treeNamesHoldKey(w, data, nil, t.keep)) {
		t.named.Store(true)
	}
}

// keepBig records tree h, too big for the sweep to hold.
func (t *sweptTrees) keepBig(h plumbing.Hash) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.big) < maxBigTrees {
		t.big = append(t.big, h)
	} else {
		t.bigLeft++
	}
}

// searchBigTrees reads, one at a time, the trees too big for the sweep to
// hold, and keeps their names that hold keys as the sweep keeps others',
// for the orphan search; it returns how many it could not read (over 64
// MiB, the most a tree is read whole, or damaged) or did not keep.
func (g *gitRepo) searchBigTrees(r *scanner.Run, t *sweptTrees) (unread int) {
	t.mu.Lock()
	big, unread := t.big, t.bigLeft
	t.mu.Unlock()
	var w *scanner.Worker
	for _, h := range big {
		data, err := g.treeData(h)
		if err != nil {
			unread++
			continue
		}
		if w == nil {
			w = r.NewWorker()
		}
		treeNamesHoldKey(w, data, nil, t.keep)
	}
	return unread
}

// orphanTree is the commit index of a name found in a tree no walk met,
// refHeldName of one in a tree a ref holds with no commit between
// (refheld.go).
const (
	orphanTree  = -2
	refHeldName = -3
)

// searchOrphanNames searches, once the walks are done, the names holding
// keys the sweep met that no walk reported: they are in trees no commit
// reaches, and are reported as unreachable, with no commit, at the name
// alone (the folders above it are not known). A name the walks reported
// at any path counts as met; one in a tree a ref holds with no commit
// between (a tag of a tree) is reported at that ref's tree, reachable.
func (g *gitRepo) searchOrphanNames(ctx context.Context, r *scanner.Run, gs *gitSink, t *sweptTrees) {
	if n := g.searchBigTrees(r, t); n > 0 {
		r.Warn("", "%d tree(s) of this repository could not be read whole (over 64 MiB, or damaged): the walk warns of those a commit reaches, but a file or folder name that holds a key in one no commit reaches would not be reported", n)
	}
	t.mu.Lock()
	names, tooMany := t.keyNames, t.tooMany
	t.mu.Unlock()
	if len(names) == 0 {
		return
	}
	met := map[string]bool{}
	gs.mu.Lock()
	for _, hit := range gs.nameHits {
		met[hit.f.Path[strings.LastIndexByte(hit.f.Path, '/')+1:]] = true
	}
	gs.mu.Unlock()
	var w *scanner.Worker
	var held map[string]refHeld
	for name := range names {
		label := finding.ValidPath(name)
		if met[label] {
			continue
		}
		if w == nil {
			w = r.NewWorker()
			_, held = g.refHeldObjects(ctx, func(n []byte) bool { return names[string(n)] })
		}
		if at, ok := held[name]; ok {
			w.ScanName(nameLabel(refHeldName, at.place), name)
			continue
		}
		w.ScanName(nameLabel(orphanTree, label), name)
	}
	if tooMany {
		r.Warn("", "more than %d file and folder names in this repository's trees hold keys: those in trees no commit reaches may not all be reported", maxKeyNames)
	}
}

// searchTreesNoWalkMet is searchOrphanNames for a scan of everything that
// does not sweep (a repository of loose objects, as a new one is until git
// gc packs it): every tree of the object database is read for the names
// that hold keys; one too big to hold as it reads them is read after.
func (g *gitRepo) searchTreesNoWalkMet(ctx context.Context, r *scanner.Run, gs *gitSink) {
	t := &sweptTrees{}
	g.eachObject(ctx, r, gitobj.TypesOf(plumbing.TreeObject), nil, func(w *scanner.Worker, h plumbing.Hash, o gitobj.Object) {
		if o.Stream != nil {
			o.Stream.Close()
			t.keepBig(h)
			return
		}
		treeNamesHoldKey(w, o.Data, nil, t.keep)
	})
	if ctx.Err() == nil {
		g.searchOrphanNames(ctx, r, gs, t)
	}
}
