package cli

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
)

// The ranges themselves are internal/ghaction's tests; these check the
// wiring of `loftyscan git --github-event`: the scan of the range, the
// step output, the annotations, the settings rule, an empty range and a
// range that cannot be computed.

// ghFixture is an origin and a clone of it made as actions/checkout makes
// one with fetch-depth: 0:
//
//	main:  m1 ─ m2 (adds main.env) ─ m3
//	topic: m3 ─ t1 (adds topic.env, and a .loftyscanignore that accepts it)
type ghFixture struct {
	origin, clone     string
	m1, m2, m3, t1    string
	mainKey, topicKey string
	gone              string // a commit the origin never got
}

func newGHFixture(t *testing.T) *ghFixture {
	t.Helper()
	root := t.TempDir()
	f := &ghFixture{origin: filepath.Join(root, "origin.git"), clone: filepath.Join(root, "ws"),
		mainKey: gitKey("gh-main"), topicKey: gitKey("gh-topic")}
	testgit.New(t, f.origin, "--bare")
	dev := testgit.New(t, filepath.Join(root, "dev"))
	dev.Write("README", "v1\n")
	f.m1 = dev.Commit("readme")
	dev.Write("main.env", "LOFTY_API_KEY="+f.mainKey+"\n")
	f.m2 = dev.Commit("a key on main")
	dev.Write("README", "v2\n")
	f.m3 = dev.Commit("readme v2")
	dev.Git("checkout", "-q", "-b", "topic")
	dev.Write("topic.env", "LOFTY_API_KEY="+f.topicKey+"\n")
	dev.Write(".loftyscanignore", fingerprint(f.topicKey)+"\n")
	f.t1 = dev.Commit("a key on topic, and accept it")
	dev.Write("gone.txt", "gone\n")
	f.gone = dev.Commit("never pushed")
	dev.Git("reset", "-q", "--hard", f.t1)
	dev.Git("remote", "add", "origin", f.origin)
	dev.Git("push", "-q", "origin", "main", "topic")

	ws := testgit.New(t, f.clone)
	ws.Git("remote", "add", "origin", "file://"+filepath.ToSlash(f.origin))
	ws.Git("fetch", "-q", "--no-tags", "origin", "+refs/heads/*:refs/remotes/origin/*")
	ws.Git("checkout", "-q", "--detach", "refs/remotes/origin/main")
	return f
}

// event writes an event file and returns the variables of a job.
func (f *ghFixture) event(t *testing.T, name string, payload map[string]any) map[string]string {
	t.Helper()
	data, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "event.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "output")
	if err := os.WriteFile(out, []byte("earlier=kept\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": path, "GITHUB_OUTPUT": out}
}

func ghPush(ref, before, after string) map[string]any {
	return map[string]any{"ref": ref, "before": before, "after": after, "repository": map[string]any{"default_branch": "main"}}
}

const zeroCommit = "0000000000000000000000000000000000000000"

// ghOutputs reads a $GITHUB_OUTPUT file.
func ghOutputs(t *testing.T, vars map[string]string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(vars["GITHUB_OUTPUT"])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("$GITHUB_OUTPUT line %q", line)
		}
		out[k] = v
	}
	if out["earlier"] != "kept" {
		t.Errorf("$GITHUB_OUTPUT lost what an earlier step wrote:\n%s", data)
	}
	return out
}

func findingPaths(t *testing.T, stdout string) string {
	t.Helper()
	var paths []string
	for _, f := range parseReport(t, stdout).Findings {
		paths = append(paths, f.Path)
	}
	return strings.Join(paths, " ")
}

