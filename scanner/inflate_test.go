package scanner

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/loftyscan/loftyscan/finding"
)

// The whole-member decoder against archive/zip and compress/gzip: what it
// decodes is what they decode, and it declines whatever is not a whole,
// undamaged member that fits, which then goes their way.

func memberContents() map[string][]byte {
	rng := rand.New(rand.NewPCG(5, 6))
	random := make([]byte, 300<<10)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	return map[string][]byte{
		"empty":          nil,
		"key":            []byte("LOFTY_API_KEY=" + keyActive + "\n"),
		"text":           bytes.Repeat([]byte("the quick brown fox\n"), 20000),
		"random":         random,
		"exactly 1 MiB":  bytes.Repeat([]byte("x"), smallMember),
		"1 MiB + 1":      bytes.Repeat([]byte("y"), smallMember+1), // past the ratio cap too
		"3 MiB of text":  textLines(rng, 3<<20),
		"9 MiB of text":  textLines(rng, 9<<20), // past bigMember
		"2 MiB of zeros": make([]byte, 2<<20),   // past the ratio cap
	}
}

// textLines is n bytes of lines that deflate about 4:1, as source maps and
// logs do.
func textLines(rng *rand.Rand, n int) []byte {
	var b bytes.Buffer
	for b.Len() < n {
		fmt.Fprintf(&b, "line %d: value=%x\n", b.Len(), rng.Uint64())
	}
	return b.Bytes()[:n]
}

// runStreamer is a worker's streamer in a Run with the default limits.
func runStreamer() *streamer {
	return New(DefaultOptions()).Start(&Collector{}).NewWorker().st
}

