package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// gitKey is a synthetic key for sub.
func gitKey(sub string) string {
	return testtoken.Key(sub, time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
}

// runGit runs the CLI in-process with the given environment variables.
func runGit(t *testing.T, vars map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runEnv(context.Background(), args, env{
		stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		getenv: func(k string) string { return vars[k] },
	})
	return code, out.String(), errb.String()
}

// jsonReport is the part of the JSON report the git tests read.
type jsonReport struct {
	Findings []struct {
		Path    string `json:"path"`
		Line    int    `json:"line"`
		Commit  string `json:"commit"`
		Author  string `json:"author"`
		Message string `json:"message"`
		InHead  *bool  `json:"in_head"`
	} `json:"findings"`
	Stats struct {
		Findings int   `json:"findings"`
		Files    int64 `json:"files"`
		Bytes    int64 `json:"bytes"`
	} `json:"stats"`
}

func parseReport(t *testing.T, stdout string) jsonReport {
	t.Helper()
	var rep jsonReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("not a JSON report: %v\n%s", err, stdout)
	}
	return rep
}

// historyRepo has a key added then deleted, and one still in HEAD.
func historyRepo(t *testing.T) (r *testgit.Repo, added, kept string) {
	r = testgit.New(t, "")
	r.Write("a.env", "LOFTY_API_KEY="+gitKey("deleted")+"\n")
	added = r.Commit("add a key")
	r.Git("rm", "-q", "a.env")
	r.Commit("remove it")
	r.Write("config/b.yaml", "lofty_token: "+gitKey("kept")+"\n")
	kept = r.Commit("add b")
	return r, added, kept
}

func TestGitCommandHistory(t *testing.T) {
	t.Parallel()
	r, added, kept := historyRepo(t)
	code, stdout, stderr := runGit(t, nil, "", "git", "--format", "json", r.Dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %s", code, stderr)
	}
	rep := parseReport(t, stdout)
	if len(rep.Findings) != 2 {
		t.Fatalf("%d findings, want 2:\n%s", len(rep.Findings), stdout)
	}
	for _, f := range rep.Findings {
		switch f.Path {
		case "a.env":
			if f.Commit != added || f.InHead == nil || *f.InHead || f.Message != "add a key" || f.Author != "Ada Author" {
				t.Errorf("a.env: %+v", f)
			}
		case "config/b.yaml":
			if f.Commit != kept || f.InHead == nil || !*f.InHead {
				t.Errorf("config/b.yaml: %+v", f)
			}
		default:
			t.Errorf("unexpected finding at %s", f.Path)
		}
	}

	// From a subfolder, with --range and with --ref.
	code, stdout, _ = runGit(t, nil, "", "git", "--format", "json", "--range", added+"..HEAD", filepath.Join(r.Dir, "config"))
	if rep := parseReport(t, stdout); code != 1 || len(rep.Findings) != 1 || rep.Findings[0].Commit != kept {
		t.Errorf("--range: exit %d, %s", code, stdout)
	}
	code, stdout, _ = runGit(t, nil, "", "git", "--format", "json", "--ref", added, r.Dir)
	if rep := parseReport(t, stdout); code != 1 || len(rep.Findings) != 1 || rep.Findings[0].Commit != added {
		t.Errorf("--ref: exit %d, %s", code, stdout)
	}
	code, _, _ = runGit(t, nil, "", "git", "--since", "2099-01-01", r.Dir)
	if code != 0 {
		t.Errorf("--since the future: exit %d, want 0", code)
	}

	// SARIF: one result per finding; the message names the commit.
	code, stdout, _ = runGit(t, nil, "", "git", "--format", "sarif", r.Dir)
	if code != 1 || strings.Count(stdout, `"ruleId"`) != 2 || !strings.Contains(stdout, added[:7]) {
		t.Errorf("sarif: exit %d\n%s", code, stdout)
	}
	if strings.Contains(stdout, testtoken.Segments(gitKey("kept"))[2]) {
		t.Error("sarif holds a full key")
	}
}

