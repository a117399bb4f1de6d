package cli

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/internal/testtoken"
	"github.com/loftyscan/loftyscan/internal/testtool"
)

// The pre-receive tests push for real: git push into a bare repository
// with the hook installed by 'loftyscan hook install --pre-receive', over
// file:// and over HTTP (git http-backend behind net/http/cgi on
// loopback). git runs the hook, which runs loftyscan (the test binary, as
// hook_test.go explains), with the pushed objects in git's quarantine. A
// rejected push must leave every ref where it was and no pushed object in
// the repository.

// server is a bare repository with loftyscan's pre-receive hook.
type server struct {
	*testgit.Repo
	url string
}

// newServer makes the bare repository, sets its git config (key=value),
// and installs the hook with hookArgs after --.
func newServer(t *testing.T, gitConfig []string, hookArgs ...string) *server {
	t.Helper()
	srv := testgit.New(t, filepath.Join(t.TempDir(), "srv.git"), "--bare")
	for _, kv := range gitConfig {
		k, v, _ := strings.Cut(kv, "=")
		srv.Git("config", k, v)
	}
	args := []string{"hook", "install", "--pre-receive", srv.Dir}
	if len(hookArgs) > 0 {
		args = append(append(args, "--"), hookArgs...)
	}
	if code, _, stderr := runGit(t, nil, "", args...); code != 0 {
		t.Fatalf("hook install --pre-receive: exit %d\n%s", code, stderr)
	}
	return &server{Repo: srv, url: "file://" + srv.Dir}
}

// ref is what the server's ref points at, or "" when it has none.
func (s *server) ref(name string) string {
	out, ok := s.Try("", "rev-parse", "--verify", "-q", name)
	if !ok {
		return ""
	}
	return strings.TrimSpace(out)
}

// refs lists every ref of the server.
func (s *server) refs() string { return s.Git("for-each-ref", "--format=%(refname) %(objectname)") }

// has reports whether the server's repository holds object h.
func (s *server) has(h string) bool {
	_, ok := s.Try("", "cat-file", "-e", h)
	return ok
}

// newClient makes a work repository whose origin is url.
func newClient(t *testing.T, url string) *testgit.Repo {
	c := testgit.New(t, "")
	c.Git("remote", "add", "origin", url)
	return c
}

// push runs git push with extra environment variables; it returns git's
// output and whether the push went through.
func push(c *testgit.Repo, env []string, args ...string) (string, bool) {
	c.T.Helper()
	out, err := c.Cmd("", env, append([]string{"push"}, args...)...).CombinedOutput()
	return string(out), err == nil
}

// remoteLines are the lines git shows from the hook.
func remoteLines(out string) []string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if l, ok := strings.CutPrefix(sc.Text(), "remote: "); ok {
			lines = append(lines, strings.TrimRight(l, " "))
		}
	}
	return lines
}

func fingerprintOf(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// mustReject checks a push was rejected by the hook, that git shows the
// hook's message as remote: lines naming each want, and that nothing of it
// reached the server: the refs are as they were, and the commit is not
// in the repository.
func mustReject(t *testing.T, s *server, refsBefore, commit, out string, ok bool, wants ...string) {
	t.Helper()
	if ok {
		t.Fatalf("the push went through:\n%s", out)
	}
	if !strings.Contains(out, "pre-receive hook declined") {
		t.Errorf("git does not say the hook declined the push:\n%s", out)
	}
	lines := remoteLines(out)
	msg := strings.Join(lines, "\n")
	for _, l := range lines {
		if l != "loftyscan:" && !strings.HasPrefix(l, "loftyscan: ") {
			t.Errorf("a remote line not from loftyscan: %q", l)
		}
		for _, r := range l {
			if r > 126 || (r < 32 && r != '\t') {
				t.Errorf("a remote line is not plain ASCII: %q", l)
				break
			}
		}
	}
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			t.Errorf("the message does not say %q:\n%s", w, msg)
		}
	}
	if strings.Contains(msg, "eyJhbGciOi") {
		t.Errorf("the message holds a key:\n%s", msg)
	}
	if got := s.refs(); got != refsBefore {
		t.Errorf("the refs moved:\n%s\nwere:\n%s", got, refsBefore)
	}
	if commit != "" && s.has(commit) {
		t.Errorf("commit %s entered the repository", commit)
	}
}

// keyAdvice is what every rejection says to do.
var keyAdvice = []string{"push rejected", "revoke it in Lofty", "Settings > Integrations > API", "git commit --amend", "git rebase -i"}

func mustAccept(t *testing.T, out string, ok bool, wants ...string) {
	t.Helper()
	if !ok {
		t.Fatalf("the push was rejected:\n%s", out)
	}
	msg := strings.Join(remoteLines(out), "\n")
	for _, w := range wants {
		if !strings.Contains(msg, w) {
			t.Errorf("the message does not say %q:\n%s", w, msg)
		}
	}
}

func TestPreReceiveBranches(t *testing.T) {
	hookBinary(t)
	var shown string
	s := newServer(t, nil)
	c := newClient(t, s.url)

	// A clean first push goes through.
	c.Write("README.md", "# app\n")
	c.Write("app.env", "DEBUG=1\n")
	c.Commit("first")
	out, ok := push(c, nil, "origin", "main")
	mustAccept(t, out, ok, "checked 1 new commit: no Lofty API key")
	if testing.Verbose() {
		defer func() { t.Logf("a rejection:\n%s", shown) }()
	}

	// A commit with a key is rejected, with where and what to do.
	key := gitKey("branch")
	c.Write("app.env", "DEBUG=1\nLOFTY_API_KEY="+key+"\n")
	bad := c.Commit("configure the client")
	before := s.refs()
	out, ok = push(c, nil, "origin", "main")
	wants := append([]string{
		"it adds 1 Lofty API key",
		"commit " + bad[:12] + " (refs/heads/main) \"configure the client\"",
		"app.env:2:15",
		"eyJ..." + key[len(key)-4:] + "#" + fingerprintOf(key)[:8],
		"fingerprint " + fingerprintOf(key),
		"expires 2099-01-01",
	}, keyAdvice...)
	mustReject(t, s, before, bad, out, ok, wants...)
	shown = out

	// The same commit as a new branch: rejected too.
	out, ok = push(c, nil, "origin", "main:refs/heads/topic")
	mustReject(t, s, before, bad, out, ok, "(refs/heads/topic)", "app.env:2:15")

	// And on a branch named by a key: the ref is shown redacted, in ASCII
	// like every remote line.
	refKey := gitKey("ref name")
	out, ok = push(c, nil, "origin", "main:refs/heads/x/"+refKey)
	mustReject(t, s, before, bad, out, ok, "(refs/heads/x/eyJ..."+refKey[len(refKey)-4:]+"#"+fingerprintOf(refKey)[:8]+")", "app.env:2:15")

	// Fixed with --amend: goes through.
	c.Write("app.env", "DEBUG=1\nLOFTY_API_KEY=${LOFTY_API_KEY}\n")
	c.Git("commit", "-q", "-a", "--amend", "--no-verify", "-m", "configure the client")
	c.Tick()
	out, ok = push(c, nil, "origin", "main")
	mustAccept(t, out, ok, "checked 1 new commit")

	// A new branch that only points at commits the server has: nothing new.
	out, ok = push(c, nil, "origin", "main:refs/heads/release")
	mustAccept(t, out, ok, "checked 0 new commits")
	// A branch moved back to an older known commit: nothing new either.
	out, ok = push(c, nil, "--force", "origin", "main~1:refs/heads/release")
	mustAccept(t, out, ok, "checked 0 new commits")

	// A force push that puts a key in place of main's history.
	c.Git("checkout", "-q", "-b", "rewrite", "main~1")
	c.Write("other.env", "lofty_token="+gitKey("force")+"\n")
	forced := c.Commit("rewritten")
	before = s.refs()
	out, ok = push(c, nil, "--force", "origin", "rewrite:main")
	mustReject(t, s, before, forced, out, ok, append([]string{"other.env:1:13", "(refs/heads/main)"}, keyAdvice...)...)

	// Deleting a branch scans nothing and goes through.
	out, ok = push(c, nil, "origin", ":refs/heads/release")
	mustAccept(t, out, ok)
	if s.ref("refs/heads/release") != "" {
		t.Error("the branch was not deleted")
	}
}

