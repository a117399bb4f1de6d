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
//	KEY = ''.join([                          # a list joined: Python, JS's
//	    "eyJhbGciOiJIUzI1NiJ9.",             # [...].join(''), Go's strings.Join,
//	    "eyJzdWIiOiJhZ2VudC0xIn0.sig"])      # Rust's concat!, SQL's CONCAT
//	Key: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJh=  # a quoted-printable mail body:
//	Z2VudC0xIn0.sig                          # a soft line break
//
//	"source": [                              # a Jupyter notebook: the cell's
//	 "KEY = (\"eyJhbGciOiJIUzI1NiJ9.\"\n",   # lines are JSON strings, the
//	 "       \"eyJzdWIiOiJhZ2VudC0xIn0.sig\")" # literal's quotes escaped
//	]
//
// A joiner reads such a token's text as the language would join it: when
// a piece's base64url text reaches the quote that closes its literal, and
// only concatenation follows (blanks, line ends, one operator: + . .. & ||
// or a comma, a backslash line continuation or PowerShell's backtick one,
// comments) up to the quote that opens another literal whose text goes on
// with base64url, the text goes on there; a backslash that ends a line
// goes on after the next line's indentation, a quoted-printable soft
// line break ('=' at the end of a line) at the start of the next line,
// without the '=', and a Markdown-escaped underscore ("\_") at the '_'. In a literal whose quote is written \" (a string
// literal of code held in a JSON string: a notebook's cell), the closing
// quote is \" too, and between it and the next literal the JSON string's
// escaped line breaks and tabs (\n \r \t) are blanks and the end of one
// string of a list and the start of the next (", ") are nothing: a
// notebook stores each line of a cell as a string of a list. So it is for
// a literal in single quotes or backticks, which JSON does not escape.
// Anything else ends the text. A piece that holds a whole
// token (two dots and a signature as long as the shortest alg's) followed
// by a comma is not joined: that is a list of tokens, as JSON writes them. The work is bounded: the joined text
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
	buf     []byte
	text    []byte  // the token's text joined so far
	pieces  []piece // where each piece of text is in buf
	pos     int     // where reading goes on in buf
	quote   byte    // the quote of the literal being read, or 0
	escaped bool    // the quote is written \" (see openingQuote)
	limit   int     // the span's end in buf
	done    bool    // the text has ended
	dots    int     // the dots in text
	// firstQuote is where the quote that opened the first piece's literal
	// is in buf, or -1.
	firstQuote int
	// target is the name of the string the first piece's statement
	// builds, once targetRead (see skipAppending).
	target     string
	targetRead bool
	// wrap is what the lines of a hard-wrapped token share, once
	// wrapped (see split_wrap.go), else nil (not held in the joiner
	// itself: every join clears it, and few are wrapped); joined says a
	// piece was joined otherwise. A token is joined one way or the other,
	// not both.
	wrap   *wrapWidth
	joined bool
	// scopes are the scope values that confirm a key (Config.Scopes): a
	// hard-wrapped token whose payload cannot hold one is not joined on.
	scopes []string
}

// A piece is a stretch of text read from one place of buf.
type piece struct{ text, buf int }

// begin starts the text of the token that starts at buf[start:] and whose
// first piece stopped at buf[stop]. It reports false unless a piece
// follows: stop is a quote that closes the literal start is in (the
// nearest quote before start on its line), followed by concatenation and
// a literal, or a backslash that ends the line.
func (j *joiner) begin(buf []byte, start, stop int, scopes []string) bool {
	q, esc, at := openingQuote(buf, start)
	*j = joiner{buf: buf, quote: q, escaped: esc, limit: min(len(buf), start+maxJoinSpan), firstQuote: at, scopes: scopes}
	if stop >= j.limit {
		return false
	}
	next, drop, ok := j.continues(stop, stop > start && buf[stop-1] == '=', buf[start:stop])
	if !ok {
		return false
	}
	j.text = append(make([]byte, 0, 2*(stop-start)+64), buf[start:stop]...)
	j.dots = bytes.Count(j.text, []byte{'.'})
	if drop {
		j.text = j.text[:len(j.text)-1]
	}
	if j.startsAnother(next) {
		return false
	}
	j.pieces = append(j.pieces, piece{0, start}, piece{len(j.text), next})
	j.pos = next
	return true
}

