package gitscan

import (
	"sync/atomic"

	"github.com/go-git/go-git/v5/plumbing"
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
}

// tree is the sweep's SweepOptions.Tree, for the scan's workers.
func (t *sweptTrees) tree(workers []*scanner.Worker) func(w int, data []byte, fresh []int32) {
	return func(w int, data []byte, fresh []int32) {
		if t.holes != nil {
			t.holes.tree(w, data, fresh)
		}
		if !t.named.Load() && treeNamesHoldKey(workers[w], data, fresh) {
			t.named.Store(true)
		}
	}
}

// unswept is given, on worker w, a tree or commit the sweep left to be
// read one by one (a loose object, or one bigger than the sweep holds);
// data is nil for a tree too big to hold.
func (t *sweptTrees) unswept(w *scanner.Worker, typ plumbing.ObjectType, data []byte) {
	if t.holes != nil && data != nil {
		t.holes.object(-1, typ, data)
	}
	if typ == plumbing.TreeObject && !t.named.Load() && (data == nil || treeNamesHoldKey(w, data, nil)) {
		t.named.Store(true)
	}
}
