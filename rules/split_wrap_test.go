package rules

import (
	"fmt"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// hardWrap cuts text into lines of width bytes, as fold -b does, each
// after the first led by marks, and joins them with eol.
func hardWrap(text string, width int, marks, eol string) string {
	var lines []string
	for first := true; len(text) > 0; first = false {
		w := width
		if !first {
			w -= len(marks)
		}
		n := min(w, len(text))
		line := text[:n]
		if !first {
			line = marks + line
		}
		lines = append(lines, line)
		text = text[n:]
	}
	return strings.Join(lines, eol)
}

// TestHardWrapped: a key in a line hard-wrapped at a fixed width (fold, a
// terminal's log, a comment or a quoted mail wrapped with its marks) is
// found whole at its first piece, wherever the wraps cut it.
func TestHardWrapped(t *testing.T) {
	t.Parallel()
	k := planted
	layouts := []struct {
		name, lead, marks, eol string
		widths                 []int
	}{
		{"fold of a .env line", "LOFTY_API_KEY=", "", "\n", []int{32, 64, 76, 80, 100, 120}},
		{"fold, CRLF", "export LOFTY_API_KEY=", "", "\r\n", []int{40, 80}},
		{"a key on a line of its own", "", "", "\n", []int{64, 76}},
		{"a comment wrapped", "# token: ", "# ", "\n", []int{72, 80}},
		{"a quoted mail", "> > here is the key: ", "> > ", "\n", []int{72, 78}},
		{"an indented block", "    key: ", "      ", "\n", []int{60, 80}},
		{"a C comment", " * LOFTY_API_KEY=", " * ", "\n", []int{80}},
		{"a terminal's log", "2026-12-02T10:00:00Z INFO using key ", "", "\n", []int{80, 132}},
		{"a quoted value", `API_KEY="`, "", "\n", []int{50, 80}},
		// What the first line starts with, repeated: a log's service
		// name, an SQL comment, a comment over an indented line.
		{"docker compose logs", "web-1  | LOFTY_API_KEY=", "web-1  | ", "\n", []int{80}},
		{"an SQL comment", "-- key: ", "-- ", "\n", []int{72}},
		{"a comment over an indented line", "#       LOFTY_API_KEY: ", "# ", "\n", []int{72}},
	}
	for _, l := range layouts {
		for _, w := range l.widths {
			// Shift the key along the lines so the wraps cut it in its
			// header, at and after its dots and in its signature.
			for shift := range 12 {
				pad := strings.Repeat("x", shift*5)
				lead := l.lead + pad
				if len(lead)+len("eyJ") > w {
					continue
				}
				text := hardWrap(lead+k+`" and more words after it`, w, l.marks, l.eol)
				if strings.Contains(text, k) {
					continue // whole on one line: not this test's
				}
				name := fmt.Sprintf("%s/%d/%d", l.name, w, shift)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					buf := []byte("first line\n" + text + l.eol + "last line\n")
					got := cfg.Find(buf)
					first := len("first line\n") + len(lead)
					if len(got) != 1 || got[0].Token != k || got[0].Start != first || got[0].Rule != RuleAPIKey {
						t.Fatalf("in %q: got %s, want the key at %d", text, describe(got), first)
					}
					sameMatches(t, name, got, oracle.Find(buf))
					// The key's bytes are where the wraps put them: the
					// text between two is a line break and the marks.
					at, ok := JoinedAt(buf, first, k)
					if !ok || at[0] != first {
						t.Fatalf("JoinedAt: %v, %v", ok, at)
					}
					for i, p := range at {
						if buf[p] != k[i] {
							t.Fatalf("JoinedAt places the key's byte %d at %d, which holds %q", i, p, buf[p])
						}
						if i > 0 && p != at[i-1]+1 && string(buf[at[i-1]+1:p]) != l.eol+l.marks {
							t.Fatalf("JoinedAt skips %q between the key's bytes %d and %d", buf[at[i-1]+1:p], i-1, i)
						}
					}
					if got[0].End != at[len(at)-1]+1 {
						t.Errorf("match ends at %d, after its last piece at %d", got[0].End, at[len(at)-1]+1)
					}
				})
			}
		}
	}
}

