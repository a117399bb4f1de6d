package gitscan

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// gitTestRepo is a repository made with the git CLI in a temporary folder,
// independent of the user's git config and of any GIT_* variables a hook
// running the tests may have set.
type gitTestRepo struct {
	t    testing.TB
	dir  string
	home string
	tick int64 // seconds after gitEpoch of the next commit
}

// gitEpoch is the date of the first test commit; each commit is a minute
// later, so that commit order is also date order.
var gitEpoch = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

func requireGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
}

// newGitTestRepo runs git init in a new folder; args go to git init.
func newGitTestRepo(t testing.TB, args ...string) *gitTestRepo {
	t.Helper()
	requireGit(t)
	base := t.TempDir()
	r := &gitTestRepo{t: t, dir: filepath.Join(base, "repo"), home: filepath.Join(base, "home")}
	if err := os.MkdirAll(r.home, 0o755); err != nil {
		t.Fatal(err)
	}
	r.runIn(base, append(append([]string{"init", "-q"}, args...), r.dir)...)
	return r
}

// gitEnv is the environment of test git commands: no inherited GIT_*
// variables, no global or system config, fixed identities and dates.
func gitEnv(home string, when time.Time) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			env = append(env, kv)
		}
	}
	date := fmt.Sprintf("@%d +0000", when.Unix())
	return append(env,
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_AUTHOR_NAME=Ada Author", "GIT_AUTHOR_EMAIL=ada@example.com", "GIT_AUTHOR_DATE="+date,
		"GIT_COMMITTER_NAME=Cy Committer", "GIT_COMMITTER_EMAIL=cy@example.com", "GIT_COMMITTER_DATE="+date,
		"GIT_TERMINAL_PROMPT=0",
	)
}

// gitArgs are the -c options every test git command gets.
var gitArgs = []string{
	"-c", "user.name=Ada Author", "-c", "user.email=ada@example.com",
	"-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false",
	"-c", "core.autocrlf=false", "-c", "protocol.file.allow=always", "-c", "gc.auto=0",
}

func (r *gitTestRepo) now() time.Time { return gitEpoch.Add(time.Duration(r.tick) * time.Second) }

// git runs git in the repository and returns its trimmed output.
func (r *gitTestRepo) git(args ...string) string {
	r.t.Helper()
	return r.runIn(r.dir, args...)
}

func (r *gitTestRepo) runIn(dir string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append(append([]string(nil), gitArgs...), args...)...)
	cmd.Dir = dir
	cmd.Env = gitEnv(r.home, r.now())
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// write writes a file in the work tree.
func (r *gitTestRepo) write(name, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// commit stages everything and commits it; it returns the commit's hash.
func (r *gitTestRepo) commit(msg string) string {
	r.t.Helper()
	r.git("add", "-A")
	r.git("commit", "-q", "--allow-empty", "-m", msg)
	r.tick += 60
	return r.git("rev-parse", "HEAD")
}

func (r *gitTestRepo) repository() *Repository {
	r.t.Helper()
	repo, err := FindRepository(r.dir)
	if err != nil {
		r.t.Fatal(err)
	}
	return repo
}

// scanGit runs a history scan and returns its findings, sorted, and the
// collector with the warnings.
func scanGit(t testing.TB, repo *Repository, opts GitOptions) ([]Finding, *Collector, Stats) {
	t.Helper()
	c := &Collector{}
	st, err := New(DefaultOptions()).ScanGit(context.Background(), repo, opts, c)
	if err != nil {
		t.Fatalf("ScanGit: %v", err)
	}
	return c.Sorted(), c, st
}

// testKey is a synthetic key for sub, in an assignment that names Lofty.
func gitTestKey(sub string) string {
	return testtoken.Key(sub, time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
}

// want is what a test expects of a finding.
type gitWant struct {
	key    string // the token
	path   string
	commit string // full hash
	inHead bool
	line   int // 0: not checked
	enc    string
}

// checkGitFindings asserts that findings are exactly wants, in any order.
func checkGitFindings(t testing.TB, got []Finding, wants ...gitWant) {
	t.Helper()
	if len(got) != len(wants) {
		for _, f := range got {
			t.Logf("got %s:%d commit %.7s in_head %v enc %q (%s)", f.Path, f.Line, f.Commit, gitDeref(f.InHead), f.Encoding, f.Subject)
		}
		t.Fatalf("got %d findings, want %d", len(got), len(wants))
	}
	for _, w := range wants {
		found := false
		for _, f := range got {
			if f.Secret != w.key || f.Path != w.path {
				continue
			}
			found = true
			if f.Commit != w.commit {
				t.Errorf("%s: commit %.7s, want %.7s", w.path, f.Commit, w.commit)
			}
			if f.InHead == nil || *f.InHead != w.inHead {
				t.Errorf("%s: in_head %v, want %v", w.path, gitDeref(f.InHead), w.inHead)
			}
			if w.line != 0 && f.Line != w.line {
				t.Errorf("%s: line %d, want %d", w.path, f.Line, w.line)
			}
			if f.Encoding != w.enc {
				t.Errorf("%s: encoding %q, want %q", w.path, f.Encoding, w.enc)
			}
			if f.Author != "Ada Author" || f.Email != "ada@example.com" || f.Date.IsZero() || f.Message == "" {
				t.Errorf("%s: git fields missing: %q %q %v %q", w.path, f.Author, f.Email, f.Date, f.Message)
			}
		}
		if !found {
			t.Errorf("no finding of the key at %s", w.path)
		}
	}
}

func gitDeref(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}
