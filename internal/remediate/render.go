package remediate

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// The formats a plan is written in. Formats returns them.
const (
	FormatText     = "text"
	FormatMarkdown = "markdown"
)

// Formats returns the names Write accepts, for --format's help and
// validation.
func Formats() []string { return []string{FormatText, FormatMarkdown} }

// Write writes the plan in format: text for a terminal, markdown for a
// ticket or a pull request. Every string from the repository is escaped
// and redacted; the keys appear only in their redacted form.
func (p *Plan) Write(w io.Writer, format string) error {
	var d doc
	switch format {
	case FormatText, "":
		d = &textDoc{}
	case FormatMarkdown:
		d = &mdDoc{}
	default:
		return fmt.Errorf("unknown plan format %q: use %s", format, strings.Join(Formats(), " or "))
	}
	p.render(d)
	_, err := io.WriteString(w, d.String())
	return err
}

// doc is a format: headings, paragraphs, lists and commands. Renderers get
// text already cleaned.
type doc interface {
	heading(level int, s string)
	para(s string)
	item(depth int, s string)
	commands(cs []Command)
	String() string
}

// render lays out the plan once for every format.
func (p *Plan) render(d doc) {
	d.heading(1, "loftyscan remediation plan")
	d.item(0, "Repository: "+clean(p.Repo))
	d.item(0, "Plan folder: "+clean(p.Dir))
	d.item(0, "Replacements file: "+clean(p.ReplacementsFile)+" (mode 0600; it holds the keys in full: never print, share or commit it)")
	d.para(fmt.Sprintf("%s found. Do the three steps in order: revoking makes a key useless to whoever copied it; the rewrite removes it from history; the check shows it is gone.", plural(len(p.Keys), "key")))

	d.heading(2, "1. Revoke")
	d.para("Where: " + revokeWhere + ".")
	for i, k := range p.Keys {
		p.renderKey(d, i+1, k)
	}

	d.heading(2, "2. Rewrite history with git filter-repo")
	for _, n := range p.RewriteNotes {
		d.item(0, clean(n))
	}
	for i, st := range p.Rewrite {
		renderStep(d, fmt.Sprintf("2.%d", i+1), st)
	}
	if len(p.Manual) > 0 {
		d.heading(3, "Not reached by the replacements: do these by hand")
		// A step's command is printed in the rewrite steps, which run it
		// in each repository before they push, and not again here: run
		// here, after the pushes, it reached no remote.
		for _, m := range p.Manual {
			d.item(0, fmt.Sprintf("key %s at %s: %s. Do: %s.", m.Key, clean(describeOccurrence(m.Occurrence)), clean(m.Why), clean(m.Do)))
		}
	}
	d.heading(3, "What a rewrite cannot reach")
	for _, u := range p.Unreachable {
		d.item(0, clean(u))
	}

	d.heading(2, "3. Check")
	for i, st := range p.Check {
		renderStep(d, fmt.Sprintf("3.%d", i+1), st)
	}
	renderStep(d, fmt.Sprintf("3.%d", len(p.Check)+1), p.Cleanup)
}

func (p *Plan) renderKey(d doc, n int, k KeyPlan) {
	title := fmt.Sprintf("Key %d: %s %s", n, shortFP(k.Fingerprint), clean(k.Redacted))
	if k.Verification == "live" {
		title += ": LIVE, REVOKE NOW"
	}
	d.heading(3, title)
	d.item(0, "Do: "+clean(k.Urgency))
	if k.Subject != "" {
		d.item(0, "Account (sub claim): "+clean(k.Subject))
	} else {
		d.item(0, "Account: not named in the key (no sub claim): look for the key in each account that could have made it")
	}
	d.item(0, "Expires: "+describeExpiry(k))
	if k.Verification != "" {
		v := "Lofty says: " + clean(k.Verification)
		if k.VerificationReason != "" {
			v += " (" + clean(k.VerificationReason) + ")"
		}
		d.item(0, v)
	}
	d.item(0, "Found:")
	for _, o := range k.Occurrences {
		d.item(1, clean(describeOccurrence(o)))
	}
	if refs := describeRefs(k.Refs); refs != "" {
		d.item(0, "In: "+clean(refs))
	}
	d.item(0, "Replaced by: "+clean(k.Replacement)+" padded with * to the key's length")
}

func renderStep(d doc, n string, st Step) {
	d.heading(3, n+" "+clean(st.Title))
	for _, note := range st.Notes {
		d.item(0, clean(note))
	}
	d.commands(st.Commands)
}

func describeExpiry(k KeyPlan) string {
	switch {
	case k.ExpiresAt.IsZero():
		return "never (no expiry claim): valid until revoked"
	case k.Status == "expired":
		return k.ExpiresAt.UTC().Format(time.RFC3339) + " (expired)"
	}
	return k.ExpiresAt.UTC().Format(time.RFC3339)
}

