package scanner

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testtoken"
	"github.com/loftyscan/loftyscan/rules"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

// Fuzz targets of the scanner: the decoders, the stream, and the archive
// readers. Their seed corpora are in testdata/fuzz; they hold synthetic
// tokens only, signed with the public test secret, and are written by
// `go test ./scanner -run TestWriteFuzzSeeds -write-fuzz-seeds`.
//
//	go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime 60s ./scanner

// planted is the key the fuzz targets plant in fuzzed bytes: synthetic, with
// the scope and no expiry, 169 bytes long (so its base64 ends in padding,
// and the decoder's run stops there).
var planted = testtoken.Key("fuzz-planted", time.Time{})

// planted3 is a planted key whose length is a multiple of 3: its base64 has
// no padding to end the run, so a line of base64 characters after it would
// be joined to it.
var planted3 = func() string {
	for i := 0; ; i++ {
		if k := testtoken.Key("fuzz-planted-"+strconv.Itoa(i), time.Time{}); len(k)%3 == 0 {
			return k
		}
	}
}()

// fuzzLimits are small caps, so that a fuzzed archive costs little.
func fuzzLimits() Limits {
	return Limits{ArchiveDepth: 3, EntryBytes: 1 << 20, TotalBytes: 4 << 20, Ratio: 50, Entries: 64}
}

func fuzzScanner(archives bool) *Scanner {
	o := testOptions()
	o.Limits = fuzzLimits()
	if !archives {
		o.Limits.ArchiveDepth = 0
	}
	return New(o)
}

// plantAt inserts text into data at offset % (len(data)+1), between two
// separators, and returns the result and where text starts.
func plantAt(data []byte, offset uint, sep, text string) ([]byte, int) {
	at := int(offset % uint(len(data)+1))
	out := make([]byte, 0, len(data)+2*len(sep)+len(text))
	out = append(out, data[:at]...)
	out = append(out, sep...)
	out = append(out, text...)
	out = append(out, sep...)
	return append(out, data[at:]...), at + len(sep)
}

// encodings are the labels a finding's encoding is made of.
var encodings = []string{"base64", "hex", "gzip", "utf-16le", "utf-16be"}

// checkEncoding checks that enc is "" or at most maxDecodeDepth known
// labels joined by "/".
func checkEncoding(t *testing.T, enc string) {
	t.Helper()
	if enc == "" {
		return
	}
	parts := strings.Split(enc, "/")
	// gzip is no layer of text: base64 of gzip of base64 of base64 is
	// three.
	if n := len(parts) - strings.Count(enc, "gzip"); n > maxDecodeDepth || parts[0] == "gzip" {
		t.Fatalf("encoding %q is deeper than %d, or starts with gzip", enc, maxDecodeDepth)
	}
	for _, p := range parts {
		if !slices.Contains(encodings, p) {
			t.Fatalf("unknown encoding %q", enc)
		}
	}
}

// isB64 reports whether c is a base64 character of either alphabet.
func isB64(c byte) bool { return b64val[c] != 0xff }

// refBase64At decodes the base64 text at buf[pos:] as the decoder reads it
// (single line breaks joined, with the blanks that indent the next line),
// at most n characters, pos starting a quantum.
// refDropMarks returns the base64 text at the start of s with the mark
// ('+', '-' or '>') and the blanks that start each line after the first
// dropped, as a window of marked lines reads it (see markedLine), and its
// line breaks kept.
func refDropMarks(s []byte) []byte {
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n':
			out = append(out, c)
			if i+1 < len(s) && strings.IndexByte("+->", s[i+1]) >= 0 {
				i++
				for i+1 < len(s) && isBlank(s[i+1]) {
					i++
				}
			}
		case c == '\r' || isB64(c):
			out = append(out, c)
		default:
			return out
		}
	}
	return out
}

func refBase64At(buf []byte, pos, n int) []byte {
	var out []byte
	var acc uint32
	var bits uint
	for i := pos; i < len(buf) && n > 0; i++ {
		c := buf[i]
		if c == '\n' {
			j := i + 1
			for j < len(buf) && isBlank(buf[j]) {
				j++
			}
			if j > i+1 && j < len(buf) && isB64(buf[j]) {
				i = j - 1
				continue
			}
		}
		switch {
		case isB64(c):
			acc = acc<<6 | uint32(b64val[c])
			bits += 6
			n--
			if bits >= 8 {
				bits -= 8
				out = append(out, byte(acc>>bits))
			}
			continue
		case c == '\r' && i+2 < len(buf) && buf[i+1] == '\n' && isB64(buf[i+2]):
			i++
			continue
		case c == '\n' && i+1 < len(buf) && isB64(buf[i+1]):
			continue
		case c == '\\':
			if k := refEscapedBreak(buf[i:]); k > 0 && i+k < len(buf) && isB64(buf[i+k]) {
				i += k - 1
				continue
			}
		}
		break
	}
	return out
}

