package rules

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// The rule ids of findings.
const (
	// RuleAPIKey is a JWS whose claims carry the THIRD_PARTY_OPERATION scope:
	// a Lofty API key.
	RuleAPIKey = "lofty-api-key"
	// RuleUnconfirmed is a JWS without that scope that sits in a Lofty
	// context (a Lofty name on its line, or "Authorization: token").
	RuleUnconfirmed = "lofty-unconfirmed-token"
)

// Config holds what decides a finding. The zero value uses the defaults.
type Config struct {
	// Now is the time against which expiry is judged; zero means time.Now().
	Now time.Time
	// Scopes are the scope values that confirm a Lofty key; empty means
	// THIRD_PARTY_OPERATION.
	Scopes []string
	// ContextNames are the names that put an unconfirmed JWS in a Lofty
	// context; empty means DefaultContextNames.
	ContextNames []string
	// NoUnconfirmed turns RuleUnconfirmed off: only scope-confirmed keys
	// are reported.
	NoUnconfirmed bool

	// fullJudge turns off the pre-judgement (see payloadMayHoldScope): the
	// tests' oracle, which decodes every JWS in full.
	fullJudge bool
}

// Match is a token the rules report.
type Match struct {
	Rule  string // RuleAPIKey or RuleUnconfirmed
	Token string // the full token: handle with care, print only on request
	// Start and End are the byte offsets of the token in the searched
	// buffer. For a key split across string literals ("eyJ..." + "...")
	// they bound the text from its first piece to its last, and Token is
	// the pieces joined.
	Start, End int
	Alg        string
	Subject    string    // the sub claim, when it is a string or number
	ExpiresAt  time.Time // zero when the key has no expiry
	Status     Status
}

// Confirmed reports whether the match is a scope-confirmed Lofty key.
func (m Match) Confirmed() bool { return m.Rule == RuleAPIKey }

// Find returns the Lofty keys and the Lofty-context tokens in buf, in order.
// A JWS that is neither is not reported: generic JWTs are everywhere and
// reporting them is noise. Bytes that are not a JWS are never an error.
func (c Config) Find(buf []byte) []Match {
	return c.FindWithContext(buf, false)
}

// FindWithContext is Find for text decoded from an enclosing encoding: when
// outerContext is true, the enclosing text already put it in a Lofty context
// (a Kubernetes Secret's LOFTY_API_KEY: <base64>, say).
func (c Config) FindWithContext(buf []byte, outerContext bool) []Match {
	var out []Match
	var room [512]byte // the payloads' decoding (a longer one is decoded apart)
	var d payloadSpan
	var m Match
	for i := 0; i < len(buf); {
		j := Index(buf[i:], prefix)
		if j < 0 {
			break
		}
		ok, next := c.findAt(buf, i+j, outerContext, room[:], &d, &m)
		if ok {
			out = append(out, m)
		}
		i = next
	}
	return out
}

// FindAt judges the candidate that the "eyJ" at buf[start:] begins, as
// FindWithContext does, for a caller that searches for "eyJ" itself (among
// other forms: see Searcher). It returns the match, whether there is one,
// and the offset before which no other "eyJ" needs judging.
//
// When the candidate's text ends at the close of a string literal that
// the source code continues with another ("eyJ..." + "..."), the pieces
// are joined and judged as one token first (see joiner).
func (c Config) FindAt(buf []byte, start int, outerContext bool) (Match, bool, int) {
	var room [512]byte
	var d payloadSpan
	var m Match
	ok, next := c.findAt(buf, start, outerContext, room[:], &d, &m)
	return m, ok, next
}

// Payload is the decoded payload of a candidate that FindAtPayload
// pre-judged, kept for a caller that would otherwise decode it again: the
// scanner searches every run of base64 for keys nested in it, and a JWT's
// payload is such a run.
type Payload struct {
	// Start and End bound the payload's base64url text in the buffer
	// searched, its '=' padding left out; End is 0 when FindAtPayload
	// decoded no payload of a candidate written whole in the buffer (none
	// there, joined from pieces, judged in an outer context, or 4n+1
	// characters long, which do not decode).
	Start, End int
	// Text is what the base64url text decodes to: the bytes a decoder of
	// either alphabet that reads whole quanta, then the bytes of the last
	// cut one, makes of it. Its array is reused by the next call.
	Text []byte
}

