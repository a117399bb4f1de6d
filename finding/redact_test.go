package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

var (
	keyA = testtoken.Key("one", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	keyB = testtoken.Key("two", time.Time{})
)

// leaks reports which part of key out still holds: the whole key, or its
// payload or signature (either is enough to rebuild much of it).
func leaks(out, key string) string {
	if strings.Contains(out, key) {
		return "the whole key"
	}
	seg := testtoken.Segments(key)
	for i, name := range []string{"", "payload", "signature"} {
		if i > 0 && strings.Contains(out, seg[i]) {
			return "its " + name
		}
	}
	return ""
}

func fp8(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])[:8]
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for tok, want := range map[string]string{
		"eyJhbGciOiJIUzI1NiJ9.e30.c2ln":     "eyJ…c2ln#" + fp8("eyJhbGciOiJIUzI1NiJ9.e30.c2ln"),
		"eyJh.e30.c2ln":                     "eyJ…#" + fp8("eyJh.e30.c2ln"),
		"short":                             "…#" + fp8("short"),
		"eyJhbGciOiJIUzI1NiJ9.\xff.abc\xff": "eyJ…#" + fp8("eyJhbGciOiJIUzI1NiJ9.\xff.abc\xff"),
	} {
		if got := Redact(tok); got != want {
			t.Errorf("Redact(%q) = %q, want %q", tok, got, want)
		}
	}
	// The shown part differs between keys whose first characters are
	// all the same, and matches the fingerprint's start.
	seen := map[string]bool{}
	for i := range 50 {
		k := testtoken.Key(fmt.Sprint("account-", i), time.Time{})
		r := Redact(k)
		if seen[r] {
			t.Errorf("two keys share the redacted form %s", r)
		}
		seen[r] = true
		if !strings.HasSuffix(r, "#"+fp8(k)) || !strings.HasPrefix(r, "eyJ…"+k[len(k)-4:]) {
			t.Errorf("Redact = %s, want eyJ…<last 4>#<fingerprint's first 8 digits>", r)
		}
		if l := leaks(r, k); l != "" || strings.Contains(r, k[:10]) {
			t.Errorf("Redact(%s…) = %s shows too much", k[:10], r)
		}
	}
}

func TestRedactText(t *testing.T) {
	t.Parallel()
	a, b := Redact(keyA), Redact(keyB)
	for _, tc := range []struct{ in, want string }{
		{"no tokens", "no tokens"},
		{"a " + keyA + " b " + keyB + " c", "a " + a + " b " + b + " c"},
		// More dot-separated segments after the key: the detector's
		// candidates stop at three, the redactor must not.
		{"d/" + keyA + ".tar.gz: named pipe, not read", "d/" + a + ".tar.gz: named pipe, not read"},
		{`entry_bytes = "` + keyA + `.a.b" is not a size`, `entry_bytes = "` + a + `.a.b" is not a size`},
		// Tokens that overlap are redacted as one: "<key>.<key>" holds the
		// token "<payload>.<signature>.<header>" too.
		{keyA + "." + keyB, Redact(keyA + "." + keyB)},
		{keyA + keyB, Redact(keyA + keyB)}, // glued: one token inside the other's signature
		{"eyJeyJ." + keyA + ".x", Redact("eyJeyJ."+keyA) + ".x"},
		{"https://h/" + keyA + "/x?a=" + keyB + "#" + keyA, "https://h/" + a + "/x?a=" + b + "#" + a},
		{"KEY=" + keyA + "==", "KEY=" + Redact(keyA+"=") + "="}, // the signature's padding, as the detector reads it
		{"eyJ.a.b", Redact("eyJ.a.b")},
		{"eyJa..b eyJ eyJa.b", "eyJa..b eyJ eyJa.b"},
		{a, a}, // the redacted form is not a token itself
	} {
		got := RedactText(tc.in)
		if got != tc.want {
			t.Errorf("RedactText(%q)\n = %q\nwant %q", tc.in, got, tc.want)
		}
		for _, k := range []string{keyA, keyB} {
			if l := leaks(got, k); l != "" {
				t.Errorf("RedactText(%q) left %s", tc.in, l)
			}
		}
	}
	// A JWE (five segments): the first three are redacted; what is left
	// starts no token.
	jwe := "eyJhbGciOiJSU0EtT0FFUCJ9.a2V5.aXY.Y2lwaGVy.dGFn"
	if got, want := RedactText(jwe), Redact("eyJhbGciOiJSU0EtT0FFUCJ9.a2V5.aXY")+".Y2lwaGVy.dGFn"; got != want {
		t.Errorf("RedactText(JWE) = %q, want %q", got, want)
	}
}