func TestGitHubEventRanges(t *testing.T) {
	t.Parallel()
	f := newGHFixture(t)
	for _, c := range []struct {
		name, event string
		payload     map[string]any
		args        []string
		code        int
		rng, paths  string
		log         string
	}{
		{"push", "push", ghPush("refs/heads/main", f.m1, f.m3), nil, 1, f.m1 + ".." + f.m3, "main.env", "scanning the commits " + f.m1 + ".." + f.m3},
		{"clean push", "push", ghPush("refs/heads/main", f.m2, f.m3), nil, 0, f.m2 + ".." + f.m3, "", ""},
		// The range's base holds no .loftyscanignore: the one topic adds
		// does not hide its key.
		{"new branch", "push", ghPush("refs/heads/topic", zeroCommit, f.t1), nil, 1, f.m3 + ".." + f.t1, "topic.env", "the push created refs/heads/topic"},
		{"deleted branch", "push", ghPush("refs/heads/topic", f.t1, zeroCommit), nil, 0, f.m3 + ".." + f.m3, "", "nothing to scan"},
		{"range input", "workflow_dispatch", map[string]any{}, []string{"--range", f.m1 + ".." + f.m2}, 1, f.m1 + ".." + f.m2, "main.env", ""},
		{"base and head inputs", "workflow_dispatch", map[string]any{}, []string{"--github-base", "refs/remotes/origin/main", "--github-head", f.t1}, 1, f.m3 + ".." + f.t1, "topic.env", ""},
		// A whole history reads the default branch's settings, not topic's
		// own .loftyscanignore.
		{"one revision", "workflow_dispatch", map[string]any{"repository": map[string]any{"default_branch": "main"}}, []string{"--range", f.t1}, 1, f.t1, "main.env topic.env", "settings from refs/remotes/origin/main"},
		{"every ref", "schedule", map[string]any{"repository": map[string]any{"default_branch": "main"}}, nil, 1, "", "main.env topic.env", "scanning every ref"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			vars := f.event(t, c.event, c.payload)
			args := append([]string{"git", "--github-event", "--format", "json", f.clone}, c.args...)
			code, stdout, stderr := runGit(t, vars, "", args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\n%s", code, c.code, stderr)
			}
			if got := findingPaths(t, stdout); got != c.paths {
				t.Errorf("findings at %q, want %q\n%s", got, c.paths, stderr)
			}
			if got := ghOutputs(t, vars)["range"]; got != c.rng {
				t.Errorf("range output %q, want %q", got, c.rng)
			}
			if !strings.Contains(stderr, c.log) {
				t.Errorf("the log does not say %q:\n%s", c.log, stderr)
			}
		})
	}
}

