package rules

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// nest wraps v in depth objects: {"a":{"a":...v...}}.
func nest(v any, depth int) any {
	for range depth {
		v = map[string]any{"a": v}
	}
	return v
}

func TestHasScope(t *testing.T) {
	t.Parallel()
	const S = Scope
	tests := []struct {
		name   string
		claims map[string]any
		want   bool
	}{
		{"string claim", map[string]any{"scope": S}, true},
		{"any claim name", map[string]any{"perm": S}, true},
		{"array element", map[string]any{"scopes": []any{"read", S}}, true},
		{"space separated", map[string]any{"scope": "read " + S}, true},
		{"comma separated", map[string]any{"scope": "a," + S}, true},
		{"comma and space", map[string]any{"scope": "a, " + S + " ,b"}, true},
		{"tab and newline", map[string]any{"scope": "a\t" + S + "\nb"}, true},
		{"first item", map[string]any{"scope": S + " write"}, true},
		{"nested object", map[string]any{"meta": map[string]any{"auth": map[string]any{"scope": S}}}, true},
		{"array of objects", map[string]any{"grants": []any{
			map[string]any{"name": "x"},
			map[string]any{"scopes": []any{"read", S}},
		}}, true},
		{"array in array", map[string]any{"s": []any{[]any{[]any{S}}}}, true},
		{"separated string in nested array", map[string]any{"g": []any{map[string]any{"s": "x," + S}}}, true},
		{"depth 30", map[string]any{"root": nest(S, 30)}, true},
		{"JSON object in a string claim", map[string]any{"metadata": `{"scope":"` + S + `","userId":42}`}, true},
		{"JSON array in a string claim", map[string]any{"scopes": `["read","` + S + `"]`}, true},
		{"JSON in a string claim, escaped twice", map[string]any{"m": `"{\"scope\":\"` + S + `\"}"`}, true},
		{"key of a JSON object in a string claim", map[string]any{"metadata": `{"` + S + `":false}`}, false},
		{"JSON in a string claim, nested deep", map[string]any{"m": `{"a":{"b":[{"c":"x ` + S + `"}]}}`}, true},
		{"not JSON in a string claim", map[string]any{"m": `{scope: ` + S + `}`}, false},
		{"JSON in a string claim, longer word", map[string]any{"metadata": `{"scope":"` + S + `_READ"}`}, false},
		{"object key only", map[string]any{S: true}, false},
		{"nested object key only", map[string]any{"scopes": map[string]any{S: 1}}, false},
		{"plural", map[string]any{"scope": S + "S"}, false},
		{"prefixed", map[string]any{"scope": "X" + S}, false},
		{"lower case", map[string]any{"scope": strings.ToLower(S)}, false},
		{"other separator", map[string]any{"scope": S + ":read"}, false},
		{"in a sentence", map[string]any{"note": "needs " + S + "."}, false},
		{"number", map[string]any{"scope": 42}, false},
		{"empty", map[string]any{}, false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := HasScope(tt.claims); got != tt.want {
				t.Errorf("HasScope = %v, want %v", got, tt.want)
			}
			if tt.claims == nil {
				return
			}
			// The same through a signed token and Find, with no context.
			d := new(doc).text("x = ").tok(testtoken.Sign(tt.claims)).text("\n")
			got := cfg.Find(d.buf)
			if !tt.want {
				if len(got) != 0 {
					t.Fatalf("reported %s", describe(got))
				}
				return
			}
			checkMatches(t, d, got, want{RuleAPIKey, StatusNoExpiry, time.Time{}})
		})
	}
}

// TestHasScopeFromJSON decodes claims as ParseToken does (numbers as
// float64, arrays as []any), rather than trusting map literals.
func TestHasScopeFromJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		json string
		want bool
	}{
		{`{"scope":"THIRD_PARTY_OPERATION"}`, true},
		{`{"a":[{"b":[{"c":"x THIRD_PARTY_OPERATION"}]}]}`, true},
		{`{"a":{"THIRD_PARTY_OPERATION":"yes"}}`, false},
		{`{"a":"THIRD_PARTY_OPERATIONS"}`, false},
		{`{"a":"XTHIRD_PARTY_OPERATION"}`, false},
		{`{"a":["THIRD_PARTY_OPERATION_READ"]}`, false},
	}
	for _, tt := range tests {
		var claims map[string]any
		if err := json.Unmarshal([]byte(tt.json), &claims); err != nil {
			t.Fatal(err)
		}
		if got := HasScope(claims); got != tt.want {
			t.Errorf("HasScope(%s) = %v, want %v", tt.json, got, tt.want)
		}
	}
}

func TestHasScopeCustom(t *testing.T) {
	t.Parallel()
	claims := map[string]any{"scope": "read ADMIN"}
	if !HasScope(claims, "ADMIN") {
		t.Error("custom scope not found")
	}
	if HasScope(claims) {
		t.Error("default scope found in a claim without it")
	}
	tok := testtoken.Sign(claims)
	c := Config{Now: now, Scopes: []string{"OTHER", "ADMIN"}}
	d := new(doc).tok(tok)
	checkMatches(t, d, c.Find(d.buf), want{RuleAPIKey, StatusNoExpiry, time.Time{}})
	if got := (Config{Now: now, Scopes: []string{""}}).Find(d.buf); len(got) != 0 {
		t.Errorf("empty scope confirmed a token: %s", describe(got))
	}
}

// TestHasScopeDeep: a payload nested far deeper than any real one costs a
// bounded walk and no panic.
func TestHasScopeDeep(t *testing.T) {
	t.Parallel()
	payload := strings.Repeat(`{"a":`, 2000) + `"` + Scope + `"` + strings.Repeat(`}`, 2000)
	tok := rawJWS(`{"alg":"HS256"}`, payload, fakeSig)
	if len(tok) > MaxTokenLen {
		t.Fatalf("test bug: token of %d bytes", len(tok))
	}
	parsed, err := ParseToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	HasScope(parsed.Claims) // beyond maxDepth: either answer, but no panic
	ReadExpiry(parsed.Claims)
	cfg.Find([]byte("LOFTY_API_KEY=" + tok))
}
