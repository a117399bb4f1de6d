package e2e

// The hooks of .pre-commit-hooks.yaml, run by the real pre-commit framework:
// it clones this repository, builds loftyscan with `go install`
// (language: golang) and runs it from real git hooks on a real commit and a
// real push.

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testtoken"
	"github.com/loftyscan/loftyscan/internal/testtool"
)

// preCommitProject is a repository whose .pre-commit-config.yaml uses both
// of loftyscan's hooks from a snapshot of this working tree.
type preCommitProject struct {
	t   *testing.T
	dir string
	env []string
}

func newPreCommitProject(t *testing.T) *preCommitProject {
	t.Helper()
	testtool.Need(t, "git")
	testtool.Need(t, "go")
	testtool.Need(t, "pre-commit")
	// PRE_COMMIT_HOME: pre-commit's clones and built environments, thrown
	// away with the test; the Go caches stay shared (releaseEnv).
	env := releaseEnv(t, "PRE_COMMIT_HOME="+t.TempDir())
	src, rev := snapshotWorkTree(t, env)
	p := &preCommitProject{t: t, dir: t.TempDir(), env: env}
	p.git("init", "-q", "-b", "main")
	p.write(".pre-commit-config.yaml", "repos:\n"+
		"  - repo: "+src+"\n"+
		"    rev: "+rev+"\n"+
		"    hooks:\n"+
		"      - id: loftyscan\n"+
		"      - id: loftyscan-pre-push\n")
	p.git("add", ".pre-commit-config.yaml")
	p.git("commit", "-q", "-m", "pre-commit configuration")
	releaseMust(t, p.dir, env, "pre-commit", "install", "--hook-type", "pre-commit", "--hook-type", "pre-push")
	// Build the hooks' environment now, so that a build failure is reported
	// as one and not as a blocked commit.
	releaseMust(t, p.dir, env, "pre-commit", "install-hooks")
	return p
}

