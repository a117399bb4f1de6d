package e2e

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/internal/testtool"
	"gopkg.in/yaml.v3"
)

// The CI examples in examples/ are what the README shows for copying: these
// tests run them. The GitLab job's script lines run as GitLab runs them,
// with the CI_* variables of a merge request and of pushes; the GitHub
// workflow's loftyscan step runs through the action (see
// action_runner_test.go), and its upload step is checked to read the file
// that step writes.

type gitlabJob struct {
	Stage     string            `yaml:"stage"`
	Image     string            `yaml:"image"`
	Variables map[string]string `yaml:"variables"`
	Rules     []map[string]any  `yaml:"rules"`
	Script    []string          `yaml:"script"`
	Artifacts struct {
		When    string            `yaml:"when"`
		Reports map[string]string `yaml:"reports"`
	} `yaml:"artifacts"`
}

func readYAML(t *testing.T, name string, v any, strict bool) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(strict)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// runGitLabJob runs the job's script in dir as the GitLab runner does:
// one bash, errexit and pipefail, the job's variables and vars in the
// environment. `go install` is left out: loftyscan is put where it would
// put it, $GOPATH/bin, and the script's own PATH line finds it there.
func runGitLabJob(t *testing.T, job *gitlabJob, bin, dir string, vars map[string]string) (int, string) {
	t.Helper()
	gopath := t.TempDir()
	if err := os.MkdirAll(filepath.Join(gopath, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := testtool.WriteExecutable(filepath.Join(gopath, "bin", filepath.Base(bin)), data, 0o755); err != nil {
		t.Fatal(err)
	}
	script := "set -eo pipefail\n"
	installs := 0
	for _, line := range job.Script {
		if strings.HasPrefix(line, "go install ") {
			installs++
			line = ": " + line
		}
		script += line + "\n"
	}
	if installs != 1 {
		t.Errorf("the job has %d go install lines, want 1", installs)
	}
	all := map[string]string{"GOPATH": gopath, "CI": "true", "GITLAB_CI": "true", "CI_PROJECT_DIR": dir}
	for k, v := range job.Variables {
		all[k] = v
	}
	for k, v := range vars {
		all[k] = v
	}
	cmd := exec.Command("bash", "--noprofile", "--norc", "-c", script)
	cmd.Dir = dir
	// The job runs `go env`: with Go's telemetry off in its home, no
	// upload process outlives it and writes into the folder the test is
	// removing.
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".config", "go", "telemetry"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".config", "go", "telemetry", "mode"), []byte("off"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd.Env = scriptEnv(home, all)
	// A PATH without any other loftyscan: the one in $GOPATH/bin must be found.
	for i, kv := range cmd.Env {
		if p, ok := strings.CutPrefix(kv, "PATH="); ok {
			var keep []string
			for _, d := range filepath.SplitList(p) {
				if _, err := os.Stat(filepath.Join(d, "loftyscan")); err != nil {
					keep = append(keep, d)
				}
			}
			cmd.Env[i] = "PATH=" + strings.Join(keep, string(filepath.ListSeparator))
		}
	}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	case err != nil:
		t.Fatal(err)
	}
	return 0, string(out)
}

// gitlabFiles reads the secret detection report's files and the JUnit
// report's failure count.
func gitlabFiles(t *testing.T, dir string, job *gitlabJob) ([]string, int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, job.Artifacts.Reports["secret_detection"]))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Vulnerabilities []struct {
			Location struct {
				File string `json:"file"`
			} `json:"location"`
		} `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("secret detection report: %v", err)
	}
	files := []string{}
	for _, v := range rep.Vulnerabilities {
		files = append(files, v.Location.File)
	}
	data, err = os.ReadFile(filepath.Join(dir, job.Artifacts.Reports["junit"]))
	if err != nil {
		t.Fatal(err)
	}
	var ju struct {
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal(data, &ju); err != nil {
		t.Fatalf("junit report: %v", err)
	}
	return files, ju.Failures
}

func TestExamples(t *testing.T) {
	bin := loftyscan
	f := newActionFixture(t)

	t.Run("examples/gitlab-ci.yml", func(t *testing.T) {
		t.Parallel()
		var doc map[string]gitlabJob
		readYAML(t, "examples/gitlab-ci.yml", &doc, true)
		job, ok := doc["loftyscan"]
		if !ok {
			t.Fatal("no loftyscan job")
		}
		if !strings.HasPrefix(job.Image, "golang:") || job.Variables["GIT_DEPTH"] != "0" || job.Artifacts.When != "always" ||
			job.Artifacts.Reports["secret_detection"] != "gl-secret-detection-report.json" || job.Artifacts.Reports["junit"] == "" {
			t.Errorf("job: %+v", job)
		}
		// One scan writes every report: the job runs loftyscan once.
		scans := 0
		for _, block := range job.Script {
			for _, line := range strings.Split(block, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "loftyscan ") {
					scans++
				}
			}
		}
		if scans != 1 {
			t.Errorf("the job runs loftyscan %d times, want once with a --report for each report", scans)
		}
		mr := map[string]string{
			"CI_PIPELINE_SOURCE": "merge_request_event", "CI_COMMIT_BEFORE_SHA": zeroSHA,
			"CI_MERGE_REQUEST_DIFF_BASE_SHA": f.bp, "CI_COMMIT_SHA": f.head,
		}
		merged := map[string]string{ // a merged results pipeline: CI_COMMIT_SHA is the merge
			"CI_PIPELINE_SOURCE": "merge_request_event", "CI_COMMIT_BEFORE_SHA": zeroSHA,
			"CI_MERGE_REQUEST_DIFF_BASE_SHA": f.bp, "CI_COMMIT_SHA": f.merge, "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": f.head,
		}
		push := func(branch, before, after string) map[string]string {
			return map[string]string{"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": branch, "CI_DEFAULT_BRANCH": "main", "CI_COMMIT_BEFORE_SHA": before, "CI_COMMIT_SHA": after}
		}
		for _, c := range []struct {
			name  string
			ref   string
			vars  map[string]string
			code  int
			scope string
			files []string
		}{
			{"merge request", "refs/heads/feature", mr, 1, "--range " + f.bp + ".." + f.head, []string{"app/new.env"}},
			{"merged results", "refs/pull/1/merge", merged, 1, "--range " + f.bp + ".." + f.head, []string{"app/new.env"}},
			{"push", "refs/heads/main", push("main", f.base, f.p2), 1, "--range " + f.base + ".." + f.p2, []string{"config/push.env"}},
			{"clean push", "refs/heads/main", push("main", f.p1, f.p2), 0, "--range " + f.p1 + ".." + f.p2, []string{}},
			{"new branch", "refs/heads/topic", push("topic", zeroSHA, f.t1), 1, "--ref " + f.t1 + " --settings-from refs/remotes/origin/main", []string{"config/old.env", "config/push.env", "topic.env"}},
			{"force-push", "refs/heads/topic", push("topic", f.gone, f.t1), 1, "--ref " + f.t1 + " --settings-from refs/remotes/origin/main", []string{"config/old.env", "config/push.env", "topic.env"}},
			{"force-push to the default branch", "refs/heads/main", push("main", f.gone, f.p2), 1, "--ref " + f.p2 + " --settings-from none", []string{"config/old.env", "config/push.env"}},
		} {
			dir := t.TempDir()
			f.checkout(t, dir, 0, c.ref)
			code, out := runGitLabJob(t, &job, bin, dir, c.vars)
			if code != c.code || !strings.Contains(out, "loftyscan git "+c.scope+"\n") {
				t.Fatalf("%s: exit status %d, want %d, and the scope %q:\n%s", c.name, code, c.code, c.scope, out)
			}
			files, failures := gitlabFiles(t, dir, &job)
			if strings.Join(files, " ") != strings.Join(c.files, " ") || failures != len(c.files) {
				t.Errorf("%s: secret detection report %q, junit failures %d; want %q", c.name, files, failures, c.files)
			}
			if c.code == 1 && !strings.Contains(out, "ACTIVE KEYS") {
				t.Errorf("%s: no terminal report in the log:\n%s", c.name, out)
			}
		}

		// LOFTYSCAN_ARGS is split on white space, never expanded as a
		// glob against the work tree, which the merge request fills: with
		// "--skip *.lock" and two empty files it adds, "!x.lock" and
		// "--scope=none.lock", the job ran "--skip !x.lock
		// --scope=none.lock", no key had the Lofty scope, and it passed.
		dir := t.TempDir()
		f.checkout(t, dir, 0, "refs/heads/feature")
		for _, name := range []string{"!x.lock", "--scope=none.lock"} {
			if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		vars := maps.Clone(mr)
		vars["LOFTYSCAN_ARGS"] = "--skip *.lock"
		code, out := runGitLabJob(t, &job, bin, dir, vars)
		if files, _ := gitlabFiles(t, dir, &job); code != 1 || !strings.Contains(out, "ACTIVE KEYS") || strings.Join(files, " ") != "app/new.env" {
			t.Errorf("LOFTYSCAN_ARGS with a glob, beside files named as flags: exit status %d, report %q, want 1 and app/new.env:\n%s", code, files, out)
		}
	})

	// A partial clone lacks blobs: the job refuses it, as the action does,
	// before it scans anything.
	t.Run("examples/gitlab-ci.yml partial clone", func(t *testing.T) {
		t.Parallel()
		var doc map[string]gitlabJob
		readYAML(t, "examples/gitlab-ci.yml", &doc, true)
		job := doc["loftyscan"]
		r := testgit.New(t, t.TempDir())
		r.Git("remote", "add", "origin", "file://"+filepath.ToSlash(f.origin))
		r.Git("-c", "uploadpack.allowFilter=true", "fetch", "-q", "--no-tags", "--filter=blob:none", "origin", "+refs/heads/*:refs/remotes/origin/*")
		r.Git("checkout", "-q", "--detach", "refs/remotes/origin/feature")
		vars := map[string]string{
			"CI_PIPELINE_SOURCE": "merge_request_event", "CI_COMMIT_BEFORE_SHA": zeroSHA,
			"CI_MERGE_REQUEST_DIFF_BASE_SHA": f.bp, "CI_COMMIT_SHA": f.head,
		}
		code, out := runGitLabJob(t, &job, bin, r.Dir, vars)
		if code != 2 || !strings.Contains(out, "this clone is partial") || strings.Contains(out, "loftyscan git ") {
			t.Errorf("a partial clone: exit status %d, want 2, a message saying the clone is partial, and no scan:\n%s", code, out)
		}
	})

	t.Run("examples/github-workflow.yml", func(t *testing.T) {
		t.Parallel()
		var wf struct {
			On          map[string]any    `yaml:"on"`
			Permissions map[string]string `yaml:"permissions"`
			Jobs        map[string]struct {
				Steps []struct {
					Name string            `yaml:"name"`
					Uses string            `yaml:"uses"`
					If   string            `yaml:"if"`
					With map[string]string `yaml:"with"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		readYAML(t, "examples/github-workflow.yml", &wf, false)
		if _, ok := wf.On["pull_request"]; !ok {
			t.Error("not run on pull_request")
		}
		if _, ok := wf.On["push"]; !ok {
			t.Error("not run on push")
		}
		if wf.Permissions["security-events"] != "write" || wf.Permissions["contents"] != "read" {
			t.Errorf("permissions %v", wf.Permissions)
		}
		action := readActionFile(t)
		var with map[string]string
		sarif, uploaded := "", ""
		pinned := regexp.MustCompile(`^[a-z-]+/[a-z-]+(?:/[a-z-]+)?@[0-9a-f]{40}$`)
		raw, err := os.ReadFile("examples/github-workflow.yml")
		if err != nil {
			t.Fatal(err)
		}
		for _, job := range wf.Jobs {
			for _, st := range job.Steps {
				// Third-party actions by commit SHA, the tag in a comment.
				if st.Uses != "" && !strings.HasPrefix(st.Uses, "loftyscan/loftyscan@") &&
					(!pinned.MatchString(st.Uses) || !regexp.MustCompile(`(?m)uses: `+regexp.QuoteMeta(st.Uses)+` # v\d+\.\d+\.\d+$`).Match(raw)) {
					t.Errorf("%s is not pinned as OWNER/REPO@SHA # vX.Y.Z", st.Uses)
				}
				switch {
				case strings.HasPrefix(st.Uses, "actions/checkout@"):
					if st.With["fetch-depth"] != "0" {
						t.Errorf("checkout's fetch-depth %q, want 0", st.With["fetch-depth"])
					}
				case strings.HasPrefix(st.Uses, "loftyscan/loftyscan@") || st.Uses == "./":
					with = st.With
					for k := range with {
						if _, ok := action.Inputs[k]; !ok {
							t.Errorf("the loftyscan step sets %s, which action.yml does not declare", k)
						}
					}
					sarif = action.Inputs["sarif"].Default
					if v, ok := with["sarif"]; ok {
						sarif = v
					}
				case strings.HasPrefix(st.Uses, "github/codeql-action/upload-sarif@"):
					if !strings.Contains(st.If, "always()") {
						t.Errorf("the upload step runs if %q: it must run when the scan failed the job (always())", st.If)
					}
					uploaded = st.With["sarif_file"]
				}
			}
		}
		if sarif == "" || uploaded != sarif {
			t.Fatalf("the loftyscan step writes %q, the upload step reads %q", sarif, uploaded)
		}
		// The step, on a pull request: it fails the job and leaves the
		// report where the upload step reads it.
		ws := t.TempDir()
		f.checkout(t, ws, 0, "refs/pull/1/merge")
		res := f.use(t, bin, ws, with, "pull_request", prEvent(f.base, f.head, f.merge), nil)
		res.want(t, 1, f.bp+".."+f.head, "app/new.env")
		if got := sarifPaths(t, filepath.Join(ws, uploaded)); len(got) != 1 {
			t.Errorf("%s: %q", uploaded, got)
		}
	})

	// The README shows the examples: where it has one, it must be the file
	// as it is here, so that what people copy is what these tests ran.
	t.Run("README", func(t *testing.T) {
		t.Parallel()
		readme, err := os.ReadFile("README.md")
		if err != nil {
			t.Skip("no README.md")
		}
		blocks := fencedBlocks(string(readme))
		for _, name := range []string{"examples/github-workflow.yml", "examples/gitlab-ci.yml"} {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			example := string(data)
			first, _, _ := strings.Cut(example, "\n")
			found := false
			for _, b := range blocks {
				if strings.HasPrefix(b, first+"\n") {
					found = true
					if b != example {
						t.Errorf("README.md's block that starts %q is not %s as it is", first, name)
					}
				}
			}
			if !found {
				t.Logf("README.md does not show %s (no block starts %q)", name, first)
			}
		}
	})
}

// fencedBlocks returns the contents of the ``` blocks of a Markdown text.
func fencedBlocks(md string) []string {
	var blocks []string
	var cur *strings.Builder
	for _, line := range strings.SplitAfter(md, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			if cur == nil {
				cur = &strings.Builder{}
			} else {
				blocks = append(blocks, cur.String())
				cur = nil
			}
			continue
		}
		if cur != nil {
			cur.WriteString(line)
		}
	}
	return blocks
}
