package inflate

import (
	"bytes"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

// Streams written bit by bit, for the codes compress/flate's writer never
// makes: codes of the longest length (15 bits), the ones with many long
// codes under one first-level prefix, and code sets that are incomplete
// or over-subscribed, which must be refused as compress/flate refuses
// them. Every stream is also decoded by compress/flate, the reference.

// bitWriter writes a deflate stream's bits, least significant first.
type bitWriter struct {
	out   []byte
	acc   uint64
	nbits uint
}

func (w *bitWriter) bits(v uint64, n uint) {
	w.acc |= v << w.nbits
	w.nbits += n
	for w.nbits >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nbits -= 8
	}
}

func (w *bitWriter) bytes() []byte {
	if w.nbits > 0 {
		return append(w.out, byte(w.acc))
	}
	return w.out
}

// canonical returns the codes of lengths lens, each bit-reversed for
// writing (deflate sends a code's first bit first).
func canonical(lens []uint8) []uint64 {
	var count [16]int
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	var next [16]int
	code := 0
	for l := 1; l < 16; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	codes := make([]uint64, len(lens))
	for s, l := range lens {
		if l > 0 {
			codes[s] = uint64(bits.Reverse16(uint16(next[l])) >> (16 - l))
			next[l]++
		}
	}
	return codes
}

// token is one symbol of a block: a literal (or 256), or a match.
type token struct {
	lit          int // < 0 for a match
	length, dist int
}

// dynamicBlock writes a dynamic block with the code lengths given (lit
// of 257 to 286 symbols, dist of 1 to 30) and its tokens. The code
// lengths are sent with a code-length code of 16 symbols of 4 bits, which
// is complete. Tokens must only use symbols that have codes.
func dynamicBlock(w *bitWriter, final bool, lit, dist []uint8, toks []token) {
	dynamicHeader(w, final, lit, dist)
	litCodes, distCodes := canonical(lit), canonical(dist)
	for _, t := range toks {
		if t.lit >= 0 {
			w.bits(litCodes[t.lit], uint(lit[t.lit]))
			continue
		}
		ls := 0
		for ls+1 < len(lengthBase) && int(lengthBase[ls+1]) <= t.length {
			ls++
		}
		if t.length == 258 {
			ls = 28
		}
		w.bits(litCodes[257+ls], uint(lit[257+ls]))
		w.bits(uint64(t.length-int(lengthBase[ls])), uint(lengthExtra[ls]))
		ds := 0
		for ds+1 < len(distBase) && int(distBase[ds+1]) <= t.dist {
			ds++
		}
		w.bits(distCodes[ds], uint(dist[ds]))
		w.bits(uint64(t.dist-int(distBase[ds])), uint(distExtra[ds]))
	}
	w.bits(litCodes[256], uint(lit[256]))
}

