package gitobj

import (
	"bytes"
	"context"
	"crypto/sha1"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// treeBytes lays out tree entries ("mode name" and a hash made from the
// name and version).
func treeBytes(entries []string, version map[string]int) []byte {
	var b []byte
	for _, e := range entries {
		h := sha1.Sum(fmt.Appendf(nil, "%s/%d", e, version[e]))
		b = append(b, "100644 "+e+"\x00"...)
		b = append(b, h[:]...)
	}
	return b
}

// entriesOf lists a tree's entries, whole, by offset.
func entriesOf(t *testing.T, data []byte) map[int]string {
	t.Helper()
	out := map[int]string{}
	for off := 0; off < len(data); {
		end := entryEnd(data, off)
		if end < 0 {
			t.Fatalf("malformed tree at %d", off)
		}
		out[off] = string(data[off:end])
		off = end
	}
	return out
}

// randomDelta makes result from base with copies and inserts cut at
// random places, not at entry boundaries: copies of parts of entries,
// joined, as a crafted delta could.
func randomDelta(rng *rand.Rand, base, result []byte) []byte {
	d := testgit.AppendVarint(nil, uint64(len(base)))
	d = testgit.AppendVarint(d, uint64(len(result)))
	for o := 0; o < len(result); {
		n := 1 + rng.IntN(min(len(result)-o, 120))
		chunk := result[o : o+n]
		if i := bytes.Index(base, chunk); i >= 0 && rng.IntN(3) > 0 {
			d = append(d, 0x80|0x0f|0x30) // offset in 4 bytes, size in 2
			d = append(d, byte(i), byte(i>>8), byte(i>>16), byte(i>>24), byte(n), byte(n>>8))
		} else {
			d = append(d, byte(n))
			d = append(d, chunk...)
		}
		o += n
	}
	return d
}

// TestFreshEntries checks, on trees edited at random and deltas cut at
// random, that every entry freshEntries leaves out is an entry of the base,
// byte for byte; and that with deltas as git makes them (a common start
// copied, the rest inserted) only the entries from the first change on are
// fresh.
func TestFreshEntries(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 300 {
		var names []string
		version := map[string]int{}
		for i := range 5 + rng.IntN(60) {
			names = append(names, fmt.Sprintf("f%03d", i*3))
		}
		base := treeBytes(names, version)
		// Edit: change, drop and add entries.
		next := map[string]int{}
		var edited []string
		for _, n := range names {
			switch rng.IntN(10) {
			case 0:
				continue
			case 1:
				next[n] = 1
			}
			edited = append(edited, n)
		}
		if rng.IntN(2) == 0 {
			edited = append(edited, "zz-new")
		}
		result := treeBytes(edited, next)
		delta := randomDelta(rng, base, result)
		if round%2 == 0 {
			delta = testgit.MakeDelta(base, result)
		}
		out, err := applyDelta(base, delta, nil, 1<<20)
		if err != nil || !bytes.Equal(out, result) {
			t.Fatalf("round %d: delta does not make the result: %v", round, err)
		}
		baseEntries := map[string]bool{}
		for _, e := range entriesOf(t, base) {
			baseEntries[e] = true
		}
		fresh, m := freshEntries(result, mapEntries(base, nil), deltaCopies(delta, nil), nil, nil, true)
		starts := m.bits
		isFresh := map[int]bool{}
		for _, off := range fresh {
			isFresh[int(off)] = true
		}
		entries := entriesOf(t, result)
		for off, e := range entries {
			if starts[off>>6]&(1<<(off&63)) == 0 {
				t.Fatalf("round %d: entry at %d not marked as a start", round, off)
			}
			if !isFresh[off] && !baseEntries[e] {
				t.Fatalf("round %d: entry %q at %d left out, but the base has no such entry", round, e[:10], off)
			}
		}
		if round%2 == 0 {
			// git-like: the common start is copied whole.
			common := 0
			for common < len(base) && common < len(result) && base[common] == result[common] {
				common++
			}
			for off := range entries {
				if end := entryEnd(result, off); end <= common && isFresh[off] {
					t.Fatalf("round %d: entry at %d within the copied start found fresh", round, off)
				}
			}
		}
	}
}

// freshByEntry is freshEntries as it first was, the oracle of the one that
// skips copied runs: every entry of data parsed, and found fresh unless
// the copy that holds its start holds all of it, from where an entry of
// base starts.
func freshByEntry(data, base []byte, copies []copySpan) []int32 {
	baseMap := mapEntries(base, nil)
	var fresh []int32
	k := 0
	for off := 0; off < len(data); {
		end := entryEnd(data, off)
		if end < 0 {
			fresh = append(fresh, int32(off))
			break
		}
		for k < len(copies) && copies[k].out+copies[k].n <= off {
			k++
		}
		known := false
		if k < len(copies) && copies[k].out <= off && end <= copies[k].out+copies[k].n {
			src := copies[k].src + (off - copies[k].out)
			known = src < len(base) && baseMap.bits[src>>6]&(1<<(src&63)) != 0
		}
		if !known {
			fresh = append(fresh, int32(off))
		}
		off = end
	}
	return fresh
}

// garble damages a tree at random: a byte changed (a NUL gone or added),
// or the end cut, so that entries are malformed from some place on.
func garble(rng *rand.Rand, tree []byte) []byte {
	tree = bytes.Clone(tree)
	if len(tree) == 0 {
		return tree
	}
	switch rng.IntN(3) {
	case 0:
		tree[rng.IntN(len(tree))] = 0
	case 1:
		from := rng.IntN(len(tree))
		if i := bytes.IndexByte(tree[from:], 0); i >= 0 {
			tree[from+i] = 'x'
		}
	default:
		tree = tree[:rng.IntN(len(tree))]
	}
	return tree
}

// TestFreshEntriesMatchByEntry compares freshEntries with the entry by
// entry oracle on trees of many sizes (maps of several words), deltas cut
// at random or as git makes them, and damaged bases and results; and the
// map it makes of the result with a map made from the result's bytes.
func TestFreshEntriesMatchByEntry(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 2000 {
		var names []string
		version := map[string]int{}
		for i := range 1 + rng.IntN(200) {
			names = append(names, fmt.Sprintf("f%0*d", 1+rng.IntN(12), i*3))
		}
		base := treeBytes(names, version)
		next := map[string]int{}
		var edited []string
		for _, n := range names {
			switch rng.IntN(20) {
			case 0:
				continue
			case 1:
				next[n] = 1
			case 2:
				edited = append(edited, n+"-new")
			}
			edited = append(edited, n)
		}
		result := treeBytes(edited, next)
		if round%7 == 3 {
			base = garble(rng, base)
		}
		if round%5 == 4 {
			result = garble(rng, result)
		}
		var delta []byte
		switch round % 3 {
		case 0:
			delta = testgit.MakeDelta(base, result)
		default:
			delta = randomDelta(rng, base, result)
		}
		if out, err := applyDelta(base, delta, nil, 1<<20); err != nil || !bytes.Equal(out, result) {
			t.Fatalf("round %d: delta does not make the result: %v", round, err)
		}
		copies := deltaCopies(delta, nil)
		want := freshByEntry(result, base, copies)
		// Reused bits, dirty, as the sweep passes them.
		dirty := make([]uint64, rng.IntN(len(result)/64+3))
		for i := range dirty {
			dirty[i] = rng.Uint64()
		}
		got, m := freshEntries(result, mapEntries(base, dirty), copies, nil, slices.Clone(dirty), true)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: fresh %v, entry by entry %v", round, got, want)
		}
		if got2, m2 := freshEntries(result, mapEntries(base, nil), copies, nil, nil, false); !slices.Equal(got2, want) || m2.mapped() {
			t.Fatalf("round %d: unmapped: fresh %v, entry by entry %v", round, got2, want)
		}
		if w := mapEntries(result, nil); m.end != w.end || !slices.Equal(m.bits, w.bits) {
			t.Fatalf("round %d: map ends at %d, by bytes %d; bits equal: %v", round, m.end, w.end, slices.Equal(m.bits, w.bits))
		}
		// Unmade, the same entries, their bytes read from the delta.
		var u unmade
		if err := u.parse(base, delta, 1<<20); err != nil {
			t.Fatalf("round %d: unmade: %v", round, err)
		}
		var wantBytes []byte
		var wantOffs []int32
		for _, off := range want {
			end := entryEnd(result, int(off))
			if end < 0 {
				end = len(result)
			}
			wantOffs = append(wantOffs, int32(len(wantBytes)))
			wantBytes = append(wantBytes, result[off:end]...)
		}
		gotBytes, offs := freshUnmade(&u, mapEntries(base, nil), nil, nil)
		if !bytes.Equal(gotBytes, wantBytes) || !slices.Equal(offs, wantOffs) {
			t.Fatalf("round %d: unmade: fresh bytes %q at %v, made %q at %v", round, gotBytes, offs, wantBytes, wantOffs)
		}
	}
}

