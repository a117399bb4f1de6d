package remediate

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// wrap breaks s into lines of width characters joined by eol.
func wrap(s string, width int, eol string) string {
	var lines []string
	for len(s) > width {
		lines = append(lines, s[:width])
		s = s[width:]
	}
	return strings.Join(append(lines, s), eol)
}

// A key in wrapped base64 is found at the scan's line and column and
// replaced there: the base64 around it decodes as before, with the
// replacement text exactly where the key was.
func TestLocateBase64ReplacesWrappedKeysExactly(t *testing.T) {
	secret, fp := testKey("2002")
	rep := replacementText(fp, len(secret))
	for _, enc := range []struct {
		name  string
		enc   *base64.Encoding
		inner func([]byte) []byte
	}{
		{"std", base64.StdEncoding, nil},
		{"url", base64.URLEncoding, nil},
		{"raw-url", base64.RawURLEncoding, nil},
		{"std-utf16le", base64.StdEncoding, utf16LE},
		{"std-utf16be", base64.StdEncoding, utf16BE},
	} {
		for _, width := range []int{64, 76} {
			for _, eol := range []string{"\n", "\r\n"} {
				for _, pre := range []string{"", "A", "LOFTY_API_KEY=", "# café ≠ tea\nLOFTY_API_KEY="} {
					name := fmt.Sprintf("%s/%d/%q/%q", enc.name, width, eol, pre)
					t.Run(name, func(t *testing.T) {
						payload := []byte(pre + secret + "\nOTHER=1\n")
						want := []byte(pre + rep + "\nOTHER=1\n")
						if enc.inner != nil {
							payload, want = enc.inner(payload), enc.inner(want)
						}
						head := "apiVersion: v1\ndata:\n  é.env: |\n"
						text := wrap(enc.enc.EncodeToString(payload), width, eol)
						blob := []byte(head + text + eol + "kind: Secret\n")
						keys := scanText(t, "secret.yaml", blob)
						if len(keys) != 1 || len(keys[0].Occurrences) != 1 {
							t.Fatalf("the scanner found %d keys: the case tests nothing", len(keys))
						}
						o := keys[0].Occurrences[0]
						inner, ok := base64Layers(o.Encoding)
						if !ok {
							t.Fatalf("encoding %q", o.Encoding)
						}
						seg, err := locateBase64(bytes.NewReader(blob), o.Line, o.Column, secret, fp, inner)
						if err != nil {
							t.Fatal(err)
						}
						if len(seg.old) != len(seg.new) || bytes.Count(blob, seg.old) != 1 {
							t.Fatalf("segment of %d bytes (replacement %d) found %d times", len(seg.old), len(seg.new), bytes.Count(blob, seg.old))
						}
						got := bytes.Replace(blob, seg.old, seg.new, 1)
						gotText := strings.TrimSuffix(strings.TrimPrefix(string(got), head), eol+"kind: Secret\n")
						dec, err := enc.enc.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(gotText))
						if err != nil {
							t.Fatalf("the rewritten base64 does not decode: %v", err)
						}
						if !bytes.Equal(dec, want) {
							t.Fatalf("decoded %q\nwant    %q", dec, want)
						}
						if gotLines, lines := strings.Count(gotText, "\n"), strings.Count(text, "\n"); gotLines != lines {
							t.Errorf("%d line breaks, was %d", gotLines, lines)
						}
						if left := scanText(t, "secret.yaml", got); len(left) > 0 {
							t.Fatalf("the scanner still finds %d keys", len(left))
						}
					})
				}
			}
		}
	}
}

func TestLocateBase64SaysWhenTheKeyIsNotThere(t *testing.T) {
	secret, fp := testKey("3003")
	other, _ := testKey("3004")
	blob := []byte("x\n" + base64.StdEncoding.EncodeToString([]byte(other)) + "\n")
	for _, c := range []struct {
		line, col int
		want      string
	}{
		{2, 1, errNotLocated.Error()},
		{9, 1, "fewer than 9 lines"},
		{2, 5000, "shorter than 5000"},
		{0, 1, "not a position"},
	} {
		_, err := locateBase64(bytes.NewReader(blob), c.line, c.col, secret, fp, "")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("line %d col %d: error %v, want %q", c.line, c.col, err, c.want)
		}
	}
	if _, err := locateBase64(bytes.NewReader(blob), 2, 1, secret, fp, "hex"); err == nil {
		t.Error("base64 of hex: no error")
	}
	if _, err := locateBase64(bytes.NewReader(blob), 2, 1, secret, fp, ""); !errors.Is(err, errNotLocated) {
		t.Errorf("error %v is not errNotLocated", err)
	}
}

