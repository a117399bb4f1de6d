// Command loftyscan finds leaked Lofty API keys in files, archives, standard
// input and git history, and reports them for people and for CI.
package main

import (
	"os"

	"github.com/loftyscan/loftyscan/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
