package scanner

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/rules"
)

// Pathological text: inputs built to make a detector slow, each generated at
// any size. BenchmarkLinear scans them at 100 KB, 1 MB and 10 MB, so that
// `go test -bench Linear` shows ns/op growing with the size and MB/s staying
// flat; TestLinear checks the growth on smaller sizes.

// linearInput is one kind of hostile input.
type linearInput struct {
	name string
	// open returns a reader of exactly n bytes of the input, generated as
	// it is read where the input allows it.
	open func(n int) io.Reader
	// findings is how many findings n bytes give, or -1 when it depends
	// on n.
	findings int
}

// cycleReader repeats unit until n bytes have been read, without holding
// more than one unit: a file of any size, even one line of 100 MB.
type cycleReader struct {
	unit []byte
	n    int
	off  int
}

func repeated(unit string) func(int) io.Reader {
	return func(n int) io.Reader { return &cycleReader{unit: []byte(unit), n: n} }
}

func (r *cycleReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	p = p[:min(len(p), r.n)]
	m := 0
	for m < len(p) {
		c := copy(p[m:], r.unit[r.off:])
		m += c
		r.off = (r.off + c) % len(r.unit)
	}
	r.n -= m
	return m, nil
}

// randomBase64Reader is one base64 run of n characters, the encoding of
// random bytes: an embedded image, a data: URI, a minified bundle.
type randomBase64Reader struct {
	rng   *rand.Rand
	n     int
	spill []byte
}

func (r *randomBase64Reader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	p = p[:min(len(p), r.n)]
	m := copy(p, r.spill)
	r.spill = r.spill[m:]
	var raw [48]byte
	var enc [64]byte
	for m < len(p) {
		for i := 0; i < len(raw); i += 8 {
			v := r.rng.Uint64()
			for j := range 8 {
				raw[i+j] = byte(v >> (8 * j))
			}
		}
		base64.StdEncoding.Encode(enc[:], raw[:])
		c := copy(p[m:], enc[:])
		r.spill = append(r.spill[:0], enc[c:]...)
		m += c
	}
	r.n -= m
	return m, nil
}

// nestedKey is a scope-carrying key of about n bytes whose payload holds an
// array nested as deeply as the size allows: {"scope":...,"a":[[[...]]]}.
func nestedKey(n int) string {
	var b strings.Builder
	io.Copy(&b, nestedReader(n))
	return strings.TrimRight(b.String(), "\n")
}

// nestedReader generates nestedKey(n) as it is read, then newlines up to n
// bytes. The payload's prefix is padded to a multiple of 3 bytes, so that
// the brackets encode as "W1tb" and "XV1d" repeated.
func nestedReader(n int) io.Reader {
	b64 := base64.RawURLEncoding.EncodeToString
	prefix := `{"scope":"` + rules.Scope + `","a":`
	prefix += strings.Repeat(" ", (3-len(prefix)%3)%3)
	head := b64([]byte(`{"alg":"HS256"}`)) + "." + b64([]byte(prefix))
	tail := "fQ." + b64(bytes.Repeat([]byte{0x9f}, 32))
	units := max(1, (n-len(head)-len(tail)-1)/8) // 3 brackets of each kind per unit
	return io.MultiReader(strings.NewReader(head),
		&cycleReader{unit: []byte("W1tb"), n: 4 * units},
		&cycleReader{unit: []byte("XV1d"), n: 4 * units},
		strings.NewReader(tail),
		&cycleReader{unit: []byte("\n"), n: max(0, n-len(head)-len(tail)-8*units)})
}

// numbersReader is n bytes of the numbers from 1 up, one a line.
func numbersReader(n int) io.Reader {
	var b bytes.Buffer
	for i := 1; b.Len() < n; i++ {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte('\n')
	}
	return bytes.NewReader(b.Bytes()[:n])
}

