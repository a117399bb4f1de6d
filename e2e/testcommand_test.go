package e2e

// The test command (scripts/test.sh) must install every program a test asks
// for with testtool.Need, and be what CI and the README run: otherwise a
// fresh machine fails tests that LOFTYSCAN_REQUIRE_TOOLS=1 forbids to skip.

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testtool"
)

// needCall matches a call of testtool.Need with a program name in quotes.
var needCall = regexp.MustCompile(`testtool\.Need\(\w+, "([^"]+)"\)`)

// installedByTestScript returns the programs scripts/test.sh installs: the
// program names of its `needed` list, and goreleaser.
func installedByTestScript(t *testing.T, script string) map[string]bool {
	t.Helper()
	_, rest, ok := strings.Cut(script, "\nneeded=\"")
	list, _, ok2 := strings.Cut(rest, "\"")
	if !ok || !ok2 {
		t.Fatal(`scripts/test.sh has no needed="program:package ..." list`)
	}
	have := map[string]bool{}
	for _, pair := range strings.Fields(list) {
		program, pkg, ok := strings.Cut(pair, ":")
		if !ok || pkg == "" {
			t.Fatalf("scripts/test.sh: %q is not program:package", pair)
		}
		have[program] = true
	}
	if strings.Contains(script, "go install \"github.com/goreleaser/goreleaser/v2@") {
		have["goreleaser"] = true
	}
	return have
}

