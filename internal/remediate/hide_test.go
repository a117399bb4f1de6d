package remediate

import (
	"bytes"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/finding"
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
	for format, out := range renderedPlans(t, p) {
		if h.holds(strings.ReplaceAll(out, `\`, "")) {
			t.Errorf("the %s plan prints a form of the key:\n%s", format, out)
		}
	}
	var text bytes.Buffer
	p.Write(&text, FormatText)
	if !strings.Contains(text.String(), "Branch k[key eyJ") || strings.Contains(text.String(), "refs/heads/k[key") {
		t.Errorf("the branch named after the key is pushed, or not named:\n%s", text.String())
	}

	// The rewrite renames the file in each repository it rewrites; the
	// remote-tracking branch named after the key's base64 gets a step by
	// hand with no command (the plan cannot print its name).
	renames, refs := 0, 0
	for _, m := range p.Manual {
		switch {
		case m.Command != nil && m.Occurrence.Ref == "":
			renames++
		case m.Command == nil && strings.HasPrefix(m.Occurrence.Ref, "refs/remotes/origin/k[key eyJ"):
			refs++
		}
	}
	if len(p.Manual) != 3 || renames != 2 || refs != 1 {
		t.Fatalf("steps by hand %+v, want a rename for each file and a step for the ref", p.Manual)
	}
	runCommands(t, base, p.Rewrite)
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

// A base64 form is the characters made of the key's bits alone; when the
// key ends inside a character, the one after the form holds up to 4 bits
// of the key's last byte, and "…as base64]w==" printed them. hide now
// swallows it and the padding, at every alignment and in both alphabets,
// and leaves what follows the padding. (At the alignment where the key
// ends on a character boundary nothing follows it but the text's own.)
func TestHideSwallowsTheKeysLastCharacter(t *testing.T) {
	secret := testtoken.Key("n", time.Time{})
	h := newHider([]Key{{Secret: secret, Fingerprint: fingerprint(secret)}})
	for align := range 3 {
		pre := []byte("ab")[:align]
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			e := enc.EncodeToString(append(append([]byte{}, pre...), secret...))
			lo := (8*align + 5) / 6
			core := e[lo:]
			out := h.hide("name-" + core + ".env")
			if !strings.HasPrefix(out, "name-[key eyJ") || !strings.HasSuffix(out, "as base64].env") {
				t.Errorf("align %d: %q hides as %q, want the key's last character and padding gone", align, core, out)
			}
		}
	}
}

// A rename step gives a file named after a key's base64 the base64 of the
// replacement: the character after the replaced form held up to 4 bits of
// the key's last byte and stayed ("…KioqKQ==" for "…KioqKg=="). Now it
// holds the replacement's, so the new name is what encoding the
// replacement gives, from the first character made of the key's bits on.
func TestRewriteSetsTheCutCharacter(t *testing.T) {
	secret := testtoken.Key("n", time.Time{})
	fp := fingerprint(secret)
	h := newHider([]Key{{Secret: secret, Fingerprint: fp}})
	rep := replacementText(fp, len(secret))
	for align := range 3 {
		pre := []byte("ab")[:align]
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			for _, tail := range []string{"", "\n", ".env"} {
				name := enc.EncodeToString([]byte(string(pre) + secret + tail))
				want := enc.EncodeToString([]byte(string(pre) + rep + tail))
				lo := (8*align + 5) / 6
				if got := h.rewrite(name); got[lo:] != want[lo:] {
					t.Errorf("align %d, tail %q: rewritten to %q, want %q from character %d", align, tail, got, want, lo)
				}
			}
		}
	}
}

// A name that holds a key's base64 broken by a line break matches none of
// the key's forms: it is hidden whole, in its own path, below it and after
// an archive's "!", and every other name is left as it was.
func TestHideEncodedNamesHidesAWrappedNameWhole(t *testing.T) {
	secret, fp := testKey("wrapped-name")
	b := base64.StdEncoding.EncodeToString([]byte(secret))
	for _, name := range []string{"wrap-" + b[:76] + "\n" + b[76:] + ".txt", "w-" + b[:100] + "\r\n" + b[100:]} {
		for _, dir := range []string{"", "conf/", "a.zip!", "conf/a.zip!sub/"} {
			f := finding.Finding{Path: dir + name, Location: finding.InPath, Encoding: "base64", Secret: secret, Fingerprint: fp}
			below := finding.Finding{Path: dir + name + "/x.env", Fingerprint: fp}
			other := finding.Finding{Path: "other/x.env"}
			shown := []finding.Finding{f, below, other}
			HideEncodedNames([]finding.Finding{f}, shown)
			for _, s := range shown[:2] {
				if strings.Contains(s.Path, b[20:60]) || strings.Contains(s.Path, b[120:150]) || !strings.HasPrefix(s.Path, dir+"[name holding key eyJ") {
					t.Errorf("%q shown as %q", dir+"…", s.Path)
				}
			}
			if shown[2].Path != "other/x.env" {
				t.Errorf("another path shown as %q", shown[2].Path)
			}
		}
	}
}
