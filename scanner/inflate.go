package scanner

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"io"

	"github.com/klauspost/compress/flate"
)

// Small deflated members, decoded whole. A zip entry's central directory
// declares its sizes, and a gzip file's trailer its decoded size: when the
// compressed bytes are at hand and the decoded ones are no more than
// smallMember, internal/inflate decodes them in one call, for about 70% of
// compress/flate's CPU (BenchmarkInflate in internal/gitobj).
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

// smallMember is the most a member may decode to, or take compressed, to be
// decoded whole: a chunk, what a worker's buffer holds anyway, and no more
// than the size past which the ratio cap is checked (ratioFloor), so that
// the cap cannot tell the two ways apart.
const smallMember = 1 << 20

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

// inflateGzip decodes a small gzip file whole when raw gives random access
// to all of it (a file on disk, a blob in memory), checking its trailer as
// compress/gzip does. It returns the content and the name the header
// gives; ok is false when it does not apply.
func (st *streamer) inflateGzip(raw io.Reader) (content io.Reader, name string, ok bool) {
	sr, isSection := raw.(*io.SectionReader)
	if !isSection || sr.Size() > smallMember {
		return nil, "", false
	}
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
	size := binary.LittleEndian.Uint32(file[end+4:])
	if size > smallMember {
		return nil, "", false
	}
	data := make([]byte, size)
	n, err := st.inflate.Into(data, file[start:end])
	if err != nil || start+n != end || crc32.ChecksumIEEE(data) != binary.LittleEndian.Uint32(file[end:]) {
		return nil, "", false // damaged, or more than one member
	}
	return bytes.NewReader(data), zr.Name, true
}
