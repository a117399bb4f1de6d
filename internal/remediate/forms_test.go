package remediate

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// applyForms does what filter-repo does with the literal rules: each
// replaced in order.
func applyForms(data []byte, forms []form) []byte {
	for _, f := range forms {
		data = bytes.ReplaceAll(data, f.old, f.new)
	}
	return data
}

func testKey(sub string) (secret, fp string) {
	secret = testtoken.Key(sub, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	return secret, fingerprint(secret)
}

func TestReplacementTextIsAsLongAsTheKeyAndNamesIt(t *testing.T) {
	secret, fp := testKey("4242")
	r := replacementText(fp, len(secret))
	if len(r) != len(secret) || !strings.HasPrefix(r, "***REMOVED-LOFTY-KEY-"+fp[:8]+"***") || strings.Trim(r[33:], "*") != "" {
		t.Fatalf("replacementText = %q (key is %d long)", r, len(secret))
	}
	if got := replacementText(fp, 10); got != "***REMOVED" {
		t.Errorf("cut to a short key: %q", got)
	}
}

// The replacement's base64 must read the same in both alphabets: one
// replacement serves the standard and the URL form of a key.
func TestReplacementBase64HasNoAlphabetSpecificCharacter(t *testing.T) {
	for _, fp := range []string{fingerprint("a"), fingerprint("b"), strings.Repeat("f", 64), strings.Repeat("0", 64)} {
		r := []byte(replacementText(fp, 300))
		for _, in := range [][]byte{r, utf16LE(r), utf16BE(r)} {
			for align := range 3 {
				// Whatever the neighbours, the characters made of the replacement's bits only.
				if c := base64Core(in, align); bytes.ContainsAny(c, "+/-_") {
					t.Errorf("fp %s align %d: core %q has an alphabet-specific character", fp[:8], align, c)
				}
			}
		}
	}
}

// Every way a key is stored that does not depend on its neighbours is
// matched and replaced, and what surrounds it decodes as before.
func TestKeyFormsReplaceEveryEncodingAtEveryAlignment(t *testing.T) {
	secret, fp := testKey("1001")
	forms := keyForms(secret, fp)
	rep := replacementText(fp, len(secret))
	prefixes := []string{"", "K", "KE", "LOFTY_API_KEY=", "x: \"", "ab\xff"}
	suffixes := []string{"", "\n", "\"", "\nOTHER=1\n", "\x00\x01"}
	for _, pre := range prefixes {
		for _, suf := range suffixes {
			plain := pre + secret + suf
			want := pre + rep + suf
			cases := map[string]struct {
				stored []byte
				decode func([]byte) ([]byte, error)
				exact  bool // false: the first and last byte of the replacement may keep bits of the key's
			}{
				"plain":      {[]byte(plain), ident, true},
				"utf-16le":   {utf16LE([]byte(plain)), ident, true},
				"utf-16be":   {utf16BE([]byte(plain)), ident, true},
				"hex":        {[]byte(hex.EncodeToString([]byte(plain))), hexDecode, true},
				"HEX":        {[]byte(strings.ToUpper(hex.EncodeToString([]byte(plain)))), hexDecode, true},
				"base64":     {[]byte(base64.StdEncoding.EncodeToString([]byte(plain))), b64(base64.StdEncoding), false},
				"base64url":  {[]byte(base64.RawURLEncoding.EncodeToString([]byte(plain))), b64(base64.RawURLEncoding), false},
				"b64-u16le":  {[]byte(base64.StdEncoding.EncodeToString(utf16LE([]byte(plain)))), b64(base64.StdEncoding), false},
				"b64-u16be":  {[]byte(base64.StdEncoding.EncodeToString(utf16BE([]byte(plain)))), b64(base64.StdEncoding), false},
				"b64url-u16": {[]byte(base64.URLEncoding.EncodeToString(utf16LE([]byte(plain)))), b64(base64.URLEncoding), false},
			}
			for name, c := range cases {
				t.Run(fmt.Sprintf("%s/%q/%q", name, pre, suf), func(t *testing.T) {
					scanned := !strings.HasPrefix(strings.ToLower(name), "hex") // loftyscan does not decode hex (yet)
					if scanned && len(scanText(t, "f", c.stored)) == 0 {
						t.Fatal("the scanner does not find the key in the test text: the case tests nothing")
					}
					got := applyForms(bytes.Clone(c.stored), forms)
					if keys := scanText(t, "f", got); len(keys) > 0 {
						t.Fatalf("the scanner still finds %d keys after the replacement", len(keys))
					}
					if len(got) != len(c.stored) {
						t.Fatalf("length %d, was %d", len(got), len(c.stored))
					}
					dec, err := c.decode(got)
					if err != nil {
						t.Fatalf("rewritten text no longer decodes: %v", err)
					}
					wantDec := []byte(want)
					switch name {
					case "utf-16le", "b64-u16le", "b64url-u16":
						wantDec = utf16LE(wantDec)
					case "utf-16be", "b64-u16be":
						wantDec = utf16BE(wantDec)
					}
					if c.exact {
						if i := firstDiff(dec, wantDec, 0, 0, 0); i >= 0 {
							t.Fatalf("decoded text differs at byte %d: %q", i, dec[max(0, i-8):min(len(dec), i+8)])
						}
						return
					}
					w := len(wantDec) / len(want) // bytes a character: 1, or 2 in UTF-16
					if i := firstDiff(dec, wantDec, len(pre)*w, len(wantDec)-len(suf)*w, w); i >= 0 {
						t.Fatalf("decoded text differs at byte %d (not the first or last character of the replacement): %q", i, dec[max(0, i-8):min(len(dec), i+8)])
					}
				})
			}
		}
	}
}

// firstDiff returns the first offset where a and b differ, leaving out
// the first and last character (w bytes) of the replacement at [lo, hi):
// in base64 they share a character with the text around them, and keep up
// to 4 bits of the key's. -1 when there is none.
func firstDiff(a, b []byte, lo, hi, w int) int {
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] && (i < lo || i >= lo+w) && (i < hi-w || i >= hi) {
			return i
		}
	}
	return -1
}

func hexDecode(b []byte) ([]byte, error) { return hex.DecodeString(string(b)) }

func ident(b []byte) ([]byte, error) { return b, nil }

func b64(enc *base64.Encoding) func([]byte) ([]byte, error) {
	return func(b []byte) ([]byte, error) { return enc.DecodeString(string(b)) }
}
