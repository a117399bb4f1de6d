//go:build linux

package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
)

// Report files appear whole or not at all, and a link planted where the
// report goes is replaced, never written through.

// plantLink puts a link named name in dir to a file outside, and returns
// that file, whose content must survive.
func plantLink(t *testing.T, dir, name string) string {
	t.Helper()
	precious := filepath.Join(t.TempDir(), "bashrc")
	if err := os.WriteFile(precious, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(precious, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
	return precious
}

// replaced fails unless path is now a regular file and precious untouched.
func replaced(t *testing.T, path, precious string) []byte {
	t.Helper()
	if b, _ := os.ReadFile(precious); string(b) != "precious" {
		t.Errorf("the link's target was written: %q", b)
	}
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("%s is %v (%v), want the report in place of the link", path, fi.Mode(), err)
	}
	b, _ := os.ReadFile(path)
	return b
}

func TestReportReplacesPlantedLink(t *testing.T) {
	t.Parallel()
	dir, _ := keyTree(t)
	precious := plantLink(t, dir, "loftyscan.sarif")
	out := filepath.Join(dir, "loftyscan.sarif")
	code, _, stderr := runInProcess(t, "", "dir", dir, "--format", "sarif", "--output", out)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
	}
	if fs := readSARIF(t, replaced(t, out, precious)); len(fs) != 1 {
		t.Errorf("%d results, want 1", len(fs))
	}
	onlyFiles(t, dir, ".env", "loftyscan.sarif")
}

// The GitHub Action's case: the pull request commits loftyscan.sarif as a
// link, and the action writes its report there.
func TestGitReportReplacesCommittedLink(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	r.Write("app.env", "LOFTY_API_KEY="+gitKey("committed-link")+"\n")
	precious := plantLink(t, r.Dir, "loftyscan.sarif")
	r.Commit("add a key and a link where the report goes")
	out := filepath.Join(r.Dir, "loftyscan.sarif")
	code, _, stderr := runGit(t, nil, "", "git", r.Dir, "--format", "sarif", "--output", out)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
	}
	if fs := readSARIF(t, replaced(t, out, precious)); len(fs) != 1 {
		t.Errorf("%d results, want 1", len(fs))
	}
}

func TestBaselineReplacesPlantedLink(t *testing.T) {
	t.Parallel()
	dir, _ := keyTree(t)
	precious := plantLink(t, dir, ".loftyscan-baseline.json")
	code, _, stderr := runInProcess(t, "", "baseline", "create", dir, "--output", filepath.Join(dir, ".loftyscan-baseline.json"))
	if code != 0 {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
	}
	if fs := readJSONReport(t, replaced(t, filepath.Join(dir, ".loftyscan-baseline.json"), precious)); len(fs) != 1 {
		t.Errorf("%d findings in the baseline, want 1", len(fs))
	}
}

// A write that fails half way (the file size limit of the process, which
// the kernel enforces as it would a full disk) leaves the previous report
// in place and no temporary file.
func TestReportWriteFailureKeepsPreviousReport(t *testing.T) {
	t.Parallel()
	exe, err := exec.LookPath("loftyscan")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var sb strings.Builder
	for range 100 { // a report of about 60 KiB
		sb.WriteString("LOFTY_API_KEY=" + scriptKeys["KEY"] + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "many.env"), []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	outDir := t.TempDir()
	out := filepath.Join(outDir, "report.json")
	if err := os.WriteFile(out, []byte("previous report"), 0o644); err != nil {
		t.Fatal(err)
	}
	// sh's ulimit -f counts 512-byte blocks: 16 KiB at most per file.
	cmd := exec.Command("sh", "-c", `ulimit -f 32 && exec "$0" "$@"`, exe, "dir", dir, "--format", "json", "--output", out)
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	stderr, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 2 {
		t.Fatalf("exit %d (%v), want 2; output:\n%s", code, err, stderr)
	}
	if !strings.Contains(string(stderr), "cannot write the report") || !strings.Contains(string(stderr), "file too large") {
		t.Errorf("stderr does not say the report could not be written:\n%s", stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != "previous report" {
		t.Errorf("report %q, want the previous one untouched", b)
	}
	onlyFiles(t, outDir, "report.json")
}

func TestReportErrors(t *testing.T) {
	t.Parallel()
	dir, _ := keyTree(t)
	for _, tc := range []struct {
		output, says string
	}{
		{"/dev/full", "no space left on device"},
		{t.TempDir(), "is a folder"},
		{filepath.Join(dir, "no", "such", "report.json"), "the folder " + filepath.Join(dir, "no", "such") + " does not exist"},
	} {
		code, _, stderr := runInProcess(t, "", "dir", dir, "--output", tc.output)
		if code != 2 || !strings.Contains(stderr, "cannot write the report") || !strings.Contains(stderr, tc.says) {
			t.Errorf("--output %s: exit %d, stderr:\n%s\nwant 2 and %q", tc.output, code, stderr, tc.says)
		}
	}
	onlyFiles(t, dir, ".env")
}
