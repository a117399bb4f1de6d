//go:build unix

package scanner

import (
	"os"
	"syscall"
)

// openNoBlock opens a file for reading without blocking: a path that turns
// into a FIFO between the walk and the open must not hang the scan.
func openNoBlock(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
