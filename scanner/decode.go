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
	b64Ahead = rules.MaxTokenLen*4/3 + 1024
	u16Back  = 1024
	u16Ahead = 2*rules.MaxTokenLen + 64
)

// hit is a match of the rules at a position in the buffer searched.
type hit struct {
	pos      int    // where the finding is reported: the token, or where its encoded text starts
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
// its 4-character quantum and the offset of 'e' in the decoded quantum.
// Standard and URL alphabets agree on them.
var b64Forms = []struct {
	text      []byte
	quantumAt int // form starts this many characters after its quantum
}{
	{[]byte("ZXlK"), 0}, // "eyJ" at decoded offset 0 of a quantum
	{[]byte("V5S"), 2},  // at offset 1
	{[]byte("leU"), 3},  // at offset 2
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
}

// covers reports whether the hit at buffer offset h, quantumAt characters
// into its quantum, was already decoded as part of w with the same
// alignment: then the rules have already seen it.
func (w *b64window) covers(h, quantumAt int) bool {
	if len(w.pos) == 0 || h < w.pos[0] || h > w.pos[len(w.pos)-1] {
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
		if h < 2 || buf[h-2] != 'e' || buf[h-1] != 0 || h+3 > len(buf) || h < done {
			continue
		}
		// ASCII in UTF-16 reads the same either way round; the byte order
		// shows where the run of alternating bytes starts. LE text starts
		// with a character, BE text with a zero byte.
		if utf16LittleEndian(buf, h) {
			done = f.decodeUTF16(buf, h-2, 0, depth, "utf-16le", emit)
		} else {
			done = f.decodeUTF16(buf, h-3, 1, depth, "utf-16be", emit)
		}
	}
}

// utf16LittleEndian reports whether the UTF-16 text around the "y\0J" at h
// is little-endian, by walking back to the start of the alternating run.
// When the run reaches the start of the buffer or the walk's limit it cannot
// tell and answers LE, the byte order Windows writes.
func utf16LittleEndian(buf []byte, h int) bool {
	isChar := func(i int) bool { return i >= 0 && buf[i] != 0 && buf[i] < 0x80 }
	p := h - 1 // a zero byte: the high byte of a unit
	for n := 0; n < u16Back; n++ {
		if !isChar(p - 1) {
			return false // the run starts with the zero at p: BE
		}
		if p-2 < 0 || buf[p-2] != 0 {
			return true // the run starts with the character at p-1: LE
		}
		p -= 2
	}
	return true
}

// decodeUTF16 decodes the run of ASCII code units around the unit at start
// (lo is the index of the low, ASCII byte within a unit: 0 for LE, 1 for
// BE), runs the rules over it, and returns the end of the decoded run.
func (f *finder) decodeUTF16(buf []byte, start, lo, depth int, enc string, emit func(hit)) int {
	ascii := func(p int) bool { return p >= 0 && p+1 < len(buf) && buf[p+1-lo] == 0 && buf[p+lo] != 0 && buf[p+lo] < 0x80 }
	first := start
	for n := 0; n < u16Back && ascii(first-2); n++ {
		first -= 2
	}
	end := start
	for n := 0; n < u16Ahead && ascii(end); n++ {
		end += 2
	}
	decoded := make([]byte, 0, (end-first)/2)
	for p := first; p < end; p += 2 {
		decoded = append(decoded, buf[p+lo])
	}
	f.find(decoded, false, depth+1, func(in hit) {
		in.pos = first + 2*in.pos
		in.encoding = joinEncoding(enc, in.encoding)
		emit(in)
	})
	return end
}

func joinEncoding(outer, inner string) string {
	if inner == "" {
		return outer
	}
	return outer + "/" + inner
}