func TestGitCommandExitCodes(t *testing.T) {
	t.Parallel()
	r, _, _ := historyRepo(t)
	empty := testgit.New(t, "")
	clean := testgit.New(t, "")
	clean.Write("a.txt", "nothing\n")
	clean.Commit("clean")
	notRepo := t.TempDir()
	tests := []struct {
		name string
		args []string
		want int
		msg  string
	}{
		{"findings", []string{"git", r.Dir}, 1, ""},
		{"exit-code", []string{"git", "--exit-code", "7", r.Dir}, 7, ""},
		{"clean", []string{"git", clean.Dir}, 0, ""},
		{"empty repository", []string{"git", empty.Dir}, 0, ""},
		{"empty staged", []string{"git", "--staged", empty.Dir}, 0, ""},
		{"not a repository", []string{"git", notRepo}, 2, "not a git repository"},
		{"missing folder", []string{"git", filepath.Join(notRepo, "nope")}, 2, "no such file"},
		{"unknown ref", []string{"git", "--ref", "nope", r.Dir}, 2, "unknown revision"},
		{"bad range", []string{"git", "--range", "main", r.Dir}, 2, "not of the form A..B"},
		{"symmetric range", []string{"git", "--range", "a...b", r.Dir}, 2, "symmetric"},
		{"bad since", []string{"git", "--since", "someday", r.Dir}, 2, "not a date"},
		{"staged and range", []string{"git", "--staged", "--range", "a..b", r.Dir}, 2, "--staged"},
		{"staged and pre-push", []string{"git", "--staged", "--pre-push", r.Dir}, 2, "--pre-push"},
		{"range and ref", []string{"git", "--range", "a..b", "--ref", "main", r.Dir}, 2, "--ref"},
		{"staged URL", []string{"git", "--staged", "https://example.com/r.git"}, 2, "URL"},
		{"two repos", []string{"git", r.Dir, clean.Dir}, 2, "takes one repository"},
		{"unreachable URL", []string{"git", "http://user:sekrit-pw@127.0.0.1:1/r.git"}, 2, "cannot clone"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runGit(t, map[string]string{"TMPDIR": t.TempDir()}, "", tc.args...)
			if code != tc.want {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.want, stderr)
			}
			if code == 2 && (!strings.Contains(stderr, "loftyscan: error: ") || !strings.Contains(stderr, tc.msg) || !strings.Contains(stderr, "loftyscan: hint: ")) {
				t.Errorf("want an error with %q and a hint, got:\n%s", tc.msg, stderr)
			}
			if strings.Contains(stderr, "sekrit") {
				t.Errorf("stderr shows the URL's password:\n%s", stderr)
			}
		})
	}
}