// FindAtPayload is FindAt that, when p is not nil, leaves in p the decoded
// payload of the candidate the pre-judgement read (see Payload). The match,
// when there is one, is left in *m, which is otherwise left as it was: the
// scanner calls it for every "eyJ", most are turned down, and a Match (and
// a Config) passed by value was copied at each call, 5% of the time of a
// scan of text dense with JWTs.
func (c *Config) FindAtPayload(buf []byte, start int, outerContext bool, p *Payload, m *Match) (bool, int) {
	if p == nil {
		var room [512]byte
		var d payloadSpan
		return c.findAt(buf, start, outerContext, room[:], &d, m)
	}
	if cap(p.Text) < maxPayload {
		p.Text = make([]byte, 0, maxPayload)
	}
	var d payloadSpan
	found, next := c.findAt(buf, start, outerContext, p.Text[:cap(p.Text)], &d, m)
	p.End = 0
	if d.seen && d.ok {
		p.Start, p.End, p.Text = d.start, d.end, p.Text[:d.n]
	}
	return found, next
}

// maxPayload is room for the decoded payload of the longest token.
const maxPayload = MaxTokenLen*3/4 + 3

// findAt is FindAt with the candidate's payload decoded into room as it is
// read, for the pre-judgement, when it is to be made. d.seen says, after,
// whether the candidate written whole in buf was pre-judged with its
// payload decoded into room.
func (c *Config) findAt(buf []byte, start int, outerContext bool, room []byte, d *payloadSpan, m *Match) (bool, int) {
	d.seen = false
	if c.fullJudge || outerContext {
		d = nil
	}
	cand, next, stop, ok := readCandidateDecoding(buf, start, room, d)
	if mayContinue(buf, start, stop, ok) {
		found, joinedNext := c.findJoined(buf, start, stop, outerContext, m)
		next = max(next, joinedNext)
		if found {
			if d != nil {
				d.seen = false
			}
			return true, next
		}
	}
	var dp decodedPayload
	if d != nil && d.seen {
		dp = decodedPayload{text: room[:d.n], ok: d.ok, has: true}
	}
	if !ok {
		if d != nil {
			d.seen = false
		}
		if cand.End == 0 {
			return false, next
		}
		// A fourth segment follows: a key glued to a dot and more text
		// (/cache/<key>.json, <key>.txt), or the first of two keys glued
		// together (the second's header runs on from the first's
		// signature). The first three segments are judged as a JWS, its
		// signature cut at its alg's length; the rest is text.
		if c.judgeCandidate(buf, buf, cand, nil, outerContext, dp, m, true) {
			return true, max(next, m.End)
		}
		return false, next
	}
	return c.judgeCandidate(buf, buf, cand, nil, outerContext, dp, m, false), next
}

// decodedPayload is a candidate's payload decoded while it was read, when
// has is true.
type decodedPayload struct {
	text []byte
	ok   bool // it decodes: when not, text is empty
	has  bool
}