// TestRedactTextAcrossHiddenRunes: a key split by characters the output
// escapes or cannot show (ESC, a zero-width space, a bidi override, a byte
// that is not UTF-8) is still a key to whoever reads the output: they drop
// the "\x1B" and have it. Such a key is redacted whole, as if the hidden
// characters were not there.
func TestRedactTextAcrossHiddenRunes(t *testing.T) {
	t.Parallel()
	for _, hidden := range []string{"\x1b", "\x1b[31m", "\u200b", "\u202e", "\x00", "\xff", "\ufffd", "\r\n"} {
		for _, cut := range []int{1, 3, 20, 21, 60, len(keyA) - 1} {
			in := "d/" + keyA[:cut] + hidden + keyA[cut:] + ".env"
			for name, out := range map[string]string{"RedactText": RedactText(in), "Sanitize": Sanitize(in), "RedactPath": RedactPath(in)} {
				shown := strings.NewReplacer(hidden, "", Escape(hidden), "", "\ufffd", "", `\uFFFD`, "").Replace(out)
				if l := leaks(shown, keyA); l != "" {
					t.Errorf("%s(key split by %q at %d) = %q shows %s", name, hidden, cut, out, l)
				}
				// Cut near its end, the key's last characters may be taken
				// for text after it: the key is still redacted.
				if cut < len(keyA)-minSecret && !strings.Contains(out, Redact(keyA)) {
					t.Errorf("%s(key split by %q at %d) = %q, want the key's redacted form %s", name, hidden, cut, out, Redact(keyA))
				}
			}
		}
	}
	// Text around the key keeps its hidden characters, for Escape to show.
	if got, want := RedactText("\x1b[2J"+keyA[:9]+"\u200b"+keyA[9:]+"\x07"), "\x1b[2J"+Redact(keyA)+"\x07"; got != want {
		t.Errorf("RedactText = %q, want %q", got, want)
	}
}

