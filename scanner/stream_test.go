package scanner

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// fillerLines is text with multibyte characters, so that line and column
// counting is tested across chunk boundaries, not only byte offsets.
const fillerLines = "héllo wörld, 日本語 filler; nothing secret here\nshort\n\n"

// appendFiller appends filler to b until it is exactly n bytes long,
// ending in ASCII so that what follows starts a character.
func appendFiller(b []byte, n int) []byte {
	for len(b)+len(fillerLines) <= n {
		b = append(b, fillerLines...)
	}
	for len(b) < n {
		b = append(b, 'x')
	}
	return b
}

// placed is a fixture with keys (or their encodings) at chosen offsets.
type placed struct {
	data []byte
	want []wantFinding
}

// place puts each text at its offset, filler around, and expects tok there.
func (p *placed) place(off int, text, tok, enc string) {
	if off < len(p.data) {
		panic("offsets must increase and texts must not overlap")
	}
	p.data = appendFiller(p.data, off)
	line, col := refLineCol(p.data, off)
	p.data = append(p.data, text...)
	p.data = append(p.data, '\n')
	p.want = append(p.want, wantFinding{Path: "in", Line: line, Column: col, Encoding: enc, Token: tok})
}

// TestChunkBoundaries puts keys across every chunk boundary: the nominal
// ones at multiples of chunkSize and the ones the streamer really cuts at
// (the first chunk also holds the back bytes). Each must be found exactly
// once, at the right line and column, plain or base64-encoded, and however
// the reader splits its reads.
func TestChunkBoundaries(t *testing.T) {
	t.Parallel()
	boundaries := []int{
		chunkSize, back + chunkSize,
		2 * chunkSize, back + 2*chunkSize,
		3 * chunkSize, back + 3*chunkSize,
	}
	enc := base64.StdEncoding.EncodeToString([]byte(keyActive))
	for _, tt := range []struct {
		name     string
		text     string
		encoding string
	}{
		{"plain", keyActive, ""},
		{"base64", enc, "base64"},
	} {
		ks := []int{0, 1, 2, 3, 4, 10, len(tt.text) / 2, len(tt.text) - 1, len(tt.text), len(tt.text) + 1}
		for _, k := range ks {
			t.Run(tt.name+" k="+strconv.Itoa(k), func(t *testing.T) {
				t.Parallel()
				var p placed
				for _, b := range boundaries {
					p.place(b-k, tt.text, keyActive, tt.encoding)
				}
				p.data = appendFiller(p.data, len(p.data)+5000)
				readers := map[string]io.Reader{"whole reads": bytes.NewReader(p.data)}
				if k == 3 {
					readers["half reads"] = iotest.HalfReader(bytes.NewReader(p.data))
				}
				for name, rd := range readers {
					c := &Collector{}
					st, err := New(testOptions()).ScanReader(context.Background(), "in", rd, c)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					checkFound(t, c.Findings, p.want...)
					checkWarnings(t, c.Warnings)
					checkStats(t, st, c, 1, 0, 0)
					if st.Bytes != int64(len(p.data)) {
						t.Errorf("%s: finding.Stats.Bytes = %d, want %d", name, st.Bytes, len(p.data))
					}
				}
			})
		}
	}
}

// TestLongLines checks columns on lines far longer than usual: a minified
// file of one 100 KB line, and a line longer than a chunk.
func TestLongLines(t *testing.T) {
	t.Parallel()
	t.Run("minified", func(t *testing.T) {
		t.Parallel()
		var b bytes.Buffer
		var ws []wantFinding
		b.WriteString(`{"app":"crm","café":"naïve",`)
		for i := 0; b.Len() < 100<<10; i++ {
			b.WriteString(`"field` + strconv.Itoa(i) + `":"välue ` + strings.Repeat("z", i%50) + `",`)
			if i%97 == 0 {
				k := keyN(i)
				b.WriteString(`"token":"`)
				_, col := refLineCol(b.Bytes(), b.Len())
				ws = append(ws, wantFinding{Path: "in", Line: 1, Column: col, Token: k})
				b.WriteString(k + `",`)
			}
		}
		b.WriteString(`"end":1}`)
		if bytes.IndexByte(b.Bytes(), '\n') >= 0 || len(ws) < 10 {
			t.Fatal("bad fixture")
		}
		c, _ := scanData(t, testOptions(), b.Bytes())
		checkFound(t, c.Findings, ws...)
		checkWarnings(t, c.Warnings)
	})
	t.Run("line longer than a chunk", func(t *testing.T) {
		t.Parallel()
		data := []byte("first line\n")
		for len(data) < 3<<20+12345 {
			data = append(data, "ünïcödé and ascii on one very long line; "...)
		}
		off := len(data)
		data = append(data, keyActive+" tail on the same line"...)
		line, col := refLineCol(data, off)
		if line != 2 || col <= chunkSize {
			t.Fatalf("bad fixture: line %d column %d", line, col)
		}
		c, _ := scanData(t, testOptions(), data)
		checkFound(t, c.Findings, wantFinding{Path: "in", Line: 2, Column: col, Token: keyActive})
		checkWarnings(t, c.Warnings)
	})
}

// textReader generates n bytes of text lines and then tail, without ever
// holding more than one block of it.
type textReader struct {
	block []byte
	n     int64 // filler bytes left; a multiple of len(block)
	tail  []byte
	off   int
}

func (r *textReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		if len(r.tail) == 0 {
			return 0, io.EOF
		}
		m := copy(p, r.tail)
		r.tail = r.tail[m:]
		return m, nil
	}
	m := copy(p, r.block[r.off:])
	r.off = (r.off + m) % len(r.block)
	r.n -= int64(m)
	return m, nil
}

// TestBoundedMemory scans 200 MB from a reader (not a file) and checks that
// the scan allocates a small fraction of that: memory does not grow with
// the size of the input. The key at the very end must still be found.
// Not parallel: runtime.MemStats counts the whole process.
func TestBoundedMemory(t *testing.T) {
	size := int64(200 << 20)
	if testing.Short() {
		size = 50 << 20
	}
	block := bytes.Repeat([]byte(fillerLines), 64<<10/len(fillerLines))
	blocks := size / int64(len(block))
	rd := &textReader{block: block, n: blocks * int64(len(block)), tail: []byte("LOFTY_API_KEY=" + keyActive)}
	lines := int(blocks)*bytes.Count(block, []byte{'\n'}) + 1

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	c := &Collector{}
	st, err := New(testOptions()).ScanReader(context.Background(), "in", rd, c)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	checkFound(t, c.Findings, wantFinding{Path: "in", Line: lines, Column: 15, Token: keyActive})
	checkWarnings(t, c.Warnings)
	if wantBytes := blocks*int64(len(block)) + int64(14+len(keyActive)); st.Bytes != wantBytes {
		t.Errorf("Stats.Bytes = %d, want %d", st.Bytes, wantBytes)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("scanned %d MB, allocated %.1f MB, heap in use %.1f MB", st.Bytes>>20, float64(alloc)/(1<<20), float64(after.HeapInuse)/(1<<20))
	if alloc > 64<<20 {
		t.Errorf("scanning %d MB allocated %d MB, want < 64 MB", st.Bytes>>20, alloc>>20)
	}
	if after.HeapInuse > before.HeapInuse+32<<20 {
		t.Errorf("heap in use grew from %d MB to %d MB", before.HeapInuse>>20, after.HeapInuse>>20)
	}
}
