//go:build linux

package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/internal/testtoken"
	"github.com/loftyscan/loftyscan/verify"
)

// Real signals to a real loftyscan (child_test.go): whatever phase a run is
// in, the first SIGINT, SIGTERM or SIGHUP ends it with the report of what
// was found, exit 128+N and nothing left in TMPDIR.

// During --verify against a server that never answers: every finding is in
// the report, unknown with the reason "interrupted".
func TestSignalDuringVerification(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sig    syscall.Signal
		format string
		code   int
	}{
		{syscall.SIGINT, "json", 130},
		{syscall.SIGTERM, "sarif", 143},
		{syscall.SIGHUP, "json", 129},
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			t.Parallel()
			url, got := hangingServer(t)
			dir := keyFolder(t, 6)
			out := filepath.Join(t.TempDir(), "report."+tc.format)
			c := startChild(t, dir, nil, nil, []string{"LOFTY_BASE_URL=" + url},
				"dir", ".", "--verify", "--format", tc.format, "--output", out)
			waitRequest(t, got)
			c.signal(tc.sig)
			if code := c.wait(); code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, c.stderr)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("no report: %v; stderr:\n%s", err, c.stderr)
			}
			findings := readJSONReport
			if tc.format == "sarif" {
				findings = readSARIF
			}
			fs := findings(t, data)
			if len(fs) != 6 {
				t.Errorf("%d findings in the report, want 6", len(fs))
			}
			for _, f := range fs {
				if f.Verification != "unknown" || f.VerificationReason != verify.ReasonInterrupted {
					t.Errorf("verification %q reason %q, want unknown, %q", f.Verification, f.VerificationReason, verify.ReasonInterrupted)
				}
			}
			name := map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM", syscall.SIGHUP: "SIGHUP"}[tc.sig]
			if msg := "live verification was interrupted by " + name; !strings.Contains(c.stderr.String(), msg) {
				t.Errorf("stderr does not say %q:\n%s", msg, c.stderr)
			}
			c.noLeftovers()
			onlyFiles(t, filepath.Dir(out), filepath.Base(out))
		})
	}
}

// Standard input from a pipe that is never closed: the key read before the
// signal is reported, though the read that follows never returns.
func TestSignalWhileStdinIsHeldOpen(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			defer w.Close() // held open until the child has ended
			c := startChild(t, t.TempDir(), r, nil, nil, "stdin", "--format", "json")
			if _, err := w.WriteString("LOFTY_API_KEY=" + scriptKeys["KEY"] + "\n"); err != nil {
				t.Fatal(err)
			}
			waitDrained(t, r)
			c.signal(sig)
			if code := c.wait(); code != 128+int(sig) {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, 128+int(sig), c.stderr)
			}
			fs := readJSONReport(t, c.stdout.Bytes())
			if len(fs) != 1 || fs[0].Path != "stdin" {
				t.Errorf("findings %+v, want the key read before the signal", fs)
			}
			if !strings.Contains(c.stderr.String(), "the scan was interrupted by") {
				t.Errorf("stderr does not say the scan was interrupted:\n%s", c.stderr)
			}
		})
	}
}

// A clone in progress (the server never answers) is removed whatever the
// signal: SIGHUP and SIGINT stop the run, SIGQUIT exits at once with the
// goroutines' stacks. Nothing was scanned, so no report is written. The
// clone's git and its helper are gone too: none is left connected to the
// server (after SIGQUIT they were, downloading into the removed folder).
func TestSignalDuringClone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
		says string
	}{
		{syscall.SIGHUP, 129, "the clone was interrupted by SIGHUP"},
		{syscall.SIGINT, 130, "the clone was interrupted by SIGINT"},
		{syscall.SIGQUIT, 131, "goroutine "},
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			t.Parallel()
			url, got, gone := watchedHangingServer(t)
			out := filepath.Join(t.TempDir(), "report.json")
			c := startChild(t, t.TempDir(), nil, nil, nil, "git", url+"/repo.git", "--format", "json", "--output", out)
			waitRequest(t, got)
			clones, _ := filepath.Glob(filepath.Join(c.tmp, "loftyscan-clone-*"))
			if len(clones) != 1 {
				t.Fatalf("no clone folder in TMPDIR while the clone runs: %q", clones)
			}
			c.signal(tc.sig)
			if code := c.wait(); code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, c.stderr)
			}
			if !strings.Contains(c.stderr.String(), tc.says) {
				t.Errorf("stderr does not say %q:\n%s", tc.says, c.stderr)
			}
			c.noLeftovers()
			onlyFiles(t, filepath.Dir(out))
			select {
			case <-gone:
			case <-time.After(childDeadline):
				t.Errorf("the clone's git still holds its request %s after loftyscan exited: it was left running", childDeadline)
			}
		})
	}
}

