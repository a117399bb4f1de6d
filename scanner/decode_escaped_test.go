package scanner

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/rules"
)

// wrapEscaped writes enc wrapped at width with sep between the lines, and
// returns it with the offset in it of each of enc's characters.
func wrapEscaped(enc string, width int, sep string) (string, []int) {
	var b strings.Builder
	offs := make([]int, 0, len(enc))
	for i := range len(enc) {
		if i > 0 && i%width == 0 {
			b.WriteString(sep)
		}
		offs = append(offs, b.Len())
		b.WriteByte(enc[i])
	}
	return b.String(), offs
}

// quickAgreesWithWindows checks that quickLine says no where a line break
// written as an escape joins a run to the next: the hits of each case are
// those of decoding every run in windows.
func quickAgreesWithWindows(t *testing.T, tests []decodeCase) {
	t.Helper()
	for _, tt := range tests {
		slow := findAll(&finder{cfg: rules.Config{Now: refNow}, windowsOnly: true}, tt.content)
		quick := findAll(&finder{cfg: rules.Config{Now: refNow}}, tt.content)
		if !sameHits(quick, slow) {
			t.Errorf("%s: %d hits with quickLine, %d decoding in windows", tt.name, len(quick), len(slow))
		}
	}
}

// escapedCase is a case of enc (encoding text, in which the key's encoding
// starts at character at) wrapped at width, with sep, between before and
// after: the key is found where its encoded text starts.
func escapedCase(name, before, enc string, at, width int, sep, after, encoding string) decodeCase {
	wrapped, offs := wrapEscaped(enc, width, sep)
	content := before + wrapped + after
	line, col := refLineCol([]byte(content), len(before)+offs[at])
	return decodeCase{name, []byte(content), []wantFinding{{Line: line, Column: col, Encoding: encoding, Token: keyActive}}}
}

// TestEscapedLineBreaks: base64 or hex wrapped on lines and then written
// into a JSON or YAML string has its line breaks written as escapes ("\n",
// "\r\n", doubled when the string was escaped again): the lines are one
// text, and a key across them is found where its encoded text starts. The
// 'n' of an escape is a base64 character: read as text it shifted every
// line after the first, and the key was missed.
func TestEscapedLineBreaks(t *testing.T) {
	t.Parallel()
	var tests []decodeCase
	add := func(name, before, enc string, at, width int, sep, after, encoding string) {
		tests = append(tests, escapedCase(name, before, enc, at, width, sep, after, encoding))
	}
	for pad := range 3 {
		// cloud-init user data, say, base64 wrapped at 76 columns
		text := "#cloud-config\n" + strings.Repeat("#", 60+pad) + "\nwrite_files:\n- content: LOFTY_API_KEY=" + keyActive + "\n"
		at := b64Column(0, strings.Index(text, keyActive))
		enc := base64.StdEncoding.EncodeToString([]byte(text))
		for _, w := range []struct {
			name  string
			width int
			sep   string
		}{
			{`\n`, 76, `\n`}, {`\r\n`, 76, `\r\n`}, {`\n at 64`, 64, `\n`},
			{`\\n (escaped twice)`, 76, `\\n`}, {`\\\\r\\\\n (three times)`, 76, `\\\\r\\\\n`},
		} {
			add("JSON string, "+w.name+", alignment "+string(rune('0'+pad)), `{"user_data": "`, enc, at, w.width, w.sep, "\"}\n", "base64")
		}
		add("YAML double-quoted, alignment "+string(rune('0'+pad)), "user_data: \"", enc, at, 76, `\n`, "\\n\"\n", "base64")
	}
	// Longer than a window: the key far into the text.
	long := longText(9000) + "token=" + keyActive + "\n" + longText(3000)
	add("JSON string, long text", `{"d": "`, base64.StdEncoding.EncodeToString([]byte(long)), b64Column(0, strings.Index(long, keyActive)), 76, `\n`, "\"}\n", "base64")
	// xxd -p, 60 hex digits a line
	hx := hex.EncodeToString([]byte("LOFTY_API_KEY=" + keyActive + "\n"))
	add("JSON string, hex", `{"d": "`, hx, 2*len("LOFTY_API_KEY="), 60, `\n`, "\"}\n", "hex")
	// gzip in base64, wrapped: reported where the run starts
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("LOFTY_API_KEY=" + keyActive + "\n"))
	zw.Close()
	add("JSON string, gzip in base64", `{"d": "`, base64.StdEncoding.EncodeToString(gz.Bytes()), 0, 76, `\n`, "\"}\n", "base64/gzip")
	// A JSON encoder's own escapes around it.
	b, err := json.Marshal(map[string]string{"msg": "key:\n" + wrapLines(base64.StdEncoding.EncodeToString([]byte(keyActive)), 76, "\n") + "note"})
	if err != nil {
		t.Fatal(err)
	}
	content := string(b)
	line, col := refLineCol(b, strings.Index(content, `key:\n`)+len(`key:\n`))
	tests = append(tests, decodeCase{"json.Marshal of wrapped base64 between text", b, []wantFinding{{Line: line, Column: col, Encoding: "base64", Token: keyActive}}})
	runDecodeCases(t, tests)

	// quickLine says no where an escaped line break joins a run to the
	// next: the hits are those of decoding every run in windows.
	quickAgreesWithWindows(t, tests)
}

