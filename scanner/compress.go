package scanner

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/bzip2"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

// The compressors besides gzip: bzip2, xz, zstd and LZ4, recognised by their
// magic bytes, whatever the file is called, and opened under the same caps
// as gzip. Formats that are recognised but not opened (7z, RAR, ...) are
// named in a warning, so a scan never calls them clean unread.

// maxWindow is the most memory one decompressor may hold for its window
// (zstd) or dictionary (xz): a header claims it before any data is read, so
// a crafted one could otherwise make the scan allocate gigabytes. 128 MiB is
// the zstd tool's own default limit (zstd -22 and --long stay under it) and
// twice the dictionary of xz -9.
const maxWindow = 128 << 20

// replayMax is how much of a stream is kept until its decoder has produced
// the first byte: enough for a bzip2 block. If the stream turns out not to
// be compressed after all, what was kept is scanned as plain bytes.
const replayMax = 1 << 20

// compressor opens one compression format.
type compressor struct {
	what string // for messages: "bzip2"
	// suffixes are the file-name endings stripped to name what the file
	// holds, with what replaces them: "x.txz" holds "x.tar".
	suffixes [][2]string
	// open opens a decoder of rd on the worker whose streamer is st.
	open func(ctx context.Context, st *streamer, rd io.Reader) (io.ReadCloser, error)
	// replay is how much of the stream is kept to scan as plain bytes
	// when its decoder fails before its first byte, when not replayMax:
	// an LZ4 block (8 MiB in the legacy format) is read whole first.
	replay int
}

var compressors = map[kind]compressor{
	bzip2Kind: {"bzip2", [][2]string{{".tbz2", ".tar"}, {".tbz", ".tar"}, {".bz2", ""}, {".bz", ""}}, openBzip2, 0},
	xzKind:    {"xz", [][2]string{{".txz", ".tar"}, {".xz", ""}}, openXz, 0},
	zstdKind:  {"zstd", [][2]string{{".tzst", ".tar"}, {".zstd", ""}, {".zst", ""}}, openZstd, 0},
	lz4Kind:   {"LZ4", [][2]string{{".tlz4", ".tar"}, {".lz4", ""}}, openLZ4, 9 << 20},
	// Firefox's own LZ4 files: the session (sessionstore.jsonlz4), bookmark
	// backups, search settings (search.json.mozlz4).
	mozLz4Kind: {"mozLz4", [][2]string{{".jsonlz4", ".json"}, {".baklz4", ""}, {".mozlz4", ""}, {".lz4", ""}}, openMozLz4, 0},
	// A loose git object holds its own name's object: "objects/ab/cd…!cd…".
	gitLooseKind: {"git object", nil, openGitLoose, 0},
}

// sniffCompressed recognises the compressors of this file by their magic
// bytes, or returns plain.
func sniffCompressed(head []byte) kind {
	switch {
	case len(head) < 4:
		return plain
	// "BZh", the block size '1'-'9', then the magic of a first block (pi)
	// or of the end of an empty stream (sqrt(pi)).
	case head[0] == 'B' && len(head) >= 10 && head[1] == 'Z' && head[2] == 'h' && '1' <= head[3] && head[3] <= '9' &&
		(bytes.Equal(head[4:10], []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}) || bytes.Equal(head[4:10], []byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90})):
		return bzip2Kind
	case head[0] == 0xfd && bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return xzKind
	case head[0] == 0x28 && bytes.Equal(head[:4], []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return zstdKind
	case bytes.HasPrefix(head, []byte{0x04, 0x22, 0x4d, 0x18}), bytes.HasPrefix(head, []byte{0x02, 0x21, 0x4c, 0x18}):
		return lz4Kind // a frame, or the legacy format (lz4 -l, the Linux kernel's)
	case bytes.HasPrefix(head, []byte(mozLz4Magic)):
		return mozLz4Kind
	case head[0] == 0x78 && isGitLoose(head):
		return gitLooseKind
	case head[0]&0xf0 == 0x50 && bytes.Equal(head[1:4], []byte{0x2a, 0x4d, 0x18}):
		// A skippable frame (pzstd and the seekable format start with
		// one): zstd frames follow, or LZ4 frames, told apart by the magic
		// after it when the frame is short enough to end in head.
		if len(head) >= 8 {
			next := 8 + int64(binary.LittleEndian.Uint32(head[4:8]))
			if next+4 <= int64(len(head)) && bytes.Equal(head[next:next+4], []byte{0x04, 0x22, 0x4d, 0x18}) {
				return lz4Kind
			}
		}
		return zstdKind
	}
	return plain
}

