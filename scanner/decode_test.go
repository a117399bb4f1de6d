package scanner

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/rules"
)

// encodeUTF16 encodes s as UTF-16, little- or big-endian, with or without
// a byte order mark.
func encodeUTF16(s string, bigEndian, bom bool) []byte {
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xFEFF}, units...)
	}
	out := make([]byte, 0, 2*len(units))
	for _, u := range units {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

// wrapLines breaks s into lines of n characters ending in eol.
func wrapLines(s string, n int, eol string) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + eol)
		s = s[n:]
	}
	b.WriteString(s + eol)
	return b.String()
}

// b64Column is the column, counted from the first base64 character (column
// col), of the quantum holding decoded byte off: where the encoded key starts.
func b64Column(col, off int) int { return col + off/3*4 }

// longText is filler prose of about n bytes, several lines.
func longText(n int) string {
	const line = "The quick brown fox jumps over the lazy dog; config value follows.\n"
	return strings.Repeat(line, n/len(line)+1)[:n]
}

type decodeCase struct {
	name    string
	content []byte
	want    []wantFinding // Path is filled in
}

func runDecodeCases(t *testing.T, tests []decodeCase) {
	t.Helper()
	dir := t.TempDir()
	for i, tt := range tests {
		name := "f" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		p := writeFixture(t, dir, name, tt.content)
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for j := range tt.want {
				tt.want[j].Path = name
			}
			c, st := scanPaths(t, testOptions(), p)
			checkFound(t, c.Findings, tt.want...)
			checkWarnings(t, c.Warnings)
			checkStats(t, st, c, 1, 0, 0)
		})
	}
}

