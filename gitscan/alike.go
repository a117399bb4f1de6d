package gitscan

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// A commit most often changes one entry of a folder, so the tree walks
// (walk.go, exposure_carry.go) skip the bytes a tree shares with its
// parent's version at both ends. On a folder of a thousand files that is
// ~30 KB compared per commit, once for the scan and once for exposure, so
// the bytes are compared in blocks with bytes.Equal (vector instructions)
// first and only the block that differs word by word:
// BenchmarkCommonEnds.
const alikeBlock = 256

// commonPrefix returns how many bytes a and b start with alike.
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for i+alikeBlock <= n && bytes.Equal(a[i:i+alikeBlock], b[i:i+alikeBlock]) {
		i += alikeBlock
	}
	for ; i+8 <= n; i += 8 {
		if x := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]); x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for ; i < n && a[i] == b[i]; i++ {
	}
	return i
}

// commonSuffix returns how many bytes a and b end with alike.
func commonSuffix(a, b []byte) int {
	n := min(len(a), len(b))
	a, b = a[len(a)-n:], b[len(b)-n:]
	i := 0 // bytes alike at the end
	for i+alikeBlock <= n && bytes.Equal(a[n-i-alikeBlock:n-i], b[n-i-alikeBlock:n-i]) {
		i += alikeBlock
	}
	for ; i+8 <= n; i += 8 {
		if x := binary.LittleEndian.Uint64(a[n-i-8:]) ^ binary.LittleEndian.Uint64(b[n-i-8:]); x != 0 {
			return i + bits.LeadingZeros64(x)/8
		}
	}
	for ; i < n && a[n-1-i] == b[n-1-i]; i++ {
	}
	return i
}

// entriesWithin returns how many bytes the whole entries in tree bytes
// b's first limit bytes take, each entry's end found from its name's NUL
// (as the tree walk skips them: their mode is not checked). limit is at
// most len(b).
func entriesWithin(b []byte, limit int) int {
	off := 0
	for {
		nul := bytes.IndexByte(b[off:limit], 0)
		end := off + nul + 1 + hashLen
		if nul < 0 || end > limit {
			return off
		}
		off = end
	}
}

// parsedWithin returns how many bytes the entries in tree bytes b's first
// limit bytes take, up to the first that does not parse (entryLen).
func parsedWithin(b []byte, limit int) int {
	off := 0
	for {
		n, ok := entryLen(b[off:])
		if !ok || off+n > limit {
			return off
		}
		off += n
	}
}
