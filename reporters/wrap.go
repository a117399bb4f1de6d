package reporters

import (
	"strings"
	"unicode/utf8"
)

// lineWidth is the width the terminal format fits: a classic terminal, a
// CI log pane, a pasted snippet in a ticket.
const lineWidth = 80

// wrap breaks text into lines of at most width characters at spaces, the
// first starting with first and the others with rest (a hanging indent).
// A word longer than a line, such as a long path, is never cut: it gets a
// line of its own, past the width, so that it can still be copied whole.
// A word that starts with "::" never starts a line, even if it must
// overflow the one before: a CI runner reads such a line as a workflow
// command, and the words may come from scanned data.
// Widths count characters (runes), which is the terminal's width for the
// Latin, Greek and Cyrillic text of paths and names; wide (East Asian)
// characters take two columns and may overflow.
func wrap(text string, width int, first, rest string) []string {
	var lines []string
	line := first
	prefix := first // what the line holds before its first word
	n := utf8.RuneCountInString(line)
	for _, word := range strings.Fields(text) {
		wn := utf8.RuneCountInString(word)
		switch {
		case line == prefix:
			line += word
			n += wn
		case n+1+wn <= width, strings.HasPrefix(word, "::"):
			line += " " + word
			n += 1 + wn
		default:
			lines = append(lines, line)
			line, prefix = rest+word, rest
			n = utf8.RuneCountInString(rest) + wn
		}
	}
	return append(lines, line)
}

// wrapString is wrap joined into one string, each line ending in "\n".
func wrapString(text string, width int, first, rest string) string {
	return strings.Join(wrap(text, width, first, rest), "\n") + "\n"
}
