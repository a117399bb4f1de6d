package rules

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// randomBytes returns n bytes from a fixed seed, none of which starts a
// token or extends one: the bytes next to a token decide where it ends, and
// a base64url byte there would rightly become part of it.
func randomBytes(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

// minified is one line of n bytes of JavaScript-like text with no newline
// and no token.
func minified(n int) string {
	const unit = `function a(b){return b.map(function(c){return c+1})};var d={"e":"f","g":[1,2,3]};`
	return strings.Repeat(unit, n/len(unit)+1)[:n]
}

func TestFindLocations(t *testing.T) {
	t.Parallel()
	k := key(nil)
	kFuture := key(map[string]any{"exp": future.Unix()})
	api := want{RuleAPIKey, StatusNoExpiry, time.Time{}}
	active := want{RuleAPIKey, StatusActive, time.Unix(future.Unix(), 0).UTC()}

	tests := []struct {
		name  string
		doc   *doc
		wants []want
	}{
		{"alone", new(doc).tok(k), []want{api}},
		{"buffer start", new(doc).tok(k).text("\nrest of file\n"), []want{api}},
		{"buffer end", new(doc).text("token is ").tok(k), []want{api}},
		{"double quoted", new(doc).text(`key = "`).tok(k).text(`"`), []want{api}},
		{"single quoted", new(doc).text(`key = '`).tok(k).text(`'`), []want{api}},
		{"backticks", new(doc).text("key := `").tok(k).text("`\n"), []want{api}},
		{"after =", new(doc).text("KEY=").tok(k).text("\n"), []want{api}},
		{"after :", new(doc).text("key:").tok(k).text("\n"), []want{api}},
		{"yaml", new(doc).text("auth:\n  key: ").tok(k).text("\n"), []want{api}},
		{"json", new(doc).text(`{"key":"`).tok(k).text(`","n":1}`), []want{api}},
		{"query string", new(doc).text("https://example.com/x?a=1&key=").tok(k).text("&b=2"), []want{api}},
		{"url fragment", new(doc).text("https://example.com/cb#access_token=").tok(k).text("&state=x"), []want{api}},
		{"tab", new(doc).text("key\t").tok(k).text("\tnext"), []want{api}},
		{"crlf", new(doc).text("first\r\nKEY=").tok(k).text("\r\nlast\r\n"), []want{api}},
		{"crlf alone on a line", new(doc).text("\r\n").tok(k).text("\r\n"), []want{api}},
		{"end of sentence", new(doc).text("The key is ").tok(k).text(". Rotate it."), []want{api}},
		{"ellipsis", new(doc).text("The key is ").tok(k).text("..."), []want{api}},
		{"xml", new(doc).text("<key>").tok(k).text("</key>"), []want{api}},
		{"nul bytes", new(doc).text("\x00\x00\x00").tok(k).text("\x00\x00"), []want{api}},
		{"random bytes", new(doc).text(randomBytes(1, 4096) + "\x00").tok(k).text("\xff" + randomBytes(2, 4096)), []want{api}},
		{"high bytes", new(doc).text("\x80\xfe\xc3").tok(k).text("\xe2\x80\x9d"), []want{api}},
		{"after base64url text", new(doc).text("xyz").tok(k).text(" "), []want{api}},
		{"in 100 KB minified line", new(doc).text(minified(50_000) + `apiKey:"`).tok(k).text(`",` + minified(50_000)), []want{api}},
		{"at start of 100 KB line", new(doc).tok(k).text(";" + minified(100_000)), []want{api}},
		{"at end of 100 KB line", new(doc).text(minified(100_000) + "=").tok(k), []want{api}},
		{"two on a line", new(doc).text("a=").tok(k).text(",b=").tok(kFuture).text(";"), []want{api, active}},
		{"two separated by a space", new(doc).tok(k).text(" ").tok(kFuture), []want{api, active}},
		{"many lines", new(doc).text("x\n").tok(k).text("\ny\n").tok(kFuture).text("\n"), []want{api, active}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkMatches(t, tt.doc, cfg.Find(tt.doc.buf), tt.wants...)
		})
	}
}