// mayContinue reports whether the text of a token whose first piece
// buf[start:stop] stopped at buf[stop] may go on in another piece: whether
// joiner.begin may say yes. It says no at once for what ends most tokens in
// JSON and code, a quote followed by a byte that neither concatenation text
// (see skipConcatenation) nor a literal's opening (see openLiteral) starts
// with: "<jwt>"} "<jwt>"), and for a comma after a whole token, one that
// whole says has three segments (the candidate read from start ended at
// stop) and whose signature is at least as long as the shortest alg's:
// "<jwt>", is an item of a list, as JSON writes them, not a piece of a
// longer literal.
func mayContinue(buf []byte, start, stop int, whole bool) bool {
	if stop >= len(buf) {
		return false
	}
	c := buf[stop]
	if !isQuote(c) {
		if c == '\\' {
			// An escaped quote and a comma: a list item, as above.
			if stop+2 < len(buf) && buf[stop+1] == '"' && buf[stop+2] == ',' {
				return !wholeKey(buf, start, stop, whole)
			}
			return true
		}
		if c == '\n' || c == '\r' {
			if _, _, ok := wrapNext(buf, stop, min(len(buf), start+maxJoinSpan), buf[start:stop], bytes.Count(buf[start:stop], []byte{'.'}), nil, nil); ok {
				return true
			}
		}
		return mayBreakSoftly(buf, start, stop) || invisibleGap(buf, stop, min(len(buf), start+maxJoinSpan)) > 0
	}
	if stop+1 >= len(buf) {
		return false
	}
	if buf[stop+1] == ',' {
		return !wholeKey(buf, start, stop, whole)
	}
	return !endsConcatenation[buf[stop+1]]
}

// wholeKey reports whether the piece buf[start:stop] is a whole token
// (whole: three segments) whose signature is at least as long as the
// shortest alg's: followed by a comma, it is an item of a list.
func wholeKey(buf []byte, start, stop int, whole bool) bool {
	return whole && stop-start > minSignature && bytes.IndexByte(buf[stop-minSignature:stop], '.') < 0
}

// mayBreakSoftly reports whether a piece that stopped at buf[stop] ends
// with a quoted-printable soft line break.
func mayBreakSoftly(buf []byte, start, stop int) bool {
	n, _ := softBreak(buf, stop, stop > start && buf[stop-1] == '=')
	return n > 0
}

// minSignature is the length of the shortest signature any alg makes, in
// base64url (HS256's 32 bytes).
var minSignature = base64.RawURLEncoding.EncodedLen(32)

// softBreak returns the length of a quoted-printable soft line break at
// buf[i:] ('=', an optional CR and a LF), or when eq says the '=' is the
// byte before i (read into the text already), of the line break at
// buf[i:]; drop says the text's last byte is that '='. The line break may
// be written as a JSON string's escapes, "\r\n" or "\n": a mail held in
// JSON (a mail API's or a webhook's stored message, a HAR file).
func softBreak(buf []byte, i int, eq bool) (n int, drop bool) {
	j := i
	if !eq {
		if i >= len(buf) || buf[i] != '=' {
			return 0, false
		}
		j++
	}
	if hasAt(buf, j, `\r\n`) {
		return j + 4 - i, eq
	}
	if hasAt(buf, j, `\n`) {
		return j + 2 - i, eq
	}
	if j < len(buf) && buf[j] == '\r' {
		j++
	}
	if j >= len(buf) || buf[j] != '\n' {
		return 0, false
	}
	return j + 1 - i, eq
}

// endsConcatenation marks the bytes at which skipConcatenation and
// skipAppending stop at once and that open no literal: after a closing
// quote, one of them means no other literal follows.
var endsConcatenation = func() (t [256]bool) {
	for c := range t {
		b := byte(c)
		t[c] = !strings.ContainsRune(" \t\n\r\f\\#/-|.+&,);<^*", rune(b)) && !isQuote(b) && !isLiteralPrefix(b)
	}
	return t
}()

