package finding

import (
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

func TestRedactText(t *testing.T) {
	t.Parallel()
	k1 := testtoken.Key("one", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	k2 := testtoken.Key("two", time.Time{})
	in := "a " + k1 + " b " + k2 + " c"
	out := RedactText(in)
	for _, k := range []string{k1, k2} {
		if strings.Contains(out, testtoken.Segments(k)[2]) {
			t.Errorf("RedactText left a signature in %q", out)
		}
		if !strings.Contains(out, Redact(k)) {
			t.Errorf("RedactText did not leave %q in %q", Redact(k), out)
		}
	}
	if !strings.HasPrefix(out, "a eyJ") || !strings.HasSuffix(out, " c") {
		t.Errorf("RedactText changed the rest: %q", out)
	}
	if RedactText("no tokens") != "no tokens" {
		t.Error("RedactText changed a plain message")
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for tok, want := range map[string]string{
		"short":                          "[redacted]",
		"eyJhbGciOiJIUzI1NiJ9.e30.c2ln":  "eyJhbGciOi…c2ln",
		"eyJhbGciOiJIUzI1NiJ9.\xff.abcd": "[redacted]",
	} {
		if got := Redact(tok); got != want {
			t.Errorf("Redact(%q) = %q, want %q", tok, got, want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"https://github.com/org/repo.git", "https://github.com/org/repo.git"},
		{"https://ghp_token123@github.com/org/repo.git", "https://***@github.com/org/repo.git"},
		{"https://user:p%40ss@host/x", "https://***@host/x"},
		{"https://user:pa%24%24@host/r", "https://***@host/r"},
		{"file:///tmp/x", "file:///tmp/x"},
		{"git@github.com:org/repo.git", "git@github.com:org/repo.git"},
		{"https://a b@host/%zz", "[a URL with credentials]"},
	} {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	msg := RedactURLIn(`Get "https://ghp_token123@github.com/x": dial tcp: refused`, "https://ghp_token123@github.com/org/repo.git")
	if strings.Contains(msg, "ghp_token123") {
		t.Errorf("RedactURLIn left the token: %s", msg)
	}
}

func TestValidPath(t *testing.T) {
	t.Parallel()
	if got := ValidPath("a/\xffb.txt"); got != "a/\uFFFDb.txt" {
		t.Errorf("ValidPath = %q", got)
	}
}
