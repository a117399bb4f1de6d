//go:build unix

package nonblock

import (
	"os"
	"syscall"
)

func open(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