// TestFindTrailingEquals: '=' after a token is taken as padding only as far
// as the signature's length allows, so the token still decodes and is
// reported; the rest is left as text. After a signature as long as the
// alg's (HS256: 43 characters) none is kept: a JWS is never padded, and
// the key keeps the fingerprint it has without them.
func TestFindTrailingEquals(t *testing.T) {
	t.Parallel()
	h, p := b64(`{"alg":"HS256"}`), b64(`{"scope":"`+Scope+`"}`)
	sig := func(n int) string { return h + "." + p + "." + strings.Repeat("Q", n) }
	tests := []struct {
		name, tok, after, want string
	}{
		{"len%4=3, no padding", sig(43), "\n", sig(43)},
		{"len%4=3, one =", sig(43), "=\n", sig(43)},
		{"len%4=3, two =", sig(43), "==\n", sig(43)},
		{"len%4=3, three =", sig(43), "===\n", sig(43)},
		{"len%4=2, one =", sig(42), "=;", sig(42) + "="},
		{"len%4=2, two =", sig(42), "==;", sig(42) + "=="},
		{"len%4=2, three =", sig(42), "===;", sig(42) + "=="},
		{"len%4=0, two = (a whole signature and one more character)", sig(44), "==&", sig(43)},
		{"testtoken key, two =", key(nil), "==", key(nil)},
		{"unknown alg, len%4=3, one =", b64(`{"alg":"XYZ"}`) + "." + p + "." + strings.Repeat("Q", 43), "=\n", b64(`{"alg":"XYZ"}`) + "." + p + "." + strings.Repeat("Q", 43) + "="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := new(doc).text("KEY=").tok(tt.want)
			d.buf = append(d.buf[:len("KEY=")], tt.tok+tt.after...)
			checkMatches(t, d, cfg.Find(d.buf), want{RuleAPIKey, StatusNoExpiry, time.Time{}})
		})
	}
}