// describeOccurrence names a place: the commit, then the file and position
// or the message, and the encoding.
func describeOccurrence(o Occurrence) string {
	switch {
	case o.Ref != "" && o.Path == "":
		return "the name of ref " + o.Ref
	case o.Ref != "":
		return "no commit: ref " + o.Ref + " holds it directly, " + o.Path
	case !o.held():
		return "no commit (only the object database keeps it), " + o.Path
	}
	part := "message"
	if o.InHeaders {
		part = "header lines"
	}
	if o.Tag != "" {
		return "tag " + o.Tag + " (" + shortHash(o.Commit) + "), in its " + part
	}
	s := "commit " + shortHash(o.Commit)
	if o.InMessage || o.InHeaders {
		return s + ", in its " + part
	}
	s += ", " + o.Path
	if o.Line > 0 {
		s += fmt.Sprintf(" line %d", o.Line)
		if o.Column > 0 {
			s += fmt.Sprintf(" column %d", o.Column)
		}
	}
	if o.Encoding != "" {
		s += " (" + o.Encoding + ")"
	}
	return s
}

// describeRefs lists refs by kind: "branches main, dev; tags v1.0; ...".
func describeRefs(refs []Ref) string {
	kinds := []struct{ kind, label string }{
		{"branch", "branches"}, {"tag", "tags"}, {"remote-tracking", "remote-tracking branches (pushed)"}, {"other", "other refs"},
	}
	var parts []string
	for _, k := range kinds {
		var names []string
		for _, r := range refs {
			if r.Kind() == k.kind {
				names = append(names, r.Short())
			}
		}
		if len(names) > 0 {
			parts = append(parts, k.label+" "+strings.Join(names, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

func shortHash(h string) string {
	if len(h) > 10 {
		return h[:10]
	}
	return h
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// textDoc is the terminal format: indented plain text, commands after "$ ".
type textDoc struct {
	b     strings.Builder
	level int
}

func (t *textDoc) heading(level int, s string) {
	t.level = level
	if t.b.Len() > 0 {
		t.b.WriteByte('\n')
	}
	t.b.WriteString(t.indent(0) + s + "\n")
	if level == 1 {
		t.b.WriteString(strings.Repeat("=", len([]rune(s))) + "\n")
	}
}

func (t *textDoc) indent(extra int) string {
	return strings.Repeat("  ", max(0, t.level-2)+extra)
}

func (t *textDoc) para(s string) { t.b.WriteString(t.indent(1) + s + "\n") }

func (t *textDoc) item(depth int, s string) {
	t.b.WriteString(t.indent(1+depth) + "- " + s + "\n")
}

func (t *textDoc) commands(cs []Command) {
	for _, c := range cs {
		t.b.WriteString(t.indent(2) + "$ " + shellLine(c) + "\n")
		if c.Expect != "" {
			t.b.WriteString(t.indent(3) + "expect: " + clean(c.Expect) + "\n")
		}
	}
}

func (t *textDoc) String() string { return t.b.String() }

// mdDoc is Markdown: text escaped so that nothing from the repository
// becomes a link, an image, HTML or formatting; commands in fenced blocks.
type mdDoc struct {
	b      strings.Builder
	inList bool // the last block was a list item: a paragraph needs a blank line first
}

func (m *mdDoc) heading(level int, s string) {
	if m.b.Len() > 0 {
		m.b.WriteByte('\n')
	}
	m.b.WriteString(strings.Repeat("#", level) + " " + mdEscape(s) + "\n\n")
	m.inList = false
}

func (m *mdDoc) para(s string) {
	if m.inList {
		m.b.WriteByte('\n')
	}
	m.b.WriteString(mdEscape(s) + "\n\n")
	m.inList = false
}

func (m *mdDoc) item(depth int, s string) {
	m.b.WriteString(strings.Repeat("  ", depth) + "- " + mdEscape(s) + "\n")
	m.inList = true
}

func (m *mdDoc) commands(cs []Command) {
	var lines []string
	for _, c := range cs {
		lines = append(lines, shellLine(c))
		if c.Expect != "" {
			lines = append(lines, "# expect: "+clean(c.Expect))
		}
	}
	body := strings.Join(lines, "\n")
	fence := "```"
	for strings.Contains(body, fence) {
		fence += "`"
	}
	m.b.WriteString("\n" + fence + "sh\n" + body + "\n" + fence + "\n\n")
	m.inList = false
}

func (m *mdDoc) String() string { return m.b.String() }

// mdEscape backslash-escapes the characters Markdown reads as markup.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_{}[]<>#+|~&", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
