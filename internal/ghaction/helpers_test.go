package ghaction

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// testEnv is the environment of every git command the tests run, the
// repository builder's and GitCLI's alike: no inherited GIT_* variables,
// no global or system config, fixed identities.
func testEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_AUTHOR_NAME=Ada Author", "GIT_AUTHOR_EMAIL=ada@example.com",
		"GIT_COMMITTER_NAME=Ada Author", "GIT_COMMITTER_EMAIL=ada@example.com")
}

// repo is a repository made with the git CLI in a temporary folder.
type repo struct {
	t    testing.TB // the test that made it; subtests pass their own to run
	dir  string
	home string
	tick atomic.Int64 // parallel subtests share a clone
}

func newRepo(t testing.TB, dir string, initArgs ...string) *repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("the tests need git on PATH")
	}
	r := &repo{t: t, dir: dir, home: t.TempDir()}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	r.runIn(filepath.Dir(dir), append(append([]string{"init", "-q"}, initArgs...), dir)...)
	return r
}

// git runs git in the repository and returns its output, trimmed.
func (r *repo) git(args ...string) string {
	r.t.Helper()
	return r.run(r.t, r.dir, args...)
}

func (r *repo) runIn(dir string, args ...string) string {
	r.t.Helper()
	return r.run(r.t, dir, args...)
}