// linearInputs are the hostile inputs.
var linearInputs = []linearInput{
	// The prefix of every candidate, millions of times: no token.
	{"eyJ", repeated("eyJ"), 0},
	// Separators only.
	{"dots", repeated("."), 0},
	// A minified file of one line with no newline, full of small JWTs
	// that parse but carry no scope: each costs a parse and a context
	// check on a line that never ends.
	{"line", repeated(`{"id":12345,"name":"välue","token":"eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"},`), 0},
	// One token as long as the input, its payload nested as deep as that
	// allows: longer than rules.MaxTokenLen, so never parsed.
	{"nested", nestedReader, 0},
	// Keys just under rules.MaxTokenLen, each nested thousands of levels
	// deep, one a line: each is parsed and reported.
	{"nested-keys", repeated(nestedKey(rules.MaxTokenLen-200) + "\n"), -1},
	// Base64 of "eyJ" repeated: every quantum is a hit for the decoder.
	{"base64-ZXlK", repeated("ZXlK"), 0},
	// Base64 of "?eyJ" repeated: the hits fall at all four alignments.
	{"base64-V5S", repeated("V5S"), 0},
	// Short runs of base64 that each start with the base64 of "eyJ", on
	// one line: every run is a window of its own, with its context check.
	{"base64-short-runs", repeated("ZXlKAAAAAAAAAAAA "), 0},
	// Base64 of UTF-16LE "eyJ" repeated: base64 around UTF-16.
	{"base64-utf16", repeated("ZQB5AEoA"), 0},
	// UTF-16LE "eyJ" repeated: one UTF-16 run as long as the input.
	{"utf16", repeated("e\x00y\x00J\x00"), 0},
	// Base64 of "eyJ" on indented lines, one indented block as long as
	// the input (every line joined to the one before), and short lines
	// indented alike whose hits each walk back over the lines before.
	{"base64-indented", repeated("    " + strings.Repeat("ZXlK", 19) + "\n"), 0},
	{"base64-indented-short", repeated("\t\tZXlKZXlK\n"), 0},
	// Lines joined by escaped line breaks (a JSON string of wrapped
	// base64): short ones, each hit walking back over the lines before,
	// and escapes of the most backslashes allowed, and one more.
	{"base64-escaped-breaks", repeated(`ZXlKZXlK\n`), 0},
	{"base64-escaped-breaks-long", repeated(strings.Repeat("ZXlK", 19) + `\r\n`), 0},
	{"base64-escaped-backslashes", repeated(`ZXlK\\\\\\\\r\\\\\\\\nZXlK\\\\\\\\\n`), 0},
	// gzip in base64 that is not gzip: each run decoded whole, then let
	// go to the windows.
	{"base64-not-gzip", repeated("H4sI" + strings.Repeat("ZXlK", 30) + "\n"), 0},
	// Numbers, one a line, and hex values of many lengths: digits and
	// line breaks make one run as long as the input, each line a segment
	// of its own (hex lines of unequal length do not continue each
	// other); each had a window with the b64Back characters before it,
	// 85 bytes searched a byte of input (see minHexLine).
	{"numbers", numbersReader, 0},
	{"hex-lines", repeated("1f\n2e3\n4d5c\n6b7a8\n9f8e7d\nc6b5a49\n38271605\nfedcba987\n"), 0},
	// A long run of base64 of random bytes.
	{"base64-random", func(n int) io.Reader {
		return &randomBase64Reader{rng: rand.New(rand.NewPCG(1, 2)), n: n}
	}, 0},
}

// countSink counts findings and warnings and keeps nothing.
type countSink struct{ findings, warnings int }

func (c *countSink) Finding(finding.Finding) { c.findings++ }
func (c *countSink) Warning(finding.Warning) { c.warnings++ }

// scanLinear scans n bytes of in through ScanReader and checks the result.
func scanLinear(t testing.TB, s *Scanner, in linearInput, n int) {
	var c countSink
	st, err := s.ScanReader(context.Background(), "in", in.open(n), &c)
	if err != nil {
		t.Fatal(err)
	}
	if st.Bytes != int64(n) {
		t.Fatalf("%s: scanned %d bytes, want %d", in.name, st.Bytes, n)
	}
	if c.warnings != 0 || (in.findings >= 0 && c.findings != in.findings) {
		t.Fatalf("%s: %d findings and %d warnings, want %d and none", in.name, c.findings, c.warnings, in.findings)
	}
}

func linearScanner() *Scanner {
	o := testOptions()
	o.Limits.ArchiveDepth = 0 // the inputs are text; none must be taken for an archive
	return New(o)
}

func BenchmarkLinear(b *testing.B) {
	sizes := []struct {
		name string
		n    int
	}{{"100KB", 100 << 10}, {"1MB", 1 << 20}, {"10MB", 10 << 20}}
	s := linearScanner()
	for _, in := range linearInputs {
		b.Run(in.name, func(b *testing.B) {
			for _, sz := range sizes {
				b.Run(sz.name, func(b *testing.B) {
					b.SetBytes(int64(sz.n))
					b.ReportAllocs()
					for b.Loop() {
						scanLinear(b, s, in, sz.n)
					}
				})
			}
		})
	}
}

