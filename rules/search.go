package rules

import (
	"math/bits"
	"slices"
	"sync"
)

// A Searcher finds, in one pass over a text, every place where a key may be
// encoded: the forms of "eyJ" under one layer of encoding (plain, base64 at
// each alignment in either alphabet, UTF-16, hex in either case), and the
// long runs of base64 or UTF-16 text in which keys under two or three
// layers hide.
//
// Forms are searched for by a pair of adjacent bytes, the pair least common
// in text (see fingerprint); each form has a bucket, and two tables of 16
// entries per byte of the pair, indexed by the byte's low and high nibble,
// give the buckets whose pair may be at a position (the Teddy algorithm of
// Hyperscan). Runs are searched for 32 bytes at a time: a block of 32 bytes
// all of the base64 alphabet (or line breaks), or of ASCII in UTF-16. A
// nested key needs a long run: base64 of base64 of the shortest key is
// already 200 characters, and a run of 63 or more always holds a whole block.
// On amd64 with AVX2 all of this is done 32 positions at a time; elsewhere
// (and with the purego build tag) eight bytes at a time in plain Go (see
// nextScalar). Only where a bucket answers are its forms compared in full: a
// false answer costs a check, never a miss.
//
// A Searcher is immutable and safe for concurrent use.
type Searcher struct {
	forms  []Form // form i is bucket i's only form: at most 8
	tabs   nibbleTables
	maxFP  int // the largest fingerprint offset: how far a hit's start is behind its pair
	scalar scalarTables
}

// nibbleTables are the lookup tables of the search, each 16 entries
// repeated twice to fill a 32-byte vector: the bucket tables of the first
// and second byte of a pair, the class table of the base64 alphabet, and the
// low-nibble mask the vector code needs.
type nibbleTables struct {
	lo0, hi0, lo1, hi1 [32]byte
	loB64, hiB64       [32]byte
	mask               [32]byte
}

// Hit is a form found in a text.
type Hit struct {
	Pos  int   // where the form's text starts; for a run, the start of its first whole block
	Form *Form // which form: its layer, phase and stack
}

// Run forms stand for the start of a long run of base64 (or hex) text and
// of ASCII UTF-16 text. Their Hit.Pos is the start of the run's first whole
// 32-byte block (counted from the start of the searched text); the run
// itself may start up to 32 bytes before.
var (
	RunBase64 = &Form{Layer: Base64, Stack: "base64 run", Run: true}
	RunUTF16  = &Form{Layer: UTF16, Stack: "utf-16 run", Run: true}
)

// RunBlock is the size of the blocks runs are found by.
const RunBlock = 32

var defaultSearcher = sync.OnceValue(func() *Searcher { return newSearcher(buildForms(1)) })

// DefaultSearcher returns the searcher of the forms of one layer and of the
// runs, built once.
func DefaultSearcher() *Searcher { return defaultSearcher() }

// Forms returns the forms s searches for by their text (runs aside).
func (s *Searcher) Forms() []Form { return s.forms }

func newSearcher(forms []Form) *Searcher {
	s := &Searcher{forms: forms}
	if len(forms) > 8 {
		panic("rules: more forms than buckets")
	}
	for i := range forms {
		f := &forms[i]
		f.rank = i
		s.maxFP = max(s.maxFP, f.fp)
		bit := byte(1) << i
		f.sets[f.fp].each(func(c byte) { s.tabs.lo0[c&15] |= bit; s.tabs.hi0[c>>4] |= bit })
		f.sets[f.fp+1].each(func(c byte) { s.tabs.lo1[c&15] |= bit; s.tabs.hi1[c>>4] |= bit })
	}
	// The base64 alphabets and line breaks, as rectangles of (high nibble,
	// low nibble), one bit each, so that the two lookups ANDed are exact.
	for bit, r := range []struct {
		his, los []int
	}{
		{[]int{4, 6}, span(1, 15)},              // A-O a-o
		{[]int{5, 7}, span(0, 10)},              // P-Z p-z
		{[]int{5}, []int{15}},                   // _
		{[]int{3}, span(0, 9)},                  // 0-9
		{[]int{2}, []int{0xb, 0xd, 0xf}},        // + - /
		{[]int{0}, []int{'\n' & 15, '\r' & 15}}, // line breaks
	} {
		for _, h := range r.his {
			s.tabs.hiB64[h] |= 1 << bit
		}
		for _, l := range r.los {
			s.tabs.loB64[l] |= 1 << bit
		}
	}
	for _, t := range []*[32]byte{&s.tabs.lo0, &s.tabs.hi0, &s.tabs.lo1, &s.tabs.hi1, &s.tabs.loB64, &s.tabs.hiB64} {
		copy(t[16:], t[:16])
	}
	for i := range s.tabs.mask {
		s.tabs.mask[i] = 0x0f
	}
	s.scalar = newScalarTables(&s.tabs)
	return s
}

