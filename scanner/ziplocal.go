package scanner

import (
	"archive/zip"
	"compress/flate"
	"context"
	"encoding/binary"
	"io"
	"strconv"
)

// Local headers. A zip entry's compression method is written twice: in its
// local header, before its data, and in the central directory at the end.
// archive/zip reads the central directory's; unzip extracts by the local
// header's. A crafted zip that says "stored" in one and "deflate" in the
// other (with the checksum of what archive/zip reads) looks clean here and
// unpacks to a key there: such an entry is scanned both ways, with a
// warning.

// recordingReaderAt remembers the last read of a local header's size, so
// that the local header archive/zip reads for DataOffset can be looked at.
type recordingReaderAt struct {
	io.ReaderAt
	last []byte
}

func (r *recordingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.ReaderAt.ReadAt(p, off)
	if len(p) == localHeaderLen {
		r.last = append(r.last[:0], p[:n]...)
	}
	return n, err
}

const localHeaderLen = 30

// localMethod returns the compression method f's local header names, when
// it can be read.
func localMethod(rec *recordingReaderAt, f *zip.File) (uint16, bool) {
	rec.last = rec.last[:0]
	if _, err := f.DataOffset(); err != nil {
		return 0, false
	}
	h := rec.last
	if len(h) != localHeaderLen || binary.LittleEndian.Uint32(h) != 0x04034b50 {
		return 0, false
	}
	return binary.LittleEndian.Uint16(h[8:10]), true
}

// scanLocalMethod scans entry f the way its local header says, when that
// differs from the central directory, and warns about it.
func (r *Run) scanLocalMethod(ctx context.Context, st *streamer, rec *recordingReaderAt, f *zip.File, inner string, depth int, b *budget) {
	m, ok := localMethod(rec, f)
	if !ok || m == f.Method {
		return
	}
	raw, err := f.OpenRaw()
	if err != nil {
		return
	}
	var content io.Reader
	switch m {
	case zip.Store:
		content = raw
	case zip.Deflate:
		fr := flate.NewReader(raw)
		defer fr.Close()
		content = fr
	default:
		r.Warn(inner, "zip entry's local header says %s, its central directory %s: read by the central directory only", methodName(m), methodName(f.Method))
		return
	}
	r.Warn(inner, "zip entry's local header says %s, its central directory %s, as only a crafted zip does: scanned both ways (unzip reads the local header)", methodName(m), methodName(f.Method))
	cr := r.capped(content, b, int64(f.CompressedSize64), nil)
	err = r.scanEntry(ctx, st, cr, nil, -1, inner, depth, b)
	r.reportEntryError(inner, "zip entry", cr, err)
}

func methodName(m uint16) string {
	switch m {
	case zip.Store:
		return "stored"
	case zip.Deflate:
		return "deflate"
	}
	return "method " + strconv.Itoa(int(m))
}
