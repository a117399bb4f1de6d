package scanner

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
)

// archive/zip parses a zip's whole central directory before the first
// entry is read, about 300 bytes of memory an entry: a zip of millions of
// empty entries (an 84 MB file of a million took 295 MB), held within the
// 256 MiB entry cap or stored in a pack as a few compressed megabytes,
// would hold gigabytes whatever the entry cap. So a directory of more
// entries than the cap is cut before archive/zip sees it: the archive is
// read through a view that ends after the cap's last directory record,
// with a new end record (zip64) that counts only those.

// Signatures and sizes of the zip records read and written here.
const (
	zipDirHeaderSig = 0x02014b50
	zipDirEndSig    = 0x06054b50
	zip64LocatorSig = 0x07064b50
	zip64DirEndSig  = 0x06064b50
	zipDirHeaderLen = 46
	zipDirEndLen    = 22
	zip64LocatorLen = 20
	zip64DirEndLen  = 56
)

// cutCentralDirectory returns ra, or a view of it whose central directory
// holds only its first max records when it has more, and the view's size.
// A directory it cannot follow (damaged, or where archive/zip would not
// look for it) is left as it is, for archive/zip to read or refuse.
func cutCentralDirectory(ra io.ReaderAt, size int64, max int) (io.ReaderAt, int64, bool) {
	if size/zipDirHeaderLen <= int64(max) {
		return ra, size, false // no room for more records than the cap: most zips
	}
	start, recorded, ok := centralDirectoryStart(ra, size)
	if !ok {
		return ra, size, false
	}
	end, n := start, 0
	dir := bufio.NewReaderSize(io.NewSectionReader(ra, start, size-start), 64<<10)
	var h [zipDirHeaderLen]byte
	for ; n < max; n++ {
		if _, err := io.ReadFull(dir, h[:]); err != nil || binary.LittleEndian.Uint32(h[:]) != zipDirHeaderSig {
			return ra, size, false // fewer records than the cap: nothing to cut
		}
		rest := int(binary.LittleEndian.Uint16(h[28:])) + int(binary.LittleEndian.Uint16(h[30:])) + int(binary.LittleEndian.Uint16(h[32:]))
		if _, err := dir.Discard(rest); err != nil {
			return ra, size, false
		}
		end += zipDirHeaderLen + int64(rest)
	}
	if _, err := io.ReadFull(dir, h[:4]); err != nil || binary.LittleEndian.Uint32(h[:]) != zipDirHeaderSig {
		return ra, size, false // exactly max records
	}
	// The new end records start where the cut directory ends, and keep
	// its recorded offset: archive/zip works out the same start from them.
	tail := zip64End(uint64(n), uint64(end-start), uint64(recorded), uint64(end))
	return &cutView{ra: ra, end: end, tail: tail}, end + int64(len(tail)), true
}

// cutView reads ra up to end, then tail.
type cutView struct {
	ra   io.ReaderAt
	end  int64
	tail []byte
}