func span(lo, hi int) []int {
	var out []int
	for i := lo; i <= hi; i++ {
		out = append(out, i)
	}
	return out
}

// bucketsAt returns the buckets whose pair may be at buf[i], buf[i+1].
func (s *Searcher) bucketsAt(buf []byte, i int) byte {
	a, b := buf[i], buf[i+1]
	return s.tabs.lo0[a&15] & s.tabs.hi0[a>>4] & s.tabs.lo1[b&15] & s.tabs.hi1[b>>4]
}

// inB64Run reports whether c belongs in a run of base64 text: either
// alphabet, or a line break.
func (s *Searcher) inB64Run(c byte) bool { return s.tabs.loB64[c&15]&s.tabs.hiB64[c>>4] != 0 }

// The kinds of event the candidate step gives.
const (
	eventNone  = iota // nothing more: the position is where the vector code stopped
	eventPair         // some bucket's pair may start at the position
	eventB64          // the block at the position is base64 text
	eventUTF16        // the block at the position is ASCII in UTF-16
)

// Search calls fn for every form in buf, and for the first block of every
// run of blocks, in order of position (a run before a form at the same
// position, forms in the order of Forms). It runs in time linear in len(buf).
//
// fn returns the offset before which it wants no more hits of the form it
// was given (0 for none): a caller that has read a run of text whose every
// hit of the form it has judged at once (all "eyJ" in a base64url run have
// the same token end) saves the calls.
func (s *Searcher) Search(buf []byte, fn func(Hit) int) {
	s.search(buf, s.next, fn)
}

// search is Search with next, the candidate step, given.
func (s *Searcher) search(buf []byte, next func(buf []byte, start, runFrom int) (int, int), fn func(Hit) int) {
	var pendArr [16]Hit
	pend := pendArr[:0] // hits found but not yet given, sorted
	var skip [8]int     // by form: no hit before this is wanted
	give := func(before int) {
		if len(pend) == 0 || pend[0].Pos >= before {
			return
		}
		n := 0
		for n < len(pend) && pend[n].Pos < before {
			h := pend[n]
			if h.Form.Run || h.Pos >= skip[h.Form.rank] {
				if r := fn(h); !h.Form.Run {
					skip[h.Form.rank] = r
				}
			}
			n++
		}
		if n == len(pend) { // the common case, without a copy
			pend = pend[:0]
			return
		}
		pend = append(pend[:0], pend[n:]...)
	}
	start, runFrom := 0, 0
	lastRun := [2]int{-2 * RunBlock, -2 * RunBlock} // the last block of each kind of run
	for {
		pos, kind := next(buf, start, runFrom)
		if kind == eventNone {
			break
		}
		// Every hit still to come starts at or after pos-maxFP.
		give(pos - s.maxFP)
		switch kind {
		case eventPair:
			for bs := s.bucketsAt(buf, pos); bs != 0; bs &= bs - 1 {
				fi := bits.TrailingZeros8(bs)
				f := &s.forms[fi]
				if at := pos - f.fp; at >= skip[fi] && f.matchAt(buf, at) {
					pend = insertHit(pend, Hit{at, f}, s.forms)
				}
			}
			start = pos + 1
		case eventB64, eventUTF16:
			k, form := 0, RunBase64
			if kind == eventUTF16 {
				k, form = 1, RunUTF16
			}
			if lastRun[k] != pos-RunBlock {
				pend = insertHit(pend, Hit{pos, form}, s.forms)
			}
			lastRun[k] = pos
			// The pairs before the block have been looked at.
			start, runFrom = max(start, pos), pos+RunBlock
		}
	}
	give(len(buf) + 1)
}

