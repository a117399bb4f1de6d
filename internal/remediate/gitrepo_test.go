package remediate

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/rules"

	"github.com/loftyscan/loftyscan/internal/testtool"
)

// TestMain gives every git command of the tests, the plan's included, an
// environment of its own: no GIT_* variables from a hook running the
// tests, no user or system config, a fixed identity.
func TestMain(m *testing.M) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "GIT_") {
			os.Unsetenv(k)
		}
	}
	home, err := os.MkdirTemp("", "remediate-home-")
	if err != nil {
		panic(err)
	}
	for k, v := range map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.DevNull, "GIT_TERMINAL_PROMPT": "0",
		"GIT_AUTHOR_NAME": "Ada Author", "GIT_AUTHOR_EMAIL": "ada@example.com",
		"GIT_COMMITTER_NAME": "Cy Committer", "GIT_COMMITTER_EMAIL": "cy@example.com",
	} {
		os.Setenv(k, v)
	}
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}

// gitArgs are the -c options of the tests' own git commands.
var gitArgs = []string{"-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "core.autocrlf=false", "-c", "gc.auto=0", "-c", "protocol.file.allow=always"}

// git runs git in dir and returns its output; a failure fails the test.
func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := gitCmd(dir, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func gitCmd(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", append(append([]string{}, gitArgs...), args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// requireFilterRepo needs git filter-repo, whose commands the plan is made
// of: missing, the test is skipped with how to install it, as plain
// `go test ./...` promises, and fails under LOFTYSCAN_REQUIRE_TOOLS=1
// (scripts/test.sh, CI).
func requireFilterRepo(t testing.TB) {
	t.Helper()
	testtool.Need(t, "git-filter-repo")
	if out, err := exec.Command("git", "filter-repo", "--version").CombinedOutput(); err != nil {
		t.Fatalf("git filter-repo is needed (apt-get install git-filter-repo): %v\n%s", err, out)
	}
}

// repo is a repository with a work tree made for a test.
type repo struct {
	t   testing.TB
	dir string
}

func newRepo(t testing.TB, dir string) *repo {
	t.Helper()
	git(t, filepath.Dir(dir), "init", "-q", dir)
	return &repo{t: t, dir: dir}
}

func (r *repo) git(args ...string) string { r.t.Helper(); return git(r.t, r.dir, args...) }

// write writes files (path → content) into the work tree.
func (r *repo) write(files map[string]string) {
	r.t.Helper()
	for p, content := range files {
		full := filepath.Join(r.dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
}

// commit writes files and commits everything with message.
func (r *repo) commit(message string, files map[string]string) string {
	r.t.Helper()
	r.write(files)
	r.git("add", "-A")
	r.git("commit", "-q", "--allow-empty", "-m", message)
	return strings.TrimSpace(r.git("rev-parse", "HEAD"))
}

// messageKeys finds the keys in the messages of every commit and annotated tag.
func messageKeys(t testing.TB, dir string) []Key {
	t.Helper()
	keys, err := MessageKeys(context.Background(), dir, rules.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// mergeKeys joins the occurrences of the same key.
func mergeKeys(lists ...[]Key) []Key {
	var out []Key
	index := map[string]int{}
	for _, l := range lists {
		for _, k := range l {
			if i, ok := index[k.Fingerprint]; ok {
				out[i].Occurrences = append(out[i].Occurrences, k.Occurrences...)
				continue
			}
			index[k.Fingerprint] = len(out)
			out = append(out, k)
		}
	}
	return out
}

// occurrenceCommits lists the commits of the keys' occurrences.
func occurrenceCommits(keys []Key) []string {
	var out []string
	for _, k := range keys {
		for _, o := range k.Occurrences {
			out = append(out, o.Commit)
		}
	}
	return out
}

// runCommands runs the plan's commands as they are, from a folder outside
// the repository.
func runCommands(t testing.TB, cwd string, steps []Step) {
	t.Helper()
	for _, st := range steps {
		for _, c := range st.Commands {
			if len(c.Pipe) > 0 {
				t.Fatalf("a rewrite command with a pipe: %v", c)
			}
			cmd := exec.Command(c.Args[0], c.Args[1:]...)
			cmd.Dir = cwd
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("step %q: %s: %v\n%s", st.Title, strings.Join(c.Args, " "), err, out)
			}
		}
	}
}

// runChecks runs the check steps, with loftyscan's scans done in process:
// `loftyscan git DIR` by scanRepo, `... | loftyscan stdin` by scanText.
func runChecks(t testing.TB, cwd string, steps []Step) {
	t.Helper()
	for _, st := range steps {
		for _, c := range st.Commands {
			switch {
			case c.Args[0] == "loftyscan" && c.Args[1] == "git":
				if !slices.Contains(c.Args, "--fail-on-error") {
					t.Errorf("check %q: %v passes on what it cannot read", st.Title, c.Args)
				}
				dir := c.Args[len(c.Args)-1]
				if keys := scanRepo(t, dir); len(keys) > 0 {
					t.Errorf("check %q: %d keys left in %s", st.Title, len(keys), dir)
				}
			case c.Args[0] == "git":
				cmd := exec.Command(c.Args[0], c.Args[1:]...)
				cmd.Dir = cwd
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("check %q: %s: %v\n%s", st.Title, strings.Join(c.Args, " "), err, stderr.String())
				}
				if len(c.Pipe) > 0 {
					if c.Pipe[0] != "loftyscan" || c.Pipe[1] != "stdin" || !slices.Contains(c.Pipe, "--fail-on-error") {
						t.Fatalf("unexpected pipe %v", c.Pipe)
					}
					if len(out) == 0 {
						t.Errorf("check %q: %s printed nothing: the check scans nothing", st.Title, strings.Join(c.Args, " "))
					}
					if keys := scanText(t, "stdin", out); len(keys) > 0 {
						t.Errorf("check %q: %d keys left", st.Title, len(keys))
					}
				}
			default:
				t.Fatalf("unexpected check command %v", c.Args)
			}
		}
	}
}

// tree lists a commit's files: path → "<blob hash> <size>".
func tree(t testing.TB, dir, commit string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, rec := range strings.Split(git(t, dir, "ls-tree", "-r", "-l", "-z", commit), "\x00") {
		meta, path, ok := strings.Cut(rec, "\t")
		if !ok {
			continue
		}
		f := strings.Fields(meta) // mode type hash size
		out[path] = f[2] + " " + f[3]
	}
	return out
}

// commitMap reads filter-repo's map of old to new commits.
func commitMap(t testing.TB, gitDir string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(gitDir, "filter-repo", "commit-map"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
		f := strings.Fields(line)
		m[f[0]] = f[1]
	}
	return m
}

// assertNoSecretIn fails when any key, or any of its JWS segments but the
// public header, is in text.
func assertNoSecretIn(t testing.TB, what, text string, keys []Key) {
	t.Helper()
	for _, k := range keys {
		parts := strings.Split(k.Secret, ".")
		for i, s := range append(parts[1:], k.Secret) {
			if len(s) >= 16 && strings.Contains(text, s) {
				t.Errorf("%s holds key %s (part %d)", what, shortFP(k.Fingerprint), i+1)
			}
		}
	}
}

func fileMode(t testing.TB, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func describeKeys(keys []Key) string {
	var b strings.Builder
	for _, k := range keys {
		for _, o := range k.Occurrences {
			fmt.Fprintf(&b, "%s %s\n", shortFP(k.Fingerprint), describeOccurrence(o))
		}
	}
	return b.String()
}
