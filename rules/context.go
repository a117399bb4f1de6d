package rules

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strings"
)

// How far from a token, on its own line, a Lofty name still counts as
// context. A bounded window keeps the check linear on a minified file that is
// one 100 MB line, and a name 50 KB away in such a line says nothing.
const (
	contextBefore = 512
	contextAfter  = 256
)

// DefaultContextNames are the names that tie a token to Lofty when they
// appear on its line, matched without regard to ASCII case: LOFTY_API_KEY,
// lofty_token, loftyKey and api.lofty.com all contain "lofty". "chime", the
// old brand, is also Amazon Chime's name: it counts only where it names the
// CRM (CHIME_API_KEY, chime_token, chime.me; see chimeContext), wherever it
// is listed.
var DefaultContextNames = []string{"lofty", oldBrand}

// HasLoftyContext reports whether the token at buf[start:end] sits in a
// Lofty context: a Lofty name on the same line (within a bounded window), or
// the header form Lofty's API uses, "Authorization: token <key>".
func HasLoftyContext(buf []byte, start, end int, names []string) bool {
	if len(names) == 0 {
		names = DefaultContextNames
	}
	return mayHaveContext(buf, start, end, names) && searchContext(buf, start, end, names) ||
		isTokenAuthPair(buf, start) || pairContext(buf, start, names)
}

// searchContext is HasLoftyContext without mayHaveContext: it searches the
// line window for each name. names is not empty.
func searchContext(buf []byte, start, end int, names []string) bool {
	lo, hi := lineWindow(buf, start, end)
	before, after := buf[lo:start], buf[end:hi]
	return hasName(before, after, names) || isTokenAuth(before)
}

// hasName reports whether one of names is in the text before or after a
// token. names is not empty.
func hasName(before, after []byte, names []string) bool {
	for _, n := range names {
		switch {
		case n == "":
			continue // matches everything: a configuration slip, not context
		case len(n) == len(oldBrand) && equalFold([]byte(n), oldBrand):
			if chimeContext(before, after) {
				return true
			}
			continue
		}
		n = strings.ToLower(n)
		k := loftyRarest
		if n != DefaultContextNames[0] {
			k = rarestByte(n)
		}
		if indexFold(before, 0, n, k) >= 0 || indexFold(after, 0, n, k) >= 0 {
			return true
		}
	}
	return false
}

// pairContext reports whether the token at buf[start:] is the value of a
// name/value pair written over two lines whose name is a Lofty name (see
// pairName).
func pairContext(buf []byte, start int, names []string) bool {
	name := pairName(buf, start)
	return name != nil && hasName(name, nil, names)
}

// pairName returns the name of the name/value pair whose value is the token
// at buf[start:], when the pair is written over two lines, as Kubernetes
// env lists, ECS task definitions and Postman environments write it:
// "- name: LOFTY_API_KEY" (or "key": "lofty_token",) on one line, and only
// "value: " (or "value": ") before the token on the next. Else nil.
func pairName(buf []byte, start int) []byte {
	lo := max(0, start-contextBefore)
	if !afterKey(buf, lo, start, "value") {
		return nil // most tokens: the test every JWT pays is this one
	}
	nl := lastNewline(buf[lo:start])
	if nl < 0 {
		return nil
	}
	ls := lo + nl + 1 // the token's line
	if !onlyKey(buf[ls:start], "value") {
		return nil
	}
	e := ls - 1 // the line break that ends the line before
	if e > 0 && buf[e-1] == '\r' {
		e--
	}
	pl := max(0, e-contextBefore)
	if i := lastNewline(buf[pl:e]); i >= 0 {
		pl += i + 1
	} else if pl > 0 {
		return nil // longer than the window
	}
	p := bytes.TrimLeft(buf[pl:e], " \t-{")
	p = bytes.TrimLeft(p, "\"'")
	switch {
	case len(p) >= 4 && equalFold(p, "name"):
		p = p[4:]
	case len(p) >= 3 && equalFold(p, "key"):
		p = p[3:]
	default:
		return nil
	}
	p = bytes.TrimLeft(p, "\"' \t")
	if len(p) == 0 || p[0] != ':' && p[0] != '=' {
		return nil
	}
	p = bytes.TrimRight(bytes.Trim(p[1:], " \t"), ",")
	p = bytes.Trim(p, " \t\"'")
	if len(p) == 0 {
		return nil
	}
	return p
}

// afterKey reports whether buf[lo:start] ends with key, quoted or not, then
// ':' or '=', then blanks or a quote: a test made before any other, byte by
// byte from start backwards, so that a token after another key costs a few
// comparisons.
func afterKey(buf []byte, lo, start int, key string) bool {
	quoteOrBlank := func(c byte) bool { return c == ' ' || c == '\t' || c == '"' || c == '\'' }
	j := start
	for j > lo && quoteOrBlank(buf[j-1]) {
		j--
	}
	if j == lo || buf[j-1] != ':' && buf[j-1] != '=' {
		return false
	}
	j--
	for j > lo && quoteOrBlank(buf[j-1]) {
		j--
	}
	return j-lo >= len(key) && equalFold(buf[j-len(key):j], key)
}

