package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/internal/testtool"
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
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := testtool.WriteExecutable(exe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	old := executable
	executable = func() (string, error) { return exe, nil }
	t.Cleanup(func() { executable = old })
	return exe
}

func TestHookPreCommit(t *testing.T) {
	exe := hookBinary(t)
	r := testgit.New(t, filepath.Join(t.TempDir(), `my repo 'x' "y" $PATH`))
	r.Write("tracked.txt", "hello\n")
	r.Write("app.env", "LOFTY_API_KEY="+gitKey("old")+"\n")
	r.Commit("first")

	code, stdout, stderr := runGit(t, nil, "", "hook", "install", r.Dir)
	if code != 0 {
		t.Fatalf("install: exit %d: %s", code, stderr)
	}
	hook := filepath.Join(r.Dir, ".git", "hooks", "pre-commit")
	if !strings.Contains(stdout, hook) {
		t.Errorf("install does not say where: %s", stdout)
	}
	checkHookFile(t, hook, exe)

	head := r.Git("rev-parse", "HEAD")
	blocked := func(what string, args ...string) {
		t.Helper()
		out, ok := r.Try("", args...)
		if ok {
			t.Fatalf("%s: the commit went through:\n%s", what, out)
		}
		if !strings.Contains(out, "Lofty API key") || !strings.Contains(out, "git commit --no-verify") {
			t.Errorf("%s: the hook does not say what to do:\n%s", what, out)
		}
		if got := r.Git("rev-parse", "HEAD"); got != head {
			t.Fatalf("%s: HEAD moved", what)
		}
	}
	passes := func(what string, args ...string) {
		t.Helper()
		out, ok := r.Try("", args...)
		if !ok {
			t.Fatalf("%s: the commit was blocked:\n%s", what, out)
		}
		head = r.Git("rev-parse", "HEAD")
	}

	// git add, then git commit.
	r.Write("new.env", "LOFTY_API_KEY="+gitKey("new")+"\n")
	r.Git("add", "new.env")
	blocked("git add + commit", "commit", "-q", "-m", "add a key")
	r.Git("reset", "-q")
	os.Remove(filepath.Join(r.Dir, "new.env"))

	// An edit beside a key that is already committed passes.
	r.Write("app.env", "DEBUG=1\nLOFTY_API_KEY="+gitKey("old")+"\n")
	r.Git("add", "app.env")
	passes("edit beside an old key", "commit", "-q", "-m", "debug")

	// git commit -a: the hook sees a temporary index in GIT_INDEX_FILE.
	r.Write("tracked.txt", "hello\nlofty_token="+gitKey("commit-a")+"\n")
	blocked("git commit -a", "commit", "-q", "-a", "-m", "commit -a")
	// git commit PATH: another temporary index.
	blocked("git commit PATH", "commit", "-q", "-m", "commit path", "tracked.txt")
	r.Git("checkout", "--", "tracked.txt")

	// Partly staged: the staged version is clean, the work tree is not.
	r.Write("tracked.txt", "hello\nworld\n")
	r.Git("add", "tracked.txt")
	r.Write("tracked.txt", "hello\nworld\nlofty_token="+gitKey("unstaged")+"\n")
	passes("a key only in the work tree", "commit", "-q", "-m", "clean part")
	// And the other way round: the key is staged, then gone from the work tree.
	r.Write("tracked.txt", "hello\nworld\nlofty_token="+gitKey("staged")+"\n")
	r.Git("add", "tracked.txt")
	r.Write("tracked.txt", "hello\nworld\n")
	blocked("a key only in the index", "commit", "-q", "-m", "staged part")

	// Uninstall removes it; the commit then goes through.
	if code, _, stderr := runGit(t, nil, "", "hook", "uninstall", r.Dir); code != 0 {
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
	r := testgit.New(t, "")
	r.Write("a.txt", "a\n")
	r.Commit("first")
	hook := filepath.Join(r.Dir, ".git", "hooks", "pre-commit")
	previous := "#!/bin/sh\necho previous hook ran >> previous-ran.log\nexit ${PREVIOUS_EXIT:-0}\n"
	if err := testtool.WriteExecutable(hook, []byte(previous), 0o755); err != nil {
		t.Fatal(err)
	}

	code, _, stderr := runGit(t, nil, "", "hook", "install", r.Dir)
	if code != 2 || !strings.Contains(stderr, "--force") {
		t.Fatalf("install over another hook: exit %d, want 2 with a hint; %s", code, stderr)
	}
	if b, _ := os.ReadFile(hook); string(b) != previous {
		t.Fatal("the other hook was changed")
	}
	if code, _, stderr := runGit(t, nil, "", "hook", "uninstall", r.Dir); code != 2 || !strings.Contains(stderr, "left alone") {
		t.Fatalf("uninstall of another hook: exit %d; %s", code, stderr)
	}

	code, stdout, stderr := runGit(t, nil, "", "hook", "install", "--force", r.Dir)
	if code != 0 || !strings.Contains(stdout, "kept") {
		t.Fatalf("install --force: exit %d; %s %s", code, stdout, stderr)
	}
	if b, _ := os.ReadFile(hook + keptSuffix); string(b) != previous {
		t.Fatal("the other hook was not kept")
	}
	// Installing again updates loftyscan's hook and keeps the kept one.
	if code, _, stderr := runGit(t, nil, "", "hook", "install", r.Dir); code != 0 {
		t.Fatalf("reinstall: exit %d; %s", code, stderr)
	}

	// The kept hook runs first, and its failure blocks the commit.
	r.Write("b.txt", "b\n")
	r.Git("add", "b.txt")
	if out, ok := r.Try("", "commit", "-q", "-m", "b"); !ok {
		t.Fatalf("clean commit blocked:\n%s", out)
	}
	if b, _ := os.ReadFile(filepath.Join(r.Dir, "previous-ran.log")); string(b) != "previous hook ran\n" {
		t.Errorf("the kept hook did not run once: %q", b)
	}
	r.Write("c.txt", "c\n")
	r.Git("add", "c.txt")
	cmd := r.Cmd("", []string{"PREVIOUS_EXIT=3"}, "commit", "-q", "-m", "c")
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("the kept hook failed and the commit went through:\n%s", out)
	}

	if code, _, stderr := runGit(t, nil, "", "hook", "uninstall", r.Dir); code != 0 {
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
	r := testgit.New(t, "")
	remote := testgit.New(t, "", "--bare")
	r.Write("a.txt", "a\n")
	r.Commit("first")
	r.Git("remote", "add", "origin", remote.Dir)
	if code, _, stderr := runGit(t, nil, "", "hook", "install", "--pre-push", r.Dir); code != 0 {
		t.Fatalf("install --pre-push: exit %d; %s", code, stderr)
	}
	if out, ok := r.Try("", "push", "-q", "origin", "main"); !ok {
		t.Fatalf("clean push blocked:\n%s", out)
	}
	r.Write("b.env", "LOFTY_API_KEY="+gitKey("push")+"\n")
	r.Commit("add a key")
	out, ok := r.Try("", "push", "-q", "origin", "main")
	if ok || !strings.Contains(out, "b.env") || !strings.Contains(out, "git push --no-verify") {
		t.Fatalf("push with a key: ok=%v\n%s", ok, out)
	}
	// A new branch is measured against the remote-tracking branches.
	r.Git("checkout", "-q", "-b", "topic")
	if out, ok := r.Try("", "push", "-q", "origin", "topic"); ok || !strings.Contains(out, "b.env") {
		t.Fatalf("new branch with a key: ok=%v\n%s", ok, out)
	}
	r.Git("reset", "-q", "--hard", "origin/main")
	r.Write("c.txt", "c\n")
	r.Commit("clean topic")
	if out, ok := r.Try("", "push", "-q", "origin", "topic"); !ok {
		t.Fatalf("clean new branch blocked:\n%s", out)
	}
	if code, _, _ := runGit(t, nil, "", "hook", "uninstall", "--pre-push", r.Dir); code != 0 {
		t.Fatal("uninstall --pre-push failed")
	}
}

// TestHookPrePushNewRemote: a history pushed to one remote, then to
// another that has none of it, sends its keys there too (a private
// repository mirrored to a public one). The installed hook passes git's
// remote name, and a new branch is measured against that remote's
// tracking branches only, not against origin's.
func TestHookPrePushNewRemote(t *testing.T) {
	hookBinary(t)
	r := testgit.New(t, "")
	private := testgit.New(t, "", "--bare")
	public := testgit.New(t, "", "--bare")
	r.Write("a.env", "LOFTY_API_KEY="+gitKey("mirrored")+"\n")
	r.Commit("a key")
	r.Git("rm", "-q", "a.env")
	r.Commit("remove it")
	r.Git("remote", "add", "origin", private.Dir)
	r.Git("push", "-q", "origin", "main")
	if code, _, stderr := runGit(t, nil, "", "hook", "install", "--pre-push", r.Dir); code != 0 {
		t.Fatalf("install --pre-push: exit %d; %s", code, stderr)
	}
	r.Git("remote", "add", "public", public.Dir)
	// Under the pre-commit framework, which names the remote in
	// PRE_COMMIT_REMOTE_NAME (here a push of the whole branch, its root
	// included, which pre-commit hands over as PRE_COMMIT_LOCAL_BRANCH).
	for remote, want := range map[string]int{"public": 1, "origin": 0} {
		vars := map[string]string{"PRE_COMMIT_LOCAL_BRANCH": "refs/heads/main", "PRE_COMMIT_REMOTE_NAME": remote}
		if code, _, stderr := runGit(t, vars, "", "git", "--pre-push", r.Dir); code != want {
			t.Errorf("pre-commit's push to %s: exit %d, want %d; %s", remote, code, want, stderr)
		}
	}
	if code, _, stderr := runGit(t, nil, "", "git", "--pre-push-remote=public", r.Dir); code != 2 || !strings.Contains(stderr, "goes with --pre-push") {
		t.Errorf("--pre-push-remote alone: exit %d; %s", code, stderr)
	}
	out, ok := r.Try("", "push", "-q", "public", "main")
	if ok || !strings.Contains(out, "a.env") {
		t.Fatalf("the history with a key went to a new remote: ok=%v\n%s", ok, out)
	}
	if got := r.Git("ls-remote", public.Dir); got != "" {
		t.Errorf("the public remote got refs: %s", got)
	}
	// A push to a URL names no remote: nothing says what it has, and the
	// whole history of a new branch is checked. The URL, which may hold
	// credentials, is not passed on.
	byURL := testgit.New(t, "", "--bare")
	if out, ok := r.Try("", "push", "-q", "file://"+byURL.Dir, "main"); ok || !strings.Contains(out, "a.env") {
		t.Fatalf("the history with a key went to a URL: ok=%v\n%s", ok, out)
	}
	// Once the remote has the history, a new branch on it is measured
	// against what it has: its own commits only.
	r.Git("push", "-q", "--no-verify", "public", "main")
	r.Git("checkout", "-q", "-b", "topic")
	r.Write("c.txt", "c\n")
	r.Commit("clean topic")
	if out, ok := r.Try("", "push", "-q", "public", "topic"); !ok {
		t.Fatalf("a clean new branch on the public remote was blocked:\n%s", out)
	}
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
	r := testgit.New(t, "")
	if code, stdout, _ := runGit(t, nil, "", "hook", "uninstall", r.Dir); code != 0 || !strings.Contains(stdout, "nothing to remove") {
		t.Errorf("uninstall with no hook: exit %d: %s", code, stdout)
	}
}

// TestHookSharedHooksPath: a core.hooksPath folder that others share (one
// committed in the work tree, one outside the repository, a global one)
// gets no hook naming this machine's loftyscan. install refuses and says
// why; --force writes a hook that runs loftyscan from PATH and never a file
// of the work tree. A hooksPath inside .git is the repository's own.
func TestHookSharedHooksPath(t *testing.T) {
	exe := hookBinary(t)
	onPath, err := exec.LookPath("loftyscan")
	if err != nil {
		t.Fatal(err)
	}
	r := testgit.New(t, "")
	team := "#!/bin/sh\necho team hook ran >> team-ran.log\n"
	if err := os.MkdirAll(filepath.Join(r.Dir, ".githooks"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := testtool.WriteExecutable(filepath.Join(r.Dir, ".githooks", "pre-commit"), []byte(team), 0o755); err != nil {
		t.Fatal(err)
	}
	r.Commit("the team's hooks")
	r.Git("config", "core.hooksPath", ".githooks")
	hook := filepath.Join(r.Dir, ".githooks", "pre-commit")

	code, stdout, stderr := runGit(t, nil, "", "hook", "install", r.Dir)
	if code != 2 || !strings.Contains(stderr, "core.hooksPath points at "+filepath.Join(r.Dir, ".githooks")) ||
		!strings.Contains(stderr, "committed and shared") || !strings.Contains(stderr, "pre-commit framework") ||
		!strings.Contains(stderr, "'loftyscan git --staged' from PATH") {
		t.Fatalf("install into a committed hooks folder: exit %d\n%s%s", code, stdout, stderr)
	}
	if b, _ := os.ReadFile(hook); string(b) != team {
		t.Fatalf("the team's hook was changed: %q", b)
	}
	if out := r.Git("status", "--porcelain"); out != "" {
		t.Fatalf("install left files behind:\n%s", out)
	}

	code, stdout, stderr = runGit(t, nil, "", "hook", "install", "--force", r.Dir)
	if code != 0 || !strings.Contains(stderr, "runs loftyscan from PATH") {
		t.Fatalf("install --force: exit %d\n%s%s", code, stdout, stderr)
	}
	b, _ := os.ReadFile(hook)
	script := string(b)
	if !isOurs(b) || strings.Contains(script, exe) || strings.Contains(script, filepath.Dir(onPath)) || !strings.Contains(script, "command -v loftyscan") {
		t.Errorf("the shared hook names a path or no PATH lookup:\n%s", script)
	}
	if out, err := exec.Command("sh", "-n", hook).CombinedOutput(); err != nil {
		t.Errorf("sh -n: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(hook + keptSuffix); string(b) != team {
		t.Errorf("the team's hook was not kept: %q", b)
	}

	// With loftyscan on PATH the hook blocks a key, after the team's hook.
	r.Write("new.env", "LOFTY_API_KEY="+gitKey("shared")+"\n")
	r.Git("add", "new.env")
	if out, ok := r.Try("", "commit", "-q", "-m", "a key"); ok || !strings.Contains(out, "new.env") {
		t.Fatalf("the shared hook did not block a key (ok=%v):\n%s", ok, out)
	}
	if b, _ := os.ReadFile(filepath.Join(r.Dir, "team-ran.log")); string(b) != "team hook ran\n" {
		t.Errorf("the team's hook did not run first: %q", b)
	}
	// Without it on PATH the hook fails and says what to do; an executable
	// named loftyscan in the work tree, where hooks run, is not run.
	r.Write("loftyscan", "#!/bin/sh\necho planted >> planted.log\n")
	if err := os.Chmod(filepath.Join(r.Dir, "loftyscan"), 0o755); err != nil {
		t.Fatal(err)
	}
	var path []string
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(d, "loftyscan")); err != nil {
			path = append(path, d)
		}
	}
	cmd := r.Cmd("", []string{"PATH=" + strings.Join(path, string(filepath.ListSeparator))}, "commit", "-q", "-m", "no loftyscan")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "cannot find the loftyscan program") || !strings.Contains(string(out), "put loftyscan on PATH") {
		t.Errorf("no loftyscan on PATH: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(r.Dir, "planted.log")); err == nil {
		t.Error("the hook ran the work tree's loftyscan")
	}
	os.Remove(filepath.Join(r.Dir, "loftyscan"))

	// Other shared folders: an absolute one, a global one with ~; and the
	// repository's own folder under .git, which gets the usual hook.
	home := t.TempDir()
	global := filepath.Join(home, ".gitconfig")
	if err := os.WriteFile(global, []byte("[core]\n\thooksPath = ~/global-hooks\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plain := testgit.New(t, "")
	plain.Write("a.txt", "a\n")
	plain.Commit("first")
	outside := filepath.Join(t.TempDir(), "hooks")
	for _, c := range []struct {
		name, hooksPath string
		vars            map[string]string
		dir             string // where the hook goes; "" when refused
	}{
		{"absolute", outside, nil, ""},
		{"global", "", map[string]string{"HOME": home, "GIT_CONFIG_GLOBAL": global}, ""},
		{"inside .git", ".git/my-hooks", nil, filepath.Join(plain.Dir, ".git", "my-hooks")},
	} {
		if c.hooksPath != "" {
			plain.Git("config", "core.hooksPath", c.hooksPath)
		} else {
			plain.Git("config", "--unset", "core.hooksPath")
		}
		code, stdout, stderr := runGit(t, c.vars, "", "hook", "install", plain.Dir)
		if c.dir == "" {
			if code != 2 || !strings.Contains(stderr, "outside this repository") {
				t.Errorf("%s: exit %d\n%s%s", c.name, code, stdout, stderr)
			}
			continue
		}
		if code != 0 {
			t.Errorf("%s: exit %d\n%s", c.name, code, stderr)
			continue
		}
		checkHookFile(t, filepath.Join(c.dir, "pre-commit"), exe)
	}
	for _, d := range []string{outside, filepath.Join(home, "global-hooks")} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s: %v, want nothing written", d, err)
		}
	}
}

// TestPrePushRemoteNamedLikeAFolder: remotes "a" and "a/b" both keep
// their tracking branches under refs/remotes/a/: a history only "a/b"
// has is new to "a", and its key is found when pushed there.
func TestPrePushRemoteNamedLikeAFolder(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	a, ab := testgit.New(t, "", "--bare"), testgit.New(t, "", "--bare")
	r.Write("README.md", "# app\n")
	r.Commit("first")
	r.Git("remote", "add", "a", a.Dir)
	r.Git("remote", "add", "a/b", ab.Dir)
	r.Git("push", "-q", "a", "main")
	r.Git("checkout", "-q", "-b", "feat")
	r.Write("a.env", "LOFTY_API_KEY="+gitKey("only-on-a-b")+"\n")
	head := r.Commit("a key")
	r.Git("push", "-q", "a/b", "feat")
	if got := r.Git("rev-parse", "refs/remotes/a/b/feat"); got != head {
		t.Fatalf("refs/remotes/a/b/feat is %q, want %s", got, head)
	}
	stdin := "refs/heads/feat " + head + " refs/heads/feat " + strings.Repeat("0", 40) + "\n"
	for remote, want := range map[string]int{"a": 1, "a/b": 0} {
		if code, _, stderr := runGit(t, nil, stdin, "git", "--pre-push", "--pre-push-remote", remote, r.Dir); code != want {
			t.Errorf("a push of feat to %s: exit %d, want %d; %s", remote, code, want, stderr)
		}
	}
}
