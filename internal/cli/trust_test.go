package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/config"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
	"github.com/spf13/cobra"
)

// The tests of this file are the ways a change could switch the scan off
// that issue 10 lists: each change adds a key together with a settings
// file that would hide it, and the scan of the change must still report the
// key and name the settings file it edits. And the other side: the settings
// the base already has keep working.

// trustReport is what these tests read of a JSON report.
type trustReport struct {
	Findings []struct {
		Path       string `json:"path"`
		Suppressed string `json:"suppressed"`
	} `json:"findings"`
	Stats struct {
		Files      int `json:"files"`
		Findings   int `json:"findings"`
		Suppressed int `json:"suppressed"`
	} `json:"stats"`
	Notices []struct {
		Kind    string `json:"kind"`
		Path    string `json:"path"`
		Message string `json:"message"`
	} `json:"notices"`
}

func parseTrust(t *testing.T, stdout string) trustReport {
	t.Helper()
	var rep trustReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("not a JSON report: %v\n%s", err, stdout)
	}
	return rep
}

// paths lists the paths of the findings that count.
func (r trustReport) counted() []string {
	var out []string
	for _, f := range r.Findings {
		if f.Suppressed == "" {
			out = append(out, f.Path)
		}
	}
	return out
}

// changed lists the settings files the notices say the change edits.
func (r trustReport) changed() []string {
	var out []string
	for _, n := range r.Notices {
		if n.Kind == finding.NoticeSettingsChanged {
			out = append(out, n.Path)
		}
	}
	return out
}

// changeRepo is a repository whose main branch is the base; base returns
// its commit. The test then commits the change on top.
func changeRepo(t *testing.T, files map[string]string) (*testgit.Repo, string) {
	t.Helper()
	r := testgit.New(t, "")
	r.Write("README", "app\n")
	for name, content := range files {
		r.Write(name, content)
	}
	return r, r.Commit("base")
}

