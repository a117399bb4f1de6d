package cli

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/scanner"
)

// The hook tests run git commit and git push with the hooks installed, so
// the hooks run loftyscan: the copy of the test binary that
// testscript.Main (main_test.go) puts on PATH, which acts as loftyscan
// under that name. They replace the package's executable, so they do not
// run in parallel.

// hookBinary copies that loftyscan to a folder whose name has spaces,
// quotes and $ in it, and makes hook install use it.
func hookBinary(t *testing.T) string {
	t.Helper()
	src, err := exec.LookPath("loftyscan")
	if err != nil {
		t.Skip("no loftyscan on PATH (the tests run it through testscript.Main)")
	}
	dir := filepath.Join(t.TempDir(), `bin dir 'single' "double" $HOME`)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "loftyscan")
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(exe, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	old := executable
	executable = func() (string, error) { return exe, nil }
	t.Cleanup(func() { executable = old })
	return exe
}

// tryGit runs git and returns its combined output and whether it worked.
func (r *testGitRepo) tryGit(stdin string, args ...string) (string, bool) {
	r.t.Helper()
	out, err := r.gitCmd(stdin, nil, args...).CombinedOutput()
	return string(out), err == nil
}

func TestHookPreCommit(t *testing.T) {
	exe := hookBinary(t)
	r := newTestGitRepo(t, filepath.Join(t.TempDir(), `my repo 'x' "y" $PATH`))
	r.write("tracked.txt", "hello\n")
	r.write("app.env", "LOFTY_API_KEY="+gitKey("old")+"\n")
	r.commit("first")

	code, stdout, stderr := runGit(t, nil, "", "hook", "install", r.dir)
	if code != 0 {
		t.Fatalf("install: exit %d: %s", code, stderr)
	}
	hook := filepath.Join(r.dir, ".git", "hooks", "pre-commit")
	if !strings.Contains(stdout, hook) {
		t.Errorf("install does not say where: %s", stdout)
	}
	checkHookFile(t, hook, exe)

	head := r.git("rev-parse", "HEAD")
	blocked := func(what string, args ...string) {
		t.Helper()
		out, ok := r.tryGit("", args...)
		if ok {
			t.Fatalf("%s: the commit went through:\n%s", what, out)
		}
		if !strings.Contains(out, "Lofty API key") || !strings.Contains(out, "git commit --no-verify") {
			t.Errorf("%s: the hook does not say what to do:\n%s", what, out)
		}
		if got := r.git("rev-parse", "HEAD"); got != head {
			t.Fatalf("%s: HEAD moved", what)
		}
	}
	passes := func(what string, args ...string) {
		t.Helper()
		out, ok := r.tryGit("", args...)
		if !ok {
			t.Fatalf("%s: the commit was blocked:\n%s", what, out)
		}
		head = r.git("rev-parse", "HEAD")
	}

	// git add, then git commit.
	r.write("new.env", "LOFTY_API_KEY="+gitKey("new")+"\n")
	r.git("add", "new.env")
	blocked("git add + commit", "commit", "-q", "-m", "add a key")
	r.git("reset", "-q")
	os.Remove(filepath.Join(r.dir, "new.env"))

	// An edit beside a key that is already committed passes.
	r.write("app.env", "DEBUG=1\nLOFTY_API_KEY="+gitKey("old")+"\n")
	r.git("add", "app.env")
	passes("edit beside an old key", "commit", "-q", "-m", "debug")

	// git commit -a: the hook sees a temporary index in GIT_INDEX_FILE.
	r.write("tracked.txt", "hello\nlofty_token="+gitKey("commit-a")+"\n")
	blocked("git commit -a", "commit", "-q", "-a", "-m", "commit -a")
	// git commit PATH: another temporary index.
	blocked("git commit PATH", "commit", "-q", "-m", "commit path", "tracked.txt")
	r.git("checkout", "--", "tracked.txt")

	// Partly staged: the staged version is clean, the work tree is not.
	r.write("tracked.txt", "hello\nworld\n")
	r.git("add", "tracked.txt")
	r.write("tracked.txt", "hello\nworld\nlofty_token="+gitKey("unstaged")+"\n")
	passes("a key only in the work tree", "commit", "-q", "-m", "clean part")
	// And the other way round: the key is staged, then gone from the work tree.
	r.write("tracked.txt", "hello\nworld\nlofty_token="+gitKey("staged")+"\n")
	r.git("add", "tracked.txt")
	r.write("tracked.txt", "hello\nworld\n")
	blocked("a key only in the index", "commit", "-q", "-m", "staged part")

	// Uninstall removes it; the commit then goes through.
	if code, _, stderr := runGit(t, nil, "", "hook", "uninstall", r.dir); code != 0 {
		t.Fatalf("uninstall: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(hook); !os.IsNotExist(err) {
		t.Errorf("the hook is still there: %v", err)
	}
	passes("no hook", "commit", "-q", "-m", "no hook")
}

// checkHookFile checks an installed hook: executable, valid sh, marked as
// loftyscan's, naming the binary by its absolute path, quoted.
func checkHookFile(t *testing.T, hook, exe string) {
	t.Helper()
	fi, err := os.Stat(hook)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o111 == 0 {
		t.Errorf("the hook is not executable: %v", fi.Mode())
	}
	b, _ := os.ReadFile(hook)
	script := string(b)
	if !strings.HasPrefix(script, "#!/bin/sh\n") || !isOurs(b) || !strings.Contains(script, "loftyscan="+shellQuote(exe)+"\n") {
		t.Errorf("hook script:\n%s", script)
	}
	if out, err := exec.Command("sh", "-n", hook).CombinedOutput(); err != nil {
		t.Errorf("sh -n: %v\n%s", err, out)
	}
	if strings.Contains(script, "eyJ") {
		t.Error("the hook holds a token")
	}
}

func TestHookForce(t *testing.T) {
	hookBinary(t)
	r := newTestGitRepo(t, "")
	r.write("a.txt", "a\n")
	r.commit("first")
	hook := filepath.Join(r.dir, ".git", "hooks", "pre-commit")
	previous := "#!/bin/sh\necho previous hook ran >> previous-ran.log\nexit ${PREVIOUS_EXIT:-0}\n"
	if err := os.WriteFile(hook, []byte(previous), 0o755); err != nil {
		t.Fatal(err)
	}

	code, _, stderr := runGit(t, nil, "", "hook", "install", r.dir)
	if code != 2 || !strings.Contains(stderr, "--force") {
		t.Fatalf("install over another hook: exit %d, want 2 with a hint; %s", code, stderr)
	}
	if b, _ := os.ReadFile(hook); string(b) != previous {
		t.Fatal("the other hook was changed")
	}
	if code, _, stderr := runGit(t, nil, "", "hook", "uninstall", r.dir); code != 2 || !strings.Contains(stderr, "left alone") {
		t.Fatalf("uninstall of another hook: exit %d; %s", code, stderr)
	}

	code, stdout, stderr := runGit(t, nil, "", "hook", "install", "--force", r.dir)
	if code != 0 || !strings.Contains(stdout, "kept") {
		t.Fatalf("install --force: exit %d; %s %s", code, stdout, stderr)
	}
	if b, _ := os.ReadFile(hook + keptSuffix); string(b) != previous {
		t.Fatal("the other hook was not kept")
	}
	// Installing again updates loftyscan's hook and keeps the kept one.
	if code, _, stderr := runGit(t, nil, "", "hook", "install", r.dir); code != 0 {
		t.Fatalf("reinstall: exit %d; %s", code, stderr)
	}

	// The kept hook runs first, and its failure blocks the commit.
	r.write("b.txt", "b\n")
	r.git("add", "b.txt")
	if out, ok := r.tryGit("", "commit", "-q", "-m", "b"); !ok {
		t.Fatalf("clean commit blocked:\n%s", out)
	}
	if b, _ := os.ReadFile(filepath.Join(r.dir, "previous-ran.log")); string(b) != "previous hook ran\n" {
		t.Errorf("the kept hook did not run once: %q", b)
	}
	r.write("c.txt", "c\n")
	r.git("add", "c.txt")
	cmd := r.gitCmd("", []string{"PREVIOUS_EXIT=3"}, "commit", "-q", "-m", "c")
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("the kept hook failed and the commit went through:\n%s", out)
	}

	if code, _, stderr := runGit(t, nil, "", "hook", "uninstall", r.dir); code != 0 {
		t.Fatalf("uninstall: exit %d; %s", code, stderr)
	}
	if b, _ := os.ReadFile(hook); string(b) != previous {
		t.Errorf("the kept hook was not put back: %q", b)
	}
	if _, err := os.Stat(hook + keptSuffix); !os.IsNotExist(err) {
		t.Errorf("%s is still there", keptSuffix)
	}
}

