package scanner

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/finding"
)

// TestInlineAllow checks that a loftyscan:allow comment on a key's line
// marks the finding suppressed, for plain and for base64-wrapped keys, and
// leaves the key on the next line alone.
func TestInlineAllow(t *testing.T) {
	t.Parallel()
	b64 := base64.StdEncoding.EncodeToString([]byte(keyActive))
	text := strings.Join([]string{
		"A=" + keyActive + " # loftyscan:allow (revoked, kept for tests)",
		"B=" + keyActive,
		"lofty: " + b64 + " # loftyscan:allow",
	}, "\n")
	c := &Collector{}
	if _, err := New(testOptions()).ScanReader(context.Background(), "x", strings.NewReader(text), c); err != nil {
		t.Fatal(err)
	}
	got := map[int]string{}
	for _, f := range c.Sorted() {
		got[f.Line] = f.Suppressed
	}
	want := map[int]string{1: finding.SuppressedInline, 2: "", 3: finding.SuppressedInline}
	for line, w := range want {
		if s, ok := got[line]; !ok || s != w {
			t.Errorf("line %d: suppressed %q (found %v), want %q", line, s, ok, w)
		}
	}
}
