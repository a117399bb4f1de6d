package rules

import (
	"bytes"
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
	Rule       string // RuleAPIKey or RuleUnconfirmed
	Token      string // the full token: handle with care, print only on request
	Start, End int    // byte offsets of the token in the searched buffer
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
	for i := 0; i < len(buf); {
		j := Index(buf[i:], prefix)
		if j < 0 {
			break
		}
		m, ok, next := c.FindAt(buf, i+j, outerContext)
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
func (c Config) FindAt(buf []byte, start int, outerContext bool) (Match, bool, int) {
	cand, next, ok := candidateAt(buf, start)
	if !ok {
		return Match{}, false, next
	}
	m, ok := c.judge(buf, cand, outerContext)
	if !ok {
		if alt, found := lastPrefix(buf, cand); found {
			m, ok = c.judge(buf, alt, outerContext)
		}
	}
	return m, ok, next
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
	i := bytes.LastIndex(hdr, prefix)
	if i < 0 {
		return Candidate{}, false
	}
	return Candidate{cand.Start + 1 + i, cand.End}, true
}

// judge decides whether one candidate in buf is reported, and how. A
// candidate whose payload cannot hold a scope value and that has no Lofty
// context is turned down without decoding its JSON; the rest are decoded
// in full.
func (c Config) judge(buf []byte, cand Candidate, outerContext bool) (Match, bool) {
	if !c.fullJudge && !outerContext && !payloadMayHoldScope(buf[cand.Start:cand.End], c.Scopes) &&
		!HasLoftyContext(buf, cand.Start, cand.End, c.ContextNames) {
		return Match{}, false
	}
	return c.judgeFull(buf, cand, outerContext)
}

// judgeFull is judge by decoding the JWS: the header, the claims' JSON, the
// signature's base64url.
func (c Config) judgeFull(buf []byte, cand Candidate, outerContext bool) (Match, bool) {
	raw := string(buf[cand.Start:cand.End])
	tok, err := ParseToken(raw)
	if err != nil {
		return Match{}, false
	}
	rule := RuleAPIKey
	if !HasScope(tok.Claims, c.Scopes...) {
		if c.NoUnconfirmed {
			return Match{}, false
		}
		if !outerContext && !HasLoftyContext(buf, cand.Start, cand.End, c.ContextNames) {
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
		Start:   cand.Start,
		End:     cand.End,
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
