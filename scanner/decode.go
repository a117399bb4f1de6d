package scanner

import (
	"slices"

	"github.com/loftyscan/loftyscan/rules"
)

// maxDecodeDepth bounds how many encodings may wrap a key (base64 inside
// UTF-16 is two). Each layer shrinks the text, so this is also a bound on
// the work a crafted input can cause.
const maxDecodeDepth = 3

// Window sizes for decoding around a hit. A key's encoding must fit in the
// forward window; the backward window gives the rules the key's line for
// context. The longest key's encoding fits well inside a chunk's overlap.
//
// A window reads b64Back+b64Token characters that the next window of a long
// run reads again, so b64Step, how far it reaches past them, sets the cost
// of a run of hits (megabytes of "ZXlK"): about (b64Back+b64Token+b64Step)/
// b64Step decoded characters per input character and alignment. With a
// step of 1 KB it was 23, and a window allocated for every KB.
const (
	b64Back  = 1024
	b64Token = rules.MaxTokenLen*4/3 + 4 // base64 characters of the longest token
	b64Step  = 32 << 10
	b64Ahead = b64Token + b64Step
	u16Back  = 1024
	u16Ahead = 2*rules.MaxTokenLen + 64
)

// maxFreeWindows is how many decoded windows a finder keeps for reuse: the
// four alignments a run can be decoded at, at each depth of decoding.
const maxFreeWindows = 4 * maxDecodeDepth

// hit is a match of the rules at a position in the buffer searched.
type hit struct {
	pos      int // where the finding is reported: the token, or where its encoded text starts
	match    rules.Match
	encoding string // "", or the encodings that wrap the token, outermost first
}

// finder runs the rules and the decoders over a buffer. It is used by one
// goroutine at a time (a streamer's), and keeps its decoding windows for
// reuse.
type finder struct {
	cfg  rules.Config
	free []*b64window // windows to reuse
	// searched counts the bytes handed to the rules, at every depth of
	// decoding: the work a scan does, which tests check grows linearly
	// with the input, whatever the input.
	searched int64
}

// window returns an empty window, reused when one is free.
func (f *finder) window() *b64window {
	if n := len(f.free); n > 0 {
		w := f.free[n-1]
		f.free = f.free[:n-1]
		return w
	}
	return &b64window{off: make([]int32, 0, 512)}
}

// release gives back a window no longer in use; its decoded text must no
// longer be searched.
func (f *finder) release(w *b64window) {
	if len(f.free) < maxFreeWindows {
		f.free = append(f.free, w)
	}
}