// openingQuote returns the quote that opens the literal holding
// buf[start:]: the nearest quote before start on its line (within the
// context window), or 0; whether it is a double quote escaped with a
// backslash (\", after an odd number of them), as JSON writes a quote in
// a string; and where it is in buf, or -1.
func openingQuote(buf []byte, start int) (byte, bool, int) {
	for i := start - 1; i >= 0 && start-i <= contextBefore; i-- {
		switch c := buf[i]; {
		case c == '\n':
			return 0, false, -1
		case isQuote(c):
			n := 0
			for k := i - 1; k >= 0 && buf[k] == '\\' && n <= contextBefore; k-- {
				n++
			}
			return c, c == '"' && n%2 == 1, i
		}
	}
	return 0, false, -1
}

// continues reports where the text goes on when the current piece stops
// at buf[i], a byte that is not of a token (or an '=' of one), and whether
// it does; eq says the piece's text ends with an '=', and drop that it is
// a soft line break's, to leave out of the text. text is the token's text
// so far.
func (j *joiner) continues(i int, eq bool, text []byte) (next int, drop, ok bool) {
	if !j.joined && i < len(j.buf) && (j.buf[i] == '\n' || j.buf[i] == '\r') {
		dots := j.dots // the text's dots, read piece by piece
		if j.wrap == nil {
			dots = bytes.Count(text, []byte{'.'}) // the first piece, on one line
		}
		if next, w, ok := wrapNext(j.buf, i, j.limit, text, dots, j.wrap, &j.scopes); ok {
			if j.wrap == nil {
				j.wrap = new(wrapWidth)
			}
			*j.wrap = w
			return next, false, true
		}
	}
	if j.wrap != nil {
		return 0, false, false // a wrapped token goes on at line breaks only
	}
	next, drop, ok = j.continuesJoined(i, eq)
	j.joined = j.joined || ok
	return next, drop, ok
}

// continuesJoined is continues for the pieces a language or a format
// joins: literals, line continuations, soft line breaks.
func (j *joiner) continuesJoined(i int, eq bool) (next int, drop, ok bool) {
	buf := j.buf
	if markdownEscape(buf, i, j.limit) {
		return i + 1, false, true // the '_' starts the next piece
	}
	if n := invisibleGap(buf, i, j.limit); n > 0 {
		return i + n, false, true
	}
	if n := lineContinuation(buf, i); n > 0 {
		k := skipIndent(buf, i+n, min(j.limit, i+n+maxJoinGap))
		if k < j.limit && tokenByte[buf[k]] {
			return k, false, true
		}
		return 0, false, false
	}
	if n, drop := softBreak(buf, i, eq); n > 0 {
		// A quoted-printable line goes on at the start of the next line.
		if k := i + n; k < j.limit && tokenByte[buf[k]] {
			return k, drop, true
		}
		return 0, false, false
	}
	after := i + 1
	switch {
	case j.escaped:
		if !hasAt(buf, i, `\"`) {
			return 0, false, false
		}
		after = i + 2
	case j.quote == 0 || buf[i] != j.quote:
		return 0, false, false
	case hasAt(buf, i, string([]byte{j.quote, j.quote, j.quote})):
		after = i + 3 // a triple-quoted literal's end (Kotlin, Scala, Python)
	}
	// A literal in \" is in a JSON string; one in ' or ` may be.
	inJSON := j.escaped || j.quote != '"'
	limit := min(j.limit, after+maxJoinGap)
	if k, ok := skipConcatenation(buf, after, limit, inJSON); ok {
		if next, ok := j.openPiece(k, inJSON); ok {
			return next, false, true
		}
	}
	if k, ok := skipAppending(buf, after, limit, j.statementTarget, inJSON); ok {
		if next, ok := j.openPiece(k, inJSON); ok {
			return next, false, true
		}
	}
	return 0, false, false
}

// statementTarget returns the name of the string the first piece's
// statement builds (see the free function statementTarget), read once.
func (j *joiner) statementTarget() string {
	if !j.targetRead {
		j.targetRead = true
		j.target = statementTarget(j.buf, j.firstQuote)
	}
	return j.target
}