// refEscapedBreak is escapedBreak written out: the length of the escape of
// a line break, "\n" or "\r\n" with the same 1 to 8 backslashes before
// each letter, that s starts with, or 0.
func refEscapedBreak(s []byte) int {
	for b := maxEscapes; b >= 1; b-- {
		e := strings.Repeat(`\`, b)
		for _, brk := range []string{e + "n", e + "r" + e + "n"} {
			if bytes.HasPrefix(s, []byte(brk)) {
				if b == 1 {
					return len(brk) + refListGap(s[len(brk):])
				}
				return len(brk)
			}
		}
	}
	return 0
}

// refListGap is listGap written out: the length of `",` then `"` with up
// to maxListGap blanks and line breaks on each side of the comma that s
// starts with, or 0.
func refListGap(s []byte) int {
	m := regexp.MustCompile(`^"[ \t\r\n]*,[ \t\r\n]*"`).Find(s)
	if m == nil {
		return 0
	}
	gap := bytes.IndexByte(m, ',') - 1
	if gap > maxListGap || len(m)-gap-3 > maxListGap {
		return 0
	}
	return len(m)
}

// checkHit checks one hit of the finder over buf: its token parses, its
// position is in buf, and what is at that position encodes the token as
// its label says, for the plain, base64 and UTF-16 encodings; for nested
// ones, the outer layer's kind of character is there.
func checkHit(t *testing.T, buf []byte, h hit) {
	t.Helper()
	tok := h.match.Token
	if h.pos < 0 || h.pos >= len(buf) {
		t.Fatalf("hit at %d of %d bytes", h.pos, len(buf))
	}
	if _, err := rules.ParseToken(tok); err != nil || len(tok) > rules.MaxTokenLen {
		t.Fatalf("hit at %d (%q) is not a token: %v", h.pos, h.encoding, err)
	}
	checkEncoding(t, h.encoding)
	outer, inner, _ := strings.Cut(h.encoding, "/")
	// A key split across string literals is joined from pieces: its
	// text spans more than the token (in whatever text the rules read).
	if h.match.End-h.match.Start != len(tok) {
		inner = "joined"
	}
	switch {
	case h.encoding == "" && inner == "joined":
		if !bytes.HasPrefix(buf[h.pos:], []byte(tok[:3])) || !subsequence(tok, buf[h.pos:min(len(buf), h.pos+h.match.End-h.match.Start)]) {
			t.Fatalf("joined hit at %d is not the token's pieces there", h.pos)
		}
	case h.encoding == "":
		if !bytes.HasPrefix(buf[h.pos:], []byte(tok)) {
			t.Fatalf("plain hit at %d is not the token there", h.pos)
		}
	case outer == "base64":
		if !isB64(buf[h.pos]) {
			t.Fatalf("base64 hit at %d on %q", h.pos, buf[h.pos])
		}
		if inner == "" {
			dec := refBase64At(buf, h.pos, len(tok)/3*4+8)
			if i := bytes.Index(dec, []byte(tok)); i < 0 || i > 2 {
				// Lines that each start with a mark (see markedLine).
				dec = refBase64At(refDropMarks(buf[h.pos:]), 0, len(tok)/3*4+8)
			}
			if i := bytes.Index(dec, []byte(tok)); i < 0 || i > 2 {
				t.Fatalf("base64 at %d does not decode to the token in its first quantum (index %d)", h.pos, i)
			}
		}
	case outer == "hex":
		if hexval[buf[h.pos]] == 0xff {
			t.Fatalf("hex hit at %d on %q", h.pos, buf[h.pos])
		}
		if inner == "" {
			var dec []byte
			for i := h.pos; i+1 < len(buf) && len(dec) < len(tok); {
				if buf[i] == '\n' || buf[i] == '\r' {
					i++
					if buf[i-1] == '\n' && i < len(buf) && strings.IndexByte("+->", buf[i]) >= 0 {
						// A line that starts with a mark (see markedLine).
						for i++; i < len(buf) && isBlank(buf[i]); i++ {
						}
					}
					continue
				}
				if k := refEscapedBreak(buf[i:]); k > 0 {
					i += k
					continue
				}
				if hexval[buf[i]] == 0xff || hexval[buf[i+1]] == 0xff {
					break
				}
				dec = append(dec, hexval[buf[i]]<<4|hexval[buf[i+1]])
				i += 2
			}
			if string(dec) != tok {
				t.Fatalf("hex at %d does not decode to the token", h.pos)
			}
		}
	case strings.HasPrefix(outer, "utf-16"):
		c := h.pos // the first character, and its zero byte before or after
		zero := c + 1
		if outer == "utf-16be" {
			c, zero = c+1, c
		}
		if c >= len(buf) || zero >= len(buf) || buf[zero] != 0 || buf[c] == 0 {
			t.Fatalf("%s hit at %d is not a character and its zero", outer, h.pos)
		}
		if inner == "" {
			for i := range len(tok) {
				p := c + 2*i
				if p >= len(buf) || buf[p] != tok[i] || (i > 0 && buf[p-1] != 0) {
					t.Fatalf("%s at %d is not the token in UTF-16 (character %d)", outer, h.pos, i)
				}
			}
		}
	}
}

// subsequence reports whether the bytes of tok are in text, in order.
func subsequence(tok string, text []byte) bool {
	i := 0
	for _, c := range text {
		if i < len(tok) && c == tok[i] {
			i++
		}
	}
	return i == len(tok)
}

// findAll runs a finder over buf and returns its hits in order.
func findAll(f *finder, buf []byte) []hit {
	var hits []hit
	f.find(buf, func(h hit) { hits = append(hits, h) })
	return hits
}

// hasHit reports whether hits hold key at pos with one of the encodings.
func hasHit(hits []hit, key string, pos int, encs ...string) bool {
	for _, h := range hits {
		if h.pos == pos && h.match.Token == key && slices.Contains(encs, h.encoding) {
			return true
		}
	}
	return false
}

// FuzzDecode runs the finder, rules and decoders, over arbitrary bytes.
// Every hit must check out (checkHit), and a finder that has decoded before
// (its windows reused) must give the same hits as a fresh one. Then the
// planted key must be found at any offset: plain on its own line, base64 on
// its own line (also unpadded, followed by a line "OTHER=1"), and UTF-16LE
// on its own UTF-16 line.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds() {
		f.Add([]byte(s.data), s.offset)
	}
	reused := &finder{cfg: rules.Config{Now: refNow}}
	f.Fuzz(func(t *testing.T, data []byte, offset uint) {
		fresh := &finder{cfg: rules.Config{Now: refNow}}
		hits := findAll(fresh, data)
		for _, h := range hits {
			checkHit(t, data, h)
		}
		// Runs decoded in windows only, without quickLine: the same hits.
		if slow := findAll(&finder{cfg: rules.Config{Now: refNow}, windowsOnly: true}, data); !sameHits(slow, hits) {
			t.Fatalf("decoding every run in windows gave %d hits, with quickLine %d", len(slow), len(hits))
		}
		again := findAll(reused, data)
		if len(again) != len(hits) {
			t.Fatalf("a reused finder gave %d hits, a fresh one %d", len(again), len(hits))
		}
		for i := range hits {
			if again[i].pos != hits[i].pos || again[i].encoding != hits[i].encoding || again[i].match.Token != hits[i].match.Token {
				t.Fatalf("a reused finder gave hit %d at %d %q, a fresh one at %d %q", i, again[i].pos, again[i].encoding, hits[i].pos, hits[i].encoding)
			}
		}

		buf, at := plantAt(data, offset, "\n", planted)
		if !hasHit(findAll(fresh, buf), planted, at, "") {
			t.Fatalf("planted key at %d not found", at)
		}
		buf, at = plantAt(data, offset, "\n", base64.StdEncoding.EncodeToString([]byte(planted)))
		hits = findAll(fresh, buf)
		for _, h := range hits {
			checkHit(t, buf, h)
		}
		if !hasHit(hits, planted, at, "base64") {
			t.Fatalf("planted base64 key at %d not found", at)
		}
		// A base64 value of an .env file, unpadded, and the next line.
		buf, at = plantAt(data, offset, "\n", "KEY_B64="+base64.StdEncoding.EncodeToString([]byte(planted3))+"\nOTHER=1")
		at += len("KEY_B64=")
		hits = findAll(fresh, buf)
		if !hasHit(hits, planted3, at, "base64") {
			t.Fatalf("planted unpadded base64 key at %d not found", at)
		}
		// Hex, in either case, and base64 of base64 of "us:" + key (an
		// image-pull Secret's auth): the key in the middle of a quantum,
		// each layer padded (unpadded base64 followed by a line of base64
		// is joined to it: a limit the README states).
		for _, enc := range []string{hex.EncodeToString([]byte(planted)), strings.ToUpper(hex.EncodeToString([]byte(planted)))} {
			buf, at = plantAt(data, offset, "\n", enc)
			hits = findAll(fresh, buf)
			for _, h := range hits {
				checkHit(t, buf, h)
			}
			if !hasHit(hits, planted, at, "hex") {
				t.Fatalf("planted hex key at %d not found", at)
			}
		}
		// As a value after a name: a nested text on a line of its own
		// right after a line of other base64 is joined to it (a limit
		// the README states).
		inner := base64.StdEncoding.EncodeToString([]byte("us:" + planted))
		buf, at = plantAt(data, offset, "\n", "auth: "+base64.StdEncoding.EncodeToString([]byte(inner)))
		if hits = findAll(fresh, buf); !hasHit(hits, planted, at+6+4, "base64/base64") {
			t.Fatalf("planted base64/base64 key at %d not found", at+6+4)
		}
		buf, at = plantAt(data, offset, "\n\x00", string(encodeUTF16(planted, false, false)))
		hits = findAll(fresh, buf)
		for _, h := range hits {
			checkHit(t, buf, h)
		}
		// ASCII in UTF-16 reads the same in either byte order, a byte
		// apart: only the ends of the run tell which it is.
		if !hasHit(hits, planted, at, "utf-16le") && !hasHit(hits, planted, at-1, "utf-16be") {
			t.Fatalf("planted UTF-16 key at %d not found", at)
		}
	})
}

// checkScanned checks what a scan of data reported: each finding's
// fingerprint is of its secret, a token, at a valid place; the stats agree
// with the sink; no warning holds a secret.
func checkScanned(t *testing.T, c *Collector, st finding.Stats) {
	t.Helper()
	for _, f := range c.Findings {
		if f.Fingerprint != fingerprintOf(f.Secret) {
			t.Fatalf("%s: fingerprint is not the SHA-256 of the secret", describe(f))
		}
		tok, err := rules.ParseToken(f.Secret)
		if err != nil {
			t.Fatalf("%s: secret is not a token: %v", describe(f), err)
		}
		if f.Confirmed() != rules.HasScope(tok.Claims) || (f.RuleID != rules.RuleAPIKey && f.RuleID != rules.RuleUnconfirmed) {
			t.Fatalf("%s: rule does not match the claims", describe(f))
		}
		if f.Line < 1 || f.Column < 1 || (f.Path != "in" && !strings.HasPrefix(f.Path, "in!")) {
			t.Fatalf("%s: bad place", describe(f))
		}
		checkEncoding(t, f.Encoding)
		if strings.Contains(f.Redacted(), f.Secret) {
			t.Fatalf("%s: redacted form holds the secret", describe(f))
		}
		for _, w := range c.Warnings {
			if strings.Contains(w.String(), f.Secret) {
				t.Fatalf("warning %q holds a secret", w.Message)
			}
		}
	}
	if st.Warnings != int64(len(c.Warnings)) || st.Findings != 0 {
		t.Fatalf("stats count %d warnings and %d findings, the sink got %d warnings (findings are counted by finding.Stats.Count)", st.Warnings, st.Findings, len(c.Warnings))
	}
}

// scanFuzz scans data with s, as one stream or one read in halves, and
// checks what it reported.
func scanFuzz(t *testing.T, s *Scanner, data []byte, halfReads bool) *Collector {
	t.Helper()
	c := &Collector{}
	var st finding.Stats
	var err error
	if halfReads {
		st, err = s.ScanReader(context.Background(), "in", iotest.HalfReader(bytes.NewReader(data)), c)
	} else {
		st, err = s.ScanReader(context.Background(), "in", bytes.NewReader(data), c)
	}
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	checkScanned(t, c, st)
	return c
}

// sameFindings reports whether two scans found the same, in sorted order.
func sameFindings(a, b []finding.Finding) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	finding.Sort(a)
	finding.Sort(b)
	return slices.EqualFunc(a, b, func(x, y finding.Finding) bool {
		return x.Path == y.Path && x.Line == y.Line && x.Column == y.Column && x.Fingerprint == y.Fingerprint &&
			x.Encoding == y.Encoding && x.RuleID == y.RuleID && x.Suppressed == y.Suppressed
	})
}

// sameHits reports whether a and b are the same hits, in order.
func sameHits(a, b []hit) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].pos != b[i].pos || a[i].encoding != b[i].encoding || a[i].match != b[i].match {
			return false
		}
	}
	return true
}

// FuzzScan scans arbitrary bytes with ScanReader, archives opened under
// small caps: no error, every finding checks out (checkFindings), and
// reading in halves finds the same. With archives off, the planted key
// must be found at its line and column 1, plain and base64-encoded.
func FuzzScan(f *testing.F) {
	for _, s := range scanSeeds(f) {
		f.Add([]byte(s.data), s.offset)
	}
	// gzip in base64, and in base64 of base64, with a key in base64 in it.
	gz := gzipBytes(f, "", []byte("a: "+base64.StdEncoding.EncodeToString([]byte("LOFTY_API_KEY="+keyActive))+"\n"))
	f.Add([]byte("x: "+base64.StdEncoding.EncodeToString(gz)+"\n"), uint(0))
	f.Add([]byte("y: "+base64.StdEncoding.EncodeToString([]byte(base64.StdEncoding.EncodeToString(gz)))+"\n"), uint(3))
	withArchives, plain := fuzzScanner(true), fuzzScanner(false)
	f.Fuzz(func(t *testing.T, data []byte, offset uint) {
		whole := scanFuzz(t, withArchives, data, false)
		halves := scanFuzz(t, withArchives, data, true)
		if !sameFindings(whole.Findings, halves.Findings) || len(whole.Warnings) != len(halves.Warnings) {
			t.Fatalf("reading in halves gave %d findings and %d warnings, at once %d and %d",
				len(halves.Findings), len(halves.Warnings), len(whole.Findings), len(whole.Warnings))
		}
		for _, tt := range []struct{ text, enc string }{
			{planted, ""},
			{base64.StdEncoding.EncodeToString([]byte(planted)), "base64"},
			{hex.EncodeToString([]byte(planted)), "hex"},
			{" " + base64.StdEncoding.EncodeToString([]byte(hex.EncodeToString([]byte(planted)))), "base64/hex"},
		} {
			buf, at := plantAt(data, offset, "\n", tt.text)
			if tt.text[0] == ' ' {
				at++ // the value starts after the blank
			}
			c := scanFuzz(t, plain, buf, false)
			line, _ := refLineCol(buf, at)
			found := false
			for _, f := range c.Findings {
				if f.Secret == planted && f.Line == line && f.Column == 1+strings.Count(tt.text[:1], " ") && f.Encoding == tt.enc && f.Path == "in" {
					found = true
				}
			}
			if !found {
				t.Fatalf("planted key (%q) at line %d not found", tt.enc, line)
			}
		}
	})
}

// archiveKinds are the archives FuzzArchive builds around fuzzed text, and
// the path of the entry that holds it.
var archiveKinds = []struct {
	name  string
	build func(t testing.TB, content []byte) []byte
	path  string
}{
	{"zip", func(t testing.TB, b []byte) []byte { return zipBytes(t, entry{Name: "a/x.env", Data: b}) }, "in!a/x.env"},
	{"zip-stored", func(t testing.TB, b []byte) []byte {
		return zipBytes(t, entry{Name: "d/", Data: nil}, entry{Name: "a/x.env", Data: b, Store: true})
	}, "in!a/x.env"},
	{"tar", func(t testing.TB, b []byte) []byte { return tarBytes(t, entry{Name: "./a/x.env", Data: b}) }, "in!a/x.env"},
	{"gzip", func(t testing.TB, b []byte) []byte { return gzipBytes(t, "x.env", b) }, "in!x.env"},
	{"tar.gz", func(t testing.TB, b []byte) []byte {
		return gzipBytes(t, "", tarBytes(t, entry{Name: "a/x.env", Data: b}))
	}, "in!a/x.env"},
	// bzip2 runs the real tool (Go has no bzip2 writer); xz and zstd use
	// the writers of the libraries that read them, to keep the fuzzer fast
	// (the tests read the tools' own files).
	{"bzip2", func(t testing.TB, b []byte) []byte { return bzip2Of(t, b) }, "in!in"},
	{"xz", xzWrite, "in!in"},
	{"zstd", zstdWrite, "in!in"},
	{"tar.xz", func(t testing.TB, b []byte) []byte { return xzWrite(t, tarBytes(t, entry{Name: "a/x.env", Data: b})) }, "in!a/x.env"},
	{"tar.zst", func(t testing.TB, b []byte) []byte { return zstdWrite(t, tarBytes(t, entry{Name: "a/x.env", Data: b})) }, "in!a/x.env"},
	{"lz4", lz4Write, "in!in"},
	{"mozLz4", mozLz4Write, "in!in"},
}

func lz4Write(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := lz4.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// mozLz4Write writes b as a mozLz4 file, its block by the library that
// reads it (the tests read the lz4 tool's blocks).
func mozLz4Write(t testing.TB, b []byte) []byte {
	block := make([]byte, lz4.CompressBlockBound(len(b)))
	n, err := lz4.CompressBlock(b, block, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 && len(b) > 0 {
		t.Fatalf("lz4.CompressBlock wrote nothing for %d bytes into a block of its bound", len(b))
	}
	out := binary.LittleEndian.AppendUint32([]byte(mozLz4Magic), uint32(len(b)))
	return append(out, block[:n]...)
}

func xzWrite(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	// A small dictionary: the default one's hash table is 120 MB a writer.
	w, err := xz.WriterConfig{DictCap: 64 << 10, BufSize: 64 << 10}.NewWriter(&buf)
	if err == nil {
		_, err = w.Write(b)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var zstdEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))

func zstdWrite(_ testing.TB, b []byte) []byte { return zstdEncoder.EncodeAll(b, nil) }

// FuzzArchive feeds the archive readers. The fuzzed bytes are scanned as
// they are (the seeds are archives, so the fuzzer mutates archives); then
// they are wrapped, with the key planted in them, in the archive kind
// chooses, where the key must be found at its path and line; then that
// archive cut short, and with a byte changed, must scan without error and
// with findings that check out.
func FuzzArchive(f *testing.F) {
	for _, s := range archiveSeeds(f) {
		f.Add([]byte(s.data), s.offset, s.kind)
	}
	s := fuzzScanner(true)
	f.Fuzz(func(t *testing.T, data []byte, offset, kind uint) {
		scanFuzz(t, s, data, false)

		content, at := plantAt(data, offset, "\n", planted)
		ak := archiveKinds[kind%uint(len(archiveKinds))]
		arch := ak.build(t, content)
		if len(content) <= int(fuzzLimits().EntryBytes) && sniff(content) == plain {
			c := scanFuzz(t, s, arch, false)
			line, _ := refLineCol(content, at)
			found := false
			for _, f := range c.Findings {
				found = found || f.Secret == planted && f.Path == ak.path && f.Line == line && f.Column == 1
			}
			if !found {
				t.Fatalf("%s: planted key at %s line %d not found", ak.name, ak.path, line)
			}
		}
		cut := int(offset % uint(len(arch)))
		scanFuzz(t, s, arch[:cut], false)
		flipped := slices.Clone(arch)
		flipped[cut] ^= byte(kind>>8) | 1
		scanFuzz(t, s, flipped, true)
	})
}

// A fuzzSeed is one input of a fuzz target's corpus.
type fuzzSeed struct {
	name   string
	data   string
	offset uint
	kind   uint
}

// decodeSeeds are the inputs of FuzzDecode: the key in each encoding the
// decoders read, cut short, and the repeated forms that make them work.
func decodeSeeds() []fuzzSeed {
	k := planted
	b64 := base64.StdEncoding.EncodeToString
	var out []fuzzSeed
	for pad := range 3 {
		text := strings.Repeat("~", pad) + "?>?" + k
		out = append(out,
			fuzzSeed{name: "base64-align-" + strconv.Itoa(pad), data: "secret: " + b64([]byte(text)) + "\n", offset: 3},
			fuzzSeed{name: "base64url-raw-align-" + strconv.Itoa(pad), data: base64.RawURLEncoding.EncodeToString([]byte(text)), offset: 0},
		)
	}
	enc := b64([]byte(k))
	out = append(out,
		fuzzSeed{name: "plain", data: "LOFTY_API_KEY=" + k + "\n"},
		fuzzSeed{name: "base64-wrapped-crlf", data: wrapLines(b64([]byte("LOFTY_API_KEY="+k+"\n")), 76, "\r\n"), offset: 80},
		fuzzSeed{name: "base64-wrapped-escaped", data: `{"d": "` + strings.ReplaceAll(wrapLines(b64([]byte("LOFTY_API_KEY="+k+"\n")), 76, "\n"), "\n", `\n`) + `"}`, offset: 90},
		fuzzSeed{name: "base64-wrapped-diff", data: "@@ -0,0 +1,4 @@\n+" + strings.ReplaceAll(wrapLines(b64([]byte("LOFTY_API_KEY="+k+"\n")), 76, "\n"), "\n", "\n+"), offset: 90},
		fuzzSeed{name: "base64-wrapped-quoted", data: "> " + strings.ReplaceAll(wrapLines(b64([]byte("LOFTY_API_KEY="+k+"\n")), 64, "\r\n"), "\n", "\n> "), offset: 70},
		fuzzSeed{name: "base64-wrapped-list", data: `{"text": ["` + strings.ReplaceAll(wrapLines(b64([]byte("LOFTY_API_KEY="+k+"\n")), 76, "\n"), "\n", "\\n\",\n  \"") + `"]}`, offset: 100},
		fuzzSeed{name: "base64-truncated", data: enc[:len(enc)/2], offset: 1},
		fuzzSeed{name: "base64-two-lines", data: b64([]byte(k+"\n")) + "\n" + b64([]byte(k+"\n")) + "\n", offset: 4},
		fuzzSeed{name: "base64-unpadded-then-var", data: "KEY_B64=" + b64([]byte(planted3)) + "\nOTHER=1\n", offset: 8},
		fuzzSeed{name: "utf16le", data: string(encodeUTF16("$env:LOFTY_API_KEY = '"+k+"'\r\n", false, true))},
		fuzzSeed{name: "utf16be", data: string(encodeUTF16("key="+k, true, true)), offset: 9},
		fuzzSeed{name: "utf16le-truncated", data: string(encodeUTF16(k, false, false))[:200]},
		fuzzSeed{name: "base64-of-utf16le", data: "powershell -EncodedCommand " + b64(encodeUTF16("$k='"+k+"'", false, false)), offset: 2},
		fuzzSeed{name: "utf16le-of-base64", data: string(encodeUTF16("k: "+enc+"\n", false, false)), offset: 5},
		fuzzSeed{name: "eyJ-repeated", data: strings.Repeat("eyJ", 3000), offset: 1500},
		fuzzSeed{name: "ZXlK-repeated", data: strings.Repeat("ZXlK", 2000), offset: 4000},
		fuzzSeed{name: "V5S-repeated", data: strings.Repeat("V5S", 3000), offset: 7},
		fuzzSeed{name: "utf16-eyJ-repeated", data: strings.Repeat("e\x00y\x00J\x00", 2000), offset: 3001},
		fuzzSeed{name: "binary", data: string(binaryBytes(3, 2000)), offset: 1000},
		fuzzSeed{name: "hex", data: "k=" + hex.EncodeToString([]byte(k)) + "\n", offset: 2},
		fuzzSeed{name: "hex-truncated", data: strings.ToUpper(hex.EncodeToString([]byte(k)))[:150], offset: 3},
		fuzzSeed{name: "base64-of-base64", data: "auth: " + b64([]byte(b64([]byte("user:"+k)))) + "\n", offset: 6},
		fuzzSeed{name: "base64-of-hex-wrapped", data: wrapLines(b64([]byte(hex.EncodeToString([]byte(k)))), 76, "\n"), offset: 77},
		fuzzSeed{name: "utf16-of-base64-of-base64", data: string(encodeUTF16("v="+b64([]byte(b64([]byte(k)))), false, true)), offset: 4},
		fuzzSeed{name: "hex-repeated", data: strings.Repeat("65794a", 1000), offset: 2},
		fuzzSeed{name: "split-literals", data: "KEY = (\"" + k[:40] + "\"\n  \"" + k[40:] + "\")\n", offset: 1},
		fuzzSeed{name: "base64-of-split-literals", data: "s: " + b64([]byte("k = '"+k[:90]+"' +\n '"+k[90:]+"'")) + "\n", offset: 3},
		fuzzSeed{name: "continued-lines-repeated", data: strings.Repeat("\"eyJ\" \\\n", 500), offset: 9},
	)
	return out
}

// scanSeeds are the inputs of FuzzScan: text, encodings and small archives.
func scanSeeds(tb testing.TB) []fuzzSeed {
	k := planted
	env := []byte("# crm\nLOFTY_API_KEY=" + k + "\n")
	out := []fuzzSeed{
		{name: "empty"},
		{name: "env", data: string(env), offset: 6},
		{name: "bom-env", data: "\uFEFF" + string(env), offset: 0},
		{name: "allow", data: "KEY=" + k + " # loftyscan:allow\n", offset: 2},
		{name: "generic-in-context", data: "lofty_token: " + testtoken.Generic("u") + "\n"},
		{name: "base64-env", data: "ENV_B64=" + base64.StdEncoding.EncodeToString(env) + "\n", offset: 8},
		{name: "utf16-env", data: string(encodeUTF16(string(env), false, true)), offset: 2},
		{name: "zip", data: string(zipBytes(tb, entry{Name: "a.env", Data: env}))},
		{name: "tar", data: string(tarBytes(tb, entry{Name: "a.env", Data: env})), offset: 512},
		{name: "gzip", data: string(gzipBytes(tb, "a.env", env)), offset: 10},
		{name: "not-zip", data: "PK\x03\x04" + string(env), offset: 4},
		{name: "not-gzip", data: "\x1f\x8b" + string(env), offset: 2},
	}
	return out
}

// archiveSeeds are the inputs of FuzzArchive: archives of each kind holding
// the key, and the same cut short.
func archiveSeeds(tb testing.TB) []fuzzSeed {
	env := []byte("# crm\nLOFTY_API_KEY=" + planted + "\n")
	var out []fuzzSeed
	for i, ak := range archiveKinds {
		arch := ak.build(tb, env)
		out = append(out,
			fuzzSeed{name: ak.name, data: string(arch), offset: 7, kind: uint(i)},
			fuzzSeed{name: ak.name + "-truncated", data: string(arch[:len(arch)*2/3]), offset: uint(len(arch) / 3), kind: uint(i) + 1},
		)
	}
	nested := zipBytes(tb, entry{Name: "inner.tar.gz", Data: gzipBytes(tb, "", tarBytes(tb, entry{Name: "a.env", Data: env}))})
	tarZstInZip := zipBytes(tb, entry{Name: "x/c.tar.zst", Data: zstdOf(tb, tarBytes(tb, entry{Name: "a.env", Data: env}))})
	zstInTarXz := xzOf(tb, tarBytes(tb, entry{Name: "d/e.env.zst", Data: zstdOf(tb, env)}))
	out = append(out,
		fuzzSeed{name: "zip-in-zip", data: string(nested), offset: 30, kind: 0x100},
		fuzzSeed{name: "tar.zst-in-zip", data: string(tarZstInZip), offset: 40, kind: 0x209},
		fuzzSeed{name: "zst-in-tar.xz", data: string(zstInTarXz), offset: 50, kind: 0x307},
		fuzzSeed{name: "text", data: string(env), offset: 6, kind: 3},
		fuzzSeed{name: "empty", kind: 2},
	)
	return out
}

var writeFuzzSeeds = flag.Bool("write-fuzz-seeds", false, "write the seed corpora of the fuzz targets to testdata/fuzz")

// TestWriteFuzzSeeds writes the seeds to testdata/fuzz in Go's corpus
// format when run with -write-fuzz-seeds; otherwise it checks that every
// seed file there parses.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeFuzzSeeds {
		files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "*", "*"))
		for _, f := range files {
			if _, err := readCorpusFile(f); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
		return
	}
	write := func(target string, s fuzzSeed, vals ...any) {
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		for _, v := range vals {
			switch v := v.(type) {
			case []byte:
				fmt.Fprintf(&b, "[]byte(%q)\n", v)
			case uint:
				fmt.Fprintf(&b, "uint(%d)\n", v)
			}
		}
		p := filepath.Join("testdata", "fuzz", target, s.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range decodeSeeds() {
		write("FuzzDecode", s, []byte(s.data), s.offset)
	}
	for _, s := range scanSeeds(t) {
		write("FuzzScan", s, []byte(s.data), s.offset)
	}
	for _, s := range archiveSeeds(t) {
		write("FuzzArchive", s, []byte(s.data), s.offset, s.kind)
	}
	for _, s := range xzGuardSeeds(t) {
		write("FuzzXzGuard", s, []byte(s.data))
	}
}

// readCorpusFile reads the []byte, string and uint values of a corpus file
// in Go's format ("go test fuzz v1", then one value a line).
func readCorpusFile(path string) ([]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) == 0 || lines[0] != "go test fuzz v1" {
		return nil, fmt.Errorf("not a corpus file")
	}
	var vals []any
	for _, l := range lines[1:] {
		typ, arg, ok := strings.Cut(l, "(")
		if !ok || !strings.HasSuffix(arg, ")") {
			return nil, fmt.Errorf("bad line %q", l)
		}
		arg = arg[:len(arg)-1]
		switch typ {
		case "[]byte", "string":
			s, err := strconv.Unquote(arg)
			if err != nil {
				return nil, fmt.Errorf("bad %s: %v", typ, err)
			}
			vals = append(vals, []byte(s))
		case "uint":
			n, err := strconv.ParseUint(arg, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("bad uint: %v", err)
			}
			vals = append(vals, uint(n))
		default:
			return nil, fmt.Errorf("unsupported type %s", typ)
		}
	}
	return vals, nil
}

