package scanner

import "slices"

// A codec is a text encoding decoded in windows: base64 or hex.
type codec struct {
	name  string
	val   *[256]byte // the value of each character; 0xff for none
	bits  uint       // bits a character holds
	unit  int        // characters in a unit that decodes to whole bytes
	bytes int        // the bytes a unit decodes to
	// widths are the line lengths its tools wrap at: a line this long is
	// continued by the next whatever the next looks like.
	widths []int
}

var (
	base64Codec = codec{name: "base64", val: &b64val, bits: 6, unit: 4, bytes: 3, widths: []int{64, 76}}
	// xxd -p writes 60 hex digits a line; od and hexdump are not read.
	hexCodec = codec{name: "hex", val: &hexval, bits: 4, unit: 2, bytes: 1, widths: []int{60, 64, 76}}
)

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

// hexval maps hex digits, either case, to their values; 0xff is not hex.
var hexval = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	for i, c := range "ABCDEF" {
		t[c] = byte(10 + i)
	}
	return t
}()

// window is one decoded stretch of base64 or hex text.
type window struct {
	codec   *codec
	lo      int     // buffer offset of the first character
	off     []int32 // lo+off[i] is the buffer offset of the i-th character
	quantum int     // index in off where decoding started
	decoded []byte  // what it decoded to
	whole   int     // buffer offset up to which a token starting there was decoded whole
	mark    byte    // the mark its lines start with (see markedLine), or 0
}

// at returns the buffer offset of the i-th character.
func (w *window) at(i int) int { return w.lo + int(w.off[i]) }

