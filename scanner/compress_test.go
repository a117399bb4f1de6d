package scanner

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"github.com/ulikunitz/xz"
	"hash/crc32"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/finding"

	"github.com/loftyscan/loftyscan/internal/testtool"
)

// The compressors are tested on files their real tools write: bzip2, xz,
// zstd and GNU tar from Debian (.ci/run installs them), and, for the
// formats that are recognised but not opened, 7zz, lz4, lzip, compress and
// gcab.

// tool returns the path of a tool the tests run. A missing one skips the
// test with the package to install, as plain `go test ./...` promises, and
// fails it under LOFTYSCAN_REQUIRE_TOOLS=1 (scripts/test.sh, CI), so a
// skip never hides a check there.
func tool(tb testing.TB, name string) string {
	tb.Helper()
	return testtool.Need(tb, name)
}

// tarCompressor is the program GNU tar runs for each compression flag.
var tarCompressor = map[string]string{"--zstd": "zstd", "-J": "xz", "-j": "bzip2", "-z": "gzip", "-Ilz4": "lz4"}

// compressWith runs a compressor as a filter: in on its standard input, its
// standard output returned.
func compressWith(tb testing.TB, in io.Reader, name string, args ...string) []byte {
	tb.Helper()
	cmd := exec.Command(tool(tb, name), args...)
	cmd.Stdin = in
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out.Bytes()
}

func bzip2Of(tb testing.TB, data []byte) []byte {
	return compressWith(tb, bytes.NewReader(data), "bzip2", "-c")
}

func xzOf(tb testing.TB, data []byte) []byte {
	return compressWith(tb, bytes.NewReader(data), "xz", "-c", "-T1")
}

func zstdOf(tb testing.TB, data []byte) []byte {
	return compressWith(tb, bytes.NewReader(data), "zstd", "-c", "-q")
}

func lz4Of(tb testing.TB, data []byte, args ...string) []byte {
	return compressWith(tb, bytes.NewReader(data), "lz4", append([]string{"-c", "-q"}, args...)...)
}

// mozLz4Of writes data as Firefox writes a .jsonlz4 file: its magic, the
// text's size, and one LZ4 block, the block the lz4 tool writes in its
// legacy format (whose first block follows its 4-byte magic and the block's
// 4-byte size).
func mozLz4Of(tb testing.TB, data []byte) []byte {
	tb.Helper()
	legacy := lz4Of(tb, data, "-l")
	if len(data) >= 8<<20 || len(legacy) < 8 {
		tb.Fatalf("mozLz4Of: %d bytes make more than one legacy block", len(data))
	}
	out := binary.LittleEndian.AppendUint32([]byte(mozLz4Magic), uint32(len(data)))
	return append(out, legacy[8:]...)
}

