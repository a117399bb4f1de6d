package scanner

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testtoken"
	"github.com/loftyscan/loftyscan/rules"
)

// jws writes a compact JWS of a header and a payload as they are (any
// bytes), with pad '=' after the payload's base64url and a signature of
// the test secret's length that nothing checks.
func jws(header, payload string, pad int) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(payload)) + strings.Repeat("=", pad) + "." +
		enc([]byte("signature-of-thirty-two-bytes..."))
}

// payloadCarriers are JWTs whose payloads are runs of base64 the finder
// must look into, and some that trip the conditions under which a
// payload the rules decoded is not reused.
func payloadCarriers() map[string]string {
	b64, url := base64.StdEncoding.EncodeToString, base64.RawURLEncoding.EncodeToString
	const hdr = `{"alg":"HS256"}`
	return map[string]string{
		"generic":              testtoken.Generic("user-1"),
		"key in a claim":       testtoken.Sign(map[string]any{"sub": "x", "blob": b64([]byte(keyActive))}),
		"key url-safe":         testtoken.Sign(map[string]any{"sub": "xy", "blob": url([]byte(keyActive))}),
		"key base64 twice":     testtoken.Sign(map[string]any{"blob": b64([]byte(b64([]byte("u:" + keyActive))))}),
		"key hex in a claim":   testtoken.Sign(map[string]any{"sub": "x", "blob": hex.EncodeToString([]byte(keyActive))}),
		"key plain in a claim": testtoken.Sign(map[string]any{"sub": "x", "inner": keyActive}),
		"key after a shift":    testtoken.Sign(map[string]any{"sub": "abcde", "note": "x y z", "blob": b64([]byte(keyActive))}),
		"escaped scope":        jws(hdr, `{"sub":"u","scope":"\u0054HIRD_PARTY_OPERATION","pad":"aaaaaaaaaaaaaaaa"}`, 0),
		"padded payload":       jws(hdr, `{"sub":"padded-user","role":"anon","iss":"supabase","n":1}`, 2),
		"short payload":        jws(hdr, `{"a":1}`, 0),
		"hex digits payload":   jws(hdr, strings.Repeat("\xd3\x4d\x35", 16), 0), // base64url "0001" 16 times
		// The payload's text is the key in hex: a run the finder decodes
		// as hex, not as the base64 the rules read.
		"key hex as the payload": url([]byte(hdr)) + "." + hex.EncodeToString([]byte(keyActive)) + ".c2lnbmF0dXJl",
		"long payload":           testtoken.Sign(map[string]any{"sub": "x", "data": strings.Repeat("z", 1700), "blob": b64([]byte(keyActive))}),
	}
}

// TestPayloadReuse: a JWT's payload, decoded once by the rules and not
// again as a run of base64, gives the hits of decoding every run in
// windows (the oracle), wherever the payload falls among the searcher's
// blocks, alone or after other text; and the keys nested in claims (base64
// once or twice, hex, plain) are found.
func TestPayloadReuse(t *testing.T) {
	t.Parallel()
	for name, tok := range payloadCarriers() {
		for shift := range 2 * rules.RunBlock {
			for _, line := range []string{
				`{"access_token": "%s"}`,
				`LOFTY_TOKEN=%s`,
				`x=QUJD%s`, // glued to base64 before it
				`%s.%s`,    // four segments and more: no candidate
				`a %s %s b`,
			} {
				in := strings.Repeat(" ", shift) + strings.ReplaceAll(line, "%s", tok) + "\n"
				slow := findAll(&finder{cfg: rules.Config{Now: refNow}, windowsOnly: true}, []byte(in))
				quick := findAll(&finder{cfg: rules.Config{Now: refNow}}, []byte(in))
				if !sameHits(quick, slow) {
					t.Fatalf("%s, shift %d, %q: %d hits reusing payloads, %d decoding in windows",
						name, shift, line, len(quick), len(slow))
				}
				if strings.HasPrefix(name, "key") && line != `%s.%s` && !hasToken(quick, keyActive) {
					t.Fatalf("%s, shift %d, %q: the key in the claim was not found", name, shift, line)
				}
			}
		}
	}
}

func hasToken(hits []hit, tok string) bool {
	for _, h := range hits {
		if h.match.Token == tok {
			return true
		}
	}
	return false
}

// TestPayloadRunMarked: the shortcut does its job, and only where it may:
// the payload of a generic JWT is marked done, so that the searcher's run
// in it is not decoded again; a payload that holds a nested key, one of
// hex digits only, and one with no whole block of the search are not.
func TestPayloadRunMarked(t *testing.T) {
	t.Parallel()
	carriers := payloadCarriers()
	for _, tt := range []struct {
		name string
		want bool
	}{
		{"generic", true},
		{"padded payload", true},
		{"key in a claim", false},
		{"key plain in a claim", false},
		{"hex digits payload", false},
		{"short payload", false},
	} {
		buf := []byte(`{"t": "` + carriers[tt.name] + `"}` + "\n")
		f := &finder{cfg: rules.Config{Now: refNow}}
		d := decodeState{f: f, buf: buf, outer: func() bool { return false }, emit: func(hit) {}, u16Done: -1, runDone: -1}
		d.hit(rules.Hit{Pos: strings.Index(string(buf), "eyJ"), Form: &rules.DefaultSearcher().Forms()[0]})
		p := f.payload
		if p.End == 0 {
			t.Fatalf("%s: the rules kept no payload", tt.name)
		}
		if got, _ := base64.RawURLEncoding.DecodeString(string(buf[p.Start:p.End])); string(got) != string(p.Text) {
			t.Fatalf("%s: the payload kept is not the decoding of [%d:%d]", tt.name, p.Start, p.End)
		}
		if marked := d.runDone == p.End; marked != tt.want {
			t.Errorf("%s: payload run marked done %v, want %v", tt.name, marked, tt.want)
		}
	}
}

// TestDecodeLine: decodeLine gives what decoding a character at a time
// gives (the bits of each character in turn, a byte for every eight), and
// stops at the same place, for base64 of both alphabets and hex, with any
// byte at any place and after text already in dst.
func TestDecodeLine(t *testing.T) {
	t.Parallel()
	ref := func(c *codec, s, dst []byte) ([]byte, int) {
		var acc uint32
		var bits uint
		k := 0
		for ; k < len(s) && c.val[s[k]] != 0xff; k++ {
			acc = acc<<c.bits | uint32(c.val[s[k]])
			bits += c.bits
			if bits >= 8 {
				bits -= 8
				dst = append(dst, byte(acc>>bits))
			}
		}
		return dst, k
	}
	for _, text := range []string{
		"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo+/-_0123456789abcdefghijklmnopqrstuvwxyz",
		hex.EncodeToString([]byte("a hex text of some length to decode")),
	} {
		for _, c := range []*codec{&base64Codec, &hexCodec} {
			for cut := range len(text) + 1 {
				for _, b := range []byte{'=', '.', '\n', ' ', 0, 0xff, 'A', 'f'} {
					s := []byte(text[:cut] + string([]byte{b}) + text[cut:])
					for _, prefix := range []string{"", "xyz"} {
						got, gn := decodeLine(c, s, []byte(prefix))
						want, wn := ref(c, s, []byte(prefix))
						if gn != wn || string(got) != string(want) {
							t.Fatalf("%s of %q: %d characters to %x, want %d to %x", c.name, s, gn, got, wn, want)
						}
					}
				}
			}
		}
	}
}
