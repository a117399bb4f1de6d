//go:build amd64 && !purego

package rules

import "golang.org/x/sys/cpu"

// useVector is whether scanVector can run here.
var useVector = cpu.X86.HasAVX2

// scanVector is Searcher.next 32 positions at a time. It returns the first
// event, or eventNone and the block where it stopped: it reads only blocks
// whose 33 bytes (a pair may start at the last) are in buf, and leaves the
// rest to the caller.
//
//go:noescape
func scanVector(buf []byte, start, runFrom int, t *nibbleTables) (pos, kind int)
