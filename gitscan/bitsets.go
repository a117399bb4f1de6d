package gitscan

import (
	"encoding/binary"
	"math/bits"
)

// bitsets interns small sets of bits (the keys a commit carries): most
// commits share a few sets, so each is kept once and named by an index,
// and a union of two sets is worked out once.
type bitsets struct {
	sets   [][]uint64
	ids    map[string]int32
	unions map[[2]int32]int32
}

// init makes the empty set, whose index is 0.
func (b *bitsets) init() {
	b.sets = [][]uint64{nil}
	b.ids = map[string]int32{"": 0}
	b.unions = map[[2]int32]int32{}
}

// intern returns the index of set s, trimmed of its trailing zero words.
func (b *bitsets) intern(s []uint64) int32 {
	for len(s) > 0 && s[len(s)-1] == 0 {
		s = s[:len(s)-1]
	}
	k := make([]byte, 8*len(s))
	for i, w := range s {
		binary.LittleEndian.PutUint64(k[8*i:], w)
	}
	if id, ok := b.ids[string(k)]; ok {
		return id
	}
	id := int32(len(b.sets))
	b.sets = append(b.sets, append([]uint64(nil), s...))
	b.ids[string(k)] = id
	return id
}

// of returns the set of the bits given.
func (b *bitsets) of(bs ...int) int32 {
	var s []uint64
	for _, i := range bs {
		for len(s) <= i/64 {
			s = append(s, 0)
		}
		s[i/64] |= 1 << (i % 64)
	}
	return b.intern(s)
}

// union returns the union of sets x and y.
func (b *bitsets) union(x, y int32) int32 {
	switch {
	case x == y, y == 0:
		return x
	case x == 0:
		return y
	}
	if x > y {
		x, y = y, x
	}
	if u, ok := b.unions[[2]int32{x, y}]; ok {
		return u
	}
	a, c := b.sets[x], b.sets[y]
	if len(a) < len(c) {
		a, c = c, a
	}
	s := append([]uint64(nil), a...)
	for i, w := range c {
		s[i] |= w
	}
	u := b.intern(s)
	b.unions[[2]int32{x, y}] = u
	return u
}

// has reports whether set x holds bit i.
func (b *bitsets) has(x int32, i int) bool {
	s := b.sets[x]
	return i/64 < len(s) && s[i/64]&(1<<(i%64)) != 0
}

// members lists the bits of set x.
func (b *bitsets) members(x int32) []int {
	var out []int
	for wi, w := range b.sets[x] {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			out = append(out, wi*64+t)
			w &= w - 1
		}
	}
	return out
}