func TestBase64(t *testing.T) {
	t.Parallel()
	var tests []decodeCase

	// Standard and URL alphabets, padded and raw, at each of the three
	// alignments of the key (the prefix lengths 0, 1, 2 mod 3) and so each
	// amount of padding. The "~~~?>?" text makes the two alphabets differ.
	encs := []struct {
		name string
		enc  *base64.Encoding
	}{
		{"std", base64.StdEncoding}, {"url", base64.URLEncoding},
		{"raw std", base64.RawStdEncoding}, {"raw url", base64.RawURLEncoding},
	}
	for _, e := range encs {
		for pad := range 3 {
			prefix := strings.Repeat("~", pad) + "?>?"
			for _, tail := range []string{"", "\n", "?\n"} {
				text := prefix + keyActive + tail
				enc := e.enc.EncodeToString([]byte(text))
				content := "secret: " + enc + "\nnext: 1\n"
				tests = append(tests, decodeCase{
					name:    e.name + " prefix " + string(rune('0'+len(prefix))) + " tail " + string(rune('0'+len(tail))),
					content: []byte(content),
					want:    []wantFinding{{Line: 1, Column: b64Column(9, len(prefix)), Encoding: "base64", Token: keyActive}},
				})
			}
		}
	}

	// The whole value is base64 of the key, as in a Kubernetes Secret.
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: crm\ntype: Opaque\ndata:\n  LOFTY_API_KEY: " +
		base64.StdEncoding.EncodeToString([]byte(keyExpired)) + "\n  OTHER: Zm9v\n"
	tests = append(tests, decodeCase{"kubernetes secret", []byte(secret), []wantFinding{{Line: 7, Column: 18, Encoding: "base64", Token: keyExpired}}})

	// Base64 of a whole .env file, the key at each alignment.
	for pad := range 3 {
		env := "# lofty crm\nDEBUG=" + strings.Repeat("1", pad+3) + "\nLOFTY_API_KEY=" + keyForever + "\nOTHER=2\n"
		off := strings.Index(env, keyForever)
		content := "ENV_B64=" + base64.StdEncoding.EncodeToString([]byte(env)) + "\n"
		tests = append(tests, decodeCase{"env file alignment " + string(rune('0'+off%3)), []byte(content),
			[]wantFinding{{Line: 1, Column: b64Column(9, off), Encoding: "base64", Token: keyForever}}})
	}

	// Base64 wrapped at 76 columns (the base64 command, MIME), of a long text
	// with the key in its middle, with LF and CRLF line ends.
	for _, eol := range []string{"\n", "\r\n"} {
		for pad := range 3 {
			text := longText(5000+pad) + "token=" + keyActive + "\n" + longText(5000)
			off := strings.Index(text, keyActive)
			wrapped := wrapLines(base64.StdEncoding.EncodeToString([]byte(text)), 76, eol)
			i := off / 3 * 4
			tests = append(tests, decodeCase{"wrapped at 76 " + map[string]string{"\n": "LF", "\r\n": "CRLF"}[eol] + " alignment " + string(rune('0'+off%3)),
				[]byte("begin\n" + wrapped + "end\n"),
				[]wantFinding{{Line: 2 + i/76, Column: 1 + i%76, Encoding: "base64", Token: keyActive}}})
		}
	}

	// Many keys in one long base64 run: none may be lost between the
	// stretches the decoder looks at.
	var text strings.Builder
	var offs []int
	var keys []string
	for i := range 60 {
		text.WriteString(longText(600 + 37*i))
		offs = append(offs, text.Len()+4)
		keys = append(keys, keyN(i))
		text.WriteString("key=" + keyN(i) + "\n")
	}
	var many []wantFinding
	for i, off := range offs {
		q := off / 3 * 4
		many = append(many, wantFinding{Line: 1 + q/76, Column: 1 + q%76, Encoding: "base64", Token: keys[i]})
	}
	tests = append(tests, decodeCase{"many keys in one base64 run", []byte(wrapLines(base64.StdEncoding.EncodeToString([]byte(text.String())), 76, "\n")), many})

	// A key whose encoded text runs past the end of the stretch decoded
	// around the key before it is found whole, from a stretch of its own,
	// and no cut-off part of it is reported.
	for _, over := range []int{5, 60, 150} {
		d := (b64Back+b64Ahead)*3/4 - len(keyExpired) + over
		text := keyActive + "\n" + longText(d-len(keyActive)-1) + keyExpired + "\n" + longText(100)
		tests = append(tests, decodeCase{"key across the end of a decoding window " + strconv.Itoa(over), []byte(base64.StdEncoding.EncodeToString([]byte(text))),
			[]wantFinding{{Line: 1, Column: 1, Encoding: "base64", Token: keyActive}, {Line: 1, Column: b64Column(1, d), Encoding: "base64", Token: keyExpired}}})
	}

	// Base64 of a generic JWT is nothing; under a Lofty name it is context.
	tests = append(tests,
		decodeCase{"generic JWT in base64", []byte("SUPABASE_ANON: " + base64.StdEncoding.EncodeToString([]byte(jwtGeneric)) + "\n"), nil},
		decodeCase{"generic JWT in base64 under a Lofty name", []byte("data:\n  LOFTY_ACCESS_TOKEN: " + base64.StdEncoding.EncodeToString([]byte(jwtGeneric)) + "\n"),
			[]wantFinding{{Line: 2, Column: 23, Encoding: "base64", Token: jwtGeneric, Rule: rules.RuleUnconfirmed, Status: rules.StatusNoExpiry}}},
	)

	runDecodeCases(t, tests)
}

// TestBase64Alphabets checks that the fixtures of TestBase64 do tell the
// two alphabets apart, so that test would fail if one were not decoded.
func TestBase64Alphabets(t *testing.T) {
	t.Parallel()
	for pad := range 3 {
		text := strings.Repeat("~", pad) + "?>?" + keyActive
		std := base64.StdEncoding.EncodeToString([]byte(text))
		url := base64.URLEncoding.EncodeToString([]byte(text))
		if !strings.ContainsAny(std, "+/") || !strings.ContainsAny(url, "-_") {
			t.Errorf("prefix %d: base64 %q and %q do not use the alphabet-specific characters", pad, std, url)
		}
	}
}