func TestGitHubEventSettingsRule(t *testing.T) {
	t.Parallel()
	f := newGHFixture(t)
	dispatch := map[string]any{"repository": map[string]any{"default_branch": "topic"}}
	// The default branch is topic: its whole history is its own, so no
	// settings are read, and its .loftyscanignore does not hide its key.
	vars := f.event(t, "workflow_dispatch", dispatch)
	code, stdout, stderr := runGit(t, vars, "", "git", "--github-event", "--format", "json", "--range", f.t1, f.clone)
	if code != 1 || findingPaths(t, stdout) != "main.env topic.env" || !strings.Contains(stderr, "settings from none: the history scanned is the default branch's own") {
		t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	// main's history with topic's settings: main's key is not accepted
	// there, so it is still reported.
	code, stdout, stderr = runGit(t, vars, "", "git", "--github-event", "--format", "json", "--range", f.m3, f.clone)
	if code != 1 || findingPaths(t, stdout) != "main.env" || !strings.Contains(stderr, "settings from refs/remotes/origin/topic") {
		t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	// --settings-from, given, wins over the rule.
	code, stdout, stderr = runGit(t, vars, "", "git", "--github-event", "--format", "json", "--range", f.m1+".."+f.t1, "--settings-from", f.t1, f.clone)
	if code != 1 || findingPaths(t, stdout) != "main.env" {
		t.Errorf("--settings-from: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// A default branch the clone lacks: no settings.
	vars = f.event(t, "workflow_dispatch", map[string]any{"repository": map[string]any{"default_branch": "trunk"}})
	code, _, stderr = runGit(t, vars, "", "git", "--github-event", "--format", "json", "--range", f.t1, f.clone)
	if code != 1 || !strings.Contains(stderr, "settings from none: the scan has no base and the clone has no refs/remotes/origin/trunk") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}

func TestGitHubEventNothingToScan(t *testing.T) {
	t.Parallel()
	f := newGHFixture(t)
	vars := f.event(t, "push", ghPush("refs/heads/gone", f.m3, zeroCommit))
	sarif := filepath.Join(t.TempDir(), "out.sarif")
	code, stdout, stderr := runGit(t, vars, "", "git", "--github-event", "--report", "json", "--report", "sarif="+sarif, "--report", "counts="+vars["GITHUB_OUTPUT"], f.clone)
	if code != 0 || findingPaths(t, stdout) != "" {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(sarif)
	if err != nil || !json.Valid(data) || !strings.Contains(string(data), `"results": []`) {
		t.Errorf("SARIF report: %v\n%s", err, data)
	}
	out := ghOutputs(t, vars)
	if out["findings"] != "0" || out["files"] != "0" || out["range"] != f.m3+".."+f.m3 {
		t.Errorf("outputs %v", out)
	}
}

func TestGitHubEventAnnotations(t *testing.T) {
	t.Parallel()
	f := newGHFixture(t)
	// A force-push: the commit before it is gone. The scan goes on, with a
	// warning: an annotation in a job, a warning on standard error outside.
	force := ghPush("refs/heads/topic", f.gone, f.t1)
	const warning = "the commit before the push, "
	vars := f.event(t, "push", force)
	vars["GITHUB_ACTIONS"] = "true"
	code, stdout, stderr := runGit(t, vars, "", "git", "--github-event", "--report", "github", "--report", "terminal", "--no-color", f.clone)
	if code != 1 || !strings.HasPrefix(stdout, "::warning title=loftyscan::"+warning+f.gone) || !strings.Contains(stdout, "::error file=topic.env,line=1") {
		t.Errorf("in a job: exit %d\n%s\n%s", code, stdout, stderr)
	}
	vars = f.event(t, "push", force)
	code, stdout, stderr = runGit(t, vars, "", "git", "--github-event", f.clone)
	if code != 1 || strings.Contains(stdout, "::warning") || !strings.Contains(stderr, "loftyscan: warning: "+warning) {
		t.Errorf("outside a job: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// A shallow clone: the range cannot be computed. Exit 2 with the
	// message and the hint, and in a job an error annotation with both;
	// no range output.
	shallow := filepath.Join(t.TempDir(), "shallow")
	ws := testgit.New(t, shallow)
	ws.Git("remote", "add", "origin", "file://"+filepath.ToSlash(f.origin))
	ws.Git("fetch", "-q", "--depth=1", "origin", "+refs/heads/main:refs/remotes/origin/main")
	ws.Git("checkout", "-q", "--detach", "refs/remotes/origin/main")
	vars = f.event(t, "push", ghPush("refs/heads/main", f.m1, f.m3))
	vars["GITHUB_ACTIONS"] = "true"
	code, stdout, stderr = runGit(t, vars, "", "git", "--github-event", shallow)
	if code != 2 || !strings.Contains(stderr, "loftyscan: error: the commit before the push "+f.m1+" is not in this clone, which is shallow") ||
		!strings.Contains(stderr, "loftyscan: hint: set fetch-depth: 0") {
		t.Errorf("shallow: exit %d\n%s", code, stderr)
	}
	if !strings.HasPrefix(stdout, "::error title=loftyscan::the commit before the push") || !strings.Contains(stdout, "%0Aset fetch-depth: 0") || strings.Count(stdout, "\n") != 1 {
		t.Errorf("shallow: the annotation is not one line with the hint:\n%s", stdout)
	}
	if _, ok := ghOutputs(t, vars)["range"]; ok {
		t.Error("a range output after a failure")
	}
}

func TestGitHubEventUsage(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	r.Write("a", "a\n")
	r.Commit("a")
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--github-base", "main"}, "--github-base and --github-head go with --github-event"},
		{[]string{"--github-event", "--staged"}, "--github-event does not take --staged"},
		{[]string{"--github-event", "--ref", "main"}, "--github-event does not take"},
		{[]string{"--github-event", "--range", "main...HEAD"}, "A...B is not supported"},
		{[]string{"--github-event", "--github-head", "--upload-pack=x"}, "starts with '-'"},
	} {
		code, _, stderr := runGit(t, map[string]string{"GITHUB_EVENT_NAME": "workflow_dispatch"}, "", append(append([]string{"git"}, c.args...), r.Dir)...)
		if code != 2 || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d\n%s", c.args, code, stderr)
		}
	}
	code, _, stderr := runGit(t, nil, "", "git", "--github-event", "https://example.com/r.git")
	if code != 2 || !strings.Contains(stderr, "not a URL") {
		t.Errorf("URL: exit %d\n%s", code, stderr)
	}
	// A push event needs its file.
	code, _, stderr = runGit(t, map[string]string{"GITHUB_EVENT_NAME": "push"}, "", "git", "--github-event", r.Dir)
	if code != 2 || !strings.Contains(stderr, "GITHUB_EVENT_PATH is not set") {
		t.Errorf("no event file: exit %d\n%s", code, stderr)
	}
}

func TestWriteStepOutput(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "output")
	e := env{getenv: func(k string) string { return map[string]string{"GITHUB_OUTPUT": path}[k] }}
	if err := writeStepOutput(e, "range", "a..b"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][2]string{{"range", "a\nfindings=0"}, {"range", "a\rb"}, {"a=b", "c"}} {
		if err := writeStepOutput(e, bad[0], bad[1]); err == nil {
			t.Errorf("%q=%q was written", bad[0], bad[1])
		}
	}
	if data, _ := os.ReadFile(path); string(data) != "range=a..b\n" {
		t.Errorf("$GITHUB_OUTPUT: %q", data)
	}
	// No GITHUB_OUTPUT: nothing to do.
	if err := writeStepOutput(env{getenv: func(string) string { return "" }}, "range", "x"); err != nil {
		t.Error(err)
	}
}

// TestMessagesReadAsNoCommand: the runner reads "##[name]data" anywhere in
// a line that is not a "::" command; no message line may hold it.
func TestMessagesReadAsNoCommand(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for _, print := range []func(io.Writer, string){printError, printWarning, printHint, printNote, printSkipped} {
		print(&b, "cannot read evil.zip!x##[error]injected ###[warning]again\n::error::y")
	}
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if strings.Contains(line, "##[") || strings.HasPrefix(strings.TrimSpace(line), "::") || !strings.Contains(line, `#\x23[error]injected`) {
			t.Errorf("line %q", line)
		}
	}
}
