package scanner

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// TestProcSizesNotTrusted scans /proc/PID of a process whose environment
// holds a key: /proc says its environ file is empty, and the walk must read
// it all the same (a read that stopped at the size would find nothing).
func TestProcSizesNotTrusted(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/environ"); err != nil {
		t.Fatalf("no /proc on Linux: %v", err)
	}
	cmd := exec.Command("sleep", "60")
	cmd.Env = []string{"LOFTY_API_KEY=" + keyActive}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	dir := "/proc/" + strconv.Itoa(cmd.Process.Pid)
	// Until the child has run exec, its environ is the test's own: wait
	// for its command line to be sleep's.
	for {
		b, err := os.ReadFile(dir + "/cmdline")
		if err != nil {
			t.Fatal(err)
		}
		if string(b) == "sleep\x0060\x00" {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if fi, err := os.Stat(dir + "/environ"); err != nil || fi.Size() != 0 {
		t.Fatalf("/proc's environ: %v, size %v; the test expects /proc to say 0", err, fi)
	}
	opts := testOptions()
	opts.Skip = func(rel string, isDir bool) bool { return rel != "environ" }
	c, st := scanPaths(t, opts, dir)
	checkFound(t, c.Findings, wantFinding{Path: "environ", Line: 1, Column: 15, Token: keyActive})
	if st.Files != 1 {
		t.Errorf("Stats.Files = %d, want 1", st.Files)
	}
}
