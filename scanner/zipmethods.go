package scanner

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ulikunitz/xz/lzma"
)

// Zip entries compressed with LZMA, xz or zstd. Python's zipfile writes
// LZMA (ZIP_LZMA) and, from 3.14, zstd (ZIP_ZSTANDARD); 7-Zip writes all
// three. archive/zip knows stored and deflated entries only, so these were
// named in a warning and left unread. They are decoded with the decoders
// the files of those formats use, under the same memory accounting
// (window.go): a header's claim is counted before anything is allocated.
const (
	zipLZMA = 14 // APPNOTE 4.4.5: LZMA, with a 4-byte header of its own
	zipZstd = 93
	zipXz   = 95
)

// registerZipMethods makes zr decode the methods above on st's worker.
// LZMA needs the entry itself (its size and flags), so its decoder is set
// for each entry by lzmaFor.
func registerZipMethods(ctx context.Context, st *streamer, zr *zip.Reader) {
	zr.RegisterDecompressor(zipZstd, func(rd io.Reader) io.ReadCloser { return openedOrFailed(openZstd(ctx, st, rd)) })
	zr.RegisterDecompressor(zipXz, func(rd io.Reader) io.ReadCloser { return openedOrFailed(openXz(ctx, st, rd)) })
}

// lzmaFor sets zr's LZMA decoder for entry f, before f is opened.
func (r *Run) lzmaFor(ctx context.Context, st *streamer, zr *zip.Reader, f *zip.File) {
	if f.Method != zipLZMA {
		return
	}
	most := lzmaDictMost(f, r.opts.Limits)
	zr.RegisterDecompressor(zipLZMA, func(rd io.Reader) io.ReadCloser { return openedOrFailed(openZipLZMA(ctx, st, rd, f, most)) })
}

// lzmaDictMost is the largest dictionary entry f's stream can use, as
// read here: no match reaches back past the start of what it decodes to,
// and archive/zip stops an entry past its recorded size, the per-entry cap
// past EntryBytes, the ratio cap past Ratio times its compressed size (or
// lzmaDictPerByte times, with the ratio cap off), and lzmaDictFloor
// whatever its compressed size. The decoder allocates its dictionary whole
// and zeroed when opened: without this, a 226 KB zip of 2,000 tiny entries
// each claiming 128 MiB took 33 s of clearing memory (with a floor of 1
// MiB, what an entry may decode to before the ratio cap is checked, 1.9
// s; zip allows 100,000 entries). A stream that reaches back further (a
// long repeat in data that compresses over 200:1) fails with a warning
// that names the entry: never read as clean.
func lzmaDictMost(f *zip.File, l Limits) int64 {
	most := int64(min(f.UncompressedSize64, 1<<40))
	if l.EntryBytes > 0 {
		most = min(most, l.EntryBytes)
	}
	per := int64(lzmaDictPerByte)
	if l.Ratio > 0 {
		per = int64(l.Ratio)
	}
	byData := max(lzmaDictFloor, per*int64(min(f.CompressedSize64, 1<<40)))
	return max(min(most, byData), lzma.MinDictCap)
}

// lzmaDictPerByte bounds an LZMA entry's dictionary by its compressed size
// when the ratio cap is off: far more than any real stream needs.
const lzmaDictPerByte = 1024

// lzmaDictFloor is the dictionary an LZMA entry may have whatever its
// compressed size: clearing it costs microseconds.
const lzmaDictFloor = 64 << 10

// openedOrFailed is rc, or a reader that fails with err: zip's decoders
// cannot return an error, and archive/zip passes it on at the first Read.
func openedOrFailed(rc io.ReadCloser, err error) io.ReadCloser {
	if err != nil {
		return io.NopCloser(failedReader{err})
	}
	return rc
}

// zipLZMAEOS is the general-purpose flag that says an LZMA entry ends with
// an end-of-stream marker (its size is then not needed to stop).
const zipLZMAEOS = 1 << 1

// openZipLZMA decodes an LZMA zip entry (APPNOTE 5.8.8): a version (2
// bytes), the properties' size (2 bytes, 5), the properties (lc/lp/pb, and
// the dictionary size), then the raw stream. It is given to the decoder
// as the .lzma file format would hold it, with the entry's size, or -1
// when an end marker closes it; the dictionary counted and allocated is
// the one claimed, but no larger than most (lzmaDictMost).
func openZipLZMA(ctx context.Context, st *streamer, rd io.Reader, f *zip.File, most int64) (io.ReadCloser, error) {
	var head [9]byte
	if _, err := io.ReadFull(rd, head[:]); err != nil {
		return nil, fmt.Errorf("lzma: entry too short for its header: %w", err)
	}
	if n := binary.LittleEndian.Uint16(head[2:4]); n != 5 {
		return nil, fmt.Errorf("lzma: properties of %d bytes, not 5", n)
	}
	size := int64(-1)
	if f.Flags&zipLZMAEOS == 0 {
		if f.UncompressedSize64 > 1<<50 {
			return nil, errors.New("lzma: entry size out of range")
		}
		size = int64(f.UncompressedSize64)
	}
	claim := int64(binary.LittleEndian.Uint32(head[5:9]))
	dict := max(min(claim, most), lzma.MinDictCap)
	if dict > maxWindow {
		return nil, &windowError{what: "zip entry's LZMA stream", claim: dict}
	}
	if err := st.windows.grow(ctx, 0, dict); err != nil {
		var we *windowError
		if errors.As(err, &we) {
			we.what = "zip entry's LZMA stream"
		}
		return nil, err
	}
	var hdr [lzma.HeaderLen]byte
	hdr[0] = head[4]
	binary.LittleEndian.PutUint32(hdr[1:5], uint32(dict))
	binary.LittleEndian.PutUint64(hdr[5:], uint64(size))
	lr, err := lzma.ReaderConfig{DictCap: int(dict)}.NewReader(io.MultiReader(bytes.NewReader(hdr[:]), rd))
	if err != nil {
		st.windows.shrink(dict)
		return nil, err
	}
	return lzmaReader{lr, func() { st.windows.shrink(dict) }}, nil
}

// lzmaReader gives back its dictionary's share when closed.
type lzmaReader struct {
	*lzma.Reader
	release func()
}

func (l lzmaReader) Close() error { l.release(); return nil }