// bulkKeys are 8 keys for reports of hundreds of findings: a file reports
// at most 100 places of each key.
var bulkKeys = func() []string {
	var out []string
	for i := range 8 {
		out = append(out, testtoken.Key(fmt.Sprintf("bulk-%d", i), time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)))
	}
	return out
}()

// startBlockedReport starts a scan of a folder with 400 findings whose
// JSON report goes to a pipe nobody reads yet, and returns once the pipe
// is full: the run is busy writing its report. r is the pipe's read end,
// closed when the test ends.
func startBlockedReport(t *testing.T) (c *child, r *os.File) {
	t.Helper()
	dir := t.TempDir()
	var sb strings.Builder
	for i := range 400 { // a report far larger than a pipe's 64 KiB
		sb.WriteString("LOFTY_API_KEY=" + bulkKeys[i%len(bulkKeys)] + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "many.env"), []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	c = startChild(t, dir, nil, w, nil, "dir", ".", "--format", "json")
	w.Close()
	waitFilled(t, r) // the report is being written, and the pipe is full
	return c, r
}

// A second Ctrl-C exits at once, even while the report is being written
// to a standard output nobody reads.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	t.Parallel()
	c, _ := startBlockedReport(t)
	c.signal(syscall.SIGINT)
	if !c.stderr.waitFor("SIGINT: stopping") {
		t.Fatalf("the first SIGINT was not acknowledged:\n%s", c.stderr)
	}
	c.signal(syscall.SIGINT)
	if code := c.wait(); code != 130 {
		t.Errorf("exit %d, want 130; stderr:\n%s", code, c.stderr)
	}
	if !strings.Contains(c.stderr.String(), "SIGINT again: exiting now") {
		t.Errorf("stderr does not say it exited on the second SIGINT:\n%s", c.stderr)
	}
}

// The same signal twice in a row is one stop, not "again: exit now":
// coreutils' timeout(1) sends its signal to the program and then to its
// whole process group, so `timeout 10m loftyscan ...` delivers SIGTERM
// twice within microseconds (and Ctrl-C under timeout, SIGINT two or three
// times). The report must still be written. The second signal here comes
// well within a second of the first; the report is being written to a full
// pipe, so the run is still busy when it arrives.
func TestRepeatedSignalFromTimeoutKeepsTheReport(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			c, r := startBlockedReport(t)
			c.signal(sig)
			time.Sleep(50 * time.Millisecond) // the first one is taken in: not coalesced with the next by the kernel
			c.signal(sig)
			report := make(chan []byte, 1)
			go func() {
				var b bytes.Buffer
				b.ReadFrom(r)
				report <- b.Bytes()
			}()
			// The scan had finished: the stop finds only the report to write.
			if code := c.wait(); code != 1 && code != 128+int(sig) {
				t.Errorf("exit %d, want 1 (keys found) or %d; stderr:\n%s", code, 128+int(sig), c.stderr)
			}
			if strings.Contains(c.stderr.String(), "again: exiting now") {
				t.Errorf("the repeated %v was taken as a second stop:\n%s", sig, c.stderr)
			}
			// The pipe already held the report's start before the signals.
			if fs := readJSONReport(t, <-report); len(fs) != 400 {
				t.Errorf("%d findings in the report, want 400", len(fs))
			}
		})
	}
}