func TestEscape(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain/path é 日本 🔑":                       "plain/path é 日本 🔑",
		"evil\x1b]0;PWNED\x07\n::error title=x::": `evil\x1B]0;PWNED\x07\x0A::error title=x::`,
		"a\rb\tc\x7fd\u0085e":                     `a\x0Db\x09c\x7Fd\x85e`,
		"gpj.\u202eexe\u2066\u200b\ufeff":         `gpj.\u202Eexe\u2066\u200B\uFEFF`,
		"line\u2028para\u2029\ufffe\uffff":        `line\u2028para\u2029\uFFFE\uFFFF`,
		"tag\U000E0041":                           `tag\U000E0041`,
		"bad \xff\xfe byte":                       `bad \xFF\xFE byte`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSanitizeProperties plants keys in hostile text: what comes out holds
// no key, no unsafe rune and no three-segment token, and is valid UTF-8.
func TestSanitizeProperties(t *testing.T) {
	t.Parallel()
	for _, in := range sanitizeSeeds() {
		checkSanitized(t, in)
	}
}

func sanitizeSeeds() []string {
	return []string{
		"",
		keyA,
		"evil\x1b]0;PWNED\x07\n::error title=x::injected " + keyA + ".a.b",
		"\u202e" + keyA + "\u202c" + keyB + ".tar.gz",
		"\xff" + keyA + "\xfe." + keyB,
		"eyJeyJeyJ." + keyA,
		strings.Repeat("eyJ", 1000) + "." + keyB,
		keyA + "=." + keyB + "==.x",
		// Escaping 0xde writes "\xde" when hex digits are lower case, and
		// its "e" then starts key B's payload (found by FuzzSanitize).
		"\xde" + testtoken.Segments(keyB)[1][1:] + keyA + "00" + keyB,
		" ::set-output name=x::" + keyA + " ##[error]" + keyB,
	}
}

func checkSanitized(t *testing.T, in string) {
	t.Helper()
	out := Sanitize(in)
	if !utf8.ValidString(out) {
		t.Errorf("Sanitize(%q) is not UTF-8: %q", in, out)
	}
	if i := strings.IndexFunc(out, Unsafe); i >= 0 {
		t.Errorf("Sanitize(%q) = %q keeps an unsafe rune at %d", in, out, i)
	}
	if strings.Contains(out, "##[") || strings.HasPrefix(strings.TrimLeftFunc(out, unicode.IsSpace), "::") {
		t.Errorf("Sanitize(%q) = %q is a workflow command", in, out)
	}
	for i := 0; i < len(out); i++ {
		if strings.HasPrefix(out[i:], "eyJ") {
			if end, _ := tokenAt(out, i); end >= 0 {
				t.Errorf("Sanitize(%q) = %q keeps the token %q", in, out, out[i:end])
			}
		}
	}
	for _, k := range []string{keyA, keyB} {
		if !strings.Contains(in, k) {
			continue
		}
		// A key's part that the input also holds on its own (not as part
		// of the key) may be shown there: it is not a token.
		rest := strings.ReplaceAll(in, k, " ")
		for _, part := range append(testtoken.Segments(k)[1:], k) {
			if !strings.Contains(rest, part) && strings.Contains(out, part) {
				t.Errorf("Sanitize(%q) = %q leaks %q", in, out, part)
			}
		}
	}
	if Sanitize(out) != out {
		t.Errorf("Sanitize is not idempotent on %q", in)
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range sanitizeSeeds() {
		f.Add(s, "", "")
	}
	f.Add("d/", ".tar.gz", "\x1b[2J")
	f.Add(testtoken.Segments(keyB)[2], "", "") // a part of a key on its own, glued to a key
	f.Fuzz(func(t *testing.T, before, after, noise string) {
		checkSanitized(t, before+keyA+after+noise+keyB)
	})
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	a := Redact(keyA)
	for _, tc := range []struct{ in, want string }{
		{"https://github.com/org/repo.git", "https://github.com/org/repo.git"},
		{"https://ghp_token123@github.com/org/repo.git", "https://***@github.com/org/repo.git"},
		{"https://user:p%40ss@host/x", "https://***@host/x"},
		{"https://user:pa%24%24@host/r", "https://***@host/r"},
		{"file:///tmp/x", "file:///tmp/x"},
		{"git@github.com:org/repo.git", "git@github.com:org/repo.git"},
		{"https://a b@host/%zz", "[a URL with credentials]"},
		{"https://host/r.git?a=" + keyA + "&private_token=glpat-xyz&flag", "https://host/r.git?a=***&private_token=***&***"},
		{"https://host/r.git#" + keyA, "https://host/r.git#***"},
		{"https://host/" + keyA + ".a.b/r.git", "https://host/" + a + ".a.b/r.git"},
		{"http://127.0.0.1:8080/x.git?", "http://127.0.0.1:8080/x.git?"},
		{"git@host:" + keyA + ".git?x=" + keyB, "git@host:" + a + ".git?***"},
	} {
		got := RedactURL(tc.in)
		if got != tc.want {
			t.Errorf("RedactURL(%q)\n = %q\nwant %q", tc.in, got, tc.want)
		}
		for _, k := range []string{keyA, keyB} {
			if l := leaks(got, k); l != "" {
				t.Errorf("RedactURL(%q) left %s", tc.in, l)
			}
		}
	}
}

func TestRedactURLIn(t *testing.T) {
	t.Parallel()
	raw := "https://ghp_token123:s3cret%40pw@github.com/org/repo.git?access_token=tok-9876#frag-5555"
	for _, msg := range []string{
		`Get "` + raw + `": dial tcp: refused`,
		`Get "https://ghp_token123:s3cret%40pw@github.com/x?access_token=tok-9876": 401`,
		`authentication required for ghp_token123 (s3cret@pw) frag-5555`,
	} {
		got := RedactURLIn(msg, raw)
		for _, s := range []string{"ghp_token123", "s3cret", "tok-9876", "frag-5555"} {
			if strings.Contains(got, s) {
				t.Errorf("RedactURLIn left %s in %s", s, got)
			}
		}
	}
}

// TestSanitizeWorkflowCommands: what GitHub's runner reads as a workflow
// command (a line starting, after white space, with "::", or holding
// "##[" anywhere) does not survive Sanitize, so that a report line that
// starts with a file's name, or a script printing a field alone, cannot
// set a step output or forge an annotation.
func TestSanitizeWorkflowCommands(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"::set-output name=findings::0":   `\x3A:set-output name=findings::0`,
		"  \u00a0::warning file=x::pwned": "  \u00a0" + `\x3A:warning file=x::pwned`,
		"a ##[error]v1 ###[warning]x":     `a #\x23[error]v1 ##\x23[warning]x`,
		"d/::error::not at the start":     "d/::error::not at the start",
		":single":                         ":single",
		"\n::error::x":                    `\x0A::error::x`,
	} {
		got := Sanitize(in)
		if got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
		if Sanitize(got) != got {
			t.Errorf("Sanitize is not idempotent on %q", in)
		}
	}
}

func TestShown(t *testing.T) {
	t.Parallel()
	f := Finding{
		Path:    "d/" + keyA + ".tar.gz!evil\x1b]0;x\x07\n::error::y",
		Author:  "Eve " + keyB,
		Email:   keyA + "@example.com",
		Message: "add \u202e" + keyB,
		Alg:     "HS256\x1b[2J",
		Secret:  keyA,
	}
	s := f.Shown()
	all := fmt.Sprintf("%+v", s)
	for _, k := range []string{keyA, keyB} {
		if l := leaks(all, k); l != "" {
			t.Errorf("Shown leaks %s: %s", l, all)
		}
	}
	if strings.IndexFunc(all, Unsafe) >= 0 {
		t.Errorf("Shown keeps an unsafe rune: %q", all)
	}
	if want := "d/" + Redact(keyA) + `.tar.gz!evil\x1B]0;x\x07\x0A::error::y`; s.Path != want {
		t.Errorf("Shown().Path = %q, want %q", s.Path, want)
	}
	if got := f.PathForURI(); got != "d/"+Redact(keyA)+".tar.gz!evil\x1b]0;x\x07\n::error::y" {
		t.Errorf("PathForURI = %q", got)
	}
}

func TestValidPath(t *testing.T) {
	t.Parallel()
	if got := ValidPath("a/\xffb.txt"); got != "a/\uFFFDb.txt" {
		t.Errorf("ValidPath = %q", got)
	}
}

// BenchmarkRedactText measures RedactText over 1 MB of plain text and of
// the inputs that would make a naive redactor quadratic: every "eyJ" of a
// long run, and of a long chain of dot-separated segments, starts a token
// try. The time per byte should be the same for all of them.
func BenchmarkRedactText(b *testing.B) {
	const size = 1 << 20
	for name, unit := range map[string]string{
		"text":         "the quick brown fox jumps over the lazy dog. ",
		"eyJ run":      "eyJ",
		"eyJ segments": "eyJa.",
		"tokens":       keyA + " ",
		"glued tokens": keyA,
	} {
		in := strings.Repeat(unit, size/len(unit))
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				RedactText(in)
			}
		})
	}
}
