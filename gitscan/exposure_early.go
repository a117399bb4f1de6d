package gitscan

import (
	"context"
	"maps"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/scanner"
)

// Exposure in step with the walk. A scan of everything has found, once
// its sweep is done, the keys of every blob the packs hold; exposure's
// comparison of each commit's tree with its first parent's
// (exposure_carry.go) is then made commit after commit beside the history
// walk's comparison of the same trees, and reads them from the walk's
// memo instead of a second time: reading them again was two thirds of
// exposure's cost, a sixth of a scan of 400,000 commits with keys.
//
// What it works out is used only when the findings exposure is asked
// about hold exactly the file keys, blob by blob, it counted (a blob
// scanned after the walk, or a finding dropped, changes them); else
// exposure compares the trees again, as it does when not in step.
type earlyExposure struct {
	x      *exposer
	d      *carryDiff
	bits   map[plumbing.Hash]int32 // the file keys of each blob with findings, as counted
	counts *commitCounts           // by graph position, while the walk goes on
	files  []int32                 // the file keys each commit carries
	next   int                     // the graph position the walk comes to next
	failed bool                    // stopped, or the graph is not the selection's order
}

// startExposure prepares exposure's comparison in step with the walk of
// sel, a scan of everything: nil when no blob holds a key yet, or when the
// commits the refs reach are not all selected (then they are not in the
// walk's order), or when the scan is stopped. ctx is the scan's, not the
// walk's: a stopped scan reports no exposure, so the comparison stops with
// the scan, and leaves the walk's short grace to attribute the keys.
func (g *gitRepo) startExposure(ctx context.Context, r *scanner.Run, gs *gitSink, sel *selection) *earlyExposure {
	if g.tune.exposeAfter || ctx.Err() != nil {
		return nil
	}
	x := emptyExposer(&attributor{g: g, r: r, gs: gs, sel: sel})
	gs.mu.Lock()
	var keys []string
	for _, fs := range gs.found {
		for _, f := range fs {
			keys = append(keys, "f"+f.Fingerprint)
		}
	}
	gs.mu.Unlock()
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	for _, k := range keys {
		x.keys[k] = len(x.keys)
	}
	x.loadGraph(ctx)
	if x.graph.loaded > 0 {
		return nil
	}
	e := &earlyExposure{x: x, bits: x.foundBits()}
	x.blobBits = e.bits
	e.counts = newCommitCounts(x.graph.len())
	e.files = make([]int32, x.graph.len())
	e.d = newCarryDiff(x, ctx)
	return e
}

// commit compares commit i of sel, which the walk has just compared with
// the trees in memo, when the refs reach it.
func (e *earlyExposure) commit(sel *selection, i int, memo *treeMemo) {
	if e == nil || e.failed {
		return
	}
	g := e.x.graph
	if e.next >= g.len() || !g.isCommit(e.next, sel, i) {
		return // a commit only a stash entry or a reflog reaches
	}
	if e.d.ctx.Err() != nil {
		e.failed = true
		return
	}
	e.d.memo = memo
	e.d.commitAt(e.next, e.counts, e.files)
	e.next++
}

// finish ends the comparison with the walk.
func (e *earlyExposure) finish() {
	if e == nil {
		return
	}
	if e.next != e.x.graph.len() || e.d.ctx.Err() != nil {
		e.failed = true
	}
	if seen := e.x.a.g.tune.seen; seen != nil {
		seen.comparedInStep = e.next
		seen.countsHeld = len(e.counts.held)
	}
	e.d, e.counts = nil, nil
}

// exposer returns the exposer of fs with every commit's file keys worked
// out, or nil when what was counted does not hold for fs.
func (e *earlyExposure) exposer(fs []finding.Finding, partial bool) *exposer {
	if e == nil || e.failed || partial {
		return nil
	}
	x := e.x
	seen := map[string]bool{}
	for _, f := range fs {
		if k := keyID(f); f.Location == finding.InFile && !seen[k] {
			if _, ok := x.keys[k]; !ok {
				return nil // a key found after the walk
			}
			seen[k] = true
		}
	}
	if len(seen) != len(x.keys) || !maps.Equal(x.foundBits(), e.bits) { // x.keys: the file keys counted
		return nil
	}
	if !x.add(fs) {
		return nil
	}
	x.carry = e.files
	if seen := x.a.g.tune.seen; seen != nil {
		seen.exposedInStep = true
	}
	return x
}
