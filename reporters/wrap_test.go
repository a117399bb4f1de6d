package reporters

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWrap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text, first, rest string
		width             int
		want              []string
	}{
		{"", "  ", "  ", 10, []string{"  "}},
		{"one two three", "", "", 80, []string{"one two three"}},
		{"one two three four", "- ", "  ", 10, []string{"- one two", "  three", "  four"}},
		{"a verylongwordthatdoesnotfit b", "> ", "  ", 10, []string{"> a", "  verylongwordthatdoesnotfit", "  b"}},
		{"  spaces   collapse  ", "", "", 80, []string{"spaces collapse"}},
		{"héllo wörld ça va", "", "", 11, []string{"héllo wörld", "ça va"}}, // runes, not bytes
		// A word starting with "::" stays on the line before, past the width.
		{"fix the build ::error title=x::pwned", "    message ", "            ", 30, []string{"    message fix the build ::error", "            title=x::pwned"}},
	}
	for _, tt := range tests {
		got := wrap(tt.text, tt.width, tt.first, tt.rest)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.text, tt.width, got, tt.want)
		}
	}
}

// No line of a wrapped text starts with "::", whatever the width, and each
// fits unless one word cannot.
func FuzzWrap(f *testing.F) {
	f.Add("fix ::error title=x::y and ::warning::z", 20)
	f.Add("a b c", 1)
	f.Fuzz(func(t *testing.T, text string, width int) {
		if width < 0 || width > 200 {
			return
		}
		for i, line := range wrap(text, width, "> ", "  ") {
			if strings.HasPrefix(strings.TrimSpace(line), "::") && i > 0 {
				t.Errorf("line %d starts with '::': %q", i, line)
			}
			if fs := strings.Fields(line); len(fs) > 1 && utf8.RuneCountInString(line) > width && !strings.HasPrefix(fs[len(fs)-1], "::") {
				last := fs[len(fs)-1]
				if utf8.RuneCountInString(line)-utf8.RuneCountInString(last)-1 < width && utf8.RuneCountInString(last)+2 <= width {
					t.Errorf("line %q is past %d columns though its last word fits the next", line, width)
				}
			}
		}
	})
}
