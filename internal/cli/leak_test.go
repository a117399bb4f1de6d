//go:build unix

// The leak test needs what only unix file systems have: FIFOs, and file
// names with control characters in them.

package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/internal/testleak"
	"github.com/loftyscan/loftyscan/internal/testtoken"
	"github.com/loftyscan/loftyscan/internal/testtool"
	"github.com/loftyscan/loftyscan/reporters"
)

// The leak test plants a key in each place scanned data reaches output
// (names, archive entries, commits, refs, ignore reasons, config values,
// URLs, a remote's error body, special files), runs every scan command in
// every format with and without --show-secrets, and checks stdout, stderr
// and every file written: no planted key in any form but the redacted one,
// the finding's own key only where --show-secrets asks for it, and no
// character from the data that could drive a terminal or a CI log.

// inject is what a hostile name carries besides a key: a terminal title,
// a bell, and a line that GitHub's runner would read as a workflow
// command, then a bidirectional override.
const inject = "\x1b]0;PWNED\x07\n::error title=x::injected\r\u202egpj"

// planted are the keys put in places other than file content, by place.
// None may ever be printed in full.
var planted = func() map[string]string {
	m := map[string]string{}
	for _, place := range []string{
		"folder", "file", "entry", "corrupt-entry", "fifo", "symlink", "ignore-reason",
		"config-value", "ignore-glob", "missing-path", "stdin-path",
		"git-file", "branch", "remote-branch", "reflog-message", "missing-tree", "git-zip-entry", "ref",
		"staged-file", "url-user", "url-path", "url-query", "url-fragment", "remote-body",
		"split-file", "split-author",
	} {
		// A short subject and no expiry: a key of 170 characters, which
		// leaves room in a 255-byte file name for what follows it.
		m[place] = testtoken.Key(fmt.Sprint(len(m)), time.Time{})
	}
	return m
}()