// SIGQUIT during verification, with --output: the report is not written,
// and its temporary file is removed.
func TestQuitRemovesTheTemporaryReport(t *testing.T) {
	t.Parallel()
	url, got := hangingServer(t)
	dir := keyFolder(t, 2)
	outDir := t.TempDir()
	out := filepath.Join(outDir, "report.json")
	if err := os.WriteFile(out, []byte("previous report"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := startChild(t, dir, nil, nil, []string{"LOFTY_BASE_URL=" + url}, "dir", ".", "--verify", "--format", "json", "--output", out)
	waitRequest(t, got)
	c.signal(syscall.SIGQUIT)
	if code := c.wait(); code != 131 {
		t.Errorf("exit %d, want 131; stderr:\n%s", code, c.stderr)
	}
	onlyFiles(t, outDir, "report.json")
	if b, _ := os.ReadFile(out); string(b) != "previous report" {
		t.Errorf("the previous report was replaced by %q", b)
	}
	c.noLeftovers()
}

// Once --timeout has stopped a run, a signal exits at once: a CI runner's
// SIGTERM then ends a run whose report cannot be written. Standard input
// is held open, so the report is written only once --timeout has run out;
// standard output is never read, so writing it blocks.
func TestSignalAfterTimeoutExitsAtOnce(t *testing.T) {
	t.Parallel()
	in, inw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	defer inw.Close()
	out, outw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	c := startChild(t, t.TempDir(), in, outw, nil, "stdin", "--timeout", "3s", "--format", "json")
	outw.Close()
	go func() {
		for i := range 400 { // a report far larger than a pipe's 64 KiB
			if _, err := inw.WriteString("LOFTY_API_KEY=" + bulkKeys[i%len(bulkKeys)] + "\n"); err != nil {
				return
			}
		}
	}()
	waitFilled(t, out)
	c.signal(syscall.SIGTERM)
	if code := c.wait(); code != 143 {
		t.Errorf("exit %d, want 143; stderr:\n%s", code, c.stderr)
	}
	if !strings.Contains(c.stderr.String(), "SIGTERM: exiting now") {
		t.Errorf("stderr does not say it exited at once:\n%s", c.stderr)
	}
}

// An in-process run whose context is canceled (as a signal does) reports
// what it found and exits 2 when no signal is known.
func TestCanceledRunReports(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	w.WriteString("LOFTY_API_KEY=" + scriptKeys["KEY"] + "\n")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		waitDrained(t, r)
		cancel()
	}()
	var out, errb bytes.Buffer
	code := runEnv(ctx, []string{"stdin", "--format", "json"}, env{stdin: r, stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
	if code != 2 || !strings.Contains(errb.String(), "the scan was interrupted: the report lists only what was found before") {
		t.Errorf("exit %d, stderr:\n%s", code, errb.String())
	}
	if fs := readJSONReport(t, out.Bytes()); len(fs) != 1 {
		t.Errorf("findings %+v, want the key", fs)
	}
}

// A standard output closed before the report is written (a pipe to a
// reader that has gone) does not kill loftyscan with SIGPIPE: the write
// fails, the run says so, and the temporary clone is removed.
func TestClosedStdoutRemovesClone(t *testing.T) {
	t.Parallel()
	repo := testgit.New(t, "")
	repo.Write("app.env", "LOFTY_API_KEY="+gitKey("closed-stdout")+"\n")
	repo.Commit("add a key")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	c := startChild(t, t.TempDir(), nil, w, nil, "git", "file://"+repo.Dir, "--format", "json")
	w.Close()
	if code := c.wait(); code != 2 {
		t.Errorf("exit %d, want 2; stderr:\n%s", code, c.stderr)
	}
	if !strings.Contains(c.stderr.String(), "cannot write the report") || !strings.Contains(c.stderr.String(), "broken pipe") {
		t.Errorf("stderr does not say the report could not be written:\n%s", c.stderr)
	}
	c.noLeftovers()
}

// Every report a run asks for is written when it is stopped, by a signal or
// by --timeout, during verification: the files named with --report (the
// job summary appended to, not truncated), and the one on standard output.
func TestStoppedRunWritesEveryReport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		sig    syscall.Signal // 0: --timeout stops the run
		code   int
		reason []string
	}{
		{"SIGINT", syscall.SIGINT, 130, []string{verify.ReasonInterrupted}},
		{"timeout", 0, 2, []string{verify.ReasonTimeoutDuring, verify.ReasonTimeoutBefore}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url, got := hangingServer(t)
			dir := keyFolder(t, 3)
			outDir := t.TempDir()
			summary := filepath.Join(outDir, "summary.md")
			if err := os.WriteFile(summary, []byte("earlier step\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"dir", ".", "--verify",
				"--report", "json=" + filepath.Join(outDir, "r.json"),
				"--report", "sarif=" + filepath.Join(outDir, "r.sarif"),
				"--report", "markdown=" + summary,
				"--report", "counts"}
			if tc.sig == 0 {
				args = append(args, "--timeout", "5s")
			}
			c := startChild(t, dir, nil, nil, []string{"LOFTY_BASE_URL=" + url, "GITHUB_STEP_SUMMARY=" + summary}, args...)
			waitRequest(t, got)
			if tc.sig != 0 {
				c.signal(tc.sig)
			}
			if code := c.wait(); code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, c.stderr)
			}
			for name, read := range map[string]func(*testing.T, []byte) []reportFinding{"r.json": readJSONReport, "r.sarif": readSARIF} {
				data, err := os.ReadFile(filepath.Join(outDir, name))
				if err != nil {
					t.Fatalf("no %s: %v; stderr:\n%s", name, err, c.stderr)
				}
				fs := read(t, data)
				if len(fs) != 3 {
					t.Errorf("%s: %d findings, want 3", name, len(fs))
				}
				for _, f := range fs {
					if f.Verification != "unknown" || !slices.Contains(tc.reason, f.VerificationReason) {
						t.Errorf("%s: verification %q reason %q, want unknown, one of %q", name, f.Verification, f.VerificationReason, tc.reason)
					}
				}
			}
			md, _ := os.ReadFile(summary)
			if !strings.HasPrefix(string(md), "earlier step\n") || !strings.Contains(string(md), "### loftyscan: 3 findings") {
				t.Errorf("the job summary is not the earlier step's text followed by the report:\n%s", md)
			}
			if !strings.Contains(c.stdout.String(), "findings=3\n") {
				t.Errorf("the counts on standard output are missing:\n%s", c.stdout.String())
			}
			onlyFiles(t, outDir, "r.json", "r.sarif", "summary.md")
			c.noLeftovers()
		})
	}
}

