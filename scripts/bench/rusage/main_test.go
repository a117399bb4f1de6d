//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The line has five fields, and the exit code is the command's: its own
// status, or 128+N for signal N.
func TestRunWritesCostsAndExitCode(t *testing.T) {
	cases := []struct {
		script string
		code   int
	}{
		{"exit 0", 0},
		{"exit 3", 3},
		{"kill -9 $$", 128 + 9},
	}
	for _, c := range cases {
		out := filepath.Join(t.TempDir(), "cost")
		code, err := run(out, []string{"sh", "-c", c.script})
		if err != nil {
			t.Fatal(err)
		}
		if code != c.code {
			t.Errorf("%q: exit %d, want %d", c.script, code, c.code)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(b))
		if len(f) != 5 {
			t.Fatalf("%q: line %q, want 5 fields", c.script, b)
		}
		for _, s := range f[:3] {
			if v, err := strconv.ParseFloat(s, 64); err != nil || v < 0 {
				t.Errorf("%q: field %q is not a duration in seconds", c.script, s)
			}
		}
		if rss, err := strconv.Atoi(f[3]); err != nil || rss <= 0 {
			t.Errorf("%q: peak RSS %q, want a positive number", c.script, f[3])
		}
		if f[4] != strconv.Itoa(c.code) {
			t.Errorf("%q: exit field %q, want %d", c.script, f[4], c.code)
		}
	}
}

// A command that cannot be started is an error, not a cost line.
func TestRunMissingCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cost")
	if _, err := run(out, []string{filepath.Join(t.TempDir(), "no-such-command")}); err == nil {
		t.Fatal("no error for a command that does not exist")
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("cost file written for a command that never ran (stat: %v)", err)
	}
}
