package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
)

// TestCommonMistakes: what a newcomer or a CI engineer types wrong gets exit
// 2, one error line that says what happened and a hint that says what to do,
// in words: no parser's own error (strconv, time), no multi-line cobra text
// escaped onto one line, no temporary file's name, no hint about another
// command. A command that only groups others (baseline, completion) must
// fail when mistyped: its help and exit 0 would pass a CI step that did
// nothing.
func TestCommonMistakes(t *testing.T) {
	t.Parallel()
	dir, _ := keyTree(t)
	notRepo := t.TempDir()
	missing := filepath.Join(t.TempDir(), "reports", "out")
	bare := testgit.New(t, "", "--bare").Dir
	// A bare repository whose HEAD names a commit it does not have: the
	// scan's settings come from HEAD, and the error named nothing.
	badHead := testgit.New(t, "", "--bare")
	badHead.Git("symbolic-ref", "HEAD", "refs/heads/main")
	if err := os.WriteFile(filepath.Join(badHead.Dir, "refs", "heads", "main"), []byte(strings.Repeat("12", 20)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := testgit.New(t, "")
	plan.Write("app.env", "LOFTY_API_KEY="+gitKey("plan")+"\n")
	plan.Commit("init")
	planRepo := plan.Dir
	plans := t.TempDir() // must stay empty: a plan not delivered leaves no key behind
	t.Cleanup(func() {
		if left, _ := os.ReadDir(plans); len(left) > 0 {
			t.Errorf("a remediate run that wrote no plan left %d entries in --plan-dir, the first %s", len(left), left[0].Name())
		}
	})
	folder := t.TempDir()
	aFile := filepath.Join(t.TempDir(), "app.env")
	if err := os.WriteFile(aFile, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		args  []string
		error string // in the error line
		hint  string // in the hint line
	}{
		{"bare repository whose HEAD cannot be read", []string{"git", badHead.Dir}, "cannot read HEAD (refs/heads/main, commit " + strings.Repeat("12", 20) + "): object not found", "--settings-from none"},
		{"mistyped command", []string{"dri", dir}, `unknown command "dri" for 'loftyscan'`, "did you mean 'loftyscan dir'?"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`, "run 'loftyscan --help' for its commands"},
		{"help of a mistyped command", []string{"help", "dri"}, `unknown command "dri" for 'loftyscan'`, "did you mean 'loftyscan dir'?"},
		{"help of a mistyped command, more words", []string{"help", "dri", "x"}, `unknown command "dri" for 'loftyscan'`, "did you mean 'loftyscan dir'?"},
		{"help of a mistyped subcommand, more words", []string{"help", "baseline", "creat", "x"}, `unknown command "creat" for 'loftyscan baseline'`, "did you mean 'loftyscan baseline create'?"},
		{"help of a mistyped subcommand", []string{"help", "baseline", "creat"}, `unknown command "creat" for 'loftyscan baseline'`, "did you mean 'loftyscan baseline create'?"},
		{"mistyped subcommand", []string{"baseline", "creat"}, `unknown command "creat" for 'loftyscan baseline'`, "did you mean 'loftyscan baseline create'?"},
		{"group alone", []string{"baseline"}, "'loftyscan baseline' needs a command", "loftyscan baseline create"},
		{"hook mistyped", []string{"hook", "instal"}, `unknown command "instal" for 'loftyscan hook'`, "did you mean 'loftyscan hook install'?"},
		{"completion of an unknown shell", []string{"completion", "tcsh"}, `unknown command "tcsh" for 'loftyscan completion'`, "--help"},
		{"completion alone", []string{"completion"}, "'loftyscan completion' needs a command", "bash|zsh|fish|powershell"},
		{"exit code not a number", []string{"dir", "--exit-code", "abc", dir}, `--exit-code "abc" is not a whole number`, "loftyscan dir --help"},
		{"workers not a number", []string{"dir", "-j", "two", dir}, `--workers "two" is not a whole number`, "loftyscan dir --help"},
		{"number too big", []string{"dir", "--exit-code", "99999999999999999999", dir}, "is not a whole number in range", "--help"},
		{"duration without unit", []string{"dir", "--timeout", "5", dir}, `--timeout "5" is not a duration with its unit, such as 30s`, "--help"},
		{"bool not a bool", []string{"dir", "--no-color=maybe", dir}, `--no-color "maybe" is not true or false`, "--help"},
		{"report into a missing folder", []string{"dir", "--output", missing, dir}, "to " + missing + ": the folder " + filepath.Dir(missing) + " does not exist", "mkdir -p " + filepath.Dir(missing)},
		{"report onto a folder", []string{"dir", "--output", folder, dir}, "to " + folder + ": it is a folder", "give the path of a file, such as " + filepath.Join(folder, "loftyscan-report")},
		{"report below a file", []string{"dir", "--report", "json=" + filepath.Join(aFile, "r.json"), dir}, aFile + " is a file, not a folder", "remove or rename " + aFile},
		{"--report into a missing folder", []string{"dir", "--report", "sarif=" + missing, dir}, "cannot write the report (sarif) to " + missing, "mkdir -p"},
		{"hook install outside a repository", []string{"hook", "install", notRepo}, "not a git repository", "'loftyscan hook install path/to/repo'"},
		{"hook uninstall outside a repository", []string{"hook", "uninstall", notRepo}, "not a git repository", "(or uninstall)"},
		{"pre-commit hook in a bare repository", []string{"hook", "install", bare}, bare + " is a bare repository: no commit is made in it", "--pre-receive"},
		{"plan into a missing folder", []string{"remediate", "--plan-dir", plans, "--output", missing, planRepo}, "cannot write the plan to " + missing + ": the folder " + filepath.Dir(missing) + " does not exist", "mkdir -p"},
		{"clone of a URL that holds no repository", []string{"git", "file://" + filepath.Join(notRepo, "app.git")}, "does not appear to be a git repository; fatal: Could not read from remote repository.; Please make sure", "check the URL"},
		{"range of two unset variables", []string{"git", "--range", "..", planRepo}, `--range ".." has no start`, "is a variable unset?"},
		{"range with an unset start", []string{"git", "--range", "..HEAD", planRepo}, `--range "..HEAD" has no start`, "--ref B"},
		{"range from the zero commit of a new branch", []string{"git", "--range", strings.Repeat("0", 40) + "..HEAD", planRepo}, "starts at the all-zero commit", "--ref HEAD"},
		{"remediate outside a repository", []string{"remediate", notRepo}, "not a git repository", "'loftyscan remediate path/to/repo'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runInProcess(t, "", tc.args...)
			if code != exitError {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitError, stderr)
			}
			var errLine, hintLine string
			for _, line := range strings.Split(stderr, "\n") {
				if s, ok := strings.CutPrefix(line, "loftyscan: error: "); ok && errLine == "" {
					errLine = s
				}
				if s, ok := strings.CutPrefix(line, "loftyscan: hint: "); ok && hintLine == "" {
					hintLine = s
				}
			}
			if !strings.Contains(errLine, tc.error) {
				t.Errorf("error line %q, want it to hold %q; stderr:\n%s", errLine, tc.error, stderr)
			}
			if !strings.Contains(hintLine, tc.hint) {
				t.Errorf("hint line %q, want it to hold %q; stderr:\n%s", hintLine, tc.hint, stderr)
			}
			for _, raw := range []string{"strconv.", "time: ", `\x0A`, ".tmp", "'loftyscan git' inside"} {
				if strings.Contains(stderr, raw) {
					t.Errorf("stderr holds %q, which means nothing to a user:\n%s", raw, stderr)
				}
			}
			if stdout != "" {
				t.Errorf("a failed command printed to stdout:\n%s", stdout)
			}
		})
	}
	if entries, _ := os.ReadDir(filepath.Dir(filepath.Dir(missing))); len(entries) != 0 {
		t.Errorf("a failed report left %d files behind", len(entries))
	}
	if _, err := os.Stat(filepath.Join(bare, "hooks", "pre-commit")); !os.IsNotExist(err) {
		t.Errorf("a pre-commit hook was written into the bare repository (%v)", err)
	}
}

// TestBaselineIgnoredFlagsSaid: baseline create writes JSON without keys
// whatever --format and --show-secrets say, and says that it ignored them
// (a baseline.sarif asked for and silently written as JSON surprises).
func TestBaselineIgnoredFlagsSaid(t *testing.T) {
	t.Parallel()
	dir, key := keyTree(t)
	out := filepath.Join(t.TempDir(), "b.sarif")
	code, _, stderr := runInProcess(t, "", "baseline", "create", "--format", "sarif", "--show-secrets", "--output", out, dir)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"loftyscan: warning: --format sarif ignored: a baseline is always a JSON report", "loftyscan: warning: --show-secrets ignored"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(b), `"fingerprint"`) || strings.Contains(string(b), key) {
		t.Errorf("baseline %s (%v) is not JSON without the key:\n%s", out, err, b)
	}
}

// TestGroupCommandsStillWork: the checks above leave the real subcommands
// alone.
func TestGroupCommandsStillWork(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runInProcess(t, "", "completion", "bash")
	if code != 0 || !strings.Contains(stdout, "bash completion") {
		t.Errorf("completion bash: exit %d, stdout %.80q, stderr:\n%s", code, stdout, stderr)
	}
	dir, _ := keyTree(t)
	out := filepath.Join(t.TempDir(), "b.json")
	code, _, stderr = runInProcess(t, "", "baseline", "create", "--format", "JSON", "--output", out, dir)
	if code != 0 {
		t.Fatalf("baseline create --format JSON: exit %d, stderr:\n%s", code, stderr)
	}
	if b, err := os.ReadFile(out); err != nil || !strings.Contains(string(b), `"fingerprint"`) {
		t.Errorf("baseline %s: %v\n%s", out, err, b)
	}
}

// TestHelpCommand: `loftyscan help X` prints X's help on stdout and exits
// 0 for a command that exists (the failing topics are in
// TestCommonMistakes), and its completion offers the commands under what
// is typed.
func TestHelpCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"help"}, "Available Commands:"},
		{[]string{"help", "dir"}, "Scan files and folders"},
		{[]string{"help", "baseline", "create"}, "loftyscan baseline create"},
		{[]string{"__complete", "help", "ba"}, "baseline\t"},
		{[]string{"__complete", "help", "baseline", ""}, "create\t"},
	} {
		code, stdout, stderr := runInProcess(t, "", tc.args...)
		if code != 0 || !strings.Contains(stdout, tc.want) {
			t.Errorf("%q: exit %d, stdout lacks %q:\n%s\nstderr:\n%s", tc.args, code, tc.want, stdout, stderr)
		}
	}
}
