package reporters

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// renderMarkdown renders md as GitHub does: CommonMark with the GFM
// extensions (tables, autolinks, strikethrough, task lists), raw HTML
// kept (GitHub keeps <details>, <summary> and <code>), and parses the
// HTML.
func renderMarkdown(t *testing.T, md []byte) *html.Node {
	t.Helper()
	var out bytes.Buffer
	gm := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
	if err := gm.Convert(md, &out); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(&out)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// elements returns the elements of doc with tag a, in document order.
func elements(doc *html.Node, a atom.Atom) []*html.Node {
	var out []*html.Node
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.DataAtom == a {
			out = append(out, n)
		}
	}
	return out
}

// text is the text content of n.
func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

// hostile is text from scanned data that tries every trick Markdown
// allows: a pipe to add a column (also after a backslash), a line break to
// add a row, HTML, a link, an image, emphasis, code, an autolink, an
// e-mail link, a mention, an issue reference and a token.
func hostile(token string) string {
	return "a|b\\|c `x` <img src=x onerror=alert(1)> [click](https://evil.example) ![i](https://evil.example/i.png) " +
		"**bold** _em_ ~~del~~ www.evil.example mail@evil.example @alice #12 &amp; " + token + "\nnext | row"
}

// The Markdown report keeps its tables whole and shows scanned text as
// text, whatever the text: no cell, row, element or link comes from the
// scanned data, and no token passes unredacted.
func TestMarkdownHostileText(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	token := testtoken.Key("hostile", time.Time{})
	for i := range r.Findings {
		r.Findings[i].Path = hostile(token)
		if r.Findings[i].Suppressed != "" {
			r.Findings[i].Suppressed = hostile(token)
		}
		if r.Findings[i].Verification == finding.Unknown {
			r.Findings[i].VerificationReason = hostile(token)
		}
	}
	md := render(t, FormatMarkdown, Options{}, r)
	if bytes.Contains(md, []byte(token)) || bytes.Contains(md, []byte(testtoken.Segments(token)[2])) {
		t.Fatal("the token is in the report")
	}
	doc := renderMarkdown(t, md)
	for _, a := range []atom.Atom{atom.A, atom.Img, atom.Strong, atom.Em, atom.Del, atom.Script, atom.Br} {
		if n := len(elements(doc, a)); n > 0 {
			t.Errorf("%d <%s> elements from scanned text:\n%s", n, a, md)
		}
	}
	tables := elements(doc, atom.Table)
	if len(tables) != 3 {
		t.Fatalf("%d tables, want 3 (counts, findings, suppressed):\n%s", len(tables), md)
	}
	wantRows := []int{1 + 6, 1 + 6, 1 + 2} // a header, then the groups, the counted findings, the suppressed ones
	wantCols := []int{3, 6, 5}
	for i, tb := range tables {
		rows := elements(tb, atom.Tr)
		if len(rows) != wantRows[i] {
			t.Errorf("table %d: %d rows, want %d", i, len(rows), wantRows[i])
		}
		for _, row := range rows {
			cells := len(elements(row, atom.Td)) + len(elements(row, atom.Th))
			if cells != wantCols[i] {
				t.Errorf("table %d: a row of %d cells, want %d: %q", i, cells, wantCols[i], text(row))
			}
		}
	}
	// Each location shows the path as it is, but redacted and with the
	// line break escaped, inside <code>.
	want := strings.ReplaceAll(hostile(finding.Redact(token)), "\n", `\x0A`)
	var shown int
	for _, c := range elements(doc, atom.Code) {
		if strings.HasPrefix(text(c), want) {
			shown++
		}
	}
	if shown != len(r.Findings)+2 { // each location, and the two reasons for suppression
		t.Errorf("the hostile path is shown as it is %d times, want %d:\n%s", shown, len(r.Findings)+2, md)
	}
	// Scanned text is all inside <code>, where no mention or reference is
	// made.
	for _, bad := range []string{"@alice", "#12", "mail@evil"} {
		if !insideCode(doc, bad) {
			t.Errorf("%q outside code", bad)
		}
	}
}

