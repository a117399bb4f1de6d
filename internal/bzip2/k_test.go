package bzip2

import (
	"bytes"
	"io"
	"os"
	"testing"
)

func BenchmarkK(b *testing.B) {
	for _, f := range []string{"rand.bin", "gosrc.txt"} {
		z, _ := os.ReadFile("/tmp/bz/k/" + f + ".bz2")
		b.Run(f, func(b *testing.B) {
			for b.Loop() {
				n, err := io.Copy(io.Discard, NewReader(bytes.NewReader(z)))
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(n)
			}
		})
	}
}
