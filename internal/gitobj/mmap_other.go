//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package gitobj

import "os"

// mapFile is not available here: packs are read with ReadAt instead.
func mapFile(f *os.File, size int64) ([]byte, error) { return nil, errNoMap }

func unmapFile(b []byte) error { return nil }