func TestUTF16(t *testing.T) {
	t.Parallel()
	var tests []decodeCase
	for _, be := range []bool{false, true} {
		enc := map[bool]string{false: "utf-16le", true: "utf-16be"}[be]
		for _, bom := range []bool{false, true} {
			name := enc + map[bool]string{false: "", true: " with BOM"}[bom]
			tests = append(tests,
				decodeCase{name, encodeUTF16("# config\r\nLOFTY_API_KEY="+keyActive+"\r\nOTHER=1\r\n", be, bom),
					[]wantFinding{{Line: 2, Column: 15, Encoding: enc, Token: keyActive}}},
				decodeCase{name + " line 1", encodeUTF16("k="+keyExpired+"\n", be, bom),
					[]wantFinding{{Line: 1, Column: 3, Encoding: enc, Token: keyExpired}}},
				// é is one code unit, 🔑 two (a surrogate pair).
				decodeCase{name + " non-ASCII before the key", encodeUTF16("a\nclé🔑="+keyForever, be, bom),
					[]wantFinding{{Line: 2, Column: 7, Encoding: enc, Token: keyForever}}},
				// 上 is U+4E0A, 《 U+300A, Њ U+040A: a byte 0x0A in a code
				// unit that is not a line break.
				decodeCase{name + " 0x0A bytes in other characters", encodeUTF16("# 上《注意》Њ\r\nLOFTY_API_KEY="+keyActive+"\r\n上 k="+keyExpired, be, bom),
					[]wantFinding{{Line: 2, Column: 15, Encoding: enc, Token: keyActive}, {Line: 3, Column: 5, Encoding: enc, Token: keyExpired}}},
				decodeCase{name + " generic JWT", encodeUTF16("x\ntoken="+jwtGeneric+"\n", be, bom), nil},
				decodeCase{name + " generic JWT in Lofty context", encodeUTF16("x\nLOFTY_TOKEN="+jwtGeneric+"\n", be, bom),
					[]wantFinding{{Line: 2, Column: 13, Encoding: enc, Token: jwtGeneric, Rule: rules.RuleUnconfirmed, Status: rules.StatusNoExpiry}}},
			)
		}
	}

	// A key across the end of the stretch of UTF-16 decoded around the key
	// before it (all of an ASCII file is one run) is found whole, once.
	for _, over := range []int{5, 60, 150} {
		d := u16Ahead - len(keyExpired) + over
		text := keyActive + "\n" + longText(d-len(keyActive)-1) + keyExpired + "\n" + longText(100)
		line, col := refLineCol([]byte(text), d)
		tests = append(tests, decodeCase{"key across the end of a decoding run " + strconv.Itoa(over), encodeUTF16(text, false, false),
			[]wantFinding{{Line: 1, Column: 1, Encoding: "utf-16le", Token: keyActive}, {Line: line, Column: col, Encoding: "utf-16le", Token: keyExpired}}})
	}

	// PowerShell -EncodedCommand: base64 of UTF-16LE, at each alignment.
	for pad := range 3 {
		script := "$env:LOFTY_API_KEY = '" + strings.Repeat(" ", pad) + keyActive + "'; Invoke-RestMethod https://api.lofty.com/v1.0/me"
		u16 := encodeUTF16(script, false, false)
		off := 2 * strings.Index(script, keyActive)
		cmd := "powershell.exe -NoProfile -EncodedCommand " + base64.StdEncoding.EncodeToString(u16) + "\n"
		tests = append(tests, decodeCase{"base64 of utf-16le alignment " + string(rune('0'+off%3)), []byte("@echo off\r\n" + cmd),
			[]wantFinding{{Line: 2, Column: b64Column(43, off), Encoding: "base64/utf-16le", Token: keyActive}}})
	}
	runDecodeCases(t, tests)
}

