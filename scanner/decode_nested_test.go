package scanner

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/rules"
)

// layer is one encoding in a test: how to apply it, the label a finding
// carries for it, and where the encoded text of the decoded byte at off
// starts (the start of its unit).
type layer struct {
	label string
	apply func(string) string
	pos   func(off int) int
}

func b64Layer(enc *base64.Encoding) layer {
	return layer{"base64", func(s string) string { return enc.EncodeToString([]byte(s)) }, func(off int) int { return off / 3 * 4 }}
}

// wrappedB64 is base64 wrapped at width columns with eol line ends.
func wrappedB64(width int, eol string) layer {
	return layer{"base64",
		func(s string) string {
			return strings.TrimSuffix(wrapLines(base64.StdEncoding.EncodeToString([]byte(s)), width, eol), eol)
		},
		func(off int) int { q := off / 3 * 4; return q + q/width*len(eol) }}
}

var (
	hexLower = layer{"hex", func(s string) string { return hex.EncodeToString([]byte(s)) }, func(off int) int { return 2 * off }}
	hexUpper = layer{"hex", func(s string) string { return strings.ToUpper(hex.EncodeToString([]byte(s))) }, func(off int) int { return 2 * off }}
	utf16LE  = layer{"utf-16le", func(s string) string { return string(encodeUTF16(s, false, false)) }, func(off int) int { return 2 * off }}
)

// nest builds a file in which key sits in inner text, wrapped by the
// layers (outermost first), each layer's encoded text embedded in a line of
// the next one's text by the given templates ("%s" is the encoded text).
// It returns the file and the offset where the key's encoded text starts.
func nest(key string, templates []string, layers ...layer) ([]byte, string, int) {
	text, off := key, 0
	var labels []string
	for i := len(layers) - 1; i >= 0; i-- {
		l := layers[i]
		enc := l.apply(text)
		pos := l.pos(off)
		before, after, _ := strings.Cut(templates[i], "%s")
		text, off = before+enc+after, len(before)+pos
		labels = append([]string{l.label}, labels...)
	}
	return []byte(text), strings.Join(labels, "/"), off
}

// nestedCase is a case of a key nested by nest. A file whose outermost
// layer is UTF-16 is UTF-16 throughout (its first template must be "%s"),
// and its lines and columns are counted in its characters.
func nestedCase(name, key string, templates []string, layers ...layer) decodeCase {
	if layers[0].label == "utf-16le" {
		text, enc, off := nest(key, templates[1:], layers[1:]...)
		line, col := refLineCol(text, off)
		return decodeCase{name, encodeUTF16(string(text), false, false), []wantFinding{{Line: line, Column: col, Encoding: "utf-16le/" + enc, Token: key}}}
	}
	data, enc, off := nest(key, templates, layers...)
	line, col := refLineCol(data, off)
	return decodeCase{name, data, []wantFinding{{Line: line, Column: col, Encoding: enc, Token: key}}}
}