func (v *cutView) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := 0
	if off < v.end {
		k, err := v.ra.ReadAt(p[:min(int64(len(p)), v.end-off)], off)
		n += k
		if err != nil && err != io.EOF || k < int(min(int64(len(p)), v.end-off)) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
		off += int64(k)
	}
	if n == len(p) {
		return n, nil
	}
	if t := off - v.end; t < int64(len(v.tail)) {
		n += copy(p[n:], v.tail[t:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// centralDirectoryStart returns where the central directory starts and
// the offset its end record gives (zip64's when it has one), worked out as
// archive/zip does: the directory ends where its end record starts, and
// data before the zip proper (a self-extracting archive's program) moves
// every offset by as much, unless a directory record is at the offset as
// given.
func centralDirectoryStart(ra io.ReaderAt, size int64) (start, recorded int64, ok bool) {
	end, ok := findDirEnd(ra, size)
	if !ok {
		return 0, 0, false
	}
	var e [zipDirEndLen]byte
	if _, err := ra.ReadAt(e[:], end); err != nil {
		return 0, 0, false
	}
	le := binary.LittleEndian
	dirSize, recorded := int64(le.Uint32(e[12:])), int64(le.Uint32(e[16:]))
	if le.Uint16(e[10:]) == 0xffff || le.Uint32(e[12:]) == 0xffff || recorded == 0xffffffff {
		var l [zip64LocatorLen]byte
		var z [zip64DirEndLen]byte
		if end >= zip64LocatorLen {
			if _, err := ra.ReadAt(l[:], end-zip64LocatorLen); err == nil && le.Uint32(l[:]) == zip64LocatorSig {
				if p := le.Uint64(l[8:]); p < uint64(size) {
					if _, err := ra.ReadAt(z[:], int64(p)); err == nil && le.Uint32(z[:]) == zip64DirEndSig {
						end, dirSize, recorded = int64(p), int64(le.Uint64(z[40:])), int64(le.Uint64(z[48:]))
					}
				}
			}
		}
	}
	if dirSize < 0 || recorded < 0 {
		return 0, 0, false
	}
	base := end - dirSize - recorded
	if base > 0 && dirRecordAt(ra, recorded) {
		base = 0
	}
	if start = base + recorded; start < 0 || start >= size || !dirRecordAt(ra, start) {
		return 0, 0, false
	}
	return start, recorded, true
}

// dirRecordAt reports whether a central directory record's signature is
// at off.
func dirRecordAt(ra io.ReaderAt, off int64) bool {
	var sig [4]byte
	_, err := ra.ReadAt(sig[:], off)
	return err == nil && binary.LittleEndian.Uint32(sig[:]) == zipDirHeaderSig
}

// findDirEnd returns the offset of the end record: the last signature in
// the file's last 64 KiB and 22 bytes whose comment reaches no further
// than the file, as archive/zip looks for it.
func findDirEnd(ra io.ReaderAt, size int64) (int64, bool) {
	n := min(size, zipDirEndLen+0xffff)
	buf := make([]byte, n)
	if _, err := ra.ReadAt(buf, size-n); err != nil && err != io.EOF {
		return 0, false
	}
	sig := []byte{0x50, 0x4b, 0x05, 0x06}
	for i := len(buf) - zipDirEndLen; i >= 0; i-- {
		if !bytes.Equal(buf[i:i+4], sig) {
			continue
		}
		if comment := int(binary.LittleEndian.Uint16(buf[i+20:])); i+zipDirEndLen+comment <= len(buf) {
			return size - n + int64(i), true
		}
	}
	return 0, false
}

// zip64End returns a zip64 end record, its locator and an end record for
// a directory of n records, size bytes from start, followed by the
// records at at.
func zip64End(n, size, start, at uint64) []byte {
	le := binary.LittleEndian
	b := make([]byte, 0, zip64DirEndLen+zip64LocatorLen+zipDirEndLen)
	b = le.AppendUint32(b, zip64DirEndSig)
	b = le.AppendUint64(b, zip64DirEndLen-12)
	b = le.AppendUint16(b, 45) // version made by
	b = le.AppendUint16(b, 45) // needed
	b = le.AppendUint32(b, 0)  // this disk
	b = le.AppendUint32(b, 0)  // the directory's disk
	b = le.AppendUint64(b, n)
	b = le.AppendUint64(b, n)
	b = le.AppendUint64(b, size)
	b = le.AppendUint64(b, start)
	b = le.AppendUint32(b, zip64LocatorSig)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint64(b, at)
	b = le.AppendUint32(b, 1) // disks
	b = le.AppendUint32(b, zipDirEndSig)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint16(b, 0xffff)
	b = le.AppendUint16(b, 0xffff)
	b = le.AppendUint32(b, 0xffffffff)
	b = le.AppendUint32(b, 0xffffffff)
	return le.AppendUint16(b, 0) // comment
}