// TestFindGluedAfter: a key glued to the bytes after it, as binary formats
// write it, is reported as the key itself, ending where its alg's
// signature ends: not as the key with those bytes (another fingerprint,
// and a live check of a token that is not the key), and not missed when
// they make the signature undecodable.
func TestFindGluedAfter(t *testing.T) {
	t.Parallel()
	k := key(map[string]any{"exp": future.Unix()})
	active := want{RuleAPIKey, StatusActive, time.Unix(future.Unix(), 0)}
	rs := rawJWS(`{"alg":"RS256","kid":"k1"}`, scopePayload, b64(strings.Repeat("\x9f", 256)))
	es := rawJWS(`{"alg":"ES256"}`, scopePayload, b64(strings.Repeat("\x9f", 64)))
	hs512 := rawJWS(`{"alg":"HS512","typ":"JWT"}`, scopePayload, b64(strings.Repeat("\x9f", 64)))
	typed := rawJWS(`{"alg":"HS256","typ":"JWT"}`, scopePayload, b64(strings.Repeat("\x9f", 32)))
	api := want{RuleAPIKey, StatusNoExpiry, time.Time{}}
	tests := []struct {
		name string
		doc  *doc
		w    want
	}{
		// marshal: the string's type and length, then None and the end of the tuple
		{".pyc constants", new(doc).text("\x02z\xb3").tok(k).text("N)\x01\xda\x03KEY"), active},
		// Java serialization: TC_STRING 't' and its length before each string, TC_NULL 'p'
		{"Java serialized string then string", new(doc).text("xpt\x00\xb3").tok(k).text("t\x00\x11agent@example.com"), active},
		{"Java serialized string then null", new(doc).text("xpt\x00\xb3").tok(k).text("p"), active},
		// SQLite: a row's columns one after the other
		{"SQLite row", new(doc).text("\x05\x00\x81\x71\x1f").tok(k).text("lofty-prod\x0f"), active},
		// protobuf: the next field's tag, field 6 length-delimited, is '2'
		{"protobuf", new(doc).text("\x0a\xb3\x01").tok(k).text("2\x0512345"), active},
		{"two characters, undecodable with them", new(doc).text("\x00").tok(k).text("ZZ\x00"), active},
		{"text", new(doc).text("cp ").tok(k).text("_backup-old ~/keys"), active},
		{"RS256", new(doc).text("t\x01\x55").tok(rs).text("t\x00\x01x"), api},
		{"ES256", new(doc).tok(es).text("Q"), api},
		{"HS512", new(doc).tok(hs512).text("abc"), api},
		// A SQLite row of the key and its hash or id, as long as another
		// alg's signature with it: a nanoid (21), a SHA-256 in base64url
		// (43), after Lofty's header ({"alg":"HS256"}) and with "typ".
		{"SQLite row, a nanoid next", new(doc).text("\x04\x00\x81\x71\x37").tok(k).text("V1StGXR8_Z5jdHi6B-myT\x01"), active},
		{"SQLite row, a SHA-256 next", new(doc).text("\x04\x00\x81\x71\x67").tok(k).text("uU0nuZNNPgilLlLX2n2r-sSE7-N6U4DukIj3rOLvzek\x01"), active},
		{"typ JWT, a SHA-256 next", new(doc).tok(typed).text("uU0nuZNNPgilLlLX2n2r-sSE7-N6U4DukIj3rOLvzek"), api},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkMatches(t, tt.doc, cfg.Find(tt.doc.buf), tt.w)
			checkMatches(t, tt.doc, oracle.Find(tt.doc.buf), tt.w)
		})
	}
	// In pieces joined, the last glued to more: cut in the piece.
	buf := []byte(`KEY = ("` + k[:100] + `" "` + k[100:] + `N")`)
	got := cfg.Find(buf)
	if len(got) != 1 || got[0].Token != k || got[0].End != strings.Index(string(buf), `N")`) {
		t.Errorf("split key glued to N: %s", describe(got))
	}
}