func TestHookPrePush(t *testing.T) {
	hookBinary(t)
	r := newTestGitRepo(t, "")
	remote := newTestGitRepo(t, "", "--bare")
	r.write("a.txt", "a\n")
	r.commit("first")
	r.git("remote", "add", "origin", remote.dir)
	if code, _, stderr := runGit(t, nil, "", "hook", "install", "--pre-push", r.dir); code != 0 {
		t.Fatalf("install --pre-push: exit %d; %s", code, stderr)
	}
	if out, ok := r.tryGit("", "push", "-q", "origin", "main"); !ok {
		t.Fatalf("clean push blocked:\n%s", out)
	}
	r.write("b.env", "LOFTY_API_KEY="+gitKey("push")+"\n")
	r.commit("add a key")
	out, ok := r.tryGit("", "push", "-q", "origin", "main")
	if ok || !strings.Contains(out, "b.env") || !strings.Contains(out, "git push --no-verify") {
		t.Fatalf("push with a key: ok=%v\n%s", ok, out)
	}
	// A new branch is measured against the remote-tracking branches.
	r.git("checkout", "-q", "-b", "topic")
	if out, ok := r.tryGit("", "push", "-q", "origin", "topic"); ok || !strings.Contains(out, "b.env") {
		t.Fatalf("new branch with a key: ok=%v\n%s", ok, out)
	}
	r.git("reset", "-q", "--hard", "origin/main")
	r.write("c.txt", "c\n")
	r.commit("clean topic")
	if out, ok := r.tryGit("", "push", "-q", "origin", "topic"); !ok {
		t.Fatalf("clean new branch blocked:\n%s", out)
	}
	if code, _, _ := runGit(t, nil, "", "hook", "uninstall", "--pre-push", r.dir); code != 0 {
		t.Fatal("uninstall --pre-push failed")
	}
}

