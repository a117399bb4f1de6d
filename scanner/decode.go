package scanner

import (
	"bytes"
	"sort"

	"github.com/loftyscan/loftyscan/rules"
)

// maxDecodeDepth bounds how many encodings may wrap a key (base64 inside
// UTF-16 is two). Each layer shrinks the text, so this is also a bound on
// the work a crafted input can cause.
const maxDecodeDepth = 3

// Window sizes for decoding around a hit. A key's encoding must fit in the
// forward window; the backward window gives the rules the key's line for
// context. Both fit well inside a chunk's overlap.
const (
	b64Back  = 1024
	b64Token = rules.MaxTokenLen*4/3 + 4 // base64 characters of the longest token
	b64Ahead = b64Token + 1024
	u16Back  = 1024
	u16Ahead = 2*rules.MaxTokenLen + 64
)

// hit is a match of the rules at a position in the buffer searched.
type hit struct {
	pos      int // where the finding is reported: the token, or where its encoded text starts
	match    rules.Match
	encoding string // "", or the encodings that wrap the token, outermost first
}

// finder runs the rules and the decoders over a buffer.
type finder struct {
	cfg rules.Config
}

// find reports every key in buf, plain or wrapped in base64 or UTF-16.
func (f *finder) find(buf []byte, outerCtx bool, depth int, emit func(hit)) {
	for _, m := range f.cfg.FindWithContext(buf, outerCtx) {
		emit(hit{pos: m.Start, match: m})
	}
	if depth >= maxDecodeDepth {
		return
	}
	f.findBase64(buf, depth, emit)
	f.findUTF16(buf, depth, emit)
}

// b64Forms are the fixed characters that base64 of "eyJ" produces at each
// of the three alignments, with the offset of the form from the start of
// its 4-character quantum. Standard and URL alphabets agree on them. The
// last three are base64 of "eyJ" in UTF-16LE, as PowerShell's
// -EncodedCommand and other Windows tools write it.
var b64Forms = []struct {
	text      []byte
	quantumAt int // form starts this many characters after its quantum
}{
	{[]byte("ZXlK"), 0},     // "eyJ" at decoded offset 0 of a quantum
	{[]byte("V5S"), 2},      // at offset 1
	{[]byte("leU"), 3},      // at offset 2
	{[]byte("ZQB5AEoA"), 0}, // "e\0y\0J\0" at offset 0
	{[]byte("UAeQBKA"), 2},  // at offset 1
	{[]byte("lAHkASg"), 3},  // at offset 2
}

// b64val maps both base64 alphabets to their 6-bit values; 0xff is not base64.
var b64val = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range len(std) {
		t[std[i]] = byte(i)
	}
	t['-'], t['_'] = 62, 63
	return t
}()

// b64window is one decoded stretch of base64 text.
type b64window struct {
	pos     []int  // pos[i] is the buffer offset of the i-th base64 character
	quantum int    // index in pos where decoding started
	decoded []byte // what it decoded to
	whole   int    // buffer offset up to which a token starting there was decoded whole
}

// covers reports whether the hit at buffer offset h, quantumAt characters
// into its quantum, was already decoded as part of w with the same
// alignment, with room for a whole token after it: then the rules have
// already seen it.
func (w *b64window) covers(h, quantumAt int) bool {
	if len(w.pos) == 0 || h < w.pos[0] || h > w.whole {
		return false
	}
	i := sort.SearchInts(w.pos, h)
	return i < len(w.pos) && w.pos[i] == h && (i-quantumAt-w.quantum)%4 == 0 && i-quantumAt >= w.quantum
}

// findBase64 decodes the base64 text around each base64 form of "eyJ" and
// runs the rules over it. Lines of wrapped base64 (76-column output of the
// base64 command, PEM-like blocks) are joined.
func (f *finder) findBase64(buf []byte, depth int, emit func(hit)) {
	var done []*b64window
	for _, form := range b64Forms {
		for i := 0; i < len(buf); {
			j := bytes.Index(buf[i:], form.text)
			if j < 0 {
				break
			}
			h := i + j
			i = h + len(form.text)
			covered := false
			for _, w := range done {
				if w.covers(h, form.quantumAt) {
					covered = true
					break
				}
			}
			if covered {
				continue
			}
			w := decodeBase64Around(buf, h, form.quantumAt)
			if w == nil {
				continue
			}
			done = append(done, w)
			if len(done) > 8 {
				done = done[1:]
			}
			start, end := w.pos[w.quantum], w.pos[len(w.pos)-1]+1
			outer := rules.HasLoftyContext(buf, start, end, f.cfg.ContextNames)
			f.find(w.decoded, outer, depth+1, func(in hit) {
				q := w.quantum + in.pos/3*4
				in.pos = w.pos[min(q, len(w.pos)-1)]
				if in.pos > w.whole {
					return // maybe cut off by the window's end: found from a window of its own
				}
				in.encoding = joinEncoding("base64", in.encoding)
				emit(in)
			})
		}
	}
}