// TestGitCommandURL scans a file:// URL through the CLI: the clone goes to
// a temporary folder that is gone afterwards.
func TestGitCommandURL(t *testing.T) {
	t.Parallel()
	r, added, kept := historyRepo(t)
	tmp := t.TempDir()
	code, stdout, stderr := runGit(t, map[string]string{"TMPDIR": tmp}, "", "git", "--format", "json", "file://"+r.Dir)
	if code != 1 {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	rep := parseReport(t, stdout)
	if len(rep.Findings) != 2 || rep.Findings[0].Commit != added || rep.Findings[1].Commit != kept {
		t.Errorf("findings: %s", stdout)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("the temporary clone was left behind: %v", left)
	}
	if !strings.Contains(stderr, "cloning") {
		t.Errorf("no progress note on stderr: %s", stderr)
	}
}

// TestGitCommandStaged runs --staged in-process, with the index git names
// in GIT_INDEX_FILE, and with GIT_DIR as git sets it in linked worktrees.
func TestGitCommandStaged(t *testing.T) {
	t.Parallel()
	r, _, _ := historyRepo(t)
	k := gitKey("staged")
	r.Write("config/b.yaml", "# edited\nlofty_token: "+gitKey("kept")+"\n")
	r.Write("c.env", "LOFTY_API_KEY="+k+"\n")
	r.Git("add", "config/b.yaml")
	code, _, stderr := runGit(t, nil, "", "git", "--staged", r.Dir)
	if code != 0 {
		t.Fatalf("an edit beside an old key: exit %d, want 0; %s", code, stderr)
	}
	r.Git("add", "c.env")
	code, stdout, stderr := runGit(t, nil, "", "git", "--staged", "--format", "json", r.Dir)
	if rep := parseReport(t, stdout); code != 1 || len(rep.Findings) != 1 || rep.Findings[0].Path != "c.env" || rep.Findings[0].Commit != "" {
		t.Fatalf("exit %d: %s", code, stdout)
	}
	if !strings.Contains(stderr, "--no-verify") || !strings.Contains(stderr, "revoke") {
		t.Errorf("no advice on how to proceed: %s", stderr)
	}
	// GIT_DIR, GIT_WORK_TREE and a relative GIT_INDEX_FILE, as a hook sees them.
	r.Git("reset", "-q")
	idx := filepath.Join(r.Dir, ".git", "other-index")
	r.GitEnv([]string{"GIT_INDEX_FILE=" + idx}, "read-tree", "HEAD")
	r.GitEnv([]string{"GIT_INDEX_FILE=" + idx}, "add", "c.env")
	vars := map[string]string{"GIT_DIR": filepath.Join(r.Dir, ".git"), "GIT_WORK_TREE": r.Dir, "GIT_INDEX_FILE": ".git/other-index"}
	if code, _, stderr := runGit(t, vars, "", "git", "--staged"); code != 1 {
		t.Errorf("GIT_INDEX_FILE: exit %d, want 1; %s", code, stderr)
	}
	if code, _, _ := runGit(t, nil, "", "git", "--staged", r.Dir); code != 0 {
		t.Errorf("the repository's own index has nothing staged: exit %d", code)
	}
}

// TestGitCommandPrePush feeds --pre-push git's lines, and the pre-commit
// framework's variables.
func TestGitCommandPrePush(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	remote := testgit.New(t, "", "--bare")
	r.Write("a.txt", "a\n")
	base := r.Commit("base")
	r.Git("remote", "add", "origin", remote.Dir)
	r.Git("push", "-q", "--no-verify", "origin", "main")
	k := gitKey("pushed")
	r.Write("b.env", "LOFTY_API_KEY="+k+"\n")
	head := r.Commit("add a key")
	zero := strings.Repeat("0", 40)

	tests := []struct {
		name  string
		vars  map[string]string
		stdin string
		want  int
	}{
		{"update", nil, "refs/heads/main " + head + " refs/heads/main " + base + "\n", 1},
		{"new branch", nil, "refs/heads/topic " + head + " refs/heads/topic " + zero + "\n", 1},
		{"remote commit not fetched", nil, "refs/heads/main " + head + " refs/heads/main " + strings.Repeat("ab", 20) + "\n", 1},
		{"nothing new", nil, "refs/heads/main " + base + " refs/heads/main " + base + "\n", 0},
		{"delete", nil, "(delete) " + zero + " refs/heads/old " + base + "\n", 0},
		{"no input", nil, "", 0},
		{"bad input", nil, "garbage\n", 2},
		{"pre-commit framework", map[string]string{"PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": head}, "", 1},
		{"pre-commit framework, clean", map[string]string{"PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": base}, "", 0},
		{"pre-commit framework, root push", map[string]string{"PRE_COMMIT_LOCAL_BRANCH": "refs/heads/main"}, "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runGit(t, tc.vars, tc.stdin, "git", "--pre-push", "--format", "json", r.Dir)
			if code != tc.want {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.want, stderr)
			}
			if code == 1 {
				rep := parseReport(t, stdout)
				if len(rep.Findings) != 1 || rep.Findings[0].Commit != head || rep.Findings[0].Path != "b.env" {
					t.Errorf("findings %s", stdout)
				}
				if !strings.Contains(stderr, "git push --no-verify") {
					t.Errorf("no advice: %s", stderr)
				}
			}
		})
	}
}

// TestGitCommandFileSaysWhatItScans: `loftyscan git app.env` scans the
// whole history of the repository that holds app.env, and says so: it
// reads like a scan of one file's history.
func TestGitCommandFileSaysWhatItScans(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	r.Write("app.env", "A=1\n")
	r.Write("b.env", "LOFTY_API_KEY="+gitKey("other-file")+"\n")
	r.Commit("init")
	code, stdout, stderr := runGit(t, nil, "", "git", "--format", "json", filepath.Join(r.Dir, "app.env"))
	if code != 1 || len(parseReport(t, stdout).Findings) != 1 {
		t.Fatalf("exit %d, want 1 with the key of b.env; stderr %s", code, stderr)
	}
	if want := "app.env is a file: scanning the history of the whole repository that holds it"; !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	if _, _, stderr := runGit(t, nil, "", "git", r.Dir); strings.Contains(stderr, "is a file") {
		t.Errorf("a folder is called a file:\n%s", stderr)
	}
	// Other commands that take a repository say nothing of a scan.
	if code, _, stderr := runGit(t, nil, "", "hook", "install", filepath.Join(r.Dir, "app.env")); code != 0 || strings.Contains(stderr, "scanning") {
		t.Errorf("hook install: exit %d, stderr:\n%s", code, stderr)
	}
}

