//go:build unix

package scanner

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/loftyscan/loftyscan/finding"
)

// openNoBlock opens a file for reading without blocking: a path that turns
// into a FIFO between the walk and the open must not hang the scan.
func openNoBlock(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

// openDir opens a folder to list it and to open its files in. Unless
// follow, a folder that turned into a symbolic link since its parent was
// listed is not opened (ELOOP), so the walk cannot be led out of the tree.
func openDir(path string, follow bool) (*dirHandle, error) {
	flags := os.O_RDONLY | syscall.O_DIRECTORY
	if !follow {
		flags |= syscall.O_NOFOLLOW
	}
	f, err := os.OpenFile(path, flags, 0)
	if err != nil {
		return nil, err
	}
	d := &dirHandle{f: f, fd: int(f.Fd()), path: path}
	d.exactSizes = exactSizes(d.fd)
	d.refs.Store(1)
	return d, nil
}

// scanFileIn scans the file name of folder d, which the walk listed as a
// regular file. It is opened in d (no path for the kernel to walk again),
// without following a link and without blocking, then checked with one
// fstat: whatever the name has turned into since the listing (a FIFO, a
// device, a link), only a regular file is read. A file that fits in the
// worker's buffer is read whole with plain reads and, unless it is an
// archive or compressed, scanned in place; others are streamed from their
// start as before.
//
// After an empty file, the next is first looked at with fstatat: when it
// is empty too, and readable for sure, it is counted as read without being
// opened (see scanEmptyIn).
func (wk *Worker) scanFileIn(ctx context.Context, d *dirHandle, name, rel string) {
	r := wk.r
	if wk.lastEmpty && d.exactSizes && wk.scanEmptyIn(ctx, d, name, rel) {
		return
	}
	fd, err := openAt(d.fd, name)
	if err != nil {
		r.Fail(rel, "cannot open: %v", err)
		return
	}
	var st unix.Stat_t
	if err := ignoringEINTR(func() error { return unix.Fstat(fd, &st) }); err != nil {
		unix.Close(fd)
		r.Fail(rel, "cannot stat: %v", err)
		return
	}
	if mode := statMode(uint32(st.Mode)); !mode.IsRegular() {
		unix.Close(fd)
		r.Skip(rel, "%s, not read", describeMode(mode.Type()))
		return
	}
	wk.lastEmpty = st.Size == 0
	if st.Size < int64(len(wk.st.buf)) && wk.scanWhole(ctx, fd, int(st.Size), d.exactSizes, rel) {
		unix.Close(fd)
		return
	}
	f := os.NewFile(uintptr(fd), filepath.Join(d.path, name)) // f owns fd now
	defer f.Close()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		r.Fail(rel, "read error, the rest of the file was not scanned: %v", finding.DropPath(err))
		return
	}
	wk.scanOpenFile(ctx, f, st.Size, d.exactSizes, rel)
}

// scanEmptyIn counts the file name of folder d as read, without opening
// it, when fstatat says it is an empty regular file that the scan could
// open: open, fstat and close cost three times what the lookup does, and a
// tree of empty files (lock files, markers, __init__.py) is all of that.
// An empty file has nothing to scan; what opening it could still tell is
// that it cannot be opened, so only a file the process owns and may read
// by its owner bits (which an ACL cannot override) is counted this way;
// others, and anything fstatat cannot answer or that is not an empty
// regular file (whatever the name turned into since the listing), go the
// general way, which reports them as the open finds them. It returns
// whether it counted the file.
func (wk *Worker) scanEmptyIn(ctx context.Context, d *dirHandle, name, rel string) bool {
	var st unix.Stat_t
	err := ignoringEINTR(func() error { return unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) })
	if err != nil || statMode(uint32(st.Mode)) != 0 || st.Size != 0 ||
		st.Uid != uint32(euid) || st.Mode&unix.S_IRUSR == 0 {
		return false
	}
	wk.scanHeld(ctx, wk.st.buf[:0], rel)
	return true
}

// euid is the process's effective user, who owns the files scanEmptyIn may
// count without opening them.
var euid = os.Geteuid()

func openAt(dirfd int, name string) (int, error) {
	var fd int
	err := ignoringEINTR(func() error {
		var err error
		fd, err = unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		return err
	})
	return fd, err
}

// scanWhole reads the file behind fd to its end into the worker's buffer
// and, when it all fits and is plain content (not an archive or compressed
// file), scans it there. size is what fstat said; when the file system's
// sizes are exact, the read stops once it has size bytes (an empty file is
// not read at all), else at the end of the file. It returns false, having
// reported and counted nothing, when the file must be read the general
// way: it is an archive, it did not fit (it grew since the fstat), or a
// read failed (the general way reads it again and reports the failure
// where it happens).
func (wk *Worker) scanWhole(ctx context.Context, fd, size int, exact bool, rel string) bool {
	buf := wk.st.buf
	n := 0
	for !exact || n != size {
		var m int
		err := ignoringEINTR(func() error {
			var err error
			m, err = unix.Read(fd, buf[n:])
			return err
		})
		if err != nil {
			return false
		}
		if m == 0 {
			break
		}
		if n += m; n == len(buf) {
			return false
		}
	}
	if sniff(buf[:min(n, sniffLen)]) != plain || launcherZipData(buf[:n]) {
		return false
	}
	wk.scanHeld(ctx, buf[:n], rel)
	return true
}

func ignoringEINTR(call func() error) error {
	for {
		if err := call(); err != unix.EINTR {
			return err
		}
	}
}

// statMode turns the type bits of a stat's mode into an fs.FileMode type,
// as os.Stat does.
func statMode(m uint32) fs.FileMode {
	switch m & unix.S_IFMT {
	case unix.S_IFREG:
		return 0
	case unix.S_IFDIR:
		return fs.ModeDir
	case unix.S_IFLNK:
		return fs.ModeSymlink
	case unix.S_IFIFO:
		return fs.ModeNamedPipe
	case unix.S_IFSOCK:
		return fs.ModeSocket
	case unix.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		return fs.ModeDevice
	}
	return fs.ModeIrregular
}
