package rules

import (
	"math/bits"
	"slices"
	"strings"
)

// Layer is an encoding that can wrap a key: the text a scanner decodes to
// find the key inside.
type Layer uint8

// The layers a key can be wrapped in.
const (
	Plain  Layer = iota // no encoding: the "eyJ" of a JWS itself
	Base64              // standard or URL alphabet, padded or not
	UTF16               // ASCII in UTF-16, either byte order
	Hex                 // two hex digits a byte, lower or upper case
)

// String returns the name a finding's encoding uses ("" for Plain; UTF-16
// findings name their byte order themselves).
func (l Layer) String() string {
	return [...]string{"", "base64", "utf-16", "hex"}[l]
}

// MaxLayers is how many encodings may wrap a key: base64 inside base64
// inside UTF-16 is three. Each layer shrinks the text, so this also bounds
// the work a crafted input can cause.
const MaxLayers = 3

// A Form is the fixed text that some stack of encodings makes of "eyJ", the
// start of every JWS, at one alignment: base64 of "eyJ" two bytes into a
// quantum is "leU" whatever surrounds it. Finding a form says which layer to
// decode at that place and how it is aligned; the decoded text is searched
// again, for the inner layers' forms.
type Form struct {
	Layer Layer  // the outermost encoding, the one to decode here
	Stack string // the encodings, outermost first, as "base64/hex"
	Depth int    // how many encodings: 0 for the plain prefix
	// Phase is where the form's first byte falls in the outer layer's unit:
	// base64 characters into its 4-character quantum, hex digits into
	// its pair; 0 for UTF-16 (a form starts at a character) and Plain.
	Phase int

	Run bool // a run of the layer's text, not a form of "eyJ": see RunBase64

	sets []byteSet // the bytes each position allows
	// The form is searched for by the two bytes at fp and fp+1, the pair
	// of positions least common in text.
	fp   int
	rank int // index in its searcher's forms
}

// Len is the form's length in bytes.
func (f *Form) Len() int { return len(f.sets) }

// matchAt reports whether the form's text is at buf[i:].
func (f *Form) matchAt(buf []byte, i int) bool {
	if i < 0 || i+len(f.sets) > len(buf) {
		return false
	}
	for k, s := range f.sets {
		if !s.has(buf[i+k]) {
			return false
		}
	}
	return true
}

// byteSet is a set of byte values.
type byteSet [4]uint64

func (s *byteSet) add(c byte)     { s[c>>6] |= 1 << (c & 63) }
func (s byteSet) has(c byte) bool { return s[c>>6]&(1<<(c&63)) != 0 }
func (s byteSet) len() int {
	return bits.OnesCount64(s[0]) + bits.OnesCount64(s[1]) + bits.OnesCount64(s[2]) + bits.OnesCount64(s[3])
}
func (s byteSet) each(fn func(c byte)) { forEach(s, fn) }

func forEach(s byteSet, fn func(c byte)) {
	for w, word := range s {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			fn(byte(w*64 + b))
			word &= word - 1
		}
	}
}

func single(c byte) byteSet { var s byteSet; s.add(c); return s }

var anyByte = byteSet{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}

// pattern is text of which some bytes are known: each position allows a
// set of bytes, and phase[i] is where position i falls in its layer's unit.
type pattern struct {
	sets  []byteSet
	phase []int
}

// Both base64 alphabets: values 62 and 63 are '+' '/' or '-' '_'.
const (
	b64Std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)