// TestGitCommandRangeInShallowClone: --range HEAD~1..HEAD in a clone of
// depth 1 (actions/checkout's default) names a commit the clone does not
// have: an unknown revision, with the hint to fetch it. It failed reading
// the base's settings, with a hint about --config.
func TestGitCommandRangeInShallowClone(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	r.Write("a.txt", "a\n")
	r.Commit("base")
	r.Write("b.txt", "b\n")
	r.Commit("head")
	shallow := filepath.Join(t.TempDir(), "shallow")
	r.Git("clone", "-q", "--depth", "1", "file://"+r.Dir, shallow)
	code, _, stderr := runGit(t, nil, "", "git", "--range", "HEAD~1..HEAD", shallow)
	if code != 2 {
		t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr)
	}
	for _, want := range []string{`loftyscan: error: "HEAD~1": unknown revision: commit `, " is missing", "fetch-depth: 0"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "--config") {
		t.Errorf("the hint speaks of --config:\n%s", stderr)
	}
}

// TestGitCommandStagedPreCommitRange: `pre-commit run --from-ref A --to-ref
// B`, how CI runs pre-commit over a change, runs the commit-stage hook
// (git --staged) with PRE_COMMIT_FROM_REF and PRE_COMMIT_TO_REF set and a
// clean index: the hook scans A..B. It scanned the index and passed.
func TestGitCommandStagedPreCommitRange(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	r.Write("a.txt", "a\n")
	base := r.Commit("base")
	r.Write("b.env", "LOFTY_API_KEY="+gitKey("ci-range")+"\n")
	head := r.Commit("add a key")
	r.Write("c.txt", "c\n")
	r.Commit("after the key")
	for _, tc := range []struct {
		name string
		vars map[string]string
		want int
	}{
		{"pre-commit run --from-ref --to-ref", map[string]string{"PRE_COMMIT": "1", "PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": "HEAD"}, 1},
		{"a range without the key", map[string]string{"PRE_COMMIT": "1", "PRE_COMMIT_FROM_REF": head, "PRE_COMMIT_TO_REF": "HEAD"}, 0},
		{"a commit: the index", map[string]string{"PRE_COMMIT": "1", "GIT_INDEX_FILE": ".git/index"}, 0},
		{"a commit -a: a temporary index", map[string]string{"PRE_COMMIT": "1", "GIT_INDEX_FILE": filepath.Join(r.Dir, ".git", "index")}, 0},
		{"git commit without pre-commit", map[string]string{}, 0},
		// pre-commit run --all-files sets neither the refs nor the index:
		// the index adds nothing, so every file it holds is scanned.
		{"pre-commit run --all-files", map[string]string{"PRE_COMMIT": "1"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runGit(t, tc.vars, "", "git", "--staged", "--format", "json", r.Dir)
			if code != tc.want {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.want, stderr)
			}
			if code == 1 {
				rep := parseReport(t, stdout)
				commit, said := head, "scanning the commits "+base+"..HEAD"
				if tc.vars["PRE_COMMIT_TO_REF"] == "" {
					commit, said = "", "every file it holds was scanned"
				}
				if len(rep.Findings) != 1 || rep.Findings[0].Commit != commit || rep.Findings[0].Path != "b.env" {
					t.Errorf("findings %s", stdout)
				}
				if !strings.Contains(stderr, said) {
					t.Errorf("stderr does not say what was scanned:\n%s", stderr)
				}
				// The whole index has no base: its settings are the
				// checkout's, which in CI is the change, and the run says
				// so (a pull request's .loftyscanignore accepted its key
				// without a word).
				if warned := strings.Contains(stderr, "were read from HEAD, the checkout: in CI that is the change being checked"); warned != (commit == "") {
					t.Errorf("warned about HEAD's settings: %v; stderr:\n%s", warned, stderr)
				}
			}
		})
	}
}

