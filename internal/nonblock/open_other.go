//go:build !unix

package nonblock

import "os"

// Outside Unix there are no FIFOs in a folder to block on.
func open(name string) (*os.File, error) { return os.Open(name) }
