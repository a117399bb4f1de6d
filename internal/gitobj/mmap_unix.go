//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package gitobj

import (
	"os"
	"syscall"
)

// mapFile maps the first size bytes of f read-only: the pack reader reads
// objects in place, and the kernel pages them in and out as it likes, so
// a pack of gigabytes costs no heap.
func mapFile(f *os.File, size int64) ([]byte, error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, errNoMap
	}
	return syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
}

func unmapFile(b []byte) error { return syscall.Munmap(b) }