// encodeBase64 returns base64 of p placed align bytes into a quantum, with
// unknown bytes around it. A character is as known as the bits it encodes:
// the set of characters whose 6 bits some choice of the allowed bytes gives.
func encodeBase64(p pattern, align int) pattern {
	in := make([]byteSet, 0, len(p.sets)+4)
	for range align {
		in = append(in, anyByte)
	}
	in = append(in, p.sets...)
	for len(in)%3 != 0 {
		in = append(in, anyByte)
	}
	var out pattern
	for q := 0; q < len(in); q += 3 {
		for g := range 4 {
			// Group g of the quantum holds bits [6g, 6g+6) of its 24.
			var vals [64]bool
			lo, hi := 6*g, 6*g+6
			first, last := lo/8, (hi-1)/8
			// Values of the bits the first byte gives, then the second's.
			var a, b [64]bool
			na := min(8*(first+1), hi) - lo // bits from the first byte
			forEach(in[q+first], func(c byte) {
				shift := 8*(first+1) - (lo + na)
				a[(int(c)>>shift)&(1<<na-1)] = true
			})
			nb := hi - lo - na
			if first == last {
				b[0] = true
			} else {
				forEach(in[q+last], func(c byte) { b[int(c)>>(8-nb)] = true })
			}
			for x := range 1 << na {
				for y := range 1 << nb {
					if a[x] && b[y] {
						vals[x<<nb|y] = true
					}
				}
			}
			var s byteSet
			for v, ok := range vals {
				if ok {
					s.add(b64Std[v])
					s.add(b64URL[v])
				}
			}
			out.sets = append(out.sets, s)
			out.phase = append(out.phase, g)
		}
	}
	return out
}

// utf16Char marks the characters the UTF-16 decoder reads: printable ASCII,
// tab and line ends. Other bytes are more likely half of a non-ASCII unit.
func utf16Char(c byte) bool { return c >= 0x20 && c < 0x7f || c == '\t' || c == '\n' || c == '\r' }

// encodeUTF16 returns p in UTF-16 from its first character to its last,
// which reads the same in both byte orders (c 0 c 0 c); ok is false when a
// position allows no character the UTF-16 decoder reads.
func encodeUTF16(p pattern) (pattern, bool) {
	var out pattern
	for i, s := range p.sets {
		var c byteSet
		forEach(s, func(b byte) {
			if utf16Char(b) {
				c.add(b)
			}
		})
		if c.len() == 0 {
			return pattern{}, false
		}
		if i > 0 {
			out.sets = append(out.sets, single(0))
			out.phase = append(out.phase, 1)
		}
		out.sets = append(out.sets, c)
		out.phase = append(out.phase, 0)
	}
	return out, true
}

// encodeHex returns p as hex digits, in either case: "6A" and "6a" are
// the same form.
func encodeHex(p pattern) pattern {
	const lower, upper = "0123456789abcdef", "0123456789ABCDEF"
	var out pattern
	for _, s := range p.sets {
		var hi, lo byteSet
		forEach(s, func(c byte) {
			hi.add(lower[c>>4])
			hi.add(upper[c>>4])
			lo.add(lower[c&15])
			lo.add(upper[c&15])
		})
		out.sets = append(out.sets, hi, lo)
		out.phase = append(out.phase, 0, 1)
	}
	return out
}

// trim cuts the positions at either end that tell little (16 or more
// bytes allowed, more than a hex digit in either case), and reports false when what remains is too short to
// search for: fewer than 3 positions, or no fixed byte to anchor on.
func (p pattern) trim() (pattern, bool) {
	lo, hi := 0, len(p.sets)
	for lo < hi && p.sets[lo].len() > 16 {
		lo++
	}
	for hi > lo && p.sets[hi-1].len() > 16 {
		hi--
	}
	p = pattern{p.sets[lo:hi], p.phase[lo:hi]}
	return p, len(p.sets) >= 3
}

