package rules

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync/atomic"
)

// Keys split across string literals. People split long strings, and
// linters and formatters do it for them:
//
//	KEY = ("eyJhbGciOiJIUzI1NiJ9."          # Python: adjacent literals
//	       "eyJzdWIiOiJhZ2VudC0xIn0.sig")
//	const key = 'eyJhbGciOiJIUzI1NiJ9.' +    // JS, TS, Java, C#, Go
//	    'eyJzdWIiOiJhZ2VudC0xIn0.sig';
//	export KEY="eyJhbGciOiJIUzI1NiJ9.\
//	eyJzdWIiOiJhZ2VudC0xIn0.sig"            # shell: a continued line
//
// A joiner reads such a token's text as the language would join it: when
// a piece's base64url text reaches the quote that closes its literal, and
// only concatenation follows (blanks, line ends, one operator: + . .. & ||,
// a backslash line continuation, comments) up to the quote that opens
// another literal whose text goes on with base64url, the text goes on
// there; a backslash that ends a line goes on at the next line's first
// byte. A key hard-wrapped across lines with nothing to join them (fold, a
// mail body, a YAML block scalar) goes on at the next line's text, after
// its indentation, where the line break cuts the key short: before its
// signature, or before the signature is as long as its alg makes them (see
// cutShort); a whole token is never joined with the line after it.
// Anything else ends the text. The work is bounded: the joined text
// is at most maxJoinText bytes, the pieces lie within maxJoinSpan bytes of
// the first, and the text between two pieces is at most maxJoinGap bytes.
//
// A literal that follows a whole key is not part of it ("token": "<key>"
// on one line of a YAML file, "user": "bob" on the next): where the
// signature is as long as its alg makes signatures when a piece ends, the
// token ends there (see endAtWholeSignature).

// Bounds of a join. The span fits in the overlap of the scanner's chunks
// (64 KiB), so a joined key is whole in the chunk where it starts.
const (
	maxJoinText = 2*MaxTokenLen + 8
	maxJoinSpan = 32 << 10
	maxJoinGap  = 1 << 10
)

// tokenByte marks the bytes a token's text is made of: base64url, '.', '='.
var tokenByte = func() (t [256]bool) {
	t = b64url
	t['.'], t['='] = true, true
	return t
}()

func isQuote(c byte) bool { return c == '"' || c == '\'' || c == '`' }

// A joiner reads the text of a token written in pieces.
type joiner struct {
	buf    []byte
	text   []byte  // the token's text joined so far
	pieces []piece // where each piece of text is in buf
	pos    int     // where reading goes on in buf
	quote  byte    // the quote of the literal being read, or 0
	limit  int     // the span's end in buf
	done   bool    // the text has ended
}

// A piece is a stretch of text read from one place of buf.
type piece struct{ text, buf int }

// begin starts the text of the token that starts at buf[start:] and whose
// first piece stopped at buf[stop]. It reports false unless a piece
// follows: stop is a quote that closes the literal start is in (the
// nearest quote before start on its line), followed by concatenation and
// a literal, or a backslash that ends the line.
func (j *joiner) begin(buf []byte, start, stop int) bool {
	if stop < len(buf) && (buf[stop] == '\n' || buf[stop] == '\r') && !cutShort(buf[start:stop]) {
		return false // the common case of a whole token at a line's end, at once
	}
	*j = joiner{buf: buf, quote: openingQuote(buf, start), limit: min(len(buf), start+maxJoinSpan)}
	if stop >= j.limit {
		return false
	}
	next, ok := j.continuesAfter(buf[start:stop], stop)
	if !ok {
		return false
	}
	j.text = append(make([]byte, 0, 2*(stop-start)+64), buf[start:stop]...)
	j.pieces = append(j.pieces, piece{0, start}, piece{len(j.text), next})
	j.pos = next
	return true
}

// mayContinue reports whether the text of a token whose first piece
// stopped at buf[stop] may go on in another piece: whether joiner.begin may
// say yes. It says no at once for what ends most tokens in JSON and code, a
// quote followed by a byte that neither concatenation text (see
// skipConcatenation) nor a literal's opening (see openLiteral) starts with:
// "<jwt>", "<jwt>"} "<jwt>")
func mayContinue(buf []byte, stop int) bool {
	if stop >= len(buf) {
		return false
	}
	if c := buf[stop]; c == '\\' {
		return true
	} else if c == '\n' || c == '\r' {
		_, ok := wrappedLine(buf, stop, len(buf))
		return ok
	} else if !isQuote(c) || stop+1 >= len(buf) {
		return false
	}
	return !endsConcatenation[buf[stop+1]]
}