// TestSweepTreeFresh sweeps the trees of a real pack, with chains of tree
// deltas as git makes them, on one worker and several: every tree is
// given once; one stored whole comes whole, with no fresh list; of those
// stored as deltas (the leaves of the delta forest unmade, their fresh
// entries only), every entry that is not an entry of the tree's base (as
// git verify-pack names it) is given fresh, and most entries are not.
func TestSweepTreeFresh(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	rng := rand.New(rand.NewPCG(9, 10))
	var paths []string
	for i := range 120 {
		paths = append(paths, fmt.Sprintf("d%d/s%d/file-%03d.txt", i%4, i%3, i))
	}
	for i := range 80 {
		for k, p := range paths {
			if i == 0 || rng.IntN(60) == 0 {
				r.Write(p, fmt.Sprintf("%s %d\n", p, i))
			} else if rng.IntN(200) == 0 {
				os.Remove(filepath.Join(r.Dir, filepath.FromSlash(p)))
				paths[k] = p + "-again"
			}
		}
		r.Commit(fmt.Sprint("commit ", i))
	}
	r.Git("repack", "-a", "-d", "-f", "-q", "--depth=50", "--window=50")
	packs, _ := filepath.Glob(filepath.Join(r.ObjectsDir(), "pack", "*.idx"))
	bases := map[plumbing.Hash]plumbing.Hash{} // tree: its base, or zero
	for _, line := range strings.Split(r.Git("verify-pack", "-v", packs[0]), "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && f[1] == "tree" {
			var base plumbing.Hash
			if len(f) == 7 {
				base = plumbing.NewHash(f[6])
			}
			bases[plumbing.NewHash(f[0])] = base
		}
	}
	s := Open(r.ObjectsDir(), nil)
	defer s.Close()
	rd := s.Reader(1 << 20)
	// What git's deltas add: the entries of each delta tree its base lacks.
	added := map[string]int{}
	var deltas, entries int
	for h, base := range bases {
		if base.IsZero() {
			continue
		}
		deltas++
		_, data, err := rd.Read(h)
		_, bdata, berr := rd.Read(base)
		if err != nil || berr != nil {
			t.Fatalf("tree %s or its base: %v %v", h, err, berr)
		}
		inBase := map[string]bool{}
		for _, e := range entriesOf(t, bdata) {
			inBase[e] = true
		}
		for _, e := range entriesOf(t, data) {
			entries++
			if !inBase[e] {
				added[e]++
			}
		}
	}
	for _, workers := range []int{1, 3} {
		var mu sync.Mutex
		whole := map[plumbing.Hash]bool{}
		fresh := map[string]int{}
		calls, given := 0, 0
		s.Sweep(context.Background(), SweepOptions{Workers: workers, Types: TypesOf(plumbing.TreeObject),
			Tree: func(_ int, b []byte, f []int32) {
				mu.Lock()
				defer mu.Unlock()
				calls++
				if f == nil {
					h := testgit.ObjectName(plumbing.TreeObject, b)
					if base, ok := bases[h]; !ok || !base.IsZero() || whole[h] {
						t.Errorf("tree %s given whole: stored as a delta, not the pack's, or twice", h)
					}
					whole[h] = true
					return
				}
				for _, off := range f {
					end := entryEnd(b, int(off))
					if end < 0 {
						t.Fatalf("a malformed fresh entry at %d", off)
					}
					fresh[string(b[off:end])]++
					given++
				}
			}}, func(int, plumbing.Hash, plumbing.ObjectType, []byte) { t.Error("a tree given to the visitor") })
		if calls != len(bases) || len(whole) != len(bases)-deltas {
			t.Fatalf("%d workers: %d trees given (%d whole), the pack has %d (%d deltas)", workers, calls, len(whole), len(bases), deltas)
		}
		for e, n := range added {
			if fresh[e] < n {
				t.Errorf("%d workers: entry %q added by %d deltas, given fresh %d times", workers, e[:strings.IndexByte(e, 0)], n, fresh[e])
			}
		}
		if deltas < 50 || given > entries/4 {
			t.Errorf("%d workers: %d trees stored as deltas, %d of their %d entries given fresh: too many", workers, deltas, given, entries)
		}
	}
}