// The terminal report's advice fits what was scanned: history is accepted
// with a JSON report as its baseline ('baseline create' scans folders), a
// commit being made is fixed before it is committed, a push before it
// leaves.
func TestGitCommandAdvice(t *testing.T) {
	t.Parallel()
	r, _, _ := historyRepo(t)
	_, history, _ := runGit(t, nil, "", "git", r.Dir)
	r.Write("c.env", "LOFTY_API_KEY="+gitKey("staged")+"\n")
	r.Git("add", "c.env")
	_, staged, _ := runGit(t, nil, "", "git", "--staged", r.Dir)
	head := r.Commit("add c")
	_, push, _ := runGit(t, nil, "refs/heads/main "+head+" refs/heads/main "+strings.Repeat("0", 40)+"\n", "git", "--pre-push", r.Dir)
	for _, c := range []struct {
		name, out string
		want, not []string
	}{
		{"history", history, []string{"every clone of the repository holds it", "force-push", "'loftyscan git --report json=.loftyscan-baseline.json'"}, []string{"'loftyscan baseline create'"}},
		{"staged", staged, []string{"stage the file again", "Nothing is committed yet"}, []string{"baseline create", "force-push"}},
		{"pre-push", push, []string{"Remove it from the commits before pushing"}, []string{"baseline create", "stage the file"}},
	} {
		out := strings.Join(strings.Fields(c.out), " ")
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: the report lacks %q:\n%s", c.name, w, c.out)
			}
		}
		for _, n := range c.not {
			if strings.Contains(out, n) {
				t.Errorf("%s: the report has %q:\n%s", c.name, n, c.out)
			}
		}
	}
}

// --verbose lists what the skip globs leave out of history once per path,
// though the walk meets it in many trees.
func TestGitCommandVerbose(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	for i := range 3 {
		r.Write("vendor/lib.txt", strings.Repeat("v", i+1))
		r.Write("app.txt", strings.Repeat("a", i+1))
		r.Commit("c")
	}
	code, _, stderr := runGit(t, nil, "", "git", "-v", "--skip", "vendor/", r.Dir)
	if code != 0 || strings.Count(stderr, "loftyscan: skipped: vendor: folder excluded (--skip or the config's skip)\n") != 1 {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

// TestPrePushStopsAKeyInARefName: a push that would create or move a ref
// on the remote under a name holding a key is stopped before it leaves
// (the pre-receive hook rejects one too), the name shown redacted, after
// the keys of what it sends (exit 1 for those); a deletion of such a ref,
// and a push under a clean name, go through.
func TestPrePushStopsAKeyInARefName(t *testing.T) {
	t.Parallel()
	r, _, _ := historyRepo(t)
	head := r.Git("rev-parse", "HEAD")
	key := gitKey("in-a-branch-name")
	zero := strings.Repeat("0", 40)
	for _, tc := range []struct {
		name, stdin string
		code        int
	}{
		{"new branch named with a key", "refs/heads/main " + head + " refs/heads/x-" + key + " " + zero + "\n", 1}, // its history's keys first
		{"moved", "refs/heads/main " + head + " refs/tags/" + key + " " + head + "\n", 2},
		{"deleted", "(delete) " + zero + " refs/heads/x-" + key + " " + head + "\n", 0},
		{"clean name", "refs/heads/main " + head + " refs/heads/feature " + head + "\n", 0},
		{"named with the key's base64", "refs/heads/main " + head + " refs/heads/b-" + base64.RawURLEncoding.EncodeToString([]byte(key)) + " " + head + "\n", 2},
	} {
		code, stdout, stderr := runGit(t, nil, tc.stdin, "git", "--pre-push", r.Dir)
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d\n%s", tc.name, code, tc.code, stderr)
		}
		if tc.code != 0 && !strings.Contains(stderr, "holds a Lofty API key") {
			t.Errorf("%s: stderr does not name the ref:\n%s", tc.name, stderr)
		}
		for _, part := range strings.Split(key, ".")[1:] {
			if strings.Contains(stdout+stderr, part) {
				t.Errorf("%s: the output holds the key", tc.name)
			}
		}
		if b64 := base64.RawURLEncoding.EncodeToString([]byte(key)); strings.Contains(stdout+stderr, b64[40:80]) {
			t.Errorf("%s: the output holds the key's base64", tc.name)
		}
	}
}
