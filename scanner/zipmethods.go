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

// lzmaFor sets zr's LZMA decoder for entry f, before f is opened; comp is
// the entry's compressed size as the archive can hold it (zipDataBytes).
// The dictionaries of one zip's LZMA entries share left (lzmaBudget):
// entries that point at the same bytes, or claim what they like, cannot
// each take one (a 113 KB zip of 1,000 such entries took 33 s).
func (r *Run) lzmaFor(ctx context.Context, st *streamer, zr *zip.Reader, f *zip.File, comp int64, left *int64) {
	if f.Method != zipLZMA {
		return
	}
	most := lzmaDictMost(f, comp, r.opts.Limits)
	if most > lzmaDictFree { // a smaller one is cheap to clear: a zip of small files is never refused
		if most > *left {
			err := errors.New("lzma: the zip's LZMA entries claim more dictionary than its size allows (a crafted zip?); unzip it to scan it")
			zr.RegisterDecompressor(zipLZMA, func(io.Reader) io.ReadCloser { return io.NopCloser(failedReader{err}) })
			return
		}
		*left -= most
	}
	zr.RegisterDecompressor(zipLZMA, func(rd io.Reader) io.ReadCloser { return openedOrFailed(openZipLZMA(ctx, st, rd, f, most)) })
}

// lzmaDictFree is the dictionary an LZMA entry takes outside its zip's
// budget: clearing it costs microseconds.
const lzmaDictFree = 64 << 10

// lzmaBudget is what the LZMA dictionaries over lzmaDictFree of one zip of
// size bytes may take together.
func lzmaBudget(size int64) int64 { return 2*maxWindow + lzmaDictPerByte*max(size, 0) }

// zipDataBytes is entry f's compressed size, but no more than the bytes
// after its data's start in an archive of size bytes: the central
// directory's number is not checked against the data, and a crafted one
// would loosen the ratio cap and the dictionary bound.
func zipDataBytes(f *zip.File, size int64) int64 {
	c := int64(min(f.CompressedSize64, 1<<62))
	if off, err := f.DataOffset(); err == nil && off <= size {
		c = min(c, size-off)
	}
	return c
}

// lzmaDictMost is the largest dictionary entry f's stream can use, as
// read here: no match reaches back past the start of what it decodes to,
// and archive/zip stops an entry past its recorded size, the per-entry cap
// past EntryBytes, and the ratio cap past ratioFloor and Ratio times its
// compressed size comp (lzmaDictPerByte times, with the ratio cap off).
// The decoder allocates its dictionary whole and zeroed when opened:
// without this, a 226 KB zip of 2,000 tiny entries each claiming 128 MiB
// took 33 s of clearing memory.
func lzmaDictMost(f *zip.File, comp int64, l Limits) int64 {
	most := int64(min(f.UncompressedSize64, 1<<40))
	if l.EntryBytes > 0 {
		most = min(most, l.EntryBytes)
	}
	per := int64(lzmaDictPerByte)
	if l.Ratio > 0 {
		per = l.Ratio
	}
	byData := max(ratioFloor, per*min(comp, 1<<40))
	return max(min(most, byData), lzma.MinDictCap)
}

// lzmaDictPerByte bounds an LZMA entry's dictionary by its compressed size
// when the ratio cap is off, and the dictionaries of a zip's entries
// together by its size.
const lzmaDictPerByte = 256

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
