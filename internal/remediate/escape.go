package remediate

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/loftyscan/loftyscan/finding"
)

// Every string of a plan that reaches output goes through clean: paths,
// refs, subjects, remote URLs and commands come from the repository and its
// configuration, and a plan is printed into terminals, tickets and chat.

// clean escapes what could act on a terminal or hide text (control
// characters, bidirectional overrides, bytes that are not UTF-8), drops
// the password of a URL (git asks for it when the command runs) and
// redacts anything shaped like a key.
func clean(s string) string {
	return escapeControls(dropPasswords(finding.RedactText(s)))
}

// redactToken is a key's printable form: its first 10 and last 4 characters.
func redactToken(tok string) string { return finding.Redact(tok) }

// urlPassword matches the password of a URL's user information.
var urlPassword = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/@\s:]*):[^/@\s]*@`)

func dropPasswords(s string) string { return urlPassword.ReplaceAllString(s, "$1@") }

// escapeControls writes control and bidirectional characters as \xHH or
// \uHHHH, and each byte of invalid UTF-8 as \xHH.
func escapeControls(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, unsafeRune) < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafeRune(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

// shellWord quotes one argument for a POSIX shell, after clean: as is when
// it holds only safe characters, in single quotes otherwise, and as bash's
// $'...' when it holds bytes a person cannot type (so what is shown is
// still exactly the argument).
func shellWord(arg string) string {
	arg = dropPasswords(finding.RedactText(arg))
	if arg != "" && strings.IndexFunc(arg, func(r rune) bool { return !shellSafe(r) }) < 0 {
		return arg
	}
	if utf8.ValidString(arg) && strings.IndexFunc(arg, unsafeRune) < 0 {
		return "'" + strings.ReplaceAll(arg, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(arg); {
		r, n := utf8.DecodeRuneInString(arg[i:])
		switch {
		case r == utf8.RuneError && n <= 1, unsafeRune(r) && r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, arg[i])
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteString(arg[i : i+n])
		}
		i += n
	}
	b.WriteString("'")
	return b.String()
}

func shellSafe(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./_-", r)
}

// shellLine renders a command for a shell.
func shellLine(c Command) string {
	words := func(args []string) string {
		q := make([]string, len(args))
		for i, a := range args {
			q[i] = shellWord(a)
		}
		return strings.Join(q, " ")
	}
	s := words(c.Args)
	if len(c.Pipe) > 0 {
		s += " | " + words(c.Pipe)
	}
	return s
}