func (p *preCommitProject) write(name, content string) {
	p.t.Helper()
	if err := os.WriteFile(filepath.Join(p.dir, name), []byte(content), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func (p *preCommitProject) git(args ...string) string {
	p.t.Helper()
	return strings.TrimSpace(releaseMust(p.t, p.dir, p.env, "git", args...))
}

// tryGit runs git and returns its output and whether it succeeded.
func (p *preCommitProject) tryGit(args ...string) (string, bool) {
	out, err := releaseRun(p.dir, p.env, "git", args...)
	return out, err == nil
}

// checkBlocked checks that a hook's output reports the key at name:1:15
// (after "LOFTY_API_KEY=") by rule, place and fingerprint, and never
// prints the key or its signature.
func checkBlocked(t *testing.T, out, hookID, name, key string) {
	t.Helper()
	sum := sha256.Sum256([]byte(key))
	for _, want := range []string{"- hook id: " + hookID, "lofty-api-key", name + ":1:15", hex.EncodeToString(sum[:])} {
		if !strings.Contains(out, want) {
			t.Errorf("the blocked run does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, key) || strings.Contains(out, testtoken.Segments(key)[2]) {
		t.Errorf("the hook's output holds the key:\n%s", out)
	}
}

// TestPreCommitFrameworkHooks installs both hooks with pre-commit and checks
// that a commit adding a key is blocked and a clean one passes, then the
// same for pushes into a bare repository: a first push, a later push, and a
// new branch.
func TestPreCommitFrameworkHooks(t *testing.T) {
	t.Parallel()
	p := newPreCommitProject(t)
	exp := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	commitKey := testtoken.Key("pre-commit-e2e", exp)
	pushKey := testtoken.Key("pre-push-e2e", exp)
	branchKey := testtoken.Key("pre-push-branch-e2e", exp)

	t.Run("commit", func(t *testing.T) {
		p.write("notes.txt", "nothing secret here\n")
		p.git("add", "notes.txt")
		if out, ok := p.tryGit("commit", "-m", "clean change"); !ok || !strings.Contains(out, "Passed") {
			t.Fatalf("a clean commit did not pass the hook (ok=%v):\n%s", ok, out)
		}
		head := p.git("rev-parse", "HEAD")
		p.write("app.env", "LOFTY_API_KEY="+commitKey+"\n")
		p.git("add", "app.env")
		out, ok := p.tryGit("commit", "-m", "add a key")
		if ok {
			t.Fatalf("a commit adding a key was not blocked:\n%s", out)
		}
		checkBlocked(t, out, "loftyscan", "app.env", commitKey)
		if now := p.git("rev-parse", "HEAD"); now != head {
			t.Errorf("HEAD moved from %s to %s: the blocked commit was made", head, now)
		}
		p.git("rm", "-q", "--cached", "app.env")
		if err := os.Remove(filepath.Join(p.dir, "app.env")); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("push", func(t *testing.T) {
		remote := filepath.Join(t.TempDir(), "remote.git")
		releaseMust(t, p.dir, p.env, "git", "init", "-q", "--bare", remote)
		p.git("remote", "add", "origin", remote)
		remoteHead := func(ref string) string {
			out, _ := releaseRun(remote, p.env, "git", "rev-parse", "--verify", "-q", ref)
			return strings.TrimSpace(out)
		}

		// The first push of main: pre-commit scans all of it.
		if out, ok := p.tryGit("push", "origin", "main"); !ok || !strings.Contains(out, "Passed") {
			t.Fatalf("the first clean push did not pass (ok=%v):\n%s", ok, out)
		}
		// A later push: pre-commit hands over the range old..new.
		p.write("more.txt", "still nothing secret\n")
		p.git("add", "more.txt")
		p.git("commit", "-q", "--no-verify", "-m", "another clean change")
		if out, ok := p.tryGit("push", "origin", "main"); !ok || !strings.Contains(out, "Passed") {
			t.Fatalf("a later clean push did not pass (ok=%v):\n%s", ok, out)
		}
		pushed := p.git("rev-parse", "HEAD")

		// --no-verify skips the commit hook, as someone in a hurry would.
		p.write("deploy.env", "LOFTY_API_KEY="+pushKey+"\n")
		p.git("add", "deploy.env")
		p.git("commit", "-q", "--no-verify", "-m", "add a key")
		out, ok := p.tryGit("push", "origin", "main")
		if ok {
			t.Fatalf("a push sending a key was not blocked:\n%s", out)
		}
		checkBlocked(t, out, "loftyscan-pre-push", "deploy.env", pushKey)
		if got := remoteHead("refs/heads/main"); got != pushed {
			t.Errorf("the remote's main is %q, want %s: the blocked push went through", got, pushed)
		}

		// A new branch whose commits the remote has never seen.
		p.git("checkout", "-q", "-b", "feature", pushed)
		p.write("feature.env", "LOFTY_API_KEY="+branchKey+"\n")
		p.git("add", "feature.env")
		p.git("commit", "-q", "--no-verify", "-m", "feature with a key")
		out, ok = p.tryGit("push", "origin", "feature")
		if ok {
			t.Fatalf("a new branch sending a key was not blocked:\n%s", out)
		}
		checkBlocked(t, out, "loftyscan-pre-push", "feature.env", branchKey)
		if got := remoteHead("refs/heads/feature"); got != "" {
			t.Errorf("the remote has the blocked branch at %s", got)
		}
	})

	// CI runs pre-commit over a change with --from-ref and --to-ref: the
	// commit-stage hook scans those commits, not the clean index.
	// (pre-commit runs a hook only when a changed file is in the work tree.)
	t.Run("run from-ref to-ref", func(t *testing.T) {
		p.git("checkout", "-q", "main")
		out, err := releaseRun(p.dir, p.env, "pre-commit", "run", "--from-ref", "main~1", "--to-ref", "main")
		if err == nil {
			t.Fatalf("pre-commit run over a commit that adds a key passed:\n%s", out)
		}
		checkBlocked(t, out, "loftyscan", "deploy.env", pushKey)
		if out, err := releaseRun(p.dir, p.env, "pre-commit", "run", "--from-ref", "main~2", "--to-ref", "main~1"); err != nil {
			t.Fatalf("pre-commit run over clean commits failed:\n%s", out)
		}
	})

	// pre-commit run --all-files, as CI and the pre-commit action run it:
	// the index of a clean checkout adds nothing to HEAD, so the hook scans
	// every file it holds, and finds the key main's last commit added.
	t.Run("run all-files", func(t *testing.T) {
		p.git("checkout", "-q", "main")
		out, err := releaseRun(p.dir, p.env, "pre-commit", "run", "--all-files")
		if err == nil {
			t.Fatalf("pre-commit run --all-files passed with a key in the checkout:\n%s", out)
		}
		checkBlocked(t, out, "loftyscan", "deploy.env", pushKey)
		if !strings.Contains(out, "every file it holds was scanned") {
			t.Errorf("the hook does not say it scanned every file:\n%s", out)
		}
		p.git("checkout", "-q", "main~1")
		defer p.git("checkout", "-q", "main")
		if out, err := releaseRun(p.dir, p.env, "pre-commit", "run", "--all-files"); err != nil {
			t.Fatalf("pre-commit run --all-files over a clean checkout failed:\n%s", out)
		}
	})
}

// TestPreCommitValidatesHooksFile asks the installed pre-commit whether it
// accepts .pre-commit-hooks.yaml as it is: Debian 12's pre-commit 3.0.4
// rejects the stage names pre-commit and pre-push that 3.2.0 introduced.
func TestPreCommitValidatesHooksFile(t *testing.T) {
	t.Parallel()
	testtool.Need(t, "pre-commit")
	root := releaseRepoRoot(t)
	out := releaseMust(t, root, releaseEnv(t), "pre-commit", "validate-manifest", ".pre-commit-hooks.yaml")
	if strings.Contains(out, "deprecated") {
		t.Logf("pre-commit accepts the hooks file with a warning:\n%s", out)
	}
}