// TestFindGluedDot: a key glued to a dot and more base64url text, as a
// path or a URL writes it (/cache/<key>.json), is read as four segments or
// more, never a compact JWS: the first three are judged as one, its
// signature cut at its alg's length, and reported as the key itself (the
// token, and so the fingerprint, of the key written alone).
func TestFindGluedDot(t *testing.T) {
	t.Parallel()
	k := key(map[string]any{"exp": future.Unix()})
	k2 := signHeader(t, map[string]any{"typ": "JWT"}, map[string]any{"sub": "agent-2", "scope": Scope})
	active := want{RuleAPIKey, StatusActive, time.Unix(future.Unix(), 0)}
	api := want{RuleAPIKey, StatusNoExpiry, time.Time{}}
	rs := rawJWS(`{"alg":"RS256","kid":"k1"}`, scopePayload, b64(strings.Repeat("\x9f", 256)))
	xyz := rawJWS(`{"alg":"XYZ"}`, scopePayload, b64(strings.Repeat("\x9f", 20)))
	gen := testtoken.Generic("glued")
	hdr := b64(`{"alg":"HS256"}`)
	tests := []struct {
		name  string
		doc   *doc
		wants []want
	}{
		{"path", new(doc).text("GET /cache/").tok(k).text(".json HTTP/1.1\n"), []want{active}},
		{"file name", new(doc).text("mv ").tok(k).text(".txt keys/\n"), []want{active}},
		{"URL with a query", new(doc).text("https://x.example/k/").tok(k).text(".json?v=1&a=b\n"), []want{active}},
		{"more dotted segments", new(doc).text("s3://bucket/").tok(k).text(".tar.gz.part1\n"), []want{active}},
		{"a whole signature glued to more", new(doc).tok(k).text("xyz.json "), []want{active}},
		{"two keys joined by a dot", new(doc).tok(k).text(".").tok(k2).text("\n"), []want{active, api}},
		{"two keys joined by a dot and glued to more", new(doc).tok(k2).text(".").tok(k).text(".json\n"), []want{api, active}},
		{"RS256", new(doc).text("/").tok(rs).text(".pem\n"), []want{api}},
		{"unknown alg: the whole third segment", new(doc).text("/").tok(xyz).text(".json\n"), []want{api}},
		// Only confirmed keys are read from dotted text: a generic JWT
		// read from the first "eyJ" could hide a key read from a later one.
		{"a generic JWT in a Lofty context", new(doc).text("lofty cache: /c/" + gen + ".json\n"), nil},
		{"a header before a key, in a Lofty context", new(doc).text("lofty: ").text(hdr + ".").tok(k).text("\n"), []want{active}},
		{"after eyJ", new(doc).text("/eyJabc").tok(k).text(".json\n"), []want{active}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkMatches(t, tt.doc, cfg.Find(tt.doc.buf), tt.wants...)
			checkMatches(t, tt.doc, oracle.Find(tt.doc.buf), tt.wants...)
		})
	}
	// Judged whole, the four segments are no JWS.
	if _, err := ParseToken(k + ".json"); err == nil {
		t.Errorf("ParseToken accepts four segments")
	}
	// In pieces joined, the last glued to ".json": the key, cut in the piece.
	buf := []byte(`path = ("/cache/` + k[:100] + `" "` + k[100:] + `.json")`)
	got := cfg.Find(buf)
	if len(got) != 1 || got[0].Token != k || got[0].End != strings.Index(string(buf), `.json")`) {
		t.Errorf("split key glued to .json: %s", describe(got))
	}
	// Silent: a JWT without the scope away from a Lofty name, a JWE (whose
	// header names an "enc") even with a claims set where its encrypted key
	// goes, and dotted text that starts like a header.
	for _, text := range []string{
		"/cache/" + gen + ".json\n",
		"lofty: " + b64(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + "." + b64(scopePayload) + "." + b64("iv-iv-iv-iv") + "." + b64("ciphertext") + "." + b64("tag") + "\n",
		"lofty: " + b64(`{"alg":"dir","enc":"A256GCM"}`) + "." + b64(scopePayload) + "." + fakeSig + ".json\n",
		"lofty: eyJfoo.bar.baz.qux eyJhbGciOiJIUzI1NiJ9.e30.c2ln.json eyJ.a.b.c\n",
		"lofty: " + b64(`{"typ":"JWT"}`) + "." + b64(scopePayload) + "." + fakeSig + ".json\n",
	} {
		if got := cfg.Find([]byte(text)); len(got) != 0 {
			t.Errorf("%.40q...: reported %s", text, describe(got))
		}
		if got := oracle.Find([]byte(text)); len(got) != 0 {
			t.Errorf("%.40q...: the oracle reported %s", text, describe(got))
		}
	}
}

// TestFindGluedKeys: keys glued with nothing between them are each found,
// at their own offsets: the first one's signature, cut at its alg's
// length, ends where the second one's "eyJ" starts (as one run, the
// signature and the next header are one segment of five).
func TestFindGluedKeys(t *testing.T) {
	t.Parallel()
	k := key(map[string]any{"exp": future.Unix()})
	k2 := signHeader(t, map[string]any{"typ": "JWT"}, map[string]any{"sub": "agent-2", "scope": Scope})
	k3 := key(map[string]any{"sub": "agent-3"})
	es := rawJWS(`{"alg":"ES256"}`, scopePayload, b64(strings.Repeat("\x9f", 64)))
	active := want{RuleAPIKey, StatusActive, time.Unix(future.Unix(), 0)}
	api := want{RuleAPIKey, StatusNoExpiry, time.Time{}}
	gen := testtoken.Generic("glued")
	tests := []struct {
		name  string
		doc   *doc
		wants []want
	}{
		{"two", new(doc).tok(k).tok(k2), []want{active, api}},
		{"two, quoted", new(doc).text(`keys = "`).tok(k2).tok(k).text(`"`), []want{api, active}},
		{"the same twice", new(doc).text("\x00").tok(k).tok(k).text("\x00"), []want{active, active}},
		{"three", new(doc).text("K=").tok(k).tok(k2).tok(k3).text("\n"), []want{active, api, api}},
		{"ES256 then HS256", new(doc).tok(es).tok(k).text(" "), []want{api, active}},
		{"two, glued to .json", new(doc).text("/").tok(k).tok(k2).text(".json\n"), []want{active, api}},
		{"after a generic JWT", new(doc).text(gen).tok(k).text("\n"), []want{active}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkMatches(t, tt.doc, cfg.Find(tt.doc.buf), tt.wants...)
			checkMatches(t, tt.doc, oracle.Find(tt.doc.buf), tt.wants...)
		})
	}
	// A key glued before a generic JWT: the key, and the JWT is not reported.
	buf := []byte(k + gen + "\n")
	if got := cfg.Find(buf); len(got) != 1 || got[0].Token != k || got[0].Start != 0 {
		t.Errorf("key glued before a generic JWT: %s", describe(got))
	}
}

