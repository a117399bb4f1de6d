package remediate

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/finding"
)

// fakeRepo makes the folders of a repository for plans that read no blob.
func fakeRepo(t *testing.T) Facts {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	if err := os.MkdirAll(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	return Facts{Dir: dir, GitDir: filepath.Join(dir, ".git")}
}

func plainKey(sub string) Key {
	secret, fp := testKey(sub)
	return Key{Fingerprint: fp, Secret: secret, Subject: sub, Status: "active", ExpiresAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
		Occurrences: []Occurrence{{Commit: strings.Repeat("a", 40), Path: "config/.env", Line: 2, Column: 15}}}
}

// noBlobs is a BlobReader for plans whose blobs cannot be read.
type noBlobs struct{}

func (noBlobs) ReadBlob(context.Context, string, string) (io.ReadCloser, error) {
	return nil, errors.New("no such blob")
}

func TestBuildPlanRefusesKeysItCannotRemove(t *testing.T) {
	facts := fakeRepo(t)
	k := plainKey("1")
	noSecret := k
	noSecret.Secret = ""
	wrongFP := k
	wrongFP.Fingerprint = strings.Repeat("0", 64)
	for name, c := range map[string]struct {
		keys []Key
		want string
	}{
		"none":       {nil, "no keys"},
		"no secret":  {[]Key{noSecret}, "has no secret"},
		"wrong fp":   {[]Key{wrongFP}, "does not match its secret"},
		"twice":      {[]Key{k, k}, "listed twice"},
		"line break": {[]Key{{Secret: "a\nb", Fingerprint: fingerprint("a\nb")}}, "line break"},
	} {
		_, err := BuildPlan(context.Background(), c.keys, facts, Options{PlanDir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
	}
}

func TestPlanFolderMustBeOutsideTheRepository(t *testing.T) {
	facts := fakeRepo(t)
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(facts.Dir, link); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Join(facts.Dir, "plan"), filepath.Join(facts.GitDir, "plan")} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, dir := range []string{facts.Dir, filepath.Join(facts.Dir, "plan"), facts.GitDir, filepath.Join(link, "plan")} {
		_, err := BuildPlan(context.Background(), []Key{plainKey("1")}, facts, Options{PlanDir: dir})
		if err == nil || !strings.Contains(err.Error(), "inside the repository") {
			t.Errorf("plan folder %s: error %v", dir, err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(facts.Dir, "plan")); len(entries) > 0 {
		t.Error("the plan wrote into the repository")
	}
	if _, err := BuildPlan(context.Background(), []Key{plainKey("1")}, facts, Options{PlanDir: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("a plan folder in a missing folder: no error")
	}
}

func TestPlanFilesArePrivate(t *testing.T) {
	facts := fakeRepo(t)
	parent := t.TempDir()
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := BuildPlan(context.Background(), []Key{plainKey("1")}, facts, Options{PlanDir: parent})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(p.Dir) != parent {
		t.Errorf("plan folder %s is not in %s", p.Dir, parent)
	}
	if m := fileMode(t, p.Dir); m != 0o700 {
		t.Errorf("plan folder: mode %o, want 0700", m)
	}
	for _, f := range []string{p.ReplacementsFile, p.CallbackFile} {
		if m := fileMode(t, f); m != 0o600 {
			t.Errorf("%s: mode %o", f, m)
		}
	}
	q, err := BuildPlan(context.Background(), []Key{plainKey("1")}, facts, Options{PlanDir: parent})
	if err != nil || q.Dir == p.Dir {
		t.Errorf("a second plan: %v, folder %s (first %s)", err, q.Dir, p.Dir)
	}
}

// writePrivate replaces what is at its path, a symbolic link included,
// and never writes through it.
func TestWritePrivateReplacesALink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere")
	path := filepath.Join(dir, "replacements.txt")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if err := writePrivate(path, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(target); err == nil {
		t.Error("written through the link")
	}
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Errorf("after: %v %v", err, fi.Mode())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files left in the folder, want 1", len(entries))
	}
}

// The callback names the replacements file as escaped bytes, whatever the
// path holds.
func TestBlobCallbackQuotesItsPath(t *testing.T) {
	got := string(blobCallback("/tmp/it's \\ \"odd\"\n/replacements.txt", nil))
	if !strings.Contains(got, `get_replace_text(b'\x2f\x74\x6d\x70\x2f\x69\x74\x27\x73`) || strings.Contains(got, "it's") {
		t.Errorf("callback:\n%s", got)
	}
}

// Occurrences the replacements cannot reach are listed for a person to
// handle, with the command that removes the file.
func TestPlanListsWhatItCannotRewrite(t *testing.T) {
	facts := fakeRepo(t)
	k := plainKey("1")
	k.Occurrences = append(k.Occurrences,
		Occurrence{Commit: strings.Repeat("b", 40), Path: "dist/app.zip!config/.env", Line: 1, Column: 1},
		Occurrence{Commit: strings.Repeat("c", 40), Path: "ps/run.txt", Line: 1, Column: 1, Encoding: "utf-16le/base64"},
		Occurrence{Commit: strings.Repeat("d", 40), Path: "k8s/s.yaml", Line: 3, Column: 9, Encoding: "base64"},
	)
	p, err := BuildPlan(context.Background(), []Key{k}, facts, Options{PlanDir: t.TempDir(), Blobs: noBlobs{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Manual) != 2 {
		t.Fatalf("%d manual steps, want the archive and the utf-16le/base64 ones: %+v", len(p.Manual), p.Manual)
	}
	if got := strings.Join(p.Manual[0].Command.Args, " "); got != "git filter-repo --invert-paths --path=dist/app.zip" {
		t.Errorf("archive: %s", got)
	}
	if got := strings.Join(p.Manual[1].Command.Args, " "); got != "git filter-repo --invert-paths --path=ps/run.txt" {
		t.Errorf("encoding: %s", got)
	}
	var out bytes.Buffer
	p.Write(&out, FormatText)
	if !strings.Contains(out.String(), "by hand") || !strings.Contains(out.String(), "utf-16le/base64") {
		t.Errorf("the plan does not list the manual steps:\n%s", out.String())
	}
}

func TestKeysAreRevokedLiveFirst(t *testing.T) {
	facts := fakeRepo(t)
	mk := func(sub, status, verification string) Key {
		k := plainKey(sub)
		k.Status, k.Verification = status, verification
		return k
	}
	keys := []Key{mk("invalid", "active", "invalid"), mk("expired", "expired", ""), mk("unchecked", "no-expiry", ""), mk("live", "active", "live")}
	p, err := BuildPlan(context.Background(), keys, facts, Options{PlanDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, k := range p.Keys {
		order = append(order, k.Subject)
	}
	if got := strings.Join(order, " "); got != "live unchecked expired invalid" {
		t.Errorf("order: %s", got)
	}
	var out bytes.Buffer
	p.Write(&out, FormatText)
	if i := strings.Index(out.String(), "LIVE, REVOKE NOW"); i < 0 || i > strings.Index(out.String(), "Key 2") {
		t.Errorf("the live key does not come first with its warning:\n%s", out.String())
	}
}

// Whatever the repository holds, the plan prints no control character, no
// key, no password, and no Markdown that links or renders HTML.
func TestPlanEscapesWhatComesFromTheRepository(t *testing.T) {
	facts := fakeRepo(t)
	other, _ := testKey("in-a-path")
	k := plainKey("sub\x1b[31mred\u202e")
	k.Occurrences = []Occurrence{
		{Commit: strings.Repeat("a", 40), Path: "evil\x1b]0;title\x07/line\nbreak [x](http://evil.example) <b>bold</b> `tick` " + other + ".env", Line: 1, Column: 1},
		{Commit: strings.Repeat("b", 40), Path: "bad\xff\xfeutf8", Line: 1, Column: 1},
	}
	facts.Refs = []Ref{
		{Name: "refs/heads/main", Hash: strings.Repeat("1", 40), Contains: []string{strings.Repeat("a", 40)}},
		{Name: "refs/remotes/up/it's-$(rm -rf ~)", Hash: strings.Repeat("2", 40), Contains: []string{strings.Repeat("a", 40)}},
		{Name: "refs/remotes/r" + other + "/main", Hash: strings.Repeat("3", 40), Contains: []string{strings.Repeat("a", 40)}},
	}
	facts.Remotes = []Remote{
		{Name: "up", FetchURL: "https://ada:hunter2@gitlab.example/x/y.git", PushURL: "https://ada:hunter2@gitlab.example/x/y.git"},
		// A remote named with a key: its work and check folders are named
		// after it (with its dots made underscores, it was printed whole).
		{Name: "r" + other, FetchURL: "https://gitlab.example/x/z.git"},
	}
	odd := filepath.Join(t.TempDir(), "plan\nx")
	if err := os.Mkdir(odd, 0o700); err != nil {
		t.Fatal(err)
	}
	p, err := BuildPlan(context.Background(), []Key{k}, facts, Options{PlanDir: odd})
	if err != nil {
		t.Fatal(err)
	}
	for format, s := range renderedPlans(t, p) {
		assertNoSecretIn(t, format, s, []Key{k, {Secret: other, Fingerprint: fingerprint(other)}})
		for _, bad := range []string{"\x1b", "\x07", "\u202e", "\xff", "hunter2", "\nbreak", "plan\nx"} {
			if strings.Contains(s, bad) {
				t.Errorf("%s: the plan holds %q", format, bad)
			}
		}
		for _, want := range []string{`\x1B`, `\u202E`, `\xFF`, "https://gitlab.example/x/y.git", "GitLab"} {
			if !strings.Contains(s, want) {
				t.Errorf("%s: the plan lacks %q", format, want)
			}
		}
		if format == FormatMarkdown {
			for _, bad := range []string{"[x](", "<b>", "`tick`"} {
				if strings.Contains(s, bad) {
					t.Errorf("markdown: %q is not escaped", bad)
				}
			}
		}
		if !strings.Contains(s, `$'`) || !strings.Contains(s, `'refs/heads/it'\''s-$(rm -rf ~)'`) {
			t.Errorf("%s: arguments are not quoted for a shell:\n%s", format, s)
		}
	}
	if err := p.Write(io.Discard, "html"); err == nil || !strings.Contains(err.Error(), "text or markdown") {
		t.Errorf("unknown format: %v", err)
	}
}

func TestShellWordRoundTripsThroughAShell(t *testing.T) {
	for _, arg := range []string{"plain", "", "it's", "a b", "$(x)`y`", "tab\there", "nl\nx", "ctl\x01", "bad\xff", "back\\slash'"} {
		if got := shellWord(arg); strings.ContainsAny(got, "\n\t\x01\xff") {
			t.Errorf("shellWord(%q) = %q holds a raw control byte", arg, got)
		}
	}
	// A byte escaped before a key without its "e" must not write that "e"
	// (lower-case hex would: "\x0e" + "yJhbGci...").
	secret, _ := testKey("no-e")
	if got := shellWord("\x0e" + secret[1:]); finding.RedactText(got) != got {
		t.Errorf("shellWord escaped a byte into a token's start: %q", got)
	}
	// The oracle: bash reads each word back as the argument.
	args := []string{"plain", "it's", "a b", "$(x)`y`", "tab\there", "nl\nx", "ctl\x01", "bad\xff", "back\\slash'",
		"bidi\u202egpj.exe", "tag\U000E0041", "zw\u200bsp"}
	var words []string
	for _, a := range args {
		words = append(words, shellWord(a))
	}
	// In the locale of the test and in the C locale (a container, cron, a
	// CI image without LANG), where bash leaves \u202E undecoded.
	for _, locale := range []string{"", "C"} {
		cmd := exec.Command("bash", "-c", `printf '%s\0' `+strings.Join(words, " "))
		if locale != "" {
			cmd.Env = append(os.Environ(), "LC_ALL="+locale)
		}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("bash: %v", err)
		}
		if got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00"); strings.Join(got, "|") != strings.Join(args, "|") {
			t.Errorf("bash (LC_ALL=%s) read back %q, want %q", locale, got, args)
		}
	}
}

func TestSelectKeys(t *testing.T) {
	a, b := plainKey("a"), plainKey("b")
	keys := []Key{a, b}
	got, err := SelectKeys(keys, []string{strings.ToUpper(b.Fingerprint[:8])})
	if err != nil || len(got) != 1 || got[0].Fingerprint != b.Fingerprint {
		t.Errorf("select b: %v %v", got, err)
	}
	for _, bad := range []string{"abc", "zzzzzzzz", strings.Repeat("0", 12)} {
		if _, err := SelectKeys(keys, []string{bad}); err == nil {
			t.Errorf("prefix %q: no error", bad)
		}
	}
	same := a
	same.Fingerprint = a.Fingerprint[:10] + strings.Repeat("0", 54)
	if _, err := SelectKeys([]Key{a, same}, []string{a.Fingerprint[:8]}); err == nil || !strings.Contains(err.Error(), "matches 2") {
		t.Errorf("ambiguous prefix: %v", err)
	}
}

func TestReportFingerprints(t *testing.T) {
	a, b := plainKey("a"), plainKey("b")
	rep := `{"findings":[{"fingerprint":"` + a.Fingerprint + `"},{"fingerprint":"` + b.Fingerprint + `"},{"fingerprint":"` + a.Fingerprint + `"}],"stats":{}}`
	got, err := ReportFingerprints(strings.NewReader(rep))
	if err != nil || strings.Join(got, " ") != a.Fingerprint+" "+b.Fingerprint {
		t.Errorf("got %v %v", got, err)
	}
	for _, bad := range []string{`{}`, `[1]`, `{"findings":[{"fingerprint":"x"}]}`, `not json`} {
		if _, err := ReportFingerprints(strings.NewReader(bad)); err == nil {
			t.Errorf("report %s: no error", bad)
		}
	}
}

func runBash(t *testing.T, script string) string {
	t.Helper()
	out, err := exec.Command("bash", "-c", script).Output()
	if err != nil {
		t.Fatalf("bash: %v", err)
	}
	return string(out)
}

func TestResolveURL(t *testing.T) {
	for u, want := range map[string]string{
		"../origin.git":                    "/r/origin.git",
		"sub/x.git":                        "/r/repo/sub/x.git",
		"./odd:name/x.git":                 "/r/repo/odd:name/x.git",
		"/abs/x.git":                       "/abs/x.git",
		"https://host/x.git":               "https://host/x.git",
		"file:///srv/x.git":                "file:///srv/x.git",
		"git@github.com:org/x.git":         "git@github.com:org/x.git",
		"host:x.git":                       "host:x.git",
		"ssh://git@host:2222/org/repo.git": "ssh://git@host:2222/org/repo.git",
	} {
		if got := resolveURL(u, "/r/repo"); got != want {
			t.Errorf("resolveURL(%q) = %q, want %q", u, got, want)
		}
	}
}

// A key in a ref the plan does not push (notes, a custom ref: only branches
// and tags are pushed) stayed on the remotes that have it, and the plan did
// not say so; it names each such ref and what to do. Local-only refs (the
// stash, replace refs) are rewritten in place and need nothing more.
func TestPlanNamesRefsItDoesNotPush(t *testing.T) {
	facts := fakeRepo(t)
	k := plainKey("other-refs")
	in := []string{strings.Repeat("a", 40)}
	facts.Refs = []Ref{
		{Name: "refs/heads/main", Hash: strings.Repeat("1", 40), Contains: in},
		{Name: "refs/notes/commits", Hash: strings.Repeat("2", 40), Contains: in},
		{Name: "refs/keep/ci-1", Hash: strings.Repeat("3", 40), Contains: in},
		{Name: "refs/stash", Hash: strings.Repeat("4", 40), Contains: in},
		{Name: "refs/replace/" + strings.Repeat("5", 40), Hash: strings.Repeat("6", 40), Contains: in},
	}
	p, err := BuildPlan(context.Background(), []Key{k}, facts, Options{PlanDir: t.TempDir(), Blobs: noBlobs{}})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(p.Unreachable, "\n")
	for _, ref := range []string{"refs/notes/commits", "refs/keep/ci-1"} {
		if !strings.Contains(all, "Ref "+ref+" holds a key, and no push above sends it") || !strings.Contains(all, "git push --force REMOTE "+ref) {
			t.Errorf("the plan does not say what to do about %s:\n%s", ref, all)
		}
	}
	for _, ref := range []string{"Ref refs/stash", "Ref refs/replace/"} {
		if strings.Contains(all, ref) {
			t.Errorf("the plan asks to push a local-only ref (%s):\n%s", ref, all)
		}
	}
}

// The commands the plan suggests for a ref it does not push name the ref
// quoted, as its other commands do: a ref name may hold $(...), backticks,
// semicolons and quotes (git allows them), and pasted unquoted, the
// suggested push ran what the name held.
func TestPlanQuotesTheRefsItDoesNotPush(t *testing.T) {
	facts := fakeRepo(t)
	k := plainKey("odd-refs")
	in := []string{strings.Repeat("a", 40)}
	names := []string{"refs/custom/$(touch${IFS}pwned)", "refs/notes/x'$(touch${IFS}pwned)'", "refs/keep/`touch${IFS}pwned`;touch${IFS}pwned"}
	for i, n := range names {
		facts.Refs = append(facts.Refs, Ref{Name: n, Hash: strings.Repeat(string(rune('1'+i)), 40), Contains: in})
	}
	p, err := BuildPlan(context.Background(), []Key{k}, facts, Options{PlanDir: t.TempDir(), Blobs: noBlobs{}})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := p.Write(&out, FormatText); err != nil {
		t.Fatal(err)
	}
	cwd := t.TempDir()
	for _, n := range names {
		_, rest, ok := strings.Cut(out.String(), "- Ref "+n+" holds a key")
		if !ok {
			t.Fatalf("the plan does not name %s:\n%s", n, out.String())
		}
		rest, _, _ = strings.Cut(rest, "\n")
		for _, cmd := range []struct{ before, after, want string }{
			{"(git push --force REMOTE ", ") or delete it (", n},
			{"(git push REMOTE ", "), REMOTE being", ":" + n},
		} {
			_, word, _ := strings.Cut(rest, cmd.before)
			word, _, _ = strings.Cut(word, cmd.after)
			// As a person pastes it: the shell reads the word back as the
			// ref's name, and runs nothing.
			sh := exec.Command("bash", "-c", "printf '%s\\0' "+word)
			sh.Dir = cwd
			got, err := sh.Output()
			if err != nil || string(got) != cmd.want+"\x00" {
				t.Errorf("%s: the shell reads %q as %q (%v), want %q", n, word, got, err, cmd.want)
			}
		}
	}
	if entries, _ := os.ReadDir(cwd); len(entries) > 0 {
		t.Errorf("pasting the suggested commands ran what the ref names hold: %s made", entries[0].Name())
	}
}

// renderedPlans is p written in each format, by format.
func renderedPlans(t testing.TB, p *Plan) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, format := range Formats() {
		var b bytes.Buffer
		if err := p.Write(&b, format); err != nil {
			t.Fatal(err)
		}
		out[format] = b.String()
	}
	return out
}

// The message callback, run by Python as filter-repo runs it (a function
// body), sets the bits of the character after a replaced base64 form, on
// the same line or the next when base64 goes on there, and leaves the
// rest as it was: a form at the end of the data, before padding or a
// quote, and a form cut short at a line's end before a line of text (the
// next line's first letter was rewritten).
func TestMessageCallbackSetsOnlyTheCutCharacter(t *testing.T) {
	requireFilterRepo(t) // and so Python
	secret, fp := testKey("callback")
	cuts := keyCuts(secret, fp)
	var c cut
	for _, k := range cuts {
		if k.bits == 4 {
			c = k
		}
	}
	if c.new == nil {
		t.Fatalf("no cut of 4 bits among %d", len(cuts))
	}
	// The character after the form as the key's base64 has it: its high 4
	// bits the key's last, its low 2 the text's (01 here); the callback
	// gives it the replacement's high bits and keeps the low ones.
	high := -1
	for _, f := range keyForms(secret, fp) {
		if bytes.Equal(f.new, c.new) {
			high = int(f.oldLast) & 0b1111 << 2
		}
	}
	if high < 0 || high == c.repHigh {
		t.Fatalf("the key's bits there %d, the replacement's %d: the case tests nothing", high, c.repHigh)
	}
	keyChar := b64Std[high|0b01]
	repChar := b64Std[c.repHigh|0b01]
	core := string(c.new)
	cases := map[string]string{
		core + string(keyChar) + "RhaWw=\n":             core + string(repChar) + "RhaWw=\n",
		core + "\n" + string(keyChar) + "RhaWw=\n":      core + "\n" + string(repChar) + "RhaWw=\n",
		core + "\r\n" + string(keyChar) + "RhaWw==\r\n": core + "\r\n" + string(repChar) + "RhaWw==\r\n",
		"preview: " + core + "\nMORE=1\n":               "preview: " + core + "\nMORE=1\n",
		"preview: " + core + "\r\nHello, world\r\n":     "preview: " + core + "\r\nHello, world\r\n",
		core:               core,
		core + "==":        core + "==",
		core + `"x`:        core + `"x`,
		"no base64 here\n": "no base64 here\n",
	}
	script := "def callback(message):\n"
	for _, l := range strings.Split(string(messageCallback(cuts)), "\n") {
		script += "  " + l + "\n"
	}
	script += "import sys\ndata = sys.stdin.buffer.read().split(b'\\0')\nsys.stdout.buffer.write(b'\\0'.join(callback(d) for d in data))\n"
	var in []string
	var want []string
	for k, v := range cases {
		in, want = append(in, k), append(want, v)
	}
	cmd := exec.Command("python3", "-c", script)
	cmd.Stdin = strings.NewReader(strings.Join(in, "\x00"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	for i, got := range strings.Split(string(out), "\x00") {
		if got != want[i] {
			t.Errorf("%q\n  became %q\n  want   %q", in[i], got, want[i])
		}
	}
}
