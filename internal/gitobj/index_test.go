package gitobj

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"slices"
	"strconv"
	"sync"
	"testing"
	"unsafe"
)

// syntheticIndex makes a version 2 pack index of n names (SHA-1s of the
// numbers from 0), at offsets 12, 13, ...
func syntheticIndex(n int) *packIndex {
	names := make([][]byte, n)
	for i := range names {
		s := sha1.Sum([]byte(strconv.Itoa(i)))
		names[i] = s[:]
	}
	x, err := parsePackIndex(indexBytes(names))
	if err != nil {
		panic(err)
	}
	return x
}

// indexBytes lays out a version 2 pack index of names.
func indexBytes(names [][]byte) []byte {
	names = slices.Clone(names)
	slices.SortFunc(names, bytes.Compare)
	return indexBytesAsIs(names)
}

// indexBytesAsIs lays out a version 2 pack index of names in the order
// given, sorted or not (a crafted index).
func indexBytesAsIs(names [][]byte) []byte {
	b := []byte("\xfftOc\x00\x00\x00\x02")
	var fan [256]uint32
	for _, n := range names {
		fan[n[0]]++
	}
	sum := uint32(0)
	for _, c := range fan {
		sum += c
		b = binary.BigEndian.AppendUint32(b, sum)
	}
	for _, n := range names {
		b = append(b, n...)
	}
	b = append(b, make([]byte, 4*len(names))...) // CRC-32s
	for i := range names {
		b = binary.BigEndian.AppendUint32(b, uint32(12+i))
	}
	return append(b, make([]byte, 2*hashLen)...)
}

// TestIndexFind looks up every name of indexes of many sizes, and names
// that are not there: next to each name, and at the ends of the range.
func TestIndexFind(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 2, 3, 17, 256, 1000, 40_000} {
		x := syntheticIndex(n)
		checkFind(t, x, n)
		tab := newNameTable(x)
		x.hashed.Store(tab) // as after many lookups
		checkFind(t, x, n)
		// 6 bytes an object: at a million commits (4 million objects)
		// the table is a quarter of what a scan holds at its peak.
		if size := len(tab.slots) * int(unsafe.Sizeof(tab.slots[0])); size > 6*n+4 {
			t.Errorf("%d names: a table of %d bytes", n, size)
		}
	}
}

// TestNameTableCraftedNames: names that share the bytes the table hashes
// (an index file is data, and can be crafted so) leave an index without
// the table, and lookups with the binary search, rather than make
// building the table quadratic and every lookup walk every name.
func TestNameTableCraftedNames(t *testing.T) {
	t.Parallel()
	const n = 50_000
	same := make([][]byte, n) // bytes 4 to 12 the same
	spread := make([][]byte, n)
	for i := range n {
		same[i] = make([]byte, hashLen)
		binary.BigEndian.PutUint32(same[i], uint32(i)*7919)
		binary.BigEndian.PutUint32(same[i][16:], uint32(i))
		// Low halves that fall on consecutive first slots: one run of
		// every name, though no name is placed past its first slot.
		spread[i] = bytes.Clone(same[i])
		slots := uint64(n + n/2 + 1)
		binary.LittleEndian.PutUint32(spread[i][4:], uint32((uint64(i)<<32+slots-1)/slots))
	}
	for name, names := range map[string][][]byte{"same bytes": same, "consecutive slots": spread} {
		x, err := parsePackIndex(indexBytes(names))
		if err != nil {
			t.Fatal(err)
		}
		if tab := newNameTable(x); tab != nil {
			t.Errorf("%s: a table of names that do not spread was built", name)
		}
		for i := 0; i < x.count+hashAfter; i++ { // past the point the table is built at
			if got := x.find(x.name(i % x.count)); got != i%x.count {
				t.Fatalf("%s: name %d found at %d", name, i%x.count, got)
			}
		}
	}
	if newNameTable(syntheticIndex(n)) == nil {
		t.Error("no table for real names")
	}
}

// craftedNames returns n names whose bytes 4 to 12 are key(i), the rest
// told apart by i.
func craftedNames(n int, key func(i int) (low, high uint32)) [][]byte {
	names := make([][]byte, n)
	for i := range n {
		names[i] = make([]byte, hashLen)
		binary.BigEndian.PutUint32(names[i], uint32(i)*7919)
		binary.BigEndian.PutUint32(names[i][16:], uint32(i))
		low, high := key(i)
		binary.LittleEndian.PutUint32(names[i][4:], low)
		binary.LittleEndian.PutUint32(names[i][8:], high)
	}
	return names
}