// TestEscapedBreak: the escapes read as line breaks, and what is not one.
func TestEscapedBreak(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		s    string
		want int
	}{
		{`\nA`, 2}, {`\r\nA`, 4}, {`\\nA`, 3}, {`\\r\\nA`, 6}, {`\\\\\\\\nA`, 9},
		{`\\\\\\\\\nA`, 0}, // 9 backslashes: more than maxEscapes
		{`\r\\nA`, 0}, {`\rA`, 0}, {`\tA`, 0}, {`\/A`, 0}, {`\`, 0}, {`nA`, 0}, {`\\`, 0},
	} {
		if got := escapedBreak([]byte(tt.s), 0); got != tt.want {
			t.Errorf("escapedBreak(%q) = %d, want %d", tt.s, got, tt.want)
		}
		if tt.want > 0 {
			buf := []byte("QUJD" + tt.s)
			if got := escapedBreakBefore(buf, 4+tt.want); got != tt.want {
				t.Errorf("escapedBreakBefore(%q) = %d, want %d", buf, got, tt.want)
			}
		}
	}
	if got := escapedBreakBefore([]byte(`QUJDnA`), 5); got != 0 {
		t.Errorf("escapedBreakBefore of a bare n = %d", got)
	}
}

// TestListLines: base64 wrapped on lines that a JSON list holds one a
// string, each line's escaped line break ending its string, is one text:
// a notebook stores each line of a cell's output as a string of a list
// (`!base64 app.env`, print(base64.encodebytes(...).decode())), and
// nbformat writes it indented, one string a line. The end of one string and
// the start of the next ("\n",<blanks>") join the lines as an escaped line
// break does, and a key across them is found where its encoded text starts.
func TestListLines(t *testing.T) {
	t.Parallel()
	var tests []decodeCase
	add := func(name, before, enc string, at, width int, sep, after, encoding string) {
		tests = append(tests, escapedCase(name, before, enc, at, width, sep, after, encoding))
	}
	for pad := range 3 {
		text := "# app settings" + strings.Repeat("#", pad) + "\nDATABASE_URL=postgres://app@db/app\nLOFTY_API_KEY=" + keyActive + "\n"
		at := b64Column(0, strings.Index(text, keyActive))
		enc := base64.StdEncoding.EncodeToString([]byte(text))
		p := ", alignment " + string(rune('0'+pad))
		add("notebook output"+p, "{\n \"cells\": [{\n   \"outputs\": [{\n     \"name\": \"stdout\",\n     \"text\": [\n      \"", enc, at, 76,
			"\\n\",\n      \"", "\\n\"\n     ]\n   }]\n }]\n}\n", "base64")
		add("compact list, CRLF escapes"+p, `{"text":["`, enc, at, 76, `\r\n","`, `\r\n"]}`, "base64")
		add("list, pretty-printed with CRLF"+p, "[\r\n  \"", enc, at, 64, "\\n\",\r\n  \"", "\\n\"\r\n]\r\n", "base64")
	}
	// hex, as xxd -p prints it
	hx := hex.EncodeToString([]byte("LOFTY_API_KEY=" + keyActive + "\n"))
	add("notebook output, hex", `{"text": ["`, hx, 2*len("LOFTY_API_KEY="), 60, "\\n\",\n \"", "\\n\"]}\n", "hex")
	runDecodeCases(t, tests)

	// quickLine says no where a list's line break joins a run to the
	// next: the hits are those of decoding every run in windows.
	quickAgreesWithWindows(t, tests)
}
