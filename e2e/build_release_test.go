package e2e

// Helpers of the release and pre-commit tests: a snapshot of the working
// tree as a git repository (what pre-commit clones and GoReleaser builds),
// and an environment cut off from the developer's git and hook settings.

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// releaseRepoRoot returns the module's root folder: the working folder,
// where TestMain moved.
func releaseRepoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !bytes.HasPrefix(mod, []byte("module github.com/loftyscan/loftyscan\n")) {
		t.Fatalf("%s is not loftyscan's module root (go.mod: %v)", root, err)
	}
	return root
}

var (
	goEnvOnce sync.Once
	goEnvVals []string
	goEnvErr  error
)

// releaseGoEnv returns GOMODCACHE, GOCACHE and GOFLAGS as `go env` reports
// them, so builds run by pre-commit and GoReleaser (which set their own
// GOPATH) reuse the module and build caches instead of downloading and
// compiling everything again.
func releaseGoEnv(t *testing.T) []string {
	t.Helper()
	goEnvOnce.Do(func() {
		// -json: an empty GOFLAGS (the usual case) is an empty last line,
		// which splitting the plain output lost (index out of range).
		out, err := exec.Command("go", "env", "-json", "GOMODCACHE", "GOCACHE", "GOFLAGS").Output()
		if err != nil {
			goEnvErr = err
			return
		}
		var v map[string]string
		if goEnvErr = json.Unmarshal(out, &v); goEnvErr != nil {
			return
		}
		// -trimpath: each test builds loftyscan from a snapshot of the
		// work tree in a folder of its own (the README's install, the
		// pre-commit framework's hook), and without it the folder is part
		// of every package's build: the module's packages were compiled
		// again for each, never found in the shared build cache.
		goEnvVals = []string{"GOMODCACHE=" + v["GOMODCACHE"], "GOCACHE=" + v["GOCACHE"], "GOFLAGS=" + strings.TrimSpace(v["GOFLAGS"]+" -trimpath")}
	})
	if goEnvErr != nil {
		t.Fatalf("go env: %v", goEnvErr)
	}
	return goEnvVals
}

// releaseEnv returns the environment for git, pre-commit and GoReleaser in
// a test: the test's own, without the variables a surrounding git hook or
// pre-commit run would leak in (GIT_DIR, GIT_INDEX_FILE, PRE_COMMIT_*), with
// no system or global git config (a global core.hooksPath would make
// `pre-commit install` refuse), a fixed identity, and the shared Go caches.
func releaseEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	global := filepath.Join(t.TempDir(), "gitconfig")
	if err := os.WriteFile(global, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GIT_") || strings.HasPrefix(kv, "PRE_COMMIT") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+global,
		"GIT_AUTHOR_NAME=loftyscan tests", "GIT_AUTHOR_EMAIL=tests@loftyscan.invalid",
		"GIT_COMMITTER_NAME=loftyscan tests", "GIT_COMMITTER_EMAIL=tests@loftyscan.invalid",
		"NO_COLOR=1",
	)
	env = append(env, releaseGoEnv(t)...)
	return append(env, extra...)
}

// releaseRun runs name with args in dir and returns its combined output and
// error; the caller decides whether a failure is expected.
func releaseRun(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// releaseMust runs a command that has to succeed and returns its output.
func releaseMust(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := releaseRun(dir, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return out
}

// snapshotDate is the author and committer date of every snapshot commit:
// with it, two snapshots of one working tree are the same commit, which the
// reproducible-build test relies on.
const snapshotDate = "2026-01-02T03:04:05Z"

// snapshotWorkTree copies the working tree of this repository (tracked
// files and untracked ones git does not ignore, as they are now, edits
// included) into a new repository with a single commit, and returns its
// folder and that commit. Tests install and build from it, so they test
// the code being changed rather than the last commit.
func snapshotWorkTree(t *testing.T, env []string) (dir, rev string) {
	t.Helper()
	root := releaseRepoRoot(t)
	list := releaseMust(t, root, env, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	dir = t.TempDir()
	for _, name := range strings.Split(strings.TrimRight(list, "\x00"), "\x00") {
		if err := copyFileInto(root, dir, name); err != nil {
			t.Fatal(err)
		}
	}
	releaseMust(t, dir, env, "git", "init", "-q", "-b", "main")
	// GoReleaser reads the commit's date and hash only when `git ls-remote
	// --get-url` works; git only prints the URL, nothing is fetched.
	releaseMust(t, dir, env, "git", "remote", "add", "origin", "https://github.com/loftyscan/loftyscan.git")
	releaseMust(t, dir, env, "git", "add", "-A")
	dated := append(env[:len(env):len(env)], "GIT_AUTHOR_DATE="+snapshotDate, "GIT_COMMITTER_DATE="+snapshotDate)
	releaseMust(t, dir, dated, "git", "commit", "-q", "-m", "snapshot of the working tree")
	return dir, strings.TrimSpace(releaseMust(t, dir, env, "git", "rev-parse", "HEAD"))
}

// copyFileInto copies root/name to dst/name with its permission bits. A
// tracked file deleted in the working tree is left out, as `git add -A`
// would.
func copyFileInto(root, dst, name string) error {
	src := filepath.Join(root, filepath.FromSlash(name))
	info, err := os.Lstat(src)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	to := filepath.Join(dst, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	if info.Mode()&os.ModeSymlink != 0 {
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return os.Symlink(target, to)
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
