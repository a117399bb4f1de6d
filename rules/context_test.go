package rules

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// genericJWTs are tokens without the Lofty scope, of the kinds that fill
// real repositories. None may be reported without Lofty context.
func genericJWTs(t testing.TB) []struct{ name, tok string } {
	return []struct{ name, tok string }{
		{"testtoken generic", testtoken.Generic("user-1")},
		{"supabase anon key", signHeader(t, map[string]any{"typ": "JWT"}, map[string]any{
			"iss": "supabase", "ref": "abcdefghijklmnopqrst", "role": "anon", "iat": 1641769200, "exp": 1957345200,
		})},
		{"jwt.io sample", signHeader(t, map[string]any{"typ": "JWT"}, map[string]any{
			"sub": "1234567890", "name": "John Doe", "iat": 1516239022,
		})},
		{"oauth id token, RS256, fake signature", rawJWS(`{"alg":"RS256","kid":"1e9gdk7","typ":"JWT"}`,
			`{"iss":"https://accounts.example.com","sub":"248289761001","aud":"s6BhdRkqt3","nonce":"n-0S6_WzA2Mj","exp":1311281970,"iat":1311280970}`,
			b64(strings.Repeat("\x5a", 256)))},
		{"scope openid profile", signHeader(t, nil, map[string]any{"sub": "u", "scope": "openid profile"})},
	}
}

func TestFindGenericJWTs(t *testing.T) {
	t.Parallel()
	lines := []string{
		"%s",
		"SUPABASE_ANON_KEY=%s\n",
		`const supabase = createClient("https://x.supabase.co", "%s")` + "\n",
		"Authorization: Bearer %s\r\n",
		`headers={"Authorization": "Bearer %s"}`,
		"# the authorization server returns an access token %s\n",
		"LOFTY_API_KEY=\n%s\n",         // Lofty name on the line before
		"%s\nlofty_token: placeholder", // and on the line after
		"// lofty\r\n%s\r\n",
	}
	for _, g := range genericJWTs(t) {
		for _, line := range lines {
			buf := []byte(strings.Replace(line, "%s", g.tok, 1))
			if got := cfg.Find(buf); len(got) != 0 {
				t.Errorf("%s in %q: reported %s", g.name, line, describe(got))
			}
		}
	}
}