// TestHooksDir finds the hooks folder as `git rev-parse --git-path hooks`
// does.
func TestHooksDir(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	tests := []struct {
		name   string
		setup  func(r *testGitRepo) string // returns the folder to ask from
		global string                      // ~/.gitconfig
	}{
		{"default", func(r *testGitRepo) string { return r.dir }, ""},
		{"relative hooksPath, from a subfolder", func(r *testGitRepo) string {
			r.git("config", "core.hooksPath", "my hooks")
			os.MkdirAll(filepath.Join(r.dir, "sub"), 0o755)
			return filepath.Join(r.dir, "sub")
		}, ""},
		{"absolute hooksPath", func(r *testGitRepo) string {
			r.git("config", "core.hooksPath", filepath.Join(home, "abs-hooks"))
			return r.dir
		}, ""},
		{"global hooksPath with ~", func(r *testGitRepo) string { return r.dir }, "[core]\n\thooksPath = ~/global-hooks\n"},
		{"local beats global", func(r *testGitRepo) string {
			r.git("config", "core.hooksPath", ".githooks")
			return r.dir
		}, "[core]\n\thooksPath = ~/global-hooks\n"},
		{"linked worktree", func(r *testGitRepo) string {
			r.write("a", "a")
			r.commit("a")
			wt := filepath.Join(t.TempDir(), "wt")
			r.git("worktree", "add", "-q", wt)
			return wt
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newTestGitRepo(t, "")
			h := t.TempDir()
			if tc.global != "" {
				os.WriteFile(filepath.Join(h, ".gitconfig"), []byte(tc.global), 0o644)
			}
			from := tc.setup(r)
			vars := map[string]string{"HOME": h, "GIT_CONFIG_NOSYSTEM": "1"}
			cmd := exec.Command("git", "rev-parse", "--git-path", "hooks")
			cmd.Dir = from
			cmd.Env = append(r.env(), "HOME="+h)
			cmd.Env = withoutVar(cmd.Env, "GIT_CONFIG_GLOBAL")
			out, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			want := strings.TrimSpace(string(out))
			if !filepath.IsAbs(want) {
				want = filepath.Join(from, want)
			}
			repo, err := scanner.FindRepository(from)
			if err != nil {
				t.Fatal(err)
			}
			got, err := hooksDir(repo, func(k string) string { return vars[k] })
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Clean(got) != filepath.Clean(want) {
				t.Errorf("hooks folder %s, git says %s", got, want)
			}
		})
	}
}