// unopened lists formats loftyscan recognises by their magic bytes but does
// not open.
var unopened = []struct {
	magic []byte
	what  string
	do    string // how to scan what it holds; "" for extractDo
}{
	{[]byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}, "7z archive", ""},
	{[]byte("Rar!\x1a\x07\x00"), "RAR archive", ""},
	{[]byte("Rar!\x1a\x07\x01\x00"), "RAR archive", ""},
	{[]byte("LZIP"), "lzip file", ""},
	{[]byte{0x1f, 0x9d}, "compress (.Z) file", ""},
	{[]byte("MSCF\x00\x00\x00\x00"), "Microsoft cabinet (.cab)", ""},
	// git's own formats (a backup bundle or a pack committed as a file):
	// their objects are zlib streams and deltas of one another.
	{[]byte("# v2 git bundle\n"), "git bundle", bundleDo},
	{[]byte("# v3 git bundle\n"), "git bundle", bundleDo},
	{[]byte("PACK\x00\x00\x00\x02"), "git pack file", packDo},
	{[]byte("PACK\x00\x00\x00\x03"), "git pack file", packDo},
}

// What to do with an unopened file, by format.
const (
	extractDo = "extract it and scan the extracted files"
	bundleDo  = "clone it ('git clone FILE DIR') and scan the clone with 'loftyscan git DIR'"
	packDo    = "unpack it into a new repository ('git init DIR && git -C DIR unpack-objects < FILE') and scan that with 'loftyscan git DIR', which reads every object it holds"
)

// unopenedFirst marks the first bytes of the unopened formats' magic.
var unopenedFirst = func() (first [256]bool) {
	for _, u := range unopened {
		first[u.magic[0]] = true
	}
	return first
}()

// unopenedFormat names the format of head if it is one loftyscan
// recognises but does not open, and what to do to scan what it holds; or
// returns "".
func unopenedFormat(head []byte) (what, do string) {
	if len(head) == 0 || !unopenedFirst[head[0]] {
		return "", "" // most files: one look at one byte
	}
	for _, u := range unopened {
		if bytes.HasPrefix(head, u.magic) {
			return u.what, cmp.Or(u.do, extractDo)
		}
	}
	return "", ""
}

// noteUnopened warns when plain content is an archive or compressed file in
// a format loftyscan does not open: its raw bytes are scanned, which finds
// keys stored uncompressed and misses compressed ones.
func (r *Run) noteUnopened(p string, head []byte) {
	if what, do := unopenedFormat(head); what != "" {
		r.Fail(p, "%s: loftyscan does not open this format, only its raw bytes were scanned; %s", what, do)
	}
}

// openLZ4 reads LZ4 frames (concatenated ones too) and the legacy format:
// a block is at most 4 MiB (8 MiB in the legacy format), so a decoder
// holds a few of them whatever the stream claims.
func openLZ4(_ context.Context, _ *streamer, rd io.Reader) (io.ReadCloser, error) {
	return io.NopCloser(lz4.NewReader(rd)), nil
}

// mozLz4Magic starts Firefox's LZ4 files: the magic, then the text's size
// (4 bytes, little-endian), then one LZ4 block of all of it.
const mozLz4Magic = "mozLz40\x00"

// maxMozLz4 bounds the compressed block of a mozLz4 file, which is read
// whole (the block format cannot be read a piece at a time by the
// library): a browser's session of many tabs is a few MiB.
const maxMozLz4 = 64 << 20

