package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/config"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/internal/testtool"
	"gopkg.in/yaml.v3"
)

// The README's examples are run here, so that what a reader copies works.

// readmeBlock returns the README's fenced block whose first line starts
// with prefix.
func readmeBlock(t *testing.T, prefix string) string {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range fencedBlocks(string(data)) {
		if strings.HasPrefix(strings.TrimSpace(b), prefix) {
			return b
		}
	}
	t.Fatalf("README has no code block starting with %q", prefix)
	return ""
}

// runBinary runs the built loftyscan in dir with extra environment.
func runBinary(t *testing.T, dir string, env []string, line string) (int, string) {
	t.Helper()
	args := strings.Fields(strings.TrimPrefix(line, "loftyscan "))
	if i := indexOf(args, "#"); i >= 0 {
		args = args[:i]
	}
	cmd := exec.Command(loftyscan, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"NO_COLOR=1", "CI=true"}, env...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String()
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// commandLines returns the lines of a shell block that run loftyscan.
func commandLines(block string) []string {
	var out []string
	for _, l := range strings.Split(block, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "loftyscan ") {
			out = append(out, l)
		}
	}
	return out
}

// TestReadmeQuickStartFromClone runs the README's one command for a clone
// in a snapshot of this working tree, with GOBIN set and an empty GOPATH:
// it must install loftyscan and scan the clone with the binary it just
// installed. "$(go env GOPATH)/bin/loftyscan" failed there (or ran an older
// binary left in GOPATH).
func TestReadmeQuickStartFromClone(t *testing.T) {
	t.Parallel()
	testtool.Need(t, "git")
	block := strings.TrimSpace(readmeBlock(t, "go install . &&"))
	env := releaseEnv(t, "GOBIN="+t.TempDir(), "GOPATH="+t.TempDir(), "CI=true")
	clone, _ := snapshotWorkTree(t, env)
	cmd := exec.Command("bash", "-c", block)
	cmd.Dir, cmd.Env = clone, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", block, err, out)
	}
	if !strings.Contains(string(out), "no Lofty keys found in") {
		t.Errorf("%s did not scan the clone:\n%s", block, out)
	}
}

// TestReadmeConfigExample scans a folder with the README's .loftyscan.toml
// at its top: its skip globs leave out vendor/ but keep vendor/keep.env.
func TestReadmeConfigExample(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(".loftyscan.toml", readmeBlock(t, "# paths to skip"))
	for _, name := range []string{"app.env", "vendor/lib.env", "vendor/keep.env", "web/app.min.js"} {
		write(name, "LOFTY_API_KEY="+key1+"\n")
	}
	code, out := runBinary(t, dir, nil, "loftyscan dir . --format json")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	var rep struct{ Findings []struct{ Path string } }
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var paths []string
	for _, f := range rep.Findings {
		paths = append(paths, f.Path)
	}
	if want := []string{"app.env", "vendor/keep.env"}; !slices.Equal(paths, want) {
		t.Errorf("findings at %q, want %q: the README's settings did not apply", paths, want)
	}
}

func TestReadmeIgnoreExample(t *testing.T) {
	t.Parallel()
	l, err := config.ParseIgnore(strings.NewReader(readmeBlock(t, "# synthetic keys of the test suite")), ".loftyscanignore")
	if err != nil || l.Len() != 2 {
		t.Fatalf("the README's .loftyscanignore: %v (%d entries)", err, l.Len())
	}
}

func TestReadmePreCommitExample(t *testing.T) {
	t.Parallel()
	var cfg struct {
		Repos []struct {
			Repo  string
			Hooks []struct{ ID string }
		}
	}
	if err := yaml.Unmarshal([]byte(readmeBlock(t, "repos:")), &cfg); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(".pre-commit-hooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var hooks []struct{ ID string }
	if err := yaml.Unmarshal(data, &hooks); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, h := range hooks {
		have[h.ID] = true
	}
	for _, r := range cfg.Repos {
		for _, h := range r.Hooks {
			if !have[h.ID] {
				t.Errorf("the README uses hook %q, which .pre-commit-hooks.yaml does not define", h.ID)
			}
		}
	}
}

// TestReadmeBaselineExample runs the README's baseline commands in a folder
// with a key: the baseline holds it, the next scan passes, a new key fails.
func TestReadmeBaselineExample(t *testing.T) {
	t.Parallel()
	lines := commandLines(readmeBlock(t, "loftyscan baseline create"))
	if len(lines) != 2 {
		t.Fatalf("want 2 commands in the baseline example, got %q", lines)
	}
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("old.env", "LOFTY_API_KEY="+key1+"\n")
	if code, out := runBinary(t, dir, nil, lines[0]); code != 0 {
		t.Fatalf("%s: exit %d\n%s", lines[0], code, out)
	}
	if code, out := runBinary(t, dir, nil, lines[1]); code != 0 {
		t.Fatalf("%s: exit %d, want 0: the baselined key came back\n%s", lines[1], code, out)
	}
	write("new.env", "LOFTY_API_KEY="+key2+"\n")
	if code, out := runBinary(t, dir, nil, lines[1]); code != 1 || !strings.Contains(out, "new.env") {
		t.Fatalf("%s with a new key: exit %d, want 1 naming new.env\n%s", lines[1], code, out)
	}
}

// TestReadmeInlineAllowExample puts a key on the README's allow line.
func TestReadmeInlineAllowExample(t *testing.T) {
	t.Parallel()
	line := strings.TrimSpace(readmeBlock(t, "LOFTY_API_KEY=eyJhbGciOi…"))
	line = strings.Replace(line, "eyJhbGciOi…", key1, 1)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := runBinary(t, dir, nil, "loftyscan dir . --show-suppressed --format json")
	if code != 0 || !strings.Contains(out, `"suppressed": "inline loftyscan:allow"`) {
		t.Fatalf("exit %d, want 0 with the key suppressed\n%s", code, out)
	}
}

// TestReadmeVerifyExample runs the README's --verify command in a git
// repository, against a local server standing in for Lofty's API.
func TestReadmeVerifyExample(t *testing.T) {
	t.Parallel()
	lines := commandLines(readmeBlock(t, "loftyscan git --verify"))
	if len(lines) != 1 {
		t.Fatalf("want one command, got %q", lines)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1.0/me" && r.Header.Get("Authorization") == "token "+key1 {
			w.Write([]byte(`{}`))
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	repo := testgit.New(t, "")
	repo.Write("app.env", "LOFTY_API_KEY="+key1+"\n")
	repo.Commit("add a key")
	code, out := runBinary(t, repo.Dir, []string{"LOFTY_BASE_URL=" + srv.URL}, lines[0])
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	data, err := os.ReadFile(filepath.Join(repo.Dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Findings []struct{ Verification, Commit string } `json:"findings"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Verification != "live" || rep.Findings[0].Commit == "" {
		t.Fatalf("report %s", data)
	}
}
