package reporters

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/loftyscan/loftyscan/finding"
)

// markdownReporter writes a summary in GitHub-flavoured Markdown, for a
// GitHub Actions job summary ($GITHUB_STEP_SUMMARY) or a merge-request
// note:
//
//   - a heading that says what was found;
//   - a table of counts: live, active, unconfirmed, rejected and expired
//     findings (the terminal's groups) with their severity, and the
//     suppressed ones;
//   - a line that says how much was scanned, and whether anything could
//     not be read;
//   - the notices for a reviewer (the scanned change edits the scanner's
//     settings...), each as a list item;
//   - one table row per finding, most urgent first: severity, rule,
//     path:line (or the commit or tag whose message holds the key), commit,
//     redacted key, status and what --verify learnt (which may quote a
//     server), and for a history scan where the key went (the refs that
//     hold it, whether it was pushed, how many commits carry it, or that
//     only a reflog or nothing reaches it);
//   - the keys the scanned change allows inline (a loftyscan:allow on the
//     line it adds), which do not count but need a look, in a table of
//     their own;
//   - the other suppressed findings (with --show-suppressed) in a
//     collapsed <details> section, each with why it is suppressed.
//
// At most maxMarkdownRows findings are listed, in each of the two tables,
// and no row once the report holds maxMarkdownBytes: GitHub refuses a job
// summary over 1 MiB whole (the step's summary is then lost) and GitLab a
// note over 1,000,000 characters, and a row's path has no bound of its own
// (a tree's paths can be any length, and escaping doubles them). A longer
// list is read in the JSON or SARIF report anyway. The counts are always
// whole.
//
// Tokens are always redacted, whatever Options.ShowSecrets says: a job
// summary is shown to everyone who can see the run. Every cell that holds
// text from the scanned data is read through Finding.Shown (the redaction
// and escaping point) and then escaped for Markdown (markdownCode), so
// that a path or a reason cannot add a column, a row, a link, an image, an
// HTML element or a mention.
type markdownReporter struct {
	opts Options
}

// maxMarkdownRows is the most findings one table lists.
const maxMarkdownRows = 500

// maxMarkdownBytes is the most a report holds once its rows are written:
// under GitHub's 1 MiB for a job summary and GitLab's 1,000,000 characters
// for a note, with room for what follows the rows (the notes on rows left
// out, the headings of the other tables).
const maxMarkdownBytes = 960_000

func (m *markdownReporter) Report(w io.Writer, r Report) error {
	cw := &countingWriter{w: w}
	bw := bufio.NewWriter(cw)
	g := byGroup(r.Findings)
	var counted []finding.Finding
	for _, fs := range g[:firstUncounted] {
		counted = append(counted, fs...)
	}
	suppressed := countSuppressed(r)
	allowed := g[groupAllowedInChange]

	if len(counted) == 0 {
		fmt.Fprintf(bw, "### loftyscan: no Lofty keys found\n\n")
	} else {
		fmt.Fprintf(bw, "### loftyscan: %s\n\n", plural(int64(len(counted)), "finding", "findings"))
		bw.WriteString("| found | count | severity |\n|---|--:|---|\n")
		for gi, fs := range g[:firstUncounted] {
			if len(fs) > 0 {
				fmt.Fprintf(bw, "| %s | %d | %s |\n", groups[gi].many, len(fs), fs[0].Severity())
			}
		}
		if len(allowed) > 0 {
			fmt.Fprintf(bw, "| allowed by the change | %d | not counted: review |\n", len(allowed))
		}
		if other := suppressed - int64(len(allowed)); other > 0 {
			fmt.Fprintf(bw, "| suppressed | %d | not counted |\n", other)
		}
		bw.WriteString("\n")
	}
	bw.WriteString(markdownScanned(r.Stats, suppressed, len(counted) == 0) + "\n")
	if len(r.Notices) > 0 {
		fmt.Fprintf(bw, "\n**Review the scan's settings** (%d): what decides what this scan reports needs a second look.\n\n", len(r.Notices))
		for _, n := range r.Notices {
			bw.WriteString("- " + markdownCode(finding.Sanitize(n.Message)) + "\n")
		}
	}

	if len(counted) > 0 {
		git := false // a history scan: a column says where each key went
		for _, f := range counted {
			git = git || whereItWent(f) != ""
		}
		bw.WriteString("\n| severity | rule | location | commit | key | status |")
		if git {
			bw.WriteString(" where it went |\n|---|---|---|---|---|---|---|\n")
		} else {
			bw.WriteString("\n|---|---|---|---|---|---|\n")
		}
		writeMarkdownRows(cw, bw, len(counted), func(i int) string {
			f := counted[i]
			status := describeExpiry(f)
			if v := describeVerification(f); v != "" {
				status += "; " + v
			}
			row := string(f.Severity()) + " | " + markdownRow(f) + " | " + markdownCode(status)
			if w := whereItWent(f); w != "" {
				row += " | " + markdownCode(w)
			} else if git {
				row += " | "
			}
			return row
		})
	}
	if len(allowed) > 0 {
		bw.WriteString("\n**Allowed by the scanned change**: keys the change adds on lines with a loftyscan:allow comment. " +
			"They do not fail the scan; review each.\n\n| rule | location | commit | key |\n|---|---|---|---|\n")
		writeMarkdownRows(cw, bw, len(allowed), func(i int) string { return markdownRow(allowed[i]) })
	}
	if fs := g[groupSuppressed]; len(fs) > 0 {
		fmt.Fprintf(bw, "\n<details><summary>%s, not counted</summary>\n\n", plural(int64(len(fs)), "suppressed finding", "suppressed findings"))
		bw.WriteString("| rule | location | commit | key | suppressed by |\n|---|---|---|---|---|\n")
		writeMarkdownRows(cw, bw, len(fs), func(i int) string {
			return markdownRow(fs[i]) + " | " + markdownCode(fs[i].Shown().Suppressed)
		})
		bw.WriteString("\n</details>\n")
	}
	return bw.Flush()
}