func TestTestScriptInstallsEveryNeededProgram(t *testing.T) {
	t.Parallel()
	root := releaseRepoRoot(t)
	script, err := os.ReadFile(filepath.Join(root, "scripts", "test.sh"))
	if err != nil {
		t.Fatal(err)
	}
	have := installedByTestScript(t, string(script))
	have["go"] = true // the tests run under it
	seen := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range needCall.FindAllStringSubmatch(string(src), -1) {
			seen++
			rel, _ := filepath.Rel(root, path)
			if !have[m[1]] {
				t.Errorf("%s needs %s, which scripts/test.sh does not install", rel, m[1])
			}
			if m[1] != "go" && strings.HasPrefix(testtool.InstallHint(m[1]), "install "+m[1]) {
				t.Errorf("%s needs %s, for which internal/testtool has no install hint", rel, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen == 0 {
		t.Fatal("found no testtool.Need call: the pattern no longer matches the code")
	}
}

func TestTestScriptIsWhatCIAndReadmeRun(t *testing.T) {
	t.Parallel()
	root := releaseRepoRoot(t)
	ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^bash scripts/test\.sh -race -count=1$`).Match(ci) {
		t.Error(".ci/run does not run the tests with `bash scripts/test.sh -race -count=1`")
	}
	if regexp.MustCompile(`(?m)^go test [^\n]*\./\.\.\.`).Match(ci) {
		t.Error(".ci/run runs go test ./... itself, without scripts/test.sh")
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, quick, ok := strings.Cut(string(readme), "\n## Quick start\n")
	quick, _, _ = strings.Cut(quick, "\n## ")
	if !ok || !strings.Contains(quick, "```sh\nscripts/test.sh\n```") {
		t.Error("the README's quick start does not give scripts/test.sh as the test command")
	}
	info, err := os.Stat(filepath.Join(root, "scripts", "test.sh"))
	if err != nil || info.Mode()&0o111 == 0 {
		t.Errorf("scripts/test.sh is not executable (%v)", err)
	}
}

// TestTestScriptFindsEveryMissingProgram runs scripts/test.sh on a PATH that
// holds only what it needs to start (bash, go, dirname, id) and no apt-get:
// it must name the package of every program of its list, since none is on
// that PATH. `command -v time` finds bash's time keyword, so a machine without
// GNU time (a fresh Debian has none) was never given it, and the memory tests
// that run /usr/bin/time failed under LOFTYSCAN_REQUIRE_TOOLS=1. With -race
// it must ask for gcc too.
func TestTestScriptFindsEveryMissingProgram(t *testing.T) {
	t.Parallel()
	goTool := testtool.Need(t, "go")
	root := releaseRepoRoot(t)
	script, err := os.ReadFile(filepath.Join(root, "scripts", "test.sh"))
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(goTool, filepath.Join(bin, "go")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bash", "dirname", "id"} { // on every machine that runs the script
		target, err := exec.LookPath(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := os.Symlink(target, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	listed := func(args ...string) (map[string]bool, string) {
		cmd := exec.Command(filepath.Join(bin, "bash"), append([]string{filepath.Join(root, "scripts", "test.sh")}, args...)...)
		cmd.Env = append(os.Environ(), "PATH="+bin)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "test.sh: missing programs; install these packages (Debian/Ubuntu names): ") {
			t.Fatalf("scripts/test.sh %v with an empty PATH: %v, want it to stop and name what is missing:\n%s", args, err, out)
		}
		_, line, _ := strings.Cut(string(out), "(Debian/Ubuntu names): ")
		line, _, _ = strings.Cut(line, "\n")
		missing := map[string]bool{}
		for _, pkg := range strings.Fields(line) {
			missing[pkg] = true
		}
		return missing, string(out)
	}
	missing, out := listed()
	_, rest, _ := strings.Cut(string(script), "\nneeded=\"")
	list, _, _ := strings.Cut(rest, "\"")
	for _, pair := range strings.Fields(list) {
		program, pkg, _ := strings.Cut(pair, ":")
		if !missing[pkg] {
			t.Errorf("%s is not on PATH, but scripts/test.sh does not ask for %s; it said:\n%s", program, pkg, out)
		}
	}
	// -race links with cgo: without a C compiler go test says only
	// "-race requires cgo".
	if missing["gcc"] {
		t.Errorf("scripts/test.sh asks for gcc without -race:\n%s", out)
	}
	if missing, out := listed("-race", "-count=1"); !missing["gcc"] {
		t.Errorf("scripts/test.sh -race does not ask for gcc, which the race detector needs:\n%s", out)
	}
}

// raceSkip matches a test function whose body skips it under the race
// detector: `if raceBuild {` (or `testing.Short() || raceBuild`) and a
// t.Skip within the next lines.
var raceSkip = regexp.MustCompile(`raceBuild \{\n\s*t\.Skip\(`)

// TestRaceSkipsRunWithoutRace checks that every test that skips itself
// under -race is run by one of .ci/run's `go test -run` lines without it,
// for its package: a test moved out of the race stage to keep CI short
// must not leave CI altogether.
func TestRaceSkipsRunWithoutRace(t *testing.T) {
	t.Parallel()
	root := releaseRepoRoot(t)
	ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	runs := map[string][]*regexp.Regexp{} // package folder → the -run patterns
	for _, m := range regexp.MustCompile(`(?m)^go test -count=1 -run '([^']+)'((?: \./\S+)+)$`).FindAllStringSubmatch(string(ci), -1) {
		for _, pkg := range strings.Fields(m[2]) {
			runs[strings.TrimPrefix(pkg, "./")] = append(runs[strings.TrimPrefix(pkg, "./")], regexp.MustCompile(m[1]))
		}
	}
	funcs := regexp.MustCompile(`(?m)^func (Test\w+)\(t \*testing\.T\) \{$`)
	seen := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		pkg, _ := filepath.Rel(root, filepath.Dir(path))
		locs := funcs.FindAllSubmatchIndex(b, -1)
		for i, l := range locs {
			end := len(b)
			if i+1 < len(locs) {
				end = locs[i+1][0]
			}
			if !raceSkip.Match(b[l[1]:end]) {
				continue
			}
			seen++
			name := string(b[l[2]:l[3]])
			if !slices.ContainsFunc(runs[pkg], func(re *regexp.Regexp) bool { return re.MatchString(name) }) {
				t.Errorf("%s skips %s under -race, and no `go test -count=1 -run '...' ./%s` line of .ci/run (its packages listed after the pattern) runs it without", path, name, pkg)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 15 {
		t.Fatalf("found %d tests that skip themselves under -race: the pattern no longer matches the code", seen)
	}
}