// TestGenericJWT checks that JWTs that are not Lofty keys are reported only
// in a Lofty context, and then as unconfirmed.
func TestGenericJWT(t *testing.T) {
	t.Parallel()
	unconfirmed := func(line, col int) []wantFinding {
		return []wantFinding{{Line: line, Column: col, Token: jwtGeneric, Rule: rules.RuleUnconfirmed, Status: rules.StatusNoExpiry}}
	}
	runDecodeCases(t, []decodeCase{
		{"bare", []byte(jwtGeneric + "\n"), nil},
		{"supabase anon key", []byte("SUPABASE_ANON_KEY=" + jwtGeneric + "\n"), nil},
		{"lofty on another line", []byte("# lofty settings\nTOKEN=" + jwtGeneric + "\n"), nil},
		{"lofty name on the line", []byte("x\nLOFTY_API_KEY=" + jwtGeneric + "\n"), unconfirmed(2, 15)},
		{"old brand after the token", []byte("token: " + jwtGeneric + " # chime token\n"), unconfirmed(1, 8)},
		{"Amazon Chime after the token", []byte("token: " + jwtGeneric + " // await chime.createMeeting()\n"), nil},
		{"authorization token header", []byte("curl -H 'Authorization: token " + jwtGeneric + "'\n"), unconfirmed(1, 31)},
		{"key and generic JWT side by side", []byte("SUPABASE=" + jwtGeneric + "\nKEY=" + keyActive + "\n"),
			[]wantFinding{{Line: 2, Column: 5, Token: keyActive}}},
	})
}

// TestSplitKeys: a key split across string literals is found whole in a
// file, at its first piece's line and column, also when the source file is
// itself base64-encoded, and across a chunk boundary.
func TestSplitKeys(t *testing.T) {
	t.Parallel()
	k := keyActive
	d1 := strings.IndexByte(k, '.')
	py := "import os\n\nKEY = (\n    \"" + k[:d1+1] + "\"\n    \"" + k[d1+1:d1+40] + "\"  # payload\n    \"" + k[d1+40:] + "\"\n)\n"
	js := "const key = '" + k[:50] + "' +\n  '" + k[50:] + "';\n"
	sh := "export LOFTY_KEY=\"" + k[:60] + "\\\n" + k[60:] + "\"\n"
	long := strings.Repeat("x = 1\n", (chunkSize-10)/6) + js
	b64py := "script: " + base64.StdEncoding.EncodeToString([]byte(py)) + "\n"
	runDecodeCases(t, []decodeCase{
		{"python adjacent literals", []byte(py), []wantFinding{{Line: 4, Column: 6, Token: k}}},
		{"javascript plus", []byte(js), []wantFinding{{Line: 1, Column: 14, Token: k}}},
		{"shell continuation", []byte(sh), []wantFinding{{Line: 1, Column: 19, Token: k}}},
		{"across a chunk boundary", []byte(long), []wantFinding{{Line: (chunkSize-10)/6 + 1, Column: 14, Token: k}}},
		{"base64 of python", []byte(b64py), []wantFinding{{Line: 1, Column: 9 + 4*(strings.Index(py, "eyJ")/3), Encoding: "base64", Token: k}}},
	})
}