// TestRangeBypasses: a pull request adds a key and, with it, each way to
// hide it that the work tree or the change's own commits could offer. The
// range scan reports the key, exits 1, and lists the settings the change
// edits.
func TestRangeBypasses(t *testing.T) {
	t.Parallel()
	key := gitKey("pull-request")
	fp := fingerprint(key)
	tests := []struct {
		name    string
		base    map[string]string // the base's files besides README
		change  map[string]string // what the change commits besides the key
		dirty   map[string]string // written to the work tree after the commit, never committed
		args    []string          // more flags; {{repo}} is the repository's folder
		changed []string          // the settings files the notices must name
	}{
		{name: "ignore entry with the key's fingerprint",
			change:  map[string]string{".loftyscanignore": fp + " # test fixture\n"},
			changed: []string{".loftyscanignore"}},
		{name: "ignore entry edited into the base's file",
			base:    map[string]string{".loftyscanignore": strings.Repeat("0", 64) + " # an old one\n"},
			change:  map[string]string{".loftyscanignore": strings.Repeat("0", 64) + " # an old one\n" + fp + "\n"},
			changed: []string{".loftyscanignore"}},
		{name: "uncommitted ignore file",
			dirty: map[string]string{".loftyscanignore": fp + "\n"}},
		{name: "uncommitted configuration",
			dirty: map[string]string{".loftyscan.toml": "skip = [\"**\"]\n"}},
		{name: "skip everything",
			change:  map[string]string{".loftyscan.toml": "skip = [\"**\"]\n"},
			changed: []string{".loftyscan.toml"}},
		{name: "skip the key's folder",
			base:    map[string]string{".loftyscan.toml": "skip = [\"vendor/\"]\n"},
			change:  map[string]string{".loftyscan.toml": "skip = [\"vendor/\", \"app/\"]\n"},
			changed: []string{".loftyscan.toml"}},
		{name: "scopes that confirm nothing",
			change:  map[string]string{".loftyscan.toml": "scopes = [\"nothing\"]\n"},
			changed: []string{".loftyscan.toml"}},
		{name: "archive caps raised to 2^62",
			change:  map[string]string{".loftyscan.toml": "[archives]\nentry_bytes = 4611686018427387904\ntotal_bytes = 4611686018427387904\nratio = 0\n"},
			changed: []string{".loftyscan.toml"}},
		{name: "baseline the CI names, added by the change",
			change:  map[string]string{"ci/baseline.json": `{"findings": [{"fingerprint": "` + fp + `"}]}`},
			args:    []string{"--baseline", "{{repo}}/ci/baseline.json"},
			changed: []string{"ci/baseline.json"}},
		{name: "baseline the CI names, edited by the change",
			base:    map[string]string{"ci/baseline.json": `{"findings": []}`},
			change:  map[string]string{"ci/baseline.json": `{"findings": [{"fingerprint": "` + fp + `"}]}`},
			args:    []string{"--baseline", "{{repo}}/ci/baseline.json"},
			changed: []string{"ci/baseline.json"}},
		{name: "configuration the CI names, edited by the change",
			base:    map[string]string{"ci/loftyscan.toml": "skip = [\"vendor/\"]\n"},
			change:  map[string]string{"ci/loftyscan.toml": "skip = [\"*\"]\n"},
			args:    []string{"--config", "{{repo}}/ci/loftyscan.toml"},
			changed: []string{"ci/loftyscan.toml"}},
		{name: "ignore file the CI names, uncommitted",
			base:  map[string]string{"ci/ignore": strings.Repeat("1", 64) + "\n"},
			dirty: map[string]string{"ci/ignore": fp + "\n"},
			args:  []string{"--ignore-file", "{{repo}}/ci/ignore"}},
		{name: "a baseline file in the change that no flag names",
			change: map[string]string{".loftyscan-baseline.json": `{"findings": [{"fingerprint": "` + fp + `"}]}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, base := changeRepo(t, tt.base)
			r.Write("app/settings.env", "LOFTY_API_KEY="+key+"\n")
			for name, content := range tt.change {
				r.Write(name, content)
			}
			head := r.Commit("add the key")
			for name, content := range tt.dirty {
				r.Write(name, content)
			}
			args := []string{"git", "--range", base + ".." + head, "--format", "json", r.Dir}
			for _, a := range tt.args {
				args = append(args, strings.ReplaceAll(a, "{{repo}}", r.Dir))
			}
			code, stdout, stderr := runGit(t, nil, "", args...)
			if code != 1 {
				t.Fatalf("exit %d, want 1: the key passed\nstderr: %s\nstdout: %s", code, stderr, stdout)
			}
			rep := parseTrust(t, stdout)
			if got := strings.Join(rep.counted(), " "); got != "app/settings.env" {
				t.Errorf("findings %q, want app/settings.env", got)
			}
			if got, want := strings.Join(rep.changed(), " "), strings.Join(tt.changed, " "); got != want {
				t.Errorf("settings notices %q, want %q\n%s", got, want, stdout)
			}
			for _, p := range tt.changed {
				if !strings.Contains(stderr, "loftyscan: warning: the scanned change ") || !strings.Contains(stderr, p) {
					t.Errorf("no warning that the change edits %s:\n%s", p, stderr)
				}
			}
			// The same in the other formats a CI uploads.
			for _, format := range []string{"sarif", "gitlab", "junit", "terminal"} {
				code, out, _ := runGit(t, nil, "", append(args, "--format", format)...)
				if code != 1 || !strings.Contains(out, "app/settings.env") {
					t.Errorf("--format %s: exit %d, want 1 and the key's file:\n%s", format, code, out)
				}
				for _, p := range tt.changed {
					if !strings.Contains(out, "the scanned change") || !strings.Contains(out, p) {
						t.Errorf("--format %s does not say the change edits %s:\n%s", format, p, out)
					}
				}
			}
		})
	}
}

// TestRangeBaseSettingsApply: what the base already has keeps working in
// a range scan: its skip list, its ignore entries, its scopes, and files
// the flags name inside the repository.
func TestRangeBaseSettingsApply(t *testing.T) {
	t.Parallel()
	fixture, vendored, other := gitKey("fixture"), gitKey("vendored"), gitKey("other-scope")
	r, base := changeRepo(t, map[string]string{
		".loftyscan.toml":  "skip = [\"vendor/\"]\nscopes = [\"THIRD_PARTY_OPERATION\"]\n",
		".loftyscanignore": "# the test suite's synthetic key\n" + fingerprint(fixture) + " testdata/**\n",
		"ci/ignore":        fingerprint(other) + " # accepted by the CI's own list\n",
	})
	r.Write("testdata/keys.env", "LOFTY_API_KEY="+fixture+"\n")
	r.Write("vendor/lib/conf.env", "LOFTY_API_KEY="+vendored+"\n")
	head := r.Commit("fixtures and a vendored file")

	code, stdout, stderr := runGit(t, nil, "", "git", "--range", base+".."+head, "--format", "json", "--show-suppressed", r.Dir)
	if code != 0 {
		t.Fatalf("exit %d, want 0: the base's skip list and ignore entry do not apply\n%s\n%s", code, stderr, stdout)
	}
	rep := parseTrust(t, stdout)
	if len(rep.Findings) != 1 || !strings.HasPrefix(rep.Findings[0].Suppressed, base[:7]+":.loftyscanignore:2: the test suite's synthetic key") {
		t.Errorf("findings %+v, want the fixture suppressed by the base's ignore file", rep.Findings)
	}
	if len(rep.Notices) != 0 {
		t.Errorf("notices %+v for a change that edits no settings", rep.Notices)
	}

	// A file the CI names inside the repository: the base's version.
	r.Write("app/other.env", "LOFTY_API_KEY="+other+"\n")
	head2 := r.Commit("another key")
	code, _, stderr = runGit(t, nil, "", "git", "--range", base+".."+head2, "--ignore-file", filepath.Join(r.Dir, "ci", "ignore"), r.Dir)
	if code != 1 || !strings.Contains(stderr, "") {
		t.Errorf("--ignore-file replaces .loftyscanignore: exit %d, want 1 (the fixture counts now)\n%s", code, stderr)
	}
	code, stdout, stderr = runGit(t, nil, "", "git", "--range", head+".."+head2, "--ignore-file", filepath.Join(r.Dir, "ci", "ignore"), "--format", "json", "--show-suppressed", r.Dir)
	if code != 0 {
		t.Fatalf("exit %d, want 0: the base's ci/ignore accepts the key\n%s\n%s", code, stderr, stdout)
	}
	if rep := parseTrust(t, stdout); len(rep.Findings) != 1 || !strings.HasPrefix(rep.Findings[0].Suppressed, head[:7]+":ci/ignore:1") {
		t.Errorf("findings %+v", rep.Findings)
	}
	// --ignore-file none: nothing accepted, whatever the base says.
	if code, _, _ := runGit(t, nil, "", "git", "--range", base+".."+head, "--ignore-file", "none", r.Dir); code != 1 {
		t.Errorf("--ignore-file none: exit %d, want 1", code)
	}
	// A file outside the repository is the person running the scan's: read from disk.
	outside := filepath.Join(t.TempDir(), "ignore")
	if err := os.WriteFile(outside, []byte(fingerprint(fixture)+"\n"+fingerprint(other)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runGit(t, nil, "", "git", "--range", base+".."+head2, "--ignore-file", outside, r.Dir); code != 0 {
		t.Errorf("--ignore-file outside the repository: exit %d, want 0\n%s", code, stderr)
	}
}

// TestInlineAllowInChange: an inline allow the change adds still
// suppresses, but is listed as such in the report; --no-inline-allow makes
// it count. In a scan of a whole history it is an ordinary suppression.
func TestInlineAllowInChange(t *testing.T) {
	t.Parallel()
	r, base := changeRepo(t, nil)
	r.Write("test/fixture.env", "LOFTY_API_KEY="+gitKey("fixture")+" # loftyscan:allow synthetic\n")
	head := r.Commit("a fixture")

	code, stdout, stderr := runGit(t, nil, "", "git", "--range", base+".."+head, "--format", "json", r.Dir)
	if code != 0 {
		t.Fatalf("exit %d, want 0: an inline allow still suppresses\n%s", code, stderr)
	}
	rep := parseTrust(t, stdout)
	if len(rep.Findings) != 1 || rep.Findings[0].Suppressed != finding.SuppressedInlineInChange || rep.Stats.Suppressed != 1 {
		t.Errorf("findings %+v stats %+v, want the fixture listed as allowed by the change (without --show-suppressed)", rep.Findings, rep.Stats)
	}
	_, out, _ := runGit(t, nil, "", "git", "--range", base+".."+head, r.Dir)
	out = strings.Join(strings.Fields(out), " ") // the terminal wraps at 80 columns
	if !strings.Contains(out, "ALLOWED BY THE SCANNED CHANGE (1)") || !strings.Contains(out, "1 key the change adds is allowed inline") {
		t.Errorf("terminal report:\n%s", out)
	}
	_, out, _ = runGit(t, nil, "", "git", "--range", base+".."+head, "--format", "sarif", r.Dir)
	if !strings.Contains(out, `"justification": "inline loftyscan:allow, added by the scanned change"`) {
		t.Errorf("SARIF:\n%s", out)
	}

	if code, _, _ := runGit(t, nil, "", "git", "--range", base+".."+head, "--no-inline-allow", r.Dir); code != 1 {
		t.Errorf("--no-inline-allow: exit %d, want 1", code)
	}
	// A scan of the whole history: an allow that is already there.
	code, stdout, _ = runGit(t, nil, "", "git", "--format", "json", "--show-suppressed", r.Dir)
	if rep := parseTrust(t, stdout); code != 0 || len(rep.Findings) != 1 || rep.Findings[0].Suppressed != finding.SuppressedInline {
		t.Errorf("history scan: exit %d, findings %+v", code, rep.Findings)
	}
	if code, _, _ := runGit(t, nil, "", "git", "--no-inline-allow", r.Dir); code != 1 {
		t.Errorf("history scan with --no-inline-allow: exit %d, want 1", code)
	}
}

// TestPrePushBypass: a push that adds a key and an ignore entry for it is
// blocked; the settings are the remote's commit before the push, and for a
// new branch the remote's default branch.
func TestPrePushBypass(t *testing.T) {
	t.Parallel()
	key := gitKey("pushed")
	origin := testgit.New(t, filepath.Join(t.TempDir(), "origin.git"), "--bare")
	r, base := changeRepo(t, map[string]string{".loftyscan.toml": "skip = [\"vendor/\"]\n"})
	r.Git("remote", "add", "origin", origin.Dir)
	r.Git("push", "-q", "origin", "main")
	r.Git("remote", "set-head", "origin", "main")
	r.Write("app/key.env", "LOFTY_API_KEY="+key+"\n")
	r.Write(".loftyscanignore", fingerprint(key)+"\n")
	r.Write("vendor/x.env", "LOFTY_API_KEY="+gitKey("vendored")+"\n")
	head := r.Commit("add a key and hide it")

	for name, stdin := range map[string]string{
		"existing branch": "refs/heads/main " + head + " refs/heads/main " + base + "\n",
		"new branch":      "refs/heads/topic " + head + " refs/heads/topic " + strings.Repeat("0", 40) + "\n",
	} {
		code, stdout, stderr := runGit(t, nil, stdin, "git", "--pre-push", "--format", "json", r.Dir)
		if code != 1 {
			t.Fatalf("%s: exit %d, want 1\n%s\n%s", name, code, stderr, stdout)
		}
		rep := parseTrust(t, stdout)
		if got := strings.Join(rep.counted(), " "); got != "app/key.env" {
			t.Errorf("%s: findings %q, want app/key.env only (vendor/ is skipped by the remote's settings)", name, got)
		}
		if got := strings.Join(rep.changed(), " "); got != ".loftyscanignore" {
			t.Errorf("%s: settings notices %q", name, got)
		}
	}
}

// TestStagedBypass: a commit that stages a key and an ignore entry for it
// is refused by the pre-commit check, which reads the settings from HEAD
// and compares the index's.
func TestStagedBypass(t *testing.T) {
	t.Parallel()
	key := gitKey("staged-hidden")
	r, _ := changeRepo(t, nil)
	r.Write("app/key.env", "LOFTY_API_KEY="+key+"\n")
	r.Write(".loftyscanignore", fingerprint(key)+"\n")
	r.Git("add", "-A")
	code, stdout, stderr := runGit(t, nil, "", "git", "--staged", "--format", "json", r.Dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, stderr, stdout)
	}
	rep := parseTrust(t, stdout)
	if got := strings.Join(rep.changed(), " "); got != ".loftyscanignore" || !strings.Contains(rep.Notices[0].Message, "(the index)") {
		t.Errorf("notices %+v", rep.Notices)
	}
	// Once the ignore entry is committed, on its own, it applies.
	r.Git("reset", "-q", "app/key.env")
	r.Commit("accept the key")
	r.Git("add", "app/key.env")
	if code, _, stderr := runGit(t, nil, "", "git", "--staged", r.Dir); code != 0 {
		t.Errorf("with HEAD's ignore entry: exit %d, want 0\n%s", code, stderr)
	}
}

// TestSettingsFrom: a scan without a base (--ref) reads the work tree,
// which in CI is the pushed commit; --settings-from names a trusted commit
// instead, and none reads nothing.
func TestSettingsFrom(t *testing.T) {
	t.Parallel()
	key := gitKey("new-branch")
	r, base := changeRepo(t, map[string]string{".loftyscan.toml": "skip = [\"vendor/\"]\n"})
	r.Git("checkout", "-q", "-b", "topic")
	r.Write("vendor/x.env", "LOFTY_API_KEY="+gitKey("vendored")+"\n")
	r.Write("app/key.env", "LOFTY_API_KEY="+key+"\n")
	r.Write(".loftyscanignore", fingerprint(key)+"\n")
	head := r.Commit("new branch")

	// The work tree: the pushed commit's own settings apply.
	if code, _, _ := runGit(t, nil, "", "git", "--ref", head, r.Dir); code != 0 {
		t.Errorf("--ref, settings from the work tree: exit %d, want 0", code)
	}
	code, stdout, stderr := runGit(t, nil, "", "git", "--ref", head, "--settings-from", "main", "--format", "json", r.Dir)
	if code != 1 {
		t.Fatalf("--settings-from main: exit %d, want 1\n%s", code, stderr)
	}
	rep := parseTrust(t, stdout)
	if got := strings.Join(rep.counted(), " "); got != "app/key.env" {
		t.Errorf("--settings-from main: findings %q, want app/key.env (vendor/ skipped by main's settings)", got)
	}
	if got := strings.Join(rep.changed(), " "); got != ".loftyscanignore" || !strings.Contains(rep.Notices[0].Message, "commit "+base[:7]+" (--settings-from main)") {
		t.Errorf("notices %+v", rep.Notices)
	}
	code, stdout, _ = runGit(t, nil, "", "git", "--ref", head, "--settings-from", "none", "--format", "json", r.Dir)
	if got := strings.Join(parseTrust(t, stdout).counted(), " "); code != 1 || got != "app/key.env vendor/x.env" {
		t.Errorf("--settings-from none: exit %d, findings %q", code, got)
	}
	if code, _, stderr := runGit(t, nil, "", "git", "--ref", head, "--settings-from", "nosuchbranch", r.Dir); code != 2 || !strings.Contains(stderr, "unknown revision") {
		t.Errorf("--settings-from nosuchbranch: exit %d\n%s", code, stderr)
	}
}

// TestSkipEverythingIsLoud: a skip list that skips every path says so, in
// the log and in the report, whoever set it.
func TestSkipEverythingIsLoud(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.env"), []byte("LOFTY_API_KEY="+gitKey("skipped")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runGit(t, nil, "", "dir", "--skip", "**", "--format", "json", dir)
	rep := parseTrust(t, stdout)
	if code != 0 || rep.Stats.Files != 0 || len(rep.Notices) != 1 || rep.Notices[0].Kind != finding.NoticeSkipEverything {
		t.Errorf("exit %d, report %+v", code, rep)
	}
	if !strings.Contains(stderr, "NOTHING WILL BE SCANNED: the skip list from --skip skips every path") {
		t.Errorf("stderr: %s", stderr)
	}
}

// TestFileCapsCeilings: caps from a settings file can lower the limits and
// raise them up to the ceilings, never further; flags can, within their
// range.
func TestFileCapsCeilings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, ".loftyscan.toml")
	write := func(s string) {
		if err := os.WriteFile(cfg, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	load := func(args ...string) (scanner.Options, *settings) {
		t.Helper()
		cmd := &cobra.Command{Use: "dir"}
		var sf scanFlags
		sf.register(cmd, true)
		if err := cmd.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		st, err := loadSettings(dirSettings(dir, "the scanned folder"), &sf, &triageFlags{})
		if err != nil {
			t.Fatal(err)
		}
		opts, err := sf.options(st)
		if err != nil {
			t.Fatal(err)
		}
		return opts, st
	}

	write("[archives]\nentry_bytes = 4611686018427387904\ntotal_bytes = \"8GiB\"\nratio = 0\nentries = 2000000000\n")
	opts, st := load()
	l := opts.Limits
	if l.EntryBytes != config.CeilingEntryBytes || l.TotalBytes != config.CeilingTotalBytes || l.Ratio != config.CeilingRatio || l.Entries != config.CeilingEntries {
		t.Errorf("limits %+v, want the ceilings", l)
	}
	if len(st.warnings) != 4 || !strings.Contains(st.warnings[2], "archives.ratio = 0 (no check) is above what a settings file may set: using 1000 (only --max-ratio goes further)") {
		t.Errorf("warnings %q", st.warnings)
	}

	write("[archives]\nentry_bytes = \"1MiB\"\nratio = 50\n")
	if l, st := load(); l.Limits.EntryBytes != 1<<20 || l.Limits.Ratio != 50 || len(st.warnings) != 0 {
		t.Errorf("lowered: limits %+v, warnings %q", l.Limits, st.warnings)
	}
	write("[archives]\nentry_bytes = \"1GiB\"\n")
	if l, _ := load(); l.Limits.EntryBytes != 1<<30 {
		t.Errorf("raised to the ceiling: %+v", l.Limits)
	}

	// Flags go past the ceilings.
	write("[archives]\nratio = 10\n")
	if l, _ := load("--max-entry-bytes", "8GiB", "--max-ratio", "0"); l.Limits.EntryBytes != 8<<30 || l.Limits.Ratio != 0 {
		t.Errorf("flags: %+v", l.Limits)
	}
	// Within their range.
	for _, args := range [][]string{{"--max-entry-bytes", "2TiB"}, {"--max-total-bytes", "4611686018427387904"}, {"--max-ratio", "99999999999"}, {"--max-entries", "99999999999"}} {
		code, _, stderr := runGit(t, nil, "", append([]string{"dir", dir}, args...)...)
		if code != 2 || !strings.Contains(stderr, args[0]) {
			t.Errorf("%v: exit %d\n%s", args, code, stderr)
		}
	}
}

// TestNoInlineAllowPastFindingsCap: with --no-inline-allow an inline allow
// suppresses nothing, and the scan's findings cap knows it: a key on an
// allow-marked line met past the scan's 20,000 findings (here, places of a
// key the ignore file accepts) was dropped as if suppressed, and the scan
// exited 0 without it. A pre-receive hook, where an allow in a pushed file
// counts for nothing, sets the same.
func TestNoInlineAllowPastFindingsCap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	accepted, key := gitKey("accepted-fixture"), gitKey("allowed-inline")
	var lines strings.Builder
	for range 100 { // a file gives at most 100 places of a key
		lines.WriteString("LOFTY_API_KEY=" + accepted + "\n")
	}
	for _, d := range []string{"a", "z"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 200 {
		if err := os.WriteFile(filepath.Join(dir, "a", fmt.Sprintf("f%03d.env", i)), []byte(fmt.Sprintf("# %d\n", i)+lines.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "z", "k.env"), []byte("LOFTY_API_KEY="+key+" # loftyscan:allow\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ignore := filepath.Join(t.TempDir(), "ignore")
	if err := os.WriteFile(ignore, []byte(fingerprint(accepted)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// One worker: the walk reads a/ before z/.
	code, stdout, stderr := runGit(t, nil, "", "dir", "-j", "1", "--no-inline-allow", "--ignore-file", ignore, "--format", "json", dir)
	if code != 1 || !strings.Contains(stdout, `"path": "z/k.env"`) {
		t.Errorf("exit %d, want 1 with the key of z/k.env reported\n%s", code, stderr)
	}
}
