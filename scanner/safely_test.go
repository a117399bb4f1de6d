package scanner

import (
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// TestPanicBecomesRedactedWarning checks that a panic in one job is a
// warning, counted as an error, whose text does not carry a token quoted
// in the panic value.
func TestPanicBecomesRedactedWarning(t *testing.T) {
	t.Parallel()
	c := &Collector{}
	r := New(testOptions()).newRun(c)
	r.safely(func() { panic("bad input near LOFTY=" + keyActive) })
	if len(c.Warnings) != 1 || r.stats().Errors != 1 {
		t.Fatalf("warnings %v, errors %d; want one of each", c.Warnings, r.stats().Errors)
	}
	msg := c.Warnings[0].String()
	if strings.Contains(msg, testtoken.Segments(keyActive)[2]) {
		t.Errorf("warning quotes the key: %s", msg)
	}
	if !strings.Contains(msg, "internal error") || !strings.Contains(msg, Redact(keyActive)) {
		t.Errorf("warning %q does not say what happened with the token redacted", msg)
	}
}

func TestRedactText(t *testing.T) {
	t.Parallel()
	in := "a " + keyActive + " b " + keyExpired + " c"
	out := RedactText(in)
	for _, k := range []string{keyActive, keyExpired} {
		if strings.Contains(out, testtoken.Segments(k)[2]) {
			t.Errorf("RedactText left a signature in %q", out)
		}
	}
	if !strings.HasPrefix(out, "a eyJ") || !strings.HasSuffix(out, " c") {
		t.Errorf("RedactText changed the rest: %q", out)
	}
	if RedactText("no tokens") != "no tokens" {
		t.Error("RedactText changed a plain message")
	}
}