// refCandidates is FindCandidates written as its specification (and as it
// was first written): try every "eyJ" in turn and keep a token when it fits
// in MaxTokenLen. It costs up to MaxTokenLen per byte, which is why
// FindCandidates is not this.
func refCandidates(buf []byte) []Candidate {
	var out []Candidate
	for s := 0; s+len(prefix) <= len(buf); s++ {
		if !bytes.HasPrefix(buf[s:], prefix) {
			continue
		}
		if end, ok := refCut(buf, s); ok {
			out = append(out, Candidate{s, end})
			s = end - 1
		}
	}
	return out
}

func refCut(buf []byte, start int) (int, bool) {
	limit := min(len(buf), start+MaxTokenLen+1)
	i := start
	for seg := range 3 {
		s := i
		for i < limit && b64url[buf[i]] {
			i++
		}
		if i == s {
			return 0, false
		}
		pad := 2
		if seg == 2 {
			pad = []int{0, 0, 2, 1}[(i-s)%4]
		}
		for p := 0; p < pad && i < limit && buf[i] == '='; p++ {
			i++
		}
		if seg < 2 {
			if i >= limit || buf[i] != '.' {
				return 0, false
			}
			i++
		}
	}
	if i-start > MaxTokenLen {
		return 0, false
	}
	if i+1 < len(buf) && buf[i] == '.' && b64url[buf[i+1]] {
		return 0, false
	}
	return i, true
}

func checkSameCandidates(t *testing.T, buf []byte) {
	t.Helper()
	got, want := FindCandidates(buf), refCandidates(buf)
	if len(got) != len(want) {
		t.Fatalf("FindCandidates: %v, specification: %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("FindCandidates: %v, specification: %v", got, want)
		}
	}
}

// TestFindCandidatesSpec compares FindCandidates with its specification on
// inputs built from the pieces that matter: the prefix, dots, padding,
// delimiters, and base64url runs near MaxTokenLen long.
func TestFindCandidatesSpec(t *testing.T) {
	t.Parallel()
	pieces := []string{
		"eyJ", "eyJa", "a", "Zm9v", ".", ".b", ".cc", "=", "==", "\x00", " ", "\n", "!", "-_", "eyJa.b.c",
		strings.Repeat("A", MaxTokenLen-6), strings.Repeat("B", MaxTokenLen/2),
		strings.Repeat("eyJ", 100), strings.Repeat("C", 100),
	}
	r := rand.New(rand.NewPCG(7, 7))
	for n := range 3000 {
		var b strings.Builder
		parts := 1 + r.IntN(12)
		if n%10 != 0 {
			pieces := pieces[:len(pieces)-4] // mostly short inputs
			for range parts {
				b.WriteString(pieces[r.IntN(len(pieces))])
			}
		} else {
			for range parts {
				b.WriteString(pieces[r.IntN(len(pieces))])
			}
		}
		checkSameCandidates(t, []byte(b.String()))
	}
}

