package reporters

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fatih/color"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/rules"
)

// terminalReporter writes findings for a person reading a terminal or a CI
// log. Findings are grouped by how urgent they are, most urgent first, each
// group under a heading with its count: keys Lofty said are live, then keys
// that work by their claims, then unconfirmed tokens, then keys Lofty
// rejected, then expired ones, and last, with --show-suppressed, the
// suppressed ones and why. Each finding is one block: where it is, the
// redacted token, the account, when it expires in plain words, what Lofty
// said of it, and for git findings the commit (or tag) and where the key
// went: the branches, remote-tracking branches and tags that hold it and
// whether each still does, how many commits carry it, or that only a
// reflog or nothing reaches it. A summary line and what to
// do next, fitted to what was found, end the report.
type terminalReporter struct {
	opts Options
	// now is the time expiries are described from ("expires in 5 days");
	// nil describes them by date alone, as the archived JUnit report does.
	now func() time.Time

	// Each reporter owns its colours and switches them on or off itself.
	// fatih/color's global default looks at os.Stdout, which says nothing
	// about the writer we are given (a file, a buffer, stderr).
	critical, high, medium, low *color.Color // by severity; dim for suppressed too
	path, field                 *color.Color
	secret                      *color.Color
	bad, good                   *color.Color // the summary, with and without findings
}

