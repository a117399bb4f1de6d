package remediate

import (
	"bytes"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// plantedRepo builds a repository with keys in every place a key hides in
// history: several branches, a lightweight and an annotated tag (on commits
// no branch has), the annotated tag's message, a file deleted later, a
// renamed file, a commit message, an .env file stored as base64 wrapped at
// 76 columns, a single-line base64 copy the scan does not report (it
// reports each key once), a UTF-16 file and a database (which
// --replace-text skips: they hold zero bytes), keys in pieces, and a log
// hard-wrapped by fold(1).
// It returns the repository and the paths that held keys.
func plantedRepo(t *testing.T, dir string) (*repo, map[string]bool) {
	k := func(sub string) string { s, _ := testKey(sub); return s }
	r := newRepo(t, dir)
	binary := string([]byte{0x89, 'P', 'N', 'G', 0, 0, 0, 0x0d, 0xff, 0xfe, 0, 'e', 'y', 'J'})
	r.commit("initial", map[string]string{
		"README.md":       "# demo\n",
		"src/main.go":     "package main\n\nfunc main() {}\n",
		"assets/logo.bin": binary,
		"config/.env":     "DEBUG=1\nLOFTY_API_KEY=" + k("main-plain") + "\n",
	})
	r.commit("add a base64 copy and a wrapped .env", map[string]string{
		"k8s/secret.yaml": "apiVersion: v1\nkind: Secret\ndata:\n  LOFTY_API_KEY: " + base64.StdEncoding.EncodeToString([]byte(k("main-plain"))) + "\n",
		".env.b64":        wrap(base64.StdEncoding.EncodeToString([]byte("# app settings\nLOFTY_CUSTOMER_KEY="+k("wrapped")+"\nREGION=eu\n")), 76, "\n") + "\n",
	})
	r.commit("add credentials", map[string]string{"old/creds.txt": "token: " + k("renamed") + "\n"})
	if err := os.MkdirAll(filepath.Join(r.dir, "new"), 0o755); err != nil {
		t.Fatal(err)
	}
	r.git("mv", "old/creds.txt", "new/creds.txt")
	r.commit("move credentials", map[string]string{"src/util.go": "package main\n"})
	r.commit("configure the client\n\nThe key for the demo account is "+k("in-message")+", do not share.", nil)
	r.commit("windows profile and a database", map[string]string{
		"win/profile.ps1": string(append([]byte{0xff, 0xfe}, utf16LE([]byte("$env:LOFTY_API_KEY = \""+k("utf16")+"\"\r\nWrite-Host ok\r\n"))...)),
		"data/app.db":     "SQLite format 3\x00\x10\x00\x01\x01" + strings.Repeat("\x00", 64) + "settings\x00lofty_token\x00" + k("binary") + "\x00\x00\x07",
		// A key in pieces: Python's adjacent literals.
		"src/client.py": "KEY = (\"" + k("split")[:40] + "\"\n       \"" + k("split")[40:] + "\")\n",
		// The same in a notebook cell (the pieces' quotes and the line
		// break JSON escapes), and a key a quoted-printable mail broke.
		"notebooks/explore.ipynb": `{"cells": [{"cell_type": "code", "source": ["key = (\"` + k("notebook")[:50] + `\"\n",` + "\n" + `    "       \"` + k("notebook")[50:] + `\")\n"]}]}` + "\n",
		"mail/setup.eml":          "Content-Transfer-Encoding: quoted-printable\r\n\r\nYour key: " + k("mail")[:70] + "=\r\n" + k("mail")[70:] + "\r\n",
		// A console's log hard-wrapped at 80 columns by fold(1).
		"logs/console.log": fold(t, 80, "2026-12-02T10:00:00Z INFO client started with LOFTY_API_KEY="+k("folded")+" region=eu\n"),
	})

	r.git("checkout", "-q", "-b", "dev", "HEAD~3")
	r.commit("dev settings", map[string]string{"dev/settings.json": `{"lofty": {"token": "` + k("dev-deleted") + `"}}` + "\n"})
	r.git("rm", "-q", "dev/settings.json")
	r.commit("remove settings", map[string]string{"dev/notes.txt": "settings moved\n"})

	// Commits only tags reach.
	r.git("checkout", "-q", "-b", "release-1", "main")
	r.commit("release 1", map[string]string{"light.txt": "LOFTY_API_KEY=" + k("light-tag") + "\n"})
	r.git("tag", "v1.0")
	r.git("checkout", "-q", "-b", "release-2", "main")
	r.commit("release 2", map[string]string{"annotated.txt": "lofty_token=" + k("annotated-tag") + "\n"})
	r.git("tag", "-a", "v2.0", "-m", "Release 2\n\nSmoke-tested with "+k("tag-message")+".")
	r.git("checkout", "-q", "main")
	r.git("branch", "-q", "-D", "release-1", "release-2")

	keyPaths := map[string]bool{}
	for _, p := range []string{"config/.env", "k8s/secret.yaml", ".env.b64", "old/creds.txt", "new/creds.txt", "win/profile.ps1", "data/app.db", "dev/settings.json", "light.txt", "annotated.txt", "src/client.py", "notebooks/explore.ipynb", "mail/setup.eml", "logs/console.log"} {
		keyPaths[p] = true
	}
	return r, keyPaths
}

// The whole plan, run for real with git filter-repo, removes every key from
// every ref and message and leaves every other byte as it was.
// fold returns text hard-wrapped at width columns by fold(1).
func fold(t *testing.T, width int, text string) string {
	cmd := exec.Command("fold", "-w", strconv.Itoa(width))
	cmd.Stdin = strings.NewReader(text)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("fold: %v", err)
	}
	if strings.Contains(string(out), text[strings.Index(text, "eyJ"):][:100]) {
		t.Fatalf("fold left the key's first 100 characters on one line")
	}
	return string(out)
}

