package finding

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/loftyscan/loftyscan/rules"
)

// Finding is one reported token with the place it was found. It is the one
// type the reporters read.
type Finding struct {
	RuleID      string       // rules.RuleAPIKey or rules.RuleUnconfirmed
	Fingerprint string       // lowercase hex SHA-256 of the token
	Path        string       // slash-separated, relative to the scan root; "a.zip!b/c" inside archives
	Line        int          // 1-based line of the token's first character (of the encoded text, when encoded)
	Column      int          // 1-based column, in characters (UTF-16 code units in UTF-16 text)
	Encoding    string       // "" for plain text, else the wrapping, outermost first: "base64", "utf-16le", "base64/utf-16le"...
	Status      rules.Status // active, expired or no-expiry
	ExpiresAt   time.Time    // zero when the key never expires
	Alg         string       // the JWS header's alg
	Subject     string       // the sub claim, if any
	Secret      string       // the full token; reporters print it only with --show-secrets
	Suppressed  string       // why the finding is not counted ("inline loftyscan:allow", "baseline"...); "" when it counts

	// Verification is set by --verify: "live", "invalid" or "unknown"; ""
	// when the key was not checked. VerificationReason says why for
	// "unknown" ("rate limited", "timeout", "expired by its claims: not sent").
	Verification       string
	VerificationReason string

	// Git fields, empty for files on disk.
	Commit  string
	Author  string
	Email   string
	Date    time.Time
	Message string // first line of the commit message
	InHead  *bool  // nil outside git scans
}

// Confirmed reports whether the finding is a scope-confirmed Lofty API key.
func (f Finding) Confirmed() bool { return f.RuleID == rules.RuleAPIKey }

// Stats counts what a scan read and what it could not.
type Stats struct {
	Files    int64         // files (and archive entries, and blobs) scanned
	Bytes    int64         // bytes scanned, after decompression
	Duration time.Duration // wall time of the scan
	Findings int64         // findings reported
	Skipped  int64         // things not scanned on purpose: symlinks, devices, FIFOs, sockets
	Errors   int64         // things that could not be read, or not wholly: each also gave a warning (a partial clone's missing blobs share one)
	Warnings int64         // warnings given, errors included
	// Suppressed counts findings not reported because of an inline
	// loftyscan:allow, .loftyscanignore or a baseline; they are listed only
	// with --show-suppressed and never change the exit code.
	Suppressed int64
}

// Add sums the counts and durations of two scans run one after the other
// (a repository, then its submodules).
func (s Stats) Add(o Stats) Stats {
	s.Files += o.Files
	s.Bytes += o.Bytes
	s.Duration += o.Duration
	s.Findings += o.Findings
	s.Skipped += o.Skipped
	s.Errors += o.Errors
	s.Warnings += o.Warnings
	s.Suppressed += o.Suppressed
	return s
}

// Warning is something the user should know about a scan that went on
// anyway: an unreadable file, a corrupt archive, a capped entry.
type Warning struct {
	Path    string // where, as in Finding.Path; may be empty
	Message string // what happened, lowercase, no token in it
}

// String formats the warning as "path: message".
func (w Warning) String() string {
	if w.Path == "" {
		return w.Message
	}
	return w.Path + ": " + w.Message
}

// Severity is how urgent a finding is: "critical" for a key --verify found
// live, "high" for a confirmed key that has not expired, "medium" for an
// unconfirmed token in a Lofty context that has not expired, "low" for
// anything expired or rejected by Lofty. Every reporter maps it the same way (SARIF
// error/error/warning/note, GitLab Critical/High/Medium/Low).
func (f Finding) Severity() string {
	switch {
	case f.Verification == "live":
		return "critical"
	case f.Status == rules.StatusExpired, f.Verification == "invalid":
		return "low"
	case f.Confirmed():
		return "high"
	default:
		return "medium"
	}
}

// Redacted returns the token with all but its first 10 and last 4
// characters cut out. The first 10 are the start of the public JOSE header
// and the last 4 cannot be used to rebuild the key; together they let a
// person tell two findings apart.
func (f Finding) Redacted() string { return Redact(f.Secret) }

// Redact shortens a token to a form that is safe to print.
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