// findJoined judges the token that the pieces of string literals joined
// from buf[start:] make, the first piece ending at buf[stop]. It returns
// whether there is a match (left in *m), and the offset in buf before which
// no other "eyJ" needs judging: as in one text, every "eyJ" in the joined
// header's run, or in the joined token, would end where this one does.
func (c *Config) findJoined(buf []byte, start, stop int, outerContext bool, m *Match) (bool, int) {
	var j joiner
	if !j.begin(buf, start, stop, c.Scopes) {
		return false, 0
	}
	// Read as much of the joined text as the candidate needs: a reading
	// that reaches the end of what is joined so far asks for twice as
	// much, so the work is linear in what the candidate reads.
	want := stop - start + 16
	var (
		cand     Candidate
		next, at int
		found    bool
	)
	for {
		j.fill(want)
		cand, next, at, found = readCandidate(j.text, 0)
		if j.done || at+2 <= len(j.text) {
			break
		}
		want *= 2
	}
	if j.endAtWholeSignature() {
		cand, next, _, found = readCandidate(j.text, 0)
	}
	next = j.sourceEnd(next)
	reported, was := false, *m
	if j.wrap != nil && !wrappedMayReport(j.text, cand, c.Scopes) {
		return false, next
	}
	if !found {
		// A fourth segment: judged as in findAt.
		reported = cand.End > 0 && c.judgeCandidate(buf, j.text, cand, &j, outerContext, decodedPayload{}, m, true)
		if reported {
			next = max(next, m.End)
		}
	} else {
		reported = c.judgeCandidate(buf, j.text, cand, &j, outerContext, decodedPayload{}, m, false)
	}
	if reported && j.wrap != nil && (!wholeWrapped(*m) || m.End != j.sourceEnd(cand.End)) {
		*m, reported = was, false
	}
	return reported, next
}

// wrappedMayReport reports whether cand, a candidate of text joined across
// hard-wrapped lines, may pass wholeWrapped, without the full judgement:
// it has two dots, a signature as long as its header's alg makes them (the
// header from its first "eyJ" or its last, as lastPrefix reads it), and a
// payload that decodes and may hold one of scopes. Most such joins are of
// text that is no key, which the full judgement would decode in vain.
func wrappedMayReport(text []byte, cand Candidate, scopes []string) bool {
	tok := text[cand.Start:cand.End]
	if bytes.Count(tok, []byte{'.'}) != 2 {
		return false
	}
	d1, d2 := bytes.IndexByte(tok, '.'), bytes.LastIndexByte(tok, '.')
	n := len(tok) - d2 - 1
	if !exactSignature(headerAlg(tok[:d1]), n) {
		last := bytes.LastIndex(tok[1:d1], prefix)
		if last < 0 || !exactSignature(headerAlg(tok[1+last:d1]), n) {
			return false
		}
	}
	var room [512]byte
	payload, ok := decodePayload(tok, room[:0])
	return ok && payloadHolds(payload, scopes)
}

// exactSignature reports whether n base64url characters are as long as a
// signature alg makes.
func exactSignature(alg string, n int) bool {
	for _, l := range sigLengths[alg] {
		if n == base64.RawURLEncoding.EncodedLen(l) {
			return true
		}
	}
	return false
}

// wholeWrapped reports whether m, a token joined across hard-wrapped
// lines, may be reported: it is a confirmed key whose signature is as long
// as its alg makes them. Only the lines' width joined it, so a generic
// JWT, a signature cut short (a truncated key, then a word on the next
// line) or one of another alg's length (then a hash) is no sign the lines
// go together; nor is a signature cut back to
// its alg's length, which findJoined turns down too (a truncated key, then
// a line that starts with a name or a hash: the key's text would end in
// the middle of them).
func wholeWrapped(m Match) bool {
	if !m.Confirmed() || strings.Count(m.Token, ".") != 2 {
		return false
	}
	return exactSignature(m.Alg, len(m.Token)-strings.LastIndexByte(m.Token, '.')-1)
}

// judgeCandidate judges cand, a candidate of text, and when it is not
// reported the candidate at the last "eyJ" of its header. text is buf, or
// the text j joined from buf. dec, when not nil, is the candidate's payload
// decoded (both candidates have the same). The match, when there is one, is
// left in *m: most candidates are turned down, and a Match returned through
// each call would be copied, empty, at each. dotted says a fourth segment
// follows cand (see judgeDotted).
func (c *Config) judgeCandidate(buf, text []byte, cand Candidate, j *joiner, outerContext bool, dec decodedPayload, m *Match, dotted bool) bool {
	if dotted {
		return c.judgeDotted(buf, text, cand, j, outerContext, dec, m)
	}
	t := tokenIn(text, cand, j)
	if !hasHS256Signature(text, cand) {
		t = tokenIn(text, wholeSignature(text, cand), j)
	}
	t.payload = dec
	if c.judge(buf, t, outerContext, m) {
		return true
	}
	if alt, found := lastPrefix(text, cand); found {
		t := tokenIn(text, wholeSignature(text, alt), j)
		t.payload = dec
		return c.judge(buf, t, outerContext, m)
	}
	return false
}

