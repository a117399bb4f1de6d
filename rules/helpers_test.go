package rules

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// now is the fixed time every expiry test judges against.
var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

var (
	past   = now.Add(-24 * time.Hour)
	future = now.Add(365 * 24 * time.Hour)
)

// cfg is the configuration of most tests: defaults, with a fixed clock.
var cfg = Config{Now: now}

// b64 is base64url without padding, as in a compact JWS.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// rawJWS joins a header and payload given as JSON text (or any text) with a
// signature given as base64url, without checking any of them.
func rawJWS(header, payload, sig string) string {
	return b64(header) + "." + b64(payload) + "." + sig
}

// fakeSig is 32 bytes of base64url: the length of an HS256 signature.
var fakeSig = b64(strings.Repeat("\x9f", 32))

// mustJSON encodes v; a test fixture that does not encode is a test bug.
func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// key signs claims that carry the Lofty scope, plus extra claims.
func key(extra map[string]any) string {
	c := map[string]any{"sub": "agent-1", "scope": Scope}
	for k, v := range extra {
		c[k] = v
	}
	return testtoken.Sign(c)
}

// signHeader signs claims with HS256 under the test secret, with the given
// extra header fields (typ, kid...).
func signHeader(t testing.TB, header map[string]any, claims map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims))
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString([]byte(testtoken.Secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// doc builds a buffer from text and tokens and remembers where each token
// went, so that tests can assert exact offsets.
type doc struct {
	buf   []byte
	spans [][2]int
}

func (d *doc) text(s string) *doc { d.buf = append(d.buf, s...); return d }

func (d *doc) tok(s string) *doc {
	d.spans = append(d.spans, [2]int{len(d.buf), len(d.buf) + len(s)})
	d.buf = append(d.buf, s...)
	return d
}

// want is the part of a Match a table states.
type want struct {
	rule   string
	status Status
	exp    time.Time // zero for none
}

// checkMatches asserts that got are exactly the tokens of d, in order, with
// the stated rule, status and expiry.
func checkMatches(t *testing.T, d *doc, got []Match, wants ...want) {
	t.Helper()
	if len(wants) != len(d.spans) {
		t.Fatalf("test bug: %d wants for %d tokens", len(wants), len(d.spans))
	}
	if len(got) != len(wants) {
		t.Fatalf("got %d matches, want %d: %s", len(got), len(wants), describe(got))
	}
	for i, m := range got {
		w, sp := wants[i], d.spans[i]
		if m.Start != sp[0] || m.End != sp[1] {
			t.Errorf("match %d at [%d:%d], want [%d:%d]", i, m.Start, m.End, sp[0], sp[1])
		}
		if m.Token != string(d.buf[sp[0]:sp[1]]) {
			t.Errorf("match %d: Token is not the token at its offsets", i)
		}
		if m.Rule != w.rule {
			t.Errorf("match %d: rule %q, want %q", i, m.Rule, w.rule)
		}
		if m.Status != w.status {
			t.Errorf("match %d: status %q, want %q", i, m.Status, w.status)
		}
		if !m.ExpiresAt.Equal(w.exp) {
			t.Errorf("match %d: ExpiresAt %v, want %v", i, m.ExpiresAt, w.exp)
		}
		if m.Confirmed() != (w.rule == RuleAPIKey) {
			t.Errorf("match %d: Confirmed() = %v for rule %q", i, m.Confirmed(), m.Rule)
		}
	}
}

// describe prints matches without their tokens.
func describe(ms []Match) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.Rule + "@" + itoa(m.Start) + "-" + itoa(m.End) + " ")
	}
	return b.String()
}

func itoa(i int) string { return formatNumber(float64(i)) }
