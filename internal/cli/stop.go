package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// How a run stops early, whatever it is doing.
//
// The first SIGINT (Ctrl-C), SIGTERM or SIGHUP cancels the run's context:
// every phase (clone, walk, reads, inflation, verification) gives up, the
// report lists what was found so far, temporary folders are removed, and
// the process exits 128 plus the signal's number (130 for SIGINT, 143 for
// SIGTERM, 129 for SIGHUP), as a shell reports a program a signal ended.
// --timeout cancels the same way and exits 2. A second signal (or any
// signal once --timeout has stopped the run), or SIGQUIT, exits at once
// (the same signal within repeatGrace of the first is the same stop: see
// absorbRepeats)
// with no report: temporary files and folders are removed first, and
// SIGQUIT also prints every goroutine's stack, as Go does by default, so a
// hang can still be diagnosed. SIGPIPE does not kill: a closed standard
// output fails the report's write, and the run cleans up as for any error.
//
// Standard input is read through a contextReader, which ends the stream at
// the stop: what was read is still scanned, though the read under way (a
// pipe never closed) never returns.
//
// Two watchdogs make "stops within a second" hold even when a read blocks
// in the kernel where no context reaches: a scan that has not returned
// within scanStopGrace of being stopped is abandoned and the report is
// written from what it had found (scanThenReport), and a run that is still
// busy hardStopGrace after being stopped, outside report writing, exits
// without a report (runEnv).

const (
	// scanStopGrace is how long a stopped scan has to return before its
	// findings are reported without it. Sources check their context at
	// least once per chunk (1 MiB), a few milliseconds of work; a scan
	// still busy after this is blocked, and the findings of the content it
	// is blocked on are lost.
	scanStopGrace = time.Second
	// hardStopGrace is how long a stopped run may take, report writing
	// aside, before the process exits without a report.
	hardStopGrace = 5 * time.Second
)

// interruptedError is the cause of a run's context when a signal stopped it.
type interruptedError struct{ sig os.Signal }

func (e *interruptedError) Error() string {
	if e.sig == nil {
		return "interrupted"
	}
	return "interrupted by " + signalName(e.sig)
}

// code is the exit code: 128 plus the signal's number, as shells report it.
func (e *interruptedError) code() int { return signalExitCode(e.sig) }

func signalExitCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return exitError
}

// stopCause says why ctx ended: an *interruptedError for a signal (or a
// caller's cancel), context.DeadlineExceeded for --timeout, nil while it
// runs.
func stopCause(ctx context.Context) error {
	if ctx == nil || ctx.Err() == nil {
		return nil
	}
	var ie *interruptedError
	if errors.As(context.Cause(ctx), &ie) {
		return ie
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ctx.Err()
	}
	return &interruptedError{}
}

