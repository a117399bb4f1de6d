package testtool

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// missingTool is a name no PATH holds.
const missingTool = "loftyscan-no-such-tool-4f1c"

// runChild runs TestNeedMissing again in a child process, where its skip or
// failure cannot affect this run, with LOFTYSCAN_REQUIRE_TOOLS=require.
func runChild(t *testing.T, require string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestNeedMissing$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "TESTTOOL_CHILD=1", RequireEnv+"="+require)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestNeedMissing checks both outcomes for a missing tool: a skip by default,
// a failure with LOFTYSCAN_REQUIRE_TOOLS=1, each naming the tool.
func TestNeedMissing(t *testing.T) {
	if os.Getenv("TESTTOOL_CHILD") == "1" {
		Need(t, missingTool)
		t.Log("Need returned for a missing tool")
		return
	}
	t.Parallel()
	out, err := runChild(t, "")
	if err != nil || !strings.Contains(out, "--- SKIP: TestNeedMissing") || !strings.Contains(out, missingTool+" is not on PATH") {
		t.Errorf("without %s: want a skip naming the tool, got %v\n%s", RequireEnv, err, out)
	}
	out, err = runChild(t, "1")
	if err == nil || !strings.Contains(out, "--- FAIL: TestNeedMissing") || !strings.Contains(out, missingTool+" is not on PATH") {
		t.Errorf("with %s=1: want a failure naming the tool, got %v\n%s", RequireEnv, err, out)
	}
	if strings.Contains(out, "Need returned") {
		t.Errorf("the test went on after the tool was found missing\n%s", out)
	}
}

func TestNeedPresent(t *testing.T) {
	t.Parallel()
	want, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	if got := Need(t, "go"); got != want {
		t.Errorf("Need(go) = %q, want %q", got, want)
	}
}

func TestInstallHint(t *testing.T) {
	t.Parallel()
	if h := InstallHint("pre-commit"); !strings.Contains(h, "apt-get install pre-commit") {
		t.Errorf("pre-commit hint %q", h)
	}
	if h := InstallHint("goreleaser"); !strings.Contains(h, "goreleaser/v2@v2.15.1") {
		t.Errorf("goreleaser hint %q", h)
	}
	if h := InstallHint(missingTool); !strings.Contains(h, missingTool) {
		t.Errorf("unknown tool hint %q", h)
	}
}