// TestIsHexRunMatchesReference: isHexRun, which keeps what it read for the
// next call, answers as hexRunRef, which reads from start each time, for
// calls at every position of random runs of digits, hex and base64
// letters, line breaks and other bytes, forward and now and then back; and
// over every line of a file of numbers it reads each character about
// once, where it once read 64 KiB from each line (109 KB of numbers took a
// second of CPU).
func TestIsHexRunMatchesReference(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("0123456789abcdefABCDEFgzGZ+/\n\r. ")
	for round := range 300 {
		n := 1 + rng.IntN(3000)
		if round%50 == 0 {
			n = b64Back + b64Ahead + rng.IntN(5000) // past what a window reads
		}
		buf := make([]byte, n)
		hexOnly := rng.IntN(3) == 0
		for i := range buf {
			if hexOnly && rng.IntN(40) != 0 {
				buf[i] = "0123456789abcdef\n"[rng.IntN(17)]
			} else {
				buf[i] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		d := decodeState{buf: buf}
		for start := 0; start < n; start += 1 + rng.IntN(8) {
			if rng.IntN(20) == 0 {
				start -= rng.IntN(min(start, 100) + 1) // back: the memory starts again
			}
			if got, want := d.isHexRun(start), hexRunRef(buf, start); got != want {
				t.Fatalf("round %d, %d bytes: isHexRun(%d) = %v, want %v", round, n, start, got, want)
			}
		}
	}
	var b []byte
	for i := 1; len(b) < 200_000; i++ {
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, '\n')
	}
	d := decodeState{buf: b}
	for start := 0; start < len(b); {
		d.isHexRun(start)
		start += bytes.IndexByte(b[start:], '\n') + 1
	}
	if d.hex.read > 2*len(b) {
		t.Errorf("isHexRun read %d characters over the lines of %d bytes of numbers; want at most twice that", d.hex.read, len(b))
	}
}

// TestHexAmongNumbers: among numbers, one a line (a run of digits and line
// breaks as long as the file, each line a segment of its own, whose short
// lines get no window: minHexLine), a key in hex on a line of its own, or
// wrapped at 16 columns or more (however wide, and with a short last
// line), is found.
func TestHexAmongNumbers(t *testing.T) {
	t.Parallel()
	numbers := numberLines(3000)
	h := hex.EncodeToString([]byte("LOFTY_API_KEY=" + keyActive))
	for _, c := range []struct{ name, text string }{
		{"one line", h + "\n"},
		{"16 columns", wrapLines(h, 16, "\n")},
		{"50 columns", wrapLines(h, 50, "\n")},
		{"64 columns", wrapLines(h, 64, "\n")},
	} {
		data := numbers + c.text + numbers
		col, _ := scanData(t, testOptions(), []byte(data))
		found := false
		for _, f := range col.Findings {
			found = found || f.Secret == keyActive
		}
		if !found {
			t.Errorf("%s: %d findings; want the key among them", c.name, len(col.Findings))
		}
	}
}

// TestHexAtOddWidths: a key in hex wrapped at an odd width (every other
// line starts in the middle of a byte), after a prefix of any length,
// among numbers, one a line, is found whatever the parity of the lines
// before the one it ends on. A segment's window was aligned on its own
// start only: such a key was found by the window of a later line of the
// right parity, and once short lines of hex were passed over
// (minHexLine), by none.
func TestHexAtOddWidths(t *testing.T) {
	t.Parallel()
	numbers := numberLines(300)
	for _, key := range []string{keyActive, keyExpired, keyForever} {
		for _, prefix := range []string{"", "K=", "KEY=", "LOFTY="} {
			for width := 17; width < 40; width += 2 {
				text := numbers + wrapLines(hex.EncodeToString([]byte(prefix+key)), width, "\n") + numbers
				col, _ := scanData(t, testOptions(), []byte(text))
				if !slices.ContainsFunc(col.Findings, func(f finding.Finding) bool { return f.Secret == key }) {
					t.Errorf("key of %d characters after %q in hex wrapped at %d columns: not found (%d findings)", len(key), prefix, width, len(col.Findings))
				}
			}
		}
	}
}

// TestHexLastLineShort: a key in hex wrapped at 16 columns or more is
// found when the last line of its hex, shorter than 16 characters, ends
// the run (the file's end, or a character that is neither hex nor
// base64). Those lines were read as base64 (a run is hex when 16 digits or
// more follow), so no window of hex held the key's end.
func TestHexLastLineShort(t *testing.T) {
	t.Parallel()
	for _, key := range []string{keyActive, keyExpired, keyForever} {
		for _, prefix := range []string{"", "K=", "KEY=", "LOFTY="} {
			for width := 16; width <= 40; width++ {
				h := hex.EncodeToString([]byte(prefix + key))
				if len(h)%width == 0 || len(h)%width >= 16 {
					continue // no short last line
				}
				for _, end := range []string{"", "\"\n"} {
					col, _ := scanData(t, testOptions(), []byte(wrapLines(h, width, "\n")+end))
					if !slices.ContainsFunc(col.Findings, func(f finding.Finding) bool { return f.Secret == key }) {
						t.Errorf("key of %d characters after %q in hex wrapped at %d columns, then %q: not found (%d findings)", len(key), prefix, width, end, len(col.Findings))
					}
				}
			}
		}
	}
}

// numberLines is n numbers of up to five digits, one a line.
func numberLines(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		b.WriteString(strconv.Itoa(i*7919%100000) + "\n")
	}
	return b.String()
}