// withSignals returns a context that the first stop signal cancels, with an
// *interruptedError as its cause. A second signal, a signal once --timeout
// has stopped the run, or SIGQUIT removes the run's temporary files and
// exits at once. SIGPIPE no longer kills: a write to a closed standard
// output fails like any write, and the run cleans up as for any error.
// stop releases the signals.
func withSignals(parent context.Context, stderr io.Writer, temps *tempPaths) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, stopSignals...)
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	done := make(chan struct{})
	go func() {
		stopped := false
		for {
			select {
			case <-done:
				return
			case sig := <-ch:
				if stopped || isQuit(sig) || runStopped.Load() {
					exitNow(stderr, sig, stopped, temps)
				}
				stopped = true
				cancel(&interruptedError{sig})
				if !absorbRepeats(ch, done, sig, stderr, temps) {
					return
				}
				printNote(stderr, fmt.Sprintf("%s: stopping; the report will list what was found so far (%s again to exit at once, without a report)", signalName(sig), signalKey(sig)))
			}
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// repeatGrace is how long after a stop signal the same signal again is
// taken as the same stop. coreutils' timeout(1) sends its signal to the
// program and then to the program's process group, so
// `timeout 10m loftyscan ...` gets SIGTERM twice within microseconds (and
// Ctrl-C under timeout, SIGINT two or three times); taken as "again: exit
// now", they would lose the report. A stopped scan is given up after
// scanStopGrace anyway, so a second signal sooner than that would gain
// nothing.
const repeatGrace = scanStopGrace

// absorbRepeats waits repeatGrace after the stop signal sig, dropping sig
// again meanwhile; another signal ends the process at once, as a second
// stop does. It returns false when the run ended (done) first.
func absorbRepeats(ch <-chan os.Signal, done <-chan struct{}, sig os.Signal, stderr io.Writer, temps *tempPaths) bool {
	t := time.NewTimer(repeatGrace)
	defer t.Stop()
	for {
		select {
		case <-done:
			return false
		case <-t.C:
			return true
		case again := <-ch:
			if again != sig {
				exitNow(stderr, again, !isQuit(again), temps)
			}
		}
	}
}

// exitNow ends the process on a second signal or SIGQUIT: temporary files
// and folders go, the report (not yet renamed into place) with them.
func exitNow(stderr io.Writer, sig os.Signal, again bool, temps *tempPaths) {
	temps.markExiting()
	temps.removeAll()
	what := signalName(sig)
	if again {
		what += " again"
	}
	printNote(stderr, what+": exiting now, without a report; temporary files removed")
	if isQuit(sig) {
		// Function names, files, lines and argument words, as the runtime
		// prints them on SIGQUIT: no text of the scanned data.
		_ = pprof.Lookup("goroutine").WriteTo(stderr, 2)
	}
	os.Exit(signalExitCode(sig))
}

// tempPaths are a run's leftovers: its temporary files and folders under
// way (a clone, a report not yet renamed into place), removed by whatever
// ends the run at once, and the processes writing into them (a clone's
// git and its helpers), killed first. Each run has its own (env.temps): a
// run that gives up must not remove the files of another run in the same
// process.
type tempPaths struct {
	mu    sync.Mutex
	paths map[string]int
	kills map[int]func() // by a number of their own
	next  int

	// exiting is closed once a signal ends the process at once (exitNow):
	// the run, whose clone exitNow kills, must not then report that error
	// and exit first, with its own code.
	exiting  chan struct{}
	exitOnce sync.Once
}

func newTempPaths() *tempPaths {
	return &tempPaths{paths: map[string]int{}, kills: map[int]func(){}, exiting: make(chan struct{})}
}

// markExiting says that the process is ending at once (exitNow).
func (t *tempPaths) markExiting() { t.exitOnce.Do(func() { close(t.exiting) }) }

// holdIfExiting blocks for good once the process is ending at once:
// exitNow exits it.
func (t *tempPaths) holdIfExiting() {
	select {
	case <-t.exiting:
		select {}
	default:
	}
}

// addKill registers kill, which stops at once a process that writes into
// one of the paths; forget unregisters it once the process has exited.
func (t *tempPaths) addKill(kill func()) (forget func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.next++
	n := t.next
	t.kills[n] = kill
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		delete(t.kills, n)
	}
}

// add registers path; forget unregisters it once its owner has removed it
// or renamed it into place.
func (t *tempPaths) add(path string) (forget func()) {
	if path == "" {
		return func() {}
	}
	t.mu.Lock()
	t.paths[path]++
	t.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			defer t.mu.Unlock()
			if t.paths[path]--; t.paths[path] <= 0 {
				delete(t.paths, path)
			}
		})
	}
}

// removeAll kills every registered process, then removes every
// registered path. A clone still being written can add files while its
// folder is removed, so each removal is retried.
func (t *tempPaths) removeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for n, kill := range t.kills {
		kill()
		delete(t.kills, n)
	}
	for p := range t.paths {
		removeHard(p)
		delete(t.paths, p)
	}
}

// removeHard removes path and what is in it, retrying a few times when a
// writer still at work adds files while it goes.
func removeHard(path string) error {
	var err error
	for range 5 {
		if err = os.RemoveAll(path); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

// runStopped is set once a run of this process is stopped (a signal or
// --timeout): a signal after that exits at once.
var runStopped atomic.Bool

// stopWatch is closed once a run is stopped (by a signal or --timeout), for
// the hard-stop watchdog in runEnv.
type stopWatch struct {
	once      sync.Once
	ch        chan struct{}
	mu        sync.Mutex
	reporting bool // the report is being written: wait for it
	cause     error
}

func newStopWatch() *stopWatch { return &stopWatch{ch: make(chan struct{})} }

// watch closes the stopWatch when ctx ends; release stops watching.
func (s *stopWatch) watch(ctx context.Context) (release func() bool) {
	return context.AfterFunc(ctx, func() {
		s.once.Do(func() {
			s.mu.Lock()
			s.cause = stopCause(ctx)
			s.mu.Unlock()
			runStopped.Store(true)
			close(s.ch)
		})
	})
}

// setReporting marks the report as being written (or done).
func (s *stopWatch) setReporting(on bool) {
	s.mu.Lock()
	s.reporting = on
	s.mu.Unlock()
}

func (s *stopWatch) state() (reporting bool, cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reporting, s.cause
}

// stopSignals stop a run. On Windows only os.Interrupt (Ctrl-C, Ctrl-Break)
// and SIGTERM (the console closing) are ever delivered.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

func isQuit(sig os.Signal) bool { return sig == syscall.SIGQUIT }

func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	}
	return sig.String()
}

// signalKey says how a user sends sig again.
func signalKey(sig os.Signal) string {
	if sig == os.Interrupt {
		return "Ctrl-C"
	}
	return signalName(sig)
}