func TestFindCandidatesEdges(t *testing.T) {
	t.Parallel()
	k := key(nil)
	long := strings.Repeat("A", MaxTokenLen+100)
	prefixes := strings.Repeat("eyJ", MaxTokenLen/3+100)
	tests := []struct {
		name string
		buf  string
		want []Candidate
	}{
		{"empty", "", nil},
		{"prefix only", "eyJ", nil},
		{"two segments", "eyJa.b", nil},
		{"three segments", "eyJa.b.c", []Candidate{{0, 8}}},
		{"empty payload", "eyJa..c", nil},
		{"empty signature", "eyJa.b.", nil},
		{"signature of padding only", "eyJa.b.==", nil},
		{"four segments", "eyJa.b.c.d", nil},
		{"five segments", "eyJa.b.c.d.e", nil},
		{"trailing dot", "eyJa.b.c.", []Candidate{{0, 8}}},
		{"two dots after", "eyJa.b.c..d", []Candidate{{0, 8}}},
		{"padding", "eyJa=.b==.cc== ", []Candidate{{0, 14}}},
		{"signature takes the padding it needs", "eyJa.b.ccc== ", []Candidate{{0, 11}}},
		{"signature needs no padding", "eyJa.b.cccc= ", []Candidate{{0, 11}}},
		{"too much padding", "eyJa===.b.c", nil},
		{"prefix inside a run", "xxeyJa.b.c", []Candidate{{2, 10}}},
		{"key after a run longer than MaxTokenLen", long + k, []Candidate{{len(long), len(long) + len(k)}}},
		{"key after a run of prefixes longer than MaxTokenLen", prefixes + ".b.c",
			[]Candidate{{(len(prefixes) + 4 - MaxTokenLen + 2) / 3 * 3, len(prefixes) + 4}}},
		{"header longer than MaxTokenLen", "eyJ" + long + ".b.c", nil},
		{"payload longer than MaxTokenLen", "eyJa." + long + ".c", nil},
		{"signature longer than MaxTokenLen", "eyJa.b." + long, nil},
		{"second token after first", "eyJa.b.c eyJd.e.f", []Candidate{{0, 8}, {9, 17}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := FindCandidates([]byte(tt.buf))
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
			checkSameCandidates(t, []byte(tt.buf))
		})
	}
}

// tokenOfLen returns a scope-carrying JWS of exactly n bytes, padding the
// payload and choosing a signature length to land on n.
func tokenOfLen(t *testing.T, n int) string {
	t.Helper()
	h := b64(`{"alg":"HS256"}`)
	for padLen := n * 3 / 4; padLen > 0; padLen-- {
		p := b64(`{"scope":"` + Scope + `","pad":"` + strings.Repeat("a", padLen) + `"}`)
		sigLen := n - len(h) - len(p) - 2
		if sigLen < 40 {
			continue
		}
		if sigLen > 60 {
			continue
		}
		if sigLen%4 == 1 {
			continue // no base64url string has this length
		}
		return h + "." + p + "." + strings.Repeat("Q", sigLen)
	}
	t.Fatalf("test bug: no token of length %d", n)
	return ""
}

func TestMaxTokenLen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int
		want bool
	}{
		{MaxTokenLen - 100, true},
		{MaxTokenLen - 1, true},
		{MaxTokenLen, true},
		{MaxTokenLen + 1, false},
		{MaxTokenLen + 1000, false},
		{4 * MaxTokenLen, false},
	}
	for _, tt := range tests {
		t.Run(itoa(tt.n), func(t *testing.T) {
			t.Parallel()
			tok := tokenOfLen(t, tt.n)
			if len(tok) != tt.n {
				t.Fatalf("test bug: token of %d bytes, want %d", len(tok), tt.n)
			}
			d := new(doc).text("LOFTY_API_KEY=\"").tok(tok).text("\"\n")
			got := cfg.Find(d.buf)
			if !tt.want {
				if len(got) != 0 {
					t.Fatalf("token of %d bytes reported: %s", tt.n, describe(got))
				}
				if c := FindCandidates(d.buf); len(c) != 0 {
					t.Fatalf("token of %d bytes is a candidate: %v", tt.n, c)
				}
				return
			}
			checkMatches(t, d, got, want{RuleAPIKey, StatusNoExpiry, time.Time{}})
		})
	}
}

