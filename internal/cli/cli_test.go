package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/internal/testtoken"
	"github.com/loftyscan/loftyscan/reporters"
)

// runInProcess runs the CLI with buffers and returns the exit code and output.
func runInProcess(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runEnv(context.Background(), args, env{
		stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		getenv: func(string) string { return "" },
	})
	return code, out.String(), errb.String()
}

// keyTree writes a folder with one confirmed key and returns it with the key.
func keyTree(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	key := scriptKeys["KEY"]
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("LOFTY_API_KEY="+key+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, key
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	withKey, _ := keyTree(t)
	clean := t.TempDir()
	if err := os.WriteFile(filepath.Join(clean, "a.txt"), []byte("nothing here "+testtoken.Generic("x")), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"clean", []string{"dir", clean}, 0},
		{"findings", []string{"dir", withKey}, 1},
		{"exit-code 3", []string{"dir", "--exit-code", "3", withKey}, 3},
		{"exit-code 0", []string{"dir", "--exit-code=0", withKey}, 0},
		{"exit-code on clean", []string{"dir", "--exit-code", "3", clean}, 0},
		{"bad format", []string{"dir", "--format", "xml", clean}, 2},
		{"missing path", []string{"dir", filepath.Join(clean, "nope")}, 2},
		{"unknown flag", []string{"dir", "--nope"}, 2},
		{"unknown command", []string{"scan"}, 2},
		{"no command", nil, 2},
		{"negative depth", []string{"dir", "--archive-depth", "-1", clean}, 2},
		{"exit-code out of range", []string{"dir", "--exit-code", "300", clean}, 2},
		{"unwritable output", []string{"dir", "--output", filepath.Join(clean, "no", "dir", "r.json"), clean}, 2},
		{"stdin with args", []string{"stdin", "x"}, 2},
		{"version", []string{"version"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runInProcess(t, "", tc.args...)
			if code != tc.want {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.want, stderr)
			}
			if code == 2 && !strings.Contains(stderr, "loftyscan: error: ") {
				t.Errorf("exit 2 without an error message on stderr:\n%s", stderr)
			}
		})
	}
}

// failWriter is a closed standard output.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) {
	return 0, errors.New("write /dev/stdout: bad file descriptor")
}

func TestUnwritableStdoutIsAnError(t *testing.T) {
	t.Parallel()
	dir, _ := keyTree(t)
	for _, format := range reporters.Formats() {
		var errb bytes.Buffer
		code := runEnv(context.Background(), []string{"dir", "--format", format, dir}, env{
			stdin: strings.NewReader(""), stdout: failWriter{}, stderr: &errb, getenv: func(string) string { return "" },
		})
		if code != 2 || !strings.Contains(errb.String(), "cannot write the report") {
			t.Errorf("%s: exit %d, stderr %q; want 2 and a message", format, code, errb.String())
		}
	}
}

// TestNoFullTokenUnlessAsked checks every format in every scan mode (dir,
// stdin, git history, git --staged), with and without --show-secrets: the
// key's signature is printed only where the user asked for it (terminal and
// json), never in SARIF, GitLab or JUnit, and never on stderr.
func TestNoFullTokenUnlessAsked(t *testing.T) {
	t.Parallel()
	dir, key := keyTree(t)
	sig := testtoken.Segments(key)[2]

	repo := testgit.New(t, "")
	repo.Write("config/.env", "LOFTY_API_KEY="+key+"\n")
	repo.Commit("add a key")
	staged := testgit.New(t, "")
	staged.Write("README", "hello\n")
	staged.Commit("first")
	staged.Write("app.env", "LOFTY_API_KEY="+key+"\n")
	staged.Git("add", "app.env")

	modes := []struct {
		name  string
		args  []string
		stdin string
	}{
		{"dir", []string{"dir", dir}, ""},
		{"stdin", []string{"stdin"}, "LOFTY_API_KEY=" + key + "\n"},
		{"git", []string{"git", repo.Dir}, ""},
		{"staged", []string{"git", "--staged", staged.Dir}, ""},
	}
	for _, format := range reporters.Formats() {
		for _, show := range []bool{false, true} {
			for _, mode := range modes {
				args := append([]string{}, mode.args[0])
				args = append(args, "--format", format)
				if show {
					args = append(args, "--show-secrets")
				}
				args = append(args, mode.args[1:]...)
				code, stdout, stderr := runInProcess(t, mode.stdin, args...)
				if code != 1 {
					t.Fatalf("%v: exit %d, want 1; stderr %s", args, code, stderr)
				}
				wantSecret := show && (format == reporters.FormatTerminal || format == reporters.FormatJSON)
				if got := strings.Contains(stdout, sig); got != wantSecret {
					t.Errorf("%v: key in stdout = %v, want %v", args, got, wantSecret)
				}
				if strings.Contains(stderr, sig) {
					t.Errorf("%v: key in stderr", args)
				}
			}
		}
	}
}
