package scanner

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// benchTree writes a source-like tree of about 16 MB: 800 files of text,
// a few of them with keys, plain or base64-encoded.
func benchTree(b *testing.B) string {
	dir := b.TempDir()
	var src bytes.Buffer
	for i := 0; src.Len() < 20<<10; i++ {
		src.WriteString("func handler" + strconv.Itoa(i) + "(w http.ResponseWriter, r *http.Request) { // tokens: eyJ is not one\n")
		src.WriteString("\tlog.Printf(\"request %s from %s\", r.URL.Path, r.RemoteAddr)\n")
	}
	for i := range 800 {
		data := src.Bytes()
		switch i % 100 {
		case 7:
			data = append(bytes.Clone(data), "LOFTY_API_KEY="+keyN(i)+"\n"...)
		case 42:
			data = append(bytes.Clone(data), "secret: "+base64.StdEncoding.EncodeToString([]byte(keyN(i)))+"\n"...)
		}
		writeFixture(b, dir, filepath.Join("pkg"+strconv.Itoa(i%20), "file"+strconv.Itoa(i)+".go"), data)
	}
	return dir
}

// smallTree writes n files of 100-1,500 bytes of source-like text in
// folders of 100, and one key: the per-file costs of a walk.
func smallTree(n int) func(b *testing.B) string {
	return func(b *testing.B) string {
		dir := b.TempDir()
		line := []byte("\tlog.Printf(\"request %s from %s\", r.URL.Path, r.RemoteAddr) // eyJ is not a key\n")
		for i := range n {
			data := bytes.Repeat(line, 1+i%20)
			if i == n/2 {
				data = append(data, "LOFTY_API_KEY="+keyN(i)+"\n"...)
			}
			writeFixture(b, dir, filepath.Join("d"+strconv.Itoa(i/100), "f"+strconv.Itoa(i)+".go"), data)
		}
		return dir
	}
}

// emptyTree writes n empty files in folders of 1,000: a walk's cost with
// nothing to read.
func emptyTree(n int) func(b *testing.B) string {
	return func(b *testing.B) string {
		dir := b.TempDir()
		for i := range n {
			writeFixture(b, dir, filepath.Join("d"+strconv.Itoa(i/1000), strconv.Itoa(i)), nil)
		}
		return dir
	}
}

// BenchmarkScanPaths measures the directory scan, with MB/s: over a
// generated tree, 5,000 small files, 20,000 empty files, and the Go
// distribution's net package when present.
func BenchmarkScanPaths(b *testing.B) {
	roots := map[string]func(*testing.B) string{
		"generated": benchTree,
		"small":     smallTree(5000),
		"empty":     emptyTree(20000),
		"goroot-net": func(b *testing.B) string {
			out, err := exec.Command("go", "env", "GOROOT").Output()
			dir := filepath.Join(strings.TrimSpace(string(out)), "src", "net")
			if err != nil {
				b.Skipf("go env GOROOT: %v", err)
			}
			if _, err := os.Stat(dir); err != nil {
				b.Skipf("no %s", dir)
			}
			return dir
		},
	}
	for _, name := range []string{"generated", "small", "empty", "goroot-net"} {
		b.Run(name, func(b *testing.B) {
			dir := roots[name](b)
			opts := testOptions()
			opts.Workers = 0 // one per CPU
			s := New(opts)
			var size int64
			b.ResetTimer()
			for b.Loop() {
				st, err := s.ScanPaths(context.Background(), []string{dir}, &Collector{})
				if err != nil {
					b.Fatal(err)
				}
				size = st.Bytes
			}
			b.SetBytes(size)
		})
	}
}

// BenchmarkScanReader measures one stream through the chunker, decoders
// and rules on one core.
func BenchmarkScanReader(b *testing.B) {
	data := bytes.Repeat([]byte(fillerLines), 32<<20/len(fillerLines))
	s := New(testOptions())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := s.ScanReader(context.Background(), "in", bytes.NewReader(data), &Collector{}); err != nil {
			b.Fatal(err)
		}
	}
}
