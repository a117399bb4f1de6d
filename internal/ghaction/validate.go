package ghaction

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The event file is written by the runner from what GitHub sent, but its
// values describe a push or a pull request that anyone with write access
// (or, for pull_request_target, anyone at all) shaped. A value that is not
// what GitHub writes is refused here, before git sees it: it could
// otherwise be read as an option (--output=...), or split into several
// arguments by a careless wrapper.

// maxRevision bounds an input revision: longer is not a name anyone types.
const maxRevision = 1024

// commitName checks that s is a full commit name, 40 (SHA-1) or 64 (SHA-256)
// hexadecimal digits, and returns it in lower case. what names the value
// in the error ("the push event's after").
func commitName(what, s string) (string, error) {
	if (len(s) == 40 || len(s) == 64) && isHex(s) {
		return strings.ToLower(s), nil
	}
	return "", badValue(what, s, "is not a full commit name (40 or 64 hexadecimal digits)")
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// isZero reports whether s is git's all-zero object name: a push event's
// before for a new branch, its after for a deletion.
func isZero(s string) bool {
	return (len(s) == 40 || len(s) == 64) && strings.Trim(s, "0") == ""
}

// checkRef checks that s is a full ref name (refs/heads/x, refs/tags/v1)
// by git's rules (git help check-ref-format), and more strictly: valid
// UTF-8, and no component that starts with '-'.
func checkRef(what, s string) error {
	if !strings.HasPrefix(s, "refs/") {
		return badValue(what, s, "is not a full ref name (refs/heads/NAME or refs/tags/NAME)")
	}
	if why := refProblem(s); why != "" {
		return badValue(what, s, "is not a valid ref name: "+why)
	}
	return nil
}

// refProblem says what makes s an invalid ref name, or returns "".
func refProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "it is not UTF-8"
	case strings.IndexFunc(s, unsafeInName) >= 0:
		return "it holds white space, a control character or U+FFFD"
	case strings.ContainsAny(s, "~^:?*[\\"):
		return "it holds one of ~ ^ : ? * [ \\"
	case strings.Contains(s, ".."), strings.Contains(s, "@{"), s == "@":
		return `it holds ".." or "@{"`
	case strings.HasSuffix(s, ".") || strings.HasSuffix(s, "/") || strings.HasPrefix(s, "/"):
		return "it starts with / or ends with / or ."
	}
	for _, c := range strings.Split(s, "/") {
		switch {
		case c == "":
			return "it holds an empty component (//)"
		case c[0] == '.':
			return "a component starts with ."
		case c[0] == '-':
			return "a component starts with -"
		case strings.HasSuffix(c, ".lock"):
			return "a component ends with .lock"
		}
	}
	return ""
}

// checkRevision checks a revision given as an action input (origin/main,
// HEAD~3, a tag, a commit name): revision syntax is git's to judge, but
// nothing that git could read as an option, or a wrapper could split.
func checkRevision(what, s string) error {
	switch {
	case s == "":
		return badValue(what, s, "is empty")
	case len(s) > maxRevision:
		return badValue(what, s, fmt.Sprintf("is longer than %d bytes", maxRevision))
	case s[0] == '-':
		return badValue(what, s, "starts with '-', which git would read as an option")
	case !utf8.ValidString(s):
		return badValue(what, s, "is not UTF-8")
	case strings.IndexFunc(s, unsafeInName) >= 0:
		return badValue(what, s, "holds white space, a control character or U+FFFD")
	}
	return nil
}

// unsafeInName reports runes that no commit, ref or revision name holds:
// white space (Unicode's, not only ASCII's), control characters and
// bidirectional overrides, which could reorder what a log shows.
func unsafeInName(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == utf8.RuneError
}

// badValue is the error for a refused value. The value is quoted with %+q:
// whatever it holds prints as one line of visible ASCII.
func badValue(what, s, why string) *Error {
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return &Error{
		Kind:    ErrBadValue,
		Message: fmt.Sprintf("%s %+q %s", what, s, why),
		Hint:    "the value was not used; check the workflow's inputs, or the event that started the run (GitHub writes full commit names and refs/... names)",
	}
}