// content keys are the findings' own tokens: printed in full only with
// --show-secrets, in the terminal and JSON reports.
var (
	contentKey    = testtoken.Key("content", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	suppressedKey = testtoken.Key("suppressed content", time.Time{})
)

// messageKeys are keys in a commit's or an annotated tag's own text: a
// commit's subject and body, its author's name and email, a tag's message
// and name. Messages and headers are scanned, so each is a finding of its
// own, whose token --show-secrets prints in full like a content key; but
// each is also a field of the findings of its commit or tag, where it is
// always redacted (checked in the JSON report's message fields; the
// author, email and tag fields by the runs without --show-secrets).
var messageKeys = map[string]string{
	"subject":     testtoken.Key("in a subject", time.Time{}),
	"body":        testtoken.Key("in a body", time.Time{}),
	"tag-message": testtoken.Key("in a tag message", time.Time{}),
	"author":      testtoken.Key("in an author", time.Time{}),
	"email":       testtoken.Key("in an email", time.Time{}),
	"tag":         testtoken.Key("in a tag name", time.Time{}),
}

// placeKey is the key planted in place, or put in a message.
func placeKey(place string) string {
	if k, ok := messageKeys[place]; ok {
		return k
	}
	return planted[place]
}

// leakRun is one command of the leak test.
type leakRun struct {
	name     string
	args     []string
	stdin    string
	wantCode int
	// The places whose key must show, redacted, in the report (checked in
	// the terminal and JSON formats, which show every field) or on stderr:
	// so that a run that no longer reaches a place fails, rather than
	// passing by printing nothing.
	inReport, onStderr []string
	// namesFound are the places whose keys the run finds in names (a
	// scan of folders searches the names of files, folders, links and
	// archive entries): findings, whose token --show-secrets prints.
	namesFound []string
	// keysFound are the places whose keys the run finds elsewhere than in
	// a name (an author's with a zero-width space in it): findings too.
	keysFound []string
	// output, when set, is where the run writes its report (--output, or
	// baseline create's file); otherwise it is stdout.
	output string
	// push runs the command as a pre-push hook through a real git push,
	// instead of in-process.
	push func(t *testing.T, format string, show bool, output string) (code int, stderr []byte)
}

func TestNothingLeaks(t *testing.T) {
	tree := leakTree(t)
	history := leakHistory(t, true)
	staged := leakStaged(t)
	remote := leakRemote(t)
	runs := []leakRun{
		// --skip: the ignore file's key would be a finding of its own,
		// printed with --show-secrets; here it is only in a reason.
		{name: "dir", args: []string{"dir", "--follow-symlinks", "--show-suppressed", "--skip", ".loftyscanignore", tree}, wantCode: 1,
			inReport:   []string{"folder", "file", "entry", "ignore-reason", "split-file", "corrupt-entry", "fifo", "symlink"},
			onStderr:   []string{"corrupt-entry", "fifo", "symlink"},
			namesFound: []string{"folder", "file", "entry", "corrupt-entry", "fifo", "symlink", "split-file"}},
		{name: "dir with a config value", args: []string{"dir", "--config", leakConfig(t), tree}, wantCode: 2,
			onStderr: []string{"config-value"}},
		{name: "dir with an ignore glob", args: []string{"dir", leakIgnoreGlob(t)}, wantCode: 2,
			onStderr: []string{"ignore-glob"}},
		{name: "dir with a missing path", args: []string{"dir", filepath.Join(t.TempDir(), planted["missing-path"]+".a.b"+inject)}, wantCode: 2,
			onStderr: []string{"missing-path"}},
		{name: "stdin", args: []string{"stdin", "--path", planted["stdin-path"] + ".txt" + inject}, stdin: "LOFTY_API_KEY=" + contentKey + "\n", wantCode: 1,
			inReport: []string{"stdin-path"}},
		{name: "git", args: []string{"git", history}, wantCode: 1,
			inReport:   []string{"git-file", "split-author", "subject", "body", "tag-message", "author", "email", "branch", "remote-branch", "tag"},
			onStderr:   []string{"git-zip-entry", "missing-tree"},
			namesFound: []string{"git-file", "missing-tree", "git-zip-entry", "branch", "remote-branch"},
			keysFound:  []string{"split-author"}},
		{name: "git --range", args: []string{"git", "--range", "main.." + planted["branch"], history}, wantCode: 1,
			inReport:   []string{"git-file", "split-author", "subject", "body", "author", "email", "branch"},
			namesFound: []string{"git-file", "missing-tree", "git-zip-entry"},
			keysFound:  []string{"split-author"}},
		{name: "git --ref", args: []string{"git", "--ref", planted["ref"] + ".a.b" + inject, history}, wantCode: 2,
			onStderr: []string{"ref"}},
		{name: "git --staged", args: []string{"git", "--staged", staged}, wantCode: 1,
			inReport:   []string{"staged-file"},
			namesFound: []string{"staged-file"}},
		{name: "git URL", args: []string{"git", remote + "/x.git?a=" + planted["url-query"] + "#" + planted["url-fragment"]}, wantCode: 2,
			onStderr: []string{"url-path"}},
		{name: "git URL, the remote's answer", args: []string{"git", remote + "/x.git"}, wantCode: 2,
			onStderr: []string{"url-path", "remote-body"}},
		{name: "baseline create", args: []string{"baseline", "create", "--skip", ".loftyscanignore", tree}, wantCode: 0, output: "baseline.json",
			inReport:   []string{"folder", "file", "entry"},
			namesFound: []string{"folder", "file", "entry", "corrupt-entry", "fifo", "symlink"},
			onStderr:   []string{"corrupt-entry", "fifo"}},
		{name: "git --pre-push", push: leakPush(t), wantCode: 1, output: "report",
			inReport:   []string{"git-file", "subject", "body", "author", "email"},
			namesFound: []string{"git-file", "missing-tree", "git-zip-entry"},
			keysFound:  []string{"split-author"}},
	}
	for _, run := range runs {
		for _, format := range reporters.Formats() {
			for _, show := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/show=%v", run.name, format, show), func(t *testing.T) {
					t.Parallel()
					checkLeakRun(t, run, format, show)
				})
			}
		}
	}
}

