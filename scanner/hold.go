package scanner

import (
	"bytes"
	"io"
	"math"
	"os"
	"runtime"
)

// Holding archives. zip needs random access: a zip read from a stream
// (standard input, an entry of another archive, a big git blob) is read
// whole first, within the entry cap. Up to holdMem bytes it is held in
// memory; a bigger one goes to a temporary file, so that memory stays
// bounded whatever the cap.

// holdMem is the most of one archive held in memory, while few workers
// hold archives at once; with more than holdBudget/holdMem of them, each
// holds its share of holdBudget, at least minHold (holdShare), so that a
// folder of nested zips read by 64 workers cannot take 64 times as much.
const (
	holdMem    = 8 << 20
	holdBudget = 64 << 20
	minHold    = 1 << 20
)

// holdShare is the most of one archive each of n workers holds in memory.
func holdShare(n int) int64 {
	return min(max(holdBudget/int64(max(n, 1)), minHold), holdMem)
}

// heldArchive is an archive read whole from a stream.
type heldArchive struct {
	ra   io.ReaderAt
	size int64
	f    *os.File // the temporary file, or nil
}

// section returns all of it, to read from the start.
func (h *heldArchive) section() io.Reader { return io.NewSectionReader(h.ra, 0, h.size) }

// close removes the temporary file, if there is one.
func (h *heldArchive) close() {
	if h.f != nil {
		name := h.f.Name()
		h.f.Close()
		os.Remove(name) // already gone on Unix
	}
}

// holdArchive reads rd to its end, up to max bytes, of which it holds up
// to inMem in memory and the rest in a temporary file. complete is false when
// there was more than max, or a read error (returned): then the archive
// holds what was read, for the caller to scan as plain bytes followed by
// the rest of rd.
func holdArchive(rd io.Reader, max, inMem int64) (h *heldArchive, complete bool, err error) {
	lim := io.LimitReader(rd, plusOne(max))
	mem, err := io.ReadAll(io.LimitReader(lim, inMem+1))
	h = &heldArchive{ra: bytes.NewReader(mem), size: int64(len(mem))}
	if err != nil || int64(len(mem)) <= inMem {
		return h, err == nil && h.size <= max, err
	}
	f, ferr := os.CreateTemp("", "loftyscan-archive-*")
	if ferr != nil {
		return h, false, ferr
	}
	if runtime.GOOS != "windows" {
		os.Remove(f.Name())
	}
	h.f = f
	if _, err := f.Write(mem); err != nil {
		return h, false, err
	}
	n, err := io.Copy(f, lim)
	h.ra, h.size = f, int64(len(mem))+n
	return h, err == nil && h.size <= max, err
}

// plusOne is n+1, or n when that would overflow: a cap of MaxInt64 bytes
// is no cap.
func plusOne(n int64) int64 {
	if n == math.MaxInt64 {
		return n
	}
	return n + 1
}
