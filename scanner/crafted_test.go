package scanner

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testtool"
)

// Crafted archives, built byte by byte where the archive libraries will not
// write them, and checked against the tools people unpack them with.

// mixedMethodZip is a zip of one entry, a.env, whose local header says
// deflate while the central directory says stored, with the checksum of
// the stored bytes: archive/zip reads the deflate stream as the content,
// unzip inflates it.
func mixedMethodZip(content []byte) []byte {
	var d bytes.Buffer
	fw, _ := flate.NewWriter(&d, flate.BestCompression)
	fw.Write(content)
	fw.Close()
	data, name := d.Bytes(), []byte("a.env")
	var z bytes.Buffer
	put := func(vs ...any) {
		for _, v := range vs {
			binary.Write(&z, binary.LittleEndian, v)
		}
	}
	// Local header: version, flags, method 8, time, date, CRC of the
	// content, sizes, name length, extra length.
	put(uint32(0x04034b50), uint16(20), uint16(0), uint16(8), uint16(0), uint16(0),
		crc32.ChecksumIEEE(content), uint32(len(data)), uint32(len(content)), uint16(len(name)), uint16(0))
	z.Write(name)
	z.Write(data)
	dir := z.Len()
	// Central directory: method 0, the CRC of the raw bytes.
	put(uint32(0x02014b50), uint16(20), uint16(20), uint16(0), uint16(0), uint16(0), uint16(0),
		crc32.ChecksumIEEE(data), uint32(len(data)), uint32(len(data)), uint16(len(name)),
		uint16(0), uint16(0), uint16(0), uint16(0), uint32(0), uint32(0))
	z.Write(name)
	end := z.Len()
	put(uint32(0x06054b50), uint16(0), uint16(0), uint16(1), uint16(1), uint32(end-dir), uint32(dir), uint16(0))
	return z.Bytes()
}

// TestZipMixedMethods: unzip extracts the key of a zip whose two headers
// disagree on the compression; the scan finds it too, in a file, on a
// stream and inside another zip, and warns about the entry.
func TestZipMixedMethods(t *testing.T) {
	t.Parallel()
	content := []byte("LOFTY_API_KEY=" + keyActive + "\n")
	mixed := mixedMethodZip(content)
	dir := t.TempDir()
	p := writeFixture(t, dir, "mixed.zip", mixed)

	// The real tool: unzip extracts the key.
	unzip := testtool.Need(t, "unzip")
	out := filepath.Join(t.TempDir(), "out")
	if msg, err := exec.Command(unzip, "-o", "-d", out, p).CombinedOutput(); err != nil {
		t.Fatalf("unzip: %v\n%s", err, msg)
	}
	if got, err := os.ReadFile(filepath.Join(out, "a.env")); err != nil || !bytes.Equal(got, content) {
		t.Fatalf("unzip extracted %q (%v); want the key", got, err)
	}

	file, _ := scanPaths(t, testOptions(), p)
	stream, _ := scanData(t, testOptions(), mixed)
	nested, _ := scanData(t, testOptions(), zipBytes(t, entry{Name: "inner.zip", Data: mixed, Store: true}))
	for name, c := range map[string]*Collector{"file": file, "stream": stream, "nested": nested} {
		if len(c.Findings) != 1 || c.Findings[0].Secret != keyActive {
			t.Errorf("%s: findings %v; want the key unzip extracts", name, c.Findings)
		}
		if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].Message, "local header says deflate, its central directory stored") {
			t.Errorf("%s: warnings %v; want one about the entry's two methods", name, c.Warnings)
		}
	}
}

// TestGzipBadHeaderOnStreams: bytes that start with gzip's magic but have
// no gzip header after it are scanned as plain bytes, with a warning, on
// standard input and in a zip entry as in a file.
func TestGzipBadHeaderOnStreams(t *testing.T) {
	t.Parallel()
	bad := append([]byte{0x1f, 0x8b, 'Z', 'Z', 'Z', 'Z', '\n'}, "LOFTY_API_KEY="+keyActive+"\n"...)
	p := writeFixture(t, t.TempDir(), "x.gz", bad)
	file, _ := scanPaths(t, testOptions(), p)
	stream, _ := scanData(t, testOptions(), bad)
	inZip, _ := scanData(t, testOptions(), zipBytes(t, entry{Name: "x.gz", Data: bad}))
	for name, c := range map[string]*Collector{"file": file, "stdin": stream, "zip entry": inZip} {
		if len(c.Findings) != 1 || c.Findings[0].Line != 2 {
			t.Errorf("%s: findings %v; want the key on line 2", name, c.Findings)
		}
		if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].Message, "not a readable gzip file") || !strings.Contains(c.Warnings[0].Message, "scanned as plain bytes") {
			t.Errorf("%s: warnings %v", name, c.Warnings)
		}
	}
}

