package reporters

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/ghaction"
)

// githubReporter writes one GitHub Actions workflow command per finding
// that counts, for a step's output: the runner turns each into an
// annotation on the run and, when the file and line are part of the pull
// request, on the diff. It needs no code scanning (GitHub Advanced
// Security), so private repositories without it see findings too:
//
//	::error file=config/.env,line=3,col=19,title=Lofty API key (high)::Lofty API key eyJ…YH7U#bc8bb4d6: active, …
//
// Live and active keys are errors (::error); unconfirmed tokens, rejected
// and expired keys, which need a look but no revoking, are warnings
// (::warning), and so are keys the scanned change adds on a line with a
// loftyscan:allow comment, which do not count but need a reviewer's look,
// and the report's notices (the change edits the scanner's settings),
// which come first. Findings come most urgent first: GitHub shows only the
// first 10 errors and 10 warnings of a step as annotations, and 50 of a
// job. Other suppressed findings are left out, even with --show-suppressed:
// they do not count.
//
// The message names the rule, the redacted token, the expiry, what
// --verify learnt, the commit that introduced a key found in history (or
// the commit or tag whose message holds it), where the key went (the refs
// that hold it, whether it was pushed, or that only a reflog or nothing
// reaches it), the fingerprint, and what to do. A key in a message is
// annotated at the path that stands for the message
// (".git/commits/<hash>/message"), as in SARIF: no file of the diff. Tokens are always redacted, whatever
// Options.ShowSecrets says: annotations are shown to everyone who can see
// the run. Text from the scanned content is read through Finding.Shown
// (the redaction and escaping point) and then escaped by ghaction's rules,
// so a path or commit message cannot end the command early, start another
// one or drive the log's display.
//
// Paths are as in the other reports: relative to the scan root, which for
// `loftyscan git` is the repository's root, where GitHub looks for them.
type githubReporter struct {
	opts Options
}

func (g *githubReporter) Report(w io.Writer, r Report) error {
	bw := bufio.NewWriter(w)
	for _, n := range r.Notices {
		fmt.Fprintln(bw, ghaction.Annotation{
			Level:   ghaction.LevelWarning,
			Title:   "Review the scan's settings",
			File:    finding.Sanitize(n.Path),
			Message: finding.Sanitize(n.Message),
		}.String())
	}
	groups := byGroup(r.Findings)
	for gi, fs := range groups[:groupSuppressed] {
		for _, f := range fs {
			fmt.Fprintln(bw, githubAnnotation(f, group(gi)).String())
		}
	}
	return bw.Flush()
}

// githubAnnotation is the workflow command for finding f of group g.
func githubAnnotation(f finding.Finding, g group) ghaction.Annotation {
	level := ghaction.LevelWarning
	if g == groupLive || g == groupActive {
		level = ghaction.LevelError
	}
	title := fmt.Sprintf("%s (%s)", upperFirst(label(f.RuleID)), f.Severity())
	if g == groupAllowedInChange {
		title = upperFirst(label(f.RuleID)) + " allowed by the change: review it"
	}
	return ghaction.Annotation{
		Level:   level,
		Title:   title,
		File:    f.Shown().Artifact,
		Line:    f.Line,
		Col:     f.Column,
		Message: githubMessage(f, g),
	}
}

// githubMessage says what the finding is and what to do, in a few lines.
func githubMessage(f finding.Finding, g group) string {
	s := f.Shown()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s", upperFirst(label(f.RuleID)), f.Redacted(), describeExpiry(f))
	if v := describeVerification(f); v != "" {
		b.WriteString("; " + v)
	}
	b.WriteString(".")
	if f.Encoding != "" {
		b.WriteString(" Encoded as " + s.Encoding + ".")
	}
	switch {
	case f.Location == finding.InPath, f.Location == finding.InRef:
		fmt.Fprintf(&b, "\nIn %s.", describePlace(f))
	case f.Location.OfObject():
		fmt.Fprintf(&b, "\nIn %s, line %d.", describePlace(f), f.Line)
	case f.Commit != "":
		fmt.Fprintf(&b, "\nIntroduced in commit %s", shortCommit(f.Commit))
		if f.Author != "" {
			b.WriteString(" by " + s.Author)
		}
		if !f.Date.IsZero() {
			b.WriteString(", " + f.Date.UTC().Format("2006-01-02"))
		}
		if f.InHead != nil && !*f.InHead {
			b.WriteString("; no longer in HEAD, only in history")
		}
		b.WriteString(".")
	}
	if w := whereItWent(f); w != "" {
		b.WriteString("\n" + w)
	}
	b.WriteString("\n" + githubAdvice[g])
	b.WriteString("\nFingerprint " + f.Fingerprint + " (for .loftyscanignore).")
	return b.String()
}

// githubAdvice is the one sentence of what to do about a finding of each
// group.
var githubAdvice = [numGroups]string{
	groupLive:        "Lofty accepted this key: revoke it now in Lofty → Settings → Integrations → API, then remove it.",
	groupActive:      "Revoke it in Lofty → Settings → Integrations → API and create a new one, then remove it.",
	groupUnconfirmed: "Find out whose token this is and rotate it there (revoke it in Lofty if it is a Lofty key), then remove it.",
	groupRejected:    "Lofty rejected this key: nothing to revoke, but remove it.",
	groupExpired:     "It has expired: nothing to revoke, but remove it.",
	groupAllowedInChange: "The change adds this key on a line with a loftyscan:allow comment, so it does not fail the scan: " +
		"check that it is a test fixture or a revoked key (--no-inline-allow makes such keys count).",
}

// upperFirst capitalises the first letter of s, which is ASCII.
func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
