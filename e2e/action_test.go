package e2e

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
)

// actionFixture is a repository on a "server" (a bare origin) with the
// history a pull request, pushes and new branches make, and its SHAs:
//
//	main:     c1 ─ bp ─ rm ─ base ─ p1 ─ p2
//	               └─ f1 ─ head                  feature (the pull request)
//	refs/pull/1/merge: merge of head into base   (what actions/checkout checks out)
//	topic:    p2 ─ t1                            a new branch
//	topic2:   p2 ─ merge of feature ─ t2         a new branch that merged feature
//
// c1 adds the old key (config/old.env), which main removes in rm, after
// the branch point bp: the pull request's base.sha (base) is not its
// merge-base (bp). f1 adds the pull request's key (app/new.env); p1 a key
// pushed to main (config/push.env); t1 and t2 the new branches' keys.
type actionFixture struct {
	origin                                              string
	oldKey, newKey                                      string
	c1, bp, base, f1, head, merge, p1, p2, t1, t2, gone string
}

func newActionFixture(t *testing.T) *actionFixture {
	t.Helper()
	root := t.TempDir()
	f := &actionFixture{origin: filepath.Join(root, "origin.git"), oldKey: gitKey("old-account"), newKey: gitKey("new-account")}
	testgit.New(t, f.origin, "--bare")
	dev := testgit.New(t, filepath.Join(root, "dev"))
	dev.Write("config/old.env", "LOFTY_API_KEY="+f.oldKey+"\n")
	f.c1 = dev.Commit("add the old key")
	dev.Write("README", "v1\n")
	f.bp = dev.Commit("readme")
	dev.Git("checkout", "-q", "-b", "feature")
	dev.Write("app/new.env", "LOFTY_API_KEY="+f.newKey+"\n")
	f.f1 = dev.Commit("add the new key")
	dev.Write("app/main.go", "package main\n")
	f.head = dev.Commit("app")
	dev.Git("checkout", "-q", "main")
	dev.Git("rm", "-q", "config/old.env")
	dev.Commit("rotate the old key")
	dev.Write("README", "v2\n")
	f.base = dev.Commit("readme v2")
	// GitHub's test merge of the pull request, refs/pull/1/merge.
	dev.Git("checkout", "-q", "--detach", f.base)
	dev.Git("merge", "-q", "--no-ff", "--no-edit", "-m", "Merge feature into main", f.head)
	f.merge = dev.Git("rev-parse", "HEAD")
	dev.Git("checkout", "-q", "main")
	dev.Write("config/push.env", "LOFTY_API_KEY="+gitKey("push-account")+"\n")
	f.p1 = dev.Commit("add a key on main")
	dev.Write("docs/index.md", "docs\n")
	f.p2 = dev.Commit("docs")
	dev.Git("checkout", "-q", "-b", "topic")
	dev.Write("topic.env", "LOFTY_API_KEY="+gitKey("topic-account")+"\n")
	f.t1 = dev.Commit("add a key on a new branch")
	dev.Git("checkout", "-q", "-b", "topic2", "main")
	dev.Git("merge", "-q", "--no-ff", "--no-edit", "-m", "Merge feature into topic2", "feature")
	dev.Write("topic2.env", "LOFTY_API_KEY="+gitKey("topic2-account")+"\n")
	f.t2 = dev.Commit("add a key on a branch that merged feature")
	// A commit the server never gets: the "before" of a force-push.
	dev.Git("checkout", "-q", "-b", "rewritten", "main")
	dev.Write("gone.txt", "gone\n")
	f.gone = dev.Commit("rewritten away")
	dev.Git("remote", "add", "origin", f.origin)
	dev.Git("push", "-q", "origin", "main", "feature", "topic", "topic2", f.merge+":refs/pull/1/merge")
	return f
}

// checkout makes dir a clone of the origin as actions/checkout does, with
// git init and git fetch: depth 0 is fetch-depth: 0, every branch and tag
// besides ref; otherwise only ref, that many commits deep. HEAD is ref's
// commit, detached.
func (f *actionFixture) checkout(t *testing.T, dir string, depth int, ref string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	r := testgit.New(t, dir)
	r.Git("remote", "add", "origin", "file://"+filepath.ToSlash(f.origin))
	local := "refs/remotes/origin/" + strings.TrimPrefix(ref, "refs/heads/")
	if strings.HasPrefix(ref, "refs/pull/") {
		local = "refs/remotes/" + strings.TrimPrefix(ref, "refs/")
	}
	args := []string{"fetch", "-q", "--no-tags"}
	if depth > 0 {
		args = append(args, "--depth="+strconv.Itoa(depth), "origin")
	} else {
		args = append(args, "origin", "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")
	}
	if depth > 0 || !strings.HasPrefix(ref, "refs/heads/") {
		args = append(args, "+"+ref+":"+local)
	}
	r.Git(args...)
	r.Git("checkout", "-q", "--detach", local)
}