// TestZipOnStreamHeldOnDisk scans a 96 MiB zip from a stream (as standard
// input, or a big git blob): zip needs random access, and past holdMem the
// archive is held in a temporary file, not in memory. The key in its last
// entry is found.
func TestZipOnStreamHeldOnDisk(t *testing.T) {
	big := make([]byte, 96<<20)
	data := zipBytes(t, entry{Name: "zeros.bin", Data: big, Store: true}, entry{Name: "late.env", Data: []byte("LOFTY_API_KEY=" + keyActive + "\n")})
	big = nil
	var c *Collector
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c, _ = scanData(t, testOptions(), data)
	runtime.ReadMemStats(&after)
	if len(c.Findings) != 1 || c.Findings[0].Path != "in!late.env" || len(c.Warnings) != 0 {
		t.Errorf("findings %v, warnings %v; want the key in late.env", c.Findings, c.Warnings)
	}
	mem := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %.1f MiB", float64(mem)/(1<<20))
	if mem > 48<<20 {
		t.Errorf("allocated %d MiB to hold a 96 MiB zip", mem>>20)
	}
}

// TestCapsAtTheirLargest sets every archive cap to the largest value its
// type holds: no count overflows, and a key in a zip nested in a zip read
// from a stream is still found.
func TestCapsAtTheirLargest(t *testing.T) {
	t.Parallel()
	o := testOptions()
	o.Limits = Limits{ArchiveDepth: 3, EntryBytes: math.MaxInt64, TotalBytes: math.MaxInt64, Ratio: math.MaxInt64, Entries: math.MaxInt}
	inner := zipBytes(t, entry{Name: "deep.env", Data: []byte("LOFTY_API_KEY=" + keyActive + "\n")})
	c, _ := scanData(t, o, zipBytes(t, entry{Name: "inner.zip", Data: inner}))
	if len(c.Findings) != 1 || c.Findings[0].Path != "in!inner.zip!deep.env" || len(c.Warnings) != 0 {
		t.Errorf("findings %v, warnings %v; want the key in the nested zip", c.Findings, c.Warnings)
	}
}

// TestZipHeldShared: a 6 MiB zip inside another is held in memory by one
// of 2 workers (8 MiB each), but by one of 64 only up to its share of what
// all may hold (1 MiB), the rest in a temporary file; the key in its last
// entry is found either way.
func TestZipHeldShared(t *testing.T) {
	if got := holdShare(64) * 64; got > holdBudget {
		t.Errorf("64 workers hold %d bytes of archives, over %d", got, holdBudget)
	}
	noise := make([]byte, 6<<20) // incompressible, within the ratio cap
	rand.NewChaCha8([32]byte{1}).Read(noise)
	inner := zipBytes(t, entry{Name: "noise.bin", Data: noise, Store: true}, entry{Name: "late.env", Data: []byte("LOFTY_API_KEY=" + keyActive + "\n")})
	data := zipBytes(t, entry{Name: "inner.zip", Data: inner})
	for _, workers := range []int{2, 64} {
		o := testOptions()
		o.Workers = workers
		var c *Collector
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		c, _ = scanData(t, o, data)
		runtime.ReadMemStats(&after)
		if len(c.Findings) != 1 || c.Findings[0].Path != "in!inner.zip!late.env" || len(c.Warnings) != 0 {
			t.Errorf("%d workers: findings %v, warnings %v; want the key in late.env", workers, c.Findings, c.Warnings)
		}
		mem := after.TotalAlloc - before.TotalAlloc
		t.Logf("%d workers: allocated %.1f MiB", workers, float64(mem)/(1<<20))
		if workers == 64 && mem > 12<<20 { // held whole, the zip takes twice that
			t.Errorf("one of 64 workers allocated %d MiB to hold a 6 MiB zip", mem>>20)
		}
	}
}
