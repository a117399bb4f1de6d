package scanner

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLineColumn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
		want    []wantFinding // Path is filled in
	}{
		{"key at file start", keyActive + "\nrest\n", []wantFinding{{Line: 1, Column: 1, Token: keyActive}}},
		{"key at file end without newline", "a=1\nLOFTY=" + keyActive, []wantFinding{{Line: 2, Column: 7, Token: keyActive}}},
		{"key is the whole file", keyExpired, []wantFinding{{Line: 1, Column: 1, Token: keyExpired}}},
		// "naïve 日本語 🔑 = " is 14 characters in 24 bytes.
		{"multibyte UTF-8 before the key", "# clé\nnaïve 日本語 🔑 = " + keyActive + "\n", []wantFinding{{Line: 2, Column: 15, Token: keyActive}}},
		{"UTF-8 byte order mark", "\uFEFF" + keyActive + "\n", []wantFinding{{Line: 1, Column: 1, Token: keyActive}}},
		{"CRLF", "a=1\r\nb=2\r\nLOFTY_API_KEY=" + keyActive + "\r\nc=" + keyExpired + "\r\n", []wantFinding{
			{Line: 3, Column: 15, Token: keyActive},
			{Line: 4, Column: 3, Token: keyExpired},
		}},
		{"old Mac CR is not a line break", "a=1\rb=" + keyActive, []wantFinding{{Line: 1, Column: 7, Token: keyActive}}},
		{"tabs are one character", "\t\tkey:\t" + keyActive, []wantFinding{{Line: 1, Column: 8, Token: keyActive}}},
		{"key on line 1000", strings.Repeat("filler line\n", 999) + "  key: " + keyForever + "\n", []wantFinding{{Line: 1000, Column: 8, Token: keyForever}}},
		{"two keys on one line", "a=" + keyActive + " b=" + keyExpired, []wantFinding{
			{Line: 1, Column: 3, Token: keyActive},
			{Line: 1, Column: 3 + len(keyActive) + 3, Token: keyExpired},
		}},
		{"empty lines", "\n\n\n" + keyActive, []wantFinding{{Line: 4, Column: 1, Token: keyActive}}},
	}
	var cases []decodeCase
	for _, tt := range tests {
		cases = append(cases, decodeCase{tt.name, []byte(tt.content), tt.want})
	}
	runDecodeCases(t, cases)
}

// TestCountCharsSplit checks that a character cut between two pieces fed
// to position is counted once.
func TestCountCharsSplit(t *testing.T) {
	t.Parallel()
	s := []byte("aé日🔑z")
	for cut := range len(s) + 1 {
		var p position
		p.advance(s[:cut])
		p.advance(s[cut:])
		if _, col := p.lineCol(false); col != utf8.RuneCount(s)+1 {
			t.Errorf("cut at %d: column %d, want %d", cut, col, utf8.RuneCount(s)+1)
		}
	}
}

// TestCountCharsWords checks the eight-bytes-at-a-time count against the
// byte loop on every kind of byte, at every length and offset.
func TestCountCharsWords(t *testing.T) {
	t.Parallel()
	slow := func(b []byte) int {
		n := 0
		for _, c := range b {
			if c&0xC0 != 0x80 {
				n++
			}
		}
		return n
	}
	var all []byte
	for i := range 256 {
		all = append(all, byte(i), 'a', byte(255-i))
	}
	all = append(all, []byte("héllo wörld ✓ 𝄞")...)
	for i := 0; i < len(all); i += 7 {
		for j := i; j <= len(all) && j < i+40; j++ {
			if got, want := countChars(all[i:j]), slow(all[i:j]); got != want {
				t.Fatalf("countChars(all[%d:%d]) = %d, want %d", i, j, got, want)
			}
		}
	}
}

// lastNewline finds the last line break as bytes.LastIndexByte does,
// whatever the blocks it looks through.
func TestLastNewline(t *testing.T) {
	for _, size := range []int{0, 1, 511, 512, 513, 1024, 1025, 5000} {
		for _, at := range []int{-1, 0, 1, 510, 511, 512, 513, size - 513, size - 512, size - 1} {
			b := bytes.Repeat([]byte{'x'}, size)
			if at >= 0 && at < size {
				b[at] = '\n'
				if at > 3 {
					b[at/2] = '\n' // an earlier one, not the last
				}
			}
			if got, want := lastNewline(b), bytes.LastIndexByte(b, '\n'); got != want {
				t.Errorf("size %d, break at %d: %d, want %d", size, at, got, want)
			}
		}
	}
}

// TestUTF16LinesCut: in a stream with a UTF-16 byte order mark, a line
// break is the code unit U+000A, counted once wherever the pieces fed to
// position cut it, and a byte 0x0A in another character (上 is U+4E0A,
// Њ U+040A) is none.
func TestUTF16LinesCut(t *testing.T) {
	t.Parallel()
	text := "上\nЊ\r\nab上\n上cd"
	for _, be := range []bool{false, true} {
		s := encodeUTF16(text, be, true)
		for cut := range len(s) + 1 {
			var p position
			p.skipBOM(s)
			p.advance(s[:cut])
			p.advance(s[cut:])
			if line, col := p.lineCol(true); line != 4 || col != 4 {
				t.Errorf("big-endian %v, cut at %d: line %d, column %d, want 4, 4", be, cut, line, col)
			}
		}
	}
}

// TestUTF16LinesStreamed: the lines of a UTF-16 file larger than the
// stream's buffer, whose every line holds 上, are counted as the text's.
func TestUTF16LinesStreamed(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for b.Len() < 3*bufSize/2 {
		b.WriteString("# 上 《注意》 Њ\r\n")
	}
	b.WriteString("$env:LOFTY_API_KEY = \"" + keyActive + "\"\r\n")
	text := b.String()
	line, _ := refLineCol([]byte(text), strings.Index(text, keyActive))
	for _, be := range []bool{false, true} {
		enc := map[bool]string{false: "utf-16le", true: "utf-16be"}[be]
		runDecodeCases(t, []decodeCase{{enc + " streamed", encodeUTF16(text, be, true),
			[]wantFinding{{Line: line, Column: 23, Encoding: enc, Token: keyActive}}}})
	}
}
