package gitobj

import (
	"bytes"
	"crypto/sha1"
	"fmt"
	"math/rand/v2"
	"testing"

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
		fresh, starts := freshEntries(result, base, entryStarts(base, nil), deltaCopies(delta, nil), nil, nil)
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
