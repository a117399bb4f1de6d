package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A report that holds full keys is readable by its owner only; others get
// the usual permissions, or those of the file they replace.
func TestReportFilePermissions(t *testing.T) {
	t.Parallel()
	dir, _ := keyTree(t)
	out := t.TempDir()
	kept := filepath.Join(out, "kept.json")
	if err := os.WriteFile(kept, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(kept, 0o640); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runInProcess(t, "", "dir", dir, "--show-secrets",
		"--report", "json="+filepath.Join(out, "secrets.json"),
		"--report", "sarif="+filepath.Join(out, "plain.sarif"),
		"--report", "terminal="+filepath.Join(out, "secrets.txt"),
		"--report", "gitlab="+kept)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for name, want := range map[string]os.FileMode{"secrets.json": 0o600, "secrets.txt": 0o600, "plain.sarif": 0o644, "kept.json": 0o640} {
		fi, err := os.Stat(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), want)
		}
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 4 {
		t.Errorf("%d files in the report folder, want the 4 reports and no temporary file", len(entries))
	}
}

// A report's folder that cannot be written fails before the scan, and a
// folder given as the report path is refused.
func TestReportFileUnwritable(t *testing.T) {
	t.Parallel()
	dir, _ := keyTree(t)
	for name, path := range map[string]string{
		"no folder":  filepath.Join(t.TempDir(), "missing", "r.json"),
		"a folder":   t.TempDir(),
		"a file dir": filepath.Join(dir, ".env", "r.json"),
	} {
		code, stdout, stderr := runInProcess(t, "", "dir", dir, "--report", "json="+path, "--report", "terminal")
		if code != 2 || !strings.Contains(stderr, "loftyscan: error: cannot write the report (json)") || !strings.Contains(stderr, "hint:") || stdout != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 2, no report and a message", name, code, stdout, stderr)
		}
	}
}
