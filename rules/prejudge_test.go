package rules

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
)

// oracle is cfg with the pre-judgement off: every JWS decoded in full.
var oracle = Config{Now: now, fullJudge: true}

// sameMatches fails unless got and want are the same matches.
func sameMatches(t *testing.T, what string, got, want []Match) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: pre-judged %s, full judgement %s", what, describe(got), describe(want))
	}
}

// TestPrejudgeEscapes: a scope value spelt with JSON escapes, whole or in
// part, is a scope value; the pre-judgement must not turn it down, and
// must agree with the full judgement whatever the payload.
func TestPrejudgeEscapes(t *testing.T) {
	t.Parallel()
	const S = Scope
	tests := []struct {
		name, payload string
		scopes        []string
		want          bool // carries a scope value
	}{
		{"plain", `{"scope":"` + S + `"}`, nil, true},
		{"first letter escaped", `{"scope":"\u0054HIRD_PARTY_OPERATION"}`, nil, true},
		{"split across an escape", `{"scope":"THIRD\u005fPARTY_OPERATION"}`, nil, true},
		{"every letter escaped", `{"scope":"` + escapeAll(S) + `"}`, nil, true},
		{"upper-case hex", `{"scope":"THIRD\u005FPARTY_OPERATION"}`, nil, true},
		{"after an escaped slash", `{"iss":"https:\/\/x","scope":"read ` + S + `"}`, nil, true},
		{"after a newline escape", `{"scope":"read\n` + S + `"}`, nil, true},
		{"separated by an escaped tab", `{"scope":"a\t` + S + `"}`, nil, true},
		{"escaped quote before", `{"note":"\"","scope":"` + S + `"}`, nil, true},
		{"escaped backslash then u", `{"scope":"\\u0054HIRD_PARTY_OPERATION"}`, nil, false},
		{"in an array", `{"scopes":["x","` + S + `"]}`, nil, true},
		{"nested", `{"a":{"b":[{"c":"` + S + `"}]}}`, nil, true},
		{"key only", `{"` + S + `":true}`, nil, false},
		{"escaped key only", `{"\u0054HIRD_PARTY_OPERATION":1}`, nil, false},
		{"lower case", `{"scope":"third_party_operation"}`, nil, false},
		{"none", `{"sub":"user-1","role":"anon"}`, nil, false},
		{"escapes, no scope", `{"iss":"https:\/\/example.com\/","name":"\u00e9"}`, nil, false},
		{"custom scope", `{"scope":"read ADMIN"}`, []string{"ADMIN"}, true},
		{"custom scope escaped", `{"scope":"read \u0041DMIN"}`, []string{"ADMIN"}, true},
		{"non-ASCII scope", `{"scope":"ÉCRIRE"}`, []string{"ÉCRIRE"}, true},
		{"non-ASCII scope escaped", `{"scope":"\u00c9CRIRE"}`, []string{"ÉCRIRE"}, true},
		{"astral scope as a surrogate pair", `{"scope":"\ud83d\ude00go"}`, []string{"😀go"}, true},
		{"lone surrogate", `{"scope":"\ud83dgo"}`, []string{"😀go"}, false},
		{"replacement character scope", `{"scope":"\ud83dgo"}`, []string{"\uFFFDgo"}, true},
		{"scope with a quote", `{"scope":"a\"b"}`, []string{`a"b`}, true},
		{"scope with a backslash", `{"scope":"a\\b"}`, []string{`a\b`}, true},
		{"empty scope", `{"scope":""}`, []string{""}, false},
		{"invalid JSON", `{"scope":"` + S + `"`, nil, false},
		{"JSON null", `null`, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok := rawJWS(`{"alg":"HS256"}`, tt.payload, fakeSig)
			for _, line := range []string{"%s\n", "LOFTY_TOKEN=%s\n", "x = \"%s\" # chime_token\n"} {
				buf := []byte(strings.Replace(line, "%s", tok, 1))
				for _, outer := range []bool{false, true} {
					c, o := cfg, oracle
					c.Scopes, o.Scopes = tt.scopes, tt.scopes
					got, want := c.FindWithContext(buf, outer), o.FindWithContext(buf, outer)
					sameMatches(t, line, got, want)
				}
			}
			c := Config{Now: now, Scopes: tt.scopes}
			got := c.Find([]byte(tok))
			if (len(got) == 1 && got[0].Rule == RuleAPIKey) != tt.want {
				t.Fatalf("reported %s, want a key: %v", describe(got), tt.want)
			}
			if tt.want && !payloadMayHoldScope([]byte(tok), tt.scopes) {
				t.Fatal("the pre-judgement turned down a token with a scope value")
			}
		})
	}
}

// escapeAll writes every character of s as a \u escape.
func escapeAll(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteString(`\u00`)
		b.WriteByte("0123456789abcdef"[r>>4])
		b.WriteByte("0123456789abcdef"[r&15])
	}
	return b.String()
}

