package remediate

import (
	"bytes"
	"encoding/base64"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// A name can hold a key in another form than its own text: a file named
// after the key's base64, a branch after it. finding's redaction
// hides only what is shaped like a key, and the plan printed such names
// whole, the key with them. The plan knows its keys: no form of them is
// printed, a remote branch so named is left out of the push (named by
// hand), and a file so named is renamed in every commit by a step by hand,
// since the replacements rewrite what files hold, never their names.
func TestPlanPrintsNoFormOfAKeyAndRenamesFilesNamedAfterOne(t *testing.T) {
	requireFilterRepo(t)
	base := t.TempDir()
	server := filepath.Join(base, "server.git")
	git(t, base, "init", "-q", "--bare", server)
	r := newRepo(t, filepath.Join(base, "repo"))
	// Short keys (no expiry claim): a name is at most 255 bytes.
	secret, other := testtoken.Key("n", time.Time{}), testtoken.Key("m", time.Time{})
	b64 := base64.RawURLEncoding.EncodeToString([]byte(secret))
	_, noHeader, _ := strings.Cut(other, ".")
	r.commit("add", map[string]string{
		"backups/" + b64 + ".env":      "LOFTY_API_KEY=" + secret + "\n",
		"backups/" + noHeader + ".txt": "LOFTY_API_KEY=" + other + "\n",
		"src/main.go":                  "package main\n",
	})
	r.git("remote", "add", "origin", server)
	r.git("push", "-q", "origin", "main", "HEAD:refs/heads/k"+b64)
	r.git("fetch", "-q", "origin")

	p := buildPlan(t, r.dir, base, scanRepo(t, r.dir))
	h := newHider([]Key{{Secret: secret, Fingerprint: fingerprint(secret)}, {Secret: other, Fingerprint: fingerprint(other)}})
	for _, format := range Formats() {
		var out bytes.Buffer
		if err := p.Write(&out, format); err != nil {
			t.Fatal(err)
		}
		if h.holds(strings.ReplaceAll(out.String(), `\`, "")) {
			t.Errorf("the %s plan prints a form of the key:\n%s", format, out.String())
		}
	}
	var text bytes.Buffer
	p.Write(&text, FormatText)
	if !strings.Contains(text.String(), "Branch k[key eyJ") || strings.Contains(text.String(), "refs/heads/k[key") {
		t.Errorf("the branch named after the key is pushed, or not named:\n%s", text.String())
	}

	// Run as printed: the rewrite, then each step by hand in this
	// repository (not a fresh clone: --force).
	runCommands(t, base, p.Rewrite[:len(p.Rewrite)-1]) // the remote first, before the steps by hand
	for _, m := range p.Manual {
		if m.Command == nil {
			t.Fatalf("a step by hand with no command: %+v", m)
		}
	}
	runCommands(t, base, p.Rewrite[len(p.Rewrite)-1:])
	for _, m := range p.Manual {
		line := strings.Replace(shellLine(*m.Command), "git filter-repo", "git -C "+shellWord(r.dir)+" filter-repo", 1) + " --force"
		if out, err := exec.Command("bash", "-c", line).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
	}
	names := r.git("log", "--all", "--format=", "--name-only")
	if h.holds(names) {
		t.Errorf("a file's name still holds the key:\n%s", names)
	}
	if !strings.Contains(names, "src/main.go") || !strings.Contains(names, "backups/") {
		t.Errorf("files went missing:\n%s", names)
	}
	if objects := r.git("cat-file", "--batch-all-objects", "--batch"); h.holds(objects) {
		t.Error("a key is still in the repository's objects")
	}
}
