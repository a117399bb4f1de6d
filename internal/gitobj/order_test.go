package gitobj

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// indexWithOffsets lays out a version 2 pack index of n names whose
// objects are at offs (by index position): those past 2 GiB go to the
// large-offset table; a negative one becomes an entry pointing past that
// table (an invalid offset).
func indexWithOffsets(offs []int64) []byte {
	b := []byte("\xfftOc\x00\x00\x00\x02")
	var fan [256]uint32
	names := make([]byte, 0, hashLen*len(offs))
	for i := range offs {
		// Names in order: the first byte spreads them over the fan-out.
		var name [hashLen]byte
		name[0] = byte(i * 256 / len(offs))
		binary.BigEndian.PutUint64(name[1:], uint64(i))
		names = append(names, name[:]...)
		fan[name[0]]++
	}
	sum := uint32(0)
	for _, c := range fan {
		sum += c
		b = binary.BigEndian.AppendUint32(b, sum)
	}
	b = append(b, names...)
	b = append(b, make([]byte, 4*len(offs))...) // CRC-32s
	var large []byte
	for _, off := range offs {
		switch {
		case off < 0:
			b = binary.BigEndian.AppendUint32(b, 0x80000000|uint32(len(offs)+5))
		case off >= 1<<31:
			b = binary.BigEndian.AppendUint32(b, 0x80000000|uint32(len(large)/8))
			large = binary.BigEndian.AppendUint64(large, uint64(off))
		default:
			b = binary.BigEndian.AppendUint32(b, uint32(off))
		}
	}
	b = append(b, large...)
	return append(b, make([]byte, 2*hashLen)...)
}

// TestByOffset sorts the objects of indexes by offset, radix sort against
// comparison sort: small and big packs, offsets past 4 GiB, and invalid
// ones, which come first.
func TestByOffset(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		n       int
		maxOff  int64
		invalid int
	}{{1, 100, 0}, {2, 100, 1}, {1000, 1 << 20, 0}, {5000, 1 << 33, 3}, {70000, 1 << 40, 10}, {3000, 3000 * 40, 0}} {
		offs := make([]int64, c.n)
		seen := map[int64]bool{}
		for i := range offs {
			for {
				offs[i] = 12 + rng.Int64N(c.maxOff)
				if !seen[offs[i]] {
					seen[offs[i]] = true
					break
				}
			}
		}
		for range c.invalid {
			offs[rng.IntN(c.n)] = -1
		}
		x, err := parsePackIndex(indexWithOffsets(offs))
		if err != nil {
			t.Fatal(err)
		}
		pos, got := x.byOffset()
		wantPos, want := x.byOffsetSorted()
		if !slices.Equal(got, want) {
			t.Fatalf("%d objects: offsets not in order", c.n)
		}
		ppos, packed := x.byOffsetPacked()
		if !slices.Equal(ppos, pos) || !samePackOffsets(packed, got) {
			t.Fatalf("%d objects: byOffsetPacked is not byOffset", c.n)
		}
		for i := range pos {
			if got[i] >= 0 && pos[i] != wantPos[i] || offs[pos[i]] != got[i] && got[i] >= 0 {
				t.Fatalf("%d objects: entry %d is position %d, want %d", c.n, i, pos[i], wantPos[i])
			}
		}
		slices.Sort(pos)
		for i, p := range pos {
			if int(p) != i {
				t.Fatalf("%d objects: positions are not each there once", c.n)
			}
		}
	}
}

// TestRadixSort sorts random keys on bit ranges against slices.Sort.
func TestRadixSort(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, width := range []uint{1, 5, 11, 12, 22, 23, 40, 53} {
		const lo = 14 // below: the key's index, ascending: the sort is stable
		keys := make([]uint64, 10000)
		for i := range keys {
			keys[i] = (rng.Uint64()&(1<<width-1))<<lo | uint64(i)
		}
		want := slices.Clone(keys)
		slices.Sort(want)
		if got := radixSort(keys, lo, width); !slices.Equal(got, want) {
			t.Fatalf("%d bits: not sorted", width)
		}
	}
}

