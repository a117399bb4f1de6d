// Package testtool finds the external programs some tests run for real
// (pre-commit, goreleaser, compressors, git-filter-repo).
//
// A developer without one of them still gets a green `go test ./...` for the
// rest: the test is skipped and says what to install. CI and
// scripts/test.sh set LOFTYSCAN_REQUIRE_TOOLS=1, and then a missing tool
// fails the test instead, so a skip can never hide a check that did not run.
package testtool

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// RequireEnv is the environment variable that turns a missing tool from a
// skip into a failure when it is "1".
const RequireEnv = "LOFTYSCAN_REQUIRE_TOOLS"

// installHints says how to get each tool the tests use; scripts/test.sh
// installs the same ones.
var installHints = map[string]string{
	"pre-commit":      "apt-get install pre-commit (or pip install pre-commit)",
	"git-filter-repo": "apt-get install git-filter-repo (or pip install git-filter-repo)",
	"bzip2":           "apt-get install bzip2",
	"xz":              "apt-get install xz-utils",
	"zstd":            "apt-get install zstd",
	"rg":              "apt-get install ripgrep",
	"dpkg":            "apt-get install dpkg (Debian and Ubuntu have it)",
	"goreleaser":      "go install github.com/goreleaser/goreleaser/v2@v2.15.1",
	"git":             "apt-get install git",
	"git-lfs":         "apt-get install git-lfs",
	"unzip":           "apt-get install unzip",
	"zip":             "apt-get install zip",
	"tar":             "apt-get install tar",
	"time":            "apt-get install time (GNU time, /usr/bin/time)",
	"xxd":             "apt-get install xxd",
	"gzip":            "apt-get install gzip",
	"7zz":             "apt-get install 7zip",
	"lz4":             "apt-get install lz4",
	"lzip":            "apt-get install lzip",
	"compress":        "apt-get install ncompress",
	"gcab":            "apt-get install gcab",
	"python3":         "apt-get install python3 (its sqlite3 module writes the SQLite test databases)",
}

// InstallHint returns the command that installs tool, or a generic hint for
// a tool this package does not know.
func InstallHint(tool string) string {
	if h, ok := installHints[tool]; ok {
		return h
	}
	return "install " + tool + " and put it on PATH"
}

// Need returns the path of tool on PATH. When it is missing, Need skips the
// test with a message that names the tool and how to install it, or fails
// the test the same way when LOFTYSCAN_REQUIRE_TOOLS=1.
func Need(t testing.TB, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err == nil {
		return path
	}
	msg := tool + " is not on PATH (" + err.Error() + "); install it with: " + InstallHint(tool)
	if os.Getenv(RequireEnv) == "1" {
		t.Fatal(msg + " (" + RequireEnv + "=1: tests may not skip)")
	}
	t.Skip(msg + " (set " + RequireEnv + "=1 to make this a failure)")
	return ""
}

// WriteExecutable writes a program a test runs next (a copy of the binary,
// a wrapper script, a hook git runs). It holds syscall.ForkLock while the
// file is open for writing: a child another parallel test forks meanwhile
// would hold the descriptor until its own exec, and running the program
// then fails with "text file busy" (ETXTBSY, golang.org/issue/22315), as
// e2e's TestAction and TestExamples did on a busy machine.
func WriteExecutable(name string, data []byte, perm os.FileMode) error {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	return os.WriteFile(name, data, perm)
}