// endsConcatenation marks the bytes at which skipConcatenation stops at
// once and that open no literal: after a closing quote, one of them means
// no other literal follows.
var endsConcatenation = func() (t [256]bool) {
	for c := range t {
		b := byte(c)
		t[c] = !strings.ContainsRune(" \t\n\r\f\\#/-|.+&", rune(b)) && !isQuote(b) && !isLiteralPrefix(b)
	}
	return t
}()

// openingQuote returns the quote that opens the literal holding
// buf[start:]: the nearest quote before start on its line (within the
// context window), or 0.
func openingQuote(buf []byte, start int) byte {
	for i := start - 1; i >= 0 && start-i <= contextBefore; i-- {
		switch c := buf[i]; {
		case c == '\n':
			return 0
		case isQuote(c):
			return c
		}
	}
	return 0
}

// continues reports where the text goes on when the current piece stops
// at buf[i], a byte that is not of a token, and whether it does.
func (j *joiner) continues(i int) (int, bool) { return j.continuesAfter(j.text, i) }

// continuesAfter is continues with text the token's text so far.
func (j *joiner) continuesAfter(text []byte, i int) (int, bool) {
	buf := j.buf
	if n := lineContinuation(buf, i); n > 0 {
		if i+n < j.limit && tokenByte[buf[i+n]] {
			return i + n, true
		}
		return 0, false
	}
	if next, ok := wrappedLine(buf, i, j.limit); ok {
		if cutShort(text) {
			return next, true
		}
		return 0, false
	}
	if j.quote == 0 || buf[i] != j.quote {
		return 0, false
	}
	k, ok := skipConcatenation(buf, i+1, min(j.limit, i+1+maxJoinGap))
	if !ok {
		return 0, false
	}
	k, q := openLiteral(buf, k, j.limit)
	if q == 0 || k >= j.limit || !tokenByte[buf[k]] {
		return 0, false
	}
	j.quote = q
	return k, true
}

// maxIndent is the most blanks a wrapped line of a key may start with.
const maxIndent = 32

// wrappedLine reports whether buf[i:] is a line break (LF or CRLF) after
// which the next line's text, past up to maxIndent blanks, starts with a
// byte of a token before limit, and where that text starts.
func wrappedLine(buf []byte, i, limit int) (int, bool) {
	switch {
	case i < limit && buf[i] == '\n':
		i++
	case i+1 < limit && buf[i] == '\r' && buf[i+1] == '\n':
		i += 2
	default:
		return 0, false
	}
	for n := 0; i < limit && n < maxIndent && (buf[i] == ' ' || buf[i] == '\t'); n++ {
		i++
	}
	return i, i < limit && tokenByte[buf[i]]
}

// cutShort reports whether text, a token's text up to a line break, is
// cut short by it, so that the token goes on at the next line: its header
// (from its first "eyJ" or its last) is a JWS header's start ({" and a
// letter) not yet ended, or a whole header whose alg is known (from its
// first "eyJ" or its last, as endAtWholeSignature reads it) and the text
// has not reached its signature, or the signature is shorter than the
// longest that alg makes and not as long as any. A header of no known alg
// may be text joined before the key ("eyJ.x" and a continued line): the
// token from the next "eyJ" is tried, three at most. Anything else (a
// whole token, "eyJ" alone) ends at the line break.
func cutShort(text []byte) bool {
	from := 0
	for range 4 {
		short, known := cutShortFrom(text[from:])
		if known {
			return short
		}
		i := bytes.Index(text[from+1:], prefix)
		if i < 0 {
			return false
		}
		from += 1 + i
	}
	return false
}

// minHeader is the length of the shortest JWS header, {"alg":"x"}, in
// base64url characters.
const minHeader = 15