// TestBase64LineAfterKey: the line after a base64 value that needs no
// padding is joined to it only when it continues the base64 text. Before,
// "OTHER=..." after LOFTY_KEY_B64=<base64> was decoded onto the end of the
// key's signature, and the key reported with a wrong fingerprint, or missed.
func TestBase64LineAfterKey(t *testing.T) {
	t.Parallel()
	k := planted3
	enc := base64.StdEncoding.EncodeToString([]byte(k))
	for _, next := range []string{"OTHER=1", "OTHER=Zm9vYmFy", "next: 1", "ABCDEFGH_TOKEN=x", "AAAA", "eyJ"} {
		t.Run(next, func(t *testing.T) {
			t.Parallel()
			c, _ := scanData(t, testOptions(), []byte("KEY_B64="+enc+"\n"+next+"\n"))
			checkFound(t, c.Findings, wantFinding{Path: "in", Line: 1, Column: 9, Encoding: "base64", Token: k, Status: rules.StatusNoExpiry})
		})
	}
	// Wrapped base64 still joins its lines, whatever ends the last one.
	text := "LOFTY_API_KEY=" + k + "\n"
	for _, width := range []int{64, 76, 100} {
		wrapped := wrapLines(base64.StdEncoding.EncodeToString([]byte(text+text[:len(text)-1])), width, "\n")
		data := []byte("<data>\n" + strings.TrimSuffix(wrapped, "\n") + "</data>\n")
		c, _ := scanData(t, testOptions(), data)
		if len(c.Findings) != 2 || c.Findings[0].Secret != k || c.Findings[1].Secret != k {
			t.Errorf("wrapped at %d: %d findings, want the key twice", width, len(c.Findings))
		}
	}
}
