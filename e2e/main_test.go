// Package e2e tests what is not Go: the GitHub Action (action.yml and its
// scripts), the CI examples, the README's examples and the pre-commit
// hooks file, each run with the loftyscan binary as a user runs it.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// loftyscan is the binary the tests run, built once by TestMain.
var loftyscan string

// TestMain builds loftyscan once into a temporary folder and runs the tests
// from the top of the module, where action.yml, the examples and the README
// are.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if err := os.Chdir(".."); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "loftyscan-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	loftyscan = filepath.Join(dir, "loftyscan")
	if out, err := exec.Command("go", "build", "-o", loftyscan, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// Synthetic keys, signed by internal/testtoken: none is real.
var (
	key1 = testtoken.Key("e2e-account", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	key2 = testtoken.Key("e2e-other", time.Date(2098, 1, 1, 0, 0, 0, 0, time.UTC))
)

// gitKey is a synthetic key for sub.
func gitKey(sub string) string {
	return testtoken.Key(sub, time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
}