// cutShortFrom is cutShort for the token whose header starts text; known
// is false when its header is whole and of no alg known.
func cutShortFrom(text []byte) (short, known bool) {
	d1 := bytes.IndexByte(text, '.')
	if d1 < 0 {
		last := bytes.LastIndex(text, prefix)
		return headerStart(text) || last > 0 && headerStart(text[last:]), true
	}
	sig := -1 // no signature yet
	if d2 := bytes.IndexByte(text[d1+1:], '.'); d2 >= 0 {
		sig = len(bytes.TrimRight(text[d1+1+d2+1:], "="))
		if d1 >= minHeader && wholeSigLength[sig] {
			return false, true // whole for some alg: most tokens, without decoding a header
		}
	}
	lengths := sigLengths[algOf(text[:d1])]
	if last := bytes.LastIndex(text[1:d1], prefix); last >= 0 {
		lengths = append(lengths[:len(lengths):len(lengths)], sigLengths[algOf(text[1+last:d1])]...)
	}
	if len(lengths) == 0 {
		return false, false
	}
	longest := 0
	for _, n := range lengths {
		longest = max(longest, base64.RawURLEncoding.EncodedLen(n))
	}
	return sig < longest, true
}

// wholeSigLength marks the lengths of the signatures of every alg of
// sigLengths, in base64url characters.
var wholeSigLength = func() map[int]bool {
	m := map[int]bool{}
	for _, ns := range sigLengths {
		for _, n := range ns {
			m[base64.RawURLEncoding.EncodedLen(n)] = true
		}
	}
	return m
}()

// headerStart reports whether text begins as a JWS header does: its first
// four characters decode to {" and a letter, or it is "eyJ" ({").
func headerStart(text []byte) bool {
	var b [3]byte
	if len(text) < 4 {
		return string(text) == string(prefix)
	}
	if _, err := base64.RawURLEncoding.Decode(b[:], text[:4]); err != nil {
		return false
	}
	c := b[2] | 0x20
	return b[0] == '{' && b[1] == '"' && c >= 'a' && c <= 'z'
}

// loftyHeader is the header segment of Lofty's keys, {"alg":"HS256"}.
const loftyHeader = "eyJhbGciOiJIUzI1NiJ9"

// algOf is headerAlg, without decoding the header of Lofty's keys.
func algOf(seg []byte) string {
	if string(seg) == loftyHeader {
		return "HS256"
	}
	return headerAlg(seg)
}

// lineContinuation returns the length of a backslash that ends a line at
// buf[i:] (backslash, optional CR, LF), or 0.
func lineContinuation(buf []byte, i int) int {
	if i+1 < len(buf) && buf[i] == '\\' {
		if buf[i+1] == '\n' {
			return 2
		}
		if buf[i+1] == '\r' && i+2 < len(buf) && buf[i+2] == '\n' {
			return 3
		}
	}
	return 0
}

// skipConcatenation returns the end of the text at buf[i:limit] that can
// stand between two string literals joined into one: blanks, line ends,
// backslash line continuations, comments (// # -- to the end of the line,
// /* */), and at most one concatenation operator (+ . .. & ||). ok is
// false when other text comes first, or the limit.
func skipConcatenation(buf []byte, i, limit int) (int, bool) {
	op := false
	for i < limit {
		c := buf[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case lineContinuation(buf, i) > 0:
			i += lineContinuation(buf, i)
		case c == '#' || hasAt(buf, i, "//") || hasAt(buf, i, "--"):
			for i < limit && buf[i] != '\n' {
				i++
			}
		case hasAt(buf, i, "/*"):
			end := indexAt(buf[:limit], i+2, "*/")
			if end < 0 {
				return 0, false
			}
			i = end + 2
		case !op && (hasAt(buf, i, "||") || hasAt(buf, i, "..")):
			op, i = true, i+2
		case !op && (c == '+' || c == '.' || c == '&'):
			op, i = true, i+1
		default:
			return i, true
		}
	}
	return 0, false
}

// openLiteral reads the opening of a string literal at buf[i:]: an
// optional prefix of up to two letters (Python's r b u f, C's L u8,
// C#'s @ $) and a quote. It returns where the literal's text starts and
// its quote, or a zero quote.
func openLiteral(buf []byte, i, limit int) (int, byte) {
	for n := 0; n <= 2 && i+n < limit; n++ {
		c := buf[i+n]
		if isQuote(c) {
			return i + n + 1, c
		}
		if !isLiteralPrefix(c) {
			break
		}
	}
	return 0, 0
}

