package inflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

// stdInflate is compress/flate's decoding of a raw deflate stream, the
// reference for Into.
func stdInflate(src []byte) ([]byte, error) {
	return io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(src)), 1<<20))
}

// lines makes a text of n numbered lines.
func lines(prefix string, n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "%s line %d\n", prefix, i)
	}
	return b.Bytes()
}

func deflate(t testing.TB, data []byte, level int) []byte {
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func TestInflate(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	inputs := [][]byte{
		nil,
		[]byte("a"),
		lines("deflate me", 2000),
		bytes.Repeat([]byte{0}, 100000),
		bytes.Repeat([]byte("abc"), 50000),
	}
	random := make([]byte, 200000)
	for i := range random {
		random[i] = byte(rng.IntN(256))
	}
	inputs = append(inputs, random)
	var d Decoder
	for _, in := range inputs {
		for _, level := range []int{flate.NoCompression, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression, flate.HuffmanOnly} {
			stream := deflate(t, in, level)
			z := append(bytes.Clone(stream), "trailing bytes: the next object"...)
			out := make([]byte, len(in))
			n, err := d.Into(out, z)
			if err != nil || !bytes.Equal(out, in) || n != len(z)-len("trailing bytes: the next object") {
				t.Fatalf("%d bytes at level %d: %v, %d consumed of %d", len(in), level, err, n, len(z))
			}
			if len(in) > 0 {
				if _, err := d.Into(make([]byte, len(in)-1), z); err == nil {
					t.Errorf("level %d: no error for a stream longer than the object", level)
				}
				if _, err := d.Into(make([]byte, len(in)+1), z); err == nil {
					t.Errorf("level %d: no error for a stream shorter than the object", level)
				}
				if _, err := d.Into(out, stream[:len(stream)/2]); err == nil {
					t.Errorf("level %d: no error for a truncated stream", level)
				}
			}
		}
	}
}

// FuzzInflate compares Into with compress/flate on arbitrary
// bytes, mostly mutations of streams compress/flate wrote: both must
// decode them to the same bytes or both fail, and Into must never
// panic. (TestInflate checks the round trip of real data.)
func FuzzInflate(f *testing.F) {
	for level := flate.HuffmanOnly; level <= flate.BestCompression; level++ {
		f.Add(deflate(f, lines("fuzz", 30), level))
	}
	f.Add([]byte{0x01, 0x00, 0x00, 0xff, 0xff})
	f.Add([]byte{0x03, 0x00})
	// Dynamic blocks of codes up to 15 bits (subtables of every size),
	// after a fixed block: what compress/flate's writer does not make.
	rng := rand.New(rand.NewPCG(13, 14))
	for range 3 {
		var w bitWriter
		w.bits(0, 1)
		w.bits(1, 2)
		w.bits(uint64(bits.Reverse8(0x30+'x')), 8)
		w.bits(0, 7)
		lit := randomLengths(rng, 286)
		if lit[256] == 0 {
			i := slices.IndexFunc(lit, func(l uint8) bool { return l > 0 })
			lit[i], lit[256] = lit[256], lit[i]
		}
		dist := randomLengths(rng, 30)
		dynamicBlock(&w, true, lit, dist, randomTokens(rng, lit, dist, 60, 1))
		f.Add(w.bytes())
	}
	var d Decoder
	f.Fuzz(func(t *testing.T, src []byte) {
		want, werr := stdInflate(src)
		if len(want) >= 1<<20 {
			return
		}
		got := make([]byte, len(want))
		_, gerr := d.Into(got, src)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("compress/flate: %v, Into: %v", werr, gerr)
		}
		if werr == nil && !bytes.Equal(got, want) {
			t.Fatalf("decoded %q, compress/flate %q", got, want)
		}
	})
}
