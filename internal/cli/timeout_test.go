package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/verify"
)

// endless yields a key, then filler forever: a stream no scan can finish.
// The filler is spaces, which hold no candidate: letters would be read as
// base64 and make each chunk slow enough, under -race on a busy machine,
// for the scan watchdog to give up on it (see scanStopGrace).
type endless struct{ head []byte }

func (e *endless) Read(p []byte) (int, error) {
	if len(e.head) > 0 {
		n := copy(p, e.head)
		e.head = e.head[n:]
		return n, nil
	}
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestTimeoutReportsWhatWasFound(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	// The input never ends: without --timeout the scan would run until the
	// test binary's -timeout, so returning at all is the check.
	code := runEnv(context.Background(), []string{"stdin", "--timeout", "2s", "--format", "json"}, env{
		stdin:  &endless{head: []byte("LOFTY_API_KEY=" + scriptKeys["KEY"] + "\n")},
		stdout: &out, stderr: &errb, getenv: func(string) string { return "" },
	})
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(out.String(), `"rule_id": "lofty-api-key"`) {
		t.Errorf("the key found before the timeout is not in the report:\n%s", out.String())
	}
	if !strings.Contains(errb.String(), "stopped by --timeout 2s") {
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

// runWithBase runs the CLI in-process with LOFTY_BASE_URL set to base.
func runWithBase(t *testing.T, base string, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runEnv(context.Background(), args, env{
		stdin: stdin, stdout: &out, stderr: &errb,
		getenv: func(k string) string {
			if k == "LOFTY_BASE_URL" {
				return base
			}
			return ""
		},
	})
	return code, out.String(), errb.String()
}

// --timeout during --verify against a server that never answers: the
// report is written, every key is unknown with a --timeout reason, and the
// message says verification is what timed out.
func TestTimeoutDuringVerification(t *testing.T) {
	t.Parallel()
	url, got := hangingServer(t)
	dir := keyFolder(t, 6)
	out := filepath.Join(t.TempDir(), "report.json")
	code, _, stderr := runWithBase(t, url, strings.NewReader(""), "dir", dir, "--verify", "--timeout", "5s", "--format", "json", "--output", out)
	if code != 2 {
		t.Errorf("exit %d, want 2; stderr:\n%s", code, stderr)
	}
	select {
	case <-got:
	default:
		t.Fatalf("no key reached the server: the timeout did not run out during verification; stderr:\n%s", stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("no report: %v; exit %d, stderr:\n%s", err, code, stderr)
	}
	fs := readJSONReport(t, data)
	if len(fs) != 6 {
		t.Errorf("%d findings, want 6", len(fs))
	}
	for _, f := range fs {
		if f.Verification != "unknown" || (f.VerificationReason != verify.ReasonTimeoutDuring && f.VerificationReason != verify.ReasonTimeoutBefore) {
			t.Errorf("verification %q reason %q, want unknown with a --timeout reason", f.Verification, f.VerificationReason)
		}
	}
	for _, want := range []string{"live verification was stopped by --timeout 5s", "6 of 6 verified findings were not checked", "hint: raise --timeout"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "context deadline exceeded") {
		t.Errorf("stderr has the bare library error:\n%s", stderr)
	}
}

// --timeout stops a read from a pipe that is never closed, and the key read
// before it is reported.
func TestTimeoutStdinHeldOpen(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, err := w.WriteString("LOFTY_API_KEY=" + scriptKeys["KEY"] + "\n"); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runWithBase(t, "", r, "stdin", "--timeout", "3s", "--format", "json")
	if code != 2 || !strings.Contains(stderr, "the scan was stopped by --timeout 3s") {
		t.Errorf("exit %d, stderr:\n%s\nwant 2 and the timeout named", code, stderr)
	}
	if fs := readJSONReport(t, []byte(stdout)); len(fs) != 1 {
		t.Errorf("findings %+v, want the key read before the timeout", fs)
	}
}
