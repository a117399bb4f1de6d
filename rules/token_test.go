package rules

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// scopePayload is a claims set that would confirm a key, so that in the
// tables below only the token's shape decides.
var scopePayload = `{"sub":"agent-1","scope":"` + Scope + `"}`

// lenMod4Is1 pads a base64url segment to a length no base64 text has.
func lenMod4Is1(seg string) string {
	for len(seg)%4 != 1 {
		seg += "A"
	}
	return seg
}

// notKeys are strings that look like tokens and are not a compact JWS. Each
// is put in a Lofty context and carries the scope where it has a payload, so
// nothing but its shape keeps it from being reported.
func notKeys() []struct{ name, tok string } {
	h, p := b64(`{"alg":"HS256"}`), b64(scopePayload)
	return []struct{ name, tok string }{
		{"placeholder with dots", "eyJhbGciOiJIUzI1NiJ9..."},
		{"truncated payload", "eyJhbGciOiJIUzI1NiJ9.eyJ..."},
		{"truncated, two segments", h + "." + p},
		{"two segments and a dot", h + "." + p + "."},
		{"empty signature", h + "." + p + "."},
		{"unsigned alg none", b64(`{"alg":"none"}`) + "." + p + "."},
		{"empty payload", h + ".." + fakeSig},
		{"header length 1 mod 4", lenMod4Is1(h) + "." + p + "." + fakeSig},
		{"payload length 1 mod 4", h + "." + lenMod4Is1(p) + "." + fakeSig},
		// shorter than an HS256 signature: a whole one followed by more
		// characters is a key glued to text (TestFindGluedAfter)
		{"signature length 1 mod 4", h + "." + p + "." + lenMod4Is1(fakeSig[:30])},
		{"unknown alg, signature length 1 mod 4", b64(`{"alg":"XYZ"}`) + "." + p + "." + lenMod4Is1(fakeSig)},
		{"! in header", h[:8] + "!" + h[8:] + "." + p + "." + fakeSig},
		{"! in payload", h + "." + p[:10] + "!" + p[10:] + "." + fakeSig},
		{"payload not JSON", rawJWS(`{"alg":"HS256"}`, "THIRD_PARTY_OPERATION", fakeSig)},
		{"payload JSON array", rawJWS(`{"alg":"HS256"}`, `[{"scope":"`+Scope+`"}]`, fakeSig)},
		{"payload JSON string", rawJWS(`{"alg":"HS256"}`, `"`+Scope+`"`, fakeSig)},
		{"payload JSON null", rawJWS(`{"alg":"HS256"}`, `null`, fakeSig)},
		{"payload JSON number", rawJWS(`{"alg":"HS256"}`, `42`, fakeSig)},
		{"payload truncated JSON", rawJWS(`{"alg":"HS256"}`, scopePayload[:len(scopePayload)-2], fakeSig)},
		{"header without alg", rawJWS(`{"typ":"JWT"}`, scopePayload, fakeSig)},
		{"header with empty alg", rawJWS(`{"alg":""}`, scopePayload, fakeSig)},
		{"header with numeric alg", rawJWS(`{"alg":256}`, scopePayload, fakeSig)},
		{"header not JSON", rawJWS(`{"alg" HS256`, scopePayload, fakeSig)},
		{"header JSON null", rawJWS(`null`, scopePayload, fakeSig)},
		{"five-part JWE", b64(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + "." + b64("xxxx") + "." + b64("yyyy") + "." + b64("zzzz") + "." + b64("wwww")},
		{"five-part JWE, literal", "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.xxxx.yyyy.zzzz.wwww"},
		// Four segments or more: the first three are judged as a JWS (a key
		// glued to ".json": TestFindGluedDot), and these are none.
		{"four segments, header without alg", rawJWS(`{"typ":"JWT"}`, scopePayload, fakeSig) + "." + fakeSig},
		{"four segments, signature length 1 mod 4", h + "." + p + "." + lenMod4Is1(fakeSig[:30]) + "." + fakeSig},
		{"five-part JWE whose encrypted key is a claims set", b64(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + "." + p + "." + fakeSig + "." + b64("zzzz") + "." + b64("wwww")},
		{"four segments, JWE header", b64(`{"alg":"dir","enc":"A128GCM","zip":"DEF"}`) + "." + p + "." + fakeSig + "." + fakeSig},
		{"bare scope word", Scope},
	}
}

func TestFindNotKeys(t *testing.T) {
	t.Parallel()
	for _, tt := range notKeys() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, line := range []string{
				"LOFTY_API_KEY=" + tt.tok + "\n",
				`{"Authorization": "token ` + tt.tok + `"}`,
				tt.tok,
			} {
				if got := cfg.Find([]byte(line)); len(got) != 0 {
					t.Errorf("reported %s", describe(got))
				}
				if got := cfg.FindWithContext([]byte(line), true); len(got) != 0 {
					t.Errorf("with outer context, reported %s", describe(got))
				}
			}
		})
	}
}

func TestParseTokenErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range notKeys() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseToken(tt.tok)
			if !errors.Is(err, ErrNotJWS) {
				t.Fatalf("err = %v, want ErrNotJWS", err)
			}
			msg := err.Error()
			if strings.Contains(msg, tt.tok) {
				t.Errorf("error %q contains the token", msg)
			}
			for _, seg := range strings.Split(tt.tok, ".") {
				if len(seg) >= 8 && strings.Contains(msg, seg) {
					t.Errorf("error %q contains a segment of the token", msg)
				}
			}
		})
	}
}

func TestParseToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		tok     string
		alg     string
		wantSub any
	}{
		{"lofty shape", key(nil), "HS256", "agent-1"},
		{"typ and kid", signHeader(t, map[string]any{"typ": "JWT", "kid": "k1"}, map[string]any{"sub": "s"}), "HS256", "s"},
		{"unknown alg", rawJWS(`{"alg":"XYZ"}`, scopePayload, fakeSig), "XYZ", "agent-1"},
		{"RS256 with a fake signature", rawJWS(`{"alg":"RS256","kid":"abc"}`, scopePayload, b64(strings.Repeat("\x01", 256))), "RS256", "agent-1"},
		{"header with spaces", rawJWS(`{"alg" : "HS256" }`, scopePayload, fakeSig), "HS256", "agent-1"},
		{"empty claims", rawJWS(`{"alg":"HS256"}`, `{}`, fakeSig), "HS256", nil},
		{"padded segments", b64(`{"alg":"HS256"}`) + "." + b64(`{"sub":"a"}`) + "=." + fakeSig + "=", "HS256", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, err := ParseToken(tt.tok)
			if err != nil {
				t.Fatalf("ParseToken: %v", err)
			}
			if tok.Raw != tt.tok {
				t.Error("Raw is not the input")
			}
			if tok.Alg() != tt.alg {
				t.Errorf("Alg() = %q, want %q", tok.Alg(), tt.alg)
			}
			if tok.Claims == nil {
				t.Fatal("nil claims")
			}
			if got := tok.Claims["sub"]; got != tt.wantSub {
				t.Errorf("sub = %v, want %v", got, tt.wantSub)
			}
		})
	}
}

// TestFindUnknownAlg: an alg golang-jwt does not implement is still a JWS,
// and with the scope it is a key.
func TestFindUnknownAlg(t *testing.T) {
	t.Parallel()
	tok := rawJWS(`{"alg":"XYZ"}`, `{"sub":7,"scope":"`+Scope+`"}`, fakeSig)
	d := new(doc).text("x ").tok(tok).text(" y")
	got := cfg.Find(d.buf)
	checkMatches(t, d, got, want{RuleAPIKey, StatusNoExpiry, time.Time{}})
	if got[0].Alg != "XYZ" || got[0].Subject != "7" {
		t.Errorf("Alg %q Subject %q, want XYZ and 7", got[0].Alg, got[0].Subject)
	}
}
