package gitscan

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
)

// TestHooksDir finds the hooks folder as `git rev-parse --git-path hooks`
// does.
func TestHooksDir(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	tests := []struct {
		name   string
		setup  func(r *testgit.Repo) string // returns the folder to ask from
		global string                       // ~/.gitconfig
	}{
		{"default", func(r *testgit.Repo) string { return r.Dir }, ""},
		{"relative hooksPath, from a subfolder", func(r *testgit.Repo) string {
			r.Git("config", "core.hooksPath", "my hooks")
			os.MkdirAll(filepath.Join(r.Dir, "sub"), 0o755)
			return filepath.Join(r.Dir, "sub")
		}, ""},
		{"absolute hooksPath", func(r *testgit.Repo) string {
			r.Git("config", "core.hooksPath", filepath.Join(home, "abs-hooks"))
			return r.Dir
		}, ""},
		{"global hooksPath with ~", func(r *testgit.Repo) string { return r.Dir }, "[core]\n\thooksPath = ~/global-hooks\n"},
		{"local beats global", func(r *testgit.Repo) string {
			r.Git("config", "core.hooksPath", ".githooks")
			return r.Dir
		}, "[core]\n\thooksPath = ~/global-hooks\n"},
		{"linked worktree", func(r *testgit.Repo) string {
			r.Write("a", "a")
			r.Commit("a")
			wt := filepath.Join(t.TempDir(), "wt")
			r.Git("worktree", "add", "-q", wt)
			return wt
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := testgit.New(t, "")
			h := t.TempDir()
			if tc.global != "" {
				os.WriteFile(filepath.Join(h, ".gitconfig"), []byte(tc.global), 0o644)
			}
			from := tc.setup(r)
			vars := map[string]string{"HOME": h, "GIT_CONFIG_NOSYSTEM": "1"}
			cmd := exec.Command("git", "rev-parse", "--git-path", "hooks")
			cmd.Dir = from
			cmd.Env = append(r.Env(), "HOME="+h)
			cmd.Env = withoutVar(cmd.Env, "GIT_CONFIG_GLOBAL")
			out, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			want := strings.TrimSpace(string(out))
			if !filepath.IsAbs(want) {
				want = filepath.Join(from, want)
			}
			repo, err := FindRepository(from)
			if err != nil {
				t.Fatal(err)
			}
			got, err := HooksDir(repo, func(k string) string { return vars[k] })
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