// openPiece opens the literal at buf[k:] and reports where its text
// starts, when it starts with a token's byte, making its quote the one
// the piece ends at.
func (j *joiner) openPiece(k int, inJSON bool) (int, bool) {
	k, q, esc := openLiteral(j.buf, k, j.limit, inJSON, j.escaped)
	if q == 0 || k >= j.limit || !tokenByte[j.buf[k]] {
		return 0, false
	}
	j.quote, j.escaped = q, esc
	return k, true
}

// lineContinuation returns the length of a backslash that ends a line at
// buf[i:] (backslash, optional CR, LF), or 0.
// invisibles are what a page or a terminal puts inside a word without
// showing it, and a copy of the word keeps: zero-width spaces and joiners,
// the word joiner, a BOM, the soft hyphen (as UTF-8, as HTML's entities
// and as JSON's escapes), HTML's <wbr> (Confluence, Slack and renderers
// that let long words break put them in a key); an ANSI escape (grep
// --color marks the match inside the key) is read by ansiEscape.
var invisibles = []string{
	"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad",
	"&shy;", "&#173;", "&#xad;", "&#8203;", "&#x200b;", "&ZeroWidthSpace;",
	"<wbr>", "<wbr/>", "<wbr />",
	`\u200b`, `\u200B`, `\u00ad`, `\u00AD`,
}

// invisibleStart marks the first bytes of invisibles and of an ANSI escape.
var invisibleStart = func() (t [256]bool) {
	for _, s := range invisibles {
		t[s[0]] = true
	}
	t[0x1b] = true
	return t
}()

// invisibleGap returns the length of the invisibles at buf[i:limit] (at
// most 64 bytes of them) when a token's byte follows them, or 0.
func invisibleGap(buf []byte, i, limit int) int {
	k := i
	for k < limit && k-i <= 64 && invisibleStart[buf[k]] {
		n := ansiEscape(buf, k, limit)
		for _, s := range invisibles {
			if n == 0 && hasAt(buf[:limit], k, s) {
				n = len(s)
			}
		}
		if n == 0 {
			break
		}
		k += n
	}
	if k == i || k >= limit || !tokenByte[buf[k]] {
		return 0
	}
	return k - i
}

// ansiEscape returns the length of the ANSI control sequence at
// buf[i:limit] (ESC, '[', parameters, a letter), or 0.
func ansiEscape(buf []byte, i, limit int) int {
	if i+2 >= limit || buf[i] != 0x1b || buf[i+1] != '[' {
		return 0
	}
	for k := i + 2; k < limit && k-i < 24; k++ {
		switch c := buf[k]; {
		case '0' <= c && c <= '9' || c == ';':
		case 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z':
			return k + 1 - i
		default:
			return 0
		}
	}
	return 0
}

// markdownEscape reports whether buf[i:] is "\_" followed by a token's
// byte: an underscore escaped as Markdown (Turndown, which Obsidian's and
// Joplin's clippers use, and markdownify escape every one) and LaTeX write
// it. Half of HS256 signatures hold one, so a key pasted into a page that
// was converted to Markdown has its text cut at each.
func markdownEscape(buf []byte, i, limit int) bool {
	return i+2 < limit && buf[i] == '\\' && buf[i+1] == '_' && tokenByte[buf[i+2]]
}

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

// skipIndent returns the end of the blanks (spaces, tabs) at buf[i:limit].
// A line continued with a backslash goes on after the next line's
// indentation: Java .properties, YAML double-quoted scalars and TOML
// multi-line strings drop it, and where a language keeps it (a shell) the
// key was pasted whole all the same.
func skipIndent(buf []byte, i, limit int) int {
	for i < limit && (buf[i] == ' ' || buf[i] == '\t') {
		i++
	}
	return i
}