// byteFreq is how often each letter and digit appears in source code and
// text, in parts per million (measured over Go's src and doc trees); NUL is
// as common in binary files. Forms are searched for by their rarest pairs of
// bytes: each false hit costs a check.
var byteFreq = [256]uint32{
	0:   45161,
	'0': 29697, '1': 12810, '2': 9622, '3': 7054, '4': 7278, '5': 4737, '6': 6639, '7': 3989, '8': 5857, '9': 4302,
	'A': 10499, 'B': 3698, 'C': 5084, 'D': 4736, 'E': 6849, 'F': 3406, 'G': 2035, 'H': 3544, 'I': 5445, 'J': 759,
	'K': 1110, 'L': 4212, 'M': 4079, 'N': 3469, 'O': 4802, 'P': 4495, 'Q': 1555, 'R': 5824, 'S': 6998, 'T': 6382,
	'U': 2290, 'V': 3467, 'W': 1419, 'X': 3491, 'Y': 1264, 'Z': 805,
	'a': 26012, 'b': 7292, 'c': 16145, 'd': 14007, 'e': 42758, 'f': 14898, 'g': 8806, 'h': 8115, 'i': 24413,
	'j': 823, 'k': 3786, 'l': 15979, 'm': 9408, 'n': 27079, 'o': 22282, 'p': 11096, 'q': 892, 'r': 28250,
	's': 22982, 't': 35399, 'u': 13124, 'v': 5582, 'w': 3534, 'x': 17950, 'y': 5900, 'z': 1267,
}

// newForm makes a Form of a trimmed pattern.
func newForm(p pattern, stack []Layer) Form {
	f := Form{Layer: stack[0], Depth: len(stack), Phase: p.phase[0], sets: p.sets}
	names := make([]string, len(stack))
	for i, l := range stack {
		names[i] = l.String()
	}
	f.Stack = strings.Join(names, "/")
	f.fp = fingerprint(f.sets)
	return f
}

// freqOf estimates how often text has one of the bytes of s, in parts per
// million; a byte not in byteFreq counts as 1000.
func freqOf(s byteSet) float64 {
	var n float64
	s.each(func(c byte) {
		if f := byteFreq[c]; f > 0 {
			n += float64(f)
		} else {
			n += 1000
		}
	})
	return n
}

// fingerprint returns the position k of the pair of positions k, k+1 least
// likely to occur in text.
func fingerprint(sets []byteSet) int {
	best, cost := 0, 0.0
	for k := 0; k+1 < len(sets); k++ {
		if c := freqOf(sets[k]) * freqOf(sets[k+1]); k == 0 || c < cost {
			best, cost = k, c
		}
	}
	return best
}

// buildForms returns the forms of "eyJ" under every stack of at most
// maxLayers encodings, at every alignment, the plain prefix first.
func buildForms(maxLayers int) []Form {
	start := pattern{}
	for _, c := range []byte("eyJ") {
		start.sets = append(start.sets, single(c))
		start.phase = append(start.phase, 0)
	}
	forms := []Form{newForm(start, []Layer{Plain})}
	forms[0].Stack, forms[0].Depth = "", 0
	type node struct {
		p     pattern
		stack []Layer // innermost last
	}
	level := []node{{start, nil}}
	for range maxLayers {
		var next []node
		add := func(p pattern, stack []Layer) {
			p, ok := p.trim()
			if !ok {
				return
			}
			f := newForm(p, stack)
			next = append(next, node{p, stack})
			forms = append(forms, f)
		}
		for _, n := range level {
			wrap := func(l Layer) []Layer { return append([]Layer{l}, n.stack...) }
			for align := range 3 {
				add(encodeBase64(n.p, align), wrap(Base64))
			}
			if len(n.stack) == 0 || n.stack[0] != UTF16 {
				if p, ok := encodeUTF16(n.p); ok {
					add(p, wrap(UTF16))
				}
			}
			add(encodeHex(n.p), wrap(Hex))
		}
		level = next
	}
	return dedupe(forms)
}

// dedupe drops a form that is the same as an earlier one (the same layer,
// phase and bytes): reached by two stacks, it triggers the same decoding.
func dedupe(forms []Form) []Form {
	out := forms[:0]
	for _, f := range forms {
		if !slices.ContainsFunc(out, func(g Form) bool {
			return g.Layer == f.Layer && g.Phase == f.Phase && slices.Equal(g.sets, f.sets)
		}) {
			out = append(out, f)
		}
	}
	return out
}
