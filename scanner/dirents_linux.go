package scanner

import (
	"bytes"
	"encoding/binary"
	"io/fs"

	"golang.org/x/sys/unix"
)

// readEntries lists the open folder d with getdents64 into buf (the
// walker's, reused from folder to folder): os.File.ReadDir allocates an
// entry per name, which a folder of a hundred thousand files pays for in
// garbage. A name whose type the file system does not give (DT_UNKNOWN)
// is looked up with fstatat, as os.File.ReadDir does.
func readEntries(d *dirHandle, buf []byte) ([]dirEntry, error) {
	var entries []dirEntry
	for {
		n, err := unix.Getdents(d.fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return entries, err
		}
		if n <= 0 {
			return entries, nil
		}
		entries = parseDirents(d.fd, buf[:n], entries)
	}
}

// parseDirents appends the entries of b, records of getdents64 from the
// folder dirfd, to entries: "." and "..", and records of deleted names
// (inode 0), left out.
func parseDirents(dirfd int, b []byte, entries []dirEntry) []dirEntry {
	for len(b) >= 19 {
		reclen := int(binary.NativeEndian.Uint16(b[16:]))
		if reclen < 19 || reclen > len(b) {
			break // damaged: the rest of this batch is ignored, as os.File.ReadDir does
		}
		rec := b[:reclen]
		b = b[reclen:]
		name := rec[19:]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		ino := binary.NativeEndian.Uint64(rec)
		if ino == 0 || string(name) == "." || string(name) == ".." {
			continue
		}
		e := dirEntry{name: string(name), typ: direntType(rec[18])}
		if rec[18] == unix.DT_UNKNOWN {
			var st unix.Stat_t
			if err := unix.Fstatat(dirfd, e.name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				continue // gone since the listing
			}
			e.typ = statMode(st.Mode)
		}
		entries = append(entries, e)
	}
	return entries
}

func direntType(t uint8) fs.FileMode {
	switch t {
	case unix.DT_REG:
		return 0
	case unix.DT_DIR:
		return fs.ModeDir
	case unix.DT_LNK:
		return fs.ModeSymlink
	case unix.DT_FIFO:
		return fs.ModeNamedPipe
	case unix.DT_SOCK:
		return fs.ModeSocket
	case unix.DT_CHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case unix.DT_BLK:
		return fs.ModeDevice
	}
	return fs.ModeIrregular
}