func TestFindUnconfirmed(t *testing.T) {
	t.Parallel()
	gen := testtoken.Generic("user-1")
	expired := testtoken.Sign(map[string]any{"sub": "u", "exp": past.Unix()})
	unconf := want{RuleUnconfirmed, StatusNoExpiry, time.Time{}}
	tests := []struct {
		name          string
		before, after string
		tok           string
		want          *want
	}{
		{"LOFTY_API_KEY=", "LOFTY_API_KEY=", "\n", gen, &unconf},
		{"LOFTY_CUSTOMER_KEY quoted", `export LOFTY_CUSTOMER_KEY="`, `"`, gen, &unconf},
		{"lofty_token:", "lofty_token: ", "\n", gen, &unconf},
		{"loftyKey =", `const loftyKey = "`, `";`, gen, &unconf},
		{"CHIME_KEY=", "CHIME_KEY=", "\r\n", gen, &unconf},
		{"name after the token", `"`, `", // lofty api key`, gen, &unconf},
		{"api.lofty.com on the line", `curl https://api.lofty.com/v1.0/me -H "Authorization: Bearer `, `"`, gen, &unconf},
		{"Authorization: token", "Authorization: token ", "\r\n", gen, &unconf},
		{"authorization:token lower case", `-H 'authorization:token `, `'`, gen, &unconf},
		{"headers dict", `headers={"Authorization": "token `, `"}`, gen, &unconf},
		{"Header.Set", `req.Header.Set("Authorization", "token `, `")`, gen, &unconf},
		{"lofty-cli auth set", "$ lofty-cli auth set ", "\n", gen, &unconf},
		{"HAR header", `{"name":"Authorization","value":"token `, `"}`, gen, &unconf},
		{"HAR header pretty-printed", "  {\n    \"name\": \"Authorization\",\n    \"value\": \"token ", "\"\n  }", gen, &unconf},
		{"Kubernetes env, name on the line before", "env:\n  - name: LOFTY_API_KEY\n    value: ", "\n", gen, &unconf},
		{"Kubernetes env, quoted, CRLF", "env:\r\n  - name: \"LOFTY_API_KEY\"\r\n    value: \"", "\"\r\n", gen, &unconf},
		{"ECS environment, old brand", "  {\n    \"name\": \"CHIME_API_KEY\",\n    \"value\": \"", "\"\n  }", gen, &unconf},
		{"Postman environment", "    {\n      \"key\": \"lofty_token\",\n      \"value\": \"", "\",\n      \"type\": \"secret\"", gen, &unconf},
		{"Postman header, CRLF", "{\r\n  \"key\": \"Authorization\",\r\n  \"value\": \"token ", "\",", gen, &unconf},
		{"expired, in context", "LOFTY_API_KEY=", "\n", expired,
			&want{RuleUnconfirmed, StatusExpired, time.Unix(past.Unix(), 0).UTC()}},
		{"Authorization: Bearer", "Authorization: Bearer ", "\n", gen, nil},
		{"token alone", "token ", "\n", gen, nil},
		{"x-auth-token", "x-auth-token: ", "\n", gen, nil},
		{"authorization prose", "the authorization server returns an access token ", "\n", gen, nil},
		{"Kubernetes env, other name", "env:\n  - name: SUPABASE_KEY\n    value: ", "\n", gen, nil},
		{"value after a comment", "# lofty\nvalue: ", "\n", gen, nil},
		{"value after other text", "name: LOFTY_API_KEY\nold value: ", "\n", gen, nil},
		{"Amazon Chime as the name", "{\n  \"name\": \"chime.createMeeting\",\n  \"value\": \"", "\"", gen, nil},
		{"name two lines up", "- name: LOFTY_API_KEY\n  description: x\n  value: ", "\n", gen, nil},
		{"HAR Bearer header", "{\n  \"name\": \"Authorization\",\n  \"value\": \"Bearer ", "\"", gen, nil},
		{"HAR other header", "{\n  \"name\": \"X-Token\",\n  \"value\": \"token ", "\"", gen, nil},
		{"value token without a name", "\"value\": \"token ", "\"", gen, nil},
		{"Authorization prose, value token", "Authorization failed.\n\"value\": \"token ", "\"", gen, nil},
		{"name on previous line", "LOFTY_API_KEY=\\\n", "\n", gen, nil},
		{"name on next line", "KEY=", "\n# lofty", gen, nil},
		{"name on next line, CRLF", "KEY=", "\r\n# lofty", gen, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := new(doc).text("line one\n" + tt.before).tok(tt.tok).text(tt.after + "\nlast line\n")
			got := cfg.Find(d.buf)
			if tt.want == nil {
				if len(got) != 0 {
					t.Fatalf("reported %s", describe(got))
				}
				return
			}
			checkMatches(t, d, got, *tt.want)
		})
	}
}

// TestFindConfirmedNeedsNoContext: a scope-confirmed key is a key anywhere,
// and context does not turn it into anything else.
func TestFindConfirmedNeedsNoContext(t *testing.T) {
	t.Parallel()
	k := key(nil)
	for _, before := range []string{"", "x=", "LOFTY_API_KEY=", "Authorization: token ", "Authorization: Bearer "} {
		d := new(doc).text(before).tok(k)
		checkMatches(t, d, cfg.Find(d.buf), want{RuleAPIKey, StatusNoExpiry, time.Time{}})
	}
}

func TestFindWithOuterContext(t *testing.T) {
	t.Parallel()
	for _, g := range genericJWTs(t) {
		d := new(doc).text("\x00").tok(g.tok).text("\x00")
		got := cfg.FindWithContext(d.buf, true)
		if len(got) != 1 || got[0].Rule != RuleUnconfirmed || got[0].Start != d.spans[0][0] || got[0].End != d.spans[0][1] {
			t.Errorf("%s with outer context: got %s", g.name, describe(got))
		}
		if got := cfg.FindWithContext(d.buf, false); len(got) != 0 {
			t.Errorf("%s without outer context: got %s", g.name, describe(got))
		}
	}
}

func TestContextNames(t *testing.T) {
	t.Parallel()
	gen := testtoken.Generic("u")
	tests := []struct {
		name  string
		names []string
		line  string
		want  bool
	}{
		{"default, lower", nil, "lofty=%s", true},
		{"default, upper", nil, "CHIME=%s", true},
		{"custom lower", []string{"acme"}, "ACME_KEY=%s", true},
		{"custom upper", []string{"ACME_KEY"}, "acme_key=%s", true},
		{"custom mixed", []string{"AcmeKey"}, "const acmekey = '%s'", true},
		{"custom leading underscore", []string{"_crm_token"}, "X_CRM_TOKEN=%s", true},
		{"custom replaces default", []string{"acme"}, "LOFTY_API_KEY=%s", false},
		{"empty name ignored", []string{""}, "%s", false},
		{"empty name among others", []string{"", "acme"}, "acme %s", true},
		{"auth header with custom names", []string{"acme"}, "Authorization: token %s", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			buf := []byte(strings.Replace(tt.line, "%s", gen, 1))
			c := Config{Now: now, ContextNames: tt.names}
			got := c.Find(buf)
			if (len(got) == 1) != tt.want || len(got) > 1 {
				t.Fatalf("got %s, want reported = %v", describe(got), tt.want)
			}
		})
	}
}

