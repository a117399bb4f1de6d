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

// errNotRegular says what a refused file was instead.
type errNotRegular struct{ mode os.FileMode }

func (e errNotRegular) Error() string {
	return "not a regular file (" + e.mode.String() + "): skipped"
}