// skipConcatenation returns the end of the text at buf[i:limit] that can
// stand between two string literals joined into one: blanks, line ends,
// backslash or backtick (PowerShell) line continuations, comments (// # --
// to the end of the line, /* */), and at most one concatenation operator
// (+ . .. & ||) or list comma. ok is false when other text comes first, or
// the limit. inJSON says the text may be in a JSON string (see
// skipJSONGap): its escaped line breaks are blanks, its comments end at
// one, and the end of a string of a list and the start of the next are
// nothing.
func skipConcatenation(buf []byte, i, limit int, inJSON bool) (int, bool) {
	return skipJoinText(buf, i, limit, inJSON, true)
}

// skipJoinText is skipConcatenation, with the operator allowed only when
// withOp says so.
func skipJoinText(buf []byte, i, limit int, inJSON, withOp bool) (int, bool) {
	op := !withOp
	for i < limit {
		c := buf[i]
		if inJSON && (c == '\\' || c == '"') {
			if n := skipJSONGap(buf, i, limit); n > 0 {
				i += n
				continue
			}
		}
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			i++
		case lineContinuation(buf, i) > 0:
			i += lineContinuation(buf, i)
		case c == '`' && (hasAt(buf, i+1, "\n") || hasAt(buf, i+1, "\r\n")):
			i++
		case c == '#' || hasAt(buf, i, "//") || hasAt(buf, i, "--"):
			if inJSON {
				i = jsonLineEnd(buf, i, limit)
				continue
			}
			for i < limit && buf[i] != '\n' {
				i++
			}
		case hasAt(buf, i, "/*"):
			end := indexAt(buf[:limit], i+2, "*/")
			if end < 0 {
				return 0, false
			}
			i = end + 2
		case c == '_' && i > 0 && (buf[i-1] == ' ' || buf[i-1] == '\t') && (hasAt(buf, i+1, "\n") || hasAt(buf, i+1, "\r\n")):
			i++ // Visual Basic's line continuation: " _" at a line's end
		case !op && (hasAt(buf, i, "||") || hasAt(buf, i, "..") || hasAt(buf, i, "<>") || hasAt(buf, i, "++")):
			op, i = true, i+2 // SQL, Lua; Elixir's <>, Haskell's and Zig's ++
		case !op && (c == '+' || c == '.' || c == '&' || c == ',' || c == '^' || c == '*'):
			op, i = true, i+1 // OCaml's ^, Julia's *
		default:
			return i, true
		}
	}
	return 0, false
}

// skipJSONGap returns the length of what, in a JSON string, stands
// between two literals of the code it holds at buf[i:limit], or 0: an
// escaped line break or tab (\n \r \t), a backslash line continuation
// written in JSON (\\ then \n), or the end of a string of a list and the
// start of the next: a quote, blanks, a comma, blanks and a quote (a
// notebook cell's lines, and the blanks its indentation puts between).
func skipJSONGap(buf []byte, i, limit int) int {
	if buf[i] == '\\' {
		if i+1 < limit {
			switch buf[i+1] {
			case 'n', 'r', 't':
				return 2
			case '\\':
				if hasAt(buf[:limit], i+2, `\n`) || hasAt(buf[:limit], i+2, `\r`) {
					return 2
				}
			}
		}
		return 0
	}
	k := skipBlanks(buf, i+1, limit)
	if k >= limit || buf[k] != ',' {
		return 0
	}
	k = skipBlanks(buf, k+1, limit)
	if k >= limit || buf[k] != '"' {
		return 0
	}
	return k + 1 - i
}

// skipBlanks returns the end of the blanks and line breaks at buf[i:limit].
func skipBlanks(buf []byte, i, limit int) int {
	for i < limit && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r') {
		i++
	}
	return i
}

// jsonLineEnd returns where a comment at buf[i:limit] in a JSON string
// ends: at the escaped line break (\n) that ends the code's line, or at
// the end of the string (a quote) or of the JSON line.
func jsonLineEnd(buf []byte, i, limit int) int {
	for i < limit {
		switch buf[i] {
		case '\\':
			if i+1 < limit && buf[i+1] == 'n' {
				return i
			}
			i += 2
		case '"', '\n':
			return i
		default:
			i++
		}
	}
	return limit
}

