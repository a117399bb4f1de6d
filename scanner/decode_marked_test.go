package scanner

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/rules"
)

// TestMarkedLines: base64 wrapped on lines that each start with the same
// mark, as a unified diff writes added ('+') and removed ('-') lines (a
// .patch file, `git diff` in a CI log, a pull request pasted into an
// issue) and a quoted reply or Markdown quote writes its lines ('>'), is
// one text, and a key across its lines is found where its encoded text
// starts. '+' and '-' are base64 characters: read as text, each line's mark
// shifted the lines after it, and a key across them was missed.
func TestMarkedLines(t *testing.T) {
	t.Parallel()
	var tests []decodeCase
	add := func(name, before, enc string, at, width int, sep, after string) {
		wrapped, offs := wrapEscaped(enc, width, sep)
		content := before + wrapped + after
		line, col := refLineCol([]byte(content), len(before)+offs[at])
		tests = append(tests, decodeCase{name, []byte(content), []wantFinding{{Line: line, Column: col, Encoding: "base64", Token: keyActive}}})
	}
	const hunk = "diff --git a/deploy/app.env.b64 b/deploy/app.env.b64\nnew file mode 100644\n" +
		"--- /dev/null\n+++ b/deploy/app.env.b64\n@@ -0,0 +1,4 @@\n"
	for pad := range 3 {
		text := "# app settings" + strings.Repeat("#", pad) + "\nDATABASE_URL=postgres://app@db/app\nLOFTY_API_KEY=" + keyActive + "\n"
		at := b64Column(0, strings.Index(text, keyActive))
		enc := base64.StdEncoding.EncodeToString([]byte(text))
		p := " alignment " + string(rune('0'+pad))
		add("diff, added lines at 76"+p, hunk+"+", enc, at, 76, "\n+", "\n")
		add("diff, added lines at 64, CRLF"+p, strings.ReplaceAll(hunk, "\n", "\r\n")+"+", enc, at, 64, "\r\n+", "\r\n")
		add("diff, removed lines"+p, "@@ -1,4 +0,0 @@\n-", enc, at, 76, "\n-", "\n")
		add("diff of a YAML block scalar"+p, "@@ -5,0 +6,5 @@\n+  .env: |\n+    ", enc, at, 76, "\n+    ", "\n+type: Opaque\n")
		add("quoted reply"+p, "On Monday, Ann wrote:\n> here is the file:\n> ", enc, at, 76, "\n> ", "\n>\n\nthanks\n")
		add("Markdown quote, no blank"+p, ">", enc, at, 76, "\n>", "\n")
	}
	runDecodeCases(t, tests)
}

// TestMarkedLinesByChance: wrapped base64 that is no diff, two of whose
// lines start with '+' by chance, is still read whole: the lines are
// decoded as they are too, marks and all.
func TestMarkedLinesByChance(t *testing.T) {
	t.Parallel()
	// A line of base64 wrapped at 76 columns starts a quantum, and a
	// quantum starts with '+' when its byte is 0xf8 to 0xfb: binary data.
	raw := strings.Repeat("a", 57) + "\xf8" + strings.Repeat("b", 56) + "\xfa" + strings.Repeat("c", 56) + "LOFTY_API_KEY=" + keyActive + "\n"
	content := wrapLines(base64.StdEncoding.EncodeToString([]byte(raw)), 76, "\n")
	if lines := strings.Split(content, "\n"); lines[1][0] != '+' || lines[2][0] != '+' {
		t.Fatalf("lines do not start with '+':\n%s", content)
	}
	got := findAll(&finder{cfg: rules.Config{Now: refNow}}, []byte(content))
	n := 0
	for _, h := range got {
		if h.match.Token == keyActive {
			n++
		}
	}
	if n == 0 {
		t.Fatalf("key missed in wrapped base64 whose lines start with '+':\n%s", content)
	}
}
