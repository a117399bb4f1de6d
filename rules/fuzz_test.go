package rules

import (
	"bytes"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// Fuzz targets of the rules. Their seed corpora are in testdata/fuzz; they
// hold synthetic tokens only, signed with the public test secret, and are
// written by `go test -run TestWriteFuzzSeeds -write-fuzz-seeds ./rules`.
//
//	go test -run '^$' -fuzz '^FuzzFind$' -fuzztime 60s ./rules

// planted is the key the fuzz targets plant in fuzzed bytes: synthetic, with
// the scope and no expiry, 169 bytes long (so its base64 ends in padding).
var planted = testtoken.Key("fuzz-planted", time.Time{})

// plantAt inserts key into data at offset % (len(data)+1), between two
// separators, and returns the result and where the key starts.
func plantAt(data []byte, offset uint, sep, key string) ([]byte, int) {
	at := int(offset % uint(len(data)+1))
	out := make([]byte, 0, len(data)+2*len(sep)+len(key))
	out = append(out, data[:at]...)
	out = append(out, sep...)
	out = append(out, key...)
	out = append(out, sep...)
	return append(out, data[at:]...), at + len(sep)
}

// FuzzFind runs the detector over arbitrary bytes. Every match must be the
// token at its offsets, in order, parse, carry the scope exactly when its
// rule says so, and be one the candidate search specifies; Find without
// outer context must report a subset of Find with it, and both must be
// what the full judgement of every JWS (the oracle) reports. Then a key planted at
// any offset, on its own line or between spaces, must be found exactly.
func FuzzFind(f *testing.F) {
	for _, s := range findSeeds() {
		f.Add([]byte(s.data), s.offset)
	}
	f.Fuzz(func(t *testing.T, data []byte, offset uint) {
		all := cfg.FindWithContext(data, true)
		checkFindMatches(t, data, all)
		plain := cfg.Find(data)
		checkFindMatches(t, data, plain)
		// The pre-judgement changes no result: the full judgement of
		// every JWS is the oracle.
		sameMatches(t, "with outer context", all, oracle.FindWithContext(data, true))
		sameMatches(t, "without", plain, oracle.Find(data))
		for i, j := 0, 0; i < len(plain); i++ {
			for j < len(all) && all[j].Start != plain[i].Start {
				j++
			}
			if j == len(all) || all[j].Token != plain[i].Token || all[j].Rule != plain[i].Rule {
				t.Fatalf("Find reported a match at %d that FindWithContext did not", plain[i].Start)
			}
		}
		// The reference is quadratic (each "eyJ" may read MaxTokenLen
		// bytes): on large inputs it would stall the fuzzer for seconds.
		if len(data) <= 8<<10 {
			checkSameCandidates(t, data)
		}
		for _, sep := range []string{"\n", " "} {
			buf, at := plantAt(data, offset, sep, planted)
			found := false
			for _, m := range cfg.Find(buf) {
				if m.Start == at {
					if m.End != at+len(planted) || m.Token != planted || m.Rule != RuleAPIKey || m.Status != StatusNoExpiry {
						t.Fatalf("planted key (sep %q) at %d reported as %s [%d:%d] %s", sep, at, m.Rule, m.Start, m.End, m.Status)
					}
					found = true
				}
			}
			if !found {
				t.Fatalf("planted key (sep %q) at %d not found in %d bytes", sep, at, len(buf))
			}
		}
	})
}

// checkFindMatches checks each match of buf on its own.
func checkFindMatches(t *testing.T, buf []byte, ms []Match) {
	t.Helper()
	prev := 0
	for _, m := range ms {
		if m.Start < prev || m.End > len(buf) || m.Start >= m.End || !writtenIn(m.Token, buf[m.Start:m.End]) {
			t.Fatalf("match at [%d:%d] of %d bytes is not its token, or out of order", m.Start, m.End, len(buf))
		}
		prev = m.End
		if !bytes.HasPrefix(buf[m.Start:], prefix) || len(m.Token) > MaxTokenLen {
			t.Fatalf("match at %d does not start with the prefix or is %d bytes long", m.Start, len(m.Token))
		}
		tok, err := ParseToken(m.Token)
		if err != nil {
			t.Fatalf("reported a token ParseToken rejects: %v", err)
		}
		if scoped := HasScope(tok.Claims); scoped != (m.Rule == RuleAPIKey) || (!scoped && m.Rule != RuleUnconfirmed) {
			t.Fatalf("rule %q for a token whose scope is %v", m.Rule, scoped)
		}
		if m.Alg != tok.Alg() || m.Alg == "" {
			t.Fatalf("Alg %q, the header says %q", m.Alg, tok.Alg())
		}
		exp, hasExp := ReadExpiry(tok.Claims)
		if m.Status != StatusAt(exp, hasExp, now) || !m.ExpiresAt.Equal(exp) || !hasExp && !m.ExpiresAt.IsZero() {
			t.Fatalf("status %q, expiry %v for claims with expiry %v (%v)", m.Status, m.ExpiresAt, exp, hasExp)
		}
	}
}

// writtenIn reports whether tok is the text, or the text joined from
// pieces of it: it starts and ends the text, and its bytes are the text's
// in order, with only other bytes left out.
func writtenIn(tok string, text []byte) bool {
	if tok == string(text) {
		return true
	}
	if len(tok) < 2 || text[0] != tok[0] || text[len(text)-1] != tok[len(tok)-1] {
		return false
	}
	i := 0
	for _, c := range text {
		if i < len(tok) && c == tok[i] {
			i++
		}
	}
	return i == len(tok)
}

// FuzzParseToken decodes arbitrary text as a JWS. It must never panic, fail
// only with ErrNotJWS (which holds no part of the text), and on success give
// the text back with an alg and a claims object. A token that parses and is
// exactly one candidate must be reported by FindWithContext, whole.
func FuzzParseToken(f *testing.F) {
	for _, s := range parseSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := ParseToken(raw)
		if err != nil {
			if !errors.Is(err, ErrNotJWS) || err.Error() != ErrNotJWS.Error() {
				t.Fatalf("error %q is not ErrNotJWS", err)
			}
			if tok.Raw != "" || tok.Header != nil || tok.Claims != nil {
				t.Fatal("a failed parse returned a token")
			}
			return
		}
		if tok.Raw != raw || tok.Alg() == "" || tok.Header == nil || tok.Claims == nil {
			t.Fatalf("parsed token: Raw equal %v, alg %q, header %v, claims %v", tok.Raw == raw, tok.Alg(), tok.Header != nil, tok.Claims != nil)
		}
		if strings.Count(raw, ".") < 2 {
			t.Fatal("a token of fewer than three segments parsed")
		}
		HasScope(tok.Claims)
		HasScope(tok.Claims, "a", "")
		ReadExpiry(tok.Claims)
		cands := FindCandidates([]byte(raw))
		if len(cands) != 1 || cands[0] != (Candidate{0, len(raw)}) {
			return // not a candidate as a whole: found, if at all, in part
		}
		ms := cfg.FindWithContext([]byte(raw), true)
		if len(ms) != 1 || !wholeOrSignatureCut(raw, ms[0].Token, tok.Alg()) {
			t.Fatalf("a parsed candidate gave %d matches", len(ms))
		}
	})
}