func newTerminal(opts Options) *terminalReporter {
	t := &terminalReporter{
		opts:     opts,
		now:      time.Now,
		critical: color.New(color.FgRed, color.Bold),
		high:     color.New(color.FgRed),
		medium:   color.New(color.FgYellow),
		low:      color.New(color.Faint),
		path:     color.New(color.Bold),
		field:    color.New(color.Faint),
		secret:   color.New(color.FgRed),
		bad:      color.New(color.FgRed, color.Bold),
		good:     color.New(color.FgGreen, color.Bold),
	}
	if opts.Now != nil {
		t.now = opts.Now
	}
	for _, c := range []*color.Color{t.critical, t.high, t.medium, t.low, t.path, t.field, t.secret, t.bad, t.good} {
		if opts.Color {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
	}
	return t
}

// group is where a finding goes in the terminal report. The order of the
// constants is the order of the report: most urgent first.
type group int

const (
	groupLive            group = iota // --verify: Lofty accepted the key
	groupActive                       // a confirmed key, not expired, not rejected
	groupUnconfirmed                  // a token in a Lofty context, not expired
	groupRejected                     // a confirmed key Lofty rejected (401)
	groupExpired                      // expired by its own claims
	groupAllowedInChange              // keys the scanned change adds with a loftyscan:allow: not counted, always shown
	groupSuppressed                   // shown only with --show-suppressed
	numGroups

	// firstUncounted is the first group whose findings do not count.
	firstUncounted = groupAllowedInChange
)

// groups describes each group: its heading, a line that says what its
// findings mean, and the words the summary counts them with.
var groups = [numGroups]struct {
	heading, about, one, many string
}{
	groupLive: {"LIVE KEYS",
		"Lofty accepted these keys: anyone with a copy can use the account now.",
		"live key", "live keys"},
	groupActive: {"ACTIVE KEYS",
		"Lofty API keys that have not expired: treat each as live until it is revoked.",
		"active key", "active keys"},
	groupUnconfirmed: {"UNCONFIRMED TOKENS IN LOFTY CONTEXT",
		"Tokens beside Lofty names but without the Lofty API scope: find out whose they are.",
		"unconfirmed token", "unconfirmed tokens"},
	groupRejected: {"REJECTED BY LOFTY",
		"Lofty refused these keys when --verify asked: they were revoked, or never issued.",
		"rejected key", "rejected keys"},
	groupExpired: {"EXPIRED",
		"Past the expiry in their claims: they no longer work.",
		"expired token", "expired tokens"},
	groupAllowedInChange: {"ALLOWED BY THE SCANNED CHANGE",
		"Keys the change adds on lines with a loftyscan:allow comment: they do not fail the scan, but review each (--no-inline-allow makes them count).",
		"allowed by the change", "allowed by the change"},
	groupSuppressed: {"SUPPRESSED",
		"Listed because of --show-suppressed: they do not count and do not fail the scan.",
		"suppressed", "suppressed"},
}

func groupOf(f finding.Finding) group {
	switch {
	case f.Suppressed == finding.SuppressedInlineInChange:
		return groupAllowedInChange
	case f.Suppressed != "":
		return groupSuppressed
	case f.Verification == finding.Live:
		return groupLive
	case f.Status == rules.StatusExpired:
		return groupExpired
	case f.Confirmed() && f.Verification == finding.Invalid:
		return groupRejected
	case f.Confirmed():
		return groupActive
	}
	return groupUnconfirmed
}

// color is how a group's heading and its findings' headers are drawn.
func (t *terminalReporter) color(g group) *color.Color {
	switch g {
	case groupLive:
		return t.critical
	case groupActive:
		return t.high
	case groupUnconfirmed:
		return t.medium
	}
	return t.low
}

// byGroup sorts findings into their groups, keeping their order within
// each.
func byGroup(findings []finding.Finding) [numGroups][]finding.Finding {
	var out [numGroups][]finding.Finding
	for _, f := range findings {
		g := groupOf(f)
		out[g] = append(out[g], f)
	}
	return out
}

func (t *terminalReporter) Report(w io.Writer, r Report) error {
	byGroup := byGroup(r.Findings)
	bw := bufio.NewWriter(w)
	for g, fs := range byGroup {
		if len(fs) == 0 {
			continue
		}
		c := t.color(group(g))
		fmt.Fprintf(bw, "%s\n", c.Sprintf("%s (%d)", groups[g].heading, len(fs)))
		for _, line := range wrap(groups[g].about, lineWidth, "", "") {
			fmt.Fprintf(bw, "%s\n", t.field.Sprint(line))
		}
		bw.WriteString("\n")
		for _, f := range fs {
			t.writeFinding(bw, f, "  ")
			bw.WriteString("\n")
		}
	}
	t.writeNotices(bw, r.Notices)
	t.writeSummary(bw, r, byGroup)
	return bw.Flush()
}

// writeNotices lists what a reviewer must know about the scan as a whole:
// the change edits the scanner's settings, the skip list skips everything.
func (t *terminalReporter) writeNotices(w *bufio.Writer, notices []finding.Notice) {
	if len(notices) == 0 {
		return
	}
	fmt.Fprintf(w, "%s\n%s\n\n", t.bad.Sprintf("REVIEW THE SCAN'S SETTINGS (%d)", len(notices)), t.field.Sprint("What decides what this scan reports needs a second look."))
	for _, n := range notices {
		w.WriteString(wrapString(finding.Sanitize(n.Message), lineWidth, "  ! ", "    "))
	}
	w.WriteString("\n")
}

// writeFinding writes one finding's block, each line starting with indent.
// The JUnit format writes the same block into its failures.
func (t *terminalReporter) writeFinding(w *bufio.Writer, f finding.Finding, indent string) {
	c := t.low
	if f.Suppressed == "" {
		switch f.Severity() {
		case finding.Critical:
			c = t.critical
		case finding.High:
			c = t.high
		case finding.Medium:
			c = t.medium
		}
	}
	s := f.Shown()
	fmt.Fprintf(w, "%s%s %s (%s)\n", indent, c.Sprintf("[%s]", f.Severity()), label(f.RuleID), f.RuleID)
	fmt.Fprintf(w, "%s%s\n", indent, t.path.Sprint(placeLine(f)))

	// Each field is a name in a column of its own and a value wrapped
	// below itself, so that the block fits lineWidth: the longest name,
	// "fingerprint", and a whole fingerprint make exactly 80 columns.
	// Values are wrapped before they are coloured, so escape codes do not
	// count.
	field := func(name, value string) {
		t.writeField(w, indent, name, value, nil)
	}
	if f.Suppressed != "" {
		field("suppressed", s.Suppressed)
	}
	if t.opts.ShowSecrets {
		// The one place the terminal prints a token in full: asked for.
		t.writeField(w, indent, "token", finding.Escape(f.Secret), t.secret)
	} else {
		field("token", f.Redacted())
	}
	if f.Encoding != "" {
		field("encoding", s.Encoding)
	}
	if f.Subject != "" {
		field("account", s.Subject)
	}
	if t.now != nil {
		field("expiry", describeExpiryFrom(f, t.now()))
	} else {
		field("expiry", describeExpiry(f))
	}
	if v := describeVerification(f); v != "" {
		var c *color.Color
		if f.Verification == finding.Live {
			c = t.critical
		}
		t.writeField(w, indent, "verified", v, c)
	}
	field("fingerprint", f.Fingerprint)
	if f.Location.OfTag() {
		tag := s.Tag
		if f.Author != "" || f.Email != "" {
			tag += " by " + strings.TrimSpace(s.Author+" <"+s.Email+">")
		}
		if !f.Date.IsZero() {
			tag += ", " + f.Date.UTC().Format("2006-01-02 15:04 UTC")
		}
		field("tag", tag)
		if f.Commit != "" {
			field("tags commit", shortCommit(f.Commit))
		}
		if f.Message != "" {
			field("message", s.Message)
		}
	} else if f.Commit != "" {
		commit := shortCommit(f.Commit)
		if f.Author != "" || f.Email != "" {
			commit += " by " + strings.TrimSpace(s.Author+" <"+s.Email+">")
		}
		if !f.Date.IsZero() {
			commit += ", " + f.Date.UTC().Format("2006-01-02 15:04 UTC")
		}
		field("commit", commit)
		if f.Message != "" {
			field("message", s.Message)
		}
		if f.InHead != nil && !f.Location.OfObject() {
			inHead := "no, only in history"
			if *f.InHead {
				inHead = "yes"
			}
			field("in HEAD", inHead)
		}
	}
	switch {
	case f.Unreachable && f.Commit == "" && f.Location == finding.InPath:
		field("commit", "none: no commit holds the tree or archive with this name (a commit given up at its message, a file staged and replaced, or written by hand)")
	case f.Unreachable && f.Commit == "":
		field("commit", "none: no commit holds this blob (staged and replaced before a commit, or written by hand)")
	}
	for _, l := range exposureLines(f) {
		field(l[0], l[1])
	}
}

// fieldWidth is the width of the column of field names in a finding's
// block: the longest name, "fingerprint".
const fieldWidth = 11

// writeField writes one field of a finding's block: its name, then its
// value wrapped at lineWidth under itself, each line coloured with c
// (none when nil).
func (t *terminalReporter) writeField(w *bufio.Writer, indent, name, value string, c *color.Color) {
	first := fmt.Sprintf("%s  %-*s ", indent, fieldWidth, name)
	rest := strings.Repeat(" ", utf8.RuneCountInString(first))
	for i, line := range wrap(value, lineWidth, first, rest) {
		head := first
		if i > 0 {
			head = rest
		}
		text := strings.TrimPrefix(line, head)
		if c != nil {
			text = c.Sprint(text)
		}
		if i == 0 {
			head = fmt.Sprintf("%s  %s ", indent, t.field.Sprintf("%-*s", fieldWidth, name))
		}
		fmt.Fprintf(w, "%s%s\n", head, text)
	}
}

// writeSummary writes the line that counts what was found and scanned,
// wrapped at lineWidth, then what to do about it.
func (t *terminalReporter) writeSummary(w *bufio.Writer, r Report, byGroup [numGroups][]finding.Finding) {
	s := r.Stats
	scanned := fmt.Sprintf("%s (%s, %s)", plural(s.Files, "file", "files"), formatBytes(s.Bytes), formatDuration(s.Duration))
	if s.Errors > 0 {
		scanned += "; " + plural(s.Errors, "error", "errors") + ", see the warnings"
	}
	suppressed := countSuppressed(r)
	var counted int
	var kinds []string
	for g, fs := range byGroup[:firstUncounted] {
		counted += len(fs)
		if len(fs) > 0 {
			kinds = append(kinds, plural(int64(len(fs)), groups[g].one, groups[g].many))
		}
	}
	if n := len(byGroup[groupAllowedInChange]); n > 0 {
		scanned += "; " + plural(int64(n), "key the change adds is", "keys the change adds are") + " allowed inline (loftyscan:allow), see above"
	}
	if len(r.Notices) > 0 {
		scanned += "; " + plural(int64(len(r.Notices)), "notice", "notices") + " about the settings, see above"
	}
	supp := fmt.Sprintf("%d suppressed", suppressed)
	if counted == 0 {
		found := "no Lofty keys found"
		if suppressed > 0 {
			found += " (" + supp + ")"
		}
		t.writeColored(w, t.good, found, " in "+scanned)
		return
	}
	found := fmt.Sprintf("%s (%s)", plural(int64(counted), "finding", "findings"), strings.Join(kinds, ", "))
	if suppressed > 0 {
		found += " and " + supp
	}
	t.writeColored(w, t.bad, found, " in "+scanned)
	w.WriteString("\n")
	writeAdvice(w, advise(r.Mode, byGroup))
}

// writeColored writes head and then tail as one paragraph wrapped at
// lineWidth, with head's words in colour c.
func (t *terminalReporter) writeColored(w *bufio.Writer, c *color.Color, head, tail string) {
	words := len(strings.Fields(head))
	for _, line := range wrap(head+tail, lineWidth, "", "") {
		fs := strings.Fields(line)
		n := min(words, len(fs))
		words -= n
		if n > 0 {
			w.WriteString(c.Sprint(strings.Join(fs[:n], " ")))
			if n < len(fs) {
				w.WriteString(" ")
			}
		}
		w.WriteString(strings.Join(fs[n:], " ") + "\n")
	}
}

// anyVerified reports whether --verify was used: it sets Verification on
// every counted finding.
func anyVerified(byGroup [numGroups][]finding.Finding) bool {
	for _, fs := range byGroup[:firstUncounted] {
		for _, f := range fs {
			if f.Verification != "" {
				return true
			}
		}
	}
	return false
}

// describeExpiryFrom says in plain words when the finding's token stops
// working, counted from now: "expires in 3 years (2029-11-14)", "expires in
// 5 hours (2026-12-01 15:04 UTC)", "expired 2023-11-14", "no expiry: valid
// until revoked". Dates are in UTC so that a report reads the same
// wherever it was made.
func describeExpiryFrom(f finding.Finding, now time.Time) string {
	switch {
	case f.Status == rules.StatusNoExpiry:
		return "no expiry: valid until revoked"
	case f.ExpiresAt.IsZero():
		return string(f.Status)
	}
	exp := f.ExpiresAt.UTC()
	left := exp.Sub(now)
	if f.Status == rules.StatusExpired || left <= 0 {
		return "expired " + exp.Format(time.DateOnly)
	}
	date := exp.Format(time.DateOnly)
	if left < 48*time.Hour {
		date = exp.Format("2006-01-02 15:04 UTC")
	}
	return "expires in " + approxDuration(now.UTC(), exp) + " (" + date + ")"
}

// approxDuration says how long from a to b (b after a) in the largest unit
// that gives a count of at least two, rounded down: "45 minutes", "30
// hours", "59 days", "21 months", "3 years". Months and years are calendar
// ones.
func approxDuration(a, b time.Time) string {
	d := b.Sub(a)
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return plural(int64(d/time.Minute), "minute", "minutes")
	case d < 48*time.Hour:
		return plural(int64(d/time.Hour), "hour", "hours")
	}
	months := (b.Year()-a.Year())*12 + int(b.Month()-a.Month())
	if a.AddDate(0, months, 0).After(b) {
		months--
	}
	switch {
	case months < 2:
		return plural(int64(d/(24*time.Hour)), "day", "days")
	case months < 24:
		return plural(int64(months), "month", "months")
	}
	return plural(int64(months/12), "year", "years")
}

// plural formats a count with the word that agrees with it.
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// formatBytes formats a size in decimal units, one decimal place above
// 1 kB: "512 B", "1.2 MB".
func formatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTP"[exp])
}

// formatDuration rounds a wall time to the precision a person cares about:
// "15ms", "1.23s", "850µs".
func formatDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}
