package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
)

// The CI entry points (the action and the GitLab example) against a pull
// request that adds a key together with a way to hide it: each is still
// reported, and the settings change is named. And a pull request that only
// adds what the base's settings accept passes.

// trustFixture is an origin whose main branch carries a team's settings:
// vendor/ skipped, the test suite's fixture key accepted under testdata/.
// Each pull request is a branch from base.
type trustFixture struct {
	origin, dev  string
	base         string
	key, fixture string
	branches     map[string]string // branch → head
}

// trustCase is one pull request: the files it commits besides the key
// (app/new.env), and the settings files it edits.
type trustCase struct {
	branch  string
	files   map[string]string
	dirty   map[string]string // written into the CI's checkout, never committed
	with    map[string]string // action inputs
	gitlab  string            // LOFTYSCAN_ARGS
	changed []string
}

func fp(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

func trustCases(key string) []trustCase {
	return []trustCase{
		{branch: "ignore-entry", files: map[string]string{".loftyscanignore": "# fixtures\n" + strings.Repeat("0", 64) + " testdata/**\n" + fp(key) + " # looks fine\n"}, changed: []string{".loftyscanignore"}},
		{branch: "uncommitted-ignore", dirty: map[string]string{".loftyscanignore": fp(key) + "\n"}},
		{branch: "skip-everything", files: map[string]string{".loftyscan.toml": "skip = [\"**\"]\n"}, changed: []string{".loftyscan.toml"}},
		{branch: "no-scopes", files: map[string]string{".loftyscan.toml": "skip = [\"vendor/\"]\nscopes = [\"nothing\"]\n"}, changed: []string{".loftyscan.toml"}},
		{branch: "huge-caps", files: map[string]string{".loftyscan.toml": "[archives]\nentry_bytes = 4611686018427387904\nratio = 0\n"}, changed: []string{".loftyscan.toml"}},
		{branch: "baseline", files: map[string]string{".loftyscan-baseline.json": `{"findings": [{"fingerprint": "` + fp(key) + `"}]}`},
			with: map[string]string{"args": "--baseline .loftyscan-baseline.json"}, gitlab: "--baseline .loftyscan-baseline.json", changed: []string{".loftyscan-baseline.json"}},
		{branch: "ci-config", files: map[string]string{"ci/loftyscan.toml": "skip = [\"app/\"]\n"},
			with: map[string]string{"config": "ci/loftyscan.toml"}, gitlab: "--config ci/loftyscan.toml", changed: []string{"ci/loftyscan.toml"}},
		{branch: "ci-ignore-file", dirty: map[string]string{"ci/accepted": fp(key) + "\n"},
			with: map[string]string{"ignore-file": "ci/accepted"}, gitlab: "--ignore-file ci/accepted"},
	}
}

func newTrustFixture(t *testing.T) *trustFixture {
	t.Helper()
	root := t.TempDir()
	f := &trustFixture{origin: filepath.Join(root, "origin.git"), key: gitKey("pr-key"), fixture: gitKey("fixture"), branches: map[string]string{}}
	testgit.New(t, f.origin, "--bare")
	dev := testgit.New(t, filepath.Join(root, "dev"))
	f.dev = dev.Dir
	dev.Write(".loftyscan.toml", "skip = [\"vendor/\"]\n")
	dev.Write(".loftyscanignore", "# the test suite's synthetic key\n"+fp(f.fixture)+" testdata/**\n")
	dev.Write("ci/loftyscan.toml", "skip = [\"vendor/\"]\n")
	dev.Write("ci/accepted", strings.Repeat("1", 64)+" # an old key\n")
	dev.Write("README", "app\n")
	f.base = dev.Commit("the team's settings")
	dev.Git("remote", "add", "origin", f.origin)
	dev.Git("push", "-q", "origin", "main")
	branch := func(name string, files map[string]string) {
		dev.Git("checkout", "-q", "-b", name, f.base)
		for p, c := range files {
			dev.Write(p, c)
		}
		f.branches[name] = dev.Commit(name)
		dev.Git("push", "-q", "origin", name)
	}
	for _, c := range trustCases(f.key) {
		files := map[string]string{"app/new.env": "LOFTY_API_KEY=" + f.key + "\n"}
		for p, content := range c.files {
			files[p] = content
		}
		branch(c.branch, files)
	}
	// What the base's settings accept: the fixture under testdata/, a key
	// in vendor/.
	branch("accepted", map[string]string{
		"testdata/keys.env":   "LOFTY_API_KEY=" + f.fixture + "\n",
		"vendor/lib/conf.env": "LOFTY_API_KEY=" + gitKey("vendored") + "\n",
	})
	// A fixture with an inline allow.
	branch("inline-allow", map[string]string{"test/fixture.env": "LOFTY_API_KEY=" + gitKey("allowed") + " # loftyscan:allow synthetic\n"})
	return f
}

// checkout clones the origin into dir at branch, all branches fetched, as
// a CI checkout with fetch-depth 0, and writes dirty files into it.
func (f *trustFixture) checkout(t *testing.T, dir, branch string, dirty map[string]string) {
	t.Helper()
	(&actionFixture{origin: f.origin}).checkout(t, dir, 0, "refs/heads/"+branch)
	for p, c := range dirty {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// sarifNotices lists the files of the settings-changed notifications of a
// SARIF file.
func sarifNotices(t *testing.T, name string) []string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Runs []struct {
			Invocations []struct {
				ToolExecutionNotifications []struct {
					Descriptor struct{ ID string }
					Locations  []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string }
						}
					}
				}
			}
		}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, run := range doc.Runs {
		for _, inv := range run.Invocations {
			for _, n := range inv.ToolExecutionNotifications {
				if n.Descriptor.ID == "settings-changed" && len(n.Locations) == 1 {
					out = append(out, n.Locations[0].PhysicalLocation.ArtifactLocation.URI)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// use runs the action on a pull request of branch.
func (f *trustFixture) use(t *testing.T, branch string, with map[string]string, dirty map[string]string) (actionResult, string) {
	t.Helper()
	ws := t.TempDir()
	f.checkout(t, ws, branch, dirty)
	head := f.branches[branch]
	a := &actionFixture{origin: f.origin}
	return a.use(t, loftyscan, ws, with, "pull_request", prEvent(f.base, head, head), nil), ws
}

func TestActionSettingsFromBase(t *testing.T) {
	t.Parallel()
	f := newTrustFixture(t)
	for _, c := range trustCases(f.key) {
		t.Run(c.branch, func(t *testing.T) {
			t.Parallel()
			res, _ := f.use(t, c.branch, c.with, c.dirty)
			res.want(t, 1, f.base+".."+f.branches[c.branch], "app/new.env")
			if got := sarifNotices(t, res.outputs["sarif"]); !slices.Equal(got, c.changed) && len(got)+len(c.changed) > 0 {
				t.Errorf("SARIF notices %q, want %q", got, c.changed)
			}
			// Each settings file the change edits is an annotation, so that
			// a reviewer sees it without opening the log.
			var annotated []string
			for _, cmd := range runnerCommands(res.log) {
				if cmd.name == "warning" && cmd.props["title"] == "Review the scan's settings" {
					annotated = append(annotated, cmd.props["file"])
				}
			}
			slices.Sort(annotated)
			if !slices.Equal(annotated, c.changed) && len(annotated)+len(c.changed) > 0 {
				t.Errorf("settings annotations on %q, want %q:\n%s", annotated, c.changed, res.log)
			}
		})
	}
	t.Run("the base's settings apply", func(t *testing.T) {
		t.Parallel()
		res, _ := f.use(t, "accepted", nil, nil)
		res.want(t, 0, f.base+".."+f.branches["accepted"])
	})
	t.Run("inline allow, and the strict input", func(t *testing.T) {
		t.Parallel()
		ws := t.TempDir()
		f.checkout(t, ws, "inline-allow", nil)
		head := f.branches["inline-allow"]
		a := &actionFixture{origin: f.origin}
		res := a.use(t, loftyscan, ws, nil, "pull_request", prEvent(f.base, head, head), nil)
		// Listed in the SARIF file as a suppressed result; it neither
		// fails the job nor counts as a finding, and is a warning
		// annotation for the reviewer.
		if res.code != 0 || res.outputs["findings"] != "0" || res.outputs["allowed_by_change"] != "1" || res.outputs["suppressed"] != "1" {
			t.Errorf("exit %d, outputs %v\n%s", res.code, res.outputs, res.log)
		}
		cmds := runnerCommands(res.log)
		if len(cmds) != 1 || cmds[0].name != "warning" || cmds[0].props["file"] != "test/fixture.env" || !strings.Contains(cmds[0].props["title"], "allowed by the change") {
			t.Errorf("annotations %+v", cmds)
		}
		if got := sarifPaths(t, res.outputs["sarif"]); strings.Join(got, " ") != "test/fixture.env" {
			t.Errorf("SARIF results %q", got)
		}
		data, err := os.ReadFile(res.outputs["sarif"])
		if err != nil || !strings.Contains(string(data), "added by the scanned change") {
			t.Errorf("SARIF: %v\n%s", err, data)
		}
		res, _ = f.use(t, "inline-allow", map[string]string{"no-inline-allow": "true"}, nil)
		res.want(t, 1, f.base+".."+f.branches["inline-allow"], "test/fixture.env")
		res, _ = f.use(t, "inline-allow", map[string]string{"no-inline-allow": "yes"}, nil)
		if res.code != 2 || !strings.Contains(res.log, "no-inline-allow is 'yes': use true or false") {
			t.Errorf("no-inline-allow: yes: exit %d\n%s", res.code, res.log)
		}
	})
	t.Run("a new branch with no base reads the default branch's settings", func(t *testing.T) {
		t.Parallel()
		// A push of a branch whose history no other branch shares: the
		// whole history is scanned, with main's settings.
		ws := t.TempDir()
		f.checkout(t, ws, "ignore-entry", nil)
		a := &actionFixture{origin: f.origin}
		event := pushEvent("refs/heads/ignore-entry", zeroSHA, f.branches["ignore-entry"])
		event["repository"] = map[string]any{"full_name": "acme/app", "default_branch": "main"}
		res := a.use(t, loftyscan, ws, map[string]string{"range": f.branches["ignore-entry"]}, "push", event, nil)
		res.want(t, 1, f.branches["ignore-entry"], "app/new.env")
		if !strings.Contains(res.log, "settings from refs/remotes/origin/main: the scan has no base") {
			t.Errorf("log:\n%s", res.log)
		}
	})
}

func TestGitLabSettingsFromBase(t *testing.T) {
	t.Parallel()
	var doc map[string]gitlabJob
	readYAML(t, "examples/gitlab-ci.yml", &doc, true)
	job := doc["loftyscan"]
	f := newTrustFixture(t)
	mr := func(branch, args string) map[string]string {
		return map[string]string{
			"CI_PIPELINE_SOURCE": "merge_request_event", "CI_COMMIT_BEFORE_SHA": zeroSHA, "CI_DEFAULT_BRANCH": "main",
			"CI_MERGE_REQUEST_DIFF_BASE_SHA": f.base, "CI_COMMIT_SHA": f.branches[branch], "LOFTYSCAN_ARGS": args,
		}
	}
	for _, c := range trustCases(f.key) {
		t.Run(c.branch, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			f.checkout(t, dir, c.branch, c.dirty)
			code, out := runGitLabJob(t, &job, loftyscan, dir, mr(c.branch, c.gitlab))
			if code != 1 {
				t.Fatalf("exit %d, want 1:\n%s", code, out)
			}
			files, failures := gitlabFiles(t, dir, &job)
			if strings.Join(files, " ") != "app/new.env" || failures != 1 {
				t.Errorf("secret detection report %q, junit failures %d", files, failures)
			}
			data, err := os.ReadFile(filepath.Join(dir, "gl-secret-detection-report.json"))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range c.changed {
				if !strings.Contains(string(data), "the scanned change ") || !strings.Contains(string(data), p) || !strings.Contains(out, "loftyscan: warning: the scanned change") {
					t.Errorf("the report or the log does not say the change edits %s:\n%s\n%s", p, data, out)
				}
			}
		})
	}
	t.Run("the base's settings apply", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		f.checkout(t, dir, "accepted", nil)
		if code, out := runGitLabJob(t, &job, loftyscan, dir, mr("accepted", "")); code != 0 {
			t.Errorf("exit %d, want 0:\n%s", code, out)
		}
	})
	t.Run("inline allow, and --no-inline-allow", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		f.checkout(t, dir, "inline-allow", nil)
		code, out := runGitLabJob(t, &job, loftyscan, dir, mr("inline-allow", ""))
		files, failures := gitlabFiles(t, dir, &job)
		if code != 0 || strings.Join(files, " ") != "test/fixture.env" || failures != 0 {
			t.Errorf("exit %d, report %q, junit failures %d:\n%s", code, files, failures, out)
		}
		if code, out := runGitLabJob(t, &job, loftyscan, dir, mr("inline-allow", "--no-inline-allow")); code != 1 {
			t.Errorf("--no-inline-allow: exit %d, want 1:\n%s", code, out)
		}
	})
}
