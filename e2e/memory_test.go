//go:build linux

package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/internal/testtool"
)

// The memory promise, kept by the binary a user runs: on each hostile
// repository of issue 10, full size, loftyscan's peak resident memory (as
// GNU time reports it) stays under 512 MiB, it ends long
// before a generous deadline, it reports the ordinary key of the same
// repository, and it names the crafted object in a warning where it could
// not read it whole. Building the fixtures pushes gigabytes through zlib
// and SHA-1, so the test runs without -race (.ci/run runs it in a step of
// its own) and not with -short.

// maxPeakRSS is the promise: what a CI runner can spare.
const maxPeakRSS = 512 << 20

// killAt stops a child whose memory runs away, so that a regression fails
// the test instead of the machine.
const killAt = 2 << 30

// measured is the outcome of one run of the binary.
type measured struct {
	code           int
	stdout, stderr string
	stderrBytes    int64  // all it wrote, of which stderr holds the first 64 KiB
	peak           int64  // bytes
	cpu            string // user+system seconds, for the log
	killed         string
}

// runMeasured runs loftyscan with args in dir under GNU time, which
// reports the child's peak resident memory (a process that forks it from
// a big test process would count the test's too), watching that peak
// (VmHWM) to kill it past killAt, and after five minutes.
func runMeasured(t *testing.T, dir string, args ...string) measured {
	t.Helper()
	gnuTime := testtool.Need(t, "time")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rss := filepath.Join(t.TempDir(), "rss")
	cmd := exec.CommandContext(ctx, gnuTime, append([]string{"-f", "%U %S %M", "-o", rss, loftyscan}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var stdout bytes.Buffer
	stderr := &headWriter{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var m measured
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
			for _, pid := range childrenOf(cmd.Process.Pid) {
				if hwm := vmHWM(pid); hwm > killAt {
					m.killed = fmt.Sprintf("killed at a peak of %d MiB", hwm>>20)
					syscall.Kill(pid, syscall.SIGKILL)
					return
				}
			}
		}
	}()
	err := cmd.Wait()
	cancel()
	<-done
	if ctx.Err() == context.DeadlineExceeded && m.killed == "" {
		m.killed = "killed after 5 minutes"
	}
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	m.code = cmd.ProcessState.ExitCode()
	out, _ := os.ReadFile(rss)
	f := strings.Fields(string(out)) // "Command exited with non-zero status 1", then user and system seconds, the peak in KiB
	if len(f) >= 3 {
		kb, _ := strconv.ParseInt(f[len(f)-1], 10, 64)
		m.peak, m.cpu = kb<<10, f[len(f)-3]+"+"+f[len(f)-2]+" s"
	}
	m.stdout, m.stderr, m.stderrBytes = stdout.String(), stderr.buf.String(), stderr.n
	return m
}

// childrenOf lists the children of process pid.
func childrenOf(pid int) []int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// vmHWM reads a process's peak resident memory from /proc, in bytes.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// headWriter keeps the first max bytes written to it and counts them all.
type headWriter struct {
	buf bytes.Buffer
	max int
	n   int64
}

func (h *headWriter) Write(p []byte) (int, error) {
	h.n += int64(len(p))
	if room := h.max - h.buf.Len(); room > 0 {
		h.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// ordinaryRepo is a repository whose first commit holds a key in
// kept.env, and the key.
func ordinaryRepo(t *testing.T) (*testgit.Repo, string, string) {
	r := testgit.New(t, "")
	key := gitKey("kept")
	r.Write("kept.env", "LOFTY_API_KEY="+key+"\n")
	return r, key, r.Commit("an ordinary key")
}

// keyBase is 64 KiB of text, with a key on its first line when key is
// not empty: the base a delta bomb repeats.
func keyBase(key string) []byte {
	b := []byte("just text\n")
	if key != "" {
		b = []byte("LOFTY_API_KEY=" + key + "\n")
	}
	return append(b, strings.Repeat("x", 64<<10-len(b)-1)+"\n"...)
}

// looseBlob writes a small blob of text as a loose object.
func looseBlob(t *testing.T, r *testgit.Repo, text string) plumbing.Hash {
	return testgit.WriteLoose(t, r.ObjectsDir(), fmt.Sprintf("blob %d", len(text)), strings.NewReader(text))
}

func TestHostileMemory(t *testing.T) {
	if testing.Short() || raceBuild {
		t.Skip("builds gigabytes of fixtures: runs without -race and -short (.ci/run's step for big tests)")
	}
	type want struct {
		code       int
		stdout     []string // each in the report
		notStdout  []string // none in the report
		stderr     []string // each in the warnings or errors
		maxStderr  int64    // bytes of stderr at most; 0: 64 KiB
		maxStdout  int64    // bytes of the report at most; 0: any
		noWarnings bool
	}
	cases := []struct {
		name  string
		setup func(t *testing.T) ([]string, want)
	}{
		{"a 600-byte pack whose delta makes 1 GiB", func(t *testing.T) ([]string, want) {
			r, key, _ := ordinaryRepo(t)
			bomb := r.DeltaBomb(keyBase(""), 1<<30)
			r.CommitFiles("a crafted blob", map[string]plumbing.Hash{"bomb.bin": bomb})
			return []string{"git", "--format", "json", r.Dir}, want{code: 1, stdout: []string{key[len(key)-4:], "kept.env"}, noWarnings: true}
		}},
		{"a delta that makes 2 GiB of a base with a key", func(t *testing.T) ([]string, want) {
			r, key, _ := ordinaryRepo(t)
			bombKey := gitKey("bomb")
			bomb := r.DeltaBomb(keyBase(bombKey), 2<<30)
			r.CommitFiles("a crafted blob", map[string]plumbing.Hash{"bomb.bin": bomb})
			return []string{"git", "--format", "json", r.Dir}, want{code: 1,
				stdout: []string{"kept.env", "bomb.bin", key[len(key)-4:], bombKey[len(bombKey)-4:]},
				stderr: []string{bomb.String(), "as only a crafted pack does", "are more places of keys already reported"}}
		}},
		{"a loose blob of 1 GiB of zeros", func(t *testing.T) ([]string, want) {
			r, key, _ := ordinaryRepo(t)
			zeros := testgit.WriteLoose(t, r.ObjectsDir(), fmt.Sprintf("blob %d", 1<<30), testgit.Zeros(1<<30))
			r.CommitFiles("a big loose blob", map[string]plumbing.Hash{"zeros.bin": zeros})
			return []string{"git", "--format", "json", r.Dir}, want{code: 1, stdout: []string{key[len(key)-4:]}, noWarnings: true}
		}},
		{"a loose blob 10 that inflates to 1 GiB", func(t *testing.T) ([]string, want) {
			r, key, _ := ordinaryRepo(t)
			lies := testgit.WriteLoose(t, r.ObjectsDir(), "blob 10", testgit.Zeros(1<<30))
			r.CommitFiles("a lying header", map[string]plumbing.Hash{"lies.bin": lies})
			return []string{"git", "--format", "json", r.Dir}, want{code: 1, stdout: []string{key[len(key)-4:]},
				stderr: []string{"lies.bin", lies.String(), "longer than its header says"}}
		}},
		{"trees nested 30,000 deep, scanned by range", func(t *testing.T) ([]string, want) {
			r, _, first := ordinaryRepo(t)
			deepKey, laterKey := gitKey("deep"), gitKey("later")
			top := r.DeepTree(30_000, looseBlob(t, r, "LOFTY_API_KEY="+deepKey+"\n"))
			msg := filepath.Join(t.TempDir(), "msg")
			os.WriteFile(msg, []byte("deep trees\n"), 0o644)
			r.CommitOnHead(top, msg)
			r.CommitFiles("a key after them", map[string]plumbing.Hash{"later.env": looseBlob(t, r, "LOFTY_API_KEY="+laterKey+"\n")})
			return []string{"git", "--format", "json", "--range", first + "..HEAD", r.Dir}, want{code: 1,
				stdout: []string{"later.env", laterKey[len(laterKey)-4:]}, stderr: []string{"nested more than 4096"}}
		}},
		{"a commit message of 100 MB", func(t *testing.T) ([]string, want) {
			r, key, _ := ordinaryRepo(t)
			msgKey, early, late := gitKey("message"), gitKey("early in the message"), gitKey("late in the message")
			msg := filepath.Join(t.TempDir(), "msg")
			long := strings.Repeat("long ", 300) + "\n\nLOFTY_API_KEY=" + early + "\n" + strings.Repeat("long ", 20<<20) + "\nLOFTY_API_KEY=" + late + "\n"
			if err := os.WriteFile(msg, []byte(long), 0o644); err != nil {
				t.Fatal(err)
			}
			c := r.CommitOnHead(r.MkTree(testgit.TreeEntry{Mode: "100644", Hash: looseBlob(t, r, "LOFTY_API_KEY="+msgKey+"\n"), Name: "k.env"}), msg)
			return []string{"git", "--format", "json", r.Dir}, want{code: 1,
				stdout:    []string{key[len(key)-4:], msgKey[len(msgKey)-4:], early[len(early)-4:], "long long"},
				notStdout: []string{late[len(late)-4:]},
				stderr:    []string{"commit " + c, "only the first 1048576 were scanned"}, maxStdout: 64 << 10}
		}},
		{"a clone whose server answers 404 with 1 GB", func(t *testing.T) ([]string, want) {
			const size = 1 << 30
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				w.Header().Set("Content-Length", strconv.Itoa(size))
				w.WriteHeader(http.StatusNotFound)
				line := []byte(strings.Repeat("not here ", 100) + "\n")
				for n := 0; n < size; n += len(line) {
					if _, err := w.Write(line); err != nil {
						return
					}
				}
			}))
			t.Cleanup(srv.Close)
			return []string{"git", srv.URL + "/x.git"}, want{code: 2, stderr: []string{"not here", "check the URL"}, maxStderr: 8 << 10}
		}},
		{"32 loose blobs of 31 MiB each, read by 32 workers", func(t *testing.T) ([]string, want) {
			r, key, _ := ordinaryRepo(t)
			files := map[string]plumbing.Hash{}
			const size = 31 << 20
			for i := range 32 {
				head := fmt.Sprintf("blob number %d\n", i)
				files[fmt.Sprintf("b%02d.bin", i)] = testgit.WriteLoose(t, r.ObjectsDir(), fmt.Sprintf("blob %d", size),
					io.MultiReader(strings.NewReader(head), testgit.Zeros(size-int64(len(head)))))
			}
			r.CommitFiles("blobs just under the size that is streamed", files)
			return []string{"git", "-j", "32", "--format", "json", r.Dir}, want{code: 1, stdout: []string{key[len(key)-4:]}, noWarnings: true}
		}},
		// Each of these nested files claims 128 MiB; each is read with the
		// dictionary or window its data uses (a few KiB), no longer refused.
		{"8 files of 156 bytes: an xz in an xz in an xz, each claiming a 128 MiB dictionary, read by 8 workers", func(t *testing.T) ([]string, want) {
			xz := testtool.Need(t, "xz")
			dir := t.TempDir()
			for i := range 8 {
				data := []byte(fmt.Sprintf("file %d\n", i))
				for range 3 {
					cmd := exec.Command(xz, "-c", "--lzma2=dict=128MiB")
					cmd.Stdin = bytes.NewReader(data)
					var err error
					if data, err = cmd.Output(); err != nil {
						t.Fatal(err)
					}
				}
				os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.xz", i)), data, 0o644)
			}
			return []string{"dir", "-j", "8", dir}, want{code: 0, noWarnings: true}
		}},
		{"8 files of 46 bytes: zstd in zstd in zstd, each frame claiming a 128 MiB window, read by 8 workers", func(t *testing.T) ([]string, want) {
			zstd := testtool.Need(t, "zstd")
			dir := t.TempDir()
			for i := range 8 {
				data := []byte(fmt.Sprintf("file %d\n", i))
				for range 3 {
					cmd := exec.Command(zstd, "-q", "-c", "--long=27")
					cmd.Stdin = bytes.NewReader(data)
					var err error
					if data, err = cmd.Output(); err != nil {
						t.Fatal(err)
					}
				}
				os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d.zst", i)), data, 0o644)
			}
			return []string{"dir", "-j", "8", dir}, want{code: 0, noWarnings: true}
		}},
		{"-j 100000000", func(t *testing.T) ([]string, want) {
			return []string{"dir", "-j", "100000000", t.TempDir()}, want{code: 2, stderr: []string{"--workers 100000000 is out of range"}}
		}},
		{"archives.entry_bytes = 9223372036854775807", func(t *testing.T) ([]string, want) {
			dir := t.TempDir()
			key := gitKey("nested")
			inner := zipOf(t, "deep.env", []byte("LOFTY_API_KEY="+key+"\n"))
			os.WriteFile(filepath.Join(dir, "outer.zip"), zipOf(t, "inner.zip", inner), 0o644)
			os.WriteFile(filepath.Join(dir, ".loftyscan.toml"), []byte("[archives]\nentry_bytes = 9223372036854775807\n"), 0o644)
			return []string{"dir", "--format", "json", dir}, want{code: 1, stdout: []string{"outer.zip!inner.zip!deep.env"}}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args, w := tc.setup(t)
			m := runMeasured(t, t.TempDir(), args...)
			t.Logf("peak RSS %d MiB, CPU %s, exit %d, %d bytes of stderr", m.peak>>20, m.cpu, m.code, m.stderrBytes)
			if m.killed != "" {
				t.Fatalf("%s; stderr: %.500s", m.killed, m.stderr)
			}
			if m.peak > maxPeakRSS {
				t.Errorf("peak RSS %d MiB, over %d MiB", m.peak>>20, maxPeakRSS>>20)
			}
			if m.code != w.code {
				t.Errorf("exit %d, want %d; stderr: %.1000s", m.code, w.code, m.stderr)
			}
			for _, s := range w.stdout {
				if !strings.Contains(m.stdout, s) {
					t.Errorf("the report lacks %q", s)
				}
			}
			for _, s := range w.notStdout {
				if strings.Contains(m.stdout, s) {
					t.Errorf("the report holds %q", s)
				}
			}
			for _, s := range w.stderr {
				if !strings.Contains(m.stderr, s) {
					t.Errorf("stderr lacks %q: %.1000s", s, m.stderr)
				}
			}
			if w.noWarnings && strings.Contains(m.stderr, "warning") {
				t.Errorf("warnings: %.1000s", m.stderr)
			}
			if max := w.maxStdout; max > 0 && int64(len(m.stdout)) > max {
				t.Errorf("a report of %d bytes, want at most %d", len(m.stdout), max)
			}
			if max := w.maxStderr; max > 0 && m.stderrBytes > max {
				t.Errorf("%d bytes on stderr, want at most %d", m.stderrBytes, max)
			}
		})
	}
}

