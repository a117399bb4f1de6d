//go:build unix

package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testgit"
)

// Files that could block a read for good (FIFOs, devices, sockets) are
// never read, wherever they are: in the walk, behind a symbolic link
// followed with --follow-symlinks, named on the command line, or as the
// settings and ignore files of the scanned folder. --timeout is there only
// so that a regression fails (exit 2) instead of hanging.
func TestSpecialFilesNeverBlock(t *testing.T) {
	t.Parallel()
	dir, _ := keyTree(t)
	outside := t.TempDir()
	fifo := filepath.Join(outside, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(outside, "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for name, target := range map[string]string{"to-fifo": fifo, "to-zero": "/dev/zero", "to-socket": sock} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "here.fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".loftyscan.toml", ".loftyscanignore"} {
		if err := syscall.Mkfifo(filepath.Join(dir, name), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	code, stdout, stderr := runInProcess(t, "", "dir", "--follow-symlinks", "--timeout", "1m", "--format", "json", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (the key, nothing blocked); stderr:\n%s", code, stderr)
	}
	if fs := readJSONReport(t, []byte(stdout)); len(fs) != 1 {
		t.Errorf("findings %+v, want the one key", fs)
	}
	for _, want := range []string{
		"to-fifo: symbolic link to a named pipe (FIFO), not read",
		"to-zero: symbolic link to a character device, not read",
		"to-socket: symbolic link to a socket, not read",
		"here.fifo: named pipe (FIFO), not read",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}

	// Named on the command line, itself or through a link.
	for _, arg := range []string{fifo, filepath.Join(dir, "to-fifo"), "/dev/zero"} {
		code, _, stderr := runInProcess(t, "", "dir", "--timeout", "1m", arg)
		if code != 0 || !strings.Contains(stderr, "not read") {
			t.Errorf("dir %s: exit %d, stderr:\n%s\nwant 0 and a warning", arg, code, stderr)
		}
	}
}

// A hook that is a link to a FIFO (core.hooksPath can be a folder of the
// repository) is not read: install refuses without --force, and with it
// keeps the link and writes its own hook beside.
func TestHookInstallOverFIFO(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	hook := filepath.Join(dir, "pre-commit")
	if err := os.Symlink(fifo, hook); err != nil {
		t.Fatal(err)
	}
	if _, _, err := installHook(dir, preCommitHook, "/opt/loftyscan", nil, false); err == nil || !strings.Contains(err.Error(), "loftyscan did not write it") {
		t.Fatalf("install over a link: %v, want a refusal", err)
	}
	path, kept, err := installHook(dir, preCommitHook, "/opt/loftyscan", nil, true)
	if err != nil || !kept {
		t.Fatalf("install --force: kept %v, %v", kept, err)
	}
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o755 {
		t.Errorf("the hook is %v (%v), want a regular 0755 file", fi.Mode(), err)
	}
	if target, err := os.Readlink(path + keptSuffix); err != nil || target != fifo {
		t.Errorf("the kept hook is %q (%v), want the link to the FIFO", target, err)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v %v", fi.Mode(), err)
	}
	onlyFiles(t, dir, "pre-commit", "pre-commit"+keptSuffix)
}

// A run blocked where no context reaches (here: --output names a FIFO no
// one reads, whose open blocks) ends hardStopGrace after it is stopped,
// without a report, and says so. It removes its own temporary files, not
// those of another run in the same process (a report another test was
// writing went missing when the runs shared them).
func TestHardStop(t *testing.T) {
	t.Parallel()
	other := newTempPaths()
	report, err := createReportFile(other, filepath.Join(t.TempDir(), "other.json"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := keyTree(t)
	fifo := filepath.Join(t.TempDir(), "report.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // stopped from the start: the open blocks all the same
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- runEnv(ctx, []string{"dir", dir, "--output", fifo}, env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }})
	}()
	select {
	case code := <-done:
		if code != 2 || !strings.Contains(errb.String(), "did not stop within 5s of being interrupted") || !strings.Contains(errb.String(), "exiting without a report") {
			t.Errorf("exit %d, stderr:\n%s", code, errb.String())
		}
	case <-time.After(childDeadline):
		t.Fatalf("the run did not end within %s", childDeadline)
	}
	// Release the open left behind.
	if f, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
		f.Close()
	}
	if err := report.commit(); err != nil {
		t.Errorf("another run's report, written while this one stopped hard: %v", err)
	}
}

// A loose object that is a named pipe (a copied or unpacked .git folder
// can hold one) does not block the scan: it is opened without blocking,
// refused as not a regular file with a warning naming it, and the key the
// other objects hold is reported at its path. Before, the open never
// returned and the scan hung until a signal or --timeout (a hang fails this
// test by go test's own timeout).
func TestGitScanLooseObjectIsAPipe(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	r.Write("app.env", "LOFTY_API_KEY="+gitKey("blocked-object")+"\n")
	r.Commit("add a key")
	// A second commit adds a blob whose object is the pipe.
	blocked := "ff" + strings.Repeat("e", 38)
	objects := filepath.Join(r.Dir, ".git", "objects", blocked[:2])
	if err := os.MkdirAll(objects, 0o755); err != nil {
		t.Fatal(err)
	}
	entries := r.Git("ls-tree", "HEAD") + "\n100644 blob " + blocked + "\tblocked.bin\n"
	out, err := r.Cmd(entries, nil, "mktree", "--missing").Output()
	if err != nil {
		t.Fatalf("git mktree: %v", err)
	}
	commit := r.Git("commit-tree", "-p", "HEAD", "-m", "a blob that blocks", strings.TrimSpace(string(out)))
	r.Git("update-ref", "HEAD", commit)
	fifo := filepath.Join(objects, blocked[2:]) // made last: git would block on it too
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	defer func() { // release the open left behind
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	}()
	code, stdout, stderr := runGit(t, nil, "", "git", r.Dir, "--format", "json")
	if code != 1 || !strings.Contains(stderr, "not a regular file") || !strings.Contains(stderr, blocked) {
		t.Errorf("exit %d, stderr:\n%s\nwant 1 (a key) and a warning naming the object as not a regular file", code, stderr)
	}
	fs := readJSONReport(t, []byte(stdout))
	if len(fs) != 1 || fs[0].Path != "app.env" {
		t.Errorf("findings %+v, want the key at app.env; stderr:\n%s", fs, stderr)
	}
}

// Named pipes planted elsewhere in .git (a ref, packed-refs, the config,
// the alternates file, the index) never block a scan: each is refused as
// not a regular file, and where the repository can still be read, the key
// its history holds is reported. A hang fails this test by go test's own
// timeout: before, the open of each pipe never returned.
func TestGitScanPipesInGitFolder(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file string // below .git
		args []string
		code int    // 1: the key reported; 2: the repository cannot be read
		say  string // in stderr
	}{
		{"packed-refs", nil, 1, "not a regular file"},
		{"refs/heads/planted", nil, 1, "not a regular file"},
		{"objects/info/alternates", nil, 1, ""},
		{"config", nil, 2, "not a regular file"},
		{"index", []string{"--staged"}, 2, "not a regular file"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			r := testgit.New(t, "")
			r.Write("app.env", "LOFTY_API_KEY="+gitKey("pipes-"+c.file)+"\n")
			r.Commit("add a key")
			name := filepath.Join(r.Dir, ".git", filepath.FromSlash(c.file))
			os.Remove(name)
			if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(name, 0o600); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"git", r.Dir, "--format", "json"}, c.args...)
			code, stdout, stderr := runGit(t, nil, "", args...)
			if code != c.code || !strings.Contains(stderr, c.say) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, c.code, c.say)
			}
			if c.code == 1 {
				if fs := readJSONReport(t, []byte(stdout)); len(fs) != 1 || fs[0].Path != "app.env" {
					t.Errorf("findings %+v, want the key at app.env", fs)
				}
			}
		})
	}
}