// openMozLz4 decodes a mozLz4 file. Its text is held whole: the size it
// claims must be what an LZ4 block of its length can expand to (255 times
// it) and at most maxWindow, else it is unreadable and its raw bytes are
// scanned.
func openMozLz4(_ context.Context, st *streamer, rd io.Reader) (io.ReadCloser, error) {
	var h [12]byte
	if n, err := io.ReadFull(rd, h[:]); err != nil {
		return nil, &heldError{err, h[:n]}
	}
	claim := int64(binary.LittleEndian.Uint32(h[8:]))
	src, err := io.ReadAll(io.LimitReader(rd, maxMozLz4+1))
	held := func(err error) error { return &heldError{err, append(h[:], src...)} }
	switch {
	case err != nil:
		return nil, held(err)
	case len(src) > maxMozLz4:
		return nil, fmt.Errorf("its LZ4 block is over %s", finding.HumanBytes(maxMozLz4))
	case claim > 255*int64(len(src))+64:
		return nil, held(fmt.Errorf("it claims %s of text, more than its %d bytes of LZ4 can hold", finding.HumanBytes(claim), len(src)))
	case claim > maxWindow:
		return nil, held(fmt.Errorf("it claims %s of text, over the %s one is decoded into", finding.HumanBytes(claim), finding.HumanBytes(maxWindow)))
	case st != nil && st.entryCap > 0 && claim > st.entryCap:
		return nil, held(fmt.Errorf("it claims %s of text, over the %s cap per entry", finding.HumanBytes(claim), finding.HumanBytes(st.entryCap)))
	case st != nil && st.ratio > 0 && claim > 1<<20 && claim > st.ratio*int64(len(h)+len(src)):
		return nil, held(fmt.Errorf("it claims %s of text from %s, a compression ratio above %d:1", finding.HumanBytes(claim), finding.HumanBytes(int64(len(h)+len(src))), st.ratio))
	}
	dst := make([]byte, claim)
	n, err := lz4.UncompressBlock(src, dst)
	if err != nil {
		return nil, held(fmt.Errorf("LZ4 block: %w", err))
	}
	return io.NopCloser(bytes.NewReader(dst[:n])), nil
}

// A heldError is a decoder's error that comes with all it read of the
// stream: when the stream cannot be read again (inside an archive, past
// what is kept to replay), its raw bytes are scanned from there.
type heldError struct {
	err error
	raw []byte
}

func (e *heldError) Error() string { return e.err.Error() }
func (e *heldError) Unwrap() error { return e.err }

func openBzip2(_ context.Context, _ *streamer, rd io.Reader) (io.ReadCloser, error) {
	return io.NopCloser(bzip2.NewReader(rd)), nil
}

func openXz(ctx context.Context, st *streamer, rd io.Reader) (io.ReadCloser, error) {
	// SingleStream stays false: xz files may hold several streams, and
	// the guard reads them all.
	g := newXzGuard(rd, maxWindow)
	g.ratio = st.ratio
	g.share(ctx, &st.windows)
	fed := &countingReader{r: g} // what the decoder took, for the ratio cap
	xr, err := xz.ReaderConfig{}.NewReader(fed)
	if err != nil {
		g.release()
		return nil, err
	}
	return xzReader{xr, g, fed}, nil
}

// xzReader gives back its dictionary's share when closed.
type xzReader struct {
	*xz.Reader
	g   *xzGuard
	fed *countingReader
}

// fedBytes is what the decoder has taken of its stream: the ratio cap's
// compressed size, rather than what the guard read ahead of it.
func (x xzReader) fedBytes() *countingReader { return x.fed }

func (x xzReader) Close() error { x.g.release(); return nil }

func openZstd(ctx context.Context, st *streamer, rd io.Reader) (io.ReadCloser, error) {
	// The decoder allocates the window the frame header claims: counted
	// with the worker's other decoders (window.go) before it sees it, and
	// no later frame may claim more (past smallWindow).
	br, head, whole, widest, _ := lookZstd(rd, st.ratio) // a read error comes at the first Read
	claim, ok := zstdWindow(head)
	if whole {
		// Every frame was read: a later one may need more than the first.
		claim = max(claim, widest)
	}
	if !ok || claim < smallWindow {
		claim = smallWindow
	}
	claim = min(claim, maxWindow)
	if err := st.windows.grow(ctx, 0, claim); err != nil {
		var we *windowError
		if errors.As(err, &we) {
			we.what = "zstd frame"
		}
		return nil, err
	}
	fed := &countingReader{r: br} // what the decoder took, for the ratio cap
	d, err := zstd.NewReader(fed,
		zstd.WithDecoderConcurrency(1), // decode in the caller's goroutine, one block at a time
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(uint64(claim)),
		zstd.WithDecoderMaxMemory(uint64(maxWindow)), // also bounds a single-segment frame, whose window is its content size
	)
	if err != nil {
		st.windows.shrink(claim)
		return nil, err
	}
	return zstdReader{d: d, release: func() { st.windows.shrink(claim) }, fed: fed}, nil
}