// tarWith writes the entries to a folder and archives them with GNU tar
// and a compression flag (-j, -J, --zstd).
func tarWith(tb testing.TB, flag string, es ...entry) []byte {
	tb.Helper()
	dir := tb.TempDir()
	names := []string{}
	for _, e := range es {
		writeFixture(tb, filepath.Join(dir, "in"), e.Name, e.Data)
		names = append(names, e.Name)
	}
	out := filepath.Join(dir, "out")
	if c, ok := tarCompressor[flag]; ok {
		tool(tb, c)
	}
	cmd := exec.Command(tool(tb, "tar"), append([]string{"-c", flag, "-f", out, "-C", filepath.Join(dir, "in")}, names...)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("tar %s: %v\n%s", flag, err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// zeros streams n zero bytes after text: a bomb's content, never held.
func zeros(text []byte, n int64) io.Reader {
	return io.MultiReader(bytes.NewReader(text), io.LimitReader(zeroReader{}, n))
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestCompressors(t *testing.T) {
	t.Parallel()
	env := []byte("# crm\nLOFTY_API_KEY=" + keyActive + "\n")
	yaml := []byte("lofty:\n  token: " + keyExpired + "\n")
	plain := []byte("nothing to see\n")

	tarZst := tarWith(t, "--zstd", entry{Name: "app/a.env", Data: env}, entry{Name: "app/readme", Data: plain})
	zipOfTarZst := zipBytes(t, entry{Name: "x/c.tar.zst", Data: tarZst}, entry{Name: "top.yaml", Data: yaml})
	tarXzOfZst := tarWith(t, "-J", entry{Name: "dir/e.env.zst", Data: zstdOf(t, env)})
	// Two zstd frames, two bzip2 streams, two xz streams with stream
	// padding between them: the key is in the second, on line 4.
	twoZst := append(zstdOf(t, plain), zstdOf(t, append([]byte("x\n"), env...))...)
	twoBz2 := append(bzip2Of(t, plain), bzip2Of(t, append([]byte("x\n"), env...))...)
	twoXz := append(append(xzOf(t, plain), 0, 0, 0, 0), xzOf(t, append([]byte("x\n"), env...))...)
	// xz writing blocks of 4 KiB in two threads: the key in the third block.
	long := append(bytes.Repeat([]byte("filler line\n"), 1000), env...)
	blocks := compressWith(t, bytes.NewReader(long), "xz", "-c", "-T2", "--block-size=4KiB")
	zeroDepth := func(l *Limits) { l.ArchiveDepth = 1 }

	runArchiveCases(t, []archiveCase{
		{name: "bzip2", file: "a.env.bz2", content: bzip2Of(t, env),
			want: []wantFinding{{Path: "a.env.bz2!a.env", Line: 2, Column: 15, Token: keyActive}}, files: 1},
		{name: "xz", file: "a.env.xz", content: xzOf(t, env),
			want: []wantFinding{{Path: "a.env.xz!a.env", Line: 2, Column: 15, Token: keyActive}}, files: 1},
		{name: "zstd", file: "a.env.zst", content: zstdOf(t, env),
			want: []wantFinding{{Path: "a.env.zst!a.env", Line: 2, Column: 15, Token: keyActive}}, files: 1},
		{name: "tar.bz2", file: "b.tar.bz2", content: tarWith(t, "-j", entry{Name: "etc/s.yaml", Data: yaml}),
			want: []wantFinding{{Path: "b.tar.bz2!etc/s.yaml", Line: 2, Column: 10, Token: keyExpired}}, files: 1},
		{name: "tar.xz", file: "b.tar.xz", content: tarWith(t, "-J", entry{Name: "etc/s.yaml", Data: yaml}),
			want: []wantFinding{{Path: "b.tar.xz!etc/s.yaml", Line: 2, Column: 10, Token: keyExpired}}, files: 1},
		{name: "tar.zst", file: "b.tar.zst", content: tarZst,
			want: []wantFinding{{Path: "b.tar.zst!app/a.env", Line: 2, Column: 15, Token: keyActive}}, files: 2},
		{name: "tbz2", file: "c.tbz2", content: tarWith(t, "-j", entry{Name: "s.yaml", Data: yaml}),
			want: []wantFinding{{Path: "c.tbz2!s.yaml", Line: 2, Column: 10, Token: keyExpired}}, files: 1},
		{name: "txz", file: "c.txz", content: tarWith(t, "-J", entry{Name: "s.yaml", Data: yaml}),
			want: []wantFinding{{Path: "c.txz!s.yaml", Line: 2, Column: 10, Token: keyExpired}}, files: 1},
		{name: "tzst", file: "c.tzst", content: tarZst,
			want: []wantFinding{{Path: "c.tzst!app/a.env", Line: 2, Column: 15, Token: keyActive}}, files: 2},
		// Detected by the magic bytes, whatever the name.
		{name: "zstd with no suffix", file: "blob", content: zstdOf(t, env),
			want: []wantFinding{{Path: "blob!blob", Line: 2, Column: 15, Token: keyActive}}, files: 1},
		{name: "xz named .txt", file: "notes.txt", content: xzOf(t, yaml),
			want: []wantFinding{{Path: "notes.txt!notes.txt", Line: 2, Column: 10, Token: keyExpired}}, files: 1},
		{name: "bzip2 tar named .dat", file: "d.dat", content: tarWith(t, "-j", entry{Name: "k.env", Data: env}),
			want: []wantFinding{{Path: "d.dat!k.env", Line: 2, Column: 15, Token: keyActive}}, files: 1},
		{name: "tar.zst in a zip", file: "b.zip", content: zipOfTarZst,
			want: []wantFinding{
				{Path: "b.zip!x/c.tar.zst!app/a.env", Line: 2, Column: 15, Token: keyActive},
				{Path: "b.zip!top.yaml", Line: 2, Column: 10, Token: keyExpired},
			}, files: 3},
		{name: "zst in a tar.xz", file: "d.tar.xz", content: tarXzOfZst,
			want: []wantFinding{{Path: "d.tar.xz!dir/e.env.zst!e.env", Line: 2, Column: 15, Token: keyActive}}, files: 1},
		{name: "zst in xz in bz2", file: "n.bz2", content: bzip2Of(t, xzOf(t, zstdOf(t, env))),
			want: []wantFinding{{Path: "n.bz2!n!n!n", Line: 2, Column: 15, Token: keyActive}}, files: 1},
		{name: "two zstd frames", file: "two.zst", content: twoZst,
			want: []wantFinding{{Path: "two.zst!two", Line: 4, Column: 15, Token: keyActive}}, files: 1},
		{name: "two bzip2 streams", file: "two.bz2", content: twoBz2,
			want: []wantFinding{{Path: "two.bz2!two", Line: 4, Column: 15, Token: keyActive}}, files: 1},
		{name: "two xz streams and padding", file: "two.xz", content: twoXz,
			want: []wantFinding{{Path: "two.xz!two", Line: 4, Column: 15, Token: keyActive}}, files: 1},
		{name: "xz in blocks", file: "blocks.xz", content: blocks,
			want: []wantFinding{{Path: "blocks.xz!blocks", Line: 1002, Column: 15, Token: keyActive}}, files: 1},
		{name: "zip entry compressed with bzip2", file: "z.zip", content: compressWith(t, bytes.NewReader(env), "zip", "-q", "-Z", "bzip2", "-", "-"),
			want: []wantFinding{{Path: "z.zip!-", Line: 2, Column: 15, Token: keyActive}}, files: 1},
		{name: "lz4", file: "a.env.lz4", content: lz4Of(t, env),
			want: []wantFinding{{Path: "a.env.lz4!a.env", Line: 2, Column: 15, Token: keyActive}}, files: 1},
		{name: "lz4 legacy format", file: "a.env.lz4", content: lz4Of(t, env, "-l"),
			want: []wantFinding{{Path: "a.env.lz4!a.env", Line: 2, Column: 15, Token: keyActive}}, files: 1},
		{name: "lz4 in dependent 64 KiB blocks, with checksums", file: "blocks.lz4", content: lz4Of(t, long, "-B4", "-BD", "-BX", "--content-size"),
			want: []wantFinding{{Path: "blocks.lz4!blocks", Line: 1002, Column: 15, Token: keyActive}}, files: 1},
		{name: "two lz4 frames", file: "two.lz4", content: append(lz4Of(t, plain), lz4Of(t, append([]byte("x\n"), env...))...),
			want: []wantFinding{{Path: "two.lz4!two", Line: 4, Column: 15, Token: keyActive}}, files: 1},
		{name: "lz4 after a skippable frame", file: "s.lz4", content: append([]byte{0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'a', 'b', 'c'}, lz4Of(t, env)...),
			want: []wantFinding{{Path: "s.lz4!s", Line: 2, Column: 15, Token: keyActive}}, files: 1},
		{name: "tar.lz4", file: "b.tar.lz4", content: tarWith(t, "-Ilz4", entry{Name: "etc/s.yaml", Data: yaml}),
			want: []wantFinding{{Path: "b.tar.lz4!etc/s.yaml", Line: 2, Column: 10, Token: keyExpired}}, files: 1},
		{name: "lz4 in a zip", file: "z.zip", content: zipBytes(t, entry{Name: "in/a.lz4", Data: lz4Of(t, env)}),
			want: []wantFinding{{Path: "z.zip!in/a.lz4!a", Line: 2, Column: 15, Token: keyActive}}, files: 1},
		// Firefox's session store and its backups.
		{name: "mozLz4", file: "sessionstore.jsonlz4", content: mozLz4Of(t, env),
			want: []wantFinding{{Path: "sessionstore.jsonlz4!sessionstore.json", Line: 2, Column: 15, Token: keyActive}}, files: 1},
		{name: "mozLz4 backup", file: "recovery.baklz4", content: mozLz4Of(t, long),
			want: []wantFinding{{Path: "recovery.baklz4!recovery", Line: 1002, Column: 15, Token: keyActive}}, files: 1},
		{name: "empty lz4", file: "e.lz4", content: lz4Of(t, nil), files: 1},
		{name: "empty bzip2", file: "e.bz2", content: bzip2Of(t, nil), files: 1},
		{name: "empty xz", file: "e.xz", content: xzOf(t, nil), files: 1},
		{name: "empty zstd", file: "e.zst", content: zstdOf(t, nil), files: 1},
		{name: "depth 1 opens the zip only", file: "b.zip", content: zipOfTarZst, limits: zeroDepth,
			want:     []wantFinding{{Path: "b.zip!top.yaml", Line: 2, Column: 10, Token: keyExpired}},
			warnings: []wantWarning{{"b.zip!x/c.tar.zst", "zstd archive nested more than 1 levels deep"}},
			files:    2},
	})
}

// TestXzChecksAndPresets reads xz files written with every kind of check
// and the presets' dictionary sizes, up to xz -9's 64 MiB.
func TestXzChecksAndPresets(t *testing.T) {
	t.Parallel()
	env := []byte("# crm\nLOFTY_API_KEY=" + keyActive + "\n")
	var cases []archiveCase
	for _, args := range [][]string{
		{"--check=none"}, {"--check=crc32"}, {"--check=crc64"}, {"--check=sha256"},
		{"-0"}, {"-6e"}, {"-9"}, {"--lzma2=dict=4KiB"},
	} {
		data := compressWith(t, bytes.NewReader(env), "xz", append([]string{"-c", "-T1"}, args...)...)
		cases = append(cases, archiveCase{name: strings.Join(args, " "), file: "k.xz", content: data,
			want: []wantFinding{{Path: "k.xz!k", Line: 2, Column: 15, Token: keyActive}}, files: 1})
	}
	runArchiveCases(t, cases)
}

// TestCompressorLimits checks that a bomb in each format stops at the caps
// with a warning naming the file, and that what came before is scanned.
func TestCompressorLimits(t *testing.T) {
	t.Parallel()
	env := []byte("LOFTY_API_KEY=" + keyActive + "\n")
	mib := func(i int) entry { // 1 MiB of text starting with a key
		return entry{Name: strconv.Itoa(i), Data: append([]byte("k"+strings.Repeat("x", i)+"="+keyN(i)+"\n"), bytes.Repeat([]byte("filler text\n"), 1<<20/12)...)}
	}
	formats := []struct {
		name, suffix, tarFlag string
		args                  []string
	}{
		{"bzip2", ".bz2", "-j", []string{"-c"}},
		{"xz", ".xz", "-J", []string{"-c", "-T1", "-0"}},
		{"zstd", ".zst", "--zstd", []string{"-c", "-q"}},
		{"lz4", ".lz4", "-Ilz4", []string{"-c", "-q"}},
	}
	var cases []archiveCase
	for _, f := range formats {
		bomb := compressWith(t, zeros(env, 16<<20), f.name, f.args...)
		file := "bomb" + f.suffix
		inner := file + "!bomb"
		found := []wantFinding{{Path: inner, Line: 1, Column: 15, Token: keyActive}}
		cases = append(cases,
			archiveCase{name: f.name + " entry cap", file: file, content: bomb,
				limits:   func(l *Limits) { l.EntryBytes, l.Ratio = 4<<20, 0 },
				want:     found,
				warnings: []wantWarning{{inner, "decompresses past the 4.0 MiB cap per entry"}},
				files:    1, errs: 1},
			archiveCase{name: f.name + " ratio cap", file: file, content: bomb,
				limits:   func(l *Limits) { l.Ratio = 50 },
				want:     found,
				warnings: []wantWarning{{inner, "compression ratio above 50:1"}},
				files:    1, errs: 1},
			archiveCase{name: f.name + " default caps", file: file, content: bomb,
				want:     found,
				warnings: []wantWarning{{inner, "compression ratio above 200:1"}},
				files:    1, errs: 1},
			archiveCase{name: f.name + " total cap", file: "t.tar" + f.suffix,
				content: tarWith(t, f.tarFlag, mib(1), mib(2), mib(3), mib(4)),
				limits:  func(l *Limits) { l.TotalBytes, l.Ratio = 5<<19, 0 }, // the filler compresses past 200:1
				want: []wantFinding{
					{Path: "t.tar" + f.suffix + "!1", Line: 1, Column: 4, Token: keyN(1)},
					{Path: "t.tar" + f.suffix + "!2", Line: 1, Column: 5, Token: keyN(2)},
					{Path: "t.tar" + f.suffix + "!3", Line: 1, Column: 6, Token: keyN(3)},
				},
				warnings: []wantWarning{{"t.tar" + f.suffix + "!3", "total cap per file"}},
				files:    3, errs: 1},
		)
	}
	runArchiveCases(t, cases)
}

// TestCompressedBombs2GiB is the caps at full scale, with the default
// limits: each file claims 2 GiB of zeros after a key (256 streams of 8 MiB
// each, which every format allows one after another), in a few KB. The
// ratio cap stops each a little past the first MiB; with the ratio cap off,
// the entry cap stops it at 256 MiB.
func TestCompressedBombs2GiB(t *testing.T) {
	t.Parallel()
	env := []byte("LOFTY_API_KEY=" + keyActive + "\n")
	formats := []struct {
		name, suffix string
		args         []string
	}{
		{"bzip2", ".bz2", []string{"-c", "-9"}},
		{"xz", ".xz", []string{"-c", "-T1", "-0"}},
		{"zstd", ".zst", []string{"-c", "-q", "-19"}},
		{"lz4", ".lz4", []string{"-c", "-q", "-9"}},
	}
	var cases []archiveCase
	for _, f := range formats {
		first := compressWith(t, zeros(env, 8<<20-int64(len(env))), f.name, f.args...)
		rest := compressWith(t, zeros(nil, 8<<20), f.name, f.args...)
		bomb := append(first, bytes.Repeat(rest, 255)...)
		file := "bomb" + f.suffix
		cases = append(cases, archiveCase{name: f.name, file: file, content: bomb,
			want:     []wantFinding{{Path: file + "!bomb", Line: 1, Column: 15, Token: keyActive}},
			warnings: []wantWarning{{file + "!bomb", "compression ratio above 200:1"}},
			files:    1, errs: 1})
		if !raceBuild && !testing.Short() { // 256 MiB of decompression: seconds, ten times that under -race
			cases = append(cases, archiveCase{name: f.name + " without the ratio cap", file: file, content: bomb,
				limits:   func(l *Limits) { l.Ratio = 0 },
				want:     []wantFinding{{Path: file + "!bomb", Line: 1, Column: 15, Token: keyActive}},
				warnings: []wantWarning{{file + "!bomb", "decompresses past the 256.0 MiB cap per entry"}},
				files:    1, errs: 1})
		}
	}
	runArchiveCases(t, cases)
}

// xzBlockOffsets returns where each block of an xz file starts, as
// xz --robot --list -vv reports it.
func xzBlockOffsets(tb testing.TB, data []byte) []int {
	tb.Helper()
	p := writeFixture(tb, tb.TempDir(), "f.xz", data)
	out, err := exec.Command(tool(tb, "xz"), "--robot", "--list", "-vv", p).Output()
	if err != nil {
		tb.Fatalf("xz --list: %v", err)
	}
	var offs []int
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Split(line, "\t"); f[0] == "block" && len(f) > 4 {
			n, err := strconv.Atoi(f[4])
			if err != nil {
				tb.Fatalf("xz --list block line %q", line)
			}
			offs = append(offs, n)
		}
	}
	return offs
}

// withXzDict returns a copy of an xz file whose block at offset at claims
// dictionary size code (40: 4 GiB - 1), the header's CRC32 made right, so
// that only the size is wrong.
func withXzDict(tb testing.TB, data []byte, at int, code byte) []byte {
	tb.Helper()
	out := bytes.Clone(data)
	h := out[at:]
	size := (int(h[0]) + 1) * 4
	i := 2
	for _, bit := range []byte{0x40, 0x80} { // skip the optional sizes
		if h[1]&bit != 0 {
			for h[i]&0x80 != 0 {
				i++
			}
			i++
		}
	}
	if h[i] != 0x21 || h[i+1] != 1 {
		tb.Fatalf("block at %d: no LZMA2 filter where expected: % x", at, h[:size])
	}
	h[i+2] = code
	binary.LittleEndian.PutUint32(h[size-4:], crc32.ChecksumIEEE(h[:size-4]))
	return out
}

// zstdWithWindow returns a zstd frame written by zstd from standard input
// (no content size, a window descriptor) with its window set to 2^wlog.
func zstdWithWindow(tb testing.TB, data []byte, wlog int) []byte {
	tb.Helper()
	out := zstdOf(tb, data)
	if out[4]&0x20 != 0 {
		tb.Fatalf("zstd wrote a single-segment frame")
	}
	out[5] = byte(wlog-10) << 3
	return out
}

// zstdClaimingSize returns a single-segment zstd frame (whose window is its
// content size) that claims 1 TiB of content.
func zstdClaimingSize(tb testing.TB, data []byte) []byte {
	tb.Helper()
	p := writeFixture(tb, tb.TempDir(), "in", data)
	frame, err := exec.Command(tool(tb, "zstd"), "-q", "-c", p).Output()
	if err != nil {
		tb.Fatal(err)
	}
	fhd := frame[4]
	if fhd&0x23 != 0x20 { // single segment, no dictionary
		tb.Fatalf("zstd wrote frame header % x, want single segment", frame[:6])
	}
	out := append(bytes.Clone(frame[:4]), 0xe0|fhd&0x0f) // 8-byte content size
	out = binary.LittleEndian.AppendUint64(out, 1<<40)
	return append(out, frame[5+[4]int{1, 2, 4, 8}[fhd>>6]:]...)
}

// craftedWindows are files whose headers claim more decoding memory than
// maxWindow, each with its expected finding and warning. The xz blocks
// and zstd frames that claim it hold more than the lookahead: a smaller
// one gets the window its data can use (TestXzDictionaryShrunk,
// TestZstdWindowShrunk).
func craftedWindows(t *testing.T) []archiveCase {
	env := []byte("LOFTY_API_KEY=" + keyActive + "\n")
	big := binaryBytes(14, zstdLookahead+zstdLookahead/4)
	one := compressWith(t, bytes.NewReader(binaryBytes(11, xzLookahead+xzLookahead/4)), "xz", "-c", "-T1", "-0")
	long := append(append([]byte(nil), env...), bytes.Repeat([]byte("filler line\n"), 1000)...)
	long = append(long, binaryBytes(12, xzLookahead+xzLookahead/4)...)
	blocks := compressWith(t, bytes.NewReader(long), "xz", "-c", "-T1", "-0", "--block-list=4KiB,4KiB,4MiB")
	offs := xzBlockOffsets(t, blocks)
	if len(offs) < 3 {
		t.Fatalf("xz wrote %d blocks, want 3 or more", len(offs))
	}
	plainBytes := "scanned as plain bytes"
	return []archiveCase{
		{name: "xz block claiming 4 GiB", file: "big.xz", content: withXzDict(t, one, xzBlockOffsets(t, one)[0], 40),
			warnings: []wantWarning{{"big.xz", "xz block needs a window of 4.0 GiB, more than the 128.0 MiB"}}, files: 1, errs: 1},
		{name: "xz block claiming 192 MiB", file: "big.xz", content: withXzDict(t, one, xzBlockOffsets(t, one)[0], 31),
			warnings: []wantWarning{{"big.xz", "xz block needs a window of 192.0 MiB"}}, files: 1, errs: 1},
		{name: "third xz block claiming 1.5 GiB", file: "m.xz", content: withXzDict(t, blocks, offs[2], 37),
			want:     []wantFinding{{Path: "m.xz!m", Line: 1, Column: 15, Token: keyActive}},
			warnings: []wantWarning{{"m.xz!m", "corrupt xz data (xz block needs a window of 1.5 GiB"}}, files: 1, errs: 1},
		{name: "xz in a tar claiming 4 GiB", file: "t.tar", content: tarBytes(t, entry{Name: "big.xz", Data: withXzDict(t, one, xzBlockOffsets(t, one)[0], 40)}),
			warnings: []wantWarning{{"t.tar!big.xz", plainBytes}}, files: 1, errs: 1},
		{name: "zstd window of 256 MiB", file: "w.zst", content: zstdWithWindow(t, big, 28),
			warnings: []wantWarning{{"w.zst", "zstd frame needs a window of more than the 128.0 MiB"}}, files: 1, errs: 1},
		{name: "zstd window of 2 TiB", file: "w.zst", content: zstdWithWindow(t, big, 41),
			warnings: []wantWarning{{"w.zst", "zstd frame needs a window of more than the 128.0 MiB"}}, files: 1, errs: 1},
		{name: "zstd single segment of 1 TiB", file: "s.zst", content: zstdClaimingSize(t, big),
			warnings: []wantWarning{{"s.zst", "zstd frame needs a window of more than the 128.0 MiB"}}, files: 1, errs: 1},
		{name: "zstd in a tar with a 2 TiB window", file: "t.tar", content: tarBytes(t, entry{Name: "w.zst", Data: zstdWithWindow(t, big, 41)}),
			warnings: []wantWarning{{"t.tar!w.zst", plainBytes}}, files: 1, errs: 1},
	}
}

// TestCraftedWindows checks that a header claiming a huge window or
// dictionary is refused with a warning before anything is allocated, and
// that windows up to maxWindow, as the tools write them, are read.
func TestCraftedWindows(t *testing.T) {
	t.Parallel()
	env := []byte("LOFTY_API_KEY=" + keyActive + "\n")
	one := xzOf(t, env)
	cases := append(craftedWindows(t),
		archiveCase{name: "xz block of 128 MiB", file: "ok.xz", content: withXzDict(t, one, xzBlockOffsets(t, one)[0], 30),
			want: []wantFinding{{Path: "ok.xz!ok", Line: 1, Column: 15, Token: keyActive}}, files: 1},
		archiveCase{name: "zstd --long=27", file: "ok.zst", content: compressWith(t, bytes.NewReader(env), "zstd", "-c", "-q", "--long=27"),
			want: []wantFinding{{Path: "ok.zst!ok", Line: 1, Column: 15, Token: keyActive}}, files: 1},
	)
	runArchiveCases(t, cases)
}

// TestCraftedWindowsMemory measures what scanning the crafted headers
// allocates: a few MiB, where the headers claim up to 4 GiB (xz) and 2 TiB
// (zstd). Not parallel, so that the process's allocation counter counts
// this scan alone.
func TestCraftedWindowsMemory(t *testing.T) {
	cases := craftedWindows(t)
	dir := t.TempDir()
	var paths []string
	for i, c := range cases {
		paths = append(paths, writeFixture(t, dir, strconv.Itoa(i)+"-"+c.file, c.content))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c, _ := scanPaths(t, testOptions(), paths...)
	runtime.ReadMemStats(&after)
	if len(c.Warnings) != len(cases) {
		t.Errorf("%d warnings, want one a file: %q", len(c.Warnings), c.Warnings)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("scanning %d crafted headers allocated %s, want under 64 MiB", len(cases), finding.HumanBytes(int64(alloc)))
	}
}

// TestCorruptCompressed checks that a cut or damaged stream gives one
// warning, keeps what could be read, and costs the other files nothing;
// and that a file that only starts like a compressed one is scanned as
// plain bytes.
func TestCorruptCompressed(t *testing.T) {
	t.Parallel()
	env := []byte("LOFTY_API_KEY=" + keyActive + "\n")
	// The key first, then 300 KB of text that compresses poorly, so that
	// the cut falls well after the first block (bzip2 -1: 100 KB blocks;
	// zstd: 128 KiB).
	long := append([]byte(nil), env...)
	for i := 0; len(long) < 300<<10; i++ {
		long = append(long, []byte(" line "+string(binaryHex(uint64(i)))+string(binaryHex(uint64(i)*7))+"\n")...)
	}
	clear := "\nLOFTY_API_KEY=" + keyActive
	junk := func(magic string) []byte { return []byte(magic + "garbage" + clear) }
	type corrupt struct {
		name, file string
		content    []byte
		want       []wantFinding
		warning    wantWarning
	}
	var tests []corrupt
	for _, f := range []struct {
		name, suffix string
		data         []byte
		magic        string
	}{
		{"bzip2", ".bz2", compressWith(t, bytes.NewReader(long), "bzip2", "-c", "-1"), "BZh91AY&SY"},
		{"xz", ".xz", xzOf(t, long), "\xfd7zXZ\x00"},
		{"zstd", ".zst", zstdOf(t, long), "\x28\xb5\x2f\xfd"},
	} {
		cut := f.data[:len(f.data)*2/3]
		flipped := bytes.Clone(f.data)
		for i := len(flipped) * 3 / 4; i < len(flipped)*3/4+16; i++ {
			flipped[i] ^= 0x5a
		}
		inner := "c.env" + f.suffix + "!c.env"
		junkLine := 2
		tests = append(tests,
			corrupt{f.name + " cut short", "c.env" + f.suffix, cut,
				[]wantFinding{{Path: inner, Line: 1, Column: 15, Token: keyActive}},
				wantWarning{inner, "corrupt " + f.name + " data"}},
			corrupt{f.name + " damaged", "c.env" + f.suffix, flipped,
				[]wantFinding{{Path: inner, Line: 1, Column: 15, Token: keyActive}},
				wantWarning{inner, "corrupt " + f.name + " data"}},
			corrupt{f.name + " magic then garbage", "junk" + f.suffix, junk(f.magic),
				[]wantFinding{{Path: "junk" + f.suffix, Line: junkLine, Column: 15, Token: keyActive}},
				wantWarning{"junk" + f.suffix, "not a readable " + f.name + " file"}},
			// In an archive the stream cannot be reread: what the decoder
			// read was kept, and is scanned with the rest.
			corrupt{f.name + " magic then garbage in a tar", "t.tar", tarBytes(t, entry{Name: "junk" + f.suffix, Data: junk(f.magic)}),
				[]wantFinding{{Path: "t.tar!junk" + f.suffix, Line: junkLine, Column: 15, Token: keyActive}},
				wantWarning{"t.tar!junk" + f.suffix, "not a readable " + f.name + " file"}},
		)
	}
	good := writeFixture(t, t.TempDir(), "good.env", []byte("x="+keyExpired+"\n"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFixture(t, dir, tt.file, tt.content)
			c, st := scanPaths(t, testOptions(), filepath.Join(dir, tt.file), good)
			for i := range tt.want {
				tt.want[i].Path = filepath.ToSlash(dir) + "/" + tt.want[i].Path
			}
			tt.warning.Path = filepath.ToSlash(dir) + "/" + tt.warning.Path
			checkFound(t, c.Findings, append(tt.want, wantFinding{Path: filepath.ToSlash(good), Line: 1, Column: 3, Token: keyExpired})...)
			checkWarnings(t, c.Warnings, tt.warning)
			checkStats(t, st, c, 2, 1, 0)
		})
	}
}

// TestUnopenedFormats checks that archives and compressed files in formats
// loftyscan does not open are named in a warning, and still scanned as raw
// bytes: a key stored uncompressed in them is found.
func TestUnopenedFormats(t *testing.T) {
	t.Parallel()
	env := []byte("LOFTY_API_KEY=" + keyActive + "\n")
	src := writeFixture(t, t.TempDir(), "k.env", env)
	// archive runs a tool that writes an archive of k.env to out.
	archive := func(name string, args ...string) []byte {
		out := filepath.Join(t.TempDir(), "out.arc") // 7zz adds .7z to a name with no extension
		for i, a := range args {
			args[i] = strings.NewReplacer("OUT", out, "SRC", src).Replace(a)
		}
		cmd := exec.Command(tool(t, name), args...)
		cmd.Dir = filepath.Dir(src)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, msg)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	// No free tool writes RAR: this is the signature of RAR 5 and a stored
	// file's bytes.
	// gitFile runs git in a new repository whose one commit holds k.env:
	// args make a bundle or a pack of it, written to standard output.
	gitFile := func(stdin string, args ...string) []byte {
		dir := t.TempDir()
		run := func(stdin string, args ...string) []byte {
			cmd := exec.Command(tool(t, "git"), append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"}, args...)...)
			cmd.Dir, cmd.Stdin = dir, strings.NewReader(stdin)
			cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("git %v: %v", args, err)
			}
			return out
		}
		run("", "init", "-q")
		if err := os.WriteFile(filepath.Join(dir, "k.env"), env, 0o644); err != nil {
			t.Fatal(err)
		}
		run("", "add", "k.env")
		run("", "commit", "-q", "-m", "key")
		return run(stdin, args...)
	}
	rar := append([]byte("Rar!\x1a\x07\x01\x00\x33\x92\xb5\xe5\x0a\x01\x05\x06\x00\x05\x01\x01\x80\x80\x00"), env...)
	tests := []archiveCase{
		{name: "7z", file: "a.7z", content: archive("7zz", "a", "-bso0", "-t7z", "OUT", "k.env"),
			warnings: []wantWarning{{"a.7z", "7z archive: loftyscan does not open this format, only its raw bytes were scanned"}}},
		{name: "7z stored", file: "s.7z", content: archive("7zz", "a", "-bso0", "-mx0", "-t7z", "OUT", "k.env"),
			warnings: []wantWarning{{"s.7z", "7z archive"}}},
		{name: "rar", file: "a.rar", content: rar, warnings: []wantWarning{{"a.rar", "RAR archive"}}},
		{name: "lzip", file: "a.lz", content: compressWith(t, bytes.NewReader(env), "lzip", "-c"),
			warnings: []wantWarning{{"a.lz", "lzip file"}}},
		{name: "compress", file: "a.Z", content: compressWith(t, bytes.NewReader(env), "compress", "-c", "-f"), // -f: even when not smaller
			warnings: []wantWarning{{"a.Z", "compress (.Z) file"}}},
		{name: "cab", file: "a.cab", content: archive("gcab", "-c", "-z", "OUT", "k.env"),
			warnings: []wantWarning{{"a.cab", "Microsoft cabinet"}}},
		{name: "cab stored", file: "s.cab", content: archive("gcab", "-c", "OUT", "k.env"),
			warnings: []wantWarning{{"s.cab", "Microsoft cabinet"}}},
		// A backup bundle or a pack committed as a file: zlib streams.
		{name: "git bundle", file: "backup.bundle", content: gitFile("", "bundle", "create", "-q", "-", "--all"),
			warnings: []wantWarning{{"backup.bundle", "git bundle: loftyscan does not open this format, only its raw bytes were scanned; clone it"}}},
		{name: "git pack", file: "objects.pack", content: gitFile("main\n", "pack-objects", "-q", "--revs", "--stdout"),
			warnings: []wantWarning{{"objects.pack", "git pack file: loftyscan does not open this format, only its raw bytes were scanned; unpack it"}}},
	}
	for i := range tests {
		tests[i].files, tests[i].errs = 1, 1
		// The raw bytes are scanned: a key stored as it is (a stored 7z
		// or cab entry, a RAR file's stored data) is found where it lies.
		if at := bytes.Index(tests[i].content, []byte(keyActive)); at >= 0 {
			line, col := refLineCol(tests[i].content, at)
			tests[i].want = []wantFinding{{Path: tests[i].file, Line: line, Column: col, Token: keyActive}}
		}
	}
	rarLine, rarCol := refLineCol(rar, bytes.Index(rar, []byte(keyActive)))
	tests = append(tests, archiveCase{name: "rar in a zip", file: "z.zip", content: zipBytes(t, entry{Name: "in/a.rar", Data: rar}),
		want:     []wantFinding{{Path: "z.zip!in/a.rar", Line: rarLine, Column: rarCol, Token: keyActive}},
		warnings: []wantWarning{{"z.zip!in/a.rar", "RAR archive"}}, files: 1, errs: 1})
	found := 0
	for _, tt := range tests {
		found += len(tt.want)
	}
	if found < 3 || found > len(tests)-3 {
		t.Fatalf("%d of %d fixtures hold the key as it is: the tools changed; choose fixtures with both kinds", found, len(tests))
	}
	runArchiveCases(t, tests)
}

// TestOCILayout scans an OCI image layout, as skopeo or buildah write it,
// whose layers are a zstd- and a gzip-compressed tar; then the same layout
// as an image tarball.
func TestOCILayout(t *testing.T) {
	t.Parallel()
	env := []byte("# crm\nLOFTY_API_KEY=" + keyActive + "\n")
	yaml := []byte("lofty:\n  token: " + keyExpired + "\n")
	dir := t.TempDir()
	blob := func(data []byte) string {
		d := fingerprintOf(string(data)) // the SHA-256 in hex
		writeFixture(t, dir, "blobs/sha256/"+d, data)
		return d
	}
	zstdLayer := blob(tarWith(t, "--zstd", entry{Name: "etc/app/.env", Data: env}, entry{Name: "usr/bin/tool", Data: []byte("#!/bin/sh\n")}))
	gzipLayer := blob(tarWith(t, "-z", entry{Name: "srv/config.yaml", Data: yaml}))
	config := blob([]byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`))
	manifest := blob([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:` + config + `","size":80},` +
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"sha256:` + zstdLayer + `"},` +
		`{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:` + gzipLayer + `"}]}`))
	writeFixture(t, dir, "oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	writeFixture(t, dir, "index.json", []byte(`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:`+manifest+`"}]}`))

	c, st := scanPaths(t, testOptions(), dir)
	root := "blobs/sha256/" // relative to the folder scanned
	checkFound(t, c.Findings,
		wantFinding{Path: root + zstdLayer + "!etc/app/.env", Line: 2, Column: 15, Token: keyActive},
		wantFinding{Path: root + gzipLayer + "!srv/config.yaml", Line: 2, Column: 10, Token: keyExpired},
	)
	checkWarnings(t, c.Warnings)
	checkStats(t, st, c, 7, 0, 0) // oci-layout, index.json, config, manifest, three layer files

	image := filepath.Join(t.TempDir(), "image.tar")
	if msg, err := exec.Command(tool(t, "tar"), "-cf", image, "-C", dir, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, msg)
	}
	c, _ = scanPaths(t, testOptions(), image)
	img := "image.tar!blobs/sha256/"
	checkFound(t, c.Findings,
		wantFinding{Path: img + zstdLayer + "!etc/app/.env", Line: 2, Column: 15, Token: keyActive},
		wantFinding{Path: img + gzipLayer + "!srv/config.yaml", Line: 2, Column: 10, Token: keyExpired},
	)
	checkWarnings(t, c.Warnings)
}

// TestXzGuardOracle reads xz files written by xz with several block,
// check and stream layouts through the guard: without shrinkDict it must
// pass every byte unchanged; with it, only block headers change, and
// both xz -d and the decoder behind the guard must give the text.
func TestXzGuardOracle(t *testing.T) {
	t.Parallel()
	var text []byte
	for i := 0; len(text) < 200<<10; i++ {
		text = append(text, []byte("line "+strconv.Itoa(i)+" "+string(binaryHex(uint64(i)))+"\n")...)
	}
	text = append(text, binaryBytes(9, 70000)...) // incompressible: uncompressed LZMA2 chunks
	for _, args := range [][]string{
		{"-T1"}, {"-T1", "-0"}, {"-T1", "-9e"}, {"-T1", "--check=none"}, {"-T1", "--check=sha256"},
		{"-T2", "--block-size=16KiB"}, {"-T1", "--block-size=1000", "--lzma2=dict=4KiB"}, {"-T1", "--block-list=1,100,5000,1MiB"},
		{"-T1", "--lzma2=preset=1,lc=0,lp=2,pb=0"}, {"-T1", "--lzma2=dict=128MiB"},
		{"-T1", "--x86", "--lzma2=dict=128MiB"}, // two filters: the dictionary is in the second
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			data := compressWith(t, bytes.NewReader(text), "xz", append([]string{"-c"}, args...)...)
			data = append(append(data, 0, 0, 0, 0, 0, 0, 0, 0), data...) // two streams, padding between
			g := newXzGuard(bytes.NewReader(data), maxWindow)
			g.keep = true
			passed, err := io.ReadAll(g)
			if err != nil || !bytes.Equal(passed, data) {
				t.Fatalf("the guard passed %d of %d bytes, changed: %v; error %v", len(passed), len(data), !bytes.HasPrefix(data, passed), err)
			}
			shrunk, err := io.ReadAll(newXzGuard(bytes.NewReader(data), maxWindow))
			if err != nil || len(shrunk) != len(data) {
				t.Fatalf("with shrinkDict the guard passed %d of %d bytes; error %v", len(shrunk), len(data), err)
			}
			both := append(bytes.Clone(text), text...)
			if got := compressWith(t, bytes.NewReader(shrunk), "xz", "-d", "-c"); !bytes.Equal(got, both) {
				t.Fatalf("xz -d gave %d bytes of what the guard passed, want %d", len(got), len(both))
			}
			if slices.Contains(args, "--x86") {
				return // github.com/ulikunitz/xz reads no BCJ filter
			}
			rc, err := openXz(context.Background(), newStreamer(finder{}), bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			if err != nil || !bytes.Equal(got, both) {
				t.Fatalf("decoded %d bytes (error %v), want %d", len(got), err, len(both))
			}
		})
	}
}

// xzGuardSeeds are the inputs of FuzzXzGuard: xz files of each layout the
// guard walks.
func xzGuardSeeds(tb testing.TB) []fuzzSeed {
	text := []byte("# crm\nLOFTY_API_KEY=" + planted + "\n")
	long := append(bytes.Repeat(text, 40), binaryBytes(5, 3000)...)
	xz := func(data []byte, args ...string) string {
		return string(compressWith(tb, bytes.NewReader(data), "xz", append([]string{"-c"}, args...)...))
	}
	one := xz(text, "-T1")
	return []fuzzSeed{
		{name: "one-block", data: one},
		{name: "blocks-with-sizes", data: xz(long, "-T2", "--block-size=2KiB")},
		{name: "blocks-check-none", data: xz(long, "-T1", "--block-size=3000", "--check=none")},
		{name: "sha256", data: xz(text, "-T1", "--check=sha256")},
		{name: "two-streams-padded", data: one + "\x00\x00\x00\x00" + one},
		{name: "empty", data: xz(nil, "-T1")},
	}
}

// FuzzXzGuard feeds the xz guard: whatever the input, without shrinkDict
// it passes a prefix of it unchanged, and all of it unless it refuses a
// header; with shrinkDict, as many bytes when none is refused unchanged,
// and where the decoder reads what passed unchanged, it reads the same
// from what passed shrunk.
func FuzzXzGuard(f *testing.F) {
	for _, s := range xzGuardSeeds(f) {
		f.Add([]byte(s.data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g := newXzGuard(bytes.NewReader(data), maxWindow)
		g.keep = true
		passed, err := io.ReadAll(g)
		if !bytes.HasPrefix(data, passed) {
			t.Fatalf("the guard changed the bytes it passed")
		}
		var we *windowError
		var wk xzWalkError
		if err == nil && len(passed) != len(data) || err != nil && !errors.As(err, &we) && !errors.As(err, &wk) {
			t.Fatalf("passed %d of %d bytes, error %v", len(passed), len(data), err)
		}
		shrunk, serr := io.ReadAll(newXzGuard(bytes.NewReader(data), maxWindow))
		if err != nil {
			return // a block refused unchanged may be read shrunk
		}
		if serr != nil || len(shrunk) != len(passed) {
			t.Fatalf("shrunk: passed %d bytes (error %v), unchanged %d", len(shrunk), serr, len(passed))
		}
		want, werr := xzDecodeAll(passed)
		got, gerr := xzDecodeAll(shrunk)
		if werr == nil && (gerr != nil || !bytes.Equal(got, want)) {
			t.Fatalf("decoded %d bytes shrunk (error %v), %d unchanged", len(got), gerr, len(want))
		}
	})
}

// xzDecodeAll decodes an xz file the guard passed (no block over maxWindow).
func xzDecodeAll(data []byte) ([]byte, error) {
	r, err := xz.ReaderConfig{}.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(r, 64<<20))
}

// BenchmarkSniffPlain measures what recognising the formats costs a file
// that is none of them: the first 512 bytes of Go source.
func BenchmarkSniffPlain(b *testing.B) {
	head := bytes.Repeat([]byte("func handler(w http.ResponseWriter, r *http.Request) {\n"), 10)[:sniffLen]
	for b.Loop() {
		if what, _ := unopenedFormat(head); sniff(head) != plain || what != "" {
			b.Fatal("recognised plain text")
		}
	}
}

// TestMozLz4Claims: a mozLz4 file's text is held whole, at the size its
// header claims. A claim more than its block can expand to, over what one
// decoder may hold, or short of the text is named in a warning, and the
// file's raw bytes are scanned instead (the key the block holds as
// literals is found there).
func TestMozLz4Claims(t *testing.T) {
	t.Parallel()
	env := []byte("LOFTY_API_KEY=" + keyActive + "\n")
	good := mozLz4Of(t, env)
	claim := func(n uint32) []byte {
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint32(b[8:], n)
		return b
	}
	raw := func(b []byte) []wantFinding {
		line, col := refLineCol(b, bytes.Index(b, []byte(keyActive)))
		return []wantFinding{{Path: "s.jsonlz4", Line: line, Column: col, Token: keyActive}}
	}
	// A block of 1 MiB of random bytes, claiming 200 MiB: as much as such
	// a block may expand to.
	big := mozLz4Of(t, append(bytes.Clone(env), binaryBytes(7, 1<<20)...))
	binary.LittleEndian.PutUint32(big[8:], 200<<20)
	runArchiveCases(t, []archiveCase{
		{name: "a claim its block cannot hold", file: "s.jsonlz4", content: claim(1 << 31), want: raw(claim(1 << 31)),
			warnings: []wantWarning{{"s.jsonlz4", "more than its"}}, files: 1, errs: 1},
		{name: "a claim short of the text", file: "s.jsonlz4", content: claim(10), want: raw(claim(10)),
			warnings: []wantWarning{{"s.jsonlz4", "not a readable mozLz4 file"}}, files: 1, errs: 1},
		{name: "200 MiB, over one decoder's window", file: "s.jsonlz4", content: big, want: raw(big),
			warnings: []wantWarning{{"s.jsonlz4", "over the 128.0 MiB one is decoded into"}}, files: 1, errs: 1},
		{name: "over the cap per entry", file: "s.jsonlz4", content: good, want: raw(good),
			limits:   func(l *Limits) { l.EntryBytes = 16 },
			warnings: []wantWarning{{"s.jsonlz4", "over the 16 bytes cap per entry"}}, files: 1, errs: 1},
	})
}

// TestBrokenLZ4InArchives: an LZ4 or mozLz4 file that cannot be decoded,
// inside an archive (where it cannot be read again), bigger than the 1 MiB
// other decoders keep to fall back on, has its raw bytes scanned all the
// same (LZ4 keeps text it does not repeat as it is): the mozLz4 decoder
// holds what it read, and an LZ4 stream is kept up to its biggest block.
func TestBrokenLZ4InArchives(t *testing.T) {
	t.Parallel()
	text := append([]byte(`{"key":"`+keyActive+"\"}\n"), []byte(strings.Repeat(base64.StdEncoding.EncodeToString(binaryBytes(9, 3<<20)), 1))...)
	moz := mozLz4Of(t, text)
	moz = moz[:len(moz)-100] // cut short
	legacy := lz4Of(t, text, "-l")
	legacy = legacy[:len(legacy)-200]
	if len(moz) < 2<<20 || len(legacy) < 2<<20 {
		t.Fatalf("the files are %d and %d bytes: too small to test past 1 MiB", len(moz), len(legacy))
	}
	at := func(name string, data []byte) []wantFinding {
		line, col := refLineCol(data, bytes.Index(data, []byte(keyActive)))
		return []wantFinding{{Path: "a.zip!" + name, Line: line, Column: col, Token: keyActive}}
	}
	// A frame cut short, at the top level: the text past what could be
	// decoded is searched in the raw bytes (its literals).
	letters := func(seed uint64, n int) []byte {
		b := binaryBytes(seed, n)
		for i := range b {
			b[i] = 'a' + b[i]%26
		}
		return b
	}
	cut := lz4Of(t, append(append(letters(1, 70000), "\nkey="+keyActive+"\n"...), letters(2, 20000)...), "-B4")
	cut = cut[:len(cut)-5000]
	line, col := refLineCol(cut, bytes.Index(cut, []byte(keyActive)))
	runArchiveCases(t, []archiveCase{
		{name: "LZ4 frame cut short", file: "c.lz4", content: cut,
			want:     []wantFinding{{Path: "c.lz4", Line: line, Column: col, Token: keyActive}},
			warnings: []wantWarning{{"c.lz4!c", "corrupt LZ4 data"}, {"c.lz4", "its raw bytes were scanned too"}}, files: 2, errs: 2},
		{name: "mozLz4 cut short", file: "a.zip", content: zipBytes(t, entry{Name: "s.jsonlz4", Data: moz}), want: at("s.jsonlz4", moz),
			warnings: []wantWarning{{"a.zip!s.jsonlz4", "not a readable mozLz4 file"}}, files: 1, errs: 1},
		{name: "LZ4 legacy cut short", file: "a.zip", content: zipBytes(t, entry{Name: "l.lz4", Data: legacy}), want: at("l.lz4", legacy),
			warnings: []wantWarning{{"a.zip!l.lz4", "not a readable LZ4 file"}}, files: 1, errs: 1},
	})
}
