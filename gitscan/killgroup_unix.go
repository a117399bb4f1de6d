//go:build unix

package gitscan

import (
	"os/exec"
	"syscall"
)

// killGroupOnCancel makes cmd, once its context ends, kill the process
// group it leads: git and the helpers it runs (git-remote-https, ssh),
// which would otherwise go on waiting on a remote that does not answer.
func killGroupOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}

// killGroup kills, at once, the process group that cmd, started with
// killGroupOnCancel, leads.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