// openLiteral reads the opening of a string literal at buf[i:]: an
// optional prefix of up to two letters (Python's r b u f, C's L u8,
// C#'s @ $, T-SQL's N, PostgreSQL's E) and a quote. It returns where the literal's text starts, its
// quote, or a zero quote, and whether the quote is \": as JSON escapes it,
// read when inJSON says the text may be in a JSON string. In one that
// surely is (after a literal in \"), a bare " ends the string, and opens
// no literal.
func openLiteral(buf []byte, i, limit int, inJSON, surely bool) (int, byte, bool) {
	for n := 0; n <= 2 && i+n < limit; n++ {
		c := buf[i+n]
		if inJSON && c == '\\' && i+n+1 < limit && buf[i+n+1] == '"' {
			return i + n + 2, '"', true
		}
		if isQuote(c) {
			if c == '"' && surely {
				break
			}
			if hasAt(buf, i+n, string([]byte{c, c, c})) {
				return i + n + 3, c, false // a triple-quoted literal
			}
			return i + n + 1, c, false
		}
		if !isLiteralPrefix(c) {
			break
		}
	}
	return 0, 0, false
}

func isLiteralPrefix(c byte) bool {
	switch c {
	case 'r', 'R', 'b', 'B', 'u', 'U', 'f', 'F', 'L', '8', '@', '$', 's', 'N', 'E', 'e':
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
		j.dots += bytes.Count(j.buf[j.pos:i], []byte{'.'})
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
		next, drop, ok := j.continues(i, i > j.pieces[len(j.pieces)-1].buf && j.buf[i-1] == '=', j.text)
		if !ok {
			j.done = true
			return
		}
		if drop {
			j.text = j.text[:len(j.text)-1]
		}
		if j.startsAnother(next) {
			j.done = true
			return
		}
		j.pos = next
		j.pieces = append(j.pieces, piece{len(j.text), next})
	}
}

// startsAnother reports whether the piece at buf[next] starts another
// token rather than going on with this one: it starts with "eyJ", a JWS
// header's start, where the text has both its dots and is in the
// signature. A truncated token in one literal and a whole one in the next
// (a test's list of bad and good keys) are two tokens; a signature cut
// where its next piece starts with "eyJ" (one cut in 262,144) is not
// joined.
func (j *joiner) startsAnother(next int) bool {
	return j.dots >= 2 && hasAt(j.buf, next, "eyJ")
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

// commonHeaders are the header segments most tokens have, with their
// algs: Lofty's, and the same with "typ":"JWT". headerAlg answers for them
// without a JSON decode: a hard-wrapped join asks at each line break.
var commonHeaders = map[string]string{
	"eyJhbGciOiJIUzI1NiJ9":                 "HS256",
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9": "HS256",
	"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9": "HS256",
	"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9": "RS256",
	"eyJhbGciOiJSUzI1NiJ9":                 "RS256",
}

// headerAlg returns the alg of a JWS header segment, or "".
func headerAlg(seg []byte) string {
	if alg, ok := commonHeaders[string(seg)]; ok {
		return alg
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(string(seg), "="))
	if t := bytes.TrimSpace(b); err != nil || len(t) < 2 || t[0] != '{' || t[len(t)-1] != '}' {
		return "" // no JSON object: turned down without a decode's error
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(b, &h) != nil {
		return ""
	}
	return h.Alg
}

// JoinedAt returns the offset in buf of each byte of secret when secret
// starts the text that the pieces of string literals from buf[start:] on
// join into, as the scanner joins them (a key written in pieces): what a
// rewrite replaces, the text between the pieces left as it is. buf must
// hold the line before start, up to 512 bytes (the context the scanner
// reads before a token), where the first piece's quote is. ok is false
// when no piece follows the first or the joined text does not start with
// secret.
func JoinedAt(buf []byte, start int, secret string) (at []int, ok bool) {
	stop := start
	for stop < len(buf) && tokenByte[buf[stop]] {
		stop++
	}
	var j joiner
	if !j.begin(buf, start, stop, nil) {
		return nil, false
	}
	j.fill(len(secret))
	if len(j.text) < len(secret) || string(j.text[:len(secret)]) != secret {
		return nil, false
	}
	at = make([]int, len(secret))
	for t := range at {
		at[t] = j.source(t)
	}
	return at, true
}
