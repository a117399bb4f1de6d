package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testtool"
	"gopkg.in/yaml.v3"
)

// This file runs the GitHub Action (action.yml) the way the runner runs a
// composite action, closely enough to test it on a developer's machine:
//
//   - each `run` step is a bash script with its `env`; ${{ }} expressions
//     are filled in from the inputs and earlier steps' outputs, and a
//     step's `if` is evaluated (==, != and && over those, as the action
//     uses them); a failing step stops the rest;
//   - $GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY, $GITHUB_PATH and $GITHUB_ENV
//     are files as the runner gives them: what a step adds to the job's
//     PATH or environment applies to the later steps, and is kept in the
//     result, so a test sees what the action leaves to the rest of the job;
//   - the third-party actions the action uses are emulated: actions/cache's
//     restore and save by a local folder of entries named by their key.
//
// What it cannot show: the real cache service (its scopes by branch, its
// upload and download times: here an entry is a local copy), the runner's
// own overheads (downloading the action, starting containers), and a
// runner image's tools (the machine's Go and git stand in for them).

// actionFile is action.yml. Unknown keys are an error, so a misspelt key
// (shel:, envs:) fails the tests instead of being ignored as GitHub would.
type actionFile struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Author      string `yaml:"author"`
	Branding    struct {
		Icon  string `yaml:"icon"`
		Color string `yaml:"color"`
	} `yaml:"branding"`
	Inputs  map[string]actionInput `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
		Value       string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string       `yaml:"using"`
		Steps []actionStep `yaml:"steps"`
	} `yaml:"runs"`
}

type actionInput struct {
	Description string `yaml:"description"`
	Required    bool   `yaml:"required"`
	Default     string `yaml:"default"`
}

type actionStep struct {
	Name  string            `yaml:"name"`
	ID    string            `yaml:"id"`
	If    string            `yaml:"if"`
	Uses  string            `yaml:"uses"`
	Shell string            `yaml:"shell"`
	Run   string            `yaml:"run"`
	With  map[string]string `yaml:"with"`
	Env   map[string]string `yaml:"env"`
}

func readActionFile(t *testing.T) *actionFile {
	t.Helper()
	data, err := os.ReadFile("action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return &a
}

// actionRoot is the action's checkout, $GITHUB_ACTION_PATH: this
// repository, where go test runs the main package's tests.
func actionRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

var expression = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// The third-party actions action.yml may use, each pinned by a full commit
// name, and what emulates each.
var (
	pinnedAction  = regexp.MustCompile(`^([a-z-]+/[a-z-]+(?:/[a-z-]+)?)@([0-9a-f]{40})$`)
	cacheKeyChars = regexp.MustCompile(`^[A-Za-z0-9._-]{1,512}$`)
)

// actionRun is one use of the action in a job.
type actionRun struct {
	t         *testing.T
	action    *actionFile
	workspace string            // $GITHUB_WORKSPACE, where the steps start
	with      map[string]string // the workflow step's `with`
	vars      map[string]string // more environment: GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, ...
	// bin, when set, is a loftyscan the emulated cache holds under any key
	// it is asked for: a warm cache, so that most tests compile nothing.
	bin string
	// cache is the emulated Actions cache, a folder of entries named by
	// their key; empty: a new, empty one.
	cache string
	// path is the job's PATH before the action; nil: the test's own.
	path []string
	// toolCache is $RUNNER_TOOL_CACHE; empty: a new, empty one.
	toolCache string
}

// actionResult is what the run did.
type actionResult struct {
	code    int    // the exit status of the step that failed; 0 when none did
	failed  string // that step's id
	log     string // every step's stdout and stderr
	ran     []string
	skipped []string
	steps   map[string]map[string]string // outputs by step id
	outputs map[string]string            // the action's outputs
	summary string                       // $GITHUB_STEP_SUMMARY
	jobPath []string                     // what the steps put on the job's PATH, first first
	jobEnv  map[string]string            // what they set in the job's environment
	times   []stepTime
}

// stepTime is how long a step took: wall time, and the CPU time (user and
// system) of its processes, for a run step.
type stepTime struct {
	id        string
	wall, cpu time.Duration
}

func (res *actionResult) timing() string {
	var b strings.Builder
	var wall, cpu time.Duration
	for _, st := range res.times {
		fmt.Fprintf(&b, "  %-8s wall %6.2fs  cpu %6.2fs\n", st.id, st.wall.Seconds(), st.cpu.Seconds())
		wall += st.wall
		cpu += st.cpu
	}
	fmt.Fprintf(&b, "  %-8s wall %6.2fs  cpu %6.2fs\n", "total", wall.Seconds(), cpu.Seconds())
	return b.String()
}

// lookup reads a context value the action may use: inputs (which must be
// declared), outputs of earlier steps, github.action_path.
func (r *actionRun) lookup(expr string, steps map[string]map[string]string) string {
	r.t.Helper()
	switch {
	case expr == "github.action_path":
		return actionRoot(r.t)
	case strings.HasPrefix(expr, "inputs."):
		name := strings.TrimPrefix(expr, "inputs.")
		in, ok := r.action.Inputs[name]
		if !ok {
			r.t.Fatalf("action.yml uses the undeclared input %q", name)
		}
		if v, ok := r.with[name]; ok {
			return v
		}
		return in.Default
	case strings.HasPrefix(expr, "steps."):
		parts := strings.Split(expr, ".")
		if len(parts) != 4 || parts[2] != "outputs" {
			r.t.Fatalf("action.yml: cannot read %q", expr)
		}
		for _, st := range r.action.Runs.Steps {
			if st.ID == parts[1] {
				// Empty when the step has not run or set no such output, as
				// on GitHub.
				return steps[parts[1]][parts[3]]
			}
		}
		r.t.Fatalf("action.yml: %q names no step", expr)
	}
	r.t.Fatalf("action.yml: the tests do not know the expression %q", expr)
	return ""
}

// eval fills in the ${{ }} expressions of s.
func (r *actionRun) eval(s string, steps map[string]map[string]string) string {
	r.t.Helper()
	return expression.ReplaceAllStringFunc(s, func(m string) string {
		return r.lookup(expression.FindStringSubmatch(m)[1], steps)
	})
}

// cond evaluates a step's `if`: comparisons (== or !=) of context values
// and 'quoted' strings, joined by &&. GitHub compares strings ignoring
// case. Anything else is a test failure, not a guess.
func (r *actionRun) cond(expr string, steps map[string]map[string]string) bool {
	r.t.Helper()
	operand := func(s string) string {
		s = strings.TrimSpace(s)
		if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
			return strings.ReplaceAll(s[1:len(s)-1], "''", "'")
		}
		return r.lookup(s, steps)
	}
	for _, term := range strings.Split(expr, "&&") {
		var a, b string
		var equal bool
		if x, y, ok := strings.Cut(term, "!="); ok {
			a, b = x, y
		} else if x, y, ok := strings.Cut(term, "=="); ok {
			a, b, equal = x, y, true
		} else {
			r.t.Fatalf("action.yml: the tests do not know the condition %q", term)
		}
		if strings.EqualFold(operand(a), operand(b)) != equal {
			return false
		}
	}
	return true
}

// scriptEnv is the environment of a script run by a test: the test's own
// (for PATH and Go's settings) without anything of a CI system, git, the
// runner or the user's git config, plus vars.
func scriptEnv(home string, vars map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "GIT_"), strings.HasPrefix(name, "GITHUB_"), strings.HasPrefix(name, "RUNNER_"),
			strings.HasPrefix(name, "INPUT_"), strings.HasPrefix(name, "LOFTYSCAN_"), strings.HasPrefix(name, "CI_"),
			strings.HasPrefix(name, "PRE_COMMIT"), name == "CI", name == "HOME", name == "XDG_CONFIG_HOME", name == "NO_COLOR":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull)
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// goCaches are the test machine's Go build and module caches, for the
// build step, whose home is a new folder: a build there then downloads no
// module. GOCACHE and GOMODCACHE set in the test's environment win (a
// cold measurement sets them to empty folders).
var goCaches = sync.OnceValue(func() map[string]string {
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE").Output()
	caches := map[string]string{}
	if err != nil {
		return caches
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i, name := range []string{"GOCACHE", "GOMODCACHE"} {
		if os.Getenv(name) == "" && i < len(lines) {
			caches[name] = lines[i]
		}
	}
	return caches
})

// run runs the action's steps in order.
func (r *actionRun) run() actionResult {
	t := r.t
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	tmp := t.TempDir()
	if r.cache == "" {
		r.cache = filepath.Join(tmp, "cache")
	}
	if r.toolCache == "" {
		r.toolCache = filepath.Join(tmp, "toolcache")
	}
	home := filepath.Join(tmp, "home")
	// Go's telemetry off in the home: no upload process outlives a step.
	if err := os.MkdirAll(filepath.Join(home, ".config", "go", "telemetry"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".config", "go", "telemetry", "mode"), []byte("off"), 0o644); err != nil {
		t.Fatal(err)
	}
	basePath := r.path
	if basePath == nil {
		basePath = filepath.SplitList(os.Getenv("PATH"))
	}
	res := actionResult{steps: map[string]map[string]string{}, outputs: map[string]string{}, jobEnv: map[string]string{}}
	summary := filepath.Join(tmp, "summary.md")
	var log strings.Builder
	for i, st := range r.action.Runs.Steps {
		id := st.ID
		if id == "" {
			id = "step" + strconv.Itoa(i)
		}
		if st.If != "" && !r.cond(st.If, res.steps) {
			res.skipped = append(res.skipped, id)
			continue
		}
		res.ran = append(res.ran, id)
		start := time.Now()
		if st.Uses != "" {
			res.steps[id] = r.uses(st, &res, &log)
			res.times = append(res.times, stepTime{id: id, wall: time.Since(start)})
			continue
		}
		files := map[string]string{}
		for _, name := range []string{"script.sh", "output", "path", "env"} {
			files[name] = filepath.Join(tmp, id+"."+name)
			if err := os.WriteFile(files[name], nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(files["script.sh"], []byte(st.Run), 0o644); err != nil {
			t.Fatal(err)
		}
		vars := map[string]string{
			"GITHUB_ACTIONS": "true", "GITHUB_ACTION_PATH": actionRoot(t), "GITHUB_WORKSPACE": r.workspace,
			"GITHUB_OUTPUT": files["output"], "GITHUB_PATH": files["path"], "GITHUB_ENV": files["env"],
			"GITHUB_STEP_SUMMARY": summary, "RUNNER_TEMP": filepath.Join(tmp, "runner-temp"),
			"RUNNER_TOOL_CACHE": r.toolCache, "RUNNER_OS": runnerOS(), "RUNNER_ARCH": runnerArch(),
		}
		for k, v := range goCaches() {
			vars[k] = v
		}
		for k, v := range res.jobEnv {
			vars[k] = v
		}
		for k, v := range r.vars {
			vars[k] = v
		}
		for k, v := range st.Env {
			vars[k] = r.eval(v, res.steps)
		}
		path := append(slices.Clone(res.jobPath), basePath...)
		slices.Reverse(path[:len(res.jobPath)]) // the latest addition first
		vars["PATH"] = strings.Join(path, string(filepath.ListSeparator))
		// As the runner runs `shell: bash`.
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", files["script.sh"])
		cmd.Dir = r.workspace
		cmd.Env = scriptEnv(home, vars)
		out, err := cmd.CombinedOutput()
		log.Write(out)
		cpu := time.Duration(0)
		if cmd.ProcessState != nil {
			cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		res.times = append(res.times, stepTime{id: id, wall: time.Since(start), cpu: cpu})
		res.steps[id] = readStepOutputs(t, files["output"])
		res.jobPath = append(res.jobPath, readLines(t, files["path"])...)
		maps.Copy(res.jobEnv, readStepOutputs(t, files["env"]))
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			res.code, res.failed = ee.ExitCode(), id
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	res.log = log.String()
	for name, o := range r.action.Outputs {
		res.outputs[name] = r.eval(o.Value, res.steps)
	}
	if b, err := os.ReadFile(summary); err == nil {
		res.summary = string(b)
	}
	return res
}

// uses emulates a third-party action step and returns its outputs.
func (r *actionRun) uses(st actionStep, res *actionResult, log *strings.Builder) map[string]string {
	t := r.t
	t.Helper()
	m := pinnedAction.FindStringSubmatch(st.Uses)
	if m == nil {
		t.Fatalf("action.yml: %s is not pinned by a full commit name", st.Uses)
	}
	with := map[string]string{}
	for k, v := range st.With {
		with[k] = r.eval(v, res.steps)
	}
	switch m[1] {
	case "actions/cache/restore", "actions/cache/save":
		key, path := with["key"], with["path"]
		if !cacheKeyChars.MatchString(key) || !filepath.IsAbs(path) {
			t.Fatalf("%s: key %q, path %q", st.Uses, key, path)
		}
		entry := filepath.Join(r.cache, key)
		_, err := os.Stat(entry)
		exists := err == nil
		if m[1] == "actions/cache/save" {
			switch {
			case exists:
				fmt.Fprintf(log, "Failed to save: Unable to reserve cache with key %s, another job may be creating this cache.\n", key)
			case !isDir(path):
				fmt.Fprintf(log, "Warning: Path Validation Error: Path(s) specified in the action for caching do(es) not exist, hence no cache is being saved.\n")
			default:
				copyTree(t, path, entry)
				fmt.Fprintf(log, "Cache saved with key: %s\n", key)
			}
			return map[string]string{}
		}
		if !exists && r.bin != "" {
			copyTree(t, filepath.Dir(r.bin), entry, filepath.Base(r.bin))
			exists = true
		}
		if !exists {
			fmt.Fprintf(log, "Cache not found for input keys: %s\n", key)
			return map[string]string{"cache-primary-key": key}
		}
		copyTree(t, entry, path)
		fmt.Fprintf(log, "Cache restored from key: %s\n", key)
		return map[string]string{"cache-hit": "true", "cache-primary-key": key, "cache-matched-key": key}
	}
	t.Fatalf("action.yml: the tests do not know the action %s", st.Uses)
	return nil
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// copyTree copies the files of folder src (only those named, when names
// are given) into folder dst, which it makes, keeping their modes.
func copyTree(t *testing.T, src, dst string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if len(names) > 0 && !slices.Contains(names, e.Name()) || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := testtool.WriteExecutable(filepath.Join(dst, e.Name()), data, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

// runnerOS and runnerArch are $RUNNER_OS and $RUNNER_ARCH of a runner on
// this machine.
func runnerOS() string {
	switch runtime.GOOS {
	case "windows":
		return "Windows"
	case "darwin":
		return "macOS"
	}
	return "Linux"
}

func runnerArch() string {
	switch runtime.GOARCH {
	case "arm64":
		return "ARM64"
	case "386":
		return "X86"
	case "arm":
		return "ARM"
	}
	return "X64"
}

// readStepOutputs reads a $GITHUB_OUTPUT (or $GITHUB_ENV) file's
// name=value lines.
func readStepOutputs(t *testing.T, name string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range readLines(t, name) {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("%s: %q is not name=value (the tests do not read the NAME<<DELIMITER form)", filepath.Base(name), line)
			continue
		}
		out[k] = v
	}
	return out
}

func readLines(t *testing.T, name string) []string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, line := range strings.Split(string(data), "\n") {
		if line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}

// writeJSON writes v as indented JSON (as the runner writes the event
// file) or, with compact, on one line.
func writeJSON(t *testing.T, name string, v any, compact bool) string {
	t.Helper()
	var data []byte
	var err error
	if compact {
		data, err = json.Marshal(v)
	} else {
		data, err = json.MarshalIndent(v, "", "  ")
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}
