package rules

import (
	"bytes"
	"encoding/base64"
)

// Keys hard-wrapped at a fixed width: nothing joins the pieces but the
// width of the lines they fill.
//
//	$ fold -w 64 .env                        # fold, a terminal's log, a
//	LOFTY_API_KEY=eyJhbGciOiJIUzI1NiJ9.eyJzd # tool that wraps long lines,
//	WIiOiJhZ2VudC0xIiwic2NvcGUiOiJUSElSRF9QQ # a doc pasted from a console
//	VJUWV9PUEVSQVRJT04ifQ.sig...
//
// A token whose text runs to the end of a line and is cut short there (a
// dot or the signature missing, or a signature shorter than its alg makes
// them) goes on at the start of the next line when the lines are as wide
// as a fixed-width wrap makes them: the line it starts on is at least
// minWrapWidth columns wide, every line it fills to the end is exactly as
// wide, and the line it ends on no wider. The next line may repeat the
// first line's leading marks (a comment's "# ", a quoted mail's "> ") or
// be indented; nothing else may stand before its text. Only a key
// confirmed whole is reported from such a join (see wholeWrapped): the
// width is the only thing that says the lines belong together. A join
// turned down hides no key of the lines after the first: the "eyJ" after
// it are judged as before (only those of the joined header's run are
// passed over, and its last is judged with it).

// Bounds of the width of a hard-wrapped line, in bytes or in columns.
// Wraps narrower than minWrapWidth would join too much that is no wrap;
// no fold or terminal wraps wider than maxWrapWidth, which keeps the first
// line's start within the context read before a token (contextBefore), as
// JoinedAt's caller gives it.
const (
	minWrapWidth = 32
	maxWrapWidth = contextBefore
	maxWrapMarks = 64
)

// wrapMark marks the bytes that may lead a wrapped line before its text:
// blanks, and comment and quotation marks ("# ", "// ", "> ", " * ", a
// diff's "+"). None is a token's byte.
var wrapMark = func() (t [256]bool) {
	for _, c := range []byte(" \t#/;>*+%!") {
		t[c] = true
	}
	return t
}()

// wrapWidth is the width of a hard-wrapped token's lines, set at its first
// line break.
type wrapWidth struct {
	bytes, cols int    // the first line's width in bytes and columns
	marks       []byte // the first line's leading marks
}

// lineBreak returns the length of the line break at buf[i:] ("\n" or
// "\r\n"), or 0.
func lineBreak(buf []byte, i int) int {
	switch {
	case i < len(buf) && buf[i] == '\n':
		return 1
	case i+1 < len(buf) && buf[i] == '\r' && buf[i+1] == '\n':
		return 2
	}
	return 0
}

// lineStart returns the start of the line that holds buf[i-1], looking
// back at most maxWrapWidth+1 bytes, and whether it was found (buf's start
// counts as a line's).
func lineStart(buf []byte, i int) (int, bool) {
	from := max(0, i-maxWrapWidth-1)
	if k := bytes.LastIndexByte(buf[from:i], '\n'); k >= 0 {
		return from + k + 1, true
	}
	return 0, from == 0
}

// widths returns the width of line in bytes and in columns (a tab to the
// next multiple of 8, a UTF-8 character one column), without a trailing CR.
func widths(line []byte) (nb, nc int) {
	line = bytes.TrimSuffix(line, []byte{'\r'})
	for _, c := range line {
		switch {
		case c == '\t':
			nc += 8 - nc%8
		case c&0xC0 != 0x80:
			nc++
		}
	}
	return len(line), nc
}

// matches reports whether a line nb bytes and nc columns wide is as wide
// as w.
func (w *wrapWidth) matches(nb, nc int) bool { return nb == w.bytes || nc == w.cols }

// fits reports whether a line nb bytes and nc columns wide is no wider
// than w.
func (w *wrapWidth) fits(nb, nc int) bool { return nb <= w.bytes || nc <= w.cols }

// leadingMarks returns the marks that lead line (see wrapMark).
func leadingMarks(line []byte) []byte {
	n := 0
	for n < len(line) && n < maxWrapMarks && wrapMark[line[n]] {
		n++
	}
	return line[:n]
}

// wrapNext returns where the text of a token goes on after a hard wrap at
// buf[i], a line break, and the wrap's width: text is the token's text so
// far, and w the width set at an earlier wrap of the same token, or nil at
// the first. ok is false unless the lines are as a fixed-width wrap makes
// them (see the comment at the top of this file) and text is cut short.
func wrapNext(buf []byte, i, limit int, text []byte, w *wrapWidth) (next int, width wrapWidth, ok bool) {
	eol := lineBreak(buf, i)
	if eol == 0 {
		return 0, wrapWidth{}, false
	}
	ls, found := lineStart(buf, i)
	if !found {
		return 0, wrapWidth{}, false
	}
	nb, nc := widths(buf[ls:i])
	if w == nil {
		if nc < minWrapWidth || nb > maxWrapWidth {
			return 0, wrapWidth{}, false
		}
		width = wrapWidth{bytes: nb, cols: nc, marks: leadingMarks(buf[ls:i])}
	} else {
		if !w.matches(nb, nc) {
			return 0, wrapWidth{}, false
		}
		width = *w
	}
	k := i + eol
	end := min(limit, k+maxWrapWidth+2)
	if e := bytes.IndexByte(buf[k:end], '\n'); e >= 0 {
		end = k + e
	} else if end < len(buf) {
		return 0, wrapWidth{}, false // the next line is wider than any wrap
	}
	if nb, nc := widths(buf[k:end]); !width.fits(nb, nc) {
		return 0, wrapWidth{}, false
	}
	marks := leadingMarks(buf[k:end])
	if !bytes.Equal(marks, width.marks) && len(bytes.Trim(marks, " \t")) > 0 {
		return 0, wrapWidth{}, false
	}
	k += len(marks)
	if k >= end || !tokenByte[buf[k]] || !wrapContinues(text, buf[k:end]) {
		return 0, wrapWidth{}, false
	}
	return k, width, true
}

// wrapContinues reports whether a token whose text so far is text may go
// on with the line rest: text is cut short, and rest starts with "eyJ"
// only where the payload starts (text ends with the header's dot). A line
// of its own that starts with "eyJ" is another token. A text that ends
// with '=' is not wrapped but broken softly, as quoted-printable breaks.
func wrapContinues(text, rest []byte) bool {
	if len(text) == 0 || text[len(text)-1] == '=' {
		return false // a quoted-printable soft line break (softBreak)
	}
	dots := bytes.Count(text, []byte{'.'})
	if hasAt(rest, 0, "eyJ") && !(dots == 1 && text[len(text)-1] == '.') {
		return false
	}
	switch dots {
	case 0, 1:
		return true
	case 2:
		return signatureCutShort(text)
	}
	return false
}

// signatureCutShort reports whether the signature of text, a token with
// both its dots, is shorter than its alg makes signatures: for an alg
// whose lengths are known, shorter than the longest and as long as none;
// for another, shorter than the shortest any alg makes (HS256's).
func signatureCutShort(text []byte) bool {
	d1 := bytes.IndexByte(text, '.')
	d2 := d1 + 1 + bytes.IndexByte(text[d1+1:], '.')
	n := len(text) - d2 - 1
	lengths := sigLengths[headerAlg(text[:d1])]
	if len(lengths) == 0 {
		return n < minSignature
	}
	longest := 0
	for _, l := range lengths {
		e := base64.RawURLEncoding.EncodedLen(l)
		if n == e {
			return false
		}
		longest = max(longest, e)
	}
	return n < longest
}
