//go:build unix

// Command rusage runs a command and writes what it cost: wall seconds,
// user and system CPU seconds (its waited-for children included) and peak
// RSS, for scripts/bench.sh. GNU time reports the same rusage in steps of
// 10 ms, too coarse for a pre-commit check that takes 5 ms.
//
//	rusage -o FILE CMD [ARG...]
//
// FILE gets one line: "wall user sys maxrss exit", maxrss in KiB on Linux
// as getrusage reports it. The command's standard input, output and error
// are the caller's; rusage exits with the command's exit code (128+N when
// signal N ended it).
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 4 || os.Args[1] != "-o" {
		fmt.Fprintln(os.Stderr, "usage: rusage -o FILE CMD [ARG...]")
		os.Exit(2)
	}
	code, err := run(os.Args[2], os.Args[3:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "rusage: error: %v\n", err)
		os.Exit(2)
	}
	os.Exit(code)
}

// run runs argv, writes its costs to out and returns its exit code.
func run(out string, argv []string) (int, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return 0, fmt.Errorf("cannot run %s: %w", argv[0], err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, errors.New("no resource usage on this system")
	}
	code := cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	line := fmt.Sprintf("%.4f %.4f %.4f %d %d\n", wall.Seconds(), seconds(ru.Utime), seconds(ru.Stime), ru.Maxrss, code)
	return code, os.WriteFile(out, []byte(line), 0o644)
}

func seconds(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