func TestPlanRemovesEveryKeyWithFilterRepo(t *testing.T) {
	requireFilterRepo(t)
	base := t.TempDir()
	r, keyPaths := plantedRepo(t, filepath.Join(base, "repo"))

	keys := mergeKeys(scanRepo(t, r.dir), messageKeys(t, r.dir))
	if len(keys) != 14 {
		t.Fatalf("the scans found %d keys, want the 14 planted:\n%s", len(keys), describeKeys(keys))
	}
	encodings := map[string]bool{}
	for _, k := range keys {
		for _, o := range k.Occurrences {
			encodings[o.Encoding] = true
		}
	}
	if !encodings["base64"] || !encodings["utf-16le"] {
		t.Fatalf("the scan did not report the encoded keys as such: %v", encodings)
	}

	p := buildPlan(t, r.dir, base, keys)
	checkPlanFiles(t, p, r.dir, keys)
	if len(p.Manual) != 0 {
		t.Errorf("manual steps for keys the replacements reach: %+v", p.Manual)
	}
	for format, out := range renderedPlans(t, p) {
		assertNoSecretIn(t, "the "+format+" plan", out, keys)
		for _, want := range []string{"v1.0", "v2.0", "dev", "filter-repo", "force", "Settings → Integrations → API"} {
			if !strings.Contains(out, want) {
				t.Errorf("the %s plan does not mention %q", format, want)
			}
		}
	}

	// Before: every commit's files, and the refs.
	before := map[string]map[string]string{}
	for _, c := range strings.Fields(r.git("rev-list", "--all")) {
		before[c] = tree(t, r.dir, c)
	}
	refsBefore := r.git("for-each-ref", "--format=%(refname) %(objecttype)", "refs/heads", "refs/tags")

	runCommands(t, base, p.Rewrite)

	// Nothing left: the history scan, the messages, every object.
	if left := scanRepo(t, r.dir); len(left) > 0 {
		t.Errorf("the rescan finds keys:\n%s", describeKeys(left))
	}
	if left := messageKeys(t, r.dir); len(left) > 0 {
		t.Errorf("keys left in messages:\n%s", describeKeys(left))
	}
	objects := r.git("cat-file", "--batch-all-objects", "--batch")
	assertNoSecretIn(t, "the rewritten repository's objects", objects, keys)
	runChecks(t, base, p.Check)

	// (filter-repo adds refs/replace/<old> → <new>, which map old commit
	// names to the new commits in this repository.)
	if got := r.git("for-each-ref", "--format=%(refname) %(objecttype)", "refs/heads", "refs/tags"); got != refsBefore {
		t.Errorf("refs after the rewrite:\n%s\nbefore:\n%s", got, refsBefore)
	}
	// Every other file byte for byte; files with keys keep their size.
	m := commitMap(t, filepath.Join(r.dir, ".git"))
	if len(m) != len(before) {
		t.Fatalf("commit-map has %d commits, history had %d", len(m), len(before))
	}
	changed := 0
	for old, files := range before {
		after := tree(t, r.dir, m[old])
		if len(after) != len(files) {
			t.Errorf("commit %s: %d files, was %d", old[:8], len(after), len(files))
		}
		for path, blob := range files {
			got, ok := after[path]
			switch {
			case !ok:
				t.Errorf("commit %s: %s is gone", old[:8], path)
			case !keyPaths[path] && got != blob:
				t.Errorf("commit %s: %s changed: %s, was %s", old[:8], path, got, blob)
			case keyPaths[path] && strings.Fields(got)[1] != strings.Fields(blob)[1]:
				t.Errorf("commit %s: %s changed size: %s, was %s", old[:8], path, got, blob)
			case keyPaths[path] && got != blob:
				changed++
			}
		}
	}
	if changed == 0 {
		t.Error("no file with a key changed")
	}
	// The wrapped base64 decodes to the .env with the replacement in place.
	env := r.git("show", "main:.env.b64")
	dec, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(env, "\n", ""))
	if err != nil {
		t.Fatalf("the rewritten .env.b64 does not decode: %v", err)
	}
	if !bytes.HasPrefix(dec, []byte("# app settings\nLOFTY_CUSTOMER_KEY=***REMOVED-LOFTY-KEY-")) || !bytes.HasSuffix(dec, []byte("*\nREGION=eu\n")) {
		t.Errorf("the rewritten .env.b64 decodes to %s", clean(string(dec)))
	}
}

