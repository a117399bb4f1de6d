// Package nonblock opens files for reading without blocking on them.
//
// Opening a named pipe (FIFO) for reading blocks until a writer opens it,
// which may be never: a FIFO planted in a scanned folder as .loftyscan.toml
// or .loftyscanignore, or reached through a symbolic link, would hang the
// run where no context or --timeout reaches. Open sets O_NONBLOCK, so the
// open returns at once; Go's runtime then waits for a pipe's data without
// holding a thread, and a pipe with no writer reads as empty.
package nonblock

import "os"

// Open opens name for reading without blocking on a FIFO. Regular files
// read as with os.Open.
func Open(name string) (*os.File, error) { return open(name) }
