package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// endless yields a key, then filler forever: a stream no scan can finish.
type endless struct{ head []byte }

func (e *endless) Read(p []byte) (int, error) {
	if len(e.head) > 0 {
		n := copy(p, e.head)
		e.head = e.head[n:]
		return n, nil
	}
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

func TestTimeoutReportsWhatWasFound(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	// The input never ends: without --timeout the scan would run until the
	// test binary's -timeout, so returning at all is the check.
	code := runEnv(context.Background(), []string{"stdin", "--timeout", "300ms", "--format", "json"}, env{
		stdin:  &endless{head: []byte("LOFTY_API_KEY=" + scriptKeys["KEY"] + "\n")},
		stdout: &out, stderr: &errb, getenv: func(string) string { return "" },
	})
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(out.String(), `"rule_id": "lofty-api-key"`) {
		t.Errorf("the key found before the timeout is not in the report:\n%s", out.String())
	}
	if !strings.Contains(errb.String(), "stopped by --timeout 300ms") {
		t.Errorf("stderr %q does not name the timeout", errb.String())
	}
}

func TestFailOnError(t *testing.T) {
	t.Parallel()
	dir, _ := keyTree(t)
	if err := os.WriteFile(filepath.Join(dir, "broken.zip"), []byte("PK\x03\x04 not really a zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runInProcess(t, "", "dir", dir)
	if code != 1 || !strings.Contains(stderr, "broken.zip: not a readable zip archive") {
		t.Errorf("without --fail-on-error: exit %d, stderr %q; want 1 (findings decide) and a warning", code, stderr)
	}
	code, stdout, stderr := runInProcess(t, "", "dir", "--fail-on-error", "--format", "json", dir)
	if code != 2 || !strings.Contains(stderr, "could not be read") {
		t.Errorf("with --fail-on-error: exit %d, stderr %q; want 2", code, stderr)
	}
	if !strings.Contains(stdout, `"findings": 1`) {
		t.Errorf("the report was not written before failing:\n%s", stdout)
	}
}
