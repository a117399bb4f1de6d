package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestPreCommitHooksFile checks .pre-commit-hooks.yaml: both hooks are
// there with the settings the pre-commit framework needs, and each entry
// is a command line loftyscan accepts.
func TestPreCommitHooksFile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(".pre-commit-hooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for setting, n := range map[string]int{
		"language: golang":                  2,
		"pass_filenames: false":             2,
		"minimum_pre_commit_version: 3.0.0": 2,
		"stages: [commit]":                  1,
		"stages: [push]":                    1,
		"entry: loftyscan git --staged":     1,
		"entry: loftyscan git --pre-push":   1,
	} {
		if got := strings.Count(text, "\n  "+setting+"\n"); got != n {
			t.Errorf("%q appears %d times, want %d", setting, got, n)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		entry, ok := strings.CutPrefix(line, "  entry: loftyscan ")
		if !ok {
			continue
		}
		if out, err := exec.Command(loftyscan, append(strings.Fields(entry), "--help")...).CombinedOutput(); err != nil {
			t.Errorf("%s: %v: %s", entry, err, out)
		}
	}
}
