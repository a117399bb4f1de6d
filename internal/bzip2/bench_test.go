package bzip2

import (
	"bytes"
	stdbzip2 "compress/bzip2"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// BenchmarkReader reads 8 MB of generated text (regular expressions and
// their answers, like Go's regexp/testdata/re2-exhaustive.txt.bz2, whose
// blocks are full) compressed with bzip2 -9, with this reader and with
// compress/bzip2.
func BenchmarkReader(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	var text strings.Builder
	for text.Len() < 8<<20 {
		re := []string{"a", "b", "(?:a|b)", "[ab]*", "a+", "b?", "$", "^"}
		fmt.Fprintf(&text, "strings\n\"%s\"\nregexps\n\"%s%s\"\n%d-%d;-;%d-%d\n",
			strings.Repeat("ab", rng.IntN(4)), re[rng.IntN(len(re))], re[rng.IntN(len(re))],
			rng.IntN(9), rng.IntN(9), rng.IntN(9), rng.IntN(9))
	}
	z := compress(b, []byte(text.String()), 9)
	for _, r := range []struct {
		name string
		open func(io.Reader) io.Reader
	}{{"loftyscan", NewReader}, {"compress-bzip2", stdbzip2.NewReader}} {
		b.Run(r.name, func(b *testing.B) {
			b.SetBytes(int64(text.Len()))
			for b.Loop() {
				if n, err := io.Copy(io.Discard, r.open(bytes.NewReader(z))); err != nil || n != int64(text.Len()) {
					b.Fatal(n, err)
				}
			}
		})
	}
}