// TestPrejudgeTurnsDown: the pre-judgement does its job: a generic JWT
// with no scope text and no context is turned down before any JSON is
// decoded, one in a Lofty context or with the scope's text is not.
func TestPrejudgeTurnsDown(t *testing.T) {
	t.Parallel()
	for _, g := range genericJWTs(t) {
		if payloadMayHoldScope([]byte(g.tok), nil) {
			t.Errorf("%s: the pre-judgement would decode it", g.name)
		}
	}
	k := key(nil)
	if !payloadMayHoldScope([]byte(k), nil) {
		t.Error("a key turned down")
	}
	bad := rawJWS(`{"alg":"HS256"}`, `{}`, fakeSig)
	h, rest, _ := strings.Cut(bad, ".")
	if !payloadMayHoldScope([]byte(h+".!"+rest), nil) {
		t.Error("a payload that does not decode turned down: the full judgement must say why")
	}
}

// TestPrejudgeAllocs: turning a generic JWT down costs no allocation.
func TestPrejudgeAllocs(t *testing.T) {
	buf := genericHeavy()[:64<<10]
	if n := testing.AllocsPerRun(10, func() { cfg.Find(buf) }); n != 0 {
		t.Errorf("%v allocations to turn down generic JWTs", n)
	}
}

// FuzzPrejudge builds a token of an arbitrary payload and judges it with
// an arbitrary scope, alone and with context: the pre-judged and the full
// judgement must agree, and a token whose claims carry the scope must never
// be turned down.
func FuzzPrejudge(f *testing.F) {
	f.Add(`{"scope":"`+Scope+`"}`, "")
	f.Add(`{"scope":"\u0054HIRD_PARTY_OPERATION"}`, "")
	f.Add(`{"s":["\ud83d\ude00"]}`, "😀")
	f.Add(`{"s":"a\"b"}`, `a"b`)
	f.Add(`{"s":"x\/y"}`, `x/y`)
	f.Add(`{"s":"\ud800"}`, "\uFFFD")
	f.Add(`{"s":"\xff"}`, "\xff")
	f.Fuzz(func(t *testing.T, payload, scope string) {
		var scopes []string
		if scope != "" {
			scopes = []string{scope, Scope}
		}
		tok := rawJWS(`{"alg":"HS256"}`, payload, fakeSig)
		if len(tok) > MaxTokenLen {
			return
		}
		if parsed, err := ParseToken(tok); err == nil && HasScope(parsed.Claims, scopes...) &&
			!payloadMayHoldScope([]byte(tok), scopes) {
			t.Fatalf("the claims carry the scope, the pre-judgement turned them down")
		}
		for _, line := range []string{"%s", "lofty %s"} {
			buf := []byte(strings.Replace(line, "%s", tok, 1))
			c, o := Config{Now: now, Scopes: scopes}, Config{Now: now, Scopes: scopes, fullJudge: true}
			sameMatches(t, line, c.Find(buf), o.Find(buf))
		}
	})
}

// TestContainsAt: containsAt is bytes.Contains, whichever byte of the
// needle it jumps to first: every text of up to 7 bytes over a small
// alphabet against every needle of up to 3, at every anchor.
func TestContainsAt(t *testing.T) {
	t.Parallel()
	const alpha = "abY"
	var all func(n int) []string
	all = func(n int) []string {
		if n == 0 {
			return []string{""}
		}
		var out []string
		for _, s := range all(n - 1) {
			for _, c := range alpha {
				out = append(out, s+string(c))
			}
		}
		return out
	}
	var texts, needles []string
	for n := 0; n <= 7; n++ {
		texts = append(texts, all(n)...)
	}
	for n := 1; n <= 3; n++ {
		needles = append(needles, all(n)...)
	}
	for _, s := range texts {
		for _, sub := range needles {
			want := strings.Contains(s, sub)
			for k := range len(sub) {
				if got := containsAt([]byte(s), sub, k); got != want {
					t.Fatalf("containsAt(%q, %q, %d) = %v", s, sub, k, got)
				}
			}
		}
	}
	if containsAt([]byte(`{"scope":"THIRD_PARTY_OPERATIO"}`), Scope, anchorOf(Scope)) ||
		!containsAt([]byte(`{"scope":"`+Scope+`"}`), Scope, anchorOf(Scope)) {
		t.Error("the scope")
	}
}

// TestDecodeRawURL: decodeRawURL gives what base64.RawURLEncoding.Decode
// gives, bytes and error, for base64url of every length and for text it
// leaves to it: the other alphabet's characters, padding, line breaks, a
// last quantum of one character, other bytes, at every place.
func TestDecodeRawURL(t *testing.T) {
	t.Parallel()
	var inputs []string
	for n := range 40 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*73 + n*151)
		}
		enc := base64.RawURLEncoding.EncodeToString(b)
		inputs = append(inputs, enc)
		for i := range len(enc) {
			for _, c := range []byte{'+', '/', '=', '\n', '\r', '.', ' ', 0, 0xff} {
				inputs = append(inputs, enc[:i]+string([]byte{c})+enc[i+1:])
			}
		}
		inputs = append(inputs, enc+"A")
	}
	for _, in := range inputs {
		want := make([]byte, base64.RawURLEncoding.DecodedLen(len(in)))
		got := make([]byte, len(want))
		wn, werr := base64.RawURLEncoding.Decode(want, []byte(in))
		gn, gerr := decodeRawURL(got, []byte(in))
		if gn != wn || !bytes.Equal(got[:gn], want[:wn]) || (gerr == nil) != (werr == nil) {
			t.Fatalf("%q: %d bytes %x, %v; the standard library %d bytes %x, %v", in, gn, got[:gn], gerr, wn, want[:wn], werr)
		}
	}
}