// pathological are inputs that make a naive candidate search quadratic.
var pathological = []struct {
	name string
	unit string
}{
	{"eyJ", "eyJ"},
	{"eyJa.", "eyJa."},
	{"dots", "."},
	{"eyJ.", "eyJ."},
	{"eyJa=", "eyJa="},
	{"eyJa.b.", "eyJa.b."},
	{"padding", "="},
	{"base64url", "A"},
	{"small JWS", "eyJhbGciOiJIUzI1NiJ9.e30.c2ln "},
	// Each run of four segments or more judges its first three.
	{"small JWS glued to a dot", "eyJhbGciOiJIUzI1NiJ9.e30.c2ln."},
	{"JWS glued to the next", "eyJhbGciOiJIUzI1NiJ9.e30." + strings.Repeat("Q", 43)},
}

// pathologicalInput returns 4 MB of unit repeated.
func pathologicalInput(unit string) []byte {
	return bytes.Repeat([]byte(unit), (4<<20)/len(unit))
}

// TestPathological checks that hostile inputs finish, and that the
// candidate search is linear in their size: the bytes its candidates read,
// all together, are a few times the input (4 MB of "eyJ" once made a
// quadratic search read MaxTokenLen bytes for each). Find's cost past that
// is parsing, linear by construction.
func TestPathological(t *testing.T) {
	t.Parallel()
	for _, p := range pathological {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			buf := pathologicalInput(p.unit)
			cands, work := findCandidates(buf)
			if work > 4*len(buf) {
				t.Errorf("the candidates in 4 MB of %q read %d bytes: not linear", p.unit, work)
			}
			if got := cfg.Find(buf); len(got) != 0 {
				t.Errorf("reported %d matches in 4 MB of %q", len(got), p.unit)
			}
			if p.name == "small JWS" && len(cands) != len(buf)/len(p.unit) {
				t.Errorf("%d candidates in %d small tokens", len(cands), len(buf)/len(p.unit))
			}
			// The specification is slow: compare on a slice.
			checkSameCandidates(t, buf[:MaxTokenLen+4096])
		})
	}
}

// TestDecodeRun: the payload decoded while it is read ends where
// skipB64url says and holds what base64.RawURLEncoding.Decode makes of the
// run, or says it does not decode, for runs of every length cut by any
// byte or by the limit.
func TestDecodeRun(t *testing.T) {
	t.Parallel()
	text := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"user-1","scope":"x","n":12345678901234567890}`)) + "-_"
	for n := range len(text) + 1 {
		for _, stop := range []string{"", ".", "=", "+", "/", "\n", "\xff"} {
			buf := []byte(text[:n] + stop + "abc")
			for limit := 0; limit <= len(buf); limit++ {
				end := skipB64url(buf, 0, limit)
				want, err := base64.RawURLEncoding.DecodeString(string(buf[:end]))
				// Room enough, and too little (the run is only read).
				for _, room := range []int{len(text), len(want) + 2, len(want) + 1, len(want), 0} {
					var d payloadSpan
					r := make([]byte, room)
					got := decodeRun(buf, 0, limit, r, &d)
					if got != end || d.end != end || d.start != 0 {
						t.Fatalf("%q to %d, room %d: end %d %d; want %d", buf, limit, room, got, d.end, end)
					}
					if !d.seen && room >= len(want)+2 {
						t.Fatalf("%q to %d, room %d: not decoded", buf, limit, room)
					}
					if d.seen && (d.ok != (err == nil) || d.ok && string(r[:d.n]) != string(want)) {
						t.Fatalf("%q to %d, room %d: ok %v %x; want %v %x", buf, limit, room, d.ok, r[:d.n], err == nil, want)
					}
				}
			}
		}
	}
}
