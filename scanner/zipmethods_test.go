package scanner

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz/lzma"
)

// sevenZip writes a zip of one file, k.env holding data, with 7-Zip's
// method m (LZMA, XZ: 7-Zip writes both into zips).
func sevenZip(t *testing.T, m string, data []byte) []byte {
	t.Helper()
	dir := t.TempDir()
	writeFixture(t, dir, "k.env", data)
	cmd := exec.Command(tool(t, "7zz"), "a", "-bso0", "-tzip", "-mm="+m, "out.zip", "k.env")
	cmd.Dir = dir
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("7zz -mm=%s: %v\n%s", m, err, msg)
	}
	out, err := os.ReadFile(filepath.Join(dir, "out.zip"))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// zipMethod is one entry of a zip written with zipWith.
type zipMethod struct {
	name   string
	method uint16
	flags  uint16
	data   []byte
	comp   func(io.Writer) (io.WriteCloser, error)
}

// zipWith writes a zip whose entries use methods archive/zip cannot
// write, with the compressors given (real ones: klauspost's zstd encoder,
// ulikunitz's LZMA encoder).
func zipWith(t *testing.T, es ...zipMethod) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range es {
		zw.RegisterCompressor(e.method, e.comp)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: e.method, Flags: e.flags})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstdComp(w io.Writer) (io.WriteCloser, error) { return zstd.NewWriter(w) }

// lzmaComp writes an entry as zip's LZMA method lays it out: version,
// properties' size, properties, then the stream without the .lzma header.
// eos writes the end marker; dict, when not zero, replaces the dictionary
// size the properties claim.
func lzmaComp(eos bool, dict uint32) func(io.Writer) (io.WriteCloser, error) {
	return func(w io.Writer) (io.WriteCloser, error) {
		return &lzmaEntry{w: w, eos: eos, dict: dict}, nil
	}
}

type lzmaEntry struct {
	w    io.Writer
	eos  bool
	dict uint32
	data bytes.Buffer
}

func (l *lzmaEntry) Write(p []byte) (int, error) { return l.data.Write(p) }

func (l *lzmaEntry) Close() error {
	var out bytes.Buffer
	lw, err := lzma.WriterConfig{EOSMarker: l.eos, SizeInHeader: !l.eos, Size: int64(l.data.Len())}.NewWriter(&out)
	if err != nil {
		return err
	}
	if _, err := lw.Write(l.data.Bytes()); err != nil {
		return err
	}
	if err := lw.Close(); err != nil {
		return err
	}
	b := out.Bytes()
	head := []byte{16, 2, 5, 0, b[0], b[1], b[2], b[3], b[4]}
	if l.dict != 0 {
		binary.LittleEndian.PutUint32(head[5:], l.dict)
	}
	_, err = l.w.Write(append(head, b[lzma.HeaderLen:]...))
	return err
}

// Zip entries compressed with LZMA (7-Zip, Python's ZIP_LZMA), xz (7-Zip)
// and zstd (Python 3.14's ZIP_ZSTANDARD, 7-Zip's forks) were named in a
// warning and left unread: a key in one was missed.
func TestZipMethods(t *testing.T) {
	t.Parallel()
	env := []byte("# crm\nLOFTY_API_KEY=" + keyActive + "\n" + string(bytes.Repeat([]byte("filler line of text\n"), 500)))
	found := func(p string) []wantFinding {
		return []wantFinding{{Path: p, Line: 2, Column: 15, Token: keyActive}}
	}
	runArchiveCases(t, []archiveCase{
		{name: "7-Zip LZMA", file: "l.zip", content: sevenZip(t, "LZMA", env), want: found("l.zip!k.env"), files: 1},
		{name: "7-Zip XZ", file: "x.zip", content: sevenZip(t, "XZ", env), want: found("x.zip!k.env"), files: 1},
		{name: "zstd", file: "z.zip", content: zipWith(t, zipMethod{"k.env", zipZstd, 0, env, zstdComp}), want: found("z.zip!k.env"), files: 1},
		{name: "LZMA with its size, no end marker", file: "s.zip", content: zipWith(t, zipMethod{"k.env", zipLZMA, 0, env, lzmaComp(false, 0)}),
			want: found("s.zip!k.env"), files: 1},
		// A header that claims a 4 GiB dictionary for an entry of 10 KB
		// needs 10 KB: no match reaches further back than the start.
		{name: "LZMA claiming 4 GiB, sized", file: "c.zip", content: zipWith(t, zipMethod{"k.env", zipLZMA, 0, env, lzmaComp(false, 1<<32-1)}),
			want: found("c.zip!k.env"), files: 1},
		// With an end marker the stream's header gives no size, but zip
		// records one, past which archive/zip reads nothing.
		{name: "LZMA claiming 4 GiB, end marker", file: "u.zip", content: zipWith(t,
			zipMethod{"a.env", zipLZMA, zipLZMAEOS, env, lzmaComp(true, 1<<32-1)},
			zipMethod{"b.env", zipLZMA, zipLZMAEOS, env, lzmaComp(true, 0)}),
			want: append(found("u.zip!a.env"), found("u.zip!b.env")...), files: 2},
	})
}

// The LZMA decoder allocates its dictionary whole, zeroed, when opened,
// and an entry's properties claim its size: a 226 KB zip of 2,000 entries
// of 29 bytes, each claiming a 128 MiB dictionary and 128 MiB of data,
// took 33 s of CPU clearing memory. The dictionary is now bounded by what
// the entry's compressed size (no more than the bytes the archive holds
// after it) can decode to under the ratio cap, and a zip's dictionaries
// together by its size; a key in an entry after them is still found. Measured in bytes allocated, not
// time (not parallel: the count is the process's).
func TestZipLZMADictionaryBomb(t *testing.T) {
	const entries = 2000
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range entries {
		data := []byte{16, 2, 5, 0, 0x5d, 0, 0, 0, 0}
		binary.LittleEndian.PutUint32(data[5:], maxWindow)
		data = append(data, make([]byte, 20)...)
		// Half of them record a compressed size far past the archive's
		// end (red-team: the dictionary bound trusted it).
		comp := uint64(len(data))
		if i%2 == 1 {
			comp = 700000
		}
		w, err := zw.CreateRaw(&zip.FileHeader{Name: fmt.Sprintf("e%d", i), Method: zipLZMA,
			UncompressedSize64: maxWindow, CompressedSize64: comp})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	zw.RegisterCompressor(zipLZMA, lzmaComp(true, 0))
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "k.env", Method: zipLZMA, Flags: zipLZMAEOS})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("LOFTY_API_KEY=" + keyActive + "\n"))
	zw.Close()

	p := writeFixture(t, t.TempDir(), "bomb.zip", buf.Bytes())
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	c, _ := scanPaths(t, testOptions(), p)
	runtime.ReadMemStats(&after)
	checkFound(t, c.Findings, wantFinding{Path: "bomb.zip!k.env", Line: 1, Column: 15, Token: keyActive})
	if len(c.Warnings) != entries {
		t.Errorf("%d warnings, want one for each of the %d damaged entries", len(c.Warnings), entries)
	}
	// The zip's budget of dictionaries (lzmaBudget: 256 MiB and 256 bytes
	// a byte of the zip), and what reading an entry takes anyway; 128 MiB
	// each before.
	if got := after.TotalAlloc - before.TotalAlloc; got > 600<<20 {
		t.Errorf("allocated %d MiB for %d entries, want at most 600 MiB", got>>20, entries)
	} else {
		t.Logf("allocated %d MiB", got>>20)
	}
}