// prEvent is a pull_request event (a synchronize: it has before and after
// too, which a pull request's range must not use).
func prEvent(base, head, merge string) map[string]any {
	repo := map[string]any{"full_name": "acme/app", "default_branch": "main"}
	return map[string]any{
		"action": "synchronize", "number": 1,
		"before": "1111111111111111111111111111111111111111", "after": head,
		"pull_request": map[string]any{
			"number": 1, "merge_commit_sha": merge, "title": `Add {the} "new" key [wip]`,
			"labels": []any{map[string]any{"name": "sha"}},
			"head":   map[string]any{"ref": "feature", "sha": head, "repo": repo},
			"base":   map[string]any{"ref": "main", "sha": base, "repo": repo},
		},
		"repository": repo,
	}
}

func pushEvent(ref, before, after string) map[string]any {
	return map[string]any{
		"ref": ref, "before": before, "after": after, "created": before == zeroSHA, "forced": false,
		"head_commit": map[string]any{"id": after},
		"repository":  map[string]any{"full_name": "acme/app", "default_branch": "main"},
	}
}

const zeroSHA = "0000000000000000000000000000000000000000"

// use runs the action in workspace for an event.
func (f *actionFixture) use(t *testing.T, bin, workspace string, with map[string]string, event string, payload any, vars map[string]string) actionResult {
	t.Helper()
	all := map[string]string{"GITHUB_EVENT_NAME": event}
	if payload != nil {
		compact := vars["LOFTYSCAN_ACTION_NO_JQ"] != ""
		all["GITHUB_EVENT_PATH"] = writeJSON(t, filepath.Join(t.TempDir(), "event.json"), payload, compact)
	}
	for k, v := range vars {
		all[k] = v
	}
	r := &actionRun{t: t, action: readActionFile(t), bin: bin, workspace: workspace, with: with, vars: all}
	return r.run()
}