func isLiteralPrefix(c byte) bool {
	switch c {
	case 'r', 'R', 'b', 'B', 'u', 'U', 'f', 'F', 'L', '8', '@', '$':
		return true
	}
	return false
}

func hasAt(buf []byte, i int, s string) bool {
	return i+len(s) <= len(buf) && string(buf[i:i+len(s)]) == s
}

// indexAt returns the index of s in buf at or after i, or -1.
func indexAt(buf []byte, i int, s string) int {
	for ; i+len(s) <= len(buf); i++ {
		if string(buf[i:i+len(s)]) == s {
			return i
		}
	}
	return -1
}

// joinRead counts the bytes of buf that joins have read, for the test of
// their bound.
var joinRead atomic.Int64

// fill reads the joined text until it is n bytes long or has ended.
func (j *joiner) fill(n int) {
	from := j.pos
	defer func() { joinRead.Add(int64(j.pos - from)) }()
	n = min(n, maxJoinText)
	for !j.done && len(j.text) < n {
		i := j.pos
		end := min(j.limit, i+n-len(j.text))
		for i < end && tokenByte[j.buf[i]] {
			i++
		}
		j.text = append(j.text, j.buf[j.pos:i]...)
		j.pos = i
		if len(j.text) >= maxJoinText {
			j.done = true
			return
		}
		if i == end && end < j.limit {
			return // n bytes read: the rest when asked
		}
		if i >= j.limit {
			j.done = true
			return
		}
		next, ok := j.continues(i)
		if !ok {
			j.done = true
			return
		}
		j.pos = next
		j.pieces = append(j.pieces, piece{len(j.text), next})
	}
}

// sourceEnd returns the offset in buf just after the byte at text[t-1]:
// the end in buf of the text before text[t].
func (j *joiner) sourceEnd(t int) int {
	if t == 0 {
		return j.pieces[0].buf
	}
	return j.source(t-1) + 1
}

// source returns the offset in buf of the byte at text[t].
func (j *joiner) source(t int) int {
	p := j.pieces[0]
	for _, q := range j.pieces[1:] {
		if q.text > t {
			break
		}
		p = q
	}
	return p.buf + t - p.text
}

// sigLengths are the lengths in bytes of the signatures each alg makes;
// for RSA, those of 1024- to 4096-bit keys.
var sigLengths = map[string][]int{
	"HS256": {32}, "HS384": {48}, "HS512": {64},
	"ES256": {64}, "ES384": {96}, "ES512": {132},
	"EdDSA": {64, 114}, "Ed25519": {64}, "Ed448": {114},
	"RS256": {128, 256, 384, 512}, "RS384": {128, 256, 384, 512}, "RS512": {128, 256, 384, 512},
	"PS256": {128, 256, 384, 512}, "PS384": {128, 256, 384, 512}, "PS512": {128, 256, 384, 512},
}

// endAtWholeSignature ends the joined text where a piece ends and the
// signature is whole, as long as its header's alg makes signatures (the
// header from the text's first "eyJ", or from the last one before the
// first '.', as lastPrefix tries), and reports whether it cut the text. A
// literal after a whole key goes on with other text, not with the key.
func (j *joiner) endAtWholeSignature() bool {
	d1 := bytes.IndexByte(j.text, '.')
	if d1 < 0 {
		return false
	}
	d2 := bytes.IndexByte(j.text[d1+1:], '.')
	if d2 < 0 {
		return false
	}
	sig := d1 + 1 + d2 + 1
	lengths := sigLengths[headerAlg(j.text[:d1])]
	if last := bytes.LastIndex(j.text[1:d1], prefix); last >= 0 {
		lengths = append(lengths[:len(lengths):len(lengths)], sigLengths[headerAlg(j.text[1+last:d1])]...)
	}
	if len(lengths) == 0 {
		return false
	}
	for _, p := range j.pieces[1:] {
		if p.text <= sig || p.text >= len(j.text) {
			continue
		}
		for _, n := range lengths {
			if p.text-sig == base64.RawURLEncoding.EncodedLen(n) {
				j.text, j.done = j.text[:p.text], true
				return true
			}
		}
	}
	return false
}

// headerAlg returns the alg of a JWS header segment, or "".
func headerAlg(seg []byte) string {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(string(seg), "="))
	if err != nil {
		return ""
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(b, &h) != nil {
		return ""
	}
	return h.Alg
}