// wholeOrSignatureCut reports whether got is the token raw as a match
// reports it: raw itself, or, when raw's signature runs past the length
// its alg gives, raw cut there (a key glued to the bytes after it, as in a
// .pyc or a SQLite row).
func wholeOrSignatureCut(raw, got, alg string) bool {
	if got == raw {
		return true
	}
	if !strings.HasPrefix(raw, got) {
		return false
	}
	sig := got[strings.LastIndexByte(got, '.')+1:]
	if strings.Contains(raw[len(got):], ".") {
		return false
	}
	for _, l := range sigLengths[alg] {
		if len(sig) == base64.RawURLEncoding.EncodedLen(l) {
			return true
		}
	}
	return false
}

// A seed is one input of a fuzz target's corpus.
type seed struct {
	name   string
	data   string
	offset uint
}

// findSeeds are the interesting inputs of FuzzFind.
func findSeeds() []seed {
	gen := testtoken.Generic("u")
	k := planted
	nested := rawJWS(`{"alg":"HS256"}`, `{"scope":"`+Scope+`","a":`+strings.Repeat("[", 3000)+strings.Repeat("]", 3000)+`}`, fakeSig)
	return []seed{
		{"empty", "", 0},
		{"prefix", "eyJ", 1},
		{"three-segments", "eyJa.b.c", 4},
		{"four-segments", "eyJa.b.c.d", 9},
		{"padding", "eyJa=.b==.cc==", 3},
		{"dots", "...", 2},
		{"prefix-run", "eyJeyJeyJ.x.y", 0},
		{"env-key", "LOFTY_API_KEY=" + k + "\n", 14},
		{"auth-header", "Authorization: token " + gen + "\n", 0},
		{"binary-around-key", "\x00" + key(map[string]any{"exp": 1.5}) + "==\x00", 7},
		{"unknown-alg", rawJWS(`{"alg":"XYZ"}`, `{"scope":"`+Scope+`"}`, fakeSig), 0},
		{"null-payload", rawJWS(`{"alg":"HS256"}`, `null`, fakeSig), 0},
		{"truncated-key", k[:len(k)-20], 5},
		{"key-without-signature", k[:strings.LastIndexByte(k, '.')+1], 0},
		{"glued-keys", k + k, uint(len(k))},
		{"glued-keys-three", "K=" + k + gen + k + "\n", 2},
		{"key-glued-to-dot-json", "GET /cache/" + k + ".json HTTP/1.1\n", 11},
		{"keys-joined-by-a-dot", k + "." + k + ".txt", 0},
		{"jwe-with-claims", "lofty " + b64(`{"alg":"RSA-OAEP","enc":"A256GCM"}`) + "." + b64(`{"scope":"`+Scope+`"}`) + "." + fakeSig + ".eA.dA", 6},
		{"context-far", "lofty" + strings.Repeat(" ", 600) + gen + "\n", 3},
		{"nested-payload", nested, 100},
		{"eyJ-repeated", strings.Repeat("eyJ", 2000) + ".a.b", 999},
		{"dots-repeated", strings.Repeat(".", 5000), 2500},
		{"generic-jwts", strings.Repeat("SUPABASE_KEY="+gen+"\n", 5), 40},
	}
}