// TestUnmadeChecksAsApplyDelta damages deltas at random: unmade.parse
// refuses exactly those applyDelta refuses, with the same error.
func TestUnmadeChecksAsApplyDelta(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(13, 14))
	base := treeBytes([]string{"a", "bb", "ccc", "dddd", "eeeee"}, nil)
	result := treeBytes([]string{"a", "ccc", "dddd", "new", "eeeee"}, map[string]int{"dddd": 1})
	refused := 0
	for round := range 3000 {
		delta := testgit.MakeDelta(base, result)
		if round%2 == 1 {
			delta = randomDelta(rng, base, result)
		}
		delta = bytes.Clone(delta)
		switch rng.IntN(4) {
		case 0:
			delta[rng.IntN(len(delta))] = byte(rng.IntN(256))
		case 1:
			delta = delta[:rng.IntN(len(delta))]
		case 2:
			delta = append(delta, byte(rng.IntN(256)))
		}
		limit := 1 << 20
		if round%10 == 0 {
			limit = len(result) - 1
		}
		_, aerr := applyDelta(base, delta, nil, limit)
		var u unmade
		uerr := u.parse(base, delta, limit)
		if fmt.Sprint(aerr) != fmt.Sprint(uerr) {
			t.Fatalf("round %d: applyDelta says %v, unmade %v", round, aerr, uerr)
		}
		if aerr != nil {
			refused++
		}
	}
	if refused < 500 {
		t.Errorf("only %d damaged deltas refused: the test damages too little", refused)
	}
}