// lowFor returns the low half whose first slot is slot, in a table of an
// index of n names.
func lowFor(slot, n int) uint32 {
	slots := uint64(n + n/2 + 1)
	return uint32((uint64(slot)<<32 + slots - 1) / slots)
}

// TestNameTableCraftedGroups: names crafted in groups that share bytes 4
// to 12, a group's first slot far from the next one's, keep every run and
// every probe under maxRun, yet building the table costs n times a
// group's size, and a lookup walks half a group, comparing whole names at
// each slot. The table is not built: its probes all together are bounded.
func TestNameTableCraftedGroups(t *testing.T) {
	t.Parallel()
	const n, group = 40_000, 1000
	x, err := parsePackIndex(indexBytes(craftedNames(n, func(i int) (uint32, uint32) {
		return lowFor(i/group*group*3/2, n), 0xdeadbeef
	})))
	if err != nil {
		t.Fatal(err)
	}
	if newNameTable(x) != nil {
		t.Error("a table of names crafted in groups was built")
	}
	for i := 0; i < x.count+hashAfter; i++ { // past the point the table is built at
		if got := x.find(x.name(i % x.count)); got != i%x.count {
			t.Fatalf("name %d found at %d", i%x.count, got)
		}
	}
}

// TestNameTableLookupIsBounded: a run of names on consecutive first slots
// that share the high half of bytes 4 to 12 costs the build nothing, but a
// name that is not there (it is in another pack: every pack before it is
// asked first) whose bytes 4 to 12 fall at the run's start would walk the
// whole run, comparing whole names at each slot. A lookup reads maxProbe
// slots at most, then searches.
func TestNameTableLookupIsBounded(t *testing.T) {
	t.Parallel()
	const n, run = 8000, 4000
	names := craftedNames(n, func(i int) (uint32, uint32) {
		if i >= run {
			i += run / 2 // a second run, after a gap
		}
		return lowFor(i, n), 0xdeadbeef
	})
	x, err := parsePackIndex(indexBytes(names))
	if err != nil {
		t.Fatal(err)
	}
	tab := newNameTable(x)
	if tab == nil {
		t.Fatal("no table for names that never probe")
	}
	x.hashed.Store(tab)
	elsewhere := craftedNames(1, func(int) (uint32, uint32) { return lowFor(0, n), 0xdeadbeef })[0]
	elsewhere[19] ^= 0xff // not any name of the index
	if _, ok := tab.find(x, elsewhere); ok {
		t.Errorf("a lookup walked a run of %d slots", run)
	}
	if got := x.find(elsewhere); got != -1 {
		t.Errorf("a name not in the index found at %d", got)
	}
	for i := range x.count {
		if got := x.find(x.name(i)); got != i {
			t.Fatalf("name %d found at %d", i, got)
		}
	}
}

func checkFind(t *testing.T, x *packIndex, n int) {
	t.Helper()
	{
		for i := range x.count {
			name := x.name(i)
			if got := x.find(name); got != i {
				t.Fatalf("%d names: name %d found at %d", n, i, got)
			}
			for _, d := range []int{-1, 1} {
				near := bytes.Clone(name)
				k := hashLen - 1
				for ; k >= 0; k-- { // name ± 1, as a 160-bit number
					near[k] += byte(d)
					if (d == 1 && near[k] != 0) || (d == -1 && near[k] != 0xff) {
						break
					}
				}
				if k < 0 {
					continue
				}
				want := -1
				if i+d >= 0 && i+d < x.count && bytes.Equal(x.name(i+d), near) {
					want = i + d
				}
				if got := x.find(near); got != want {
					t.Fatalf("%d names: %x found at %d, want %d", n, near, got, want)
				}
			}
		}
		for _, h := range [][]byte{make([]byte, hashLen), bytes.Repeat([]byte{0xff}, hashLen), bytes.Repeat([]byte{0x80}, hashLen)} {
			want := -1
			for i := range x.count {
				if bytes.Equal(x.name(i), h) {
					want = i
				}
			}
			if got := x.find(h); got != want {
				t.Errorf("%d names: %x found at %d, want %d", n, h, got, want)
			}
		}
	}
}

// TestIndexFindWhileHashing: the goroutines of a scan look names up while
// one of them builds the table (run with -race); each finds every name,
// before the table, while it is built and after.
func TestIndexFindWhileHashing(t *testing.T) {
	t.Parallel()
	const n, workers = 4000, 4
	x := syntheticIndex(n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n/4 + hashAfter {
				k := (i*7 + w) % n
				if got := x.find(x.name(k)); got != k {
					t.Errorf("name %d found at %d", k, got)
					return
				}
			}
		}()
	}
	wg.Wait()
	if x.hashed.Load() == nil {
		t.Error("no table after many lookups")
	}
}