// A key written in pieces (string literals the language joins, a continued
// line) is located at the scan's line and column and each
// of its characters replaced there, the text between the pieces kept: the
// rescan finds nothing, and the file is the same but for the key.
func TestLocateSplitReplacesEveryPiece(t *testing.T) {
	secret, fp := testKey("2003")
	rep := replacementText(fp, len(secret))
	cut := func(s string, at ...int) []string {
		var out []string
		last := 0
		for _, a := range at {
			out = append(out, s[last:a])
			last = a
		}
		return append(out, s[last:])
	}
	for name, join := range map[string]func([]string) string{
		"python adjacent": func(p []string) string { return "KEY = (\"" + strings.Join(p, "\"\n       \"") + "\")\n" },
		"js plus":         func(p []string) string { return "const k = '" + strings.Join(p, "' +\r\n  '") + "';\n" },
		"shell":           func(p []string) string { return "export KEY=\"" + strings.Join(p, "\\\n") + "\"\n" },
		// Layouts the scanner joins with rules' joiner, whose text between
		// the pieces holds base64 characters (the n of \n, a quoted-printable
		// soft break's =): located with rules.JoinedAt.
		"notebook cell": func(p []string) string {
			return `{"source": ["key = (\"` + strings.Join(p, `\"\n",`+"\n"+`    "       \"`) + `\")\n"]}` + "\n"
		},
		"python list joined":  func(p []string) string { return "KEY = ''.join([\n    '" + strings.Join(p, "',\n    '") + "',\n])\n" },
		"powershell backtick": func(p []string) string { return `$key = "` + strings.Join(p, "\" + `\r\n    \"") + "\"\r\n" },
		"quoted-printable":    func(p []string) string { return "Key: " + strings.Join(p, "=\r\n") + "\r\n" },
		// Strings built in steps (a builder's appends, += ).
		"java StringBuilder": func(p []string) string {
			return "StringBuilder sb = new StringBuilder(\"" + strings.Join(p, "\");\n    sb.append(\"") + "\");\n"
		},
		"python +=": func(p []string) string { return "KEY = '" + strings.Join(p, "'\nKEY += '") + "'\n" },
	} {
		for _, at := range [][]int{{30}, {50, 130}, {3, 21, 100}} {
			t.Run(fmt.Sprint(name, at), func(t *testing.T) {
				blob := []byte("# config\n" + join(cut(secret, at...)) + "OTHER=1\n")
				want := []byte("# config\n" + join(cut(rep, at...)) + "OTHER=1\n")
				keys := scanText(t, "app.py", blob)
				if len(keys) != 1 || len(keys[0].Occurrences) != 1 {
					t.Fatalf("the scanner found %d keys: the case tests nothing", len(keys))
				}
				o := keys[0].Occurrences[0]
				seg, ok, err := locateSplit(bytes.NewReader(blob), o.Line, o.Column, secret, fp)
				if err != nil || !ok {
					t.Fatalf("not located: %v", err)
				}
				if len(seg.old) != len(seg.new) || bytes.Count(blob, seg.old) != 1 {
					t.Fatalf("segment of %d bytes (replacement %d) found %d times", len(seg.old), len(seg.new), bytes.Count(blob, seg.old))
				}
				if got := bytes.Replace(blob, seg.old, seg.new, 1); !bytes.Equal(got, want) {
					t.Fatalf("rewritten:\n%s\nwant:\n%s", got, want)
				}
			})
		}
	}
	// A key written whole is left to the forms.
	blob := []byte("KEY=" + secret + "\n")
	if _, ok, err := locateSplit(bytes.NewReader(blob), 1, 5, secret, fp); ok || err != nil {
		t.Errorf("a whole key: located %v, %v", ok, err)
	}
}
