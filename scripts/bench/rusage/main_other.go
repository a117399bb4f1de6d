//go:build !unix

package main

import (
	"fmt"
	"os"
)

// main: resource usage comes from wait4, which only unix systems have.
func main() {
	fmt.Fprintln(os.Stderr, "rusage: error: needs a unix system (wait4)")
	os.Exit(2)
}