// judgeDotted is judgeCandidate of the first three segments of a longer
// dotted text, and when they are not reported of those from the last "eyJ"
// of the header. Most such text is no JWS (a JWE, a name, a hostile run of
// "eyJa.b.eyJa.b..."), so it is turned down before the full judgement
// unless its payload decodes and its header is a JWS's: JSON naming an alg
// and no "enc" (a JWE's header names both: five segments, whose second, an
// encrypted key, is never a claims set, but need not be said to be).
func (c *Config) judgeDotted(buf, text []byte, cand Candidate, j *joiner, outerContext bool, dec decodedPayload, m *Match) bool {
	if dec.has && !dec.ok || bytes.IndexByte(text[cand.Start:cand.End], '.') < minHeaderLen {
		return false // (the header from the last "eyJ" is shorter still)
	}
	if c.judgeDottedAt(buf, text, cand, j, outerContext, dec, m) {
		return true
	}
	if alt, found := lastPrefix(text, cand); found {
		return c.judgeDottedAt(buf, text, alt, j, outerContext, dec, m)
	}
	return false
}

// judgeDottedAt is judgeDotted of one candidate. Its signature is cut at
// its alg's length in every case: the shortcut of wholeSignature, which
// keeps a signature as long as some alg makes, is no help here, where the
// signature runs into the text after it (the next key's header, "json")
// and the candidate's end says nothing. A signature shorter than its alg's
// is no key's: a dotted name that starts like a header
// (eyJhbGciOiJIUzI1NiJ9.e30.c2ln.json) is not reported. Only a key whose
// scope is confirmed is: the text may be read from a later "eyJ" too
// ("h1.h2.payload.sig", a header before a key), and a generic JWT read
// from the first would hide the key read from the second, in a Lofty
// context only (FuzzFind: Find must report a subset of FindWithContext).
func (c *Config) judgeDottedAt(buf, text []byte, cand Candidate, j *joiner, outerContext bool, dec decodedPayload, m *Match) bool {
	tok := text[cand.Start:cand.End]
	alg, ok := jwsAlg(tok[:bytes.IndexByte(tok, '.')])
	if !ok {
		return false
	}
	cut, ok := algSignature(text, cand, alg)
	if !ok {
		return false
	}
	t := tokenIn(text, cut, j)
	t.payload = dec
	was := *m
	if !c.judge(buf, t, outerContext, m) {
		return false
	}
	if m.Rule != RuleAPIKey {
		*m = was
		return false
	}
	return true
}

// jwsAlg returns the alg a JWS header segment names, and whether it is
// one: its base64url decodes to a JSON object with a non-empty string
// "alg" and no "enc". Shorter than the shortest such header
// ({"alg":"X"}) or not ending in '}', the segment is turned down without
// a JSON decode: the junk of hostile runs ("eyJ.eyJ.eyJ.eyJ...") costs a
// comparison or a decode of a few bytes.
func jwsAlg(seg []byte) (string, bool) {
	seg = trimPadding(seg)
	if len(seg) < minHeaderLen {
		return "", false
	}
	dst := make([]byte, base64.RawURLEncoding.DecodedLen(len(seg)))
	n, err := decodeRawURL(dst, seg)
	if hdr := bytes.TrimRight(dst[:n], " \t\r\n"); err != nil || len(hdr) == 0 || hdr[len(hdr)-1] != '}' {
		return "", false
	}
	var h struct {
		Alg string          `json:"alg"`
		Enc json.RawMessage `json:"enc"`
	}
	if json.Unmarshal(dst[:n], &h) != nil || h.Alg == "" || h.Enc != nil {
		return "", false
	}
	return h.Alg, true
}

