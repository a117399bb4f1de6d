package rules

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
)

// refSearch is Search as its specification: every form tried at every
// position, and every block of RunBlock bytes classified, a run reported at
// its first block.
func refSearch(s *Searcher, buf []byte) []Hit {
	var out []Hit
	prev := [2]bool{}
	for p := range buf {
		if p%RunBlock == 0 {
			kind := eventNone
			if p+RunBlock <= len(buf) {
				kind = s.blockKind(buf[p : p+RunBlock])
			}
			for k, ev := range []int{eventB64, eventUTF16} {
				if kind == ev && !prev[k] {
					out = append(out, Hit{p, []*Form{RunBase64, RunUTF16}[k]})
				}
				prev[k] = kind == ev
			}
		}
		for i := range s.forms {
			if s.forms[i].matchAt(buf, p) {
				out = append(out, Hit{p, &s.forms[i]})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Hit) int { return a.Pos - b.Pos })
	return out
}

func collect(s *Searcher, buf []byte, next func([]byte, int, int) (int, int)) []Hit {
	var out []Hit
	s.search(buf, next, func(h Hit) int { out = append(out, h); return 0 })
	return out
}

// checkSearch compares the vector and scalar searches with the
// specification.
func checkSearch(t *testing.T, s *Searcher, buf []byte) {
	t.Helper()
	want := refSearch(s, buf)
	if got := s.Any(buf); got != (len(want) > 0) {
		t.Fatalf("Any(%q) = %v, the search has %d hits", buf, got, len(want))
	}
	for name, next := range map[string]func([]byte, int, int) (int, int){"scalar": s.nextScalar, "default": s.next} {
		if got := collect(s, buf, next); !slices.Equal(got, want) {
			t.Fatalf("%s search of %q:\n got %v\nwant %v", name, buf, got, want)
		}
	}
}

// u16 is s in UTF-16LE.
func u16(s string) string {
	var b strings.Builder
	for _, u := range utf16.Encode([]rune(s)) {
		b.WriteByte(byte(u))
		b.WriteByte(byte(u >> 8))
	}
	return b.String()
}

// encode applies the named encodings to s, the innermost last.
func encode(s string, stack ...string) string {
	for i := len(stack) - 1; i >= 0; i-- {
		switch stack[i] {
		case "base64":
			s = base64.StdEncoding.EncodeToString([]byte(s))
		case "base64url":
			s = base64.RawURLEncoding.EncodeToString([]byte(s))
		case "utf-16":
			s = u16(s)
		case "hex":
			s = hex.EncodeToString([]byte(s))
		case "HEX":
			s = strings.ToUpper(hex.EncodeToString([]byte(s)))
		}
	}
	return s
}

// TestSearchOneLayer encodes a key under each single encoding, after
// prefixes of every length mod 3, and checks that a form of that layer is
// found where the encoded "eyJ" is.
func TestSearchOneLayer(t *testing.T) {
	t.Parallel()
	layerOf := map[string]Layer{"base64": Base64, "base64url": Base64, "utf-16": UTF16, "hex": Hex, "HEX": Hex}
	for name, layer := range layerOf {
		for pad := range 3 {
			text := encode(strings.Repeat("~", pad)+planted, name)
			found := false
			DefaultSearcher().Search([]byte(text), func(h Hit) int {
				found = found || !h.Form.Run && h.Form.Layer == layer && h.Pos <= 2*pad+4
				return 0
			})
			if !found {
				t.Errorf("%s, prefix %d: no %v form found", name, pad, layer)
			}
		}
	}
}

// TestSearchRuns: a long run of base64 or UTF-16 text is reported once, at
// its first whole block, whatever it holds; short runs and prose are not.
func TestSearchRuns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want []Hit
	}{
		{"base64", "x: " + strings.Repeat("QUJD", 40) + " y", []Hit{{32, RunBase64}}},
		{"base64 wrapped", "x:\n" + strings.Repeat(strings.Repeat("QUJD", 19)+"\r\n", 3) + ":", []Hit{{32, RunBase64}}},
		{"hex", "k " + strings.Repeat("6a", 40) + ".", []Hit{{32, RunBase64}}},
		{"utf-16", "\xff\xfe" + u16(strings.Repeat("a b ", 20)), []Hit{{32, RunUTF16}}},
		{"utf-16 at 0", u16(strings.Repeat("a b ", 20)), []Hit{{0, RunUTF16}}},
		{"utf-16 odd", "\x01" + u16(strings.Repeat("a b ", 20)), []Hit{{32, RunUTF16}}},
		{"short", "x: " + strings.Repeat("QUJD", 7) + " y", nil},
		{"prose", strings.Repeat("the quick brown fox. ", 10), nil},
	}
	for _, tt := range tests {
		var got []Hit
		DefaultSearcher().Search([]byte(tt.text), func(h Hit) int {
			if h.Form.Run {
				got = append(got, h)
			}
			return 0
		})
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: runs %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestSearchSpec compares the searches with their specification on inputs
// built from the forms, runs and bytes around them.
func TestSearchSpec(t *testing.T) {
	t.Parallel()
	s := DefaultSearcher()
	var pieces []string
	for _, f := range s.forms {
		var b []byte
		for _, set := range f.sets {
			b = append(b, minByte(set))
		}
		pieces = append(pieces, string(b))
	}
	pieces = append(pieces, "eyJ", "ZXlK", "\x00", " ", "\n", "e\x00y\x00J\x00", "65794a", "65794A",
		strings.Repeat("A", 40), u16("abcdefghijklmnopqrstu"), "\r\n")
	r := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		var b bytes.Buffer
		n := r.IntN(400)
		for b.Len() < n {
			b.WriteString(pieces[r.IntN(len(pieces))])
			if r.IntN(3) == 0 {
				b.WriteByte(byte(r.IntN(256)))
			}
		}
		checkSearch(t, s, b.Bytes())
	}
	for n := range 100 {
		checkSearch(t, s, bytes.Repeat([]byte("Z"), n))
		checkSearch(t, s, bytes.Repeat([]byte("yJ"), n))
		// UTF-16 in either byte order, cut at every length: where the
		// padding of Any starts inside a block, the block may look like
		// UTF-16 to the vector code though it is not whole in buf.
		checkSearch(t, s, bytes.Repeat([]byte("\x00a"), 80)[:n])
		checkSearch(t, s, bytes.Repeat([]byte("a\x00"), 80)[:n])
		checkSearch(t, s, []byte(strings.Repeat("x", n)+"eyJ"))
	}
	for _, f := range s.forms {
		for _, set := range f.sets {
			if set.has(noFormByte) {
				t.Fatalf("form %s holds noFormByte, with which Any pads", f.Stack)
			}
		}
	}
	if s.inB64Run(noFormByte) || noFormByte == 0 {
		t.Fatal("noFormByte is of a run")
	}
}

func minByte(s byteSet) byte {
	for c := range 256 {
		if s.has(byte(c)) {
			return byte(c)
		}
	}
	return 0
}