// zstdHeadMax is the most a zstd frame's magic and header take.
const zstdHeadMax = 18

// zstdWindow reads the window the zstd frame at the head of b claims (RFC
// 8878, 3.1.1): its window descriptor, or for a single-segment frame its
// content size. ok is false when b starts with no frame header.
func zstdWindow(b []byte) (window int64, ok bool) {
	if len(b) < 6 || binary.LittleEndian.Uint32(b) != 0xFD2FB528 {
		return 0, false
	}
	fhd := b[4]
	if fhd&0x20 == 0 { // a window descriptor: exponent and mantissa
		wd := b[5]
		base := int64(1) << (10 + wd>>3)
		return base + base/8*int64(wd&7), true
	}
	at := 5 + [4]int{0, 1, 2, 4}[fhd&3] // after the dictionary ID
	n := [4]int{1, 2, 4, 8}[fhd>>6]     // bytes of the content size
	if len(b) < at+n {
		return 0, false
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[at+i])
	}
	if n == 2 {
		v += 256
	}
	return int64(min(v, 1<<62)), true
}

// zstdReader names the window errors, so the warning says why, and gives
// back its window when closed.
type zstdReader struct {
	d       *zstd.Decoder
	release func()
	fed     *countingReader
}

// fedBytes is what the decoder has taken of its stream: the ratio cap's
// compressed size, rather than what the lookahead read before it.
func (z zstdReader) fedBytes() *countingReader { return z.fed }

func (z zstdReader) Read(p []byte) (int, error) {
	n, err := z.d.Read(p)
	if errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		err = &windowError{what: "zstd frame"}
	}
	return n, err
}

func (z zstdReader) Close() error {
	z.d.Close()
	z.release()
	return nil
}

// windowError says a header asked for more decoding memory than maxWindow.
type windowError struct {
	what   string // "zstd frame", "xz block"
	claim  int64  // bytes claimed, when known
	around int64  // held by the decoders of the archives around it
}

func (e *windowError) Error() string {
	if e.around > 0 {
		return fmt.Sprintf("%s needs a window of %s, and the compressed files around it hold %s: more than the %s loftyscan gives nested decompressors together (a crafted file?); decompress it with its own tool to scan it",
			e.what, finding.HumanBytes(e.claim), finding.HumanBytes(e.around), finding.HumanBytes(maxWindow))
	}
	claim := ""
	if e.claim > 0 {
		claim = finding.HumanBytes(e.claim) + ", "
	}
	return fmt.Sprintf("%s needs a window of %smore than the %s loftyscan gives one decompressor (a crafted header?); decompress it with its own tool to scan it",
		e.what, claim, finding.HumanBytes(maxWindow))
}

