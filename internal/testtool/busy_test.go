package testtool

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// TestWriteExecutableNotBusy: a program written with WriteExecutable runs
// at once while other goroutines fork and exec, as parallel tests do. Written
// with a plain os.WriteFile, about one run in ten failed with "text file
// busy" on a 2-core machine.
func TestWriteExecutableNotBusy(t *testing.T) {
	dir := t.TempDir()
	var stop atomic.Bool
	var forks sync.WaitGroup
	for range 3 {
		forks.Add(1)
		go func() {
			defer forks.Done()
			for !stop.Load() {
				exec.Command("true").Run()
			}
		}()
	}
	defer func() { stop.Store(true); forks.Wait() }()
	busy := 0
	for i := range 200 {
		p := filepath.Join(dir, "prog"+strconv.Itoa(i))
		if err := WriteExecutable(p, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := exec.Command(p).Run(); errors.Is(err, syscall.ETXTBSY) {
			busy++
		} else if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	if busy > 0 {
		t.Errorf("%d of 200 programs could not run: text file busy", busy)
	}
}
