package gitobj

import (
	"fmt"
	"os"

	"github.com/loftyscan/loftyscan/internal/nonblock"
)

// openRegular opens a file of the object database for reading and refuses
// anything but a regular file. A repository is scanned data: a named pipe
// planted as a loose object, a pack or an index (a copied .git folder, a
// tarball) would block os.Open until a writer came, which may be never, and
// hang the scan where no context reaches. nonblock.Open returns at once; the
// mode check then turns the pipe, a device or a socket into an error that
// names the file, and the scan goes on without it.
func openRegular(name string) (*os.File, os.FileInfo, error) {
	f, err := nonblock.Open(name)
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
		return nil, nil, fmt.Errorf("%s: not a regular file (%s): skipped", name, fi.Mode().Type())
	}
	return f, fi, nil
}