// sarifPaths lists the path of each result in a SARIF file.
func sarifPaths(t *testing.T, name string) []string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Runs []struct {
			Results []struct {
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	paths := []string{}
	for _, run := range doc.Runs {
		for _, r := range run.Results {
			for _, l := range r.Locations {
				paths = append(paths, l.PhysicalLocation.ArtifactLocation.URI)
			}
		}
	}
	slices.Sort(paths)
	return paths
}

// want checks a run's exit status, range and findings.
func (res actionResult) want(t *testing.T, code int, rng string, paths ...string) {
	t.Helper()
	if res.code != code {
		t.Fatalf("exit status %d (step %s), want %d\n%s", res.code, res.failed, code, res.log)
	}
	if code == 2 {
		return
	}
	if res.outputs["range"] != rng {
		t.Errorf("range output %q, want %q\n%s", res.outputs["range"], rng, res.log)
	}
	got := sarifPaths(t, res.outputs["sarif"])
	slices.Sort(paths)
	if paths == nil {
		paths = []string{}
	}
	if !slices.Equal(got, paths) {
		t.Errorf("SARIF results at %q, want %q\n%s", got, paths, res.log)
	}
	if res.outputs["findings"] != strconv.Itoa(len(paths)) {
		t.Errorf("findings output %q, want %d", res.outputs["findings"], len(paths))
	}
}

func TestAction(t *testing.T) {
	bin := loftyscan
	f := newActionFixture(t)

	t.Run("pull request scans merge-base..head", func(t *testing.T) {
		t.Parallel()
		for _, noJQ := range []string{"", "1"} {
			ws := t.TempDir()
			f.checkout(t, ws, 0, "refs/pull/1/merge")
			res := f.use(t, bin, ws, nil, "pull_request", prEvent(f.base, f.head, f.merge), map[string]string{"LOFTYSCAN_ACTION_NO_JQ": noJQ})
			res.want(t, 1, f.bp+".."+f.head, "app/new.env")
			for _, s := range []string{
				"scanning from the merge-base " + f.bp + ", not from the base " + f.base,
				"app/new.env:1:15", // the terminal report in the log
				"::error title=loftyscan::1 Lofty API key finding(s) in the commits " + f.bp + ".." + f.head,
				"::stop-commands::",
			} {
				if !strings.Contains(res.log, s) {
					t.Errorf("no jq %q: the log has no %q:\n%s", noJQ, s, res.log)
				}
			}
			if strings.Contains(res.log, f.newKey) || strings.Contains(res.summary, f.newKey) {
				t.Error("the log or summary holds the full key")
			}
			if !strings.Contains(res.summary, "1 Lofty API key finding(s)") {
				t.Errorf("step summary: %q", res.summary)
			}
		}

		// Why not base.sha: the base branch removed the old key after the
		// branch point, so the tree diff base.sha..head adds it back, and
		// anything that reads that diff blames the pull request for a key
		// that was on main before it. From the merge-base, it does not.
		ci := testgit.Open(t, t.TempDir())
		f.checkout(t, ci.Dir, 0, "refs/pull/1/merge")
		if d := ci.Git("diff", f.base, f.head); !strings.Contains(d, "+LOFTY_API_KEY="+f.oldKey) {
			t.Errorf("git diff base.sha head does not add the old key:\n%s", d)
		}
		if d := ci.Git("diff", f.bp, f.head); strings.Contains(d, f.oldKey) {
			t.Errorf("git diff merge-base head holds the old key:\n%s", d)
		}
		// loftyscan's --range selects commits as git rev-list does (what B
		// reaches and A does not), so base.sha..head selects the same
		// commits here and reports the same key: the merge-base makes the
		// range the pull request's own, whatever reads it.
		for _, rng := range []string{f.base + ".." + f.head, f.bp + ".." + f.head} {
			cmd := exec.Command(bin, "git", "--range", rng, "--format", "json")
			cmd.Dir = ci.Dir
			cmd.Env = scriptEnv(t.TempDir(), nil)
			out, _ := cmd.Output()
			var rep struct{ Findings []struct{ Path string } }
			if err := json.Unmarshal(out, &rep); err != nil || len(rep.Findings) != 1 || rep.Findings[0].Path != "app/new.env" {
				t.Errorf("loftyscan git --range %s: %v %s", rng, err, out)
			}
		}
	})

	t.Run("pull request in a shallow clone", func(t *testing.T) {
		t.Parallel()
		// The default fetch-depth: 1, only the merge commit.
		ws := t.TempDir()
		f.checkout(t, ws, 1, "refs/pull/1/merge")
		res := f.use(t, bin, ws, nil, "pull_request", prEvent(f.base, f.head, f.merge), nil)
		res.want(t, 2, "")
		if res.failed != "range" || !strings.Contains(res.log, "base commit "+f.base+" is not in this clone, which is shallow") || !strings.Contains(res.log, "set fetch-depth: 0 on actions/checkout") {
			t.Errorf("step %s; log:\n%s", res.failed, res.log)
		}
		if slices.Contains(res.ran, "scan") {
			t.Error("the scan ran")
		}
		// fetch-depth: 2, the merge commit and its parents: base and head
		// are there, their merge-base is cut off.
		ws = t.TempDir()
		f.checkout(t, ws, 2, "refs/pull/1/merge")
		res = f.use(t, bin, ws, nil, "pull_request", prEvent(f.base, f.head, f.merge), nil)
		res.want(t, 2, "")
		if !strings.Contains(res.log, "their merge-base is not") || !strings.Contains(res.log, "fetch-depth: 0") {
			t.Errorf("log:\n%s", res.log)
		}
	})

	t.Run("push scans before..after", func(t *testing.T) {
		t.Parallel()
		ws := t.TempDir()
		f.checkout(t, ws, 0, "refs/heads/main")
		res := f.use(t, bin, ws, nil, "push", pushEvent("refs/heads/main", f.base, f.p2), nil)
		res.want(t, 1, f.base+".."+f.p2, "config/push.env")

		// A push without keys passes, and still writes a report.
		res = f.use(t, bin, ws, nil, "push", pushEvent("refs/heads/main", f.p1, f.p2), nil)
		res.want(t, 0, f.p1+".."+f.p2)
		if !strings.Contains(res.log, "::notice title=loftyscan::no Lofty API keys in the commits "+f.p1+".."+f.p2) {
			t.Errorf("log:\n%s", res.log)
		}

		// A deleted branch has nothing to scan.
		res = f.use(t, bin, ws, nil, "push", pushEvent("refs/heads/gone", f.p1, zeroSHA), nil)
		res.want(t, 0, f.p2+".."+f.p2)
	})

	t.Run("push of a new branch", func(t *testing.T) {
		t.Parallel()
		ws := t.TempDir()
		f.checkout(t, ws, 0, "refs/heads/topic")
		for _, noJQ := range []string{"", "1"} {
			// origin/topic is the pushed commit already: left out of what
			// counts as scanned before, unlike origin/main and origin/feature.
			res := f.use(t, bin, ws, nil, "push", pushEvent("refs/heads/topic", zeroSHA, f.t1), map[string]string{"LOFTYSCAN_ACTION_NO_JQ": noJQ})
			res.want(t, 1, f.p2+".."+f.t1, "topic.env")
		}

		// A force-push: the old commit is not in the clone.
		res := f.use(t, bin, ws, nil, "push", pushEvent("refs/heads/topic", f.gone, f.t1), nil)
		res.want(t, 1, f.p2+".."+f.t1, "topic.env")
		if !strings.Contains(res.log, "::warning title=loftyscan::the commit before the push, "+f.gone+", is not in this clone (a force-push") {
			t.Errorf("log:\n%s", res.log)
		}

		// A branch that merged another unpushed-to-main branch joins the
		// scanned history at two commits; the scan starts from the one that
		// leaves fewer commits and may report feature's key again, never
		// miss the branch's own.
		ws = t.TempDir()
		f.checkout(t, ws, 0, "refs/heads/topic2")
		res = f.use(t, bin, ws, nil, "push", pushEvent("refs/heads/topic2", zeroSHA, f.t2), nil)
		res.want(t, 1, f.p2+".."+f.t2, "app/new.env", "topic2.env")
		if !strings.Contains(res.log, "join the other branches at 2 commits") {
			t.Errorf("log:\n%s", res.log)
		}

		// Shallow: which commits are new cannot be told.
		ws = t.TempDir()
		f.checkout(t, ws, 1, "refs/heads/topic")
		res = f.use(t, bin, ws, nil, "push", pushEvent("refs/heads/topic", zeroSHA, f.t1), nil)
		res.want(t, 2, "")
		if !strings.Contains(res.log, "this clone is shallow") || !strings.Contains(res.log, "fetch-depth: 0") {
			t.Errorf("log:\n%s", res.log)
		}
	})

	t.Run("inputs", func(t *testing.T) {
		t.Parallel()
		ws := t.TempDir()
		f.checkout(t, ws, 0, "refs/pull/1/merge")
		pr := prEvent(f.base, f.head, f.merge)

		// range: as given, whatever the event.
		res := f.use(t, bin, ws, map[string]string{"range": f.c1 + ".." + f.p1}, "pull_request", pr, nil)
		res.want(t, 1, f.c1+".."+f.p1, "config/push.env")
		// A single revision: its whole history.
		res = f.use(t, bin, ws, map[string]string{"range": f.bp}, "workflow_dispatch", nil, nil)
		res.want(t, 1, f.bp, "config/old.env")
		// head: the pull request up to f1.
		res = f.use(t, bin, ws, map[string]string{"head": f.f1}, "pull_request", pr, nil)
		res.want(t, 1, f.bp+".."+f.f1, "app/new.env")
		// base on an event without one: merge-base(origin/main, HEAD)..HEAD,
		// with HEAD the pull request's merge commit.
		res = f.use(t, bin, ws, map[string]string{"base": "origin/main"}, "workflow_dispatch", nil, nil)
		res.want(t, 1, f.base+".."+f.merge, "app/new.env")
		// args: --exit-code 0 reports without failing.
		res = f.use(t, bin, ws, map[string]string{"args": "--exit-code 0  --no-color"}, "pull_request", pr, nil)
		res.want(t, 0, f.bp+".."+f.head, "app/new.env")
		// args cannot take over the SARIF file's format.
		res = f.use(t, bin, ws, map[string]string{"args": "--format json"}, "pull_request", pr, nil)
		res.want(t, 1, f.bp+".."+f.head, "app/new.env")
		// An event without commits of its own: every ref.
		res = f.use(t, bin, ws, nil, "schedule", nil, nil)
		res.want(t, 1, "", "app/new.env", "config/old.env", "config/push.env", "topic.env", "topic2.env")

		// path and sarif: the repository in a subfolder, the report in another.
		ws = t.TempDir()
		f.checkout(t, filepath.Join(ws, "src"), 0, "refs/pull/1/merge")
		res = f.use(t, bin, ws, map[string]string{"path": "src", "sarif": "reports/keys.sarif"}, "pull_request", pr, nil)
		res.want(t, 1, f.bp+".."+f.head, "app/new.env")
		if want := filepath.Join(ws, "reports", "keys.sarif"); res.outputs["sarif"] != want {
			t.Errorf("sarif output %q, want %q", res.outputs["sarif"], want)
		}

		// Mistakes stop at the range step with a message.
		for _, c := range []struct {
			with map[string]string
			msg  string
		}{
			{map[string]string{"path": "nowhere"}, "path 'nowhere' is not a folder"},
			{map[string]string{"path": "reports"}, "'reports' is not a git repository"},
			{map[string]string{"path": "src", "range": "HEAD..0123456789012345678901234567890123456789"}, "the range's end 0123456789012345678901234567890123456789 is not in this clone: fetch it"},
			{map[string]string{"path": "src", "range": "main...HEAD"}, "A...B is not supported"},
		} {
			res = f.use(t, bin, ws, c.with, "pull_request", pr, nil)
			res.want(t, 2, "")
			if res.failed != "range" || !strings.Contains(res.log, c.msg) {
				t.Errorf("%v: step %s, log:\n%s", c.with, res.failed, res.log)
			}
		}
	})
}

// TestActionFile checks action.yml against what GitHub and the scripts
// expect of it.
func TestActionFile(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	a := readActionFile(t)
	raw, err := os.ReadFile("action.yml")
	if err != nil {
		t.Fatal(err)
	}
	if a.Name == "" || a.Description == "" || a.Runs.Using != "composite" {
		t.Errorf("name %q, description %q, runs.using %q", a.Name, a.Description, a.Runs.Using)
	}
	// Every input the file names is declared, and every declared one used.
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`inputs\.([A-Za-z0-9_-]+)`).FindAllStringSubmatch(string(raw), -1) {
		used[m[1]] = true
		if _, ok := a.Inputs[m[1]]; !ok {
			t.Errorf("inputs.%s is used but not declared", m[1])
		}
	}
	for name, in := range a.Inputs {
		if !used[name] {
			t.Errorf("input %s is declared but not used", name)
		}
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
	}
	for _, name := range []string{"path", "range", "base", "head", "args", "sarif"} {
		if _, ok := a.Inputs[name]; !ok {
			t.Errorf("no input %s", name)
		}
	}
	for _, name := range []string{"sarif", "findings", "range"} {
		if a.Outputs[name].Value == "" {
			t.Errorf("no output %s", name)
		}
	}

	// Steps: each output read is set by an earlier step's script.
	sets := map[string]map[string]bool{}
	stepOutput := regexp.MustCompile(`steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)`)
	checkRefs := func(where, s string) {
		for _, m := range stepOutput.FindAllStringSubmatch(s, -1) {
			if !sets[m[1]][m[2]] {
				t.Errorf("%s reads steps.%s.outputs.%s, which no earlier step sets", where, m[1], m[2])
			}
		}
	}
	script := regexp.MustCompile(`^bash "\$GITHUB_ACTION_PATH/(scripts/action/[a-z_]+\.sh)"$`)
	goMod := false
	for i, st := range a.Runs.Steps {
		where := "step " + strconv.Itoa(i) + " " + st.Name
		if st.Uses != "" {
			if strings.HasPrefix(st.Uses, "actions/setup-go@") && st.With["go-version-file"] == "${{ github.action_path }}/go.mod" {
				goMod = true
			}
			continue
		}
		if st.Shell != "bash" {
			t.Errorf("%s: shell %q, want bash (on Linux, macOS and Windows runners alike)", where, st.Shell)
		}
		// Expressions are expanded into a script's text before it runs:
		// an input there would be run as shell code.
		if strings.Contains(st.Run, "${{") {
			t.Errorf("%s: an expression in run; pass it through env", where)
		}
		m := script.FindStringSubmatch(strings.TrimSpace(st.Run))
		if m == nil {
			t.Errorf("%s: run %q, want bash \"$GITHUB_ACTION_PATH/scripts/action/NAME.sh\" (the scripts are tested)", where, st.Run)
			continue
		}
		for k, v := range st.Env {
			checkRefs(where+" env "+k, v)
		}
		body, err := os.ReadFile(m[1])
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		if out, err := exec.Command("bash", "-n", m[1]).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v\n%s", m[1], err, out)
		}
		if st.ID != "" {
			sets[st.ID] = map[string]bool{}
			for _, o := range regexp.MustCompile(`set_output ([a-z_]+) `).FindAllStringSubmatch(string(body), -1) {
				sets[st.ID][o[1]] = true
			}
		}
	}
	if !goMod {
		t.Error("no actions/setup-go step with go-version-file: ${{ github.action_path }}/go.mod")
	}
	for name, o := range a.Outputs {
		checkRefs("output "+name, o.Value)
	}
}