func TestInflateZipMatchesArchiveZip(t *testing.T) {
	if raceBuild {
		t.Skip("inflates zips through two readers (14 s under -race): .ci/run runs it without -race")
	}
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
	st := runStreamer()
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
	if raceBuild {
		t.Skip("inflates megabytes through two inflaters (84 s under -race): .ci/run runs it without -race")
	}
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
	// Big ones only as the file itself (depth 0) of a Run: the gate holds
	// slots for them. Those past the ratio cap too: the ratio of a gzip
	// file itself is checked past bigMember (gzipRatioFloor).
	bigOK := map[string]bool{"3 MiB of text": true, "1 MiB + 1": true, "2 MiB of zeros": true}
	ctx := context.Background()
	for name, data := range memberContents() {
		for _, tc := range []struct {
			st    *streamer
			depth int
			big   bool
		}{{runStreamer(), 0, true}, {runStreamer(), 1, false}, {newStreamer(finder{}), 0, false}} {
			file := gz(gzip.Header{Name: "inner.env", Comment: "a comment", Extra: []byte("xx")}, data)
			if tc.depth == 1 {
				file = gz(gzip.Header{}, data)
			}
			content, gotName, release, ok := tc.st.inflateGzip(ctx, section(file), tc.depth)
			want := len(data) <= smallMember && len(file) <= smallMember || tc.big && bigOK[name]
			if ok != want {
				t.Errorf("%s, depth %d, in a run %v: decoded whole %v, want %v", name, tc.depth, tc.st.whole != nil, ok, want)
			}
			if !ok {
				continue
			}
			release()
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
	// Damaged files, small and big, go the streaming way, and a big one
	// gives its slot back.
	st := runStreamer()
	key := []byte("LOFTY_API_KEY=" + keyActive + "\n")
	one := gz(gzip.Header{}, key)
	big := gz(gzip.Header{}, textLines(rand.New(rand.NewPCG(7, 8)), 3<<20))
	for label, file := range map[string][]byte{"small": one, "big": big} {
		badCRC := bytes.Clone(file)
		badCRC[len(badCRC)-8]++
		mid := bytes.Clone(file)
		mid[len(mid)/2] ^= 0x55
		for name, file := range map[string][]byte{
			"two members":      append(bytes.Clone(file), file...),
			"trailing garbage": append(bytes.Clone(file), 0, 0, 0),
			"bad crc":          badCRC,
			"damaged":          mid,
			"truncated":        file[:len(file)-3],
			"not gzip":         key,
		} {
			if _, _, _, ok := st.inflateGzip(ctx, section(file), 0); ok {
				t.Errorf("%s %s: decoded whole", label, name)
			}
		}
	}
	if n := len(st.whole.slots); n != 0 {
		t.Errorf("%d slots held after the damaged files", n)
	}
	if _, _, _, ok := st.inflateGzip(ctx, bytes.NewReader(one), 0); ok {
		t.Error("decoded whole without random access to the file")
	}
}

// bigGzip is a gzip file of about 3 MiB of text (deflating about 4:1),
// with a key in each of its first, middle and last lines.
func bigGzip(t *testing.T, tarred bool) []byte {
	t.Helper()
	body := textLines(rand.New(rand.NewPCG(9, 10)), 3<<20)
	var content bytes.Buffer
	content.WriteString("LOFTY_API_KEY=" + keyN(1) + "\n")
	content.Write(body[:len(body)/2])
	content.WriteString("\nsecret: " + base64.StdEncoding.EncodeToString([]byte("LOFTY_API_KEY="+keyN(2))) + "\n")
	content.Write(body[len(body)/2:])
	content.WriteString("\nLOFTY_API_KEY=" + keyN(3) + "\n")
	data := content.Bytes()
	if tarred {
		var tb bytes.Buffer
		tw := tar.NewWriter(&tb)
		tw.WriteHeader(&tar.Header{Name: "logs/app.log", Mode: 0o644, Size: int64(len(data))})
		tw.Write(data)
		tw.Close()
		data = tb.Bytes()
	}
	return gzipBytes(t, "", data)
}

// TestBigGzipWholeMatchesStream scans big gzip files decoded whole
// (ScanBytes: the blob itself, with random access) and streamed (Scan over
// a reader, which cannot be reread): the same findings, warnings and
// counts.
func TestBigGzipWholeMatchesStream(t *testing.T) {
	t.Parallel()
	for _, tarred := range []bool{false, true} {
		file := bigGzip(t, tarred)
		held, streamed := scanBoth(t, "logs.gz", file)
		if !reflect.DeepEqual(held, streamed) {
			t.Errorf("tar %v: decoded whole\n%+v\nstreamed\n%+v", tarred, held, streamed)
		}
		if len(held.Findings) != 3 {
			t.Errorf("tar %v: %d findings, want 3", tarred, len(held.Findings))
		}
	}
}

// TestBigGzipSlots scans big gzip files with more workers than the Run has
// slots for them: every worker gets its turn (no deadlock, nothing lost),
// whatever the number of workers, and no slot stays taken.
func TestBigGzipSlots(t *testing.T) {
	t.Parallel()
	file := bigGzip(t, false)
	var want []finding.Finding
	for _, workers := range []int{1, 16} {
		opts := testOptions()
		opts.Workers = workers
		c := &Collector{}
		run := New(opts).Start(c)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				wk := run.NewWorker()
				for i := range 3 {
					if err := wk.ScanBytes(context.Background(), fmt.Sprintf("w%02d/%d.gz", w, i), file); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		if got := len(c.Findings); got != 9*workers {
			t.Errorf("%d workers: %d findings, want %d", workers, got, 9*workers)
		}
		if n := len(run.whole.slots); n != 0 {
			t.Errorf("%d workers: %d slots still taken", workers, n)
		}
		got := c.Sorted()[:3]
		for i := range got {
			got[i].Path = ""
		}
		if want == nil {
			want = got
		} else if !reflect.DeepEqual(got, want) {
			t.Errorf("%d workers: findings differ from 1 worker's", workers)
		}
	}
}

// TestBigGzipCompressiblePrefix: a gzip file whose first MiB alone is
// past the ratio cap (3 MiB of zeros) and whose whole is not (text
// follows) is read to its end, decoded whole or streamed (the ratio of a
// gzip file itself is checked past bigMember: a blob is streamed or held
// depending on the number of workers), and the same with any number of
// workers. A bomb is stopped past bigMember either way.
func TestBigGzipCompressiblePrefix(t *testing.T) {
	t.Parallel()
	var content bytes.Buffer
	content.Write(make([]byte, 3<<20))
	content.Write(textLines(rand.New(rand.NewPCG(11, 12)), 2<<20))
	content.WriteString("\nLOFTY_API_KEY=" + keyActive + "\n")
	file := gzipBytes(t, "", content.Bytes())
	for _, workers := range []int{1, 16} {
		opts := testOptions()
		opts.Workers = workers
		c := &Collector{}
		if err := New(opts).Start(c).NewWorker().ScanBytes(context.Background(), "prefix.gz", file); err != nil {
			t.Fatal(err)
		}
		if len(c.Findings) != 1 || len(c.Warnings) != 0 {
			t.Errorf("%d workers, decoded whole: %d findings, warnings %v; want the key and no warning", workers, len(c.Findings), c.Warnings)
		}
	}
	held, streamed := scanBoth(t, "prefix.gz", file)
	if !reflect.DeepEqual(held, streamed) {
		t.Errorf("decoded whole\n%+v\nstreamed\n%+v", held, streamed)
	}
	bomb := gzipBytes(t, "", append([]byte("LOFTY_API_KEY="+keyActive+"\n"), make([]byte, 3*bigMember)...))
	held, streamed = scanBoth(t, "bomb.gz", bomb)
	if !reflect.DeepEqual(held, streamed) || len(held.Findings) != 1 || len(held.Warnings) != 1 || !strings.Contains(held.Warnings[0].Message, "ratio") || held.Bytes > bigMember+chunkSize {
		t.Errorf("a bomb: decoded whole\n%+v\nstreamed\n%+v\nwant the key and the ratio cap's warning past %d bytes", held, streamed, bigMember)
	}
}
