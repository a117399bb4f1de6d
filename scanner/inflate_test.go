package scanner

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"testing"
)

// The small-member decoder against archive/zip and compress/gzip: what it
// decodes is what they decode, and it declines whatever is not a small,
// whole, undamaged member, which then goes their way.

func memberContents() map[string][]byte {
	rng := rand.New(rand.NewPCG(5, 6))
	random := make([]byte, 300<<10)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	return map[string][]byte{
		"empty":         nil,
		"key":           []byte("LOFTY_API_KEY=" + keyActive + "\n"),
		"text":          bytes.Repeat([]byte("the quick brown fox\n"), 20000),
		"random":        random,
		"exactly 1 MiB": bytes.Repeat([]byte("x"), smallMember),
		"1 MiB + 1":     bytes.Repeat([]byte("y"), smallMember+1),
	}
}

func TestInflateZipMatchesArchiveZip(t *testing.T) {
	t.Parallel()
	contents := memberContents()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range contents {
		w, _ := zw.Create(name)
		w.Write(data)
	}
	// A member whose central directory declares the wrong CRC-32.
	bad := []byte("LOFTY_API_KEY=" + keyActive + "\n")
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "bad crc", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(bad) + 1,
		CompressedSize64: uint64(len(deflateBytes(t, bad))), UncompressedSize64: uint64(len(bad))})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(deflateBytes(t, bad))
	zw.Close()
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	st := newStreamer(finder{})
	for _, f := range zr.File {
		got, ok := st.inflateZip(f)
		want := f.UncompressedSize64 <= smallMember && f.Name != "bad crc"
		if ok != want {
			t.Errorf("%s: decoded whole %v, want %v", f.Name, ok, want)
		}
		if !ok {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		ref, err := io.ReadAll(rc)
		if err != nil || !bytes.Equal(got, ref) {
			t.Errorf("%s: %d bytes, archive/zip %d (%v)", f.Name, len(got), len(ref), err)
		}
	}
}

func deflateBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "x", Method: zip.Deflate})
	w.Write(data)
	zw.Close()
	zr, _ := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	raw, err := zr.File[0].OpenRaw()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(raw)
	return out
}

func TestInflateGzipMatchesCompressGzip(t *testing.T) {
	t.Parallel()
	gz := func(hdr gzip.Header, data []byte) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Header = hdr
		w.Write(data)
		w.Close()
		return b.Bytes()
	}
	section := func(b []byte) io.Reader { return io.NewSectionReader(bytes.NewReader(b), 0, int64(len(b))) }
	st := newStreamer(finder{})
	for name, data := range memberContents() {
		for _, hdr := range []gzip.Header{{}, {Name: "inner.env", Comment: "a comment", Extra: []byte("xx")}} {
			file := gz(hdr, data)
			content, gotName, ok := st.inflateGzip(section(file))
			if want := len(data) <= smallMember && len(file) <= smallMember; ok != want {
				t.Errorf("%s: decoded whole %v, want %v", name, ok, want)
			}
			if !ok {
				continue
			}
			got, _ := io.ReadAll(content)
			zr, err := gzip.NewReader(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			ref, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(got, ref) || gotName != zr.Name {
				t.Errorf("%s: %d bytes named %q, compress/gzip %d named %q (%v)", name, len(got), gotName, len(ref), zr.Name, err)
			}
		}
	}
	key := []byte("LOFTY_API_KEY=" + keyActive + "\n")
	one := gz(gzip.Header{}, key)
	badCRC := bytes.Clone(one)
	badCRC[len(badCRC)-8]++
	for name, file := range map[string][]byte{
		"two members":      append(bytes.Clone(one), one...),
		"trailing garbage": append(bytes.Clone(one), 0, 0, 0),
		"bad crc":          badCRC,
		"truncated":        one[:len(one)-3],
		"not gzip":         key,
	} {
		if _, _, ok := st.inflateGzip(section(file)); ok {
			t.Errorf("%s: decoded whole", name)
		}
	}
	if _, _, ok := st.inflateGzip(bytes.NewReader(one)); ok {
		t.Error("decoded whole without random access to the file")
	}
}
