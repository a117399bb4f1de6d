//go:build unix

package nonblock

import (
	"os"
	"syscall"
)

// O_NOCTTY: a terminal swapped in for the file never becomes the
// process's controlling terminal.
func open(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
}