// TestLinear scans each hostile input at two sizes, ten times apart, and
// compares the work done: the bytes the rules searched, at every depth of
// decoding (each decoded window included). A scan that is linear does
// about ten times the work on ten times the input (a little more: chunks
// overlap), a quadratic one a hundred times. The work is counted, not
// timed, so a busy machine cannot fail the test; BenchmarkLinear times it.
func TestLinear(t *testing.T) {
	if raceBuild {
		t.Skip("counts the work of scans of megabytes (26 s under -race): .ci/run runs it without -race")
	}
	t.Parallel()
	// Past a chunk (1 MB) at the larger size, so that the chunking is
	// counted too.
	small := 128 << 10
	s := linearScanner()
	work := func(in linearInput, n int) int64 {
		st := newStreamer(finder{cfg: s.opts.Rules})
		if _, err := st.scan(context.Background(), in.open(n), "in", func(finding.Finding) {}); err != nil {
			t.Fatal(err)
		}
		return st.find.searched
	}
	for _, in := range linearInputs {
		t.Run(in.name, func(t *testing.T) {
			w1, w10 := work(in, small), work(in, 10*small)
			ratio := float64(w10) / float64(max(w1, 1))
			t.Logf("%s: %d bytes searched for %d KB, %d for %d KB: ×%.2f, %.2f a byte", in.name, w1, small>>10, w10, 10*small>>10, ratio, float64(w10)/float64(10*small))
			if ratio > maxLinearRatio {
				t.Errorf("%s: 10 times the input took %.1f times the work (%d, then %d bytes searched): not linear", in.name, ratio, w1, w10)
			}
			if perByte := float64(w10) / float64(10*small); perByte > maxSearchedPerByte {
				t.Errorf("%s: %.1f bytes searched for each byte of input, over the %d allowed", in.name, perByte, maxSearchedPerByte)
			}
		})
	}
}

// maxLinearRatio bounds the work on ten times the input. Linear is a little
// over 10: chunks overlap, and in random base64 the rare runs that decode
// to "eyJ" come at their own rate; quadratic would be 100. The inputs and
// the count are deterministic: the test gives the same numbers every run.
const maxLinearRatio = 15

// maxSearchedPerByte bounds the bytes the rules search for each byte of
// input: the input itself, its decoded windows (a run of base64 is decoded
// at up to four alignments, each window read again by the next one's
// overlap) and what those decode to.
const maxSearchedPerByte = 8

// TestLinearFindings checks that the inputs are what they claim: the
// nested keys are found, whole, and the single nested token is not (it is
// longer than rules.MaxTokenLen).
func TestLinearFindings(t *testing.T) {
	t.Parallel()
	k := nestedKey(rules.MaxTokenLen - 200)
	if len(k) > rules.MaxTokenLen || len(k) < rules.MaxTokenLen-400 {
		t.Fatalf("nested key of %d bytes", len(k))
	}
	if _, err := rules.ParseToken(k); err != nil {
		t.Fatalf("nested key does not parse: %v", err)
	}
	c, _ := scanData(t, testOptions(), []byte(strings.Repeat(k+"\n", 5)))
	if len(c.Findings) != 5 {
		t.Fatalf("%d findings in 5 nested keys", len(c.Findings))
	}
	for _, f := range c.Findings {
		if f.Secret != k || f.Fingerprint != fingerprintOf(k) {
			t.Fatalf("%s: not the nested key", describe(f))
		}
	}
	c, _ = scanData(t, testOptions(), []byte(nestedKey(100<<10)))
	checkFound(t, c.Findings)
}

// TestDecodeAllocBounded checks that the finder (rules and decoders) never
// allocates more than a fixed multiple of its input: over the seed corpora
// of the fuzz targets and the hostile inputs above. It measures one call at
// a time with runtime.MemStats, which counts the whole process: not
// parallel.
func TestDecodeAllocBounded(t *testing.T) {
	inputs := map[string][]byte{}
	for _, dir := range []string{"FuzzDecode", "FuzzScan", "FuzzArchive"} {
		files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", dir, "*"))
		for _, f := range files {
			vals, err := readCorpusFile(f)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if b := vals[0].([]byte); len(b) >= 4<<10 {
				inputs[f] = b
			}
		}
	}
	for _, in := range linearInputs {
		for _, n := range []int{4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10, 128 << 10, 256 << 10} {
			b, err := io.ReadAll(in.open(n))
			if err != nil {
				t.Fatal(err)
			}
			inputs[in.name+"/"+strconv.Itoa(n>>10)+"KB"] = b
		}
	}
	names := slices.Sorted(maps.Keys(inputs))
	var before, after runtime.MemStats
	for _, name := range names {
		buf := inputs[name]
		f := &finder{cfg: testOptions().Rules}
		runtime.GC()
		runtime.ReadMemStats(&before)
		f.find(buf, func(hit) {})
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%-40s %8d bytes: allocated %9d (%.1fx)", name, len(buf), alloc, float64(alloc)/float64(len(buf)))
		if limit := allocPerByte*uint64(len(buf)) + 64<<10; alloc > limit {
			t.Errorf("%s: finding in %d bytes allocated %d bytes, over the %d allowed", name, len(buf), alloc, limit)
		}
	}
}

// allocPerByte bounds what the finder allocates per input byte. The most
// is JSON decoding: a claims set nested thousands of levels deep costs
// about 31 bytes a byte in encoding/json; base64 windows cost at most about
// 22 (a finder starting with no windows to reuse, hits at all four
// alignments). Before windows were reused and hits merged, 1 MB of "V5S"
// allocated 3,400 bytes per byte.
const allocPerByte = 40