// onlyKey reports whether s, the text of a line before a token, is the key
// key of a YAML or JSON mapping and nothing else: blanks, a list's '-', a
// '{' or a ',', the key quoted or not, ':' or '=', and the value's quote.
func onlyKey(s []byte, key string) bool {
	t := bytes.TrimRight(s, " \t\"'")
	if len(t) == 0 || t[len(t)-1] != ':' && t[len(t)-1] != '=' {
		return false
	}
	t = bytes.TrimRight(t[:len(t)-1], " \t\"'")
	if len(t) < len(key) || !equalFold(t[len(t)-len(key):], key) {
		return false
	}
	return len(bytes.TrimLeft(bytes.TrimRight(t[:len(t)-len(key)], "\"'"), " \t-{,")) == 0
}

// The context check is made for every JWT that is not a key, and most
// lines hold no Lofty name. Every name it looks for is matched at its
// rarest byte first (indexFold), "chime" too (anyCRMChime), and the token
// scheme needs "authorization" before the token: a line window that holds
// none of those bytes, in either case, can hold no context. mayHaveContext
// reads the window once for them, with the line ends, instead of searching
// it once for each name.

// The classes of bytes in an anchor table.
const (
	plainByte  = iota
	anchorByte // the rarest byte of a name, in either case
	lineEnd    // '\n': the window stops there
)

// anchorTable is the class of each byte for names.
type anchorTable [256]uint8

// defaultAnchors is anchorsOf(DefaultContextNames), made once.
var defaultAnchors = anchorsOf(DefaultContextNames)

// anchorsOf returns the table of the bytes HasLoftyContext matches names
// at: each name's rarest byte (see HasLoftyContext), "chime"'s, and
// "authorization"'s.
func anchorsOf(names []string) anchorTable {
	var t anchorTable
	mark := func(c byte) {
		t[c], t[toUpper(c)], t[toLower(c)] = anchorByte, anchorByte, anchorByte
	}
	for _, n := range names {
		switch {
		case n == "":
		case len(n) == len(oldBrand) && equalFold([]byte(n), oldBrand):
			mark(oldBrand[oldBrandRarest])
		default:
			n = strings.ToLower(n)
			mark(n[rarestByte(n)])
		}
	}
	mark(authorization[rarestByte(authorization)])
	t['\n'] = lineEnd
	return t
}

// mayHaveContext reports whether the line window of the token at
// buf[start:end] (see lineWindow) holds an anchor byte of names: when it
// does not, HasLoftyContext is false.
func mayHaveContext(buf []byte, start, end int, names []string) bool {
	t := &defaultAnchors
	if len(names) != len(DefaultContextNames) || &names[0] != &DefaultContextNames[0] {
		own := anchorsOf(names) // on the stack: custom names are rare
		t = &own
	}
	// Eight bytes a step while none of them is of a class (the common
	// case), then byte by byte to find which.
	i, lo := start, max(0, start-contextBefore)
	for ; i-8 >= lo; i -= 8 {
		b := buf[i-8 : i : i]
		if t[b[0]]|t[b[1]]|t[b[2]]|t[b[3]]|t[b[4]]|t[b[5]]|t[b[6]]|t[b[7]] != plainByte {
			break
		}
	}
	for i--; i >= lo; i-- {
		if c := t[buf[i]]; c != plainByte {
			if c == anchorByte {
				return true
			}
			break
		}
	}
	i, hi := end, min(len(buf), end+contextAfter)
	for ; i+8 <= hi; i += 8 {
		b := buf[i : i+8 : i+8]
		if t[b[0]]|t[b[1]]|t[b[2]]|t[b[3]]|t[b[4]]|t[b[5]]|t[b[6]]|t[b[7]] != plainByte {
			break
		}
	}
	for ; i < hi; i++ {
		if c := t[buf[i]]; c != plainByte {
			return c == anchorByte
		}
	}
	return false
}

// authorization is the header name of the token scheme (isTokenAuth).
const authorization = "authorization"

// isTokenAuth reports whether the text before a token ends with the token
// scheme of an Authorization header ("Authorization: token ", also inside
// quotes or after '=' as in headers={"Authorization": "token ...").
// Only quotes, ':', '=', ',' and blanks may stand between the header name
// and the scheme: "the authorization server returns an access token <jwt>"
// is prose about OAuth, not a Lofty header.
func isTokenAuth(before []byte) bool {
	t := bytes.TrimRight(before, " \t")
	if len(t) == len(before) || len(t) < 5 || !equalFold(t[len(t)-5:], "token") {
		return false
	}
	t = bytes.TrimRight(t[:len(t)-5], " \t\"'`:=,")
	return len(t) >= len(authorization) && equalFold(t[len(t)-len(authorization):], authorization)
}

