//go:build !unix

package scanner

import "os"

// openNoBlock opens a file for reading. Outside Unix there are no FIFOs to
// block on in a directory walk.
func openNoBlock(name string) (*os.File, error) { return os.Open(name) }
