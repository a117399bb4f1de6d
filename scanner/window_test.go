package scanner

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/klauspost/compress/zstd"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestNestedXzDictionaries: an xz whose block claims a 128 MiB dictionary,
// inside another such xz, made by the xz tool, each with more data than
// the guard's lookahead (so that each keeps its dictionary). The two would
// hold 256 MiB: the inner one is refused with a warning that says why,
// and scanned as plain bytes, in a file and on a stream. Nested xz files
// of the default dictionary (8 MiB), and small ones of 128 MiB (which get
// the dictionary their data uses), are read through: the key in the
// innermost is found.
func TestNestedXzDictionaries(t *testing.T) {
	t.Parallel()
	text := []byte("LOFTY_API_KEY=" + keyActive + "\n")
	nest := func(data []byte, dict string) []byte {
		inner := compressWith(t, bytes.NewReader(data), "xz", "-c", "-T1", "--lzma2=dict="+dict)
		return compressWith(t, bytes.NewReader(inner), "xz", "-c", "-T1", "--lzma2=dict="+dict)
	}
	big := nest(binaryBytes(13, xzLookahead+xzLookahead/4), "128MiB")
	c, _ := scanData(t, testOptions(), big)
	if len(c.Findings) != 0 || len(c.Warnings) != 1 || c.Warnings[0].Path != "in!in" ||
		!strings.Contains(c.Warnings[0].Message, "the compressed files around it hold 128.0 MiB") {
		t.Errorf("128 MiB in 128 MiB on a stream: findings %v, warnings %v; want the inner one refused", c.Findings, c.Warnings)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "k.xz.xz"), big, 0o644)
	c = &Collector{}
	if _, err := New(testOptions()).ScanPaths(context.Background(), []string{dir}, c); err != nil {
		t.Fatal(err)
	}
	if len(c.Findings) != 0 || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].Message, "nested decompressors together") {
		t.Errorf("128 MiB in 128 MiB in a file: findings %v, warnings %v; want the inner one refused", c.Findings, c.Warnings)
	}
	for _, dict := range []string{"8MiB", "128MiB"} {
		c, _ = scanData(t, testOptions(), nest(text, dict))
		if len(c.Findings) != 1 || c.Findings[0].Path != "in!in!in" || len(c.Warnings) != 0 {
			t.Errorf("%s in %s, small: findings %v, warnings %v; want the key", dict, dict, c.Findings, c.Warnings)
		}
	}
}

// TestNestedZstdWindows: the same with zstd, whose frame header claims the
// window: a --long=27 frame (128 MiB) of more than the lookahead in
// another is refused; default frames in one another, and small --long=27
// frames (which get the window their data uses), are read through.
func TestNestedZstdWindows(t *testing.T) {
	t.Parallel()
	text := []byte("LOFTY_API_KEY=" + keyActive + "\n")
	nest := func(data []byte, args ...string) []byte {
		inner := compressWith(t, bytes.NewReader(data), "zstd", append([]string{"-q", "-c"}, args...)...)
		return compressWith(t, bytes.NewReader(inner), "zstd", append([]string{"-q", "-c"}, args...)...)
	}
	long := nest(binaryBytes(15, zstdLookahead+zstdLookahead/4), "--long=27")
	if w, ok := zstdWindow(long); !ok || w != 128<<20 {
		t.Fatalf("zstd --long=27 from a pipe claims %d (%v); want 128 MiB", w, ok)
	}
	c, _ := scanData(t, testOptions(), long)
	if len(c.Findings) != 0 || len(c.Warnings) != 1 || c.Warnings[0].Path != "in!in" ||
		!strings.Contains(c.Warnings[0].Message, "zstd frame needs a window of 128.0 MiB, and the compressed files around it hold 128.0 MiB") {
		t.Errorf("128 MiB in 128 MiB: findings %v, warnings %v; want the inner one refused", c.Findings, c.Warnings)
	}
	for _, args := range [][]string{nil, {"--long=27"}} {
		c, _ = scanData(t, testOptions(), nest(text, args...))
		if len(c.Findings) != 1 || c.Findings[0].Path != "in!in!in" || len(c.Warnings) != 0 {
			t.Errorf("frames %v nested: findings %v, warnings %v; want the key", args, c.Findings, c.Warnings)
		}
	}
	// A single-segment frame claims its content size.
	if w, ok := zstdWindow([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x60, 0x10, 0x00}); !ok || w != 256+16 {
		t.Errorf("a single-segment frame of 272 bytes claims %d (%v)", w, ok)
	}
}

