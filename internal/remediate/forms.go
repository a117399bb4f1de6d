package remediate

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// A key is replaced by a text of its own length, so that what held it
// keeps its layout: offsets in a database or a compiled file, the byte
// pairs of UTF-16 text, the 3-to-4 grouping of base64 and the places where
// wrapped base64 breaks its lines. The text names the key by the first 8
// hex digits of its fingerprint, so a person reading the rewritten file
// knows which key was there.

// replacementText returns what a key of n characters with fingerprint fp is
// replaced by: ***REMOVED-LOFTY-KEY-<fp8>*** padded with '*' to n
// characters (cut to n for a key shorter than the label, which no real key
// is). None of its characters make a 5-bit run of ones, so its base64 never
// holds '+', '/', '-' or '_': it reads the same in both alphabets.
func replacementText(fp string, n int) string {
	label := replacementLabel(fp)
	if n <= len(label) {
		return label[:n]
	}
	return label + strings.Repeat("*", n-len(label))
}

// replacementLabel is the start of every replacement of the key.
func replacementLabel(fp string) string {
	return "***REMOVED-LOFTY-KEY-" + fp[:min(8, len(fp))] + "***"
}

// form is one way a key is stored, and what replaces it there: the same
// number of bytes.
type form struct {
	old, new []byte
	what     string // "plain", "utf-16", "base64", "hex"...: for tests and messages
	// cutEnd is set for a base64 form whose key ends inside a character:
	// the character after old holds up to 4 bits of the key's last byte.
	cutEnd bool
	// cutBits is how many (2 or 4) of that character's bits are the key's,
	// and newLast the last byte of what replaces the key: a rewritten
	// name gets the replacement's bits there (rewriteCut).
	cutBits          int
	oldLast, newLast byte
}

// keyForms returns every form of the key that does not depend on what
// surrounds it, each with its replacement: the token itself; its UTF-16
// text, little- or big-endian alike (the bytes between its first and last
// character); its hex, lower and upper case; and its base64 and the base64
// of its UTF-16 text at each of the three alignments base64 can start a key
// at, in both alphabets. A base64 form is the characters made of the key's
// bits alone: the one or two characters at each end that share bits with
// the text around it are left, and hold at most 4 bits of the key's first
// byte (always 'e', the start of the public header) and of its last.
//
// These forms match wherever the key is, reported or not, except base64
// broken across lines inside the key: that is matched from where the scan
// found it (see locate.go).
func keyForms(secret, fp string) []form {
	old := []byte(secret)
	rep := []byte(replacementText(fp, len(secret)))
	out := []form{
		{old: old, new: rep, what: "plain"},
		{old: utf16Core(old), new: utf16Core(rep), what: "utf-16"},
		{old: []byte(hex.EncodeToString(old)), new: []byte(hex.EncodeToString(rep)), what: "hex"},
		{old: []byte(strings.ToUpper(hex.EncodeToString(old))), new: []byte(strings.ToUpper(hex.EncodeToString(rep))), what: "hex"},
	}
	inner := []struct {
		old, new []byte
		what     string
	}{
		{old, rep, "base64"},
		{utf16LE(old), utf16LE(rep), "base64/utf-16le"},
		{utf16BE(old), utf16BE(rep), "base64/utf-16be"},
	}
	for _, in := range inner {
		for align := range 3 {
			o, n := base64Core(in.old, align), base64Core(in.new, align)
			bits := 2 * ((align + len(in.old)) % 3)
			oldLast, newLast := in.old[len(in.old)-1], in.new[len(in.new)-1]
			out = append(out, form{o, n, in.what, bits > 0, bits, oldLast, newLast})
			if u := toURLAlphabet(o); !bytes.Equal(u, o) {
				out = append(out, form{u, n, in.what, bits > 0, bits, oldLast, newLast})
			}
		}
	}
	return out
}

// cut is a base64 form whose key ends inside a character: the character
// after the replaced form (after a line break, when the base64 is wrapped
// there) holds the key's last 2 or 4 bits as its high bits, where the
// replacement's are repHigh; its other bits are the text's own. The callbacks set them
// (cutFixPython): left as they were, a rewritten file kept those bits of
// the key, and a literal rule for each character that can follow grew
// filter-repo's passes fivefold and missed a line break between.
type cut struct {
	new     []byte // the replacement's form
	bits    int    // 2 or 4
	repHigh int    // the replacement's bits, in place
}

// keyCuts are the cuts of a key's forms whose bits differ from the
// replacement's, each replacement form once.
func keyCuts(secret, fp string) []cut {
	var out []cut
	seen := map[string]bool{}
	for _, f := range keyForms(secret, fp) {
		if f.cutBits == 0 || seen[string(f.new)] {
			continue
		}
		mask, low := 1<<f.cutBits-1, 6-f.cutBits
		if high, repHigh := int(f.oldLast)&mask<<low, int(f.newLast)&mask<<low; high != repHigh {
			seen[string(f.new)] = true
			out = append(out, cut{new: f.new, bits: f.cutBits, repHigh: repHigh})
		}
	}
	return out
}

// utf16LE and utf16BE are the UTF-16 text of ASCII bytes.
func utf16LE(b []byte) []byte {
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, c, 0)
	}
	return out
}

func utf16BE(b []byte) []byte {
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, 0, c)
	}
	return out
}

// utf16Core is the UTF-16 text of ASCII bytes without the zero byte after
// the last character (little-endian) or before the first (big-endian):
// the bytes both byte orders share. Replacing it by another core of the
// same length keeps the text valid in either order.
func utf16Core(b []byte) []byte {
	le := utf16LE(b)
	return le[:len(le)-1]
}

// base64Core returns the base64 characters of b that depend on b's bits
// alone when b starts align bytes (0, 1 or 2) into a 3-byte group.
func base64Core(b []byte, align int) []byte {
	buf := make([]byte, align, align+len(b)+2)
	buf = append(buf, b...)
	enc := base64.StdEncoding.EncodeToString(buf)
	// Character k holds bits [6k, 6k+6); b holds bits [8*align, 8*(align+len(b))).
	lo := (8*align + 5) / 6
	hi := (8*(align+len(b)))/6 - 1
	return []byte(enc[lo : hi+1])
}

// toURLAlphabet maps standard base64 characters to the URL alphabet.
func toURLAlphabet(b []byte) []byte {
	out := bytes.Clone(b)
	for i, c := range out {
		switch c {
		case '+':
			out[i] = '-'
		case '/':
			out[i] = '_'
		}
	}
	return out
}

// fingerprint is the key's fingerprint as loftyscan reports it.
func fingerprint(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
