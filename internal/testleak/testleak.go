// Package testleak checks output for what loftyscan must never print: a
// key (or the part of one that rebuilds it), and characters from scanned
// data that would drive a terminal or a CI log. The reporters' tests and
// the CLI's tests share it, so that both hold output to the same rules.
package testleak

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/loftyscan/loftyscan/finding"
)

// Leaked says which part of key s holds: "the whole key", "its payload" or
// "its signature" (either rebuilds most of a key whose header, the same
// for every Lofty key, is public), or "" for none.
func Leaked(s, key string) string {
	if strings.Contains(s, key) {
		return "the whole key"
	}
	seg := strings.Split(key, ".")
	if len(seg) == 3 {
		if strings.Contains(s, seg[1]) {
			return "its payload"
		}
		if strings.Contains(s, seg[2]) {
			return "its signature"
		}
	}
	return ""
}

// CheckDisplaySafe fails on what could drive a terminal or a CI log:
// control characters other than line breaks and tabs (the output's own
// layout), format characters such as bidirectional overrides, bytes that
// are not UTF-8, and a line that starts with "::" or holds "##[", which
// GitHub's runner reads as a workflow command.
func CheckDisplaySafe(t testing.TB, what, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s is not UTF-8: %q", what, s)
		return
	}
	for i, r := range s {
		if r != '\n' && r != '\t' && finding.Unsafe(r) {
			t.Errorf("%s: unsafe character %U at byte %d:\n%q", what, r, i, s)
			return
		}
	}
	for line := range strings.SplitSeq(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "::") || strings.Contains(line, "##[") {
			t.Errorf("%s: a line a CI runner would read as a command: %q", what, line)
		}
	}
}

// Texts returns what a consumer of a report reads: every string of a JSON
// document (keys and values), every attribute value and character data of
// an XML document, parsed strictly so that one XML 1.0 refuses fails the
// test, the property values and data of GitHub workflow commands as the
// runner unescapes them (WorkflowCommands), Markdown with its backslash
// escapes undone, or else the output itself. Any format falls in one of
// these.
func Texts(t testing.TB, out []byte) []string {
	t.Helper()
	trimmed := bytes.TrimSpace(out)
	switch {
	case bytes.HasPrefix(trimmed, []byte("::")):
		return WorkflowCommands(t, out)
	case bytes.HasPrefix(trimmed, []byte("### ")):
		return []string{UnescapeMarkdown(string(out))}
	case len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '['):
		var v any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("not valid JSON: %v\n%s", err, out)
		}
		var texts []string
		walkJSON(v, func(s string) { texts = append(texts, s) })
		return texts
	case bytes.HasPrefix(trimmed, []byte("<?xml")):
		return xmlTexts(t, out)
	}
	return []string{string(out)}
}

func walkJSON(v any, yield func(string)) {
	switch v := v.(type) {
	case string:
		yield(v)
	case []any:
		for _, e := range v {
			walkJSON(e, yield)
		}
	case map[string]any:
		for k, e := range v {
			yield(k)
			walkJSON(e, yield)
		}
	}
}

func xmlTexts(t testing.TB, out []byte) []string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(out))
	d.Strict = true
	var texts []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return texts
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, out)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			for _, a := range tok.Attr {
				texts = append(texts, a.Value)
			}
		case xml.CharData:
			texts = append(texts, string(tok))
		}
	}
}

// Shows reports whether one of texts holds s, as it is or percent-encoded
// (a SARIF URI).
func Shows(texts []string, s string) bool {
	for _, t := range texts {
		u, _ := url.PathUnescape(t)
		if strings.Contains(t, s) || strings.Contains(u, s) {
			return true
		}
	}
	return false
}

// WorkflowCommands reads output that is only GitHub Actions workflow
// commands, one a line, as the runner does (actions/runner
// ActionCommand.cs, TryParseV2): it fails unless each line is an ::error or
// ::warning annotation with a file, a line, a col and a title, and
// returns the property values and the data, unescaped. What scanned data
// put in a command is in those values, where CheckDisplaySafe looks for it.
func WorkflowCommands(t testing.TB, out []byte) []string {
	t.Helper()
	unescapeData := strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%")
	unescapeProp := strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%")
	var texts []string
	for line := range strings.SplitSeq(strings.TrimSuffix(string(out), "\n"), "\n") {
		rest, ok := strings.CutPrefix(line, "::")
		head, data, ok2 := strings.Cut(rest, "::")
		name, props, _ := strings.Cut(head, " ")
		if !ok || !ok2 || (name != "error" && name != "warning") {
			t.Errorf("not an annotation: %q", line)
			continue
		}
		seen := map[string]bool{}
		for kv := range strings.SplitSeq(props, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || (k != "file" && k != "line" && k != "col" && k != "title") || seen[k] {
				t.Errorf("property %q in %q", kv, line)
			}
			seen[k] = true
			texts = append(texts, unescapeProp.Replace(v))
		}
		if len(seen) != 4 {
			t.Errorf("an annotation without its file, line, col and title: %q", line)
		}
		texts = append(texts, unescapeData.Replace(data))
	}
	return texts
}

// UnescapeMarkdown undoes Markdown's backslash escapes: the text a reader
// of the rendered document sees.
func UnescapeMarkdown(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
