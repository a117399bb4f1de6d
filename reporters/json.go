package reporters

import (
	"encoding/json"
	"github.com/loftyscan/loftyscan/finding"
	"io"
)

// jsonReporter writes the report as one JSON object, for scripts and CI
// steps that act on findings. Its field names are a contract: add fields,
// never rename or remove them.
//
// The object has three members:
//
//	{
//	  "findings": [ ... ],   // always an array, [] when nothing was found
//	  "stats": { ... },
//	  "notices": [ ... ]     // always an array, [] when there is nothing to review
//	}
//
// Each finding has:
//
//	rule_id      "lofty-api-key" or "lofty-unconfirmed-token"
//	fingerprint  lowercase hex SHA-256 of the token: stable across scans, safe to share
//	path         slash-separated, relative to the scan root; "outer.zip!inner/file" in archives
//	line         1-based line of the token's first character (of the encoded text, when encoded)
//	column       1-based column of that character, in characters
//	confirmed    true when the claims carry the THIRD_PARTY_OPERATION scope
//	status       "active", "expired" or "no-expiry"
//	expires_at   RFC 3339 time in UTC, or null when the token never expires
//	redacted     the token's printable form, "eyJ…<last 4 characters>#<first 8 hex digits of
//	             the fingerprint>" (see finding.Redact)
//	severity     "critical" (a key --verify found live), "high", "medium" or "low"
//	             (see finding.Finding.Severity)
//	alg          the JWS header's alg
//	encoding     the wrapping the token was found in ("base64", "utf-16le"...); omitted for plain text
//	subject      the sub claim; omitted when there is none
//	location     "path" when the key is in the name of the file, folder, link or
//	             archive entry at path (its last element; line and column are the
//	             key's in that name), in a scan of folders or standard input;
//	             omitted for a key in a file outside git (git findings: below)
//
// With --verify, a finding adds what Lofty answered:
//
//	verification         "live" (Lofty accepted the key), "invalid" (Lofty rejected it:
//	                     revoked, expired or never issued) or "unknown" (no answer);
//	                     omitted for a finding that was not verified
//	verification_reason  why the answer is "unknown" ("rate limited", "timeout",
//	                     "expired by its claims: not sent"...); omitted when there is none
//
// A suppressed finding adds why it does not count:
//
//	suppressed   "inline loftyscan:allow", ".loftyscanignore:3: revoked 2024",
//	             "baseline old.json"...; omitted for a finding that counts.
//	             "inline loftyscan:allow, added by the scanned change" for a key
//	             that a scanned change (--range, --pre-push, --staged) adds on a
//	             line with the comment
//
// Suppressed findings are listed only with --show-suppressed, except those
// a scanned change allows inline, which are always listed; otherwise the
// findings array holds only the ones that count, and stats.suppressed says
// how many were left out.
//
// Findings from git history add:
//
//	commit       full hash of the commit that introduced the token at that path
//	             (for a tag message, the commit the tag points at); omitted for a
//	             blob no commit holds
//	author       its author's name (for a tag message, the tagger's)
//	email        its author's email
//	date         its author date, RFC 3339 in UTC
//	message      the first line of its message, with any key in it redacted
//	location     "file", "commit-message" (the whole message of commit, from its
//	             subject, line 1, on; path is ""), "commit-header" (its header
//	             lines, from the object's first line, tree, line 1, on; path is
//	             ""), "tag-message" (the message of the annotated tag named by
//	             tag; path is "") or "tag-header" (its header lines)
//	tag          the annotated tag's name, for a tag's message or headers
//	in_head      whether the token is still in HEAD; omitted when unknown
//	unreachable  true when no ref, HEAD or reflog reaches the commit, tag or blob:
//	             only the object database keeps it (a copied .git folder); omitted
//	             otherwise. A blob no commit holds has no commit, and the path an
//	             index names it under, or its hash
//	exposure     where the key went: reachable_from ("refs", "reflog" or
//	             "nothing"); commits (how many commits reachable from a ref carry
//	             the key: their tree holds it, or their message for a commit
//	             message); last_commit (the newest commit of HEAD's first-parent
//	             line that carries it; omitted when none); pushed (a
//	             remote-tracking branch carries it); ref_count and refs (the refs
//	             whose history carries it, at most 100: name, kind "branch",
//	             "remote-tracking", "tag", "stash", "notes" or "other",
//	             contains_commit, in_tip, last_commit)
//
// Every string that comes from scanned data (path, subject, alg,
// suppressed, verification_reason, author, email, message, tag, the names
// of exposure's refs) is as
// finding.Sanitize shows it: a JWS-shaped part is in its redacted form, and
// control, bidirectional and other invisible characters are written as
// \xNN or \uNNNN, so that a script that prints a field cannot leak a key or
// drive a terminal or CI log. Such a path differs from the name on disk only
// where it held a key or such a character.
//
// and with --show-secrets, and only then:
//
//	secret       the full token
//
// The stats are:
//
//	files        files, archive entries and blobs scanned
//	bytes        bytes scanned, after decompression
//	duration     wall time as a Go duration string, e.g. "12.3ms"
//	duration_ms  the same in whole milliseconds
//	findings     number of findings that count, suppressed ones excluded
//	suppressed   number of findings suppressed by loftyscan:allow, .loftyscanignore or a baseline
//	skipped      things not scanned on purpose (symlinks, devices...)
//	errors       things that could not be read, or not wholly
//	warnings     warnings given, errors included
//
// Each notice is something about the scan as a whole that a reviewer must
// see:
//
//	kind         "settings-changed": the scanned change adds, edits or removes a
//	             file that decides what loftyscan reports (the scan used the base's
//	             version); "skip-everything": the skip list skips every path
//	path         the file, from the top of the repository; omitted when none
//	message      what it means, in a sentence
//
// The output is indented, ends in a newline, and does not escape <, > and &
// (tokens and paths stay readable in a terminal).
type jsonReporter struct {
	opts Options
}