// scanCompressed decompresses a bzip2, xz or zstd stream and scans what it
// holds, as scanGzip does for gzip: a tar archive (entries named
// "x.tar.xz!entry") or anything else ("x.xz!x"). raw, when not nil,
// rereads the file when it only looks compressed.
func (r *Run) scanCompressed(ctx context.Context, st *streamer, k kind, rd, raw io.Reader, p string, depth int, b *budget) error {
	c := compressors[k]
	counted := &countingReader{r: rd}
	keep := &replay{r: counted, max: cmp.Or(c.replay, replayMax)}
	if raw != nil {
		keep.max = 0 // the file itself can be reread
	}
	dec, err := c.open(ctx, st, keep)
	if err != nil {
		return r.scanUnreadable(ctx, st, c.what, keep, raw, p, err)
	}
	defer dec.Close()
	inner := p + "!" + innerName(p, c.suffixes)
	if f, ok := dec.(interface{ fedBytes() *countingReader }); ok {
		counted = f.fedBytes() // not what a lookahead read before decoding
	}
	cr := r.capped(dec, b, 0, counted)
	head, err := readHead(cr)
	if len(head) == 0 && err != nil {
		if cr.hit != nil { // the file's total cap is spent
			r.reportEntryError(inner, c.what+" data", cr, nil)
			return nil
		}
		return r.scanUnreadable(ctx, st, c.what, keep, raw, p, err)
	}
	keep.stop()
	var rest io.Reader = cr
	if err != nil {
		rest = failedReader{err} // decoders need not repeat an error
	}
	full := io.MultiReader(bytes.NewReader(head), rest)
	if sniff(head) == tarKind {
		cr.b = nil // the tar entries count the bytes against the budget
		r.scanTar(ctx, st, full, nil, p, depth+1, b)
		r.reportEntryError(p, c.what+" data", cr, nil)
		return nil
	}
	err = r.scanEntry(ctx, st, full, nil, -1, inner, depth+1, b)
	r.reportEntryError(inner, c.what+" data", cr, err)
	var ce *capError
	if k == lz4Kind && err != nil && raw != nil && !isContextErr(err) && cr.hit == nil && !errors.As(err, &ce) {
		// LZ4 keeps the text it does not repeat as it is: past the damage,
		// the raw bytes may hold a key the decoder never reached.
		r.Fail(p, "LZ4 data damaged: its raw bytes were scanned too")
		return r.scanPlain(ctx, st, raw, p)
	}
	return nil
}

// readHead reads the first sniffLen bytes of rd, or fewer and the error that
// stopped them (nil at the end of rd).
// Unlike io.ReadFull it keeps a decoder's own io.ErrUnexpectedEOF (a cut
// stream), and an error that came with the last bytes.
func readHead(rd io.Reader) ([]byte, error) {
	head := make([]byte, sniffLen)
	n := 0
	for n < len(head) {
		m, err := rd.Read(head[n:])
		n += m
		if err == io.EOF {
			return head[:n], nil
		}
		if err != nil {
			return head[:n], err
		}
	}
	return head, nil
}

// scanUnreadable scans as plain bytes a stream whose decoder failed before
// its first byte: the file again when it can be reread, or what the decoder
// read and the rest when all of it was kept.
func (r *Run) scanUnreadable(ctx context.Context, st *streamer, what string, keep *replay, raw io.Reader, p string, err error) error {
	var we *windowError
	reason := fmt.Sprintf("not a readable %s file (%v)", what, err)
	if errors.As(err, &we) {
		reason = we.Error()
	}
	switch {
	case raw != nil:
		r.Fail(p, "%s: scanned as plain bytes", reason)
		return r.scanPlain(ctx, st, raw, p)
	case !keep.over:
		r.Fail(p, "%s: scanned as plain bytes", reason)
		return r.scanPlain(ctx, st, io.MultiReader(bytes.NewReader(keep.buf), keep.r), p)
	}
	if h := (*heldError)(nil); errors.As(err, &h) {
		r.Fail(p, "%s: scanned as plain bytes", reason)
		return r.scanPlain(ctx, st, io.MultiReader(bytes.NewReader(h.raw), keep.r), p)
	}
	r.Fail(p, "%s: not scanned", reason)
	return nil
}

// failedReader returns err.
type failedReader struct{ err error }

func (f failedReader) Read([]byte) (int, error) { return 0, f.err }

// innerName names what a compressed file holds: its base name without the
// compressor's suffix ("a/b.env.xz" holds "b.env", "c.tzst" holds "c.tar").
func innerName(p string, suffixes [][2]string) string {
	base := path.Base(p[strings.LastIndexByte(p, '!')+1:])
	for _, s := range suffixes {
		if stem, ok := strings.CutSuffix(base, s[0]); ok && stem != "" {
			return stem + s[1]
		}
	}
	return base
}

// replay keeps the bytes read through it, up to max, until stop: a
// decoder's input, until the decoder has shown the stream is what its magic
// bytes said.
type replay struct {
	r    io.Reader
	buf  []byte
	max  int
	over bool // more than max was read: the start is lost
}

func (k *replay) Read(p []byte) (int, error) {
	n, err := k.r.Read(p)
	if !k.over {
		if len(k.buf)+n > k.max {
			k.stop()
		} else {
			k.buf = append(k.buf, p[:n]...)
		}
	}
	return n, err
}

// stop stops keeping bytes and frees those kept.
func (k *replay) stop() { k.buf, k.over = nil, true }
