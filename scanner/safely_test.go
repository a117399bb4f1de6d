package scanner

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// TestPanicBecomesRedactedWarning checks that a panic in one job is a
// warning about the file it was scanning, counted as an error, whose text
// does not carry a token quoted in the panic value.
func TestPanicBecomesRedactedWarning(t *testing.T) {
	t.Parallel()
	c := &Collector{}
	r := New(testOptions()).Start(c)
	err := r.NewWorker().Scan(context.Background(), "dir/bad.txt", panicReader{"bad input near LOFTY=" + keyActive})
	if err != nil {
		t.Fatalf("Scan: %v, want the panic turned into a warning", err)
	}
	if len(c.Warnings) != 1 || r.Stats().Errors != 1 {
		t.Fatalf("warnings %v, errors %d; want one of each", c.Warnings, r.Stats().Errors)
	}
	w := c.Warnings[0]
	if w.Path != "dir/bad.txt" {
		t.Errorf("warning about %q, want the file being scanned", w.Path)
	}
	if strings.Contains(w.String(), testtoken.Segments(keyActive)[2]) {
		t.Errorf("warning quotes the key: %s", w)
	}
	if !strings.Contains(w.Message, "internal error") || !strings.Contains(w.Message, finding.Redact(keyActive)) {
		t.Errorf("warning %q does not say what happened with the token redacted", w)
	}
}

// panicReader panics when read, as a decoder bug would mid-file.
type panicReader struct{ msg string }

func (p panicReader) Read([]byte) (int, error) { panic(p.msg) }

var _ io.Reader = panicReader{}