// zipOf is a zip archive of one file.
func zipOf(t *testing.T, name string, data []byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err == nil {
		_, err = w.Write(data)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A ref file is a hash and a newline, or "ref: " and a name: one of 256
// MiB (a sparse file: it costs the disk nothing) at refs/heads, or as
// HEAD, is a malformed ref, named in a warning and not read, and the
// rest of the repository is scanned. go-git read them whole: a 1 GB
// refs/heads/big took 2.2 GB, a 1 GB HEAD was killed past 23 GB. Refs
// in folders nested past the longest path are left out with a warning.
// The name of a ref reaches stderr escaped, as every scanned string.
func TestHugeRefFiles(t *testing.T) {
	const size = 256 << 20
	const maxPeak = 128 << 20
	sparse := func(t *testing.T, name string) {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(name, size); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name   string
		setup  func(t *testing.T, gitDir string)
		stderr []string
	}{
		{"a loose ref", func(t *testing.T, gitDir string) {
			sparse(t, filepath.Join(gitDir, "refs", "heads", "big\x1b[31m"))
		}, []string{`refs/heads/big\x1B[31m`, "a ref file of more than 8192 bytes"}},
		{"HEAD", func(t *testing.T, gitDir string) {
			sparse(t, filepath.Join(gitDir, "HEAD"))
		}, []string{"HEAD: a ref file of 268435456 bytes", "the other refs were scanned"}},
		{"folders nested past the longest path", func(t *testing.T, gitDir string) {
			// Made a folder at a time, each from the one before (os.Root):
			// the whole path is too long to name.
			tip, err := os.ReadFile(filepath.Join(gitDir, "refs", "heads", "main"))
			if err != nil {
				t.Fatal(err)
			}
			root, err := os.OpenRoot(filepath.Join(gitDir, "refs", "tags"))
			if err != nil {
				t.Fatal(err)
			}
			for range 20 {
				d := strings.Repeat("d", 250)
				if err := root.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
				next, err := root.OpenRoot(d)
				root.Close()
				if err != nil {
					t.Fatal(err)
				}
				root = next
			}
			defer root.Close()
			if err := root.WriteFile("tip", tip, 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{"cannot read every ref", "file name too long"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, key, _ := ordinaryRepo(t)
			tc.setup(t, filepath.Join(r.Dir, ".git"))
			m := runMeasured(t, t.TempDir(), "git", "--format", "json", r.Dir)
			t.Logf("peak RSS %d MiB, CPU %s, exit %d", m.peak>>20, m.cpu, m.code)
			if m.killed != "" {
				t.Fatalf("%s; stderr: %.500s", m.killed, m.stderr)
			}
			if m.peak > maxPeak {
				t.Errorf("peak RSS %d MiB, over %d MiB", m.peak>>20, maxPeak>>20)
			}
			if m.code != 1 || !strings.Contains(m.stdout, key[len(key)-4:]) || !strings.Contains(m.stdout, "kept.env") {
				t.Errorf("exit %d, want 1 and the key of kept.env; stderr: %.1000s", m.code, m.stderr)
			}
			for _, s := range tc.stderr {
				if !strings.Contains(m.stderr, s) {
					t.Errorf("stderr lacks %q: %.1000s", s, m.stderr)
				}
			}
			if strings.Contains(m.stderr, "\x1b") {
				t.Errorf("stderr holds an escape character: %q", m.stderr)
			}
		})
	}
}

// The other files of a git folder a scan reads are small when git writes
// them: a path (commondir, a .git file, the alternates), hashes a line
// (shallow, the commit-graph chain, reflogs), a config of a few KB, an
// index of a hundred bytes a file. Each planted big (256 MiB, a sparse
// file; the files of text a fraction of that) costs the scan a small
// constant: loftyscan read most whole (a 256 MiB commondir took 6 GB, an
// alternates file 1.9 GB and 40 s, a config of one long line 3.2 GB, a
// reflog of 2,000,000 entries naming missing objects 386 MB and 22 s).
// The file is named in a warning and the rest scanned; where the file
// says where the repository is (commondir, .git) or how to read it
// (config, the index of --staged), the scan stops with an error naming
// it, as git does for some of them.
func TestHugeGitFolderFiles(t *testing.T) {
	const size = 256 << 20
	const maxPeak = 128 << 20
	sparse := func(t *testing.T, name, head string) {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(head), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(name, size); err != nil {
			t.Fatal(err)
		}
	}
	// lines writes n bytes of lines made by line(i) to name.
	lines := func(t *testing.T, name string, n int, line func(i int) string) {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i := 0; b.Len() < n; i++ {
			b.WriteString(line(i))
		}
		if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fakeHash := func(i int) string { return fmt.Sprintf("%040x", uint64(i)*0x9e3779b97f4a7c15) }
	textSize := 128 << 20
	if raceBuild {
		textSize = 32 << 20 // the race detector slows the run tenfold; the fix is still checked
	}
	cases := []struct {
		name   string
		args   []string // after "git --format json"
		setup  func(t *testing.T, r *testgit.Repo, gitDir string)
		code   int // 1: the key found; 2: an error naming the file
		stderr []string
	}{
		{"commondir", nil, func(t *testing.T, r *testgit.Repo, gitDir string) {
			sparse(t, filepath.Join(gitDir, "commondir"), "")
		}, 2, []string{"commondir file holds 268435456 bytes"}},
		{"a .git file", nil, func(t *testing.T, r *testgit.Repo, gitDir string) {
			real := filepath.Join(r.Dir, "real\x1b[31m")
			if err := os.Rename(gitDir, real); err != nil {
				t.Fatal(err)
			}
			sparse(t, gitDir, "gitdir: "+real+"\n")
		}, 2, []string{"a .git file of 268435456 bytes"}},
		{"alternates", nil, func(t *testing.T, r *testgit.Repo, gitDir string) {
			sparse(t, filepath.Join(gitDir, "objects", "info", "alternates"), "/nowhere\x1b[31m\n")
		}, 1, []string{`objects/info/alternates: 268435456 bytes`, "line(s) over 4096 bytes"}},
		{"config", nil, func(t *testing.T, r *testgit.Repo, gitDir string) {
			cfg, err := os.ReadFile(filepath.Join(gitDir, "config"))
			if err != nil {
				t.Fatal(err)
			}
			sparse(t, filepath.Join(gitDir, "config"), string(cfg)+"\t#")
		}, 2, []string{"config holds more than 4194304 bytes"}},
		{"commit-graph chain", nil, func(t *testing.T, r *testgit.Repo, gitDir string) {
			sparse(t, filepath.Join(gitDir, "objects", "info", "commit-graphs", "commit-graph-chain"), "")
		}, 1, nil},
		{"index", []string{"--staged"}, func(t *testing.T, r *testgit.Repo, gitDir string) {
			sparse(t, filepath.Join(gitDir, "index"), "DIRC\x00\x00\x00\x02\xff\xff\xff\xff")
		}, 2, []string{"cannot read the index", "it claims 4294967295 entries"}},
		{"index, its checksum wrong", []string{"--staged"}, func(t *testing.T, r *testgit.Repo, gitDir string) {
			sparse(t, filepath.Join(gitDir, "index"), "DIRC\x00\x00\x00\x02\x00\x00\x00\x01")
			f, err := os.OpenFile(filepath.Join(gitDir, "index"), os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt([]byte{1}, size-1); err != nil {
				t.Fatal(err)
			}
		}, 2, []string{"cannot read the index", "checksum does not match"}},
		{"shallow", nil, func(t *testing.T, r *testgit.Repo, gitDir string) {
			lines(t, filepath.Join(gitDir, "shallow"), textSize, func(i int) string { return fakeHash(i) + "\n" })
		}, 1, nil},
		{"reflog naming missing objects", nil, func(t *testing.T, r *testgit.Repo, gitDir string) {
			lines(t, filepath.Join(gitDir, "logs", "refs", "heads", "main"), textSize, func(i int) string {
				return fakeHash(2*i) + " " + fakeHash(2*i+1) + " A U Thor <a@example.com> 1700000000 +0000\tcommit: x\n"
			})
		}, 1, nil},
		{"reflog entry by number", []string{"--ref", "main@{1}"}, func(t *testing.T, r *testgit.Repo, gitDir string) {
			tip := strings.TrimSpace(r.Git("rev-parse", "HEAD"))
			lines(t, filepath.Join(gitDir, "logs", "refs", "heads", "main"), textSize, func(int) string {
				return tip + " " + tip + " A U Thor <a@example.com> 1700000000 +0000\tcommit: x\n"
			})
		}, 1, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, key, _ := ordinaryRepo(t)
			tc.setup(t, r, filepath.Join(r.Dir, ".git"))
			m := runMeasured(t, r.Dir, append([]string{"git", "--format", "json"}, append(tc.args, r.Dir)...)...)
			t.Logf("peak RSS %d MiB, CPU %s, exit %d", m.peak>>20, m.cpu, m.code)
			if m.killed != "" {
				t.Fatalf("%s; stderr: %.500s", m.killed, m.stderr)
			}
			if m.peak > maxPeak {
				t.Errorf("peak RSS %d MiB, over %d MiB", m.peak>>20, maxPeak>>20)
			}
			if m.code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %.1000s", m.code, tc.code, m.stderr)
			}
			if tc.code == 1 && (!strings.Contains(m.stdout, key[len(key)-4:]) || !strings.Contains(m.stdout, "kept.env")) {
				t.Errorf("the key of kept.env is not reported; stderr: %.1000s", m.stderr)
			}
			for _, s := range tc.stderr {
				if !strings.Contains(m.stderr, s) {
					t.Errorf("stderr lacks %q: %.1000s", s, m.stderr)
				}
			}
			if strings.Contains(m.stderr, "\x1b") {
				t.Errorf("stderr holds an escape character: %q", m.stderr)
			}
		})
	}
}