func withoutVar(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// TestShellQuote runs quoted strings through sh.
func TestShellQuote(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"plain", "with space", "it's", `"double"`, "$HOME", "`id`", `back\slash`, "new\nline", "'", ""} {
		out, err := exec.Command("sh", "-c", "printf %s "+shellQuote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("shellQuote(%q) gave %q (%v)", s, out, err)
		}
	}
}

func TestHookUsage(t *testing.T) {
	t.Parallel()
	notRepo := t.TempDir()
	for _, args := range [][]string{{"hook"}, {"hook", "install", notRepo}, {"hook", "install", "https://example.com/r.git"}, {"hook", "frob"}} {
		code, _, stderr := runGit(t, nil, "", args...)
		if code != 2 || !strings.Contains(stderr, "loftyscan: error:") {
			t.Errorf("%v: exit %d; %s", args, code, stderr)
		}
	}
	r := newTestGitRepo(t, "")
	if code, stdout, _ := runGit(t, nil, "", "hook", "uninstall", r.dir); code != 0 || !strings.Contains(stdout, "nothing to remove") {
		t.Errorf("uninstall with no hook: exit %d: %s", code, stdout)
	}
}

// TestPreCommitHooksFile checks .pre-commit-hooks.yaml: both hooks are
// there with the settings the pre-commit framework needs, and each entry
// is a command line loftyscan accepts.
func TestPreCommitHooksFile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(".pre-commit-hooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for setting, n := range map[string]int{
		"language: golang":                  2,
		"pass_filenames: false":             2,
		"minimum_pre_commit_version: 3.2.0": 2,
		"stages: [pre-commit]":              1,
		"stages: [pre-push]":                1,
		"entry: loftyscan git --staged":     1,
		"entry: loftyscan git --pre-push":   1,
	} {
		if got := strings.Count(text, "\n  "+setting+"\n"); got != n {
			t.Errorf("%q appears %d times, want %d", setting, got, n)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		entry, ok := strings.CutPrefix(line, "  entry: loftyscan ")
		if !ok {
			continue
		}
		if code, _, stderr := runGit(t, nil, "", append(strings.Fields(entry), "--help")...); code != 0 {
			t.Errorf("%s: exit %d: %s", entry, code, stderr)
		}
	}
}
