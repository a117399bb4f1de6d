//go:build !unix

package gitscan

import "os/exec"

// killGroupOnCancel: outside Unix, the context's end kills git alone
// (exec.CommandContext's default); WaitDelay keeps its helpers from
// holding the clone up.
func killGroupOnCancel(*exec.Cmd) {}

// killGroup kills git alone, at once: outside Unix it leads no group.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