// TestWindowSlots: workers whose decoders hold more than smallWindow take
// a slot each; with windowSlots taken, the next waits (here until its
// context ends) and gets one once a worker gives its back. Small
// dictionaries take none, and a worker's nested dictionaries share its
// slot and its maxWindow.
func TestWindowSlots(t *testing.T) {
	gate := newWindowGate()
	ws := make([]windows, windowSlots+1)
	for i := range ws {
		ws[i].gate = gate
	}
	ctx := context.Background()
	for i := range windowSlots {
		if err := ws[i].grow(ctx, 0, 64<<20); err != nil || !ws[i].slot {
			t.Fatalf("worker %d: %v, slot %v", i, err, ws[i].slot)
		}
	}
	late := &ws[windowSlots]
	if err := late.grow(ctx, 0, smallWindow); err != nil || late.slot {
		t.Fatalf("a small dictionary: %v, slot %v; want no slot needed", err, late.slot)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := late.grow(done, smallWindow, 64<<20); !errors.Is(err, context.Canceled) || late.held != smallWindow {
		t.Fatalf("with every slot taken: %v, held %d; want to wait", err, late.held)
	}
	if err := ws[0].grow(ctx, 0, 64<<20); err != nil {
		t.Fatalf("a nested dictionary within the slot: %v", err)
	}
	var we *windowError
	if err := ws[0].grow(ctx, 0, 8<<20); !errors.As(err, &we) || we.around != 128<<20 {
		t.Fatalf("past maxWindow: %v; want a windowError", err)
	}
	ws[0].shrink(64 << 20)
	ws[0].reset()
	if ws[0].slot || ws[0].held != 0 {
		t.Fatalf("after reset: slot %v, held %d", ws[0].slot, ws[0].held)
	}
	if err := late.grow(ctx, smallWindow, 64<<20); err != nil || !late.slot {
		t.Fatalf("once a slot is free: %v, slot %v", err, late.slot)
	}
}

// TestXzDictionaryShrunk: the xz tool writes its preset's dictionary
// whatever the size of the data, and the decoder allocates what a block
// claims, whole and zeroed: 500 files of 60 bytes each claiming 128 MiB
// took 6.6 s, and a block crafted to claim 4 GiB was refused though its
// data is a line. A block that ends within the guard's lookahead now gets
// the dictionary its data uses: each file's key is found, and the scan
// allocates a few KiB a file, not 128 MiB. Not parallel: the allocation
// counter is the process's.
func TestXzDictionaryShrunk(t *testing.T) {
	const files = 100
	dir := t.TempDir()
	for i := range files {
		env := []byte("LOFTY_API_KEY=" + keyN(i) + "\n")
		data := compressWith(t, bytes.NewReader(env), "xz", "-c", "-T1", "--lzma2=dict=128MiB")
		if i == 0 {
			data = withXzDict(t, data, xzBlockOffsets(t, data)[0], 40) // 4 GiB - 1
		}
		writeFixture(t, dir, fmt.Sprintf("k%d.env.xz", i), data)
	}
	scanKeysUnderAMiBAFile(t, dir, files)
}

// scanKeysUnderAMiBAFile scans dir, whose files each hold one key in a
// compressed file claiming a big window: every key must be found, with no
// warning, and the scan must allocate less than a MiB a file.
func scanKeysUnderAMiBAFile(t *testing.T, dir string, files int) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	c := &Collector{}
	if _, err := New(testOptions()).ScanPaths(context.Background(), []string{dir}, c); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if len(c.Findings) != files || len(c.Warnings) != 0 {
		t.Errorf("%d findings, warnings %v; want the %d keys and no warning", len(c.Findings), c.Warnings, files)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > uint64(files)<<20 {
		t.Errorf("allocated %d MiB for %d files, want under %d MiB (each claims 100 or 128 MiB)", got>>20, files, files)
	} else {
		t.Logf("allocated %d MiB", got>>20)
	}
}

// TestZstdWindowShrunk: zstd --long=27 reading a pipe claims a 128 MiB
// window whatever the size of the data, and a single-segment frame claims
// its content size; the decoder allocates the claim: 500 files of 60
// bytes each took 9.6 s. A stream that ends within the lookahead now gets
// the window its blocks use: each file's key is found, and the scan
// allocates a little a file. A single-segment frame that claims 100 MiB
// of content for one line is read too (the content size is dropped with
// the claim). Not parallel: the allocation counter is the process's.
func TestZstdWindowShrunk(t *testing.T) {
	const files = 50
	dir := t.TempDir()
	for i := range files {
		env := []byte("LOFTY_API_KEY=" + keyN(i) + "\n")
		var data []byte
		if i == 0 {
			data = binary.LittleEndian.AppendUint32(nil, 0xfd2fb528)
			data = append(data, 0xa0) // single segment, 4-byte content size
			data = binary.LittleEndian.AppendUint32(data, 100<<20)
			h := len(env)<<3 | 1 // one raw block, the last
			data = append(append(data, byte(h), byte(h>>8), byte(h>>16)), env...)
		} else {
			data = compressWith(t, bytes.NewReader(env), "zstd", "-q", "-c", "--long=27")
		}
		writeFixture(t, dir, fmt.Sprintf("k%d.env.zst", i), data)
	}
	scanKeysUnderAMiBAFile(t, dir, files)
}

// TestShrinkZstdWindowsOracle: streams the zstd tool writes (frames with
// and without content size and checksum, several frames, skippable frames,
// --long, raw and RLE blocks) read the same with zstd -d once shrunk, and
// frames that claim no more than their blocks use are left as they are.
func TestShrinkZstdWindowsOracle(t *testing.T) {
	t.Parallel()
	var text []byte
	for i := 0; len(text) < 150<<10; i++ {
		text = append(text, []byte("line "+strconv.Itoa(i)+"\n")...)
	}
	text = append(append(text, binaryBytes(16, 3000)...), bytes.Repeat([]byte{'z'}, 5000)...)
	skippable := append(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 0x184d2a5e), 3), "abc"...)
	for _, args := range [][]string{{}, {"--long=27"}, {"-19"}, {"--no-check"}, {"-1", "--no-content-size"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			one := compressWith(t, bytes.NewReader(text), "zstd", append([]string{"-q", "-c"}, args...)...)
			data := append(append(append(bytes.Clone(one), skippable...), one...), compressWith(t, bytes.NewReader(nil), "zstd", "-q", "-c")...)
			shrunk, _ := shrinkZstdWindows(bytes.Clone(data), 1<<62)
			want := append(bytes.Clone(text), text...)
			if got := compressWith(t, bytes.NewReader(shrunk), "zstd", "-d", "-c", "-q"); !bytes.Equal(got, want) {
				t.Fatalf("zstd -d gave %d bytes of the shrunk stream, want %d", len(got), len(want))
			}
			if w, _ := zstdWindow(shrunk); w > 8<<20 {
				t.Errorf("the first frame still claims %d bytes", w)
			}
		})
	}
	// From a file: a single-segment frame, whose window is its content size.
	tiny := compressWith(t, nil, "zstd", "-q", "-c", writeFixture(t, t.TempDir(), "x", []byte("x\n")))
	if same, _ := shrinkZstdWindows(bytes.Clone(tiny), 1<<62); !bytes.Equal(same, tiny) || tiny[4]&0x20 == 0 {
		t.Errorf("a frame whose window is its 2 bytes of content was rewritten, or is not single-segment: % x", tiny)
	}
}