// markdownScanned says how much was scanned, and what could not be.
func markdownScanned(s finding.Stats, suppressed int64, clean bool) string {
	out := fmt.Sprintf("Scanned %s (%s) in %s", plural(s.Files, "file", "files"), formatBytes(s.Bytes), formatDuration(s.Duration))
	if clean && suppressed > 0 {
		out += "; " + plural(suppressed, "finding", "findings") + " suppressed"
	}
	out += "."
	if s.Errors > 0 {
		out += " " + upperFirst(scanErrors(s.Errors)) + "."
	}
	return out
}

// writeMarkdownRows writes the rows of n findings, up to maxMarkdownRows
// and while the report written through cw and w stays within
// maxMarkdownBytes, with the cells row returns for the i-th, then says how
// many more there are.
func writeMarkdownRows(cw *countingWriter, w *bufio.Writer, n int, row func(i int) string) {
	for i := range n {
		line := "| " + row(i) + " |\n"
		if i == maxMarkdownRows || cw.n+int64(w.Buffered()+len(line)) > maxMarkdownBytes {
			fmt.Fprintf(w, "\n%d more not listed here: see the JSON or SARIF report.\n", n-i)
			return
		}
		w.WriteString(line)
	}
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// markdownRow is the cells every row has: rule, location, commit and key.
// A key in a message is located in words ("message of tag v1.0, line 3");
// a blob no commit holds has "none (unreachable)" for its commit.
func markdownRow(f finding.Finding) string {
	commit := ""
	switch {
	case f.Commit != "":
		commit = markdownCode(shortCommit(f.Commit))
	case f.Unreachable:
		commit = "none (unreachable)"
	}
	place := fmt.Sprintf("%s:%d", f.Shown().Path, f.Line)
	switch {
	case f.Location == finding.InPath, f.Location == finding.InRef:
		place = strings.TrimPrefix(describePlace(f), "the ")
	case f.Location.OfObject():
		place = fmt.Sprintf("%s, line %d", strings.TrimPrefix(describePlace(f), "the "), f.Line)
	}
	return markdownCell(f.RuleID) + " | " + markdownCode(place) + " | " + commit + " | " + markdownCode(f.Redacted())
}

// markdownCode is text from the scanned data (a path, a commit, a key, a
// reason from an ignore file) escaped (escapeMarkdown) and shown as code.
// It is an HTML <code> element rather than a `code span`: the text of a
// code span is taken as it is, so a backslash before a pipe could not be
// escaped and the pipe would end the cell, while in <code> every character
// is escaped as anywhere else. GitHub and GitLab look for mentions (@name)
// and references (#12, !12) outside code only.
func markdownCode(s string) string {
	return "<code>" + escapeMarkdown(s) + "</code>"
}

// markdownCell is loftyscan's own words (a rule id, a severity) escaped
// for a cell: text from scanned data goes in markdownCode.
func markdownCell(s string) string { return escapeMarkdown(s) }

// escapeMarkdown makes text safe in a table cell of GitHub-flavoured
// Markdown (GitHub's and GitLab's renderers both follow the CommonMark
// and GFM specs):
//
//   - text from scanned data arrives through Finding.Shown: tokens
//     redacted, and control and invisible characters (a line break among
//     them, which would end the row) printed as escapes;
//   - every ASCII punctuation character is backslash-escaped, which
//     CommonMark allows for all of them: "|" cannot end the cell, "<"
//     cannot open an HTML element, "[", "!" and "(" cannot make a link or
//     an image, "*", "_" and "~" cannot emphasise, "`" cannot open code,
//     "&" cannot name an entity, ":" and "." cannot form an autolink, "@"
//     cannot form an e-mail link, and "\" cannot escape what follows.
//     Only "-", common in paths and keys, is left as it is: it means
//     something only at the start of a line, and a cell never starts one.
func escapeMarkdown(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 && r != '-' && isASCIIPunct(byte(r)) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isASCIIPunct reports whether c is ASCII punctuation in CommonMark's
// sense: what a backslash may escape.
func isASCIIPunct(c byte) bool {
	return strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", c) >= 0
}