// index returns the index of the character at buffer offset h, or -1.
func (w *window) index(h int) int {
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

// covers reports whether the hit at buffer offset h, phase characters into
// its unit, was already decoded as part of w with the same alignment, with
// room for a whole token after it: then the rules have already seen it.
func (w *window) covers(h, phase int) bool {
	if len(w.off) == 0 || h < w.lo || h > w.whole {
		return false
	}
	i := w.index(h)
	u := w.codec.unit
	return i >= 0 && (i-phase-w.quantum)%u == 0 && i-phase >= w.quantum
}

// continues reports whether the line at buf[next:], after a line of
// lineLen characters (and prevLen before that, or -1), continues the same
// encoded text, wrapped, rather than starting other text that happens to
// begin with its characters: "OTHER=1" after a line LOFTY_KEY_B64=<base64>.
// Joined, the decoded bytes of "OTHER" would be glued to the key's
// signature, and the key reported wrong or missed. A line continues the
// text when the line before is as long as a wrapped line (a width of the
// codec's tools, or as long as the one before it), or when it is of the
// codec's characters to its end: up to a line break, the end, or (base64)
// '=' padding.
func (c *codec) continues(buf []byte, next, lineLen, prevLen int) bool {
	if lineLen == prevLen || slices.Contains(c.widths, lineLen) {
		return true
	}
	if c == &hexCodec {
		return false
	}
	j := next
	for j < len(buf) && c.val[buf[j]] != 0xff {
		j++
	}
	if c == &base64Codec && j < len(buf) && buf[j] == '=' {
		j++
		if j < len(buf) && buf[j] == '=' {
			j++
		}
		return j == len(buf) || c.val[buf[j]] == 0xff
	}
	return j == len(buf) || buf[j] == '\n' || buf[j] == '\r' || escapedBreak(buf, j) > 0
}

// Indented text. Base64 pasted into a YAML block scalar (`data: |`) or a
// list is wrapped on lines that share an indentation: a line break and the
// blanks that indent the next line as far as the text's line are joined as
// a bare line break is. A line indented otherwise ends the text, as does
// one indented past maxIndent or a line before it longer than maxJoinLine.
const (
	maxIndent   = 64
	maxJoinLine = 4096
)

// isBlank reports whether c indents a line: a space or a tab.
func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// Escaped line breaks. Text wrapped on lines (the base64 command's 76
// columns, openssl's 64, xxd's 60) and then written into a JSON or YAML
// string has its line breaks written as escapes: "ZXlK...\nZXlK...", from
// `jq --arg`, a secrets manager's or a CI variable's export, Python's
// json.dumps of base64.encodebytes. They join lines as line breaks do.
// Read as text, the 'n' of the escape, a base64 character, was glued to
// the next line and shifted every line after the first by one, and a key
// across them was missed.

// maxEscapes is how many backslashes an escaped line break may have: one,
// and twice as many for each time the string was escaped again.
const maxEscapes = 8

// A line of a list. A JSON list whose strings are lines, each ending with
// an escaped line break, holds text wrapped on lines as one string does: a
// notebook stores each line of a cell's output so (`!base64 app.env`), and
// nbformat writes one string a line, indented. The end of a string, the
// comma and the start of the next (`\n",` then blanks and line breaks,
// then `"`) are part of the escaped line break that ends its line.

// maxListGap is how many blanks and line breaks may stand around the comma
// between two strings of a list: a line break and an indentation.
const maxListGap = maxIndent + 4

// escapedBreak returns the length of the escaped line break at buf[i:]:
// "\n" or "\r\n", with 1 to maxEscapes backslashes before each letter
// (alike for both), and, after one backslash, the end of its string and
// the start of the next string of a list (see listGap); or 0.
func escapedBreak(buf []byte, i int) int {
	n := escapeLen(buf, i)
	if n > 0 && backslashes(buf, i) == 1 {
		n += listGap(buf, i+n)
	}
	return n
}

// listGap returns the length of the text at buf[i:] between two strings of
// a JSON list, from the quote that ends one to the quote that starts the
// next, both included, when it is no more than that; else 0.
func listGap(buf []byte, i int) int {
	if i >= len(buf) || buf[i] != '"' {
		return 0
	}
	j := skipListBlanks(buf, i+1)
	if j >= len(buf) || buf[j] != ',' {
		return 0
	}
	j = skipListBlanks(buf, j+1)
	if j >= len(buf) || buf[j] != '"' {
		return 0
	}
	return j + 1 - i
}

// isListBlank reports whether c may stand around the comma between two
// strings of a list: a blank or a line break.
func isListBlank(c byte) bool { return isBlank(c) || c == '\n' || c == '\r' }

// skipListBlanks returns the end of the blanks and line breaks at buf[i:],
// up to maxListGap of them.
func skipListBlanks(buf []byte, i int) int {
	for n := 0; i < len(buf) && n < maxListGap && isListBlank(buf[i]); n++ {
		i++
	}
	return i
}

// skipListBlanksBefore returns the start of the blanks and line breaks
// that end at buf[i], up to maxListGap of them.
func skipListBlanksBefore(buf []byte, i int) int {
	for n := 0; i > 0 && n < maxListGap && isListBlank(buf[i-1]); n++ {
		i--
	}
	return i
}

// listBreakBefore returns the length of the escaped line break of a list's
// line (see listGap) that ends at buf[e], the start of the next string's
// text, or 0.
func listBreakBefore(buf []byte, e int) int {
	if e < 1 || buf[e-1] != '"' {
		return 0
	}
	i := skipListBlanksBefore(buf, e-1)
	if i == 0 || buf[i-1] != ',' {
		return 0
	}
	i = skipListBlanksBefore(buf, i-1)
	if i == 0 || buf[i-1] != '"' {
		return 0
	}
	i--
	k := escapedBreakBefore(buf, i)
	if k == 0 || escapedBreak(buf, i-k) != e-(i-k) {
		return 0
	}
	return e - (i - k)
}

// escapeLen returns the length of the escape of a line break at buf[i:]:
// "\n" or "\r\n", with 1 to maxEscapes backslashes before each letter
// (alike for both), or 0.
func escapeLen(buf []byte, i int) int {
	b := backslashes(buf, i)
	if b == 0 {
		return 0
	}
	j := i + b
	if j < len(buf) && buf[j] == 'r' {
		if backslashes(buf, j+1) != b {
			return 0
		}
		j += 1 + b
	}
	if j < len(buf) && buf[j] == 'n' {
		return j + 1 - i
	}
	return 0
}

// backslashes returns how many backslashes start buf[i:], or 0 past
// maxEscapes.
func backslashes(buf []byte, i int) int {
	n := 0
	for i+n < len(buf) && buf[i+n] == '\\' {
		if n++; n > maxEscapes {
			return 0
		}
	}
	return n
}

// escapedBreakBefore returns the length of the escaped line break that
// ends at buf[e] (its 'n' at buf[e-1]), or 0.
func escapedBreakBefore(buf []byte, e int) int {
	if e < 2 || buf[e-1] != 'n' || buf[e-2] != '\\' {
		return 0
	}
	i := e - 1
	for i > 0 && e-1-i < maxEscapes && buf[i-1] == '\\' {
		i--
	}
	if i >= 2 && buf[i-1] == 'r' {
		k := i - 1
		for k > 0 && i-1-k < maxEscapes && buf[k-1] == '\\' {
			k--
		}
		if n := escapeLen(buf, k); n == e-k {
			return n
		}
	}
	if n := escapeLen(buf, i); n == e-i {
		return n
	}
	return 0
}

// lineIndent returns how many blanks come before buf[i] on its line when
// only blanks do (up to maxIndent), or 0: text before it on its line, as
// in "key: <base64>", whose continuation lines are not indented.
func lineIndent(buf []byte, i int) int {
	k := i
	for k > 0 && i-k <= maxIndent && isBlank(buf[k-1]) {
		k--
	}
	if i-k <= maxIndent && (k == 0 || buf[k-1] == '\n') {
		return i - k
	}
	return 0
}

// lineAfter returns where the text that continues a line of c's text
// indented by indent starts, given next, the start of the line after its
// line break: past indent blanks, when the line is indented by exactly
// that many and c's text follows them before end; else -1.
func (c *codec) lineAfter(buf []byte, next, indent, end int) int {
	n := 0
	for next+n < len(buf) && n <= indent && isBlank(buf[next+n]) {
		n++
	}
	if n != indent || next+n >= end || c.val[buf[next+n]] == 0xff {
		return -1
	}
	return next + n
}

// textIndent returns the indentation of the text of c that ends at
// buf[e] (lineIndent of its first character), 0 past maxJoinLine.
func (c *codec) textIndent(buf []byte, e int) int {
	p := e
	for p > 0 && e-p <= maxJoinLine && c.val[buf[p-1]] != 0xff {
		p--
	}
	if e-p > maxJoinLine {
		return 0
	}
	return lineIndent(buf, p)
}

// lineBefore is lineAfter backwards, for an indented line: given lo, the
// first character of a line of c's text indented by blanks, it returns
// the end of the line before (past its last character) when that line is
// c's text indented alike up to its line break; else -1.
func (c *codec) lineBefore(buf []byte, lo int) int {
	indent := lineIndent(buf, lo)
	k := lo - indent // the line's start
	if indent == 0 || k < 2 || buf[k-1] != '\n' {
		return -1
	}
	e := k - 1
	if buf[e-1] == '\r' {
		e--
	}
	if e < 1 || c.val[buf[e-1]] == 0xff || c.textIndent(buf, e) != indent {
		return -1
	}
	return e
}

// Marked lines. A unified diff writes each added line after a '+' and each
// removed one after a '-' (a .patch file, `git diff` in a CI log, a pull
// request pasted into an issue), and a quoted reply or a Markdown quote
// each line after a '>': base64 wrapped on such lines (a Kubernetes
// Secret's block scalar in a diff, `base64 app.env` quoted in a mail) is one
// text whose lines each start with the mark and the same blanks. '+' and
// '-' are base64 characters: read as text, each line's mark shifted the
// lines after it by one, and a key across them was missed. A window of
// marked lines drops each line's mark and blanks as an indented block drops
// its blanks. Text whose lines start with '+' by chance (binary data in
// base64: a line of base64 text starts with '+' only where its byte is
// 0xf8 to 0xfb) is decoded as it is too.

// isLineMark reports whether c is a mark that may start the lines of a
// wrapped text: a diff's '+' or '-', a quote's '>'.
func isLineMark(c byte) bool { return c == '+' || c == '-' || c == '>' }

// lineMark is the mark and the blanks after it that start each line of a
// marked text.
type lineMark struct {
	mark   byte // 0: the lines are not marked
	indent int  // blanks after the mark
}

// markedLine returns the mark of the line holding buf[h], when the line
// starts with a mark, blanks (up to maxIndent), then c's text up to h, and
// the line before it or the one after it starts with the same mark and
// blanks then c's text: a wrapped text, not one line after a '+'. The
// second result is the end of the stretch of c's text around h that
// markedLine has read (a later hit before it is on the same line); the
// third says where the text of h's line starts. It reads at most
// maxJoinLine characters back and forth.
func (c *codec) markedLine(buf []byte, h int) (lineMark, int, int) {
	k := h
	for k > 0 && h-k <= maxJoinLine && c.val[buf[k-1]] != 0xff {
		if isLineMark(buf[k-1]) && (k == 1 || buf[k-2] == '\n') {
			break // a mark at the start of the line, a base64 character
		}
		k--
	}
	e := h
	for e < len(buf) && e-h <= maxJoinLine && c.val[buf[e]] != 0xff {
		e++
	}
	j := k
	for j > 0 && k-j <= maxIndent && isBlank(buf[j-1]) {
		j--
	}
	if h-k > maxJoinLine || k-j > maxIndent || j == 0 || !isLineMark(buf[j-1]) || (j > 1 && buf[j-2] != '\n') {
		return lineMark{}, e, -1
	}
	m := lineMark{mark: buf[j-1], indent: k - j}
	// The line before: its text ends at the line break before the mark.
	if _, end := c.markedLineBefore(buf, j-1, m); end >= 0 {
		return m, e, k
	}
	// The line after.
	n := e
	if n < len(buf) && buf[n] == '\r' {
		n++
	}
	if n < len(buf) && buf[n] == '\n' && c.markedLineAfter(buf, n+1, m, len(buf)) >= 0 {
		return m, e, k
	}
	return lineMark{}, e, -1
}

// markedLineAfter returns where the text of the line at buf[next:] starts
// when the line starts with m's mark and blanks and c's text follows them
// before end; else -1.
func (c *codec) markedLineAfter(buf []byte, next int, m lineMark, end int) int {
	if next >= len(buf) || buf[next] != m.mark {
		return -1
	}
	next++
	n := 0
	for next+n < len(buf) && n <= m.indent && isBlank(buf[next+n]) {
		n++
	}
	if n != m.indent || next+n >= end || c.val[buf[next+n]] == 0xff {
		return -1
	}
	return next + n
}

// markedLineBefore returns the start and end of the text of the line
// before the line that starts at buf[ls], when that line starts with m's
// mark and blanks and holds c's text from there to its line break (of at
// most maxJoinLine characters); else -1, -1.
func (c *codec) markedLineBefore(buf []byte, ls int, m lineMark) (int, int) {
	if ls < 2 || buf[ls-1] != '\n' {
		return -1, -1
	}
	e := ls - 1
	if buf[e-1] == '\r' {
		e--
	}
	s := e
	for s > 0 && e-s <= maxJoinLine && c.val[buf[s-1]] != 0xff && !(isLineMark(buf[s-1]) && (s == 1 || buf[s-2] == '\n')) {
		s--
	}
	if s == e || e-s > maxJoinLine {
		return -1, -1
	}
	for range m.indent {
		if s == 0 || !isBlank(buf[s-1]) {
			return -1, -1
		}
		s--
	}
	if s == 0 || buf[s-1] != m.mark || (s > 1 && buf[s-2] != '\n') {
		return -1, -1
	}
	return s + m.indent, e
}

// decodeWindow decodes the run of c's text around the character at buf[h:],
// aligned so that h is phase characters into its unit. Single line breaks
// between lines that continue the text are joined. It returns nil when the
// run is too short to hold a key.
func (f *finder) decodeWindow(buf []byte, h, phase int, c *codec) *window {
	return f.decodeWindowTo(buf, h, phase, c, len(buf))
}

// decodeWindowTo is decodeWindow reading no further than end.
func (f *finder) decodeWindowTo(buf []byte, h, phase int, c *codec, end int) *window {
	return f.decodeMarkedWindow(buf, h, phase, c, end, lineMark{}, 0)
}

// decodeMarkedWindow is decodeWindowTo for the text of lines marked with m
// (see markedLine), whose text on h's line starts at ts; with no mark, it
// is decodeWindowTo.
func (f *finder) decodeMarkedWindow(buf []byte, h, phase int, c *codec, end int, m lineMark, ts int) *window {
	lo := h
	if m.mark != 0 {
		// Walk back line by line over the lines marked alike.
		lo = ts
		for n := h - ts; n < b64Back; {
			s, e := c.markedLineBefore(buf, lo-m.indent-1, m)
			if s < 0 {
				break
			}
			if n+e-s > b64Back {
				lo = e - (b64Back - n)
				break
			}
			lo, n = s, n+e-s
		}
	}
	// Walk back over characters and single line breaks.
	for n := 0; m.mark == 0 && lo > 0 && n < b64Back; {
		ch := buf[lo-1]
		if c.val[ch] != 0xff {
			lo--
			n++
			continue
		}
		// An escaped line break between c's text before it and after it
		// (not before a line break: the window does not go on over two).
		// Its 'n', a base64 character, was taken as one: given back.
		if ch == '\\' && lo+1 < len(buf) && buf[lo] == 'n' && c.val[buf[lo+1]] != 0xff {
			if k := escapedBreakBefore(buf, lo+1); k > 0 && lo+1-k >= 1 && c.val[buf[lo-k]] != 0xff && c.textIndent(buf, lo+1-k) == 0 {
				lo, n = lo+1-k, n-1
				continue
			}
		}
		// The end of a list's string and the start of the next.
		if ch == '"' {
			if k := listBreakBefore(buf, lo); k > 0 && lo-k >= 1 && c.val[buf[lo-k-1]] != 0xff && c.textIndent(buf, lo-k) == 0 {
				lo -= k
				continue
			}
		}
		if ch == '\n' && lo >= 2 && c.val[buf[lo-2]] != 0xff && c.textIndent(buf, lo-1) == 0 {
			lo--
			continue
		}
		if ch == '\n' && lo >= 3 && buf[lo-2] == '\r' && c.val[buf[lo-3]] != 0xff && c.textIndent(buf, lo-2) == 0 {
			lo -= 2
			continue
		}
		if isBlank(ch) {
			if e := c.lineBefore(buf, lo); e >= 0 {
				lo = e
				continue
			}
		}
		break
	}
	indent := lineIndent(buf, lo)
	w := f.window()
	w.codec, w.mark = c, m.mark
	// Size the offsets for the run's first line, which is all of it
	// unless it is wrapped: growing them by appending allocated twice
	// what they hold.
	line := lo
	for line < end && line-lo < b64Back+b64Ahead && c.val[buf[line]] != 0xff {
		line++
	}
	size := line - lo
	if line < end && (buf[line] == '\n' || buf[line] == '\r' || buf[line] == '\\') {
		// Wrapped: room for as much as a window holds, or the text
		// left, at once (appending a line at a time allocated 35 times
		// an indented block's size).
		size = min(end-lo, b64Back+b64Ahead)
	}
	w.lo, w.off, w.decoded = lo, slices.Grow(w.off[:0], size), w.decoded[:0]
	hitIdx := -1
	lineStart, prevLen := 0, -1 // index in off of the line's first character; length of the line before
	for i, n := lo, 0; i < end && n < b64Back+b64Ahead; i++ {
		ch := buf[i]
		if c.val[ch] != 0xff {
			if i == h {
				hitIdx = len(w.off)
			}
			w.off = append(w.off, int32(i-lo))
			n++
			continue
		}
		next := i + 1 // where the next line starts, if this is a line break
		if ch == '\r' && i+1 < len(buf) && buf[i+1] == '\n' {
			next++
		} else if ch == '\\' {
			k := escapedBreak(buf, i)
			if k == 0 {
				break
			}
			next = i + k
		} else if ch != '\n' {
			break
		}
		if m.mark != 0 {
			next = c.markedLineAfter(buf, next, m, end)
		} else {
			next = c.lineAfter(buf, next, indent, end)
		}
		if next < 0 {
			break
		}
		lineLen := len(w.off) - lineStart
		if i > h && !c.continues(buf, next, lineLen, prevLen) {
			break
		}
		lineStart, prevLen = len(w.off), lineLen
		i = next - 1
	}
	q := hitIdx - phase
	n := len(w.off) - q%c.unit
	if hitIdx < 0 || q < 0 || n < 16 {
		f.release(w)
		return nil
	}
	w.quantum = q % c.unit
	// A window cut by its size, not by the end of the run, holds whole
	// only the tokens that start a token's length before its end; a token
	// cut off at its end must be found from a window of its own.
	w.whole = w.at(len(w.off) - 1)
	if len(w.off) >= b64Back+b64Ahead {
		tokenChars := b64Token
		if c == &hexCodec {
			tokenChars = hexToken
		}
		w.whole = w.at(max(0, len(w.off)-1-tokenChars))
	}
	w.decoded = slices.Grow(w.decoded, n/c.unit*c.bytes+2)
	var acc uint32
	var bits uint
	for _, o := range w.off[w.quantum:] {
		acc = acc<<c.bits | uint32(c.val[buf[lo+int(o)]])
		bits += c.bits
		if bits >= 8 {
			bits -= 8
			w.decoded = append(w.decoded, byte(acc>>bits))
		}
	}
	return w
}