type jsonReport struct {
	Findings []jsonFinding `json:"findings"`
	Stats    jsonStats     `json:"stats"`
	Notices  []jsonNotice  `json:"notices"`
}

type jsonNotice struct {
	Kind    string `json:"kind"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

type jsonFinding struct {
	RuleID      string  `json:"rule_id"`
	Fingerprint string  `json:"fingerprint"`
	Path        string  `json:"path"`
	Line        int     `json:"line"`
	Column      int     `json:"column"`
	Confirmed   bool    `json:"confirmed"`
	Status      string  `json:"status"`
	ExpiresAt   *string `json:"expires_at"` // null, not absent, for no expiry
	Redacted    string  `json:"redacted"`
	Severity    string  `json:"severity"`
	Alg         string  `json:"alg"`
	Encoding    string  `json:"encoding,omitempty"`
	Subject     string  `json:"subject,omitempty"`

	Verification       string `json:"verification,omitempty"`
	VerificationReason string `json:"verification_reason,omitempty"`
	Suppressed         string `json:"suppressed,omitempty"`

	*jsonGit        // nil outside git scans, which drops all its fields
	Secret   string `json:"secret,omitempty"`
}

type jsonGit struct {
	*jsonCommit               // nil for a blob no commit holds
	Location    string        `json:"location"`
	Tag         string        `json:"tag,omitempty"`
	InHead      *bool         `json:"in_head,omitempty"`
	Unreachable bool          `json:"unreachable,omitempty"`
	Exposure    *jsonExposure `json:"exposure,omitempty"`
}

type jsonCommit struct {
	Commit  string `json:"commit"`
	Author  string `json:"author"`
	Email   string `json:"email"`
	Date    string `json:"date"`
	Message string `json:"message"`
}

type jsonStats struct {
	Files      int64  `json:"files"`
	Bytes      int64  `json:"bytes"`
	Duration   string `json:"duration"`
	DurationMS int64  `json:"duration_ms"`
	Findings   int64  `json:"findings"`
	Suppressed int64  `json:"suppressed"`
	Skipped    int64  `json:"skipped"`
	Errors     int64  `json:"errors"`
	Warnings   int64  `json:"warnings"`
}

func (j *jsonReporter) Report(w io.Writer, r Report) error {
	out := jsonReport{
		Findings: make([]jsonFinding, 0, len(r.Findings)),
		Stats: jsonStats{
			Files:      r.Stats.Files,
			Bytes:      r.Stats.Bytes,
			Duration:   r.Stats.Duration.String(),
			DurationMS: r.Stats.Duration.Milliseconds(),
			Findings:   r.Stats.Findings,
			Suppressed: r.Stats.Suppressed,
			Skipped:    r.Stats.Skipped,
			Errors:     r.Stats.Errors,
			Warnings:   r.Stats.Warnings,
		},
	}
	out.Notices = make([]jsonNotice, 0, len(r.Notices))
	for _, n := range r.Notices {
		out.Notices = append(out.Notices, jsonNotice{Kind: n.Kind, Path: finding.Sanitize(n.Path), Message: finding.Sanitize(n.Message)})
	}
	for _, f := range r.Findings {
		s := f.Shown()
		jf := jsonFinding{
			RuleID:      f.RuleID,
			Fingerprint: f.Fingerprint,
			Path:        s.Path,
			Line:        f.Line,
			Column:      f.Column,
			Confirmed:   f.Confirmed(),
			Status:      string(f.Status),
			Redacted:    f.Redacted(),
			Severity:    string(f.Severity()),
			Alg:         s.Alg,
			Encoding:    s.Encoding,
			Subject:     s.Subject,

			Verification:       string(f.Verification),
			VerificationReason: s.VerificationReason,
			Suppressed:         s.Suppressed,
		}
		if !f.ExpiresAt.IsZero() {
			s := rfc3339(f.ExpiresAt)
			jf.ExpiresAt = &s
		}
		if f.Location == finding.InPath && !fromGit(f) {
			jf.jsonGit = &jsonGit{Location: f.Location.Name()}
		}
		if fromGit(f) {
			jf.jsonGit = &jsonGit{
				Location:    f.Location.Name(),
				Tag:         s.Tag,
				InHead:      f.InHead,
				Unreachable: f.Unreachable,
				Exposure:    exposureJSON(f),
			}
			if f.Commit != "" {
				jf.jsonCommit = &jsonCommit{
					Commit:  f.Commit,
					Author:  s.Author,
					Email:   s.Email,
					Date:    rfc3339(f.Date),
					Message: s.Message,
				}
			}
		}
		if j.opts.ShowSecrets {
			// The one place the JSON report holds a token in full: asked for.
			jf.Secret = f.Secret
		}
		out.Findings = append(out.Findings, jf)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
