package gitscan

import (
	"bytes"
	"encoding/binary"
	"math/bits"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/loftyscan/loftyscan/internal/gitobj"
)

// treeEntry is one entry of a tree object.
type treeEntry struct {
	mode filemode.FileMode
	name []byte
	hash plumbing.Hash
}

// nextEntry parses the first entry of a tree's bytes: "<octal mode>
// <name>\x00<20-byte hash>".
func nextEntry(b []byte) (treeEntry, []byte, bool) {
	var e treeEntry
	sp := modeEnd(b)
	if sp < 0 {
		return e, nil, false
	}
	var mode uint32
	for _, c := range b[:sp] {
		mode = mode<<3 | uint32(c-'0')
	}
	b = b[sp+1:]
	nul := nulIndex(b)
	if nul < 0 || len(b) < nul+21 {
		return e, nil, false
	}
	e.mode, e.name = gitobj.CanonMode(mode), b[:nul]
	copy(e.hash[:], b[nul+1:nul+21])
	return e, b[nul+21:], true
}

// minEntry is the shortest a tree entry can be: a digit, a space, an
// empty name's NUL and the hash.
const minEntry = 1 + 1 + 1 + hashLen

// modeEnd returns where the space after the mode a tree entry starts
// with is (one to seven octal digits), or -1. Its first eight bytes are
// looked at as one word: a search for the space, then a loop over the
// digits, made exposure's skip over a folder take 1.8 times as long, and
// a loop over the bytes 1.3 times the instructions (BenchmarkParsedWithin,
// with nulIndex).
func modeEnd(b []byte) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	if len(b) < minEntry {
		return -1 // and so it has eight bytes
	}
	x := binary.LittleEndian.Uint64(b)
	s := x ^ 0x2020202020202020 // a space is a zero byte of s
	t := (s - lo) &^ s & hi     // the lowest byte marked is the first zero
	if t == 0 {
		return -1 // no space in the first eight bytes
	}
	sp := bits.TrailingZeros64(t) / 8
	if sp == 0 {
		return -1
	}
	// Each byte before the space is '0' to '7': 0x30 to 0x37.
	if (x&0xf8f8f8f8f8f8f8f8^0x3030303030303030)&(1<<(8*sp)-1) != 0 {
		return -1
	}
	return sp
}

// entryLen returns the length of b's first tree entry when nextEntry
// parses one: the comparison's skip over the entries two trees start
// with alike needs no more, and copying out each entry there cost it
// two thirds of its time in some builds (stores of the entry then read
// back).
func entryLen(b []byte) (int, bool) {
	sp := modeEnd(b)
	if sp < 0 {
		return 0, false
	}
	nul := nulIndex(b[sp+1:])
	if nul < 0 || len(b) < sp+1+nul+21 {
		return 0, false
	}
	return sp + 1 + nul + 21, true
}

// nulIndex returns where b's first NUL is, or -1: where a tree entry's
// name ends. Names are most often short, so the first bytes are looked
// at a word at a time, which costs less than bytes.IndexByte's set-up
// for a vector search (BenchmarkParsedWithin); a long name goes to it.
func nulIndex(b []byte) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b) && i < 64; i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		// The lowest byte marked is the first NUL (a mark above a NUL
		// may be false, never one below).
		if t := (x - lo) &^ x & hi; t != 0 {
			return i + bits.TrailingZeros64(t)/8
		}
	}
	if n := bytes.IndexByte(b[i:], 0); n >= 0 {
		return i + n
	}
	return -1
}
