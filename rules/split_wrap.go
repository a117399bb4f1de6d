package rules

import (
	"bytes"
	"encoding/base64"
	"unicode/utf8"
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
// them) goes on at the next line when the lines are as wide as a
// fixed-width wrap makes them: the line it starts on is at least
// minWrapWidth columns wide, every line it fills to the end is exactly as
// wide, and the line it ends on no wider. Before its text, a next line
// may hold what the first line starts with, up to a byte that is not a
// token's (a comment's "# ", a quoted mail's "> ", a log's "web-1  | "),
// then blanks; the lines after it, the same. Only a key confirmed whole is
// reported from such a join (see wholeWrapped): the width is the only
// thing that says the lines belong together. A join turned down hides no
// key of the lines after the first: the "eyJ" after it are judged as
// before (only those of the joined header's run are passed over, and its
// last is judged with it).

// Bounds of a hard-wrapped line. Wraps narrower than minWrapWidth would
// join too much that is no wrap; no fold or terminal wraps wider than
// maxWrapWidth, which keeps the first line's start within the context
// read before a token (contextBefore), as JoinedAt's caller gives it.
// What a line repeats before its text is at most maxWrapLead bytes, then
// at most maxWrapLead blanks.
const (
	minWrapWidth = 32
	maxWrapWidth = contextBefore
	maxWrapLead  = 64
)

// A width is a line's width measured each way a tool that wraps lines
// may measure it: in bytes (fold -b); in columns with a tab to the next
// multiple of 8 and a byte a column (GNU fold); the same with a UTF-8
// character a column (Python's textwrap); and with an East Asian wide
// character two (a terminal).
type width [4]int

// wrapWidth is what a hard-wrapped token's lines share, set at its first
// line break.
type wrapWidth struct {
	first width  // the first line's width
	lead  []byte // what each next line holds before its text
	// next and nextWidth are where the last line joined starts and its
	// width, measured when it was joined: the next wrap, at its end, need
	// not measure it again.
	next      int
	nextWidth width
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

// measure returns the width of line, a trailing CR left out.
func measure(line []byte) (w width) {
	line = bytes.TrimSuffix(line, []byte{'\r'})
	w[0] = len(line)
	plain := true
	for _, c := range line {
		if c >= utf8.RuneSelf || c == '\t' {
			plain = false
			break
		}
	}
	if plain {
		return width{len(line), len(line), len(line), len(line)}
	}
	for i := 0; i < len(line); {
		c := line[i]
		if c < utf8.RuneSelf {
			n := 1
			if c == '\t' {
				n = 8 - w[1]%8
			}
			w[1], w[2], w[3] = w[1]+n, w[2]+n, w[3]+n
			i++
			continue
		}
		r, n := utf8.DecodeRune(line[i:])
		w[1] += n
		w[2]++
		w[3]++
		if wide(r) {
			w[3]++
		}
		i += n
	}
	return w
}

// wide reports whether a terminal gives r two columns: the East Asian
// wide and fullwidth blocks (Hangul, CJK, kana, fullwidth forms, emoji).
func wide(r rune) bool {
	switch {
	case r >= 0x1100 && r <= 0x115F, r >= 0x2E80 && r <= 0xA4CF && r != 0x303F,
		r >= 0xAC00 && r <= 0xD7A3, r >= 0xF900 && r <= 0xFAFF, r >= 0xFE30 && r <= 0xFE4F,
		r >= 0xFF00 && r <= 0xFF60, r >= 0xFFE0 && r <= 0xFFE6,
		r >= 0x1F300 && r <= 0x1F64F, r >= 0x1F900 && r <= 0x1F9FF, r >= 0x20000 && r <= 0x3FFFD:
		return true
	}
	return false
}

// matches reports whether a line of width w is as wide as the first, by
// one of the measures.
func (ww *wrapWidth) matches(w width) bool {
	for k := range w {
		if w[k] == ww.first[k] {
			return true
		}
	}
	return false
}

// fits reports whether a line of width w is no wider than the first, by
// one of the measures.
func (ww *wrapWidth) fits(w width) bool {
	for k := range w {
		if w[k] <= ww.first[k] {
			return true
		}
	}
	return false
}

// leadOf returns what the next line, next, repeats of the first line's
// text before the token, before: their common start, cut back to just
// after its last byte that is not a token's, at most maxWrapLead bytes.
func leadOf(before, next []byte) []byte {
	n := 0
	for n < len(before) && n < len(next) && n < maxWrapLead && before[n] == next[n] {
		n++
	}
	for n > 0 && tokenByte[next[n-1]] {
		n--
	}
	return next[:n]
}

// skipLeadBlanks returns the end of at most maxWrapLead blanks at line's start.
func skipLeadBlanks(line []byte) int {
	n := 0
	for n < len(line) && n < maxWrapLead && (line[n] == ' ' || line[n] == '\t') {
		n++
	}
	return n
}

// wrapNext returns where the text of a token goes on after a hard wrap at
// buf[i], a line break, and what the wrap's lines share: text is the
// token's text so far, which starts at buf[i-len(text)] on the first line
// and holds dots dots, and w what an earlier wrap of the same token set, or nil at the first.
// ok is false unless the lines are as a fixed-width wrap makes them (see
// the comment at the top of this file) and text is cut short. When scopes
// is not nil, ok is false too for a text whose payload is whole and cannot
// hold one of *scopes (see payloadMayHoldScope): only a confirmed key is
// reported from such a join.
func wrapNext(buf []byte, i, limit int, text []byte, dots int, w *wrapWidth, scopes *[]string) (next int, ww wrapWidth, ok bool) {
	eol := lineBreak(buf, i)
	if eol == 0 || !cutShort(text, dots, scopes) {
		return 0, wrapWidth{}, false
	}
	ls, found := lineStart(buf, i)
	if !found {
		return 0, wrapWidth{}, false
	}
	var lw width
	if w != nil && ls == w.next {
		lw = w.nextWidth
	} else {
		lw = measure(buf[ls:i])
	}
	if w == nil {
		if lw[3] < minWrapWidth || lw[0] > maxWrapWidth {
			return 0, wrapWidth{}, false
		}
		ww = wrapWidth{first: lw}
	} else {
		if !w.matches(lw) {
			return 0, wrapWidth{}, false
		}
		ww = *w
	}
	k := i + eol
	end := min(limit, k+maxWrapWidth+2)
	if e := bytes.IndexByte(buf[k:end], '\n'); e >= 0 {
		end = k + e
	} else if end < len(buf) {
		return 0, wrapWidth{}, false // the next line is wider than any wrap
	}
	line := buf[k:end]
	ww.next, ww.nextWidth = k, measure(line)
	if !ww.fits(ww.nextWidth) {
		return 0, wrapWidth{}, false
	}
	if w == nil {
		ww.lead = leadOf(buf[ls:max(ls, i-len(text))], line)
	} else if !bytes.HasPrefix(line, ww.lead) {
		return 0, wrapWidth{}, false
	}
	k += len(ww.lead)
	k += skipLeadBlanks(buf[k:end])
	if k >= end || !tokenByte[buf[k]] || !goesOnWith(text, dots, buf[k:end]) {
		return 0, wrapWidth{}, false
	}
	return k, ww, true
}

// cutShort reports whether a token whose text so far is text, with dots
// dots, is cut short: a dot or its signature missing, or a signature
// shorter than its alg makes them; and whether what it has of a header
// may be one (JSON text, or a header naming an alg). A text that ends with '=' is not
// wrapped but broken softly, as quoted-printable breaks. With scopes, a
// text whose payload is whole must be able to hold one. It reads no line
// around: most tokens at a line's end are whole, and are turned down here.
func cutShort(text []byte, dots int, scopes *[]string) bool {
	if len(text) == 0 || text[len(text)-1] == '=' {
		return false // a quoted-printable soft line break (softBreak)
	}
	switch dots {
	case 0:
		return jsonTextStart(text)
	case 1:
		return headerAlg(text[:bytes.IndexByte(text, '.')]) != ""
	case 2:
		if len(text)-bytes.LastIndexByte(text, '.')-1 == hs256Sig && hs256Header(text) {
			return false // most tokens at a line's end: whole, told without a lookup
		}
		return (scopes == nil || payloadMayHoldScope(text, *scopes)) && signatureCutShort(text)
	}
	return false
}

// hs256Header reports whether tok starts with one of commonHeaders that
// names HS256, and its dot.
func hs256Header(tok []byte) bool {
	for _, h := range hs256Headers {
		if hasAt(tok, 0, h) {
			return true
		}
	}
	return false
}

// hs256Headers are the HS256 headers of commonHeaders, with their dots.
var hs256Headers = func() (out []string) {
	for h, alg := range commonHeaders {
		if alg == "HS256" {
			out = append(out, h+".")
		}
	}
	return out
}()

// jsonTextStart reports whether header, the start of a JWS header's
// base64url text, decodes (its whole quanta, at most the first 256
// characters) to bytes JSON text may hold: no control byte but blanks.
// Most runs of base64url text that start with "eyJ" and run to a line's
// end are no header, and are not joined to the next line.
func jsonTextStart(header []byte) bool {
	n := min(len(header), 256) / 4 * 4
	var out [192]byte
	m, err := base64.RawURLEncoding.Decode(out[:], header[:n])
	if err != nil {
		return false
	}
	for _, c := range out[:m] {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			return false
		}
	}
	return true
}

// goesOnWith reports whether a token whose text so far is text, with dots
// dots, may go on with rest, the next line's text after what it repeats of
// the first: it starts with "eyJ" only where the payload starts (text ends
// with the header's dot). A line of its own that starts with "eyJ" is
// another token.
func goesOnWith(text []byte, dots int, rest []byte) bool {
	return !hasAt(rest, 0, "eyJ") || dots == 1 && text[len(text)-1] == '.'
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