// checkPlanFiles checks the files a plan writes: mode 0600, outside the
// repository, and the replacements file nowhere in the plan's text.
func checkPlanFiles(t *testing.T, p *Plan, repoDir string, keys []Key) {
	t.Helper()
	if mode := fileMode(t, p.Dir); mode != 0o700 {
		t.Errorf("the plan folder has mode %o, want 0700", mode)
	}
	for _, f := range []string{p.ReplacementsFile, p.CallbackFile} {
		if mode := fileMode(t, f); mode != 0o600 {
			t.Errorf("%s has mode %o, want 0600", filepath.Base(f), mode)
		}
		real, _ := realPath(repoDir)
		if within(f, real) || within(f, repoDir) {
			t.Errorf("%s is inside the repository", f)
		}
	}
	data, err := os.ReadFile(p.ReplacementsFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !bytes.Contains(data, []byte("literal:"+k.Secret+"==>")) {
			t.Errorf("the replacements file has no rule for key %s", shortFP(k.Fingerprint))
		}
	}
	var out bytes.Buffer
	p.Write(&out, FormatText)
	for _, line := range strings.Split(string(data), "\n") {
		if _, rep, ok := strings.Cut(line, "==>"); ok && len(line) > 40 && strings.Contains(out.String(), line[:40]) {
			t.Errorf("the plan prints a rule of the replacements file (replaced by %.20q)", rep)
		}
	}
}

