// Package nonblock opens files for reading without blocking on them.
//
// Opening a named pipe (FIFO) for reading blocks until a writer opens it,
// which may be never: a FIFO planted in a scanned folder as .loftyscan.toml
// or .loftyscanignore, or reached through a symbolic link, would hang the
// run where no context or --timeout reaches. Open sets O_NONBLOCK, so the
// open returns at once; Go's runtime then waits for a pipe's data without
// holding a thread, and a pipe with no writer reads as empty.
package nonblock

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
)

// Open opens name for reading without blocking on a FIFO. Regular files
// read as with os.Open.
func Open(name string) (*os.File, error) { return open(name) }

// OpenRegular opens name like Open and refuses anything but a regular file,
// with an error that names it. Files of a repository are scanned data: a
// named pipe planted as a ref, packed-refs, an object or the alternates
// file (a copied .git folder, an unpacked tarball) must neither block the
// scan nor be read as if it were the file git writes.
func OpenRegular(name string) (*os.File, os.FileInfo, error) {
	f, err := open(name)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, &os.PathError{Op: "open", Path: name, Err: errNotRegular{fi.Mode().Type()}}
	}
	return f, fi, nil
}

// ReadRegular reads the whole of a regular file, as os.ReadFile does, with
// OpenRegular's refusals.
func ReadRegular(name string) ([]byte, error) {
	f, fi, err := OpenRegular(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, 0, fi.Size()+1)
	for {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// TooBigError is ReadRegularMax's error for a file over its cap: the file
// is not read.
type TooBigError struct {
	Name      string
	Size, Max int64
}

func (e *TooBigError) Error() string {
	return fmt.Sprintf("%s: %d bytes, more than the %d read of such a file", e.Name, e.Size, e.Max)
}

// ReadRegularMax reads a regular file of at most max bytes, as
// ReadRegular does. A bigger one (or one that grows past max while it is
// read) is not read: the error is a *TooBigError. Files a repository
// holds that name a path or a few hashes (commondir, a .git file, the
// alternates) are read with it, so that one planted at a gigabyte costs
// nothing.
func ReadRegularMax(name string, max int64) ([]byte, error) {
	f, fi, err := OpenRegular(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() > max {
		return nil, &TooBigError{Name: name, Size: fi.Size(), Max: max}
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if int64(len(b)) > max {
		return nil, &TooBigError{Name: name, Size: int64(len(b)), Max: max}
	}
	return b, err
}

// EachLine calls fn with the start of each line of r, its line break
// included: up to max bytes, the rest of a longer line read and dropped
// (cut is then true), so that a file of the git folder of any size or
// shape (a reflog, the shallow file, alternates) is read in that much
// memory. fn's line is valid only until it returns. EachLine returns the
// error that stopped the reading, nil at the end of r.
func EachLine(r io.Reader, max int, fn func(line []byte, cut bool)) error {
	br := bufio.NewReaderSize(r, max)
	for {
		b, err := br.ReadSlice('\n')
		cut := errors.Is(err, bufio.ErrBufferFull)
		if len(b) > 0 {
			fn(b, cut)
		}
		for errors.Is(err, bufio.ErrBufferFull) { // the rest of a long line
			_, err = br.ReadSlice('\n')
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// errNotRegular says what a refused file was instead.
type errNotRegular struct{ mode os.FileMode }

func (e errNotRegular) Error() string {
	return "not a regular file (" + e.mode.String() + "): skipped"
}
