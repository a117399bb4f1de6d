// Package atomicfile writes files that appear whole or not at all.
//
// A report, a baseline or a git hook is written to a temporary file in the
// destination's folder, flushed to disk, and only then renamed over the
// destination. A full disk, a write error, a crash or a kill half way leaves
// the destination as it was (absent, or the previous file): never truncated,
// never empty.
//
// Renaming has a second use: a symbolic link at the destination is replaced,
// never written through. A CI job writes its report into a folder the change
// under review controls, and a pull request can plant loftyscan.sarif as a
// link to ~/.bashrc or to a file of the runner; the report then replaces the
// link and the link's target is left alone. Folders above the destination
// are followed as the operating system does: they are the ones the user named.
//
// Destinations that cannot be renamed over are written directly: character
// devices and named pipes (/dev/null, /dev/full, a terminal, a pipe made with
// mkfifo) and the system's own links to them under /dev and /proc
// (/dev/stdout, /dev/stderr, /dev/fd/N, as in `--output >(jq .)`). A block
// device (a disk) and a folder are refused.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// File is a file being written. Write to it, then Commit to make it appear
// at its destination, or Abort to leave the destination as it was. Its
// methods are not safe for concurrent use: a program that must exit at once
// removes TempName itself.
type File struct {
	f    *os.File
	dest string
	tmp  string // the temporary file; "" when the destination is written directly
	err  error  // the first write error: Commit returns it
	done bool
}

// newFilePerm is the mode of a new file before the umask, as os.Create.
const newFilePerm = 0o666

// maxTempBase caps the part of the destination's name the temporary file's
// name repeats, so that a long name does not exceed the file system's limit.
const maxTempBase = 64

// Create starts writing dest. A new file gets mode 0666 less the umask, as
// os.Create gives; a regular file already there keeps its permission bits.
// Create fails, without touching dest, when dest is a folder or a block
// device, or when no file can be created in dest's folder.
func Create(dest string) (*File, error) { return create(dest, umaskPerm, fs.ModePerm) }

// CreateMode is Create with the permissions chosen: a new file gets perm
// whatever the umask, and a regular file already there keeps its own bits
// less any that perm denies to group and others. A file meant for its
// owner only (perm 0600: a report that holds secrets) is so never left
// readable by others because the file it replaces was.
func CreateMode(dest string, perm fs.FileMode) (*File, error) {
	perm &= fs.ModePerm
	return create(dest, perm, 0o700|perm)
}

// umaskPerm, as the perm of create, gives a new file the mode os.Create
// gives.
const umaskPerm fs.FileMode = 1 << 31

// create is Create and CreateMode: perm is the mode of a new file (or
// umaskPerm), limit the bits a replaced file may keep.
func create(dest string, perm, limit fs.FileMode) (*File, error) {
	fi, err := os.Lstat(dest)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return createTemp(dest, perm)
	case err != nil:
		return nil, err
	case fi.Mode().IsRegular():
		return createTemp(dest, fi.Mode().Perm()&limit)
	case fi.Mode()&fs.ModeSymlink != 0:
		if systemPath(dest) {
			return openDirect(dest)
		}
		return createTemp(dest, perm) // the link is replaced, never followed
	}
	return openDirect(dest)
}

// WriteFile writes data to dest through a temporary file, as Create, and
// gives it mode perm whatever the umask.
func WriteFile(dest string, data []byte, perm fs.FileMode) error {
	f, err := Create(dest)
	if err != nil {
		return err
	}
	if f.tmp != "" {
		if err := f.f.Chmod(perm); err != nil {
			f.Abort()
			return err
		}
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// systemPath reports whether path lies under /dev or /proc, where the
// system's links to open files live (/dev/stdout, /dev/fd/3,
// /proc/self/fd/1). No repository is checked out there.
func systemPath(path string) bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	abs = filepath.ToSlash(abs)
	return strings.HasPrefix(abs, "/dev/") || strings.HasPrefix(abs, "/proc/")
}

// openDirect opens a destination that is not a file on disk: a character
// device, a named pipe, or a system link to an open file.
func openDirect(dest string) (*File, error) {
	fi, err := os.Stat(dest)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err == nil {
		switch m := fi.Mode(); {
		case m.IsDir():
			return nil, &fs.PathError{Op: "write", Path: dest, Err: errors.New("is a folder, not a file")}
		case m&fs.ModeDevice != 0 && m&fs.ModeCharDevice == 0:
			return nil, &fs.PathError{Op: "write", Path: dest, Err: errors.New("is a block device (a disk): refusing to write over it")}
		}
	}
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, newFilePerm)
	if err != nil {
		return nil, err
	}
	return &File{f: f, dest: dest}, nil
}

// createTemp creates the temporary file next to dest, with mode perm
// unless it is umaskPerm.
func createTemp(dest string, perm fs.FileMode) (*File, error) {
	dir, base := filepath.Split(dest)
	if base == "" || base == "." || base == ".." {
		return nil, &fs.PathError{Op: "write", Path: dest, Err: errors.New("is a folder, not a file")}
	}
	if len(base) > maxTempBase {
		base = base[:maxTempBase]
	}
	for range 100 {
		var rnd [6]byte
		if _, err := rand.Read(rnd[:]); err != nil {
			return nil, err
		}
		tmp := filepath.Join(dir, "."+base+"."+hex.EncodeToString(rnd[:])+".tmp")
		// O_EXCL: a name that exists, link or not, is never opened.
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, newFilePerm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if perm != umaskPerm {
			if err := f.Chmod(perm); err != nil {
				f.Close()
				os.Remove(tmp)
				return nil, err
			}
		}
		return &File{f: f, dest: dest, tmp: tmp}, nil
	}
	return nil, fmt.Errorf("cannot create a temporary file next to %s: every name tried exists", dest)
}

// Write writes to the file. After an error every Write fails with it, and
// so does Commit.
func (f *File) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.f.Write(p)
	if err != nil {
		f.err = f.named(err)
	}
	return n, f.err
}

// named makes an error about the temporary file name the destination,
// which is the file the user knows.
func (f *File) named(err error) error {
	var pe *fs.PathError
	if f.tmp != "" && errors.As(err, &pe) && pe.Path == f.tmp {
		return &fs.PathError{Op: pe.Op, Path: f.dest, Err: pe.Err}
	}
	return err
}

// TempName is the temporary file's path, or "" when the destination is
// written directly. A program that must exit at once removes it.
func (f *File) TempName() string { return f.tmp }

// Name is the destination's path.
func (f *File) Name() string { return f.dest }

// Commit makes what was written appear at the destination: the temporary
// file is flushed to disk, closed and renamed over it. On any error the
// temporary file is removed and the destination left as it was.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: Commit after Commit or Abort")
	}
	f.done = true
	if f.tmp == "" {
		return errors.Join(f.err, f.f.Close())
	}
	err := f.err
	if err == nil {
		err = f.named(f.f.Sync())
	}
	err = errors.Join(err, f.named(f.f.Close()))
	if err == nil {
		err = os.Rename(f.tmp, f.dest)
	}
	if err != nil {
		os.Remove(f.tmp)
	}
	return err
}

// Abort gives up: the temporary file is closed and removed, and the
// destination left as it was. Abort after Commit does nothing.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.f.Close()
	if f.tmp != "" {
		os.Remove(f.tmp)
	}
}
