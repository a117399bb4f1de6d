// Package reporters writes the findings of a scan for people and for
// tools: terminal, json, sarif, gitlab, junit, markdown, github and counts,
// one file each behind one interface (New). Findings in, bytes out: it reads the finding package's
// types and nothing of the scanner, so it builds without git.
//
// A reporter reads a finding's text from scanned data only through
// Finding.Shown, Redacted and PathForURI, which pass it through the one
// redaction and escaping point (finding.Sanitize); the token itself only
// where Options.ShowSecrets asks for it. internal/leakcheck fails the build's
// tests on any other read.
package reporters

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/rules"
)

// Report is what a scan produced.
type Report struct {
	Findings []finding.Finding
	Stats    finding.Stats
	// Root is the absolute path of the scan root (the directory, or the
	// repository's work tree), which finding paths are relative to. It may be
	// empty, as for stdin: SARIF then leaves the base of its URIs to the
	// consumer, which for GitHub is the checkout.
	Root string
	// Notices are what a reviewer must see about the scan as a whole: the
	// scanned change edits the scanner's settings, or the skip list skips
	// everything. Every format lists them.
	Notices []finding.Notice
	// Mode is what was scanned: the terminal's advice on what to do next
	// depends on it (a key in a folder, in history, in the commit being
	// made, in a push).
	Mode Mode
}

// Mode is the kind of scan a report is about.
type Mode int

const (
	ModeFiles   Mode = iota // dir, stdin: keys in files
	ModeHistory             // git: keys in commits, some maybe only in history
	ModeStaged              // git --staged: keys in the commit being made, not yet committed
	ModePrePush             // git --pre-push: keys in commits about to be pushed
)

// Options are the choices the user makes about output, the same for every
// format so that main can build any reporter from its flags alone.
type Options struct {
	// ShowSecrets prints full tokens in the formats meant for the user
	// (terminal, json). The others ignore it: SARIF, GitLab and JUnit files
	// are uploaded, archived as CI artifacts and shown to everyone with
	// access to the repository's alerts or pipelines, and markdown job
	// summaries and github annotations to everyone who can see the run, so
	// they hold the redacted form only (counts holds no token at all).
	ShowSecrets bool
	// Color enables ANSI colours in the terminal format. The caller decides
	// (--no-color, NO_COLOR, whether stdout is a terminal); reporters never
	// guess from the environment, so output into a file or buffer is
	// predictable.
	Color bool
	// Version is the tool version, named in SARIF's tool.driver and in
	// GitLab's scan.analyzer and scan.scanner.
	Version string
	// Now returns the current time. The terminal format says how long a key
	// has until it expires ("expires in 5 days") and the GitLab format
	// records when the scan started and ended; tests set Now so that their
	// output is reproducible. Nil means time.Now.
	Now func() time.Time
}

// Reporter writes a report in one format. Report is called once per scan,
// after the scan, with every finding: the formats are documents, not
// streams.
type Reporter interface {
	Report(w io.Writer, r Report) error
}

// The formats, in the order they are listed to the user. Formats returns
// them; New accepts exactly these.
const (
	FormatTerminal = "terminal"
	FormatJSON     = "json"
	FormatSARIF    = "sarif"
	FormatGitLab   = "gitlab"
	FormatJUnit    = "junit"
	FormatMarkdown = "markdown"
	FormatGitHub   = "github"
	FormatCounts   = "counts"
)

// Formats returns the names New accepts, for --format's help text, its
// validation and tests that must cover every format.
func Formats() []string {
	return []string{FormatTerminal, FormatJSON, FormatSARIF, FormatGitLab, FormatJUnit, FormatMarkdown, FormatGitHub, FormatCounts}
}