// insideCode reports whether every text node of doc that holds s is inside
// a <code> element.
func insideCode(doc *html.Node, s string) bool {
	for n := range doc.Descendants() {
		if n.Type != html.TextNode || !strings.Contains(n.Data, s) {
			continue
		}
		in := false
		for p := n.Parent; p != nil; p = p.Parent {
			if p.DataAtom == atom.Code {
				in = true
			}
		}
		if !in {
			return false
		}
	}
	return true
}

// The tables list the findings and counts as the report has them: each
// counted finding once, most urgent first, the suppressed ones collapsed.
func TestMarkdownRendered(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	doc := renderMarkdown(t, render(t, FormatMarkdown, Options{}, r))
	tables := elements(doc, atom.Table)
	if len(tables) != 3 {
		t.Fatalf("%d tables, want 3", len(tables))
	}
	var counts []string
	for _, row := range elements(tables[0], atom.Tr)[1:] {
		var cells []string
		for _, c := range elements(row, atom.Td) {
			cells = append(cells, text(c))
		}
		counts = append(counts, strings.Join(cells, ","))
	}
	if got, want := strings.Join(counts, ";"), "live keys,1,critical;active keys,1,high;unconfirmed tokens,2,medium;rejected keys,1,low;expired tokens,1,low;suppressed,2,not counted"; got != want {
		t.Errorf("counts %q, want %q", got, want)
	}
	var locations []string
	for _, row := range elements(tables[1], atom.Tr)[1:] {
		locations = append(locations, text(elements(row, atom.Td)[2]))
	}
	want := "src/lofty/client.py:42 config/.env:3 outer.zip!inner/dir/file name.env:1 docs/réunion: notes.md:7 scripts/sync.sh:5 deploy/k8s/secret.yaml:12"
	if got := strings.Join(locations, " "); got != want {
		t.Errorf("locations %q, want %q", got, want)
	}
	details := elements(doc, atom.Details)
	if len(details) != 1 || !strings.Contains(text(details[0]), "2 suppressed findings") || !strings.Contains(text(details[0]), ".loftyscanignore:3: revoked 2024") {
		t.Errorf("suppressed findings not in one <details>")
	}
	for _, row := range elements(tables[1], atom.Tr)[1:] {
		if cells := elements(row, atom.Td); text(cells[4]) == "" {
			t.Errorf("a finding without its redacted key: %q", text(row))
		}
	}
}

// A long list is cut, the counts are not.
func TestMarkdownRowCap(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	base := r.Findings[1]
	r.Findings = nil
	for i := range maxMarkdownRows + 20 {
		f := base
		f.Path = fmt.Sprintf("file%d.env", i)
		r.Findings = append(r.Findings, f)
	}
	md := render(t, FormatMarkdown, Options{}, r)
	doc := renderMarkdown(t, md)
	tables := elements(doc, atom.Table)
	if rows := len(elements(tables[1], atom.Tr)); rows != 1+maxMarkdownRows {
		t.Errorf("%d rows, want %d", rows, 1+maxMarkdownRows)
	}
	if !strings.Contains(text(tables[0]), fmt.Sprint(maxMarkdownRows+20)) || !strings.Contains(string(md), "20 more not listed here") {
		t.Errorf("the count or the note on the rest is missing")
	}
}

// A list of findings in files with long paths (a tree's paths have no
// length limit, and each character is escaped) is cut before the report
// passes what GitHub takes as a job summary (1 MiB: a bigger one is refused
// whole) and GitLab as a note (1,000,000 characters), the counts whole.
func TestMarkdownSizeCap(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	base := r.Findings[1]
	r.Findings = nil
	for i := range maxMarkdownRows {
		f := base
		f.Path = fmt.Sprintf("%s/file%d.env", strings.Repeat("deep.folder/", 300), i)
		r.Findings = append(r.Findings, f)
		sup := f
		sup.Suppressed = "inline loftyscan:allow, added by the scanned change"
		r.Findings = append(r.Findings, sup)
	}
	r.Stats.Suppressed = maxMarkdownRows
	md := render(t, FormatMarkdown, Options{}, r)
	if len(md) > 1_000_000 {
		t.Errorf("the report holds %d bytes, more than a job summary or a note takes", len(md))
	}
	if !strings.Contains(text(elements(renderMarkdown(t, md), atom.Table)[0]), fmt.Sprint(maxMarkdownRows)) || !strings.Contains(string(md), "more not listed here") {
		t.Errorf("the count or the note on the rest is missing")
	}
}