// A pre-receive hook stopped by a signal (a server's timeout, an
// administrator) while it scans rejects the push with 128+N, as every run a
// signal stops exits, even with --pre-receive-fail-open: that flag accepts
// what the budget or an unreadable object kept from being scanned, and
// the hook exited 0 ("push accepted without a scan ...: context
// canceled"), letting through a push it had not scanned and any key it had
// already found.
func TestSignalDuringPreReceive(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			srv := testgit.New(t, "")
			srv.Write("a.txt", "a\n")
			parent := srv.Commit("first")
			// 256 MiB of tokens to decode, from a pack of a few KiB: its
			// scan lasts far longer than the test.
			line := "lofty_token=" + testtoken.Generic("candidate") + "\n"
			base := []byte(strings.Repeat(line, 0x10000/len(line)))
			bomb := srv.DeltaBomb(base, 256<<20)
			pushed := srv.CommitFiles("a big file", map[string]plumbing.Hash{"big.txt": bomb})
			srv.Git("update-ref", "HEAD", parent) // the push's commit is new to the server
			stdin := filepath.Join(t.TempDir(), "stdin")
			if err := os.WriteFile(stdin, []byte(parent+" "+pushed+" refs/heads/main\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			in, err := os.Open(stdin)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			c := startChild(t, srv.Dir, in, nil, []string{"GIT_DIR=" + filepath.Join(srv.Dir, ".git")},
				"git", "--pre-receive", "--pre-receive-fail-open", "--pre-receive-budget", "0")
			waitBusy(t, c)
			c.signal(sig)
			if code := c.wait(); code != 128+int(sig) {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, 128+int(sig), c.stderr)
			}
			if s := c.stderr.String(); strings.Contains(s, "push accepted") || !strings.Contains(s, "push rejected") {
				t.Errorf("stderr does not say the push is rejected:\n%s", s)
			}
		})
	}
}

// waitBusy waits until the child has used a second of CPU, so that it is
// past its start (its signal handlers installed) and at work: a binary
// built with -race spends 0.1 s of CPU on `loftyscan version` alone, and
// at 100 ms this test once signalled a child still starting, under load.
func waitBusy(t *testing.T, c *child) {
	t.Helper()
	stat := fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid)
	for deadline := time.Now().Add(childDeadline); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		data, err := os.ReadFile(stat)
		if err != nil {
			t.Fatalf("the child ended early: %v; stderr:\n%s", err, c.stderr)
		}
		// Fields after the command's name, in parentheses: utime and
		// stime are the 12th and 13th, in clock ticks (100 a second).
		f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
		utime, _ := strconv.Atoi(f[11])
		stime, _ := strconv.Atoi(f[12])
		if utime+stime >= 100 {
			return
		}
	}
	t.Fatalf("the child did not get to work; stderr:\n%s", c.stderr)
}
