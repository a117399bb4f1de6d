package reporters

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/fatih/color"

	"github.com/loftyscan/loftyscan/rules"
	"github.com/loftyscan/loftyscan/scanner"
)

// terminalReporter writes findings for a person reading a terminal or a CI
// log: one block per finding, a summary line, and what to do next.
type terminalReporter struct {
	opts Options

	// Each reporter owns its colours and switches them on or off itself.
	// fatih/color's global default looks at os.Stdout, which says nothing
	// about the writer we are given (a file, a buffer, stderr).
	high, medium, low *color.Color // the finding's header, by severity
	path, field       *color.Color
	secret            *color.Color
	bad, good         *color.Color // the summary, with and without findings
}

func newTerminal(opts Options) *terminalReporter {
	t := &terminalReporter{
		opts:   opts,
		high:   color.New(color.FgRed, color.Bold),
		medium: color.New(color.FgYellow, color.Bold),
		low:    color.New(color.Faint),
		path:   color.New(color.Bold),
		field:  color.New(color.Faint),
		secret: color.New(color.FgRed),
		bad:    color.New(color.FgRed, color.Bold),
		good:   color.New(color.FgGreen, color.Bold),
	}
	for _, c := range []*color.Color{t.high, t.medium, t.low, t.path, t.field, t.secret, t.bad, t.good} {
		if opts.Color {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
	}
	return t
}

func (t *terminalReporter) Report(w io.Writer, r Report) error {
	bw := bufio.NewWriter(w)
	for _, f := range r.Findings {
		t.writeFinding(bw, f)
		bw.WriteString("\n")
	}
	t.writeSummary(bw, r)
	return bw.Flush()
}

func (t *terminalReporter) writeFinding(w *bufio.Writer, f scanner.Finding) {
	sev := t.medium
	switch f.Severity() {
	case "high":
		sev = t.high
	case "low":
		sev = t.low
	}
	fmt.Fprintf(w, "%s: %s\n", sev.Sprintf("[%s] %s", f.Severity(), f.RuleID), label(f.RuleID))
	fmt.Fprintf(w, "  %s\n", t.path.Sprintf("%s:%d:%d", sanitize(f.Path), f.Line, f.Column))

	field := func(name, value string) {
		fmt.Fprintf(w, "  %s %s\n", t.field.Sprintf("%-11s", name), value)
	}
	if t.opts.ShowSecrets {
		field("token", t.secret.Sprint(sanitize(f.Secret)))
	} else {
		field("token", f.Redacted())
	}
	if f.Encoding != "" {
		field("encoding", sanitize(f.Encoding))
	}
	field("status", describeExpiry(f))
	field("fingerprint", f.Fingerprint)
	if f.Commit != "" {
		commit := shortCommit(f.Commit)
		if f.Author != "" || f.Email != "" {
			commit += " by " + sanitize(strings.TrimSpace(f.Author+" <"+f.Email+">"))
		}
		if !f.Date.IsZero() {
			commit += ", " + f.Date.UTC().Format("2006-01-02 15:04 UTC")
		}
		field("commit", commit)
		if f.Message != "" {
			field("message", sanitize(f.Message))
		}
		if f.InHead != nil {
			inHead := "no, only in history"
			if *f.InHead {
				inHead = "yes"
			}
			field("in HEAD", inHead)
		}
	}
}

func (t *terminalReporter) writeSummary(w *bufio.Writer, r Report) {
	s := r.Stats
	scanned := fmt.Sprintf("%s, %s, %s", plural(s.Files, "file", "files"), formatBytes(s.Bytes), formatDuration(s.Duration))
	if s.Errors > 0 {
		scanned += "; " + plural(s.Errors, "error", "errors") + ", see the warnings"
	}
	if len(r.Findings) == 0 {
		fmt.Fprintf(w, "%s in %s\n", t.good.Sprint("no Lofty keys found"), scanned)
		return
	}
	var keys, unconfirmed int64
	for _, f := range r.Findings {
		if f.RuleID == rules.RuleAPIKey {
			keys++
		} else {
			unconfirmed++
		}
	}
	var kinds []string
	if keys > 0 {
		kinds = append(kinds, plural(keys, "Lofty API key", "Lofty API keys"))
	}
	if unconfirmed > 0 {
		kinds = append(kinds, plural(unconfirmed, "unconfirmed token", "unconfirmed tokens"))
	}
	found := fmt.Sprintf("%s (%s)", plural(int64(len(r.Findings)), "finding", "findings"), strings.Join(kinds, ", "))
	fmt.Fprintf(w, "%s in %s\n", t.bad.Sprint(found), scanned)
	fmt.Fprintln(w, "next: revoke each key in Lofty → Settings → Integrations → API and create a new one, "+
		"then remove the old one from the files and from git history (git filter-repo)")
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

// sanitize makes text from the scanned content (paths, commit messages,
// author names) safe to print: control characters, which could move the
// cursor or recolour the terminal, and bidirectional overrides, which could
// reorder what is shown, are printed as escapes.
func sanitize(s string) string {
	if strings.IndexFunc(s, unsafeRune) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case unsafeRune(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}