// checkLeakRun runs one command in one format and checks what it wrote.
func checkLeakRun(t *testing.T, run leakRun, format string, show bool) {
	outDir := t.TempDir()
	output := ""
	if run.output != "" {
		output = filepath.Join(outDir, run.output)
	}
	var code int
	var stdout, stderr []byte
	if run.push != nil {
		code, stderr = run.push(t, format, show, output)
	} else {
		args := append([]string{}, run.args...)
		args = append(args, "--format", format)
		if show {
			args = append(args, "--show-secrets")
		}
		if output != "" {
			args = append(args, "--output", output)
		}
		var out, errb bytes.Buffer
		code = runEnv(context.Background(), args, env{
			stdin: strings.NewReader(run.stdin), stdout: &out, stderr: &errb,
			getenv: func(string) string { return "" },
		})
		stdout, stderr = out.Bytes(), errb.Bytes()
	}
	if code != run.wantCode {
		t.Fatalf("exit %d, want %d\nstderr:\n%s\nstdout:\n%s", code, run.wantCode, stderr, stdout)
	}

	// What was written: stdout, stderr and every file in the output folder.
	report := stdout
	streams := map[string][]byte{"stdout": stdout, "stderr": stderr}
	_ = filepath.WalkDir(outDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			streams[p] = b
			if p == output {
				report = b
			}
		}
		return nil
	})
	if run.output != "" && streams[output] == nil {
		t.Fatalf("no report written to %s", output)
	}
	// baseline create writes JSON whatever --format says.
	reportFormat := format
	if run.name == "baseline create" {
		reportFormat = reporters.FormatJSON
	}
	secretsAllowed := show && (reportFormat == reporters.FormatTerminal || reportFormat == reporters.FormatJSON) && run.name != "baseline create"
	for name, b := range streams {
		for place, key := range planted {
			allowed := secretsAllowed && (name == "stdout" && output == "" || name == output) && (slices.Contains(run.namesFound, place) || slices.Contains(run.keysFound, place))
			if l := testleak.Leaked(string(b), key); l != "" && !allowed {
				t.Errorf("%s holds %s planted in the %s:\n%s", name, l, place, b)
			}
		}
		for _, key := range append([]string{contentKey, suppressedKey}, slices.Collect(maps.Values(messageKeys))...) {
			allowed := secretsAllowed && (name == "stdout" && output == "" || name == output)
			if l := testleak.Leaked(string(b), key); l != "" && !allowed {
				t.Errorf("%s holds %s of a finding without --show-secrets in a format that shows it:\n%s", name, l, b)
			}
		}
	}
	if reportFormat == reporters.FormatJSON && run.name != "baseline create" && run.wantCode == 1 {
		checkJSONMessages(t, report)
	}
	if reportFormat == reporters.FormatJSON && run.name != "baseline create" && len(run.namesFound) > 0 {
		checkNamesFound(t, report, run.namesFound)
	}

	testleak.CheckDisplaySafe(t, "stderr", string(stderr))
	texts := testleak.Texts(t, report)
	for _, s := range texts {
		testleak.CheckDisplaySafe(t, "the "+reportFormat+" report", s)
	}
	if reportFormat == reporters.FormatTerminal || reportFormat == reporters.FormatJSON {
		for _, place := range run.inReport {
			_, isMessage := messageKeys[place]
			whole := secretsAllowed && isMessage && testleak.Shows(texts, placeKey(place)) // its own finding's token, asked for
			if !testleak.Shows(texts, finding.Redact(placeKey(place))) && !whole {
				t.Errorf("the report does not show the %s's key in its redacted form %s: the test no longer reaches it\n%s", place, finding.Redact(placeKey(place)), report)
			}
		}
	}
	for _, place := range run.onStderr {
		if !strings.Contains(string(stderr), finding.Redact(planted[place])) {
			t.Errorf("stderr does not show the %s's key in its redacted form %s: the test no longer reaches it\n%s", place, finding.Redact(planted[place]), stderr)
		}
	}
}

