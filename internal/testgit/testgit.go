// Package testgit makes git repositories for tests: with the git CLI, in
// temporary folders, free of the user's git config and of the GIT_*
// variables a hook running the tests may have set, with fixed identities
// and dates; and, byte by byte, the pack files a test of the pack reader
// needs (pack.go). It is imported by tests only.
package testgit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Epoch is the date of a repository's first commit; each commit is a
// minute later, so that commit order is also date order.
var Epoch = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

// gitArgs are the -c options every git command of a Repo gets.
var gitArgs = []string{
	"-c", "user.name=Ada Author", "-c", "user.email=ada@example.com",
	"-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false",
	"-c", "core.autocrlf=false", "-c", "protocol.file.allow=always", "-c", "gc.auto=0",
}

// Repo is a repository made with the git CLI for a test.
type Repo struct {
	T    testing.TB
	Dir  string // the work tree (or the bare repository)
	Home string // HOME for its git commands: empty, no config
	tick int64  // seconds after Epoch of the next commit
}

// Require skips t when git is not installed.
func Require(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
}

// New runs git init in dir (a new folder when dir is empty); initArgs go
// to git init ("--bare").
func New(t testing.TB, dir string, initArgs ...string) *Repo {
	t.Helper()
	Require(t)
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "repo")
	}
	r := &Repo{T: t, Dir: dir, Home: t.TempDir()}
	r.GitIn(filepath.Dir(dir), append(append([]string{"init", "-q"}, initArgs...), dir)...)
	return r
}

// Open returns a Repo for a repository that already exists at dir (made
// by a clone, or a mirror to benchmark), with a home of its own.
func Open(t testing.TB, dir string) *Repo {
	Require(t)
	return &Repo{T: t, Dir: dir, Home: t.TempDir()}
}

// At returns a Repo for another repository at dir (a clone of r), for the
// test t, sharing r's home and clock.
func (r *Repo) At(t testing.TB, dir string) *Repo {
	return &Repo{T: t, Dir: dir, Home: r.Home, tick: r.tick}
}

// Now is the date the next commit gets.
func (r *Repo) Now() time.Time { return Epoch.Add(time.Duration(r.tick) * time.Second) }

// Env is the environment of the repository's git commands: PATH and the
// like from the test process; no GIT_* or pre-commit variables, no global
// or system config; fixed identities and dates; then extra.
func (r *Repo) Env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "XDG_CONFIG_HOME=") && !strings.HasPrefix(kv, "PRE_COMMIT") {
			env = append(env, kv)
		}
	}
	date := fmt.Sprintf("@%d +0000", r.Now().Unix())
	env = append(env,
		"HOME="+r.Home,
		"XDG_CONFIG_HOME="+filepath.Join(r.Home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_AUTHOR_NAME=Ada Author", "GIT_AUTHOR_EMAIL=ada@example.com", "GIT_AUTHOR_DATE="+date,
		"GIT_COMMITTER_NAME=Cy Committer", "GIT_COMMITTER_EMAIL=cy@example.com", "GIT_COMMITTER_DATE="+date,
		"GIT_TERMINAL_PROMPT=0", "NO_COLOR=1",
		// glibc gives freed memory back at each free past 128 KiB by
		// default, and git fast-import frees and takes back such a block
		// at every commit: 20,000 commits took 61 s, 35 s of it in brk,
		// against 1 s with the threshold raised (scripts/test.sh sets it
		// for the git commands tests run without Env too).
		"MALLOC_TRIM_THRESHOLD_="+mallocTrimThreshold,
	)
	return append(env, extra...)
}

// mallocTrimThreshold is the glibc tunable Env sets: 256 MiB.
const mallocTrimThreshold = "268435456"

// Cmd is a git command in the repository with stdin and extra environment
// variables, not yet run.
func (r *Repo) Cmd(stdin string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command("git", append(append([]string(nil), gitArgs...), args...)...)
	cmd.Dir = r.Dir
	cmd.Env = r.Env(env...)
	cmd.Stdin = strings.NewReader(stdin)
	return cmd
}

// Git runs git in the repository and returns its trimmed output; it fails
// the test when git fails.
func (r *Repo) Git(args ...string) string {
	r.T.Helper()
	return r.run(r.Cmd("", nil, args...), args)
}

// GitIn runs git in another folder (to clone into it, say).
func (r *Repo) GitIn(dir string, args ...string) string {
	r.T.Helper()
	cmd := r.Cmd("", nil, args...)
	cmd.Dir = dir
	return r.run(cmd, args)
}

// GitEnv runs git in the repository with extra environment variables.
func (r *Repo) GitEnv(env []string, args ...string) string {
	r.T.Helper()
	return r.run(r.Cmd("", env, args...), args)
}

// Try runs git with stdin and returns its combined output and whether it
// worked: for commands that may fail on purpose (a hook that blocks).
func (r *Repo) Try(stdin string, args ...string) (string, bool) {
	r.T.Helper()
	out, err := r.Cmd(stdin, nil, args...).CombinedOutput()
	return string(out), err == nil
}

func (r *Repo) run(cmd *exec.Cmd, args []string) string {
	r.T.Helper()
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.T.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// Write writes a file in the work tree, making its folders.
func (r *Repo) Write(name, content string) {
	r.T.Helper()
	p := filepath.Join(r.Dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.T.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.T.Fatal(err)
	}
}

// Tick moves the clock a minute on, after a commit made by another git
// command (a merge, a stash).
func (r *Repo) Tick() { r.tick += 60 }

// Commit stages everything and commits it, hooks not run; it returns the
// commit's hash. The next commit is a minute later.
func (r *Repo) Commit(msg string) string {
	r.T.Helper()
	r.Git("add", "-A")
	r.Git("commit", "-q", "--allow-empty", "--no-verify", "-m", msg)
	r.tick += 60
	return r.Git("rev-parse", "HEAD")
}

// CommitTree makes a commit of tree with the parents given, committed at
// the Unix time when (which may go backwards: clock skew), without
// touching any ref or the work tree; it returns its hash. With tree empty
// the commit has the empty tree.
func (r *Repo) CommitTree(tree string, parents []string, when int64, msg string) string {
	r.T.Helper()
	if tree == "" {
		tree = r.Git("hash-object", "-t", "tree", "-w", "--stdin")
	}
	args := []string{"commit-tree", tree, "-m", msg}
	for _, p := range parents {
		args = append(args, "-p", p)
	}
	date := fmt.Sprintf("GIT_COMMITTER_DATE=@%d +0000", when)
	return r.GitEnv([]string{date, "GIT_AUTHOR_DATE=" + strings.TrimPrefix(date, "GIT_COMMITTER_DATE=")}, args...)
}
