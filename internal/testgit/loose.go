package testgit

import (
	"bufio"
	"compress/zlib"
	"crypto/sha1"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// WriteLoose writes a loose object into an object folder: zlib of header
// ("blob 12", say), a NUL and what content gives, as git writes one, except
// that the header is taken as given: a test can write one that lies about
// the size. The name is the SHA-1 of all it holds, as git names it when the
// header is true. Content is streamed: an object of gigabytes costs no
// memory.
func WriteLoose(t testing.TB, objectsDir, header string, content io.Reader) plumbing.Hash {
	t.Helper()
	if err := os.MkdirAll(objectsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.CreateTemp(objectsDir, "tmp_obj_")
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(tmp, 1<<20)
	zw, _ := zlib.NewWriterLevel(bw, zlib.BestSpeed) // fast on gigabytes of zeros
	sum := sha1.New()
	w := io.MultiWriter(zw, sum)
	if _, err := io.WriteString(w, header+"\x00"); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyBuffer(w, content, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		t.Fatal(err)
	}
	var h plumbing.Hash
	copy(h[:], sum.Sum(nil))
	dir := filepath.Join(objectsDir, h.String()[:2])
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, h.String()[2:])); err != nil {
		t.Fatal(err)
	}
	return h
}

// Zeros is a reader of n zero bytes.
func Zeros(n int64) io.Reader { return io.LimitReader(zeroReader{}, n) }

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