// TestHardWrappedColumns: a first line wrapped at a width in columns, with
// a tab or UTF-8 before the key, is joined to lines as many bytes wide.
func TestHardWrappedColumns(t *testing.T) {
	t.Parallel()
	k := planted
	for _, tc := range []struct {
		lead string
		cols int // its width as the wrapping tool counts it
	}{
		{"\tkey:\t", 16},              // fold: tabs to multiples of 8
		{"clé d'API (ключ): ", 18},    // textwrap: a character a column
		{"INFO 使用密钥 key=", 18},        // a terminal: wide characters two
		{"\tclé:\t", 16},              // tabs and a character a column
		{"2026-12-02 INFO ключ=", 21}, // a character a column
		{"2026-12-02 INFO ключ=", 25}, // GNU fold: a byte a column
		{"\t\tkey ", 20},              // two tabs
		{"ＡＰＩキー：", 12},                // fullwidth forms, two columns each
		{"🔑 LOFTY_API_KEY=", 17},      // an emoji, two columns
		{"", 0},
	} {
		lead, cols := tc.lead, tc.cols
		w := 80
		first := lead + k[:w-cols]
		rest := hardWrap(k[w-cols:], w, "", "\n")
		buf := []byte(first + "\n" + rest + "\n")
		got := cfg.Find(buf)
		if len(got) != 1 || got[0].Token != k || got[0].Start != len(lead) {
			t.Errorf("lead %q: got %s, want the key at %d", lead, describe(got), len(lead))
		}
	}
}

// TestHardWrapMakesNoKey: a line that ends with a key cut short (its
// signature, or all but its header and payload, missing: a truncated key
// in a log or a doc) followed by a line that starts with text of its own
// (a name, a timestamp, a hash) is not joined into a key that is not
// there: what is found is what is found in the two lines apart.
func TestHardWrapMakesNoKey(t *testing.T) {
	t.Parallel()
	k := planted
	sig := strings.LastIndexByte(k, '.') + 1
	var firsts []string
	for _, cut := range []int{sig - 1, sig, sig + 1, sig + 11, sig + 20, sig + 32, len(k) - 1} {
		for _, lead := range []string{"LOFTY_API_KEY=", "2026-12-02T10:00:00Z DEBUG auth header Bearer ", "decoded claims (signature removed): "} {
			firsts = append(firsts, lead+k[:cut])
		}
	}
	nexts := []string{
		"LOFTY_WEBHOOK_SECRET=s3cr3t",
		"2026-12-02T10:00:01.123Z INFO done",
		"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9  release.tar.gz",
		"V1StGXR8_Z5jdHi6B-myT",
		"Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4",
		"done",
	}
	for _, first := range firsts {
		for _, next := range nexts {
			for _, eol := range []string{"\n", "\r\n"} {
				buf := []byte(first + eol + next + eol)
				apart := []byte(first + eol + eol + next + eol)
				got, want := cfg.Find(buf), cfg.Find(apart)
				var g, w []string
				for _, m := range got {
					g = append(g, m.Token)
				}
				for _, m := range want {
					w = append(w, m.Token)
				}
				if strings.Join(g, " ") != strings.Join(w, " ") {
					t.Errorf("%q then %q: found %s, apart %s", first, next, describe(got), describe(want))
				}
			}
		}
	}
}