// isTokenAuthPair reports whether the token at buf[start:] is the value of
// an Authorization header written as a name/value pair, as HAR files
// ({"name": "Authorization", "value": "token <key>"}) and Postman
// collections ("key" for "name") write headers: pretty-printed, the name is
// on the line before, where the line-bound search does not look. Only
// quotes, ':', ',' and blanks, line breaks included, may stand between the
// name and "value", within the context window.
func isTokenAuthPair(buf []byte, start int) bool {
	lo := max(0, start-contextBefore)
	i := start
	for i > lo && (buf[i-1] == ' ' || buf[i-1] == '\t') {
		i--
	}
	if i == start || i-lo < 5 || !equalFold(buf[i-5:i], "token") {
		return false // most tokens, at a few bytes' cost: no bytes.TrimRight
	}
	t := bytes.TrimRight(buf[lo:i-5], " \t\"':")
	if len(t) < 5 || !equalFold(t[len(t)-5:], "value") {
		return false
	}
	t = bytes.TrimRight(t[:len(t)-5], " \t\r\n\"',")
	return len(t) >= len(authorization) && equalFold(t[len(t)-len(authorization):], authorization)
}

// containsFold is bytes.Contains ignoring ASCII case; name must be lower
// case and not empty.
func containsFold(s []byte, name string) bool { return indexFold(s, 0, name, rarestByte(name)) >= 0 }

// indexFold returns the first index at or after from where name (lower
// case, not empty) is in s, ignoring ASCII case, or -1; k is the index of
// name's rarest byte (see rarestByte). It jumps with bytes.IndexByte from
// one place of that byte (either case) to the next and compares the name
// around it: the window around every JWT is searched, and a loop over its
// bytes cost more than judging the JWT.
func indexFold(s []byte, from int, name string, k int) int {
	n := len(name)
	if from+n > len(s) {
		return -1
	}
	lo, up := name[k], toUpper(name[k])
	for i := from + k; i <= len(s)-n+k; {
		j := indexEither(s[i:len(s)-n+k+1], lo, up)
		if j < 0 {
			return -1
		}
		i += j
		if equalFold(s[i-k:i-k+n], name) {
			return i - k
		}
		i++
	}
	return -1
}

// loftyRarest and oldBrandRarest are rarestByte of the default names.
var (
	loftyRarest    = rarestByte(DefaultContextNames[0])
	oldBrandRarest = rarestByte(oldBrand)
)

// rarestByte returns the index of the byte of name least common in text.
func rarestByte(name string) int {
	k := 0
	for i := 1; i < len(name); i++ {
		if freqFold(name[i]) < freqFold(name[k]) {
			k = i
		}
	}
	return k
}

// freqFold is how common c is in text in either case; a byte byteFreq
// does not list (punctuation) counts as common.
func freqFold(c byte) uint32 {
	if f := byteFreq[c] + byteFreq[toUpper(c)]; f > 0 {
		return f
	}
	return 20000
}

func toUpper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// indexEither returns the index of the first a or b in s, or -1.
func indexEither(s []byte, a, b byte) int {
	i := bytes.IndexByte(s, a)
	if a == b {
		return i
	}
	if i >= 0 {
		s = s[:i]
	}
	if j := bytes.IndexByte(s, b); j >= 0 {
		return j
	}
	return i
}

func toLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func equalFold(s []byte, lower string) bool {
	for i := range len(lower) {
		if toLower(s[i]) != lower[i] {
			return false
		}
	}
	return true
}

// AllowMarker is the inline comment that suppresses the findings of its
// line, for a token a team has decided to keep (a revoked key in a test,
// say): `KEY="eyJ..." # loftyscan:allow`.
const AllowMarker = "loftyscan:allow"

// HasAllowComment reports whether the line of the text at buf[start:end]
// carries AllowMarker, within the same bounded window as the context check.
func HasAllowComment(buf []byte, start, end int) bool {
	lo, hi := lineWindow(buf, start, min(end, len(buf)))
	return bytes.Contains(buf[lo:hi], []byte(AllowMarker))
}

// lineWindow returns the bounds of the line around buf[start:end], cut to
// contextBefore bytes before start and contextAfter bytes after end.
func lineWindow(buf []byte, start, end int) (int, int) {
	lo := max(0, start-contextBefore)
	if i := lastNewline(buf[lo:start]); i >= 0 {
		lo += i + 1
	}
	hi := min(len(buf), end+contextAfter)
	if i := bytes.IndexByte(buf[end:hi], '\n'); i >= 0 {
		hi = end + i
	}
	return lo, hi
}

// lastNewline is bytes.LastIndexByte(s, '\n') eight bytes at a time (the
// standard library's is a loop over bytes): the line before every JWT is
// searched back to its start.
func lastNewline(s []byte) int {
	const nl = '\n' * lsb
	i := len(s)
	for ; i >= 8; i -= 8 {
		x := binary.LittleEndian.Uint64(s[i-8:]) ^ nl
		// The high bit of each zero byte of x, exactly: no borrow
		// reaches across bytes.
		z := ^((x&^msb + ^uint64(msb)) | x | ^uint64(msb))
		if z != 0 {
			return i - 8 + (63-bits.LeadingZeros64(z))>>3
		}
	}
	return bytes.LastIndexByte(s[:i], '\n')
}