// A key stored as base64, run for real through filter-repo at each of
// base64's alignments in both alphabets, in a file, in a file
// --replace-text skips (a zero byte: the blob callback) and in a commit
// message, decodes after the rewrite to the replacement with the text
// around it: the character after the key's last bits, which holds 2 or 4
// of them, gets the replacement's (only the first character may keep bits
// of the key's first byte, 'e' in every key).
func TestRewriteLeavesNoBitOfTheKeysEndInBase64(t *testing.T) {
	requireFilterRepo(t)
	base := t.TempDir()
	secret, fp := testKey("base64-end")
	rep := replacementText(fp, len(secret))
	if secret[len(secret)-1]&3 == rep[len(rep)-1]&3 {
		t.Fatalf("the test key ends in %q, whose last bits are the replacement's: the test would not see them kept", secret[len(secret)-1])
	}
	type stored struct {
		pre, suf string
		enc      *base64.Encoding
		wrap     string // a line break put just before the character after the key's own ones
	}
	var all []stored
	for _, pre := range []string{"KE=", "KEY=", "K="} { // the three alignments
		for _, suf := range []string{"\n", "\nMORE=1\n"} {
			for _, wrap := range []string{"", "\n", "\r\n"} {
				if wrap != "" && (len(pre)+len(secret))%3 == 0 {
					continue // the key ends on a character: a break there is inside its own (located segments' work)
				}
				all = append(all, stored{pre, suf, base64.StdEncoding, wrap}, stored{pre, suf, base64.RawURLEncoding, wrap})
			}
		}
	}
	encode := func(s stored) string {
		e := s.enc.EncodeToString([]byte(s.pre + secret + s.suf))
		at := (8*(len(s.pre)+len(secret)) - 1) / 6 // the character with the key's last bit
		return e[:at] + s.wrap + e[at:]
	}
	// Entries are apart by a blank line: a wrapped one is two lines.
	var text, message strings.Builder
	message.WriteString("add the settings\n\n")
	for _, s := range all {
		text.WriteString(encode(s) + "\n\n")
		message.WriteString(encode(s) + "\n\n")
	}
	r := newRepo(t, filepath.Join(base, "repo"))
	r.commit(message.String(), map[string]string{
		"settings.b64": text.String(),
		"settings.bin": "\x00\x00" + text.String(),
	})
	keys := mergeKeys(scanRepo(t, r.dir), messageKeys(t, r.dir))
	if len(keys) != 1 {
		t.Fatalf("the scans found %d keys, want 1:\n%s", len(keys), describeKeys(keys))
	}
	// The located occurrences' rules hold the whole characters at both
	// ends; the key's forms are what rewrites a copy the scan does not
	// report (a later copy of a key it reported), so the plan here is
	// built from the occurrences in the message, which are not located.
	k := keys[0]
	k.Occurrences = slices.DeleteFunc(k.Occurrences, func(o Occurrence) bool { return !o.InMessage })
	if len(k.Occurrences) == 0 {
		t.Fatal("the message scan did not find the key")
	}
	p := buildPlan(t, r.dir, base, []Key{k})
	runCommands(t, base, p.Rewrite)

	for place, got := range map[string]string{
		"the file":                   r.git("show", "main:settings.b64"),
		"the file with a zero byte":  strings.TrimPrefix(r.git("show", "main:settings.bin"), "\x00\x00"),
		"the commit message's lines": strings.TrimPrefix(r.git("log", "-1", "--format=%B", "main"), "add the settings\n\n"),
	} {
		lines := strings.Split(got, "\n\n")
		if len(lines) < len(all) {
			t.Fatalf("%s: %d entries after the rewrite:\n%s", place, len(lines), got)
		}
		for i, s := range all {
			dec, err := s.enc.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(lines[i]))
			if err != nil {
				t.Fatalf("%s, line %d: does not decode after the rewrite: %v", place, i+1, err)
			}
			want := rep[1:] + s.suf
			if len(dec) != len(s.pre)+len(secret)+len(s.suf) || string(dec[len(s.pre)+1:]) != want {
				t.Errorf("%s, entry %d (%q before, %d-byte alignment, line break %q): decodes to %q, want the replacement then %q", place, i+1, s.pre, len(s.pre)%3, s.wrap, clean(string(dec)), s.suf)
			}
		}
	}
}
