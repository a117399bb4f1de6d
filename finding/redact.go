package finding

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/loftyscan/loftyscan/rules"
)

// Redaction. Every string that reaches output and may hold scanned content
// (a token, a path or archive entry name, a library's error quoting either,
// a URL with credentials) passes through this file: the scanner's warnings,
// the CLI's errors and hints, the reporters' redacted tokens.

// Redact shortens a token to a form that is safe to print: all but its
// first 10 and last 4 characters are cut out. The first 10 are the start
// of the public JOSE header and the last 4 cannot be used to rebuild the
// key; together they let a person tell two findings apart.
func Redact(tok string) string {
	if len(tok) <= 20 || !utf8.ValidString(tok) {
		return "[redacted]"
	}
	return tok[:10] + "…" + tok[len(tok)-4:]
}

// RedactText replaces every JWS-shaped token in s with its redacted form.
// Messages that quote content (a warning naming a file whose name holds a
// key, a panic value, an error from a library) pass through it, so that no
// log line carries a full token.
func RedactText(s string) string {
	cands := rules.FindCandidates([]byte(s))
	if len(cands) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, c := range cands {
		b.WriteString(s[last:c.Start])
		b.WriteString(Redact(s[c.Start:c.End]))
		last = c.End
	}
	b.WriteString(s[last:])
	return b.String()
}

// RedactURL returns rawURL safe to print: user names and passwords (a
// token in the user name is common) become "***".
func RedactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		if err != nil && strings.Contains(rawURL, "@") && strings.Contains(rawURL, "://") {
			return "[a URL with credentials]"
		}
		return rawURL
	}
	u.User = nil
	s := u.String()
	scheme, rest, _ := strings.Cut(s, "://")
	return scheme + "://***@" + rest
}

// RedactURLIn removes rawURL's credentials from msg (a transport library's
// error about it), in every form the library might have quoted them.
func RedactURLIn(msg, rawURL string) string {
	msg = strings.ReplaceAll(msg, rawURL, RedactURL(rawURL))
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return msg
	}
	secrets := []string{u.User.String(), u.User.Username()}
	if pw, ok := u.User.Password(); ok {
		secrets = append(secrets, pw, url.QueryEscape(pw), url.PathEscape(pw))
	}
	for _, s := range secrets {
		if len(s) >= 4 { // short user names ("git") are not secrets, and would garble the message
			msg = strings.ReplaceAll(msg, s, "***")
		}
	}
	return msg
}

// ValidPath returns p with every byte that is not valid UTF-8 replaced by
// U+FFFD, as paths from scanned data (file names, tree entries, archive
// entries) are shown.
func ValidPath(p string) string { return strings.ToValidUTF8(p, "\uFFFD") }