// TestHasLoftyContextWindow: a name far from the token on a long line says
// nothing about it; the window is contextBefore bytes before the token and
// contextAfter after, and never crosses a newline.
func TestHasLoftyContextWindow(t *testing.T) {
	t.Parallel()
	gen := testtoken.Generic("u")
	fill := func(n int) string { return minified(n) }
	tests := []struct {
		name          string
		before, after string
		want          bool
	}{
		{"10 KB before on a 100 KB line", fill(40_000) + "LOFTY_API_KEY" + fill(10_000) + `="`, `"` + fill(50_000), false},
		{"10 KB after on a 100 KB line", fill(50_000) + `="`, `"` + fill(10_000) + "LOFTY_API_KEY" + fill(40_000), false},
		{"just inside before", fill(50_000) + "lofty" + fill(contextBefore-len("lofty")-1) + `"`, `"` + fill(50_000), true},
		{"just outside before", fill(50_000) + "lofty" + fill(contextBefore-len("lofty")) + `"`, `"` + fill(50_000), false},
		{"just inside after", fill(50_000) + `"`, `"` + fill(contextAfter-len("lofty")-1) + "lofty" + fill(50_000), true},
		{"just outside after", fill(50_000) + `"`, `"` + fill(contextAfter-len("lofty")) + "lofty" + fill(50_000), false},
		{"near, same line", fill(50_000) + `loftyKey:"`, `"` + fill(50_000), true},
		{"near, previous line", "lofty\n", "", false},
		{"near, next line", "", "\nlofty", false},
		{"near, previous line CRLF", "lofty\r\n", "", false},
		{"at buffer start", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			buf := []byte(tt.before + gen + tt.after)
			start, end := len(tt.before), len(tt.before)+len(gen)
			if got := HasLoftyContext(buf, start, end, nil); got != tt.want {
				t.Errorf("HasLoftyContext = %v, want %v", got, tt.want)
			}
			if got := cfg.Find(buf); (len(got) == 1) != tt.want || len(got) > 1 {
				t.Errorf("Find: %s, want reported = %v", describe(got), tt.want)
			}
		})
	}
}

// TestContainsFold checks the skipping search against a plain loop over
// every offset.
func TestContainsFold(t *testing.T) {
	t.Parallel()
	naive := func(s []byte, name string) bool {
		for i := 0; i+len(name) <= len(s); i++ {
			if equalFold(s[i:i+len(name)], name) {
				return true
			}
		}
		return false
	}
	texts := []string{"", "l", "lofty", "LOFTY", "xLoFtY", "loft", "lofyt", "yyyyylofty", "lof ty", "ofty lofty",
		"LOFTYLOFTY", "a.lofty.com", "api.Lofty.COM/v1", "chime", "xCHIMEx", "chim", "hhhhchime", "c h i m e"}
	for _, s := range texts {
		for _, name := range []string{"lofty", "chime", "api.lofty.com", "x", "ty"} {
			if got, want := containsFold([]byte(s), name), naive([]byte(s), name); got != want {
				t.Errorf("containsFold(%q, %q) = %v, want %v", s, name, got, want)
			}
		}
	}
}

// TestLastNewline checks the word-at-a-time search against the standard
// library's.
func TestLastNewline(t *testing.T) {
	t.Parallel()
	for n := range 40 {
		for _, at := range []int{-1, 0, 1, 7, 8, 9, 15, 16, 17, 30, 39} {
			for _, filler := range []byte{'a', 0, 0x0b, 0x8a, 0xff, 0x09} {
				s := bytes.Repeat([]byte{filler}, n)
				if at >= 0 && at < n {
					s[at] = '\n'
					if at > 2 {
						s[at-2] = '\n'
					}
				}
				if got, want := lastNewline(s), bytes.LastIndexByte(s, '\n'); got != want {
					t.Fatalf("lastNewline(%q) = %d, want %d", s, got, want)
				}
			}
		}
	}
}