func TestPreReceiveKeysAlreadyThereAndMessages(t *testing.T) {
	hookBinary(t)
	srv := testgit.New(t, filepath.Join(t.TempDir(), "srv.git"), "--bare")
	c := newClient(t, "file://"+srv.Dir)
	old := gitKey("old")
	c.Write("config/app.env", "LOFTY_API_KEY="+old+"\n")
	c.Commit("before the hook")
	if out, ok := push(c, nil, "origin", "main"); !ok {
		t.Fatal(out)
	}
	// The hook comes after a key was pushed.
	if code, _, stderr := runGit(t, nil, "", "hook", "install", "--pre-receive", srv.Dir); code != 0 {
		t.Fatal(stderr)
	}
	s := &server{Repo: srv, url: "file://" + srv.Dir}

	// Another line of that file: the key is not new, the push goes through.
	c.Write("config/app.env", "DEBUG=1\nLOFTY_API_KEY="+old+"\n")
	c.Commit("debug")
	out, ok := push(c, nil, "origin", "main")
	mustAccept(t, out, ok, "checked 1 new commit: no Lofty API key")

	// An inline allow in a pushed file is the pusher's say, not the
	// server's: still rejected.
	key := gitKey("inline")
	c.Write("src/client.py", "TOKEN = \""+key+"\"  # loftyscan:allow\n")
	bad := c.Commit("inline allow")
	before := s.refs()
	out, ok = push(c, nil, "origin", "main")
	mustReject(t, s, before, bad, out, ok, "src/client.py:1:10")

	// Settings files that come with the push, or lie in the server's
	// repository folder, are not the hook's: still rejected.
	c.Git("reset", "-q", "--hard", "HEAD~1")
	if err := os.WriteFile(filepath.Join(srv.Dir, ".loftyscan.toml"), []byte("skip = [\"**\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(srv.Dir, ".loftyscanignore"), []byte(fingerprintOf(key)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.Write(".loftyscanignore", fingerprintOf(key)+" # accepted by the pusher\n")
	c.Write(".loftyscan.toml", "skip = [\"**\"]\n")
	c.Write("src/client.py", "TOKEN = \""+key+"\"\n")
	bad = c.Commit("bring my own settings")
	out, ok = push(c, nil, "origin", "main")
	mustReject(t, s, before, bad, out, ok, "src/client.py:1:10")

	// A path and a subject that try to drive the terminal, and a key in a
	// file name, reach the pusher escaped and redacted.
	c.Git("reset", "-q", "--hard", "HEAD~1")
	name := "evil\x1b[31m" + gitKey("in-name") + ".env"
	c.Write(name, "lofty_token="+gitKey("named")+"\n")
	c.Git("add", "-A")
	c.Git("commit", "-q", "--no-verify", "-m", "subject \x1b]0;title\x07 ü")
	c.Tick()
	out, ok = push(c, nil, "origin", "main")
	mustReject(t, s, before, "", out, ok, `evil\x1B[31meyJ...`, `\x1B]0;title\x07 \u00FC`)
}

func TestPreReceiveTagsAndManyRefs(t *testing.T) {
	hookBinary(t)
	s := newServer(t, nil)
	c := newClient(t, s.url)
	c.Write("a.txt", "a\n")
	base := c.Commit("first")
	if out, ok := push(c, nil, "origin", "main"); !ok {
		t.Fatal(out)
	}

	// A tag of a commit the server has: nothing new.
	c.Git("tag", "v0", base)
	c.Git("tag", "-a", "-m", "release 0.1", "v0.1", base)
	out, ok := push(c, nil, "origin", "v0", "v0.1")
	mustAccept(t, out, ok, "checked 0 new commits")

	// A lightweight tag of a new commit with a key.
	c.Git("checkout", "-q", "-b", "rel", base)
	c.Write("light.env", "LOFTY_API_KEY="+gitKey("light")+"\n")
	light := c.Commit("light")
	c.Git("tag", "v1", light)
	before := s.refs()
	out, ok = push(c, nil, "origin", "v1")
	mustReject(t, s, before, light, out, ok, "(refs/tags/v1)", "light.env:1:15")

	// An annotated tag of one.
	c.Git("tag", "-a", "-m", "release 2", "v2", light)
	out, ok = push(c, nil, "origin", "v2")
	mustReject(t, s, before, light, out, ok, "(refs/tags/v2)", "light.env:1:15")

	// Many refs in one push, one with a key: the whole push is rejected,
	// and the message names that ref.
	c.Git("checkout", "-q", "-b", "clean-a", base)
	c.Write("b.txt", "b\n")
	cleanA := c.Commit("clean a")
	c.Git("checkout", "-q", "-b", "clean-b", base)
	c.Write("c.txt", "c\n")
	c.Commit("clean b")
	out, ok = push(c, nil, "origin", "clean-a", "clean-b", "rel", "v1")
	mustReject(t, s, before, light, out, ok, "(refs/heads/rel, refs/tags/v1)", "light.env:1:15")
	if s.has(cleanA) {
		t.Error("a clean branch of the rejected push entered the repository")
	}
	for _, l := range remoteLines(out) {
		if strings.Contains(l, "clean-a") || strings.Contains(l, "clean-b") {
			t.Errorf("the message blames a clean branch: %q", l)
		}
	}
	// Without the bad refs, the rest goes through.
	out, ok = push(c, nil, "origin", "clean-a", "clean-b")
	mustAccept(t, out, ok, "checked 2 new commits")
}

// The push option lets a key through only where the server accepts push
// options, names it by its whole fingerprint, and logs it; so does the
// server's ignore file.
func TestPreReceiveBypasses(t *testing.T) {
	hookBinary(t)
	dir := t.TempDir()
	logFile := filepath.Join(dir, "bypass.log")
	ignore := filepath.Join(dir, "ignore")
	accepted := gitKey("accepted")
	if err := os.WriteFile(ignore, []byte("# revoked 2026-01-02, kept for the client tests (SEC-7)\n"+fingerprintOf(accepted)+" testdata/**\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newServer(t, []string{"receive.advertisePushOptions=true"}, "--ignore-file", ignore, "--bypass-log", logFile)
	c := newClient(t, s.url)
	c.Write("a.txt", "a\n")
	c.Commit("first")
	if out, ok := push(c, nil, "origin", "main"); !ok {
		t.Fatal(out)
	}
	who := []string{"GL_USERNAME=mallory-admin"}

	key := gitKey("optioned")
	fp := fingerprintOf(key)
	c.Write("fixtures/key.env", "LOFTY_API_KEY="+key+"\n")
	commit := c.Commit("a fixture")
	before := s.refs()

	// A prefix of the fingerprint is not enough.
	out, ok := push(c, who, "-o", "loftyscan.allow="+fp[:16], "origin", "main")
	mustReject(t, s, before, commit, out, ok, "does not name a key", "git push -o loftyscan.allow=<fingerprint>")
	// Another key's fingerprint lets nothing through.
	out, ok = push(c, who, "-o", "loftyscan.allow="+fingerprintOf(accepted), "origin", "main")
	mustReject(t, s, before, commit, out, ok, "fixtures/key.env:1:15")
	if _, err := os.Stat(logFile); !os.IsNotExist(err) {
		t.Errorf("a rejected push wrote the bypass log: %v", err)
	}

	// The whole fingerprint lets it through, logged.
	out, ok = push(c, who, "-o", "ci.skip", "-o", "loftyscan.allow="+fp, "origin", "main")
	mustAccept(t, out, ok, "let through (push-option): key eyJ..."+key[len(key)-4:]+"#"+fp[:8]+" in commit "+commit[:12]+", fixtures/key.env:1, pushed by mallory-admin")
	if s.ref("refs/heads/main") != commit {
		t.Error("main did not move")
	}
	recs := readBypassLog(t, logFile)
	if len(recs) != 1 {
		t.Fatalf("the log has %d records, want 1", len(recs))
	}
	r := recs[0]
	if r["via"] != "push-option" || r["fingerprint"] != fp || r["commit"] != commit || r["pusher"] != "mallory-admin" ||
		r["pusher_from"] != "GL_USERNAME" || r["path"] != "fixtures/key.env" || r["time"] == "" || !strings.HasSuffix(r["repository"].(string), "srv.git") {
		t.Errorf("log record: %v", r)
	}
	if refs, _ := r["refs"].([]any); len(refs) != 1 || refs[0] != "refs/heads/main" {
		t.Errorf("log record refs: %v", r["refs"])
	}

	// A key in a commit's headers (its author's name) let through is
	// logged with where it is: a line of the headers, not of a file.
	authorKey := gitKey("optioned author")
	c.GitEnv([]string{"GIT_AUTHOR_NAME=Dev " + authorKey}, "commit", "-q", "--allow-empty", "-m", "authored")
	authored := strings.TrimSpace(c.Git("rev-parse", "HEAD"))
	out, ok = push(c, who, "-o", "loftyscan.allow="+fingerprintOf(authorKey), "origin", "main")
	mustAccept(t, out, ok, "let through (push-option): key eyJ..."+authorKey[len(authorKey)-4:]+"#"+fingerprintOf(authorKey)[:8]+" in commit "+authored[:12]+", commit-header, line 3, pushed by")
	if recs = readBypassLog(t, logFile); len(recs) != 2 || recs[1]["commit"] != authored || recs[1]["location"] != "commit-header" ||
		recs[1]["path"] != "" || recs[1]["line"] != 3.0 || recs[0]["location"] != "file" {
		t.Errorf("log after a key in an author's name: %v", recs)
	}

	// The server's ignore file: only at the paths it names.
	c.Write("testdata/old.env", "LOFTY_API_KEY="+accepted+"\n")
	ignored := c.Commit("an accepted key in testdata")
	out, ok = push(c, who, "origin", "main")
	mustAccept(t, out, ok, "let through (ignore-file)", "testdata/old.env:1")
	if recs = readBypassLog(t, logFile); len(recs) != 3 || recs[2]["via"] != "ignore-file" || recs[2]["commit"] != ignored ||
		!strings.Contains(recs[2]["reason"].(string), "SEC-7") {
		t.Errorf("log after the ignore file: %v", recs)
	}
	c.Write("src/leak.env", "lofty_key: "+accepted+"\n")
	leak := c.Commit("the same key elsewhere")
	before = s.refs()
	out, ok = push(c, who, "origin", "main")
	mustReject(t, s, before, leak, out, ok, "src/leak.env:1:12")
	c.Git("reset", "-q", "--hard", "HEAD~1")
	// The same file, byte for byte, copied or moved out of testdata/, or
	// added at two paths at once: the same blob, new where the entry does
	// not reach.
	c.Write("config/old.env", "LOFTY_API_KEY="+accepted+"\n")
	copied := c.Commit("the fixture copied")
	out, ok = push(c, who, "origin", "main")
	mustReject(t, s, s.refs(), copied, out, ok, "config/old.env:1:15")
	c.Git("reset", "-q", "--hard", "HEAD~1")
	c.Git("mv", "testdata/old.env", "moved.env")
	moved := c.Commit("the fixture moved")
	out, ok = push(c, who, "origin", "main")
	mustReject(t, s, s.refs(), moved, out, ok, "moved.env:1:15")
	c.Git("reset", "-q", "--hard", "HEAD~1")
	twin := gitKey("twin")
	if err := os.WriteFile(ignore, []byte(fingerprintOf(accepted)+" testdata/**\n"+fingerprintOf(twin)+" testdata/**\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.Write("testdata/twin.env", "K="+twin+"\n")
	c.Write("zz/twin.env", "K="+twin+"\n")
	both := c.Commit("a fixture and its copy")
	out, ok = push(c, who, "origin", "main")
	mustReject(t, s, s.refs(), both, out, ok, "zz/twin.env:1:3")
	c.Git("reset", "-q", "--hard", "HEAD~1")

	// The hook can refuse push options altogether.
	s2 := newServer(t, []string{"receive.advertisePushOptions=true"}, "--allow-push-option=false")
	c2 := newClient(t, s2.url)
	c2.Write("k.env", "LOFTY_API_KEY="+key+"\n")
	k2 := c2.Commit("key")
	out, ok = push(c2, nil, "-o", "loftyscan.allow="+fp, "origin", "main")
	mustReject(t, s2, s2.refs(), k2, out, ok, "lets no key through by push option", "ask the server's administrator")
	// That hook reads no push option, so many of them (GitLab's
	// ci.variable=..., merge_request.label=...) do not reject a clean push.
	c4 := newClient(t, s2.url)
	c4.Write("clean.txt", "clean\n")
	c4.Commit("clean")
	opts := []string{}
	for i := range 101 {
		opts = append(opts, "-o", "ci.variable=V"+strconv.Itoa(i)+"=x")
	}
	out, ok = push(c4, nil, append(opts, "origin", "main")...)
	mustAccept(t, out, ok, "no Lofty API key")

	// A server that does not accept push options: git refuses the option
	// before the hook runs, and without it the key is rejected.
	s3 := newServer(t, nil)
	c3 := newClient(t, s3.url)
	c3.Write("k.env", "LOFTY_API_KEY="+key+"\n")
	k3 := c3.Commit("key")
	out, ok = push(c3, nil, "-o", "loftyscan.allow="+fp, "origin", "main")
	if ok || !strings.Contains(out, "does not support push options") || s3.has(k3) {
		t.Fatalf("push -o to a server without push options: ok=%v\n%s", ok, out)
	}
	out, ok = push(c3, nil, "origin", "main")
	mustReject(t, s3, s3.refs(), k3, out, ok, "k.env:1:15")
}

func readBypassLog(t *testing.T, name string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(name); fi.Mode().Perm() != 0o600 {
		t.Errorf("the bypass log has mode %v, want 0600", fi.Mode().Perm())
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// A bypass that cannot be logged does not happen.
func TestPreReceiveUnwritableLogRejects(t *testing.T) {
	hookBinary(t)
	dir := t.TempDir()
	logFile := filepath.Join(dir, "no-such-folder", "bypass.log")
	s := newServer(t, []string{"receive.advertisePushOptions=true"}, "--bypass-log", logFile)
	c := newClient(t, s.url)
	key := gitKey("unlogged")
	c.Write("k.env", "LOFTY_API_KEY="+key+"\n")
	k := c.Commit("key")
	out, ok := push(c, nil, "-o", "loftyscan.allow="+fingerprintOf(key), "origin", "main")
	mustReject(t, s, s.refs(), k, out, ok, "cannot be logged")
}

// The budget: a scan that cannot finish in time rejects the push, or
// with --pre-receive-fail-open accepts it with a warning. A budget of 1ns
// has run out before the scan starts, whatever the machine's speed.
func TestPreReceiveBudget(t *testing.T) {
	hookBinary(t)
	closed := newServer(t, nil, "--pre-receive-budget", "1ns")
	c := newClient(t, closed.url)
	c.Write("a.txt", "a\n")
	first := c.Commit("first")
	out, ok := push(c, nil, "origin", "main")
	mustReject(t, closed, closed.refs(), first, out, ok, "ran out of its 1ns budget", "push fewer commits", "--pre-receive-budget")

	open := newServer(t, nil, "--pre-receive-budget", "1ns", "--pre-receive-fail-open")
	c.Git("remote", "add", "open", open.url)
	out, ok = push(c, nil, "open", "main")
	mustAccept(t, out, ok, "push accepted without a whole scan", "ran out of its 1ns budget")
	if open.ref("refs/heads/main") != first {
		t.Error("main did not move")
	}
}

// A pushed object loftyscan cannot read rejects the push (or, failing
// open, lets it through with a warning): what it holds was not scanned.
// The damage is real: a hook that runs before loftyscan's (kept by
// 'hook install --force') overwrites one loose object of git's quarantine.
func TestPreReceiveUnreadableObject(t *testing.T) {
	hookBinary(t)
	for _, failOpen := range []bool{false, true} {
		var flags []string
		if failOpen {
			flags = []string{"--pre-receive-fail-open"}
		}
		srv := testgit.New(t, filepath.Join(t.TempDir(), "srv.git"), "--bare")
		c := newClient(t, "file://"+srv.Dir)
		c.Write("a.txt", "a\n")
		c.Write("b.env", "LOFTY_REGION=eu\n")
		first := c.Commit("first")
		blob := c.Git("rev-parse", "HEAD:b.env")
		damage := "#!/bin/sh\ncat >/dev/null\nf=\"$GIT_QUARANTINE_PATH/" + blob[:2] + "/" + blob[2:] + "\"\nchmod u+w \"$f\" && printf 'not zlib' > \"$f\"\n"
		if err := testtool.WriteExecutable(filepath.Join(srv.Dir, "hooks", "pre-receive"), []byte(damage), 0o755); err != nil {
			t.Fatal(err)
		}
		args := append([]string{"hook", "install", "--force", "--pre-receive", srv.Dir, "--"}, flags...)
		if code, _, stderr := runGit(t, nil, "", args...); code != 0 {
			t.Fatal(stderr)
		}
		s := &server{Repo: srv, url: "file://" + srv.Dir}
		out, ok := push(c, nil, "origin", "main")
		if failOpen {
			mustAccept(t, out, ok, "push accepted without a whole scan", "1 object of the push could not be read", blob)
			continue
		}
		mustReject(t, s, "", first, out, ok, "1 object of the push could not be read", blob, "git fsck", "--pre-receive-fail-open")
	}
}

// A SHA-256 repository is refused with a message that says why.
func TestPreReceiveSHA256(t *testing.T) {
	hookBinary(t)
	srv := testgit.New(t, filepath.Join(t.TempDir(), "srv.git"), "--bare", "--object-format=sha256")
	// Install refuses it, with or without other flags: the hook would
	// reject every push.
	for _, extra := range [][]string{nil, {"--", "--pre-receive-budget", "10s"}} {
		args := append([]string{"hook", "install", "--pre-receive", srv.Dir}, extra...)
		code, _, stderr := runGit(t, nil, "", args...)
		if code != 2 || !strings.Contains(stderr, "SHA-256") || !strings.Contains(stderr, "would reject every push") {
			t.Errorf("%q: exit %d, want 2 naming SHA-256:\n%s", args, code, stderr)
		}
	}
	// A hook installed failing open, then edited to fail closed, rejects
	// the push and says why.
	if code, _, stderr := runGit(t, nil, "", "hook", "install", "--pre-receive", srv.Dir, "--", "--pre-receive-fail-open"); code != 0 {
		t.Fatal(stderr)
	}
	hookFile := filepath.Join(srv.Dir, "hooks", "pre-receive")
	script, err := os.ReadFile(hookFile)
	if err != nil || !strings.Contains(string(script), " '--pre-receive-fail-open'") {
		t.Fatalf("the hook does not pass --pre-receive-fail-open (%v):\n%s", err, script)
	}
	if err := testtool.WriteExecutable(hookFile, []byte(strings.Replace(string(script), " '--pre-receive-fail-open'", "", 1)), 0o755); err != nil {
		t.Fatal(err)
	}
	s := &server{Repo: srv, url: "file://" + srv.Dir}
	c := testgit.New(t, "", "--object-format=sha256")
	c.Git("remote", "add", "origin", s.url)
	c.Write("a.txt", "a\n")
	h := c.Commit("first")
	out, ok := push(c, nil, "origin", "main")
	mustReject(t, s, s.refs(), h, out, ok, "SHA-256", "--pre-receive-fail-open")
}

// Over HTTP: git http-backend behind net/http/cgi on loopback, as a web
// server runs it, with the pusher in REMOTE_USER.
func TestPreReceiveOverHTTP(t *testing.T) {
	hookBinary(t)
	gitPath := testtool.Need(t, "git")
	dir := t.TempDir()
	logFile := filepath.Join(dir, "bypass.log")
	s := newServer(t, []string{"receive.advertisePushOptions=true"}, "--bypass-log", logFile)
	env := []string{"GIT_PROJECT_ROOT=" + filepath.Dir(s.Dir), "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=alice", "HOME=" + s.Home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull}
	if p := os.Getenv("PATH"); p != "" {
		env = append(env, "PATH="+p)
	}
	h := &cgi.Handler{Path: gitPath, Args: []string{"http-backend"}, Env: env}
	ts := httptest.NewServer(http.StripPrefix("/git", h))
	defer ts.Close()
	c := newClient(t, ts.URL+"/git/srv.git")
	c.Write("a.txt", "a\n")
	c.Commit("first")
	out, ok := push(c, nil, "origin", "main")
	mustAccept(t, out, ok, "checked 1 new commit")

	key := gitKey("http")
	c.Write("deploy/.env", "LOFTY_CUSTOMER_KEY="+key+"\n")
	bad := c.Commit("deploy settings")
	out, ok = push(c, nil, "origin", "main")
	mustReject(t, s, s.refs(), bad, out, ok, append([]string{"deploy/.env:1:20", "(refs/heads/main)"}, keyAdvice...)...)

	out, ok = push(c, nil, "-o", "loftyscan.allow="+fingerprintOf(key), "origin", "main")
	mustAccept(t, out, ok, "let through (push-option)", "pushed by alice")
	if recs := readBypassLog(t, logFile); len(recs) != 1 || recs[0]["pusher"] != "alice" || recs[0]["pusher_from"] != "REMOTE_USER" {
		t.Errorf("log: %v", recs)
	}
}

func TestPreReceiveFlags(t *testing.T) {
	r := testgit.New(t, "", "--bare")
	badConfig := filepath.Join(t.TempDir(), "loftyscan.toml")
	if err := os.WriteFile(badConfig, []byte("no_such_key = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"git", "--bypass-log", "x", r.Dir}, "--bypass-log works with --pre-receive only"},
		{[]string{"git", "--pre-receive", "--range", "a..b", r.Dir}, "does not take"},
		{[]string{"git", "--pre-receive", "--format", "json", r.Dir}, "takes no --format or --output"},
		{[]string{"git", "--pre-receive", "--pre-receive-budget", "-1s", r.Dir}, "is negative"},
		{[]string{"hook", "install", "--pre-receive", r.Dir, "--", "--no-such-flag"}, "the flags for the hook"},
		{[]string{"hook", "install", "--pre-receive", r.Dir, "--", "--range", "a..b"}, "cannot go into the pre-receive hook"},
		{[]string{"hook", "install", r.Dir, "--", "--ignore-file", "x"}, "go into the pre-receive hook only"},
		{[]string{"hook", "install", "--pre-push", "--pre-receive", r.Dir}, "do not go together"},
		// Values and files the hook would refuse on every push are
		// refused now: the hook was written, and rejected every push.
		{[]string{"hook", "install", "--pre-receive", r.Dir, "--", "--pre-receive-budget", "-1s"}, "the hook would reject every push (exit 2): --pre-receive-budget -1s is negative"},
		{[]string{"hook", "install", "--pre-receive", r.Dir, "--", "--ignore-file", filepath.Join(r.Dir, "not-yet")}, "the hook would reject every push (exit 2): --ignore-file "},
		{[]string{"hook", "install", "--pre-receive", r.Dir, "--", "--config", badConfig}, "the hook would reject every push (exit 2): "},
	} {
		code, _, stderr := runGit(t, nil, "", tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, want 2 with %q:\n%s", tc.args, code, tc.want, stderr)
		}
		if _, err := os.Stat(filepath.Join(r.Dir, "hooks", "pre-receive")); err == nil {
			t.Fatalf("%v: the hook was written", tc.args)
		}
	}
	// Flags the hook takes, and files that are there, install it.
	ignore := filepath.Join(t.TempDir(), "ignore")
	if err := os.WriteFile(ignore, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runGit(t, nil, "", "hook", "install", "--pre-receive", r.Dir, "--", "--ignore-file", ignore, "--bypass-log", filepath.Join(t.TempDir(), "bypass.log")); code != 0 {
		t.Fatalf("install: exit %d\n%s", code, stderr)
	}
	// Bad input from git: rejected, with a message.
	code, _, stderr := runGit(t, map[string]string{"GIT_DIR": r.Dir}, "not a line\n", "git", "--pre-receive")
	if code != 2 || !strings.Contains(stderr, "push rejected") {
		t.Errorf("bad input: exit %d\n%s", code, stderr)
	}
}

// The hook goes into pre-receive.d where the server runs such a folder
// (Gitea, Forgejo), and uninstall takes it away.
func TestPreReceiveHookFolder(t *testing.T) {
	exe := hookBinary(t)
	srv := testgit.New(t, "", "--bare")
	d := filepath.Join(srv.Dir, "hooks", "pre-receive.d")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runGit(t, nil, "", "hook", "install", "--pre-receive", srv.Dir, "--", "--pre-receive-budget", "3s")
	if code != 0 || !strings.Contains(stdout, filepath.Join(d, "loftyscan")) {
		t.Fatalf("install: exit %d\n%s%s", code, stdout, stderr)
	}
	b, _ := os.ReadFile(filepath.Join(d, "loftyscan"))
	if !strings.Contains(string(b), "loftyscan="+shellQuote(exe)+"\n") || !strings.Contains(string(b), "git --pre-receive '--pre-receive-budget' '3s'\n") {
		t.Errorf("hook:\n%s", b)
	}
	if out, err := exec.Command("sh", "-n", filepath.Join(d, "loftyscan")).CombinedOutput(); err != nil {
		t.Errorf("sh -n: %v\n%s", err, out)
	}
	if code, _, stderr := runGit(t, nil, "", "hook", "uninstall", "--pre-receive", srv.Dir); code != 0 {
		t.Fatal(stderr)
	}
	if _, err := os.Stat(filepath.Join(d, "loftyscan")); !os.IsNotExist(err) {
		t.Errorf("the hook is still there: %v", err)
	}
}

// The message's ASCII form keeps every string escaped and redacted.
func TestASCIISafe(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain":                  "plain",
		"eyJ…abcd#12345678":      "eyJ...abcd#12345678",
		"caf\u00e9/\U0001F600":   `caf\u00E9/\U0001F600`,
		finding.Sanitize("\x1b"): `\x1B`,
		"\u00feyJhbGci.eyJ.x":    `\u00FEyJhbGci.eyJ.x`, // no escape ends in the "e" of an "eyJ"
	} {
		if got := asciiSafe(in); got != want {
			t.Errorf("asciiSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

// A key pasted into a commit message or an annotated tag's message is in
// every clone the push makes possible: the hook rejects both, on a branch
// with new commits and on a tag pushed alone (no new commit), naming the
// message, and lets through a message without one. So is a key in a
// commit's header lines (a mergetag, an author's name), named as the
// commit's headers.
func TestPreReceiveMessages(t *testing.T) {
	s, c := pushedServer(t)

	key := gitKey("commit-message")
	c.Git("commit", "-q", "--allow-empty", "-m", "ci: set the token\n\nLOFTY_API_KEY="+key)
	bad := strings.TrimSpace(c.Git("rev-parse", "HEAD"))
	before := s.refs()
	out, ok := push(c, nil, "origin", "main")
	mustReject(t, s, before, bad, out, ok, append([]string{"the commit's message, line 3, column 15", "'reword'"}, keyAdvice...)...)

	// Over the same push, a new branch: the same.
	out, ok = push(c, nil, "origin", "HEAD:refs/heads/topic")
	mustReject(t, s, before, bad, out, ok, "the commit's message, line 3")

	// A tag of a commit the server has, pushed alone: no new commit, the
	// tag's message is what the push adds.
	c.Git("reset", "-q", "--hard", "HEAD~1")
	c.Git("tag", "-a", "v1", "-m", "release\n\nlofty token "+gitKey("tag-message"))
	out, ok = push(c, nil, "origin", "v1")
	mustReject(t, s, before, "", out, ok, "the message of tag v1, line 3", "git tag -f -a")
	if s.ref("refs/tags/v1") != "" {
		t.Errorf("the tag reached the server")
	}

	// A merge of a signed tag copies the tag, message and all, into a
	// mergetag header of its commit; a tool may write a header of its own.
	// Both are the commit's headers, which --amend keeps.
	c.Git("tag", "-d", "v1")
	head := strings.TrimSpace(c.Git("rev-parse", "HEAD"))
	merge := writeCommit(t, c, "tree "+strings.TrimSpace(c.Git("rev-parse", "HEAD^{tree}"))+"\nparent "+head+
		"\nauthor A <a@example.com> 1700000000 +0000\ncommitter A <a@example.com> 1700000000 +0000\n"+
		"mergetag object "+head+"\n type commit\n tag v0\n tagger A <a@example.com> 1700000000 +0000\n \n token "+gitKey("mergetag")+"\n"+
		"\nMerge tag 'v0'\n")
	c.Git("update-ref", "refs/heads/merged", merge)
	out, ok = push(c, nil, "origin", "merged")
	mustReject(t, s, before, merge, out, ok, "the commit's headers, line 10, column 8", "--amend keeps")
	if strings.Contains(out, "edit the file") {
		t.Errorf("a key in headers alone: the hook says to edit a file:\n%s", out)
	}
	// An author's name is whatever user.name says.
	c.GitEnv([]string{"GIT_AUTHOR_NAME=Dev " + gitKey("author")}, "commit", "-q", "--allow-empty", "-m", "a commit")
	authored := strings.TrimSpace(c.Git("rev-parse", "HEAD"))
	out, ok = push(c, nil, "origin", "HEAD:refs/heads/authored")
	mustReject(t, s, before, authored, out, ok, "the commit's headers, line 3, column 12", "--reset-author")
	c.Git("reset", "-q", "--hard", "HEAD~1")

	// Messages without keys go through.
	c.Git("tag", "-a", "v1", "-m", "release notes, no secrets")
	c.Git("commit", "-q", "--allow-empty", "-m", "a subject without a key")
	out, ok = push(c, nil, "origin", "main", "v1")
	mustAccept(t, out, ok, "no Lofty API key")
}

// pushedServer starts a server with the hook and a client that has
// pushed a first commit, which the hook accepted.
func pushedServer(t *testing.T) (*server, *testgit.Repo) {
	t.Helper()
	hookBinary(t)
	s := newServer(t, nil)
	c := newClient(t, s.url)
	c.Write("README", "clean\n")
	c.Commit("start")
	out, ok := push(c, nil, "origin", "main")
	mustAccept(t, out, ok, "no Lofty API key")
	return s, c
}

// bypassServer starts a server that takes push options and logs bypasses
// to the file it returns, and a client that has pushed a first commit.
func bypassServer(t *testing.T) (*server, *testgit.Repo, string) {
	t.Helper()
	hookBinary(t)
	logFile := filepath.Join(t.TempDir(), "bypass.log")
	s := newServer(t, []string{"receive.advertisePushOptions=true"}, "--bypass-log", logFile)
	c := newClient(t, s.url)
	c.Write("a.txt", "a\n")
	c.Commit("first")
	if out, ok := push(c, nil, "origin", "main"); !ok {
		t.Fatal(out)
	}
	return s, c, logFile
}

// mustLetNothingThrough checks that a rejected push neither said that a
// key was let through nor wrote the bypass log.
func mustLetNothingThrough(t *testing.T, out, logFile string) {
	t.Helper()
	if strings.Contains(out, "loftyscan: let through") {
		t.Errorf("a rejected push says a key was let through:\n%s", out)
	}
	if b, err := os.ReadFile(logFile); !os.IsNotExist(err) {
		t.Errorf("a rejected push wrote the bypass log (%v):\n%s", err, b)
	}
}

// A push rejected for another key lets nothing through: the key its push
// option names is not logged as let through, and the pusher is told it
// would have been. Pushed again without the other key, it is logged once.
func TestPreReceiveRejectedPushLogsNoBypass(t *testing.T) {
	s, c, logFile := bypassServer(t)
	allowed := gitKey("allowed-by-option")
	c.Write("fixtures/allowed.env", "LOFTY_API_KEY="+allowed+"\n")
	first := c.Commit("an accepted fixture")
	c.Write("src/leak.env", "LOFTY_API_KEY="+gitKey("not-allowed")+"\n")
	leak := c.Commit("a leak")
	before := s.refs()
	out, ok := push(c, nil, "-o", "loftyscan.allow="+fingerprintOf(allowed), "origin", "main")
	mustReject(t, s, before, leak, out, ok, "src/leak.env:1:15", "would be let through, but the push is rejected (push-option)")
	mustLetNothingThrough(t, out, logFile)

	c.Git("reset", "-q", "--hard", "HEAD~1")
	out, ok = push(c, nil, "-o", "loftyscan.allow="+fingerprintOf(allowed), "origin", "main")
	mustAccept(t, out, ok, "let through (push-option)")
	if recs := readBypassLog(t, logFile); len(recs) != 1 || recs[0]["commit"] != first {
		t.Errorf("the log after the accepted push: %v", recs)
	}
}

// A push rejected for a key in a ref's name lets nothing through either:
// the key its push option names was reported as let through and appended
// to the bypass log, though no ref moved.
func TestPreReceiveRefNameRejectionLogsNoBypass(t *testing.T) {
	s, c, logFile := bypassServer(t)
	allowed := gitKey("allowed-fixture")
	c.Write("fixtures/allowed.env", "LOFTY_API_KEY="+allowed+"\n")
	commit := c.Commit("an accepted fixture")
	before := s.refs()
	out, ok := push(c, nil, "-o", "loftyscan.allow="+fingerprintOf(allowed), "origin", "main:refs/heads/copy-"+gitKey("in-a-ref-name"))
	mustReject(t, s, before, commit, out, ok, "holds a Lofty API key", "would be let through, but the push is rejected (push-option)")
	mustLetNothingThrough(t, out, logFile)
}

// A ref whose name holds a key leaks it to everyone who lists the server's
// refs, and no scan of files sees it: the push that creates or moves it is
// rejected (a branch, a tag, and a branch named after the key's base64,
// which a search for the plain key let through; its name is shown with
// the form hidden); one that deletes it goes through.
func TestPreReceiveRejectsAKeyInARefName(t *testing.T) {
	hookBinary(t)
	s := newServer(t, nil)
	c := newClient(t, s.url)
	c.Write("a.txt", "a\n")
	commit := c.Commit("first")
	if out, ok := push(c, nil, "origin", "main"); !ok {
		t.Fatal(out)
	}
	key := gitKey("in-a-ref-name")
	b64 := base64.RawURLEncoding.EncodeToString([]byte(testtoken.Short("in a ref name's base64"))) // a file name: at most 255 bytes
	for _, ref := range []string{"refs/heads/" + key, "refs/tags/backup-" + key, "refs/heads/b-" + b64} {
		before := s.refs()
		out, ok := push(c, nil, "origin", "main:"+ref)
		mustReject(t, s, before, "", out, ok, "the name of ref refs/", "holds a Lofty API key", "push under a name without the key")
		if ref == "refs/heads/b-"+b64 && (!strings.Contains(out, "refs/heads/b-[key eyJ") || strings.Count(out, b64[40:80]) > 1) {
			t.Errorf("the base64 name is not shown hidden (git itself names it once):\n%s", out)
		}
	}
	// Made on the server before the hook: deleting it is the fix.
	s.Git("update-ref", "refs/heads/"+key, commit)
	if out, ok := push(c, nil, "origin", "--delete", "refs/heads/"+key); !ok {
		t.Errorf("deleting the ref was rejected:\n%s", out)
	}
}

// A push that adds content the server has already, unreachable (a blob
// left by a branch deleted before the hook, or by any push) or reachable
// elsewhere (another branch, an older commit of the same branch), is
// rejected: git does not write again an object its store has, so the
// quarantine lacks the blob, and the hook used to say "checked 1 new
// commit: no Lofty API key" while the push made the key reachable. What
// the pushed commits add to their parents' trees is read from the
// repository and scanned, under the server's ignore file as the rest. A
// push that does not add the content (a new commit on a branch whose
// history has the key) goes through as before.
func TestPreReceiveContentTheServerHad(t *testing.T) {
	hookBinary(t)
	srv := testgit.New(t, filepath.Join(t.TempDir(), "srv.git"), "--bare")
	c := newClient(t, "file://"+srv.Dir)
	c.Write("a.txt", "a\n")
	c.Commit("first")
	// Before the hook: a branch with keys, and a key added then removed on
	// main.
	onBranch, ignored, reverted, unreachable := gitKey("on a branch"), gitKey("ignored"), gitKey("reverted"), gitKey("unreachable")
	c.Write("old.env", "LOFTY_API_KEY="+reverted+"\n")
	c.Commit("a key")
	c.Git("rm", "-q", "old.env")
	c.Commit("no key")
	c.Git("checkout", "-q", "-b", "keyed")
	c.Write("keys/app.env", "LOFTY_API_KEY="+onBranch+"\n")
	c.Write("keys/ok.env", "LOFTY_API_KEY="+ignored+"\n")
	c.Commit("keys on a branch")
	if out, ok := push(c, nil, "origin", "main", "keyed"); !ok {
		t.Fatal(out)
	}
	c.Git("checkout", "-q", "main")
	srv.Git("config", "receive.unpackLimit", "100") // git's default: a small push is unpacked, each object the store has left out
	hidden := "LOFTY_API_KEY=" + unreachable + "\n"
	if out, ok := srv.Try(hidden, "hash-object", "-w", "--stdin"); !ok {
		t.Fatal(out)
	}
	ignore := filepath.Join(t.TempDir(), "ignore")
	if err := os.WriteFile(ignore, []byte(fingerprintOf(ignored)+" # an old test key\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runGit(t, nil, "", "hook", "install", "--pre-receive", srv.Dir, "--", "--ignore-file", ignore); code != 0 {
		t.Fatal(stderr)
	}
	s := &server{Repo: srv, url: "file://" + srv.Dir}
	before := s.refs()

	// (a) An unreachable blob made reachable.
	c.Write("leak.env", hidden)
	bad := c.Commit("the unreachable key")
	out, ok := push(c, nil, "origin", "main")
	mustReject(t, s, before, bad, out, ok, append([]string{"it adds 1 Lofty API key", "commit " + bad[:12], "leak.env:1:15"}, keyAdvice...)...)
	c.Git("reset", "-q", "--hard", "HEAD~1")

	// (b) A key another branch has, copied onto main.
	c.Write("copy.env", "LOFTY_API_KEY="+onBranch+"\n")
	bad = c.Commit("a key from another branch")
	out, ok = push(c, nil, "origin", "main")
	mustReject(t, s, before, bad, out, ok, "copy.env:1:15", "fingerprint "+fingerprintOf(onBranch))
	c.Git("reset", "-q", "--hard", "HEAD~1")

	// A revert that puts back a key main's history had.
	c.Git("revert", "--no-edit", "HEAD")
	bad = c.Git("rev-parse", "HEAD")
	out, ok = push(c, nil, "origin", "main")
	mustReject(t, s, before, bad, out, ok, "old.env:1:15", "fingerprint "+fingerprintOf(reverted))
	c.Git("reset", "-q", "--hard", "HEAD~1")

	// The server's ignore file lets such a key through, as any other.
	c.Write("fixtures/ok.env", "LOFTY_API_KEY="+ignored+"\n")
	c.Commit("an ignored key from another branch")
	out, ok = push(c, nil, "origin", "main")
	mustAccept(t, out, ok, "let through (ignore-file)", "fixtures/ok.env:1")

	// (c) A new commit on the branch with the keys, touching another file:
	// the keys are not new.
	c.Git("checkout", "-q", "keyed")
	c.Write("keys/README", "rotated\n")
	c.Commit("a note")
	out, ok = push(c, nil, "origin", "keyed")
	mustAccept(t, out, ok, "checked 1 new commit: no Lofty API key")
}

// A push that points a ref at a commit the server holds unreachable (a
// branch deleted before the hook was installed, not gc'ed; the objects of
// a push an update hook turned down), or that builds on one, is rejected
// when that commit adds a key: git does not store the commit again, so the
// quarantine lacks it, and the hook used to say "checked 0 new commits"
// while the push made the key reachable. Commits no ref reached before
// the push are new, whether the push sent them or not. A branch set to an
// old commit of main adds nothing: main reaches its key already.
func TestPreReceiveUnreachableCommits(t *testing.T) {
	hookBinary(t)
	srv := testgit.New(t, filepath.Join(t.TempDir(), "srv.git"), "--bare")
	c := newClient(t, "file://"+srv.Dir)
	c.Write("a.txt", "a\n")
	c.Commit("first")
	old := gitKey("old on main")
	c.Write("old.env", "LOFTY_API_KEY="+old+"\n")
	oldCommit := c.Commit("an old key")
	c.Git("rm", "-q", "old.env")
	c.Commit("no key")
	// Before the hook: a branch with a key, pushed then deleted; its
	// commit stays in the server's store, unreachable.
	c.Git("checkout", "-q", "-b", "tmp")
	key := gitKey("unreachable")
	c.Write("keys/app.env", "LOFTY_API_KEY="+key+"\n")
	keyed := c.Commit("a key on a branch deleted later")
	if out, ok := push(c, nil, "origin", "main", "tmp"); !ok {
		t.Fatal(out)
	}
	if out, ok := push(c, nil, "origin", ":refs/heads/tmp"); !ok {
		t.Fatal(out)
	}
	// A push an update hook turns down: git moved its objects out of the
	// quarantine before it ran the hook, and they stay.
	c.Git("checkout", "-q", "-b", "refused", "main")
	refusedKey := gitKey("refused by the update hook")
	c.Write("refused.env", "LOFTY_API_KEY="+refusedKey+"\n")
	refused := c.Commit("a key an update hook turns down")
	if err := testtool.WriteExecutable(filepath.Join(srv.Dir, "hooks", "update"), []byte("#!/bin/sh\n[ \"$1\" != refs/heads/refused ]\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, ok := push(c, nil, "origin", "refused"); ok || !strings.Contains(out, "hook declined") {
		t.Fatalf("the update hook did not turn the push down:\n%s", out)
	}
	c.Git("checkout", "-q", "main")
	c.Git("branch", "-q", "-D", "tmp", "refused")
	if code, _, stderr := runGit(t, nil, "", "hook", "install", "--pre-receive", srv.Dir); code != 0 {
		t.Fatal(stderr)
	}
	s := &server{Repo: srv, url: "file://" + srv.Dir}
	for _, h := range []string{keyed, refused} {
		if !s.has(h) || s.Git("for-each-ref", "--contains", h) != "" {
			t.Fatalf("commit %s is not held unreachable", h)
		}
	}
	before := s.refs()
	wants := append([]string{"it adds 1 Lofty API key", "commit " + keyed[:12], "keys/app.env:1:15", "fingerprint " + fingerprintOf(key)}, keyAdvice...)

	// (a) A branch set to it.
	out, ok := push(c, nil, "origin", keyed+":refs/heads/back")
	mustReject(t, s, before, "", out, ok, append(wants, "(refs/heads/back)")...)

	// (b) A new commit on it.
	c.Git("checkout", "-q", "-b", "child", keyed)
	c.Write("b.txt", "b\n")
	child := c.Commit("a child of the unreachable commit")
	out, ok = push(c, nil, "origin", "child")
	mustReject(t, s, before, child, out, ok, append(wants, "(refs/heads/child)")...)
	// git dropped the quarantine of the push rejected (mustReject checks
	// the child is not in the repository): the same push again is as new.
	out, ok = push(c, nil, "origin", "child")
	mustReject(t, s, before, child, out, ok, append(wants, "(refs/heads/child)")...)
	c.Git("checkout", "-q", "main")

	// A branch at the commit the update hook turned down.
	out, ok = push(c, nil, "origin", refused+":refs/heads/again")
	mustReject(t, s, before, "", out, ok, "commit "+refused[:12], "refused.env:1:15", "fingerprint "+fingerprintOf(refusedKey))

	// (d) A tag of it, lightweight or annotated.
	out, ok = push(c, nil, "origin", keyed+":refs/tags/light")
	mustReject(t, s, before, "", out, ok, append(wants, "(refs/tags/light)")...)
	c.Git("tag", "-a", "-m", "a release", "annotated", keyed)
	out, ok = push(c, nil, "origin", "refs/tags/annotated")
	mustReject(t, s, before, "", out, ok, append(wants, "(refs/tags/annotated)")...)

	// (c) A branch at an old commit of main, whose key main's history
	// holds: nothing new.
	out, ok = push(c, nil, "origin", oldCommit+":refs/heads/old")
	mustAccept(t, out, ok, "checked 0 new commits")
}

// TestPreReceiveFindingsPastCap: a push with more findings than a scan
// lists (20,000) is rejected when the ones it lists are all accepted: the
// ones past the cap were never checked against the settings, and one could
// be a key an ignore entry accepts only at other paths. Here every place
// is of one key the server's ignore file accepts, 201 files of 100 places
// (a file gives at most 100 places of a key), so the push went through
// whatever order the scan met the files in.
func TestPreReceiveFindingsPastCap(t *testing.T) {
	hookBinary(t)
	accepted := gitKey("accepted-fixture")
	ignore := filepath.Join(t.TempDir(), "ignore")
	if err := os.WriteFile(ignore, []byte(fingerprintOf(accepted)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// No time budget: 20,100 places take the -race hook several seconds,
	// and on a loaded machine it ran out of its default budget first.
	s := newServer(t, nil, "--ignore-file", ignore, "--pre-receive-budget", "0")
	c := newClient(t, s.url)
	places := strings.Repeat("LOFTY_API_KEY="+accepted+"\n", 100)
	for i := range 201 {
		c.Write(fmt.Sprintf("fixtures/f%03d.env", i), fmt.Sprintf("# %d\n", i)+places)
	}
	k := c.Commit("fixtures")
	out, ok := push(c, nil, "origin", "main")
	mustReject(t, s, s.refs(), k, out, ok, "holds more findings than one scan lists", "smaller parts")
}

// writeCommit writes a commit object whose text is text into r, byte for
// byte, and returns its name.
func writeCommit(t *testing.T, r *testgit.Repo, text string) string {
	return testgit.WriteLoose(t, r.ObjectsDir(), fmt.Sprintf("commit %d", len(text)), strings.NewReader(text)).String()
}

// A file or folder named after a key is in every clone the push makes
// possible: the hook rejects a push that adds one, naming it (redacted)
// and saying to rename it; renamed, the push goes through.
func TestPreReceiveNames(t *testing.T) {
	s, c := pushedServer(t)
	key := testtoken.Short("a name")
	c.Write("cache-"+key+"/data.json", "{}\n")
	bad := c.Commit("add a cache")
	before := s.refs()
	out, ok := push(c, nil, "origin", "main")
	mustReject(t, s, before, bad, out, ok, "the file or folder name cache-eyJ", "column 7", "'git mv'")
	if strings.Contains(out, key) {
		t.Errorf("the hook's message holds the key:\n%s", out)
	}
	// Renamed in the same commit, the push goes through.
	c.Git("mv", "cache-"+key, "cache")
	c.Git("commit", "-q", "--amend", "-m", "add a cache")
	out, ok = push(c, nil, "origin", "main")
	mustAccept(t, out, ok, "no Lofty API key")
}

// TestPreReceiveEncodedNames: a folder named after a key's base64 is
// named by the hook without that base64, in the rejection (the folder's
// own finding and the path of a key below it) and in the bypass log and
// its message once both keys are let through: redaction sees only
// key-shaped text, and the report's hiding of encoded names did not reach
// the hook.
func TestPreReceiveEncodedNames(t *testing.T) {
	s, c, logFile := bypassServer(t)
	nameKey := testtoken.Short("a name")
	fileKey := testtoken.Short("a file")
	b64 := base64.StdEncoding.EncodeToString([]byte(nameKey))
	c.Write(b64+"/app.env", "LOFTY_API_KEY="+fileKey+"\n")
	bad := c.Commit("add a cache")
	before := s.refs()
	leaks := func(out string) bool {
		return strings.Contains(out, b64[8:len(b64)-8]) || strings.Contains(out, nameKey[20:len(nameKey)-20])
	}
	out, ok := push(c, nil, "origin", "main")
	mustReject(t, s, before, bad, out, ok, "the file or folder name [key eyJ", "as base64]", "/app.env:1:15")
	if leaks(out) {
		t.Errorf("the hook's message holds the key as base64:\n%s", out)
	}
	out, ok = push(c, nil, "-o", "loftyscan.allow="+fingerprintOf(nameKey), "-o", "loftyscan.allow="+fingerprintOf(fileKey), "origin", "main")
	mustAccept(t, out, ok, "let through (push-option)", "as base64]")
	if leaks(out) {
		t.Errorf("the hook's message holds the key as base64:\n%s", out)
	}
	log, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(readBypassLog(t, logFile)) != 2 || leaks(string(log)) {
		t.Errorf("the bypass log holds the key as base64, or not two records:\n%s", log)
	}
}

// TestPreReceiveNotWhollyScanned pushes, into a real bare repository with
// the hook, keys a scan could list or read only in part: a key after
// 10,000 places of keys its push options let through (they filled the
// file's cap on findings), a key below a path longer than git's limit,
// and a key past a commit message's first MiB. Each push is rejected.
func TestPreReceiveNotWhollyScanned(t *testing.T) {
	hookBinary(t)
	s := newServer(t, []string{"receive.advertisePushOptions=true"})
	c := newClient(t, s.url)
	c.Write("README", "hi\n")
	c.Commit("first")
	if out, ok := push(c, nil, "origin", "main"); !ok {
		t.Fatal(out)
	}
	before := s.refs()
	real := gitKey("not wholly scanned")

	// Decoys: 100 keys, each on 100 lines, allowed inline (which counts
	// for nothing here) and by push options.
	var fixtures strings.Builder
	options := []string{}
	for i := range 100 {
		options = append(options, "-o", "loftyscan.allow="+fingerprintOf(gitKey(fmt.Sprintf("decoy %d", i))))
	}
	for range 100 {
		for i := range 100 {
			fixtures.WriteString("K=" + gitKey(fmt.Sprintf("decoy %d", i)) + " # loftyscan:allow test fixture\n")
		}
	}
	fixtures.WriteString("REAL=" + real + "\n")
	c.Write("fixtures.env", fixtures.String())
	decoyed := c.Commit("fixtures")
	out, ok := push(c, nil, append(options, "origin", "main")...)
	mustReject(t, s, before, decoyed, out, ok, "fixtures.env:10001:6")
	c.Git("reset", "-q", "--hard", "HEAD~1")

	blob := func(content string) plumbing.Hash {
		out, ok := c.Try(content, "hash-object", "-w", "--stdin")
		if !ok {
			t.Fatal(out)
		}
		return plumbing.NewHash(strings.TrimSpace(out))
	}
	readme := plumbing.NewHash(c.Git("rev-parse", "HEAD:README")[:40])
	tree := c.MkTree(testgit.TreeEntry{Mode: "100644", Hash: blob("LOFTY_API_KEY=" + real + "\n"), Name: "k.env"})
	for range 18 { // 18 folders of 250 bytes: a path of 4,525 bytes
		tree = c.MkTree(testgit.TreeEntry{Mode: "040000", Hash: tree, Name: strings.Repeat("d", 250)})
	}
	tree = c.MkTree(testgit.TreeEntry{Mode: "100644", Hash: readme, Name: "README"}, testgit.TreeEntry{Mode: "040000", Hash: tree, Name: "x"})
	long := strings.TrimSpace(c.Git("commit-tree", tree.String(), "-p", "HEAD", "-m", "a long path"))
	out, ok = push(c, nil, "origin", long+":refs/heads/long")
	mustReject(t, s, before, long, out, ok, "could not be read, or not wholly", "longer than 4096 bytes")

	msg := filepath.Join(t.TempDir(), "message")
	if err := os.WriteFile(msg, []byte("a long message\n\n"+strings.Repeat("a", 1_100_000)+"\nLOFTY_API_KEY="+real+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	head := plumbing.NewHash(c.Git("rev-parse", "HEAD^{tree}")[:40])
	longMsg := strings.TrimSpace(c.Git("commit-tree", head.String(), "-p", "HEAD", "-F", msg))
	out, ok = push(c, nil, "origin", longMsg+":refs/heads/main")
	mustReject(t, s, before, longMsg, out, ok, "could not be read, or not wholly", "only the first 1048576 were scanned")
}