// checkJSONMessages checks that the message field of every finding of a
// JSON report holds no message key in full, even with --show-secrets:
// only a finding's own secret field may.
func checkJSONMessages(t *testing.T, report []byte) {
	t.Helper()
	var doc struct {
		Findings []struct {
			Message string `json:"message"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(report, &doc); err != nil {
		t.Fatalf("the JSON report: %v\n%s", err, report)
	}
	for _, f := range doc.Findings {
		for place, key := range messageKeys {
			if l := testleak.Leaked(f.Message, key); l != "" {
				t.Errorf("a message field holds %s planted in the %s: %q", l, place, f.Message)
			}
		}
	}
}

// leakTree is a folder with a key in the names of a folder, a file, an
// archive entry, a corrupt archive entry, a FIFO and a broken symbolic
// link, each with control characters too, and a suppressed finding whose
// .loftyscanignore reason holds a key.
func leakTree(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "tree")
	dir := filepath.Join(root, planted["folder"]+".d"+inject)
	must(t, os.MkdirAll(dir, 0o755))
	content := []byte("LOFTY_API_KEY=" + contentKey + "\n")
	must(t, os.WriteFile(filepath.Join(dir, planted["file"]+".env"+inject), content, 0o644))
	must(t, os.WriteFile(filepath.Join(root, splitKey(planted["split-file"], "\x1b[1m")+".env"), content, 0o644))
	must(t, os.WriteFile(filepath.Join(root, "archive.zip"), leakZip(t, planted["entry"]+".a.b"+inject+".env", planted["corrupt-entry"]), 0o644))
	must(t, syscall.Mkfifo(filepath.Join(root, planted["fifo"]+".tar.gz"+inject), 0o644))
	must(t, os.Symlink("no such target", filepath.Join(root, planted["symlink"]+".lnk"+inject)))
	must(t, os.WriteFile(filepath.Join(root, "ignored.env"), []byte("LOFTY_API_KEY="+suppressedKey+"\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, ".loftyscanignore"),
		[]byte(fingerprint(suppressedKey)+" # revoked "+planted["ignore-reason"]+"\x1b]0;PWNED\x07\u202egpj\n"), 0o644))
	return root
}

// splitKey is key with hide inserted in its payload: text that shows the
// key to whoever drops what hides it from the output (the "\x1B" the
// escaping writes for an ESC). The scan joins a key across a zero-width
// space or an ANSI escape, so it is found, and printed whole only with
// --show-secrets.
func splitKey(key, hide string) string {
	cut := strings.Index(key, ".") + 20
	return key[:cut] + hide + key[cut:]
}

// leakZip is a zip archive with a key in an entry named name, and an
// entry named "evil\x1b]0;PWNED\x07\n::error title=x::injected<key>" whose
// checksum is wrong, which the scanner warns about by name.
func leakZip(t *testing.T, name, corruptKey string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.Create(name)
	must(t, err)
	_, err = io.WriteString(w, "LOFTY_API_KEY="+contentKey+"\n")
	must(t, err)
	data := []byte("some text\n")
	h := &zip.FileHeader{
		Name:               "evil\x1b]0;PWNED\x07\n::error title=x::injected" + corruptKey,
		Method:             zip.Store,
		CRC32:              crc32.ChecksumIEEE(data) ^ 1, // wrong
		CompressedSize64:   uint64(len(data)),
		UncompressedSize64: uint64(len(data)),
	}
	rw, err := zw.CreateRaw(h)
	must(t, err)
	_, err = rw.Write(data)
	must(t, err)
	must(t, zw.Close())
	return b.Bytes()
}

// leakConfig is a --config file whose archive cap holds a key followed by
// more dot-separated segments and control characters.
func leakConfig(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "loftyscan.toml")
	must(t, os.WriteFile(p, []byte("[archives]\nentry_bytes = \""+planted["config-value"]+".a.b\\u001b]0;x\\u0007\"\n"), 0o644))
	return p
}

// leakIgnoreGlob is a folder whose .loftyscanignore has a glob that does
// not parse, holding a key.
func leakIgnoreGlob(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	must(t, os.WriteFile(filepath.Join(root, "a.env"), []byte("LOFTY_API_KEY="+contentKey+"\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(root, ".loftyscanignore"),
		[]byte(fingerprint(contentKey)+" "+planted["ignore-glob"]+".a.b[\n"), 0o644))
	return root
}

// leakHistory is a repository whose branch (named by a key) adds a key in
// a file named by a key, in a commit whose subject, body, author and email
// hold keys and control characters, a corrupt zip whose entry name is the
// CI-log injection of issue 10, and a tag named by a key with a key in its
// message. With missingTree, the tree of a folder named by a key is then
// deleted from the object store.
func leakHistory(t *testing.T, missingTree bool) string {
	t.Helper()
	r := testgit.New(t, "")
	r.Write("README", "hello\n")
	r.Commit("init")
	r.Git("checkout", "-q", "-b", planted["branch"])
	r.Write(planted["git-file"]+".env"+inject, "LOFTY_API_KEY="+contentKey+"\n")
	r.Write("evil.zip", string(leakZip(t, "fine.txt", planted["git-zip-entry"])))
	r.Write(planted["missing-tree"]+".d/x.txt", "x\n")
	r.Git("add", "-A")
	r.GitEnv([]string{
		"GIT_AUTHOR_NAME=Eve " + messageKeys["author"] + "\x1b]0;PWNED\x07\u202e " + splitKey(planted["split-author"], "\u200b"),
		"GIT_AUTHOR_EMAIL=" + messageKeys["email"] + "@example.com",
	}, "commit", "-q", "--no-verify", "-m",
		"add LOFTY_API_KEY="+messageKeys["subject"]+" \x1b]0;PWNED\x07\u202egpj\n\nbody "+messageKeys["body"]+"\n::error title=x::injected")
	r.Tick()
	r.Git("tag", "-a", messageKeys["tag"], "-m", "release "+messageKeys["tag-message"]+"\n::error::x")
	// A remote-tracking branch named by a key (what exposure lists as
	// "pushed to"), and a reflog entry whose message holds one.
	r.Git("update-ref", "refs/remotes/"+planted["remote-branch"]+"/main", "HEAD")
	r.Git("update-ref", "-m", "moved "+planted["reflog-message"]+" \x1b]0;PWNED\x07", "HEAD", "HEAD")
	if missingTree {
		h := r.Git("rev-parse", "HEAD:"+planted["missing-tree"]+".d")
		must(t, os.Remove(filepath.Join(r.Dir, ".git", "objects", h[:2], h[2:])))
	}
	return r.Dir
}

// leakStaged is a repository with a key staged in a file named by a key.
func leakStaged(t *testing.T) string {
	t.Helper()
	r := testgit.New(t, "")
	r.Write("README", "hello\n")
	r.Commit("init")
	r.Write(planted["staged-file"]+".env"+inject, "LOFTY_API_KEY="+contentKey+"\n")
	r.Git("add", "-A")
	return r.Dir
}

// leakRemote is the URL of a loopback HTTP server that answers every
// request with a message that holds a key and control characters, with
// keys in the URL's user and path; the runs add a query and a fragment.
// The message is an "ERR" line of git's smart HTTP protocol, which git
// prints ("remote error: ..."), and go-git reports too.
func leakRemote(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		msg := "ERR no repository " + planted["remote-body"] + ".a.b here" + inject + "\n"
		w.Header().Set("Content-Type", "application/x-git-upload-pack-advertisement")
		fmt.Fprintf(w, "%04x%s", len(msg)+4, msg)
	}))
	t.Cleanup(srv.Close)
	return strings.Replace(srv.URL, "://", "://user:"+planted["url-user"]+"@", 1) + "/" + planted["url-path"]
}

// leakPush returns the pre-push run: a real git push of the key-named
// branch of a history like leakHistory's, with loftyscan installed as the
// pre-push hook, writing its report to the output file. What the hook
// prints reaches the push's output, along with git's own lines (which
// quote the branch name: git's, not loftyscan's), so only loftyscan's
// lines are returned as its stderr.
func leakPush(t *testing.T) func(*testing.T, string, bool, string) (int, []byte) {
	exe, err := exec.LookPath("loftyscan")
	if err != nil {
		t.Fatal("no loftyscan on PATH (testscript.Main puts this test binary there)")
	}
	return func(t *testing.T, format string, show bool, output string) (int, []byte) {
		dir := leakHistory(t, false)
		r := testgit.Open(t, dir)
		// A remote-tracking ref holding the commits would tell the hook
		// they were pushed already.
		r.Git("update-ref", "-d", "refs/remotes/"+planted["remote-branch"]+"/main")
		bare := testgit.New(t, "", "--bare")
		r.Git("remote", "add", "origin", bare.Dir)
		flags := "--format " + format
		if show {
			flags += " --show-secrets"
		}
		hook := "#!/bin/sh\nexec " + shellQuote(exe) + " git --pre-push " + flags + " --output " + shellQuote(output) + "\n"
		must(t, testtool.WriteExecutable(filepath.Join(dir, ".git", "hooks", "pre-push"), []byte(hook), 0o755))
		out, err := r.Cmd("", nil, "push", "-q", "origin", planted["branch"]).CombinedOutput()
		code := 0
		if err != nil {
			code = 1 // the hook refused the push; loftyscan's own code is in its output
		}
		var ours []string
		for line := range strings.SplitSeq(string(out), "\n") {
			if strings.HasPrefix(line, "loftyscan") {
				ours = append(ours, line)
			}
		}
		if code == 0 || len(ours) == 0 {
			t.Fatalf("the push was not refused by loftyscan:\n%s", out)
		}
		return code, []byte(strings.Join(ours, "\n") + "\n")
	}
}

func fingerprint(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// checkNamesFound checks that the JSON report lists the key of each place
// in places as a finding at location "path".
func checkNamesFound(t *testing.T, report []byte, places []string) {
	t.Helper()
	var r struct {
		Findings []struct {
			Fingerprint string `json:"fingerprint"`
			Location    string `json:"location"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(report, &r); err != nil {
		t.Fatalf("JSON report: %v", err)
	}
	for _, place := range places {
		want := "path"
		if strings.HasSuffix(place, "branch") {
			want = "ref" // a ref's name
		}
		found := false
		for _, f := range r.Findings {
			found = found || f.Fingerprint == fingerprint(planted[place]) && f.Location == want
		}
		if !found {
			t.Errorf("the key in the %s's name is no finding at location %s", place, want)
		}
	}
}