// minHeaderLen is the length of the shortest JWS header, {"alg":"X"}, in
// base64url.
var minHeaderLen = base64.RawURLEncoding.EncodedLen(len(`{"alg":"X"}`))

// trimPadding returns seg without the '=' at its end.
func trimPadding(seg []byte) []byte {
	for len(seg) > 0 && seg[len(seg)-1] == '=' {
		seg = seg[:len(seg)-1]
	}
	return seg
}

// wholeSignature returns cand ending where its signature is as long as its
// header's alg makes signatures, when more follows in the candidate: a key
// glued to the bytes after it is read as one run with them. In binary files
// that is the common case, not the odd one: Python's marshal writes None
// ('N') after a .pyc's last constant, Java's serialization starts every
// string with 't' and null with 'p', a SQLite row puts its next column's
// text right after the key, a protobuf field's tag can be a letter or a
// digit. Read with them, the key was reported as a token that is not the
// key (another fingerprint, and a live check that calls it invalid), or not
// at all when they made the signature undecodable. '=' padding after a
// whole signature goes too: a JWS is never padded, and the key keeps one
// fingerprint wherever it is written. A signature of a length some alg
// makes is left as it is without decoding the header, the only case a JWT
// library writes, unless the header is one of commonHeaders (Lofty's
// among them) and names an alg of other lengths: a key glued to 21 or 43
// more characters (a nanoid, a SHA-256 in base64url: a SQLite row's next
// column), as long as an HS384 or HS512 signature, is cut at HS256's. That
// is known from the candidate's end and a lookup: the common case costs a
// few comparisons.
func wholeSignature(text []byte, cand Candidate) Candidate {
	if hasHS256Signature(text, cand) {
		return cand
	}
	tok := text[cand.Start:cand.End]
	header := tok[:bytes.IndexByte(tok, '.')]
	for _, e := range sigEncodedLengths[1:] {
		if e < len(tok) && tok[len(tok)-1-e] == '.' {
			if alg, ok := commonHeaders[string(header)]; ok && !exactSignature(alg, e) {
				break // a common header names an alg of other lengths: cut below
			}
			return cand // (or a payload and signature e long together, left as they were)
		}
	}
	cut, _ := algSignature(text, cand, headerAlg(header))
	return cut
}

// algSignature returns cand ending where its signature is as long as alg
// makes signatures (the longest that fits), and true; or cand as it is,
// and whether alg is one whose lengths are not known (the whole signature
// is then taken as it is).
func algSignature(text []byte, cand Candidate, alg string) (Candidate, bool) {
	tok := text[cand.Start:cand.End]
	dot := bytes.LastIndexByte(tok, '.')
	chars := len(trimPadding(tok[dot+1:]))
	cut := 0
	lengths := sigLengths[alg]
	for _, l := range lengths {
		if e := base64.RawURLEncoding.EncodedLen(l); e <= chars && e > cut {
			cut = e
		}
	}
	if cut > 0 {
		cand.End = cand.Start + dot + 1 + cut
	}
	return cand, cut > 0 || len(lengths) == 0
}

// hasHS256Signature reports whether cand ends in a signature as long as
// HS256's, as Lofty's keys and most JWTs do: the test judgeCandidate makes
// inline before it calls wholeSignature.
func hasHS256Signature(text []byte, cand Candidate) bool {
	d := cand.End - hs256Sig - 1
	return d > cand.Start && text[d] == '.'
}

// hs256Sig is the length of an HS256 signature in base64url.
const hs256Sig = 43

// sigEncodedLengths are the lengths of the signatures the algs of
// sigLengths make, written in base64url without padding, HS256's
// (hs256Sig) first.
var sigEncodedLengths = func() []int {
	out := []int{base64.RawURLEncoding.EncodedLen(sigLengths["HS256"][0])}
	for _, ls := range sigLengths {
		for _, l := range ls {
			if e := base64.RawURLEncoding.EncodedLen(l); !slices.Contains(out, e) {
				out = append(out, e)
			}
		}
	}
	return out
}()