// decodeBase64Around decodes the base64 run around the form at buf[h:],
// aligned on the form's quantum. It returns nil when the run is too short to
// hold a key.
func decodeBase64Around(buf []byte, h, quantumAt int) *b64window {
	// Walk back over base64 characters and single line breaks.
	lo := h
	for n := 0; lo > 0 && n < b64Back; {
		c := buf[lo-1]
		if b64val[c] != 0xff {
			lo--
			n++
			continue
		}
		if c == '\n' && lo >= 2 && b64val[buf[lo-2]] != 0xff {
			lo--
			continue
		}
		if c == '\n' && lo >= 3 && buf[lo-2] == '\r' && b64val[buf[lo-3]] != 0xff {
			lo -= 2
			continue
		}
		break
	}
	w := &b64window{pos: make([]int, 0, 512)}
	hitIdx := -1
	for i, n := lo, 0; i < len(buf) && n < b64Back+b64Ahead; i++ {
		c := buf[i]
		if b64val[c] != 0xff {
			if i == h {
				hitIdx = len(w.pos)
			}
			w.pos = append(w.pos, i)
			n++
			continue
		}
		if c == '\r' && i+2 < len(buf) && buf[i+1] == '\n' && b64val[buf[i+2]] != 0xff {
			i++
			continue
		}
		if c == '\n' && i+1 < len(buf) && b64val[buf[i+1]] != 0xff {
			continue
		}
		break
	}
	q := hitIdx - quantumAt
	if hitIdx < 0 || q < 0 {
		return nil
	}
	w.quantum = q % 4
	// A window cut by its size, not by the end of the run, holds whole
	// only the tokens that start a token's length before its end; a token
	// cut off at its end must be found from a window of its own.
	w.whole = w.pos[len(w.pos)-1]
	if len(w.pos) >= b64Back+b64Ahead {
		w.whole = w.pos[max(0, len(w.pos)-1-b64Token)]
	}
	n := len(w.pos) - w.quantum
	if n < 16 {
		return nil
	}
	w.decoded = make([]byte, 0, n/4*3+2)
	var acc uint32
	var bits uint
	for _, p := range w.pos[w.quantum:] {
		acc = acc<<6 | uint32(b64val[buf[p]])
		bits += 6
		if bits >= 8 {
			bits -= 8
			w.decoded = append(w.decoded, byte(acc>>bits))
		}
	}
	return w
}

// findUTF16 decodes the ASCII-range UTF-16 text (LE or BE, with or without a
// byte order mark) around each UTF-16 form of "yJ" and runs the rules over
// it. PowerShell and many Windows tools write UTF-16.
func (f *finder) findUTF16(buf []byte, depth int, emit func(hit)) {
	form := []byte("y\x00J")
	done := -1 // end of the last decoded run
	for i := 0; i < len(buf); {
		j := bytes.Index(buf[i:], form)
		if j < 0 {
			break
		}
		h := i + j
		i = h + 1
		if h < 2 || buf[h-2] != 'e' || buf[h-1] != 0 || h < done {
			continue
		}
		done = f.decodeUTF16(buf, h-2, depth, emit)
	}
}

// decodeUTF16 decodes the run of printable ASCII characters at c, c±2,
// c±4... with a zero byte between each two, runs the rules over it, and
// returns where the next run may start. ASCII in UTF-16 is the same run of
// bytes in either byte order: only its ends tell LE from BE. Each LE unit is
// followed by its zero byte and each BE unit preceded by one, so a run whose
// last character is not followed by a zero (the end of the text, or a
// non-Latin-1 character) but whose first is preceded by one is BE; any other
// run is read as LE, the byte order Windows writes. Only the reported
// encoding depends on that guess, never the characters decoded.
func (f *finder) decodeUTF16(buf []byte, c, depth int, emit func(hit)) int {
	// A control character is more likely half of a non-ASCII unit.
	isChar := func(i int) bool {
		if i < 0 || i >= len(buf) {
			return false
		}
		b := buf[i]
		return b >= 0x20 && b < 0x7f || b == '\t' || b == '\n' || b == '\r'
	}
	first := c
	for n := 0; n < u16Back && isChar(first-2) && buf[first-1] == 0; n++ {
		first -= 2
	}
	last := c
	cut := false
	for n := 0; isChar(last+2) && buf[last+1] == 0; n++ {
		if n == u16Ahead {
			cut = true
			break
		}
		last += 2
	}
	// A run cut by the limit holds whole only the tokens that start a
	// token's length before its end; the others are found from the next.
	whole := last + 1
	if cut {
		whole -= 2 * rules.MaxTokenLen
	}
	enc, lo := "utf-16le", 0 // lo: offset of the character in its unit
	if first > 0 && buf[first-1] == 0 && (last+1 == len(buf) || buf[last+1] != 0) {
		enc, lo = "utf-16be", 1
	}
	decoded := make([]byte, 0, (last-first)/2+1)
	for p := first; p <= last; p += 2 {
		decoded = append(decoded, buf[p])
	}
	f.find(decoded, false, depth+1, func(in hit) {
		in.pos = first + 2*in.pos - lo
		if in.pos >= whole {
			return
		}
		in.encoding = joinEncoding(enc, in.encoding)
		emit(in)
	})
	return whole
}

func joinEncoding(outer, inner string) string {
	if inner == "" {
		return outer
	}
	return outer + "/" + inner
}
