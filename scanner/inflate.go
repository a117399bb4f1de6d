package scanner

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"hash/crc32"
	"io"

	"github.com/klauspost/compress/flate"
	"github.com/loftyscan/loftyscan/internal/bzip2"
)

// Deflated members decoded whole. A zip entry's central directory
// declares its sizes, and a gzip file's trailer its decoded size: when the
// compressed bytes are at hand and the decoded ones are no more than
// smallMember (or, for a gzip file that is the file or blob itself, no more
// than bigMember: see gzipFits), internal/inflate decodes them in one call,
// for about half the CPU of the streaming decoders (BenchmarkInflate in
// internal/gitobj).
// Anything unusual (sizes that do not match, a checksum that fails, a gzip
// file of several members, damage) goes the streaming way instead, which
// scans what can be read and names the damage: the results are the same
// either way.

// newFlateReader streams the deflated members that are not decoded whole
// (big zip entries, gzip files that are big or unusual): klauspost's
// flate, for about 83% of compress/flate's CPU on the big gzip files of a
// real history (BenchmarkInflate in internal/gitobj compares the two on
// every object of a pack). compress/gzip and archive/zip's own
// decompressor would use compress/flate.
func newFlateReader(r io.Reader) io.ReadCloser { return flate.NewReader(r) }

// zipBzip2 is the zip method of an entry compressed with bzip2 (`zip -Z
// bzip2`, 7-Zip's option), which archive/zip does not know.
const zipBzip2 = 12

// newBzip2Reader decodes a zip entry compressed with bzip2.
func newBzip2Reader(r io.Reader) io.ReadCloser { return io.NopCloser(bzip2.NewReader(r)) }

// smallMember is the most a member of an archive may decode to, or take
// compressed, to be decoded whole (and a gzip file without taking a slot):
// a chunk, what a worker's buffer holds anyway, and no more than the size
// past which the ratio cap is checked (ratioFloor), so that the cap cannot
// tell the two ways apart for them.
const smallMember = 1 << 20

// Big gzip files. Histories hold gzip files that decode to megabytes
// (prometheus's source maps: 2–7 MB each, 8% of its scan when streamed),
// so a gzip file that is the file or blob being scanned (depth 0), not a
// member of an archive, is decoded whole up to bigMember, compressed and
// decoded, while its worker holds one of its Run's wholeSlots: the run
// holds at most wholeSlots×2×bigMember (64 MiB) for them, whatever the
// number of workers, and a worker waits for a slot while others hold them.
// Whether a file is decoded whole depends only on the file and the
// Limits, never on the number of workers or on timing.
//
// It must also be within the entry cap. The ratio cap is checked on a
// gzip file itself past bigMember (gzipRatioFloor), not ratioFloor, so
// that a file within bigMember is read to its end whether it is decoded
// whole or streamed (from stdin, or a blob over a worker's share of
// memory, which depends on the number of workers). Checked past
// ratioFloor, the stream stopped a file whose first MiB alone is past the
// ratio, and the whole not, that the whole way read to its end.
//
// A worker takes a slot only at depth 0, at the start of a file, when no
// decoder of it holds a dictionary slot (window.go): it may wait for a
// dictionary slot while it holds a whole slot, never the other way
// round, so the two kinds of slots cannot deadlock.
const (
	bigMember  = 8 << 20
	wholeSlots = 4
)

// wholeGate holds the slots of a Run for big gzip files.
type wholeGate struct{ slots chan struct{} }

func newWholeGate() *wholeGate { return &wholeGate{slots: make(chan struct{}, wholeSlots)} }

// gzipFits reports whether a gzip file of the declared decoded size,
// compressed into compressed bytes, depth archives deep, is decoded whole,
// and takes a slot when it must (release gives it back).
func (st *streamer) gzipFits(ctx context.Context, decoded, compressed uint64, depth int) (release func(), ok bool) {
	if decoded <= smallMember && compressed <= smallMember {
		return func() {}, true
	}
	if depth > 0 || st.whole == nil || decoded > bigMember || compressed > bigMember || decoded > uint64(max(st.entryCap, 0)) {
		return nil, false
	}
	select {
	case st.whole.slots <- struct{}{}:
		return func() { <-st.whole.slots }, true
	case <-ctx.Done():
		return nil, false
	}
}

// openZipEntry opens a zip entry's content: decoded whole when it is a
// small deflated one, else streamed by archive/zip.
func (st *streamer) openZipEntry(f *zip.File) (io.ReadCloser, error) {
	if data, ok := st.inflateZip(f); ok {
		return io.NopCloser(bytes.NewReader(data)), nil
	}
	return f.Open()
}

// inflateZip decodes a small deflated zip entry whole, checking its size
// and CRC-32 as archive/zip does; ok is false when it does not apply.
func (st *streamer) inflateZip(f *zip.File) ([]byte, bool) {
	if f.Method != zip.Deflate || f.UncompressedSize64 > smallMember || f.CompressedSize64 > smallMember {
		return nil, false
	}
	raw, err := f.OpenRaw()
	if err != nil {
		return nil, false
	}
	src := make([]byte, f.CompressedSize64)
	if _, err := io.ReadFull(raw, src); err != nil {
		return nil, false
	}
	data := make([]byte, f.UncompressedSize64)
	if _, err := st.inflate.Into(data, src); err != nil || crc32.ChecksumIEEE(data) != f.CRC32 {
		return nil, false
	}
	return data, true
}

// inflateGzip decodes a gzip file whole when raw gives random access to
// all of it (a file on disk, a blob in memory) and it fits (gzipFits),
// checking its trailer as compress/gzip does. It returns the content, the
// name the header gives, and what gives its slot back; ok is false when it
// does not apply.
func (st *streamer) inflateGzip(ctx context.Context, raw io.Reader, depth int) (content io.Reader, name string, release func(), ok bool) {
	sr, isSection := raw.(*io.SectionReader)
	if !isSection || sr.Size() < 8 {
		return nil, "", nil, false
	}
	var trailer [8]byte
	if _, err := sr.ReadAt(trailer[:], sr.Size()-8); err != nil {
		return nil, "", nil, false
	}
	size := binary.LittleEndian.Uint32(trailer[4:])
	release, fits := st.gzipFits(ctx, uint64(size), uint64(sr.Size()), depth)
	if !fits {
		return nil, "", nil, false
	}
	content, name, ok = st.inflateGzipWhole(sr, size)
	if !ok {
		release()
		return nil, "", nil, false
	}
	return content, name, release, true
}

// inflateGzipWhole decodes the gzip file sr, of the decoded size its
// trailer declares, in one call.
func (st *streamer) inflateGzipWhole(sr *io.SectionReader, size uint32) (content io.Reader, name string, ok bool) {
	file := make([]byte, sr.Size())
	if _, err := sr.ReadAt(file, 0); err != nil {
		return nil, "", false
	}
	// compress/gzip reads the header, and no more, from a reader that
	// reads a byte at a time: what is left is the deflate stream and the
	// 8-byte trailer, CRC-32 then size.
	br := bytes.NewReader(file)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, "", false
	}
	start, end := len(file)-br.Len(), len(file)-8
	if end < start {
		return nil, "", false
	}
	data := make([]byte, size)
	n, err := st.inflate.Into(data, file[start:end])
	if err != nil || start+n != end || crc32.ChecksumIEEE(data) != binary.LittleEndian.Uint32(file[end:]) {
		return nil, "", false // damaged, or more than one member
	}
	return bytes.NewReader(data), zr.Name, true
}
