//go:build linux

package cli

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal and returns its controlling side and the
// terminal a program reads from.
func openPTY(t *testing.T) (control, term *os.File) {
	t.Helper()
	control, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { control.Close() })
	if err := unix.IoctlSetPointerInt(int(control.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(control.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	term, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { term.Close() })
	return control, term
}

// TestStdinFromTerminalSaysItWaits: 'loftyscan stdin' typed at a prompt
// says that it reads the terminal and how to end the input, instead of
// waiting in silence; what is typed is scanned.
func TestStdinFromTerminalSaysItWaits(t *testing.T) {
	t.Parallel()
	control, term := openPTY(t)
	key := scriptKeys["KEY"]
	// A line, then Ctrl-D at the start of the next: the end of the input.
	if _, err := control.Write([]byte("LOFTY_API_KEY=" + key + "\n\x04")); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	// Only a guard against hanging for go test's whole timeout if the
	// Ctrl-D is missed: the run is then stopped, and fails below.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := runEnv(ctx, []string{"stdin", "--format", "json"}, env{
		stdin: term, stdout: &out, stderr: &errb, getenv: func(string) string { return "" },
	})
	if code != exitFindings || !strings.Contains(out.String(), `"rule_id": "lofty-api-key"`) {
		t.Fatalf("exit %d, want %d and the key; stdout:\n%s\nstderr:\n%s", code, exitFindings, out.String(), errb.String())
	}
	want := "loftyscan: reading standard input from the terminal: paste the text and end it with Ctrl-D"
	if !strings.Contains(errb.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, errb.String())
	}

	// From a pipe, no such note.
	code, _, stderr := runInProcess(t, "nothing here\n", "stdin")
	if code != exitClean || strings.Contains(stderr, "from the terminal") {
		t.Errorf("from a pipe: exit %d, stderr:\n%s", code, stderr)
	}
}
