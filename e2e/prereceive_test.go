package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/internal/testtool"
)

// The README's push-protection examples, run as written: the install
// line, and the hook scripts it gives for GitLab and GitHub Enterprise
// Server, each in a bare repository that a real git push goes into.

// pushKey pushes a commit with a key, then a clean one, into srv, and
// returns the output of the rejected push.
func pushKey(t *testing.T, srv string) string {
	t.Helper()
	c := testgit.New(t, "")
	c.Write("a.txt", "a\n")
	c.Commit("first")
	if out, ok := c.Try("", "push", "-q", srv, "main"); !ok {
		t.Fatalf("clean push rejected:\n%s", out)
	}
	c.Write("app.env", "LOFTY_API_KEY="+gitKey("readme-push")+"\n")
	c.Commit("configure the client")
	out, ok := c.Try("", "push", srv, "main")
	if ok || !strings.Contains(out, "pre-receive hook declined") {
		t.Fatalf("the push with a key: ok=%v\n%s", ok, out)
	}
	return out
}

func TestReadmePreReceiveInstall(t *testing.T) {
	t.Parallel()
	line := strings.TrimSpace(readmeBlock(t, "loftyscan hook install --pre-receive /srv/git/app.git"))
	dir := t.TempDir()
	srv := testgit.New(t, filepath.Join(dir, "app.git"), "--bare")
	line = strings.ReplaceAll(line, "/srv/git/app.git", srv.Dir)
	line = strings.ReplaceAll(line, "/var/log/loftyscan-bypass.log", filepath.Join(dir, "bypass.log"))
	if code, out := runBinary(t, dir, nil, line); code != 0 {
		t.Fatalf("%s: exit %d\n%s", line, code, out)
	}
	out := pushKey(t, srv.Dir)

	// Every line of the README's sample that names no key, commit or
	// file is what git shows.
	sample := readmeBlock(t, "remote: loftyscan: push rejected")
	for _, l := range strings.Split(sample, "\n") {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "remote: loftyscan: ") || strings.ContainsAny(l, "#:") && strings.Contains(l, "eyJ") ||
			strings.Contains(l, "commit a8e5") || strings.Contains(l, "fingerprint") || strings.Contains(l, "account 12345") {
			continue
		}
		if !strings.Contains(out, l) {
			t.Errorf("git does not show the README's line %q:\n%s", l, out)
		}
	}
}

func TestReadmePreReceiveScripts(t *testing.T) {
	t.Parallel()
	gitlab := readmeBlock(t, "mkdir -p custom_hooks")
	_, script, ok := strings.Cut(gitlab, "<<'EOF'\n")
	script, _, ok2 := strings.Cut(script, "\nEOF\n")
	if !ok || !ok2 {
		t.Fatalf("the GitLab example has no hook script:\n%s", gitlab)
	}
	for name, script := range map[string]string{
		"GitLab":                   script,
		"GitHub Enterprise Server": readmeBlock(t, "#!/bin/sh\n# pre-receive hook script for GitHub Enterprise Server"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			srv := testgit.New(t, filepath.Join(dir, "srv.git"), "--bare")
			s := strings.ReplaceAll(script, "/usr/local/bin/loftyscan", loftyscan)
			s = strings.ReplaceAll(s, "/var/log/gitlab/loftyscan-bypass.log", filepath.Join(dir, "bypass.log"))
			hook := filepath.Join(srv.Dir, "hooks", "pre-receive")
			if err := testtool.WriteExecutable(hook, []byte(s), 0o755); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("sh", "-n", hook).CombinedOutput(); err != nil {
				t.Fatalf("sh -n: %v\n%s", err, out)
			}
			out := pushKey(t, srv.Dir)
			if !strings.Contains(out, "remote: loftyscan: push rejected: it adds 1 Lofty API key") || !strings.Contains(out, "app.env:1:15") {
				t.Errorf("the %s script's rejection:\n%s", name, out)
			}
		})
	}
}