// FuzzShrinkZstdWindows: whatever the stream, where the decoder reads it
// as it is, it reads the same once shrunk.
func FuzzShrinkZstdWindows(f *testing.F) {
	for _, s := range []string{"28b52ffda00000400619000068690a", "28b52ffd0058510000106869"} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Add(compressWith(f, bytes.NewReader([]byte("LOFTY_API_KEY="+planted+"\n")), "zstd", "-q", "-c", "--long=27"))
	f.Fuzz(func(t *testing.T, data []byte) {
		want, err := zstdDecodeAll(data)
		if err != nil {
			return
		}
		shrunk, _ := shrinkZstdWindows(bytes.Clone(data), 1<<62)
		got, err := zstdDecodeAll(shrunk)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("decoded %d bytes shrunk (error %v), %d as it is", len(got), err, len(want))
		}
	})
}

// zstdDecodeAll decodes a zstd stream with the scan's limits.
func zstdDecodeAll(data []byte) ([]byte, error) {
	d, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(maxWindow), zstd.WithDecoderMaxMemory(maxWindow))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return io.ReadAll(io.LimitReader(d, 16<<20))
}

// A zstd stream read whole claims the widest of its frames' windows, not
// the first's: a tiny frame of --long=27 (shrunk to 1 KiB) before a frame
// whose blocks use 10 MiB made the second refused and its key missed
// (red-team). The second frame here: a raw block of 64 KiB of text (so
// that the ratio cap neither bounds the window below what the blocks use
// nor stops the output), 80 RLE blocks of 128 KiB, then the key in a raw
// block.
func TestZstdWidestFrameClaimed(t *testing.T) {
	t.Parallel()
	block := func(last bool, typ, size int, data []byte) []byte {
		h := size<<3 | typ<<1
		if last {
			h |= 1
		}
		return append([]byte{byte(h), byte(h >> 8), byte(h >> 16)}, data...)
	}
	second := binary.LittleEndian.AppendUint32(nil, 0xfd2fb528)
	second = append(second, 0x00, 27<<3-10<<3) // no content size; a 128 MiB window
	pad := bytes.Repeat([]byte("filler line of text\n"), (64<<10)/20)
	second = append(second, block(false, 0, len(pad), pad)...)
	for range 80 {
		second = append(second, block(false, 1, 128<<10, []byte{'\n'})...)
	}
	env := []byte("LOFTY_API_KEY=" + keyActive + "\n")
	second = append(second, block(true, 0, len(env), env)...)
	first := compressWith(t, bytes.NewReader([]byte("hi\n")), "zstd", "-q", "-c", "--long=27")
	c, _ := scanData(t, testOptions(), append(first, second...))
	if len(c.Findings) != 1 || len(c.Warnings) != 0 {
		t.Errorf("findings %v, warnings %v; want the key in the second frame", c.Findings, c.Warnings)
	}
}