// run runs git in dir for the test t.
func (r *repo) run(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cfg := []string{"-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false",
		"-c", "gc.auto=0", "-c", "protocol.file.allow=always"}
	cmd := exec.Command("git", append(cfg, args...)...)
	cmd.Dir = dir
	// Each commit a minute after the last: commit order is date order.
	date := fmt.Sprintf("@%d +0000", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).Unix()+r.tick.Add(60))
	cmd.Env = append(testEnv(r.home), "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *repo) write(name, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// commit commits everything and returns the commit's name.
func (r *repo) commit(msg string) string {
	r.t.Helper()
	r.git("add", "-A")
	r.git("commit", "-q", "--no-verify", "--allow-empty", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

// cli is GitCLI on the repository, with the tests' environment.
func (r *repo) cli(t testing.TB) *GitCLI {
	t.Helper()
	g, err := NewGitCLI(context.Background(), r.dir, testEnv(r.home))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// revList lists the commits git rev-list selects for include ^exclude,
// the oracle for what a Range means.
func (r *repo) revList(t testing.TB, rg Range) string {
	t.Helper()
	args := append([]string{"rev-list"}, rg.Include...)
	for _, x := range rg.Exclude {
		args = append(args, "^"+x)
	}
	return r.run(t, r.dir, args...)
}

// writeEvent writes v as the runner writes the event file, indented.
func writeEvent(t testing.TB, v any) string {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, data)
}

func writeFile(t testing.TB, data []byte) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

const zero40 = "0000000000000000000000000000000000000000"

// key is a line that sets a synthetic Lofty key for sub.
func key(sub string) string {
	return "LOFTY_API_KEY=" + testtoken.Key(sub, time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)) + "\n"
}

// fixture is a repository on a "server" (a bare origin) with the history a
// pull request, pushes, new branches, tags and a merge queue make, as
// action_test.go's in the root package has it:
//
//	main:     c1 ─ bp ─ rm ─ base ─ p1 ─ p2
//	               └─ f1 ─ head                  feature (the pull request)
//	refs/pull/1/merge: merge of head into base   (what actions/checkout checks out)
//	topic:    p2 ─ t1                            a new branch
//	topic2:   p2 ─ merge of feature ─ t2         a new branch that merged feature
//	queue:    p2 ─ merge of feature (mq)         gh-readonly-queue/main/pr-1-HEAD
//	tags:     v1 → p1 (on main), v2 → x2, v3 (annotated) → x3, x2 and x3 on no branch
//	orphan:   o1                                 no history in common with main
//	gone:     p2 ─ gone                          never pushed: a force-push's old commit
type fixture struct {
	origin                                                 string
	c1, bp, rm, base, f1, head, merge, p1, p2, t1, t2m, t2 string
	mq, x2, x3, v3obj, o1, gone                            string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	root := t.TempDir()
	f := &fixture{origin: filepath.Join(root, "origin.git")}
	newRepo(t, f.origin, "--bare")
	dev := newRepo(t, filepath.Join(root, "dev"))
	dev.write("old.env", key("old"))
	f.c1 = dev.commit("c1")
	dev.write("README", "v1\n")
	f.bp = dev.commit("branch point")
	dev.git("checkout", "-q", "-b", "feature")
	dev.write("app/new.env", key("new"))
	f.f1 = dev.commit("f1")
	dev.write("app/main.go", "package main\n")
	f.head = dev.commit("head")
	dev.git("checkout", "-q", "main")
	dev.git("rm", "-q", "old.env")
	f.rm = dev.commit("rm")
	dev.write("README", "v2\n")
	f.base = dev.commit("base")
	dev.git("checkout", "-q", "--detach", f.base)
	dev.git("merge", "-q", "--no-ff", "--no-edit", "-m", "Merge feature into main", f.head)
	f.merge = dev.git("rev-parse", "HEAD")
	dev.git("checkout", "-q", "main")
	dev.write("push.env", key("push"))
	f.p1 = dev.commit("p1")
	dev.write("docs.md", "docs\n")
	f.p2 = dev.commit("p2")
	dev.git("tag", "v1", f.p1)
	dev.git("checkout", "-q", "-b", "topic")
	dev.write("topic.env", key("topic"))
	f.t1 = dev.commit("t1")
	dev.git("checkout", "-q", "-b", "topic2", "main")
	dev.git("merge", "-q", "--no-ff", "--no-edit", "-m", "Merge feature into topic2", "feature")
	f.t2m = dev.git("rev-parse", "HEAD")
	dev.write("topic2.env", key("topic2"))
	f.t2 = dev.commit("t2")
	dev.git("checkout", "-q", "--detach", f.p2)
	dev.git("merge", "-q", "--no-ff", "--no-edit", "-m", "Merge pull request #1", f.head)
	f.mq = dev.git("rev-parse", "HEAD")
	dev.git("checkout", "-q", "--detach", f.p2)
	dev.write("x2.txt", "x2\n")
	f.x2 = dev.commit("x2")
	dev.git("tag", "v2", f.x2)
	dev.git("checkout", "-q", "--detach", f.p2)
	dev.write("x3.txt", "x3\n")
	f.x3 = dev.commit("x3")
	dev.git("tag", "-a", "-m", "release 3", "v3", f.x3)
	f.v3obj = dev.git("rev-parse", "v3")
	dev.git("checkout", "-q", "--orphan", "orphan")
	dev.git("rm", "-rfq", ".")
	dev.write("o.txt", "o\n")
	f.o1 = dev.commit("o1")
	dev.git("checkout", "-q", "-b", "rewritten", f.p2)
	dev.write("gone.txt", "gone\n")
	f.gone = dev.commit("rewritten away")
	dev.git("remote", "add", "origin", f.origin)
	dev.git("push", "-q", "origin", "main", "feature", "topic", "topic2", "orphan", "v1", "v2", "v3",
		f.merge+":refs/pull/1/merge", f.mq+":refs/heads/gh-readonly-queue/main/pr-1-"+f.head)
	return f
}

// checkout makes a clone of the origin as actions/checkout does, with git
// init and git fetch: depth 0 is fetch-depth: 0 (every branch and tag
// besides ref); otherwise only ref, that many commits deep. HEAD is ref's
// commit, detached.
func (f *fixture) checkout(t testing.TB, depth int, ref string) *repo {
	t.Helper()
	r := newRepo(t, filepath.Join(t.TempDir(), "ws"))
	r.git("remote", "add", "origin", "file://"+filepath.ToSlash(f.origin))
	local := "refs/remotes/origin/" + strings.TrimPrefix(ref, "refs/heads/")
	switch {
	case strings.HasPrefix(ref, "refs/pull/"):
		local = "refs/remotes/" + strings.TrimPrefix(ref, "refs/")
	case strings.HasPrefix(ref, "refs/tags/"):
		local = ref
	}
	args := []string{"fetch", "-q", "--no-tags"}
	if depth > 0 {
		args = append(args, "--depth="+strconv.Itoa(depth), "origin")
	} else {
		args = append(args, "origin", "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")
	}
	if depth > 0 || strings.HasPrefix(ref, "refs/pull/") {
		args = append(args, "+"+ref+":"+local)
	}
	r.git(args...)
	r.git("checkout", "-q", "--detach", local)
	return r
}

func prEvent(base, head string) map[string]any {
	repo := map[string]any{"full_name": "acme/app", "default_branch": "main"}
	return map[string]any{
		"action": "synchronize", "number": 1,
		// A synchronize has before and after too, which a pull
		// request's range must not use.
		"before": "1111111111111111111111111111111111111111", "after": head,
		"pull_request": map[string]any{
			"number": 1, "title": `Add {the} "new" key [wip]`,
			"head": map[string]any{"ref": "feature", "sha": head, "repo": repo},
			"base": map[string]any{"ref": "main", "sha": base, "repo": repo},
		},
		"repository": repo,
	}
}

func pushEvent(ref, before, after string) map[string]any {
	return map[string]any{
		"ref": ref, "before": before, "after": after, "created": before == zero40, "deleted": after == zero40,
		"head_commit": map[string]any{"id": after},
		"repository":  map[string]any{"full_name": "acme/app", "default_branch": "main"},
	}
}

func mergeGroupEvent(base, head string) map[string]any {
	return map[string]any{
		"action": "checks_requested",
		"merge_group": map[string]any{
			"head_sha": head, "head_ref": "refs/heads/gh-readonly-queue/main/pr-1-" + head,
			"base_sha": base, "base_ref": "refs/heads/main",
		},
	}
}