// TestActionJSONReader checks the awk JSON reader the scripts use when
// there is no jq, against jq when there is one.
func TestActionJSONReader(t *testing.T) {
	if _, err := exec.LookPath("awk"); err != nil {
		t.Skip("awk is not installed")
	}
	doc := `{"a": {"sha": "not this", "b": {"sha": "abc123"}}, "s": "x{\"y\":[1]}z", "list": [{"sha": "l0"}, {"sha": "l1", "deep": [[], {}]}],
  "n": 42, "neg": -1.5e3, "t": true, "nul": null, "e": {}, "ea": [],
  "after":"0000000000000000000000000000000000000000","u": "Grüße → ok", "last": {"sha":"z"}}`
	name := filepath.Join(t.TempDir(), "doc.json")
	if err := os.WriteFile(name, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	_, jqErr := exec.LookPath("jq")
	for path, want := range map[string]string{
		"a.b.sha": "abc123", "a.sha": "not this", "s": `x{\"y\":[1]}z`, "list[1].sha": "l1", "list[0].sha": "l0",
		"n": "42", "neg": "-1.5e3", "t": "true", "nul": "", "e": "", "missing": "", "a.b.sha.x": "",
		"after": zeroSHA, "u": "Grüße → ok", "last.sha": "z", "sha": "",
	} {
		out, err := exec.Command("awk", "-v", "want="+path, "-f", "scripts/action/json_get.awk", name).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", path, err, out)
		}
		if got := strings.TrimSuffix(string(out), "\n"); got != want {
			t.Errorf("awk %s: %q, want %q", path, got, want)
		}
		if jqErr != nil || strings.Contains(want, `\`) || path == "e" || path == "neg" {
			continue // jq decodes escapes, prints {} for objects and -1500 for -1.5e3
		}
		out, err = exec.Command("jq", "-r", "."+path+" // empty", name).Output()
		if got := strings.TrimSuffix(string(out), "\n"); err == nil && got != want {
			t.Errorf("jq %s: %q, want %q", path, got, want)
		}
	}
}

// TestActionHostileRepository commits what issue 10 found could drive the
// Action's log: a corrupt zip whose entry is named
// "evil\x1b]0;PWNED\x07\n::error title=x::injected", and a key in a file
// name. loftyscan's warning names the entry escaped, inside the region
// where the runner reads no workflow command, and no line of the log is a
// command that the repository wrote.
func TestActionHostileRepository(t *testing.T) {
	f := newActionFixture(t)
	ws := t.TempDir()
	f.checkout(t, ws, 0, "refs/heads/main")
	r := testgit.Open(t, ws)
	nameKey := gitKey("in-a-file-name")
	r.Write(nameKey+".tar.env", "LOFTY_API_KEY="+gitKey("hostile")+"\n")
	r.Write("evil.zip", string(corruptZip(t, "evil\x1b]0;PWNED\x07\n::error title=x::injected")))
	r.Commit("hostile")
	res := f.use(t, loftyscan, ws, map[string]string{"range": "HEAD~1..HEAD"}, "workflow_dispatch", nil, nil)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", res.code, res.log)
	}
	stop := strings.Index(res.log, "::stop-commands::")
	warn := strings.Index(res.log, `evil\x1b]0;PWNED\x07\x0a::error title=x::injected`)
	if stop < 0 || warn < stop {
		t.Errorf("the warning naming the entry is not escaped, or comes before ::stop-commands::\n%s", res.log)
	}
	for _, line := range strings.Split(res.log, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "::error title=x") || strings.ContainsAny(line, "\x1b\x07\r") {
			t.Errorf("a line the repository wrote: %q", line)
		}
	}
	if strings.Contains(res.log, nameKey) {
		t.Errorf("the log holds the key in the file name\n%s", res.log)
	}
}

// corruptZip is a zip archive with one stored entry, named name, whose
// checksum is wrong.
func corruptZip(t *testing.T, name string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	data := []byte("some text\n")
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: name, Method: zip.Store, CRC32: crc32.ChecksumIEEE(data) ^ 1,
		CompressedSize64: uint64(len(data)), UncompressedSize64: uint64(len(data)),
	})
	if err == nil {
		_, err = w.Write(data)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