// TestPackOrder reads a pack's order from the .rev file git writes, and
// falls back to sorting when the file is missing, of another pack, too
// short, or not a permutation in pack order.
func TestPackOrder(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	for i := range 30 {
		for f := range 3 {
			os.WriteFile(filepath.Join(r.Dir, fmt.Sprintf("f%d.txt", f)), testgit.Lines(fmt.Sprintf("file %d version %d", f, i), 40+i), 0o644)
		}
		r.Git("add", ".")
		r.Git("commit", "-q", "-m", fmt.Sprint("commit ", i))
	}
	r.Git("-c", "pack.writeReverseIndex=true", "repack", "-adq")
	revs, _ := filepath.Glob(filepath.Join(r.Dir, ".git", "objects", "pack", "*.rev"))
	if len(revs) != 1 {
		t.Fatalf("git wrote %d .rev files", len(revs))
	}
	good, err := os.ReadFile(revs[0])
	if err != nil {
		t.Fatal(err)
	}
	s := Open(filepath.Join(r.Dir, ".git", "objects"), nil)
	defer s.Close()
	p := s.packs[0]
	wantPos, wantOffs := p.idx.byOffsetSorted()
	check := func(name string, rev []byte, fromRev bool) {
		t.Helper()
		os.Remove(revs[0])
		if rev != nil {
			if err := os.WriteFile(revs[0], rev, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, ok := p.readRev(); ok != fromRev {
			t.Errorf("%s: read from the .rev file: %v, want %v", name, ok, fromRev)
		}
		pos, offs := p.packOrder()
		if !slices.Equal(pos, wantPos) || !slices.Equal(offs, wantOffs) {
			t.Errorf("%s: not the pack's order", name)
		}
		if pos, offs := p.packOrderPacked(); !slices.Equal(pos, wantPos) || !samePackOffsets(offs, wantOffs) {
			t.Errorf("%s: packOrderPacked is not the pack's order", name)
		}
	}
	check("git's .rev", good, true)
	check("no .rev", nil, false)
	swapped := bytes.Clone(good)
	copy(swapped[12:16], good[16:20])
	copy(swapped[16:20], good[12:16])
	check("two entries swapped", swapped, false)
	same := bytes.Clone(good)
	copy(same[16:20], good[12:16])
	check("one position twice", same, false)
	big := bytes.Clone(good)
	binary.BigEndian.PutUint32(big[12:], uint32(p.idx.count))
	check("a position past the end", big, false)
	other := bytes.Clone(good)
	other[len(other)-2*hashLen] ^= 1
	check("another pack's checksum", other, false)
	check("too short", good[:len(good)-1], false)
	version := bytes.Clone(good)
	version[7] = 2
	check("version 2", version, false)
}

// TestClaim hands out every task once: one a ticket before cut, then in
// groups.
func TestClaim(t *testing.T) {
	t.Parallel()
	for _, c := range [][2]int{{0, 0}, {0, 1}, {1, 1}, {0, 64}, {0, 65}, {3, 200}, {200, 200}, {10, 1000}} {
		cut, n := c[0], c[1]
		seen := make([]int, n)
		for ticket := int64(0); ; ticket++ {
			lo, hi := claim(ticket, cut, n)
			if lo >= n {
				break
			}
			if hi <= lo || (lo < cut && hi != lo+1) || hi-lo > groupSize {
				t.Fatalf("cut %d of %d: ticket %d gets [%d, %d)", cut, n, ticket, lo, hi)
			}
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		}
		for i, k := range seen {
			if k != 1 {
				t.Fatalf("cut %d of %d: task %d handed out %d times", cut, n, i, k)
			}
		}
	}
}

// TestSweepGroups sweeps a pack of many small delta trees, which go to the
// workers in groups whose names are read ahead: every object comes once,
// under its own name.
func TestSweepGroups(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	for i := range 4 {
		for f := range 150 {
			os.WriteFile(filepath.Join(r.Dir, fmt.Sprintf("f%03d.txt", f)), testgit.Lines(fmt.Sprintf("file %d version %d", f, i), 20+f%7+i), 0o644)
		}
		r.Git("add", ".")
		r.Git("commit", "-q", "-m", fmt.Sprint("commit ", i))
	}
	r.Git("repack", "-adq")
	s := Open(filepath.Join(r.Dir, ".git", "objects"), nil)
	defer s.Close()
	all := TypesOf(plumbing.CommitObject, plumbing.TreeObject, plumbing.BlobObject, plumbing.TagObject)
	var mu sync.Mutex
	got := map[plumbing.Hash]int{}
	res := s.Sweep(context.Background(), SweepOptions{Workers: 2, Types: all}, func(_ int, h plumbing.Hash, typ plumbing.ObjectType, data []byte) {
		if testgit.ObjectName(typ, data) != h {
			t.Errorf("%s: the bytes of another object", h)
		}
		mu.Lock()
		got[h]++
		mu.Unlock()
	})
	if n := s.packs[0].idx.count; len(got) != n || len(res.Undelivered()) != 0 {
		t.Fatalf("%d of %d objects delivered", len(got), n)
	}
	for h, k := range got {
		if k != 1 {
			t.Errorf("%s delivered %d times", h, k)
		}
	}
}

// TestSweepManyPacks checks that the sweep tells which objects an earlier
// pack holds without looking each one up in every earlier pack: a folder
// of 10,000 packs of 100 objects took N × P/2 lookups, over 300 s of CPU.
// Each object is delivered once, from the first pack that has it.
func TestSweepManyPacks(t *testing.T) {
	if raceBuild {
		t.Skip("writes 300 packs (15 s under -race): .ci/run runs it without -race")
	}
	t.Parallel()
	const packs, each = 300, 100
	r := testgit.New(t, "")
	dir := filepath.Join(r.Dir, ".git", "objects")
	want := map[plumbing.Hash]bool{}
	for p := range packs {
		var objs []testgit.Object
		for k := range each {
			objs = append(objs, testgit.Object{Type: plumbing.BlobObject, Data: fmt.Appendf(nil, "pack %d object %d\n", p, k)})
		}
		// Copies: one object in every pack, and one of each pack's in the next.
		objs = append(objs, testgit.Object{Type: plumbing.BlobObject, Data: []byte("in every pack\n")})
		if p > 0 {
			objs = append(objs, testgit.Object{Type: plumbing.BlobObject, Data: fmt.Appendf(nil, "pack %d object %d\n", p-1, p%each)})
		}
		for _, h := range testgit.WritePack(t, dir, objs) {
			want[h] = true
		}
	}
	s := Open(dir, nil)
	defer s.Close()
	if len(s.packs) != packs {
		t.Fatalf("%d packs opened, want %d", len(s.packs), packs)
	}
	var mu sync.Mutex
	got := map[plumbing.Hash]int{}
	res := s.Sweep(context.Background(), SweepOptions{Workers: 2, Types: TypesOf(plumbing.BlobObject)}, func(_ int, h plumbing.Hash, typ plumbing.ObjectType, data []byte) {
		mu.Lock()
		got[h]++
		mu.Unlock()
	})
	if len(got) != len(want) || len(res.Undelivered()) != 0 {
		t.Errorf("%d of %d objects delivered, %d undelivered", len(got), len(want), len(res.Undelivered()))
	}
	for h, k := range got {
		if k != 1 || !want[h] {
			t.Errorf("%s delivered %d times", h, k)
		}
	}
	lookups := int64(0)
	for _, p := range s.packs {
		lookups += p.idx.lookups.Load()
		if p.idx.hashed.Load() != nil {
			lookups += hashAfter
		}
	}
	if lookups > int64(len(want)) {
		t.Errorf("the sweep looked names up %d times in the indexes of %d packs of %d objects in all: it grows with objects × packs", lookups, packs, len(want))
	}
	for h := range want {
		if !res.Delivered(h) {
			t.Fatalf("%s: Delivered is false", h)
		}
	}
}

// samePackOffsets reports whether o holds offs.
func samePackOffsets(o packOffsets, offs []int64) bool {
	if o.len() != len(offs) {
		return false
	}
	for i, off := range offs {
		if o.at(int32(i)) != off {
			return false
		}
	}
	return true
}