// TestNestedEncodings: keys under two and three layers of base64 (both
// alphabets, wrapped or not), hex and UTF-16, at every alignment, are found
// where their outermost encoded text starts.
func TestNestedEncodings(t *testing.T) {
	t.Parallel()
	std, url := b64Layer(base64.StdEncoding), b64Layer(base64.RawURLEncoding)
	var tests []decodeCase

	// A Kubernetes image-pull Secret: .dockerconfigjson is base64 of a
	// JSON whose auth is base64("user:" + key), "user:" shifting the key.
	for _, user := range []string{"u", "us", "user"} {
		tests = append(tests, nestedCase("dockerconfigjson "+user, keyActive, []string{
			"apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: %s\n",
			`{"auths":{"registry.example.com":{"username":"` + user + `","password":"x","auth":"%s"}}}`,
			user + ":%s",
		}, std, std, layer{"", func(s string) string { return s }, func(off int) int { return off }}))
	}
	// The identity layer above is not an encoding: drop its label.
	for i := range tests {
		tests[i].want[0].Encoding = "base64/base64"
	}

	// A Secret whose value is a base64 .env file holding a base64 key.
	for pad := range 3 {
		tests = append(tests, nestedCase("secret of an env file alignment "+string(rune('0'+pad)), keyForever, []string{
			"kind: Secret\ndata:\n  app.env: %s\n",
			"# app\nDEBUG=" + strings.Repeat("1", pad+1) + "\nLOFTY_KEY_B64=%s\nOTHER=2\n",
		}, std, std))
	}

	// Every pair and some triples of layers, after prefixes of each
	// length mod 3.
	mixes := []struct {
		name   string
		layers []layer
	}{
		{"base64/hex", []layer{std, hexLower}},
		{"hex/base64", []layer{hexUpper, std}},
		{"url/url", []layer{url, url}},
		{"wrapped/std", []layer{wrappedB64(76, "\n"), std}},
		{"wrapped crlf/url", []layer{wrappedB64(64, "\r\n"), url}},
		{"utf-16/base64", []layer{utf16LE, std}},
		{"base64/utf-16", []layer{std, utf16LE}},
		{"hex/utf-16", []layer{hexLower, utf16LE}},
		{"utf-16/hex", []layer{utf16LE, hexUpper}},
		{"base64/base64/base64", []layer{std, url, std}},
		{"utf-16/base64/base64", []layer{utf16LE, std, std}},
		{"base64/hex/base64", []layer{wrappedB64(76, "\n"), hexLower, std}},
		{"hex/base64/utf-16", []layer{hexLower, std, utf16LE}},
	}
	for _, m := range mixes {
		for pad := range 3 {
			templates := make([]string, len(m.layers))
			for i := range templates {
				templates[i] = strings.Repeat("~", (pad+i)%3) + "v=%s\n"
			}
			templates[0] = "# config\nvalue: " + strings.Repeat(" ", pad) + "%s\n"
			if m.layers[0].label == "utf-16le" {
				templates = append([]string{"%s"}, templates[:len(templates)-1]...)
				templates[1] = "# config\nvalue: " + strings.Repeat(" ", pad) + "%s\n"
			}
			tests = append(tests, nestedCase(m.name+" prefix "+string(rune('0'+pad)), keyActive, templates, m.layers...))
		}
	}

	// A generic JWT nested under a Lofty name is context; without, nothing.
	data, _, off := nest(jwtGeneric, []string{"LOFTY_SECRET: %s\n", "t=%s\n"}, std, std)
	line, col := refLineCol(data, off)
	tests = append(tests,
		decodeCase{"generic JWT nested under a Lofty name", data, []wantFinding{{Line: line, Column: col, Encoding: "base64/base64", Token: jwtGeneric, Rule: rules.RuleUnconfirmed, Status: rules.StatusNoExpiry}}},
		decodeCase{"generic JWT nested", bytes.Replace(data, []byte("LOFTY"), []byte("OTHER"), 1), nil},
	)
	runDecodeCases(t, tests)
}

// TestHex: a key as hex in either case (Python's key.encode().hex()), and
// xxd -p output wrapped at 60 columns, made by xxd itself.
func TestHex(t *testing.T) {
	t.Parallel()
	var tests []decodeCase
	for _, l := range []layer{hexLower, hexUpper} {
		tests = append(tests,
			nestedCase("alone", keyActive, []string{"%s\n"}, l),
			nestedCase("in a line", keyExpired, []string{"# notes\nKEY_HEX=%s # hex\n"}, l),
			nestedCase("env file in hex", keyForever, []string{"x: %s\n", "A=1\nLOFTY_API_KEY=%s\n"}, l),
		)
	}
	for i, text := range []string{
		"LOFTY_API_KEY=" + keyActive + "\n",
		longText(97) + "token " + keyExpired + "\n" + longText(50),
	} {
		cmd := exec.Command(tool(t, "xxd"), "-p")
		cmd.Stdin = strings.NewReader(text)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("xxd -p (from the xxd package): %v", err)
		}
		if lines := strings.Split(string(out), "\n"); len(lines[0]) != 60 {
			t.Fatalf("xxd -p wrote lines of %d digits, not 60", len(lines[0]))
		}
		key := keyActive
		if i == 1 {
			key = keyExpired
		}
		h := 2 * strings.Index(text, key)
		data := append([]byte("dump:\n"), out...)
		tests = append(tests, decodeCase{"xxd -p " + string(rune('0'+i)), data,
			[]wantFinding{{Line: 2 + h/60, Column: 1 + h%60, Encoding: "hex", Token: key}}})
	}
	// A generic JWT in hex is nothing.
	tests = append(tests, decodeCase{"generic JWT", []byte("x=" + hex.EncodeToString([]byte(jwtGeneric)) + "\n"), nil})
	runDecodeCases(t, tests)
}