// Any reports whether Search would call fn at least once on buf: whether
// buf holds a form or a run at all. A caller that decodes a short text to
// search it (a JWT's payload, a hash) learns with it, at the cost of one
// pass and no calls, that there is nothing inside.
func (s *Searcher) Any(buf []byte) bool {
	if useVector && len(buf) <= maxPadded {
		// Short texts (a JWT's payload or signature, decoded) would be
		// searched mostly by the plain Go code, which reads what the vector
		// code leaves: blocks without 33 bytes in buf. Padded with a byte
		// that no form, run or pair holds, the vector code reads all of
		// them; its events are buf's and, at most, a block it takes for
		// UTF-16 where the padding starts. So no event there means none in
		// buf, and an event (rare) is checked on buf itself.
		var pad [maxPadded + RunBlock + 1]byte
		n := copy(pad[:], buf)
		end := (n+RunBlock-1)&^(RunBlock-1) + 1
		copy(pad[n:end], noFormBytes[:])
		if !s.any(pad[:end]) {
			return false
		}
	}
	return s.any(buf)
}

// maxPadded is the longest text Any searches padded (see Any).
const maxPadded = 128

// noFormByte is in no form, is neither base64 nor a zero: no pair, form or
// run of base64 holds it.
const noFormByte = 0xff

// noFormBytes is the padding of Any, a block of noFormByte.
var noFormBytes = func() (b [RunBlock]byte) {
	for i := range b {
		b[i] = noFormByte
	}
	return b
}()

// any is Any without the padding of short texts.
func (s *Searcher) any(buf []byte) bool {
	start, runFrom := 0, 0
	for {
		pos, kind := s.next(buf, start, runFrom)
		switch kind {
		case eventNone:
			return false
		case eventPair:
			for bs := s.bucketsAt(buf, pos); bs != 0; bs &= bs - 1 {
				if f := &s.forms[bits.TrailingZeros8(bs)]; f.matchAt(buf, pos-f.fp) {
					return true
				}
			}
			start = pos + 1
		default:
			return true
		}
	}
}

// insertHit inserts h into the sorted hits: by position, runs first, then
// forms in their order.
func insertHit(hits []Hit, h Hit, forms []Form) []Hit {
	if len(hits) == 0 || hits[len(hits)-1].Pos < h.Pos {
		return append(hits, h)
	}
	at := len(hits)
	for at > 0 && hitLess(h, hits[at-1], forms) {
		at--
	}
	return slices.Insert(hits, at, h)
}

func hitLess(a, b Hit, forms []Form) bool {
	if a.Pos != b.Pos {
		return a.Pos < b.Pos
	}
	return hitRank(a.Form, forms) < hitRank(b.Form, forms)
}

func hitRank(f *Form, forms []Form) int {
	switch f {
	case RunBase64:
		return -2
	case RunUTF16:
		return -1
	}
	return f.rank
}

// next returns the first event at or after start: a pair at a position at
// or after start, or a run block starting at or after runFrom. Blocks are
// counted from the start of buf; within a block, a run comes before pairs.
func (s *Searcher) next(buf []byte, start, runFrom int) (int, int) {
	if useVector {
		pos, kind := scanVector(buf, start, runFrom, &s.tabs)
		if kind != eventNone {
			return pos, kind
		}
		return s.nextScalar(buf, max(start, pos), max(runFrom, pos))
	}
	return s.nextScalar(buf, start, runFrom)
}
