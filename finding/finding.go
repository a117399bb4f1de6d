// Package finding holds what every layer of loftyscan shares about a scan's
// results: the Finding, the Stats, the Warning, how urgent a finding is
// (Severity), what Lofty said of it (Verification), the order reports list
// findings in (Sort), and the one place text from scanned data is redacted
// and escaped before it is printed (Sanitize, Shown, Redact, RedactURL).
//
// It is a leaf: it imports the rules (pure functions over bytes) and
// nothing that does I/O, so the reporters can depend on it without pulling
// in the scanner or git.
package finding

import (
	"errors"
	"io/fs"
	"time"

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

	// Verification is set by --verify; "" when the key was not checked.
	// VerificationReason says why for Unknown ("rate limited", "timeout",
	// "expired by its claims: not sent").
	Verification       Verification
	VerificationReason string

	// Git fields, empty for files on disk.
	Commit  string
	Author  string
	Email   string
	Date    time.Time
	Message string // first line of the commit message, redacted
	InHead  *bool  // nil outside git scans

	// Location says where in a repository the key is: in a file (the
	// zero value), or in the message or header lines of Commit or of the
	// annotated tag Tag.
	Location Location
	// Tag is the name of the annotated tag whose message or headers hold
	// the key ("v1.0" for refs/tags/v1.0), for Location InTagMessage and
	// InTagHeader.
	Tag string
	// Unreachable is true when no ref, HEAD or reflog reaches the key: it
	// is in a commit, tag or blob kept only in the object database (a
	// copied .git folder carries it until git gc prunes it).
	Unreachable bool
	// Exposure says where a key found in history went: the refs that hold
	// it, whether each tip still does, how many commits carry it. Nil
	// outside history scans.
	Exposure *Exposure
}

// SuppressedInline is Finding.Suppressed for a token whose line carries the
// rules.AllowMarker comment.
const SuppressedInline = "inline " + rules.AllowMarker

// Confirmed reports whether the finding is a scope-confirmed Lofty API key.
func (f Finding) Confirmed() bool { return f.RuleID == rules.RuleAPIKey }

// Verification is what Lofty's API said about a key when --verify asked.
type Verification string

// The answers --verify records. The zero value means the key was not sent.
const (
	Live    Verification = "live"    // Lofty accepted the key (200, or 403: it authenticated)
	Invalid Verification = "invalid" // Lofty rejected it (401): revoked, expired or never issued
	Unknown Verification = "unknown" // no answer: rate limited, a server error, a timeout
)

// Severity is how urgent a finding is. Every reporter maps it the same way
// (SARIF error/error/warning/note, GitLab Critical/High/Medium/Low).
type Severity string

// The severities, most urgent first.
const (
	Critical Severity = "critical" // a key --verify found live
	High     Severity = "high"     // a confirmed key that has not expired
	Medium   Severity = "medium"   // an unconfirmed token in a Lofty context that has not expired
	Low      Severity = "low"      // anything expired, or rejected by Lofty
)

// Severity says how urgent the finding is.
func (f Finding) Severity() Severity {
	switch {
	case f.Verification == Live:
		return Critical
	case f.Status == rules.StatusExpired, f.Verification == Invalid:
		return Low
	case f.Confirmed():
		return High
	default:
		return Medium
	}
}

// Redacted returns the token's printable form (see Redact).
func (f Finding) Redacted() string { return Redact(f.Secret) }

// Shown is a finding's text from scanned data in the form reports print
// it: each field passed through Sanitize, so that it holds no full token
// and nothing that can drive a terminal or a CI log. A report that must
// still identify the file (JSON's path, GitLab's location) prints this
// form too: only token-shaped parts and unsafe characters differ from the
// name on disk, and the redacted form's fingerprint digits keep two such
// names apart.
type Shown struct {
	Path               string
	Encoding           string
	Alg                string
	Subject            string
	Suppressed         string
	VerificationReason string
	Author             string
	Email              string
	Message            string
	Tag                string
	// Artifact is Path, or for a key in a message the path that stands
	// for it (see Finding.artifactPath).
	Artifact string
	// Refs are the names of Exposure.Refs, in the same order.
	Refs []ShownRef
}

// ShownRef is a ref's name as reports print it, sanitized.
type ShownRef struct {
	Name  string // the full name: refs/heads/main
	Short string // as people write it: main, origin/main, v1.0
}

// Shown returns the finding's printable text. Reporters read a finding's
// data only through Shown, Redacted and PathForURI (internal/leakcheck
// checks it); Secret is printed only where the user asked for secrets.
func (f Finding) Shown() Shown {
	return Shown{
		Path:               Sanitize(f.Path),
		Encoding:           Sanitize(f.Encoding),
		Alg:                Sanitize(f.Alg),
		Subject:            Sanitize(f.Subject),
		Suppressed:         Sanitize(f.Suppressed),
		VerificationReason: Sanitize(f.VerificationReason),
		Author:             Sanitize(f.Author),
		Email:              Sanitize(f.Email),
		Message:            Sanitize(f.Message),
		Tag:                Sanitize(f.Tag),
		Artifact:           Sanitize(f.artifactPath()),
		Refs:               shownRefs(f.Exposure),
	}
}

func shownRefs(e *Exposure) []ShownRef {
	if e == nil {
		return nil
	}
	out := make([]ShownRef, len(e.Refs))
	for i, r := range e.Refs {
		out[i] = ShownRef{Name: Sanitize(r.Name), Short: Sanitize(r.Short())}
	}
	return out
}

// PathForURI is the finding's artifact path (artifactPath) for a format
// that percent-encodes it into a URI (SARIF's artifactLocation):
// token-shaped parts redacted, other characters kept, so that the URI
// still names the file whenever no key is in its name. See RedactPath.
func (f Finding) PathForURI() string { return RedactPath(f.artifactPath()) }

// Stats counts what a scan read and what it could not.
type Stats struct {
	Files    int64         // files (and archive entries, and blobs) scanned
	Bytes    int64         // bytes scanned, after decompression
	Duration time.Duration // wall time of the scan
	Skipped  int64         // things not scanned on purpose: symlinks, devices, FIFOs, sockets
	Errors   int64         // things that could not be read, or not wholly: each also gave a warning (a partial clone's missing blobs share one)
	Warnings int64         // warnings given, errors included

	// Findings counts the findings that count (not suppressed), and
	// Suppressed those not reported because of an inline loftyscan:allow,
	// .loftyscanignore or a baseline: suppressed findings are listed only
	// with --show-suppressed and never change the exit code. A scan does
	// not set them: Count does, once the findings are final.
	Findings   int64
	Suppressed int64
}

// Count sets Findings and Suppressed from the final findings of a scan.
// It is the one place findings are counted.
func (s *Stats) Count(fs []Finding) {
	s.Findings, s.Suppressed = 0, 0
	for _, f := range fs {
		if f.Suppressed != "" {
			s.Suppressed++
		} else {
			s.Findings++
		}
	}
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

// String formats the warning as "path: message", as it came: printing it
// takes Sanitize, as for any text from scanned data.
func (w Warning) String() string {
	if w.Path == "" {
		return w.Message
	}
	return w.Path + ": " + w.Message
}

// DropPath returns the cause of a file system error in err ("permission
// denied"), for a message that already names the path; other errors are
// returned as they are.
func DropPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
