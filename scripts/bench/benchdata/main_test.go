package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// gitIn runs git in dir with a fixed identity and no user config.
func gitIn(t *testing.T, dir string, stdin []byte, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "GIT_CONFIG_NOSYSTEM=1")
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// The stream is accepted by git fast-import, has the commits asked for,
// and its keys are in history only, each added by its own old commit.
func TestHistoryImportsWithKeysOnlyInOldCommits(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed to check the fast-import stream")
	}
	var stream bytes.Buffer
	writeHistory(&stream, 3000, 4)
	dir := t.TempDir()
	gitIn(t, dir, nil, "init", "-q", "-b", "main")
	gitIn(t, dir, stream.Bytes(), "fast-import", "--quiet")

	if n := gitIn(t, dir, nil, "rev-list", "--count", "main"); n != "3000" {
		t.Fatalf("%s commits, want 3000", n)
	}
	if files := gitIn(t, dir, nil, "ls-tree", "-r", "--name-only", "main"); strings.Count(files, "\n")+1 != 1000 {
		t.Fatalf("HEAD tree has %d files, want 1000", strings.Count(files, "\n")+1)
	}
	// Each key appears in exactly one commit's change (-S finds the commits
	// that add or drop it: the adding one is in the older half).
	for k := range 4 {
		tok := key("history", k)
		log := gitIn(t, dir, nil, "log", "--format=%s", "-S"+tok, "main")
		subjects := strings.Split(log, "\n")
		if len(subjects) != 2 {
			t.Fatalf("key %d: commits that add or drop it: %q, want 2", k, subjects)
		}
		added, err := strconv.Atoi(strings.TrimPrefix(subjects[1], "commit "))
		if err != nil || added < 1 || added > 1500 {
			t.Fatalf("key %d added by %q, want one of the older half", k, subjects[1])
		}
	}
	if out, err := exec.Command("git", "-C", dir, "grep", "-q", "LOFTY_API_KEY", "main").CombinedOutput(); err == nil {
		t.Fatalf("a key is still in HEAD:\n%s", out)
	}
}

// Each tree holds the files and keys it was asked for.
func TestTreesHoldFilesAndKeys(t *testing.T) {
	cases := []struct {
		name  string
		make  func(*tree)
		files int
		keys  int
	}{
		{"small", func(tr *tree) { tr.small(500, 3) }, 500, 3},
		{"jwt", func(tr *tree) { tr.jwt(20, 10, 3) }, 20, 3},
		{"empty", func(tr *tree) { tr.empty(2500) }, 2500, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := &tree{root: filepath.Join(t.TempDir(), c.name)}
			c.make(tr)
			if tr.err != nil {
				t.Fatal(tr.err)
			}
			files, keys := 0, 0
			err := filepath.WalkDir(tr.root, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				files++
				b, err := os.ReadFile(p)
				for k := range c.keys {
					keys += bytes.Count(b, []byte(key(c.name, k)))
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if files != c.files || keys != c.keys {
				t.Fatalf("%d files with %d keys, want %d with %d", files, keys, c.files, c.keys)
			}
		})
	}
}