// ParseFormat returns the format named by name, one of Formats, in any
// case and with surrounding spaces ignored: "JSON" is json.
func ParseFormat(name string) (string, error) {
	f := strings.ToLower(strings.TrimSpace(name))
	for _, known := range Formats() {
		if f == known {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown format %q: use one of %s", name, strings.Join(Formats(), ", "))
}

// New returns the reporter for format, one of Formats (see ParseFormat).
func New(format string, opts Options) (Reporter, error) {
	format, err := ParseFormat(format)
	if err != nil {
		return nil, err
	}
	switch format {
	case FormatTerminal:
		return newTerminal(opts), nil
	case FormatJSON:
		return &jsonReporter{opts: opts}, nil
	case FormatSARIF:
		return &sarifReporter{opts: opts}, nil
	case FormatGitLab:
		return &gitlabReporter{opts: opts}, nil
	case FormatJUnit:
		return &junitReporter{opts: opts}, nil
	case FormatMarkdown:
		return &markdownReporter{opts: opts}, nil
	case FormatGitHub:
		return &githubReporter{opts: opts}, nil
	}
	return &countsReporter{}, nil
}

// label is the short human name of a rule, used in the terminal, in SARIF
// and JUnit messages and as GitLab's vulnerability name.
func label(ruleID string) string {
	switch ruleID {
	case rules.RuleAPIKey:
		return "Lofty API key"
	case rules.RuleUnconfirmed:
		return "unconfirmed token in Lofty context"
	}
	return ruleID
}

// remediation is what to do about a finding of the rule, in plain text: the
// GitLab solution and the JUnit failure's advice.
func remediation(ruleID string) string {
	if ruleID == rules.RuleUnconfirmed {
		return "This token may be another service's, used beside Lofty code. Find out which. " +
			"If it is another service's token, rotate it there. If it is a Lofty key, treat it as one.\n\n" +
			remediationText
	}
	return remediationText
}

// scanErrors says, for the CI formats, that n things could not be scanned
// in full. The warnings that say which went to stderr, the job log.
func scanErrors(n int64) string {
	return plural(n, "error", "errors") + ": some content could not be read, or not wholly; see the warnings in the job log"
}

// describeExpiry says in a few words whether a finding's token still works
// by its own claims: "active, expires 2027-01-02 15:04 UTC",
// "expired 2023-11-14" or "no expiry". Times are in UTC so that a report
// reads the same wherever it was made.
func describeExpiry(f finding.Finding) string {
	switch f.Status {
	case rules.StatusExpired:
		if f.ExpiresAt.IsZero() {
			return "expired"
		}
		return "expired " + f.ExpiresAt.UTC().Format(time.DateOnly)
	case rules.StatusActive:
		if f.ExpiresAt.IsZero() {
			return "active"
		}
		return "active, expires " + f.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")
	case rules.StatusNoExpiry:
		return "no expiry"
	}
	return string(f.Status)
}

// describeVerification says in a few words what Lofty answered when --verify
// asked about the finding's token: "LIVE: Lofty accepted this key",
// "invalid: Lofty rejected it (revoked or expired)" or "unknown: rate
// limited". It is "" when the token was not verified.
func describeVerification(f finding.Finding) string {
	switch f.Verification {
	case "":
		return ""
	case finding.Live:
		return "LIVE: Lofty accepted this key"
	case finding.Invalid:
		return "invalid: Lofty rejected it (revoked or expired)"
	}
	reason := f.Shown().VerificationReason
	if reason == "" && f.Verification == finding.Unknown {
		reason = "no answer from Lofty"
	}
	if reason == "" {
		return string(f.Verification)
	}
	return string(f.Verification) + ": " + reason
}

// suppressedInSource reports whether a finding is suppressed by a marker in
// the scanned file itself (an inline loftyscan:allow) rather than by
// something kept apart from it (.loftyscanignore, a baseline). SARIF tells
// the two apart.
func suppressedInSource(f finding.Finding) bool {
	return strings.HasPrefix(f.Suppressed, finding.SuppressedInline)
}

// countSuppressed is how many findings the scan suppressed: the stats'
// count, or the number of suppressed findings in the report if that is
// more (a caller that shows them but did not count them).
func countSuppressed(r Report) int64 {
	var shown int64
	for _, f := range r.Findings {
		if f.Suppressed != "" {
			shown++
		}
	}
	return max(shown, r.Stats.Suppressed)
}

// shortCommit is the abbreviated hash people recognise from git log.
func shortCommit(c string) string {
	if len(c) > 7 {
		return c[:7]
	}
	return c
}

// rfc3339 formats t in UTC, the form both JSON and SARIF use for times.
func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
