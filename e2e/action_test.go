package e2e

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"hash/crc32"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/internal/testtool"
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

// use runs the action in workspace for an event, with a warm cache that
// holds bin.
func (f *actionFixture) use(t *testing.T, bin, workspace string, with map[string]string, event string, payload any, vars map[string]string) actionResult {
	t.Helper()
	all := map[string]string{"GITHUB_EVENT_NAME": event}
	if payload != nil {
		all["GITHUB_EVENT_PATH"] = writeJSON(t, filepath.Join(t.TempDir(), "event.json"), payload, false)
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

// want checks a run's exit status, range and findings: in the SARIF file,
// as annotations the runner would show, and in the counts.
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
	var annotated []string
	for _, c := range runnerCommands(res.log) {
		if c.name == "error" && c.props["file"] != "" {
			annotated = append(annotated, c.props["file"])
		}
	}
	slices.Sort(annotated)
	if !slices.Equal(annotated, paths) && len(annotated)+len(paths) > 0 {
		t.Errorf("error annotations on %q, want %q\n%s", annotated, paths, res.log)
	}
}

// runnerCommand is a workflow command as the runner reads it.
type runnerCommand struct {
	name  string
	props map[string]string
	data  string
}

// runnerCommands reads a step's log as the Actions runner does
// (actions/runner ActionCommandManager.TryProcessCommand): a line that
// starts, after white space, with ::NAME and holds a second :: is a
// command; failing that, ##[NAME]... anywhere in the line is one (the
// older syntax); NAME must be a command the runner knows. After
// ::stop-commands::TOKEN nothing is a command until ::TOKEN::.
func runnerCommands(log string) []runnerCommand {
	known := map[string]bool{}
	for _, n := range []string{"error", "warning", "notice", "debug", "group", "endgroup", "echo", "add-mask",
		"add-matcher", "remove-matcher", "set-output", "save-state", "set-env", "add-path", "stop-commands"} {
		known[n] = true
	}
	unescape := strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%")
	var cmds []runnerCommand
	stop := ""
	for _, line := range strings.Split(log, "\n") {
		var c runnerCommand
		props := ""
		if l := strings.TrimLeft(line, " \t"); strings.HasPrefix(l, "::") && strings.Contains(l[2:], "::") {
			info, data, _ := strings.Cut(l[2:], "::")
			c.name, props, _ = strings.Cut(info, " ")
			c.data = data
		}
		if !known[c.name] && c.name != stop {
			c = runnerCommand{}
			if i := strings.Index(line, "##["); i >= 0 {
				if j := strings.Index(line[i:], "]"); j >= 0 {
					c.name, _, _ = strings.Cut(line[i+3:i+j], " ")
					c.data = line[i+j+1:]
				}
			}
		}
		if c.name == "" || !known[c.name] && (stop == "" || c.name != stop) {
			continue
		}
		switch {
		case stop != "" && c.name == stop:
			stop = ""
			continue
		case stop != "":
			continue
		case c.name == "stop-commands":
			stop = c.data
			continue
		}
		c.props = map[string]string{}
		for _, kv := range strings.Split(props, ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				c.props[k] = unescape.Replace(v)
			}
		}
		c.data = unescape.Replace(c.data)
		cmds = append(cmds, c)
	}
	return cmds
}