// find reports every key in buf, plain or wrapped in base64 or UTF-16.
func (f *finder) find(buf []byte, outerCtx bool, depth int, emit func(hit)) {
	f.searched += int64(len(buf))
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
var b64Forms = [...]struct {
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
	lo      int     // buffer offset of the first base64 character
	off     []int32 // lo+off[i] is the buffer offset of the i-th base64 character
	quantum int     // index in off where decoding started
	decoded []byte  // what it decoded to
	whole   int     // buffer offset up to which a token starting there was decoded whole
}

// at returns the buffer offset of the i-th base64 character.
func (w *b64window) at(i int) int { return w.lo + int(w.off[i]) }

// index returns the index of the base64 character at buffer offset h, or -1.
func (w *b64window) index(h int) int {
	d := h - w.lo
	if n := len(w.off); int(w.off[n-1]) == n-1 {
		return d // no line breaks: the characters are contiguous
	}
	i, ok := slices.BinarySearch(w.off, int32(d))
	if !ok {
		return -1
	}
	return i
}

// covers reports whether the hit at buffer offset h, quantumAt characters
// into its quantum, was already decoded as part of w with the same
// alignment, with room for a whole token after it: then the rules have
// already seen it.
func (w *b64window) covers(h, quantumAt int) bool {
	if len(w.off) == 0 || h < w.lo || h > w.whole {
		return false
	}
	i := w.index(h)
	return i >= 0 && (i-quantumAt-w.quantum)%4 == 0 && i-quantumAt >= w.quantum
}

// findBase64 decodes the base64 text around each base64 form of "eyJ" and
// runs the rules over it. Lines of wrapped base64 (76-column output of the
// base64 command, PEM-like blocks) are joined.
//
// The hits of all forms are taken in the order they appear, so that the
// windows that may cover the next hit are the few decoded last: one per
// alignment at most, and a run is decoded once per alignment, not once per
// form.
func (f *finder) findBase64(buf []byte, depth int, emit func(hit)) {
	var next [len(b64Forms)]int // offset of each form's next hit, or -1
	for k := range b64Forms {
		next[k] = indexFrom(buf, 0, b64Forms[k].text)
	}
	var live []*b64window // windows that may cover a hit to come
	defer func() {
		for _, w := range live {
			f.release(w)
		}
	}()
	for {
		k := -1
		for j, at := range next {
			if at >= 0 && (k < 0 || at < next[k]) {
				k = j
			}
		}
		if k < 0 {
			return
		}
		h, form := next[k], b64Forms[k]
		next[k] = indexFrom(buf, h+len(form.text), form.text)
		covered := false
		live = slices.DeleteFunc(live, func(w *b64window) bool {
			if w.whole < h { // covers no hit from here on
				f.release(w)
				return true
			}
			covered = covered || w.covers(h, form.quantumAt)
			return false
		})
		if covered {
			continue
		}
		w := f.decodeBase64Around(buf, h, form.quantumAt)
		if w == nil {
			continue
		}
		live = append(live, w)
		// The enclosing line's context matters only to a token the
		// decoded text holds; most windows hold none, and checking the
		// line of every one of thousands of short runs on one long line
		// cost more than decoding them.
		outer := false
		if len(rules.FindCandidates(w.decoded)) > 0 {
			start, end := w.at(w.quantum), w.at(len(w.off)-1)+1
			outer = rules.HasLoftyContext(buf, start, end, f.cfg.ContextNames)
		}
		f.find(w.decoded, outer, depth+1, func(in hit) {
			q := w.quantum + in.pos/3*4
			in.pos = w.at(min(q, len(w.off)-1))
			if in.pos > w.whole {
				return // maybe cut off by the window's end: found from a window of its own
			}
			in.encoding = joinEncoding("base64", in.encoding)
			emit(in)
		})
	}
}

// continuesBase64 reports whether the line at buf[next:], after a line of
// lineLen base64 characters (and prevLen before that, or -1), continues
// the same base64 text, wrapped, rather than starting other text that
// happens to begin with base64 characters: "OTHER=1" after a line
// LOFTY_KEY_B64=<base64>. Joined, the decoded bytes of "OTHER" would be
// glued to the key's signature, and the key reported wrong or missed.
// A line continues the text when the line before is as long as a wrapped
// line (64 or 76 characters, or as long as the one before it), or when it
// is base64 to its end: up to a line break, the end, or '=' padding.
func continuesBase64(buf []byte, next, lineLen, prevLen int) bool {
	if lineLen == 64 || lineLen == 76 || lineLen == prevLen {
		return true
	}
	j := next
	for j < len(buf) && b64val[buf[j]] != 0xff {
		j++
	}
	if j < len(buf) && buf[j] == '=' {
		j++
		if j < len(buf) && buf[j] == '=' {
			j++
		}
		return j == len(buf) || b64val[buf[j]] == 0xff
	}
	return j == len(buf) || buf[j] == '\n' || buf[j] == '\r'
}

// indexFrom returns the offset of the first sep in buf at or after i, or -1.
func indexFrom(buf []byte, i int, sep []byte) int {
	if j := rules.Index(buf[i:], sep); j >= 0 {
		return i + j
	}
	return -1
}

// decodeBase64Around decodes the base64 run around the form at buf[h:],
// aligned on the form's quantum. It returns nil when the run is too short to
// hold a key.
func (f *finder) decodeBase64Around(buf []byte, h, quantumAt int) *b64window {
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
	w := f.window()
	// Size the offsets for the run's first line, which is all of it
	// unless it is wrapped: growing them by appending allocated twice
	// what they hold.
	line := lo
	for line < len(buf) && line-lo < b64Back+b64Ahead && b64val[buf[line]] != 0xff {
		line++
	}
	w.lo, w.off, w.decoded = lo, slices.Grow(w.off[:0], line-lo), w.decoded[:0]
	hitIdx := -1
	lineStart, prevLen := 0, -1 // index in off of the line's first character; length of the line before
	for i, n := lo, 0; i < len(buf) && n < b64Back+b64Ahead; i++ {
		c := buf[i]
		if b64val[c] != 0xff {
			if i == h {
				hitIdx = len(w.off)
			}
			w.off = append(w.off, int32(i-lo))
			n++
			continue
		}
		next := i + 1 // where the next line starts, if this is a line break
		if c == '\r' && i+1 < len(buf) && buf[i+1] == '\n' {
			next++
		} else if c != '\n' {
			break
		}
		if next >= len(buf) || b64val[buf[next]] == 0xff {
			break
		}
		lineLen := len(w.off) - lineStart
		if i > h && !continuesBase64(buf, next, lineLen, prevLen) {
			break
		}
		lineStart, prevLen = len(w.off), lineLen
		i = next - 1
	}
	q := hitIdx - quantumAt
	n := len(w.off) - q%4
	if hitIdx < 0 || q < 0 || n < 16 {
		f.release(w)
		return nil
	}
	w.quantum = q % 4
	// A window cut by its size, not by the end of the run, holds whole
	// only the tokens that start a token's length before its end; a token
	// cut off at its end must be found from a window of its own.
	w.whole = w.at(len(w.off) - 1)
	if len(w.off) >= b64Back+b64Ahead {
		w.whole = w.at(max(0, len(w.off)-1-b64Token))
	}
	w.decoded = slices.Grow(w.decoded, n/4*3+2)
	var acc uint32
	var bits uint
	for _, o := range w.off[w.quantum:] {
		acc = acc<<6 | uint32(b64val[buf[lo+int(o)]])
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
		j := rules.Index(buf[i:], form)
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