// dynamicHeader writes the header of a dynamic block: what dynamicBlock
// writes before the tokens.
func dynamicHeader(w *bitWriter, final bool, lit, dist []uint8) {
	w.bits(b2u(final), 1)
	w.bits(2, 2)
	w.bits(uint64(len(lit)-257), 5)
	w.bits(uint64(len(dist)-1), 5)
	w.bits(uint64(19-4), 4)
	for _, sym := range clOrder {
		if sym < 16 {
			w.bits(4, 3)
		} else {
			w.bits(0, 3)
		}
	}
	for _, l := range append(append([]uint8{}, lit...), dist...) {
		w.bits(uint64(bits.Reverse8(l)>>4), 4) // symbol l's code is l
	}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// expand is what tokens decode to.
func expand(toks []token) []byte {
	var out []byte
	for _, t := range toks {
		if t.lit >= 0 {
			if t.lit < 256 {
				out = append(out, byte(t.lit))
			}
			continue
		}
		for range t.length {
			out = append(out, out[len(out)-t.dist])
		}
	}
	return out
}

// randomLengths makes the lengths of a random complete code of n symbols
// of at most 15 bits: leaves split at random, deep ones as likely as
// shallow ones, so that many codes are long.
func randomLengths(rng *rand.Rand, n int) []uint8 {
	depths := []uint8{0}
	for len(depths) < n {
		i := rng.IntN(len(depths))
		if depths[i] == 15 {
			continue
		}
		depths[i]++
		depths = append(depths, depths[i])
	}
	rng.Shuffle(len(depths), func(i, j int) { depths[i], depths[j] = depths[j], depths[i] })
	return depths
}

// randomTokens makes literals and matches over the symbols with codes.
// out is the length of what earlier blocks decoded to.
func randomTokens(rng *rand.Rand, lit, dist []uint8, n, out int) []token {
	var toks []token
	for range n {
		if out > 0 && len(lit) > 257 && rng.IntN(3) == 0 {
			ls := 257 + rng.IntN(len(lit)-257)
			ds := rng.IntN(len(dist))
			if ls <= 285 && lit[ls] > 0 && ds < 30 && dist[ds] > 0 && int(distBase[ds]) <= out {
				length := int(lengthBase[ls-257]) + rng.IntN(1<<lengthExtra[ls-257])
				if ls == 284 {
					length = min(length, 257)
				}
				d := int(distBase[ds]) + rng.IntN(1<<distExtra[ds])
				d = min(d, out)
				if d >= int(distBase[ds]) && (ds+1 == len(distBase) || d < int(distBase[ds+1])) {
					toks = append(toks, token{lit: -1, length: length, dist: d})
					out += length
					continue
				}
			}
		}
		s := rng.IntN(256)
		if lit[s] > 0 {
			toks = append(toks, token{lit: s})
			out++
		}
	}
	return toks
}

// checkStream decodes src with Into and compress/flate: both must give
// want, or both fail when want is nil.
func checkStream(t *testing.T, d *Decoder, src, want []byte, what string) {
	t.Helper()
	std, serr := stdInflate(src)
	if want == nil {
		if serr == nil {
			t.Fatalf("%s: compress/flate accepts the stream", what)
		}
		if _, err := d.Into(make([]byte, len(std)), src); err == nil {
			t.Fatalf("%s: Into accepts a stream compress/flate refuses (%v)", what, serr)
		}
		return
	}
	if serr != nil || !bytes.Equal(std, want) {
		t.Fatalf("%s: compress/flate: %v", what, serr)
	}
	got := make([]byte, len(want))
	if n, err := d.Into(got, src); err != nil || !bytes.Equal(got, want) || n != len(src) {
		t.Fatalf("%s: Into: %v, %d of %d bytes consumed", what, err, n, len(src))
	}
}

// TestInflateLongCodes decodes dynamic blocks of random complete codes
// with many codes of up to 15 bits, so that the first-level tables have
// subtables of every size, mixed in one stream with fixed and stored
// blocks, whose tables the decoder keeps apart.
func TestInflateLongCodes(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	var d Decoder
	for round := range 300 {
		var w bitWriter
		var want []byte
		blocks := 1 + rng.IntN(4)
		for blk := range blocks {
			final := blk == blocks-1
			switch rng.IntN(4) {
			case 0: // fixed: literals of 8 and 9 bits
				w.bits(b2u(final), 1)
				w.bits(1, 2)
				for range rng.IntN(50) {
					c := rng.IntN(256)
					if c < 144 {
						w.bits(uint64(bits.Reverse8(byte(0x30+c))), 8)
					} else {
						w.bits(uint64(bits.Reverse16(uint16(0x190+c-144))>>7), 9)
					}
					want = append(want, byte(c))
				}
				w.bits(0, 7) // end of block
			case 1: // stored
				w.bits(b2u(final), 1)
				w.bits(0, 2)
				w.bits(0, (8-w.nbits)&7)
				data := []byte("stored bytes")
				w.bits(uint64(len(data)), 16)
				w.bits(uint64(^uint16(len(data))), 16)
				for _, c := range data {
					w.bits(uint64(c), 8)
				}
				want = append(want, data...)
			default:
				lit := randomLengths(rng, 257+rng.IntN(30))
				if lit[256] == 0 { // end of block needs a code
					i := slices.IndexFunc(lit, func(l uint8) bool { return l > 0 })
					lit[i], lit[256] = lit[256], lit[i]
				}
				dist := []uint8{1} // one code of one bit: allowed
				if n := 1 + rng.IntN(30); n > 1 {
					dist = randomLengths(rng, n)
				}
				// Matches reach back into earlier blocks' output.
				toks := randomTokens(rng, lit, dist, 400, len(want))
				prefix := make([]token, len(want))
				for i, c := range want {
					prefix[i] = token{lit: int(c)}
				}
				full := expand(append(prefix, toks...))
				dynamicBlock(&w, final, lit, dist, toks)
				want = full
			}
		}
		if want == nil {
			want = []byte{}
		}
		checkStream(t, &d, w.bytes(), want, fmt.Sprintf("round %d", round))
	}
}

// TestInflateBadCodes refuses code sets that are not complete: one code
// too many (over-subscribed) or one too few (incomplete), in the literal,
// the distance or a one-code distance set of more than one bit, as
// compress/flate does; and accepts a distance set of one 1-bit code,
// which zlib writes and compress/flate accepts.
func TestInflateBadCodes(t *testing.T) {
	t.Parallel()
	var d Decoder
	lit := make([]uint8, 257)
	for i := range 256 {
		lit[i] = 8
	}
	lit[256] = 8 // 257 codes of 8 bits: over-subscribed by one
	toks := []token{{lit: 'a'}}
	long := randomLengths(rand.New(rand.NewPCG(7, 8)), 286)
	cases := []struct {
		name      string
		lit, dist []uint8
		ok        bool
	}{
		{"over-subscribed literals", lit, []uint8{1, 1}, false},
		{"incomplete literals", append(make([]uint8, 254), 8, 8, 8), []uint8{1, 1}, false},
		{"over-subscribed distances", long, []uint8{1, 1, 1}, false},
		{"incomplete distances", long, []uint8{1, 2}, false},
		{"one distance code of 2 bits", long, []uint8{2}, false},
		{"one distance code of 15 bits", long, []uint8{0, 0, 15}, false},
		{"one distance code of 1 bit", long, []uint8{0, 1}, true},
		{"15-bit codes", long, randomLengths(rand.New(rand.NewPCG(9, 10)), 30), true},
	}
	for _, c := range cases {
		toks := toks
		if !c.ok || c.lit['a'] == 0 {
			toks = nil
		}
		var w bitWriter
		dynamicBlock(&w, true, c.lit, c.dist, toks)
		var want []byte
		if c.ok {
			want = expand(toks)
			if want == nil {
				want = []byte{}
			}
		}
		checkStream(t, &d, w.bytes(), want, c.name)
	}
}

// TestInflateOneCodeUnused reads the bits a code of one symbol of 1 bit
// leaves unused, in a literal/length set of only the end of block and in
// a distance set of one code: compress/flate refuses the stream, and Into
// returns ErrCorrupt (not ErrTooLong: the output has room), while the
// used bit decodes.
func TestInflateOneCodeUnused(t *testing.T) {
	t.Parallel()
	var d Decoder
	endOnly := make([]uint8, 257)
	endOnly[256] = 1
	// 'a' of 1 bit (code 0), end of block and length 3 of 2 bits (10, 11).
	short := make([]uint8, 258)
	short['a'], short[256], short[257] = 1, 2, 2
	oneDist := []uint8{1}
	for _, c := range []struct {
		name string
		lit  []uint8
		body func(w *bitWriter)
		want []byte
	}{
		{"end of block only, bit 0", endOnly, func(w *bitWriter) { w.bits(0, 1) }, []byte{}},
		{"end of block only, bit 1", endOnly, func(w *bitWriter) { w.bits(1, 1) }, nil},
		{"one distance code, bit 0", short, func(w *bitWriter) {
			w.bits(0, 1)    // 'a'
			w.bits(0b11, 2) // length 3
			w.bits(0, 1)    // distance 1
			w.bits(0b01, 2) // end of block
		}, []byte("aaaa")},
		{"one distance code, bit 1", short, func(w *bitWriter) {
			w.bits(0, 1)
			w.bits(0b11, 2)
			w.bits(1, 1) // no distance has this code
			w.bits(0b01, 2)
		}, nil},
	} {
		var w bitWriter
		dynamicHeader(&w, true, c.lit, oneDist)
		c.body(&w)
		src := w.bytes()
		checkStream(t, &d, src, c.want, c.name)
		if c.want == nil {
			if _, err := d.Into(make([]byte, 64), src); err != ErrCorrupt {
				t.Errorf("%s: Into: %v, want ErrCorrupt", c.name, err)
			}
		}
	}
}

// TestInflateMatchCopies decodes matches of every length at distances
// around the copy paths' edges (overlapping or not, one word apart or
// more), after random literals, up to the end of the output: the fast
// path writes whole words past a match, and must do so only where the
// output has room and the bytes are written again after.
func TestInflateMatchCopies(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(15, 16))
	// Complete codes of every symbol: 226 literal/length codes of 8 bits
	// and 60 of 9; 28 distance codes of 5 bits and 2 of 4.
	lit := make([]uint8, 286)
	for i := range lit {
		lit[i] = 8
		if i >= 226 {
			lit[i] = 9
		}
	}
	dist := make([]uint8, 30)
	for i := range dist {
		dist[i] = 5
		if i >= 28 {
			dist[i] = 4
		}
	}
	dists := []int{1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 39, 40, 41, 47, 48, 49, 64, 100}
	var d Decoder
	for length := 3; length <= 258; length++ {
		var toks []token
		for range 100 {
			toks = append(toks, token{lit: rng.IntN(256)})
		}
		for _, i := range rng.Perm(len(dists)) {
			toks = append(toks, token{lit: -1, length: length, dist: dists[i]})
			if rng.IntN(2) == 0 {
				toks = append(toks, token{lit: rng.IntN(256)})
			}
		}
		var w bitWriter
		dynamicBlock(&w, true, lit, dist, toks)
		checkStream(t, &d, w.bytes(), expand(toks), fmt.Sprintf("matches of %d bytes", length))
	}
}
