package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// This file runs the GitHub Action (action.yml) the way the runner runs a
// composite action, closely enough to test it on a developer's machine:
// each `run` step is a bash script with its `env`, ${{ }} expressions are
// filled in from the inputs and earlier steps' outputs, a failing step
// stops the rest, and the action's outputs are read at the end. The
// setup-go step is only checked, and the install step (which builds
// loftyscan with go build) is run by TestInstallScript; the runs use the
// binary TestMain built as that step's output.

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

// actionRun is one use of the action in a job.
type actionRun struct {
	t         *testing.T
	action    *actionFile
	bin       string            // a built loftyscan for the install step's output; empty runs the step
	workspace string            // $GITHUB_WORKSPACE, where the steps start
	with      map[string]string // the workflow step's `with`
	vars      map[string]string // more environment: GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, ...
}

// actionResult is what the run did.
type actionResult struct {
	code    int    // the exit status of the step that failed; 0 when none did
	failed  string // that step's id
	log     string // every step's stdout and stderr
	ran     []string
	steps   map[string]map[string]string // outputs by step id
	outputs map[string]string            // the action's outputs
	summary string                       // $GITHUB_STEP_SUMMARY
}

// eval fills in the ${{ }} expressions of s. Only what action.yml may use
// is known: inputs (which must be declared), outputs of earlier steps, and
// github.action_path.
func (r *actionRun) eval(s string, steps map[string]map[string]string) string {
	r.t.Helper()
	return expression.ReplaceAllStringFunc(s, func(m string) string {
		expr := expression.FindStringSubmatch(m)[1]
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
					// Empty when the step has not run: after a failed
					// step, the action's outputs are read all the same.
					return steps[parts[1]][parts[3]]
				}
			}
			r.t.Fatalf("action.yml: %q names no step", expr)
		}
		r.t.Fatalf("action.yml: the tests do not know the expression %q", expr)
		return ""
	})
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

// run runs the action's steps in order.
func (r *actionRun) run() actionResult {
	t := r.t
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	tmp := t.TempDir()
	res := actionResult{steps: map[string]map[string]string{}, outputs: map[string]string{}}
	summary := filepath.Join(tmp, "summary.md")
	var log strings.Builder
	for i, st := range r.action.Runs.Steps {
		id := st.ID
		if id == "" {
			id = "step" + strconv.Itoa(i)
		}
		if st.Uses != "" {
			if !strings.HasPrefix(st.Uses, "actions/setup-go@") {
				t.Fatalf("action.yml: the tests do not know the action %s", st.Uses)
			}
			f := r.eval(st.With["go-version-file"], res.steps)
			if _, err := os.Stat(f); err != nil {
				t.Fatalf("setup-go's go-version-file: %v", err)
			}
			continue
		}
		if id == "install" && r.bin != "" {
			res.steps[id] = map[string]string{"bin": r.bin}
			continue
		}
		res.ran = append(res.ran, id)
		script := filepath.Join(tmp, id+".sh")
		if err := os.WriteFile(script, []byte(st.Run), 0o644); err != nil {
			t.Fatal(err)
		}
		output := filepath.Join(tmp, id+".out")
		if err := os.WriteFile(output, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		vars := map[string]string{
			"GITHUB_ACTIONS": "true", "GITHUB_ACTION_PATH": actionRoot(t), "GITHUB_WORKSPACE": r.workspace,
			"GITHUB_OUTPUT": output, "GITHUB_STEP_SUMMARY": summary, "RUNNER_TEMP": filepath.Join(tmp, "runner-temp"),
		}
		for k, v := range r.vars {
			vars[k] = v
		}
		for k, v := range st.Env {
			vars[k] = r.eval(v, res.steps)
		}
		// As the runner runs `shell: bash`.
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
		cmd.Dir = r.workspace
		cmd.Env = scriptEnv(filepath.Join(tmp, "home"), vars)
		out, err := cmd.CombinedOutput()
		log.Write(out)
		res.steps[id] = readStepOutputs(t, output)
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

// readStepOutputs reads a $GITHUB_OUTPUT file's name=value lines.
func readStepOutputs(t *testing.T, name string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = v
		}
	}
	return out
}

// TestInstallScript builds loftyscan as the action's install step does
// (scripts/action/install.sh, with RUNNER_TEMP in a temporary folder): the
// step's bin output names a binary in RUNNER_TEMP, which runs.
func TestInstallScript(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not on PATH")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	dir := t.TempDir()
	output := filepath.Join(dir, "output")
	cmd := exec.Command("bash", "scripts/action/install.sh")
	// HOME stays: Go's build and module caches are found through it.
	cmd.Env = scriptEnv(os.Getenv("HOME"), map[string]string{
		"GITHUB_ACTION_PATH": actionRoot(t), "RUNNER_TEMP": dir, "GITHUB_OUTPUT": output,
	})
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/action/install.sh: %v\n%s", err, out)
	}
	bin := readStepOutputs(t, output)["bin"]
	if bin == "" || !strings.HasPrefix(bin, dir) {
		t.Fatalf("install.sh: bin output %q, want a file in RUNNER_TEMP %s\n%s", bin, dir, out)
	}
	if !strings.Contains(string(out), "loftyscan") {
		t.Errorf("install.sh did not print the built loftyscan's version:\n%s", out)
	}
	if v, err := exec.Command(bin, "version").Output(); err != nil || !strings.HasPrefix(string(v), "loftyscan ") {
		t.Errorf("%s version: %v: %s", bin, err, v)
	}
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