func TestAction(t *testing.T) {
	bin := loftyscan
	f := newActionFixture(t)

	t.Run("pull request scans merge-base..head", func(t *testing.T) {
		t.Parallel()
		ws := t.TempDir()
		f.checkout(t, ws, 0, "refs/pull/1/merge")
		// The cached loftyscan is a wrapper that records its arguments.
		wrapDir, calls := t.TempDir(), filepath.Join(t.TempDir(), "calls.log")
		wrapper := filepath.Join(wrapDir, "loftyscan")
		script := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> " + shellQuote(calls) + "\nexec " + shellQuote(bin) + " \"$@\"\n"
		if err := testtool.WriteExecutable(wrapper, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		res := f.use(t, wrapper, ws, nil, "pull_request", prEvent(f.base, f.head, f.merge), nil)
		res.want(t, 1, f.bp+".."+f.head, "app/new.env")
		// One scan: loftyscan ran once and wrote every report.
		b, err := os.ReadFile(calls)
		if err != nil {
			t.Fatal(err)
		}
		runs := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(runs) != 1 || !strings.HasPrefix(runs[0], "git --github-event ") {
			t.Errorf("loftyscan ran %d times: %q", len(runs), runs)
		}
		for _, report := range []string{"--report github", "--report sarif=", "--report markdown=", "--report counts="} {
			if !strings.Contains(runs[0], report) {
				t.Errorf("the scan %q has no %s", runs[0], report)
			}
		}
		for _, s := range []string{
			"scanning from the merge-base " + f.bp + ", not from the base " + f.base,
			"::error file=app/new.env,line=1,col=15,title=Lofty API key (high)::Lofty API key ",
			"app/new.env:1:15", // the terminal report in the log
			"::stop-commands::",
		} {
			if !strings.Contains(res.log, s) {
				t.Errorf("the log has no %q:\n%s", s, res.log)
			}
		}
		if strings.Contains(res.log, f.newKey) || strings.Contains(res.summary, f.newKey) {
			t.Error("the log or summary holds the full key")
		}
		if !strings.HasPrefix(res.summary, "### loftyscan: 1 finding\n") || !strings.Contains(res.summary, "| active keys | 1 | high |") {
			t.Errorf("step summary: %q", res.summary)
		}
		if res.outputs["active"] != "1" || res.outputs["suppressed"] != "0" || res.outputs["errors"] != "0" || res.outputs["files"] == "0" {
			t.Errorf("outputs %v", res.outputs)
		}
		// The report is in the runner's temporary folder, out of the
		// checkout's reach; nothing is left in the workspace.
		if !strings.Contains(res.outputs["sarif"], "runner-temp") {
			t.Errorf("sarif output %q", res.outputs["sarif"])
		}
		if out := testgit.Open(t, ws).Git("status", "--porcelain", "--ignored"); out != "" {
			t.Errorf("the action left files in the workspace:\n%s", out)
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
		if res.failed != "scan" || !strings.Contains(res.log, "base commit "+f.base+" is not in this clone, which is shallow") || !strings.Contains(res.log, "set fetch-depth: 0 on actions/checkout") {
			t.Errorf("step %s; log:\n%s", res.failed, res.log)
		}
		cmds := runnerCommands(res.log)
		if len(cmds) != 1 || cmds[0].name != "error" || !strings.Contains(cmds[0].data, "is not in this clone, which is shallow") || !strings.Contains(cmds[0].data, "\nset fetch-depth: 0") {
			t.Errorf("annotations %+v, want one error with the message and the hint", cmds)
		}
		if res.outputs["sarif"] != "" || res.outputs["findings"] != "" || res.outputs["range"] != "" {
			t.Errorf("outputs after a failure: %v", res.outputs)
		}
		if !strings.Contains(res.summary, "loftyscan could not finish (exit status 2)") {
			t.Errorf("step summary: %q", res.summary)
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
		if !strings.HasPrefix(res.summary, "### loftyscan: no Lofty keys found") {
			t.Errorf("step summary: %q", res.summary)
		}

		// A deleted branch has nothing to scan: the reports are empty.
		res = f.use(t, bin, ws, nil, "push", pushEvent("refs/heads/gone", f.p1, zeroSHA), nil)
		res.want(t, 0, f.p2+".."+f.p2)
		if !strings.Contains(res.log, "the push deleted refs/heads/gone: nothing to scan") || res.outputs["files"] != "0" {
			t.Errorf("files output %q; log:\n%s", res.outputs["files"], res.log)
		}
	})

	t.Run("push of a new branch", func(t *testing.T) {
		t.Parallel()
		ws := t.TempDir()
		f.checkout(t, ws, 0, "refs/heads/topic")
		// origin/topic is the pushed commit already: left out of what
		// counts as scanned before, unlike origin/main and origin/feature.
		res := f.use(t, bin, ws, nil, "push", pushEvent("refs/heads/topic", zeroSHA, f.t1), nil)
		res.want(t, 1, f.p2+".."+f.t1, "topic.env")

		// A force-push: the old commit is not in the clone.
		res = f.use(t, bin, ws, nil, "push", pushEvent("refs/heads/topic", f.gone, f.t1), nil)
		res.want(t, 1, f.p2+".."+f.t1, "topic.env")
		if !strings.Contains(res.log, "::warning title=loftyscan::the commit before the push, "+f.gone+", is not in this clone (a force-push") {
			t.Errorf("log:\n%s", res.log)
		}

		// A branch that merged another branch not yet on main joins the
		// default branch at two commits. Only the default branch counts as
		// scanned: feature's key is reported again (a branch pushed with
		// this one would otherwise count as scanned without having been).
		ws = t.TempDir()
		f.checkout(t, ws, 0, "refs/heads/topic2")
		res = f.use(t, bin, ws, nil, "push", pushEvent("refs/heads/topic2", zeroSHA, f.t2), nil)
		if !strings.HasPrefix(res.outputs["range"], f.t2+" ^") || !strings.Contains(res.outputs["range"], " ^"+f.p2) || !strings.Contains(res.outputs["range"], " ^"+f.bp) {
			t.Errorf("range output %q, want %s ^%s ^%s in some order", res.outputs["range"], f.t2, f.p2, f.bp)
		}
		res.want(t, 1, res.outputs["range"], "app/new.env", "topic2.env")
		if !strings.Contains(res.log, "join the default branch at 2 commits") {
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

	t.Run("a sarif file in the workspace is never taken for the report", func(t *testing.T) {
		t.Parallel()
		ws := t.TempDir()
		f.checkout(t, ws, 0, "refs/pull/1/merge")
		pr := prEvent(f.base, f.head, f.merge)
		precious := filepath.Join(t.TempDir(), "runner-file")
		if err := os.WriteFile(precious, []byte("precious"), 0o644); err != nil {
			t.Fatal(err)
		}
		// The sarif input names a file of the workspace, which the change
		// under review controls (the default is in RUNNER_TEMP).
		sarif := filepath.Join(ws, "loftyscan.sarif")
		// A link where the report goes: replaced by the report, its target
		// untouched.
		if err := os.Symlink(precious, sarif); err != nil {
			t.Fatal(err)
		}
		res := f.use(t, bin, ws, map[string]string{"sarif": sarif}, "pull_request", pr, nil)
		res.want(t, 1, f.bp+".."+f.head, "app/new.env")
		if fi, err := os.Lstat(sarif); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("loftyscan.sarif is %v (%v), want the report in place of the link", fi.Mode(), err)
		}
		// A report from before (or committed by the change) with no results,
		// and a scan that fails: no report is left for the upload step.
		if err := os.WriteFile(sarif, []byte(`{"version":"2.1.0","runs":[{"results":[]}]}`), 0o644); err != nil {
			t.Fatal(err)
		}
		res = f.use(t, bin, ws, map[string]string{"sarif": sarif, "args": "--config " + filepath.Join(t.TempDir(), "missing.toml")}, "pull_request", pr, nil)
		res.want(t, 2, "")
		if _, err := os.Lstat(sarif); !os.IsNotExist(err) {
			t.Errorf("a SARIF file is left for the upload step after a failed scan: %v", err)
		}
		if b, _ := os.ReadFile(precious); string(b) != "precious" {
			t.Errorf("the link's target was written: %q", b)
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
		// args cannot take over the log's report or the SARIF file; a
		// --report of theirs adds one.
		extra := filepath.Join(t.TempDir(), "keys.json")
		res = f.use(t, bin, ws, map[string]string{"args": "--format json --output x.json --report json=" + extra}, "pull_request", pr, nil)
		res.want(t, 1, f.bp+".."+f.head, "app/new.env")
		if data, err := os.ReadFile(extra); err != nil || !strings.Contains(string(data), `"path": "app/new.env"`) {
			t.Errorf("the extra report: %v\n%s", err, data)
		}
		if _, err := os.Stat(filepath.Join(ws, "x.json")); err == nil {
			t.Error("--output in args took the log's report")
		}
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
		// A SARIF file the checked-out change commits as a link is
		// replaced, not written through.
		target := filepath.Join(t.TempDir(), "victim")
		if err := os.WriteFile(target, []byte("keep\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(ws, "reports", "keys.sarif")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(ws, "reports", "keys.sarif")); err != nil {
			t.Fatal(err)
		}
		res = f.use(t, bin, ws, map[string]string{"path": "src", "sarif": "reports/keys.sarif"}, "pull_request", pr, nil)
		res.want(t, 1, f.bp+".."+f.head, "app/new.env")
		if data, _ := os.ReadFile(target); string(data) != "keep\n" {
			t.Errorf("the report was written through the link: %q", data)
		}

		// Mistakes stop the scan step with a message.
		for _, c := range []struct {
			with map[string]string
			msg  []string
		}{
			{map[string]string{"path": "nowhere"}, []string{"path 'nowhere' is not a folder"}},
			{map[string]string{"path": "reports"}, []string{"not a git repository"}},
			{map[string]string{"path": "src", "range": "HEAD..0123456789012345678901234567890123456789"},
				[]string{"the range's end 0123456789012345678901234567890123456789 is not in this clone", "hint: fetch it before this step (git fetch origin 0123456789012345678901234567890123456789)"}},
			{map[string]string{"path": "src", "range": "main...HEAD"}, []string{"A...B is not supported"}},
			{map[string]string{"path": "src", "base": "--output=/tmp/x"}, []string{"starts with '-'"}},
			{map[string]string{"path": "src", "no-inline-allow": "yes"}, []string{"no-inline-allow is 'yes': use true or false"}},
		} {
			res = f.use(t, bin, ws, c.with, "pull_request", pr, nil)
			res.want(t, 2, "")
			for _, msg := range c.msg {
				if res.failed != "scan" || !strings.Contains(res.log, msg) {
					t.Errorf("%v: step %s, no %q in the log:\n%s", c.with, res.failed, msg, res.log)
				}
			}
			if cmds := runnerCommands(res.log); len(cmds) != 1 || cmds[0].name != "error" {
				t.Errorf("%v: annotations %+v, want one error", c.with, cmds)
			}
		}
	})
}

// TestActionCache runs the action twice in a row on one cache, as two
// runs of a job do: the first (cold: an empty cache) builds loftyscan
// from the action's source and saves it; the second restores it and runs
// no Go at all. The job's go is a wrapper that records each command it
// runs, so the test sees what each run did. Neither run leaves anything on
// the job's PATH or in its environment. The steps' times are logged
// (go test -v), not compared; with LOFTYSCAN_ACTION_COLD=1 the runs get
// empty Go caches, as on a new runner (the README's figures).
func TestActionCache(t *testing.T) {
	t.Parallel()
	goBin := testtool.Need(t, "go")
	f := newActionFixture(t)
	ws := t.TempDir()
	f.checkout(t, ws, 0, "refs/pull/1/merge")
	cache := t.TempDir()
	event := writeJSON(t, filepath.Join(t.TempDir(), "event.json"), prEvent(f.base, f.head, f.merge), false)
	shim, goLog := recordingGo(t, goBin)
	vars := map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": event}
	if os.Getenv("LOFTYSCAN_ACTION_COLD") == "1" {
		// For the README's figures: the runs get empty Go build and module
		// caches, as a new runner has, instead of the test machine's.
		vars["GOCACHE"], vars["GOMODCACHE"] = t.TempDir(), t.TempDir()
		t.Cleanup(func() { // before the folders go: the module cache is read-only
			cmd := exec.Command(goBin, "clean", "-modcache")
			cmd.Env = append(os.Environ(), "GOMODCACHE="+vars["GOMODCACHE"])
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("go clean -modcache: %v\n%s", err, out)
			}
		})
	}
	use := func() actionResult {
		r := &actionRun{t: t, action: readActionFile(t), cache: cache, workspace: ws, path: append([]string{shim}, pathWithoutGo(t)...), vars: vars}
		return r.run()
	}
	goCommands := func() []string {
		b, err := os.ReadFile(goLog)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		os.Remove(goLog)
		if lines[0] == "" {
			return nil
		}
		return lines
	}

	cold := use()
	cold.want(t, 1, f.bp+".."+f.head, "app/new.env")
	if !slices.Equal(cold.ran, []string{"prepare", "cache", "build", "save", "scan"}) {
		t.Errorf("cold: ran %v, want every step\n%s", cold.ran, cold.log)
	}
	built := slices.ContainsFunc(goCommands(), func(c string) bool { return strings.HasPrefix(c, "build ") })
	if !built {
		t.Errorf("cold: go built nothing\n%s", cold.log)
	}
	key := cold.steps["prepare"]["key"]
	if _, err := os.Stat(filepath.Join(cache, key, "loftyscan")); err != nil {
		t.Errorf("the build is not in the cache: %v\n%s", err, cold.log)
	}
	t.Logf("cold run (empty cache):\n%s", cold.timing())

	warm := use()
	warm.want(t, 1, f.bp+".."+f.head, "app/new.env")
	if !slices.Equal(warm.ran, []string{"prepare", "cache", "scan"}) {
		t.Errorf("warm: ran %v, want no build or save\n%s", warm.ran, warm.log)
	}
	if cmds := goCommands(); len(cmds) > 0 {
		t.Errorf("warm: the action ran go %q", cmds)
	}
	if !strings.Contains(warm.log, "Cache restored from key: "+key) || strings.Contains(warm.log, "building loftyscan") {
		t.Errorf("warm: log:\n%s", warm.log)
	}
	t.Logf("warm run (the cache restored):\n%s", warm.timing())

	for _, res := range []actionResult{cold, warm} {
		if len(res.jobPath) > 0 || len(res.jobEnv) > 0 {
			t.Errorf("the action left PATH %v and environment %v to the job", res.jobPath, res.jobEnv)
		}
	}
}

// recordingGo makes a folder whose go runs goBin after writing its
// arguments, one line a command, to the log file it returns.
func recordingGo(t *testing.T, goBin string) (dir, log string) {
	t.Helper()
	dir = t.TempDir()
	log = filepath.Join(t.TempDir(), "go-commands.log")
	script := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> " + shellQuote(log) + "\nexec " + shellQuote(goBin) + " \"$@\"\n"
	if err := testtool.WriteExecutable(filepath.Join(dir, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, log
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// pathWithoutGo is the test's PATH without a go command: a runner with no
// Go of its own. A folder that holds go among other programs (/usr/bin, where
// a distribution's golang package puts it) is replaced by a folder of links to
// the others: dropped whole, it took bash, git and coreutils with it, and the
// action's steps failed with "bash: command not found".
func pathWithoutGo(t testing.TB) []string {
	t.Helper()
	return pathWithout(t, os.Getenv("PATH"), "go", "gofmt")
}

// pathWithout is the folders of path, without the programs named.
func pathWithout(t testing.TB, path string, programs ...string) []string {
	t.Helper()
	var dirs []string
	for _, d := range filepath.SplitList(path) {
		holds := false
		for _, p := range programs {
			if _, err := os.Stat(filepath.Join(d, p)); err == nil {
				holds = true
			}
		}
		if !holds {
			dirs = append(dirs, d)
			continue
		}
		entries, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		links := t.TempDir()
		for _, e := range entries {
			if !slices.Contains(programs, e.Name()) {
				if err := os.Symlink(filepath.Join(d, e.Name()), filepath.Join(links, e.Name())); err != nil {
					t.Fatal(err)
				}
			}
		}
		dirs = append(dirs, links)
	}
	return dirs
}

// TestPathWithoutGo: a folder that holds go and bash loses go only.
func TestPathWithoutGo(t *testing.T) {
	t.Parallel()
	bin, other := t.TempDir(), t.TempDir()
	for _, p := range []string{filepath.Join(bin, "go"), filepath.Join(bin, "gofmt"), filepath.Join(bin, "bash"), filepath.Join(other, "git")} {
		if err := testtool.WriteExecutable(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dirs := pathWithout(t, bin+string(filepath.ListSeparator)+other, "go", "gofmt")
	find := func(name string) bool {
		for _, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, name)); err == nil {
				return true
			}
		}
		return false
	}
	if find("go") || find("gofmt") || !find("bash") || !find("git") {
		t.Errorf("PATH %v: want bash and git without go and gofmt", dirs)
	}
}

// TestActionGoOfTheRunner: with no go on PATH, the action builds with a Go
// from the runner's tool cache (where GitHub's images keep theirs), passing
// over one older than 1.21 (it cannot fetch the Go of go.mod). With none,
// it installs no Go: a cold run fails and says what to do, a warm one
// needs none. Either way the job's PATH and environment stay as they were.
func TestActionGoOfTheRunner(t *testing.T) {
	t.Parallel()
	goBin := testtool.Need(t, "go")
	goBin, err := filepath.EvalSymlinks(goBin)
	if err != nil {
		t.Fatal(err)
	}
	goRoot := filepath.Dir(filepath.Dir(goBin))
	f := newActionFixture(t)
	ws := t.TempDir()
	f.checkout(t, ws, 0, "refs/heads/main")
	event := writeJSON(t, filepath.Join(t.TempDir(), "event.json"), pushEvent("refs/heads/main", f.base, f.p2), false)
	vars := map[string]string{"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": event}
	noCache := map[string]string{"cache": "false"}
	// A tool cache with only a Go 1.20.
	oldTools := t.TempDir()
	oldGo := filepath.Join(oldTools, "go", "1.20.14", "x64", "bin", "go")
	if err := os.MkdirAll(filepath.Dir(oldGo), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := testtool.WriteExecutable(oldGo, []byte("#!/bin/sh\necho go1.20.14\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	unchanged := func(t *testing.T, res actionResult) {
		t.Helper()
		if len(res.jobPath) > 0 || len(res.jobEnv) > 0 {
			t.Errorf("the action left PATH %v and environment %v to the job", res.jobPath, res.jobEnv)
		}
	}

	t.Run("tool cache", func(t *testing.T) {
		t.Parallel()
		tools := t.TempDir()
		version := filepath.Join(tools, "go", "1.26.0", "x64")
		if err := os.MkdirAll(filepath.Dir(version), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(goRoot, version); err != nil {
			t.Fatal(err)
		}
		r := &actionRun{t: t, action: readActionFile(t), workspace: ws, with: noCache, vars: vars, path: pathWithoutGo(t), toolCache: tools}
		res := r.run()
		res.want(t, 1, f.base+".."+f.p2, "config/push.env")
		if !strings.Contains(res.log, "building loftyscan with "+filepath.Join(version, "bin", "go")+" (go1.") {
			t.Errorf("not built with the tool cache's go:\n%s", res.log)
		}
		if !slices.Equal(res.ran, []string{"prepare", "build", "scan"}) {
			t.Errorf("ran %v", res.ran)
		}
		unchanged(t, res)
	})

	t.Run("none", func(t *testing.T) {
		t.Parallel()
		r := &actionRun{t: t, action: readActionFile(t), workspace: ws, with: noCache, vars: vars, path: pathWithoutGo(t), toolCache: oldTools}
		res := r.run()
		if res.code != 2 || res.failed != "build" || !strings.Contains(res.log, "::error title=loftyscan::no Go 1.21 or later on PATH or in the runner's tool cache") ||
			!strings.Contains(res.log, "actions/setup-go before this action") {
			t.Errorf("exit %d in %q\n%s", res.code, res.failed, res.log)
		}
		unchanged(t, res)
	})

	t.Run("none, warm cache", func(t *testing.T) {
		t.Parallel()
		r := &actionRun{t: t, action: readActionFile(t), workspace: ws, vars: vars, path: pathWithoutGo(t), toolCache: oldTools, bin: loftyscan}
		res := r.run()
		res.want(t, 1, f.base+".."+f.p2, "config/push.env")
		if slices.Contains(res.ran, "build") {
			t.Errorf("ran %v", res.ran)
		}
		unchanged(t, res)
	})
}

// TestActionPrepareScript checks the cache key that
// scripts/action/prepare.sh computes, with no Go on PATH, on a small tree
// standing in for the action's checkout.
func TestActionPrepareScript(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/x\n\ngo 1.26.0\n")
	write("go.sum", "")
	write("main.go", "package main\n\nfunc main() {}\n")
	write("main_test.go", "package main\n")
	write("internal/testdata/fixture.go", "package fixture\n")
	write("README.md", "readme\n")
	prepare := func(path []string, vars map[string]string) map[string]string {
		t.Helper()
		out := filepath.Join(t.TempDir(), "output")
		all := map[string]string{"GITHUB_ACTION_PATH": src, "GITHUB_OUTPUT": out, "RUNNER_TEMP": t.TempDir(),
			"RUNNER_OS": "Linux", "RUNNER_ARCH": "X64",
			"PATH": strings.Join(path, string(filepath.ListSeparator))}
		maps.Copy(all, vars)
		cmd := exec.Command("bash", "scripts/action/prepare.sh")
		cmd.Env = scriptEnv(t.TempDir(), all)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("prepare.sh: %v\n%s", err, b)
		}
		return readStepOutputs(t, out)
	}
	noGo := pathWithoutGo(t)
	first := prepare(noGo, nil)
	if !regexp.MustCompile(`^loftyscan-Linux-X64-[0-9a-f]{64}$`).MatchString(first["key"]) || len(first) != 3 ||
		first["bin"] != filepath.Join(first["dir"], "loftyscan") {
		t.Fatalf("outputs %v", first)
	}
	key := func(vars map[string]string) string { return prepare(noGo, vars)["key"] }
	// Tests, test data and other files do not go into the binary.
	write("main_test.go", "package main\n\n// changed\n")
	write("internal/testdata/fixture.go", "package fixture // changed\n")
	write("README.md", "changed\n")
	if k := key(nil); k != first["key"] {
		t.Error("a change to tests, test data or the README changed the key")
	}
	if k := key(map[string]string{"RUNNER_OS": "macOS"}); k == first["key"] {
		t.Error("another OS has the same key")
	}
	write("go.sum", "example.com/y v1.0.0 h1:x\n")
	second := key(nil)
	if second == first["key"] {
		t.Error("a change to go.sum kept the key")
	}
	if err := os.Rename(filepath.Join(src, "main.go"), filepath.Join(src, "cmd.go")); err != nil {
		t.Fatal(err)
	}
	if key(nil) == second {
		t.Error("a renamed source file kept the key")
	}
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
	for _, name := range []string{"path", "range", "base", "head", "args", "sarif", "cache", "config", "ignore-file", "no-inline-allow"} {
		if _, ok := a.Inputs[name]; !ok {
			t.Errorf("no input %s", name)
		}
	}
	// An output for the SARIF file, the range, and each count the counts
	// report writes.
	for _, name := range []string{"sarif", "range", "findings", "suppressed", "live", "active", "unconfirmed", "rejected", "expired", "allowed_by_change", "notices", "files", "skipped", "errors"} {
		if a.Outputs[name].Value != "${{ steps.scan.outputs."+name+" }}" || a.Outputs[name].Description == "" {
			t.Errorf("output %s: %+v", name, a.Outputs[name])
		}
	}
	var counts bytes.Buffer
	cmd := exec.Command(loftyscan, "stdin", "--format", "counts")
	cmd.Stdin, cmd.Stdout = strings.NewReader("nothing\n"), &counts
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(counts.String()), "\n") {
		name, _, _ := strings.Cut(line, "=")
		if _, ok := a.Outputs[name]; !ok {
			t.Errorf("the counts report writes %s, which is no output of the action", name)
		}
	}

	// Third-party actions: pinned by a full commit name, the tag in a
	// comment after it.
	pinned := regexp.MustCompile(`(?m)^\s*uses: ([^@\s]+)@([0-9a-f]{40}) # v\d+\.\d+\.\d+$`)
	if n, m := strings.Count(string(raw), "uses:"), len(pinned.FindAllString(string(raw), -1)); n != m || n == 0 {
		t.Errorf("%d uses: lines, %d of them pinned as OWNER/REPO@SHA # vX.Y.Z", n, m)
	}

	// Steps: each output read is set by an earlier step's script (or is
	// an output of an emulated action).
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
	for i, st := range a.Runs.Steps {
		where := "step " + strconv.Itoa(i) + " " + st.Name
		checkRefs(where+" if", st.If)
		if st.Uses != "" {
			for k, v := range st.With {
				checkRefs(where+" with "+k, v)
			}
			if strings.HasPrefix(st.Uses, "actions/cache/restore@") {
				sets[st.ID] = map[string]bool{"cache-hit": true}
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
			if strings.Contains(string(body), "--github-event") {
				sets[st.ID]["range"] = true // written by loftyscan
			}
			if strings.Contains(string(body), `--report "counts=$GITHUB_OUTPUT"`) {
				for _, line := range strings.Split(strings.TrimSpace(counts.String()), "\n") {
					name, _, _ := strings.Cut(line, "=")
					sets[st.ID][name] = true
				}
			}
		}
	}
	for name, o := range a.Outputs {
		checkRefs("output "+name, o.Value)
	}
}

// TestActionHostileRepository commits what issue 10 found could drive the
// Action's log: a corrupt zip whose entry is named
// "evil\x1b]0;PWNED\x07\n::error title=x::injected", another whose entry
// holds the runner's older command syntax "##[error]", and a key in a file
// name. loftyscan's warnings name the entries escaped, and the runner
// would read no command from the log but loftyscan's own annotations.
func TestActionHostileRepository(t *testing.T) {
	f := newActionFixture(t)
	ws := t.TempDir()
	f.checkout(t, ws, 0, "refs/heads/main")
	r := testgit.Open(t, ws)
	nameKey := gitKey("in-a-file-name")
	r.Write(nameKey+".tar.env", "LOFTY_API_KEY="+gitKey("hostile")+"\n")
	r.Write("evil.zip", string(corruptZip(t, "evil\x1b]0;PWNED\x07\n::error title=x::injected")))
	r.Write("legacy.zip", string(corruptZip(t, "a ##[error]legacy injected ##[add-mask]x")))
	r.Write("##[warning]name.env", "LOFTY_API_KEY="+gitKey("hostile-name")+"\n")
	r.Commit("hostile")
	res := f.use(t, loftyscan, ws, map[string]string{"range": "HEAD~1..HEAD"}, "workflow_dispatch", nil, nil)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", res.code, res.log)
	}
	if !strings.Contains(res.log, `evil\x1B]0;PWNED\x07\x0A::error title=x::injected`) || !strings.Contains(res.log, `a #\x23[error]legacy injected`) {
		t.Errorf("the warnings do not name the entries escaped:\n%s", res.log)
	}
	for _, line := range strings.Split(res.log, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "::error title=x") || strings.ContainsAny(line, "\x1b\x07\r") {
			t.Errorf("a line the repository wrote: %q", line)
		}
	}
	var files []string
	for _, c := range runnerCommands(res.log) {
		if c.name != "error" || c.props["title"] != "Lofty API key (high)" {
			t.Errorf("a command the runner would run: %+v", c)
		}
		files = append(files, c.props["file"])
	}
	slices.Sort(files)
	// Three: the key in name.env, the key in the .tar.env file, and the
	// key in that file's name, redacted.
	if len(files) != 3 || files[0] != `#\x23[warning]name.env` || !strings.HasSuffix(files[1], ".tar.env") || files[2] != files[1] {
		t.Errorf("annotations on %q", files)
	}
	if strings.Contains(res.log, nameKey) || strings.Contains(res.summary, nameKey) {
		t.Errorf("the log or summary holds the key in the file name\n%s", res.log)
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
