package remediate

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/loftyscan/loftyscan/finding"
)

// Every string of a plan that reaches output goes through clean: paths,
// refs, subjects, remote URLs and commands come from the repository and its
// configuration, and a plan is printed into terminals, tickets and chat.

// clean escapes what could act on a terminal or hide text (control
// characters, bidirectional overrides, bytes that are not UTF-8), drops
// the credentials of a URL (git asks for them when the command runs) and
// redacts anything shaped like a key: finding's one point (Sanitize), and
// the credentials.
func clean(s string) string {
	return finding.Escape(dropCredentials(finding.RedactText(s)))
}

// redactToken is a key's printable form (finding.Redact).
func redactToken(tok string) string { return finding.Redact(tok) }

// The credentials of a URL: on the web schemes its whole user
// information, since a user name alone can be a token
// (https://<token>@github.com is how GitHub documents a personal access
// token, https://oauth2:<token>@ GitLab's); elsewhere the password, since
// ssh://git@host names the account to log in as. Up to the last "@"
// before the path, as a URL parser reads "user:p@ss@host".
var (
	webUserInfo = regexp.MustCompile(`(?i)\b((?:https?|ftps?)://)[^/?#\s]*@`)
	urlPassword = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s:]*):[^/?#\s]*@`)
)

// dropCredentials removes the credentials of every URL in s.
func dropCredentials(s string) string {
	return urlPassword.ReplaceAllString(webUserInfo.ReplaceAllString(s, "$1"), "$1@")
}

// shellWord quotes one argument for a POSIX shell, after clean: as is when
// it holds only safe characters, in single quotes otherwise, and as bash's
// $'...' when it holds bytes a person cannot type (so what is shown is
// still exactly the argument). Its escapes use upper-case hex, as
// finding.Escape does, so that none ends in the "e" of an "eyJ". A
// character past ASCII is written as its UTF-8 bytes (\xE2\x80\xAE), never
// as \u202E: bash decodes \u only in a UTF-8 locale, and in the C locale of
// a container or a cron job it kept "\u202E" as those six characters, so
// the command named another file.
func shellWord(arg string) string {
	arg = dropCredentials(finding.RedactText(arg))
	if arg != "" && strings.IndexFunc(arg, func(r rune) bool { return !shellSafe(r) }) < 0 {
		return arg
	}
	if utf8.ValidString(arg) && strings.IndexFunc(arg, finding.Unsafe) < 0 {
		return "'" + strings.ReplaceAll(arg, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(arg); {
		r, n := utf8.DecodeRuneInString(arg[i:])
		switch {
		case r == utf8.RuneError && n <= 1, finding.Unsafe(r):
			for _, c := range []byte(arg[i : i+n]) {
				fmt.Fprintf(&b, `\x%02X`, c)
			}
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