// TestHardWrapNotJoined: lines that no fixed-width wrap makes, or that hold
// text of their own, are not joined, and every whole key in them is found.
func TestHardWrapNotJoined(t *testing.T) {
	t.Parallel()
	k, k2 := planted, key(map[string]any{"sub": "other"})
	gen := testtoken.Sign(map[string]any{"sub": "agent-7", "iss": "crm"})
	cut := len(k) / 2
	checkTokenCases(t, []tokenCase{
		{"a short line", "k=" + k[:24] + "\n" + k[24:], nil},
		{"the next line wider", "KEY=" + k[:76] + "\n" + k[76:] + " and a longer line after the key, longer than the first", nil},
		{"a middle line narrower", hardWrap("KEY="+k[:120], 64, "", "\n") + k[120:125] + "\n" + k[125:], nil},
		{"a blank line between", "KEY=" + k[:76] + "\n\n" + k[76:], nil},
		{"other marks on the next line", "KEY=" + k[:76] + "\n# " + k[76:], nil},
		{"a key then text as wide", "KEY=" + k + "\n" + strings.Repeat("a", len(k)+4), []string{k}},
		{"a key then a key as wide", "A=" + k + "\nB=" + k2 + " " + strings.Repeat("z", len(k)-len(k2)-1), []string{k, k2}},
		{"a cut key then a whole key", "KEY=" + k[:cut] + "\n" + k2, []string{k2}},
		{"a cut key then a key on a line as wide", hardWrap("A="+k[:cut], 80, "", "\n") + "\nB=" + k2, []string{k2}},
		// The join is a token of four segments, turned down: the key on
		// the second line is still judged.
		{"a header and its dot, then a key on a line of its own", strings.Repeat("A", len(k2)-21) + "=" + k[:21] + "\n" + k2, []string{k2}},
		{"a cut signature then a word", "KEY=" + k[:len(k)-6] + "\nThx, Bob", nil},
		{"quoted-printable, not a wrap", hardWrap("Key: "+k[:70]+"=", 76, "", "\n") + "\n" + k[70:], []string{k}},
		{"a generic JWT wrapped, in a Lofty context", hardWrap("LOFTY_API_KEY="+gen, 64, "", "\n"), nil},
	})
}

// TestHardWrapBounded: files of lines as wide as each other that each
// hold an "eyJ" and end in a token's text cost joins that read each byte a
// bounded number of times: a join turned down passes over the "eyJ" of the
// header's run it joined, and reads no more than a token's text.
func TestHardWrapBounded(t *testing.T) {
	for _, line := range []string{
		strings.Repeat("A", 40) + "eyJ" + strings.Repeat("A", 36),
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ" + strings.Repeat("A", 47),
		strings.Repeat("A", 20) + "eyJhbGciOiJIUzI1NiJ9.eyJ" + strings.Repeat("B", 36),
		strings.Repeat("A", 20) + "eyJhbGciOiJIUzI1NiJ9.eyJ9." + strings.Repeat("B", 10),
		"x=eyJ" + strings.Repeat(".", 76),
		strings.Repeat("A", 20) + "eyJhbGciOiJSUzI1NiJ9.eyJ" + strings.Repeat("B", 36),
		strings.Repeat("A", 20) + "eyJhbGciOiJSUzI1NiJ9.eyJ" + strings.Repeat("B", 196),
	} {
		buf := []byte(strings.Repeat(line+"\n", 20000))
		if n := countJoinRead(buf); n > 4*len(buf) {
			t.Errorf("lines of %q: joins read %d bytes of a %d-byte file", line, n, len(buf))
		}
	}
}

// TestHardWrapOtherAlgs: a key of another alg wrapped where its signature
// is as long as some other alg's (HS512's cut at HS256's 43 characters or
// at ES256's 64) is joined on: only its own alg's lengths make it whole.
func TestHardWrapOtherAlgs(t *testing.T) {
	t.Parallel()
	hs512 := rawJWS(`{"alg":"HS512"}`, scopePayload, b64(strings.Repeat("\x9f", 64)))
	for _, cut := range []int{43, 64, 20} {
		lead := "LOFTY_API_KEY="
		at := len(hs512) - 86 + cut
		buf := []byte(lead + hs512[:at] + "\n" + hs512[at:] + "\n")
		got := cfg.Find(buf)
		if len(got) != 1 || got[0].Token != hs512 || got[0].Start != len(lead) {
			t.Errorf("HS512 wrapped after %d characters of its signature: got %s", cut, describe(got))
		}
	}
}