// writtenToken is what judge is given: a token's text, and the bounds of
// the text that holds it in the searched buffer (the same bytes, unless it
// was joined from pieces).
type writtenToken struct {
	text       []byte
	start, end int
	payload    decodedPayload // its payload, when decoded already
}

// tokenIn returns the token cand of text: of buf itself, or of the text j
// joined from buf.
func tokenIn(text []byte, cand Candidate, j *joiner) writtenToken {
	if j == nil {
		return writtenToken{text: text[cand.Start:cand.End], start: cand.Start, end: cand.End}
	}
	return writtenToken{text: text[cand.Start:cand.End], start: j.source(cand.Start), end: j.sourceEnd(cand.End)}
}

// lastPrefix returns the candidate that starts at the last "eyJ" of cand's
// header, when there is one after its first. A candidate starts at the
// first "eyJ" of its base64url run, so a key glued to base64url text that
// holds "eyJ" ("eyJ" + key, or the bytes a decoder joined to it from the
// line before) would be one candidate that does not parse, and the key
// would be missed. Only the last is tried, not every one, so that a header
// of "eyJeyJeyJ..." costs two parses, not thousands; a Lofty key's header,
// {"alg":"HS256"}, holds no "eyJ" after its first.
func lastPrefix(buf []byte, cand Candidate) (Candidate, bool) {
	hdr := buf[cand.Start+1 : cand.End]
	if i := bytes.IndexByte(hdr, '.'); i >= 0 {
		hdr = hdr[:i]
	}
	if bytes.Index(hdr, prefix) < 0 { // the common case, and a faster search
		return Candidate{}, false
	}
	i := bytes.LastIndex(hdr, prefix)
	return Candidate{cand.Start + 1 + i, cand.End}, true
}

// judge decides whether a token written in buf is reported, and how. A
// token whose payload cannot hold a scope value and that has no Lofty
// context is turned down without decoding its JSON; the rest are decoded
// in full. The match is left in *m.
func (c *Config) judge(buf []byte, t writtenToken, outerContext bool, m *Match) bool {
	if !c.fullJudge && !outerContext && !c.prejudge(t) &&
		!HasLoftyContext(buf, t.start, t.end, c.ContextNames) {
		return false
	}
	found, ok := c.judgeFull(buf, t, outerContext)
	if ok {
		*m = found
	}
	return ok
}

// prejudge is payloadMayHoldScope of t, of the payload decoded already
// when there is one.
func (c *Config) prejudge(t writtenToken) bool {
	if d := t.payload; d.has {
		return !d.ok || payloadHolds(d.text, c.Scopes) // one that does not decode: see payloadMayHoldScope
	}
	return payloadMayHoldScope(t.text, c.Scopes)
}

// judgeFull is judge by decoding the JWS: the header, the claims' JSON, the
// signature's base64url.
func (c *Config) judgeFull(buf []byte, t writtenToken, outerContext bool) (Match, bool) {
	raw := string(t.text)
	tok, err := ParseToken(raw)
	if err != nil {
		return Match{}, false
	}
	rule := RuleAPIKey
	if !HasScope(tok.Claims, c.Scopes...) {
		if c.NoUnconfirmed {
			return Match{}, false
		}
		if !outerContext && !HasLoftyContext(buf, t.start, t.end, c.ContextNames) {
			return Match{}, false
		}
		rule = RuleUnconfirmed
	}
	now := c.Now
	if now.IsZero() {
		now = time.Now()
	}
	exp, hasExp := ReadExpiry(tok.Claims)
	m := Match{
		Rule:    rule,
		Token:   raw,
		Start:   t.start,
		End:     t.end,
		Alg:     tok.Alg(),
		Subject: subject(tok.Claims),
		Status:  StatusAt(exp, hasExp, now),
	}
	if hasExp {
		m.ExpiresAt = exp
	}
	return m, true
}

func subject(claims map[string]any) string {
	switch v := claims["sub"].(type) {
	case string:
		return v
	case float64:
		return formatNumber(v)
	}
	return ""
}