// parseSeeds are the interesting inputs of FuzzParseToken.
func parseSeeds() []string {
	k := planted
	h, p, _ := strings.Cut(k, ".")
	p, s, _ := strings.Cut(p, ".")
	return []string{
		"", ".", "..", "eyJ", k, k[:len(k)-1], k[:len(k)-2], h + "." + p + ".", h + "." + p,
		h + "==." + p + "=." + s, k + ".x", h + "." + h + "." + s,
		rawJWS(`{"alg":"none"}`, `{"scope":"`+Scope+`"}`, ""),
		rawJWS(`{"alg":"XYZ"}`, `{"scope":"`+Scope+`"}`, fakeSig),
		rawJWS(`{"alg":""}`, `{}`, fakeSig),
		rawJWS(`{"alg":1}`, `{}`, fakeSig),
		rawJWS(`{"alg":"HS256"}`, `null`, fakeSig),
		rawJWS(`{"alg":"HS256"}`, `[1]`, fakeSig),
		rawJWS(`{"alg":"HS256"}`, ` {"exp":"2030-01-01"}`, fakeSig),
		rawJWS(`{"alg":"HS256"}`, `{"exp":1e400}`, fakeSig),
		rawJWS(`{"alg":"HS256"}`, `{"a":`+strings.Repeat("[", 500)+strings.Repeat("]", 500)+`}`, fakeSig),
		rawJWS(`{"alg":"HS256"}`, `{"scope":"a THIRD_PARTY_OPERATION,b"}`, lenMod4Is1(fakeSig)),
		testtoken.Generic("u"),
	}
}

var writeFuzzSeeds = flag.Bool("write-fuzz-seeds", false, "write the seed corpora of the fuzz targets to testdata/fuzz")

// TestWriteFuzzSeeds writes the seeds to testdata/fuzz in Go's corpus
// format when run with -write-fuzz-seeds; otherwise it checks that every
// seed file parses as a corpus file of its target.
func TestWriteFuzzSeeds(t *testing.T) {
	corpora := map[string][][]any{}
	for _, s := range findSeeds() {
		corpora["FuzzFind/"+s.name] = [][]any{{[]byte(s.data), s.offset}}
	}
	for i, s := range parseSeeds() {
		corpora[fmt.Sprintf("FuzzParseToken/seed-%02d", i)] = [][]any{{s}}
	}
	if !*writeFuzzSeeds {
		files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "*", "*"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil || !bytes.HasPrefix(data, []byte("go test fuzz v1\n")) {
				t.Errorf("%s: not a corpus file (%v)", f, err)
			}
		}
		return
	}
	for name, vals := range corpora {
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		for _, v := range vals[0] {
			switch v := v.(type) {
			case []byte:
				fmt.Fprintf(&b, "[]byte(%q)\n", v)
			case string:
				fmt.Fprintf(&b, "string(%q)\n", v)
			case uint:
				fmt.Fprintf(&b, "uint(%d)\n", v)
			}
		}
		p := filepath.Join("testdata", "fuzz", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFindGluedPrefix: a key glued to base64url text that holds "eyJ" is
// found, as FuzzDecode found when a decoder joined such text to a key from
// the line before. Only the last "eyJ" of the header is tried.
func TestFindGluedPrefix(t *testing.T) {
	t.Parallel()
	k := planted
	for _, tt := range []struct{ name, before string }{
		{"eyJ", "eyJ"},
		{"eyJ and more", "xxeyJabc"},
		{"many eyJ", strings.Repeat("eyJ", 1000)},
		{"no eyJ", "abc"},
		{"separated", "eyJ "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := new(doc).text("KEY=" + tt.before).tok(k).text("\n")
			checkMatches(t, d, cfg.Find(d.buf), want{RuleAPIKey, StatusNoExpiry, time.Time{}})
		})
	}
	// The fallback is one more parse per candidate, not one per "eyJ".
	buf := []byte(strings.Repeat(strings.Repeat("eyJ", 5000)+".e30.c2ln\n", 50))
	if ms := cfg.Find(buf); len(ms) != 0 {
		t.Fatalf("%d matches in headers of eyJ", len(ms))
	}
}
