package gitscan

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// slowPrefix and slowSuffix are byte-at-a-time references.
func slowPrefix(a, b []byte) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

func slowSuffix(a, b []byte) int {
	i := 0
	for i < len(a) && i < len(b) && a[len(a)-1-i] == b[len(b)-1-i] {
		i++
	}
	return i
}

// TestCommonEnds compares commonPrefix and commonSuffix with the
// references on slices that differ at one or two places of every kind:
// inside and at the edges of a block and of a word, and not at all, with
// lengths that differ, around alikeBlock's multiples.
func TestCommonEnds(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	lengths := []int{0, 1, 7, 8, 9, 63, 255, 256, 257, 511, 512, 513, 1000, 3 * alikeBlock, 3*alikeBlock + 5}
	for _, n := range lengths {
		a := make([]byte, n)
		for i := range a {
			a[i] = byte(rng.IntN(4)) // few values: long runs alike by chance
		}
		for _, extra := range []int{0, 1, 9, alikeBlock + 3} {
			for trial := 0; trial < 60; trial++ {
				b := append(make([]byte, 0, n+extra), a...)
				for range extra {
					b = append(b, byte(rng.IntN(4)))
				}
				if trial%3 == 1 {
					b = append(b[:0:0], append(make([]byte, extra), a...)...)
				}
				for range trial % 3 {
					if len(b) > 0 {
						b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
					}
				}
				for _, p := range [][2][]byte{{a, b}, {b, a}} {
					if got, want := commonPrefix(p[0], p[1]), slowPrefix(p[0], p[1]); got != want {
						t.Fatalf("commonPrefix(len %d, len %d) = %d, want %d", len(p[0]), len(p[1]), got, want)
					}
					if got, want := commonSuffix(p[0], p[1]), slowSuffix(p[0], p[1]); got != want {
						t.Fatalf("commonSuffix(len %d, len %d) = %d, want %d", len(p[0]), len(p[1]), got, want)
					}
				}
			}
		}
	}
}

// BenchmarkCommonEnds compares a 30 KB folder with its parent's version
// that differs in one entry's name in the middle, as a commit to a folder
// of a thousand files does.
func BenchmarkCommonEnds(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]byte, 30000)
	for i := range x {
		x[i] = byte(rng.Uint32())
	}
	y := append([]byte(nil), x...)
	y[15000] ^= 1
	b.SetBytes(int64(len(x)))
	for b.Loop() {
		p := commonPrefix(x, y)
		_ = commonSuffix(x[p:], y[p:])
	}
}

// TestEntriesWithin compares entriesWithin and parsedWithin with the
// entry-at-a-time skips they replace, on well-formed trees (names and
// hashes holding NULs and spaces) and on trees with a bad mode, a name
// without its NUL or a hash cut short, at every limit.
func TestEntriesWithin(t *testing.T) {
	var tree []byte
	for i, name := range []string{"a", "b c", "long-name.txt", "d", "e"} {
		mode := "100644"
		if i == 3 {
			mode = "40000"
		}
		h := make([]byte, hashLen)
		h[i] = 0     // a NUL inside the hash
		h[i+1] = ' ' // and a space
		tree = append(append(tree, mode+" "+name+"\x00"...), h...)
	}
	bad := [][]byte{
		tree,
		append(append([]byte(nil), tree[:30]...), "19x644 f\x00"+string(make([]byte, hashLen))...),
		append(append([]byte(nil), tree...), "100644 nonul"...),
		append(append([]byte(nil), tree...), "100644 cut\x00abc"...),
	}
	bad[1] = append(bad[1], tree[30:]...)
	for k, b := range bad {
		for limit := 0; limit <= len(b); limit++ {
			// The walk's old skip: an entry's end from its name's NUL.
			want := 0
			for {
				nul := bytesIndexZero(b[want:])
				if end := want + nul + 1 + hashLen; nul >= 0 && end <= limit {
					want = end
					continue
				}
				break
			}
			if got := entriesWithin(b, limit); got != want {
				t.Fatalf("tree %d: entriesWithin(limit %d) = %d, want %d", k, limit, got, want)
			}
			// Exposure's old skip: entries that parse.
			want = 0
			for {
				if n, ok := entryLen(b[want:]); ok && want+n <= limit {
					want += n
					continue
				}
				break
			}
			if got := parsedWithin(b, limit); got != want {
				t.Fatalf("tree %d: parsedWithin(limit %d) = %d, want %d", k, limit, got, want)
			}
		}
	}
}

func bytesIndexZero(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}

// BenchmarkParsedWithin skips the entries of a folder of a hundred
// folders, as exposure's comparison does on each commit of a history
// whose root holds a hundred folders.
func BenchmarkParsedWithin(b *testing.B) {
	var tree []byte
	for i := range 100 {
		tree = append(tree, fmt.Sprintf("40000 dir%02d\x00", i)...)
		tree = append(tree, make([]byte, hashLen)...)
	}
	b.SetBytes(int64(len(tree)))
	for b.Loop() {
		if parsedWithin(tree, len(tree)) != len(tree) {
			b.Fatal("not every entry parsed")
		}
	}
}

// TestNulIndex compares nulIndex with bytes.IndexByte where a word's
// arithmetic could go wrong: a NUL at every place of the first 80 bytes,
// after bytes 0x01 and 0x80 (which borrow and mark a byte falsely), none
// at all, and past the words looked at one at a time.
func TestNulIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	fill := []byte{0x01, 0x80, 0x81, 0xff, 'a'}
	for n := 0; n <= 90; n++ {
		for trial := 0; trial < 40; trial++ {
			b := make([]byte, n)
			for i := range b {
				b[i] = fill[rng.IntN(len(fill))]
			}
			if n > 0 && trial%4 != 0 {
				b[rng.IntN(n)] = 0
			}
			if n > 1 && trial%4 == 2 {
				b[rng.IntN(n)] = 0
			}
			if got, want := nulIndex(b), bytes.IndexByte(b, 0); got != want {
				t.Fatalf("nulIndex(%x) = %d, want %d", b, got, want)
			}
		}
	}
}
