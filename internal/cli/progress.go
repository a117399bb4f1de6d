package cli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/scanner"
)

// progressLine shows how far a scan has got, on one line of stderr that it
// rewrites in place. It runs only when stderr is a terminal and not in CI:
// progress in a CI log or a pipe is noise that outlives its moment.
type progressLine struct {
	w       io.Writer
	p       *scanner.Progress
	start   time.Time
	unit    string // "files" or "blobs"
	mu      sync.Mutex
	shown   bool
	done    chan struct{}
	stopped sync.WaitGroup
}

// progressWanted decides whether to show progress.
func progressWanted(e env, off bool) bool {
	if off || e.getenv("CI") != "" {
		return false
	}
	return isTerminal(e.stderr)
}

// startProgress starts the display if wanted and returns it, or nil. A nil
// *progressLine is valid: its methods do nothing.
func startProgress(e env, off bool, p *scanner.Progress, unit string) *progressLine {
	if !progressWanted(e, off) {
		return nil
	}
	pl := &progressLine{w: e.stderr, p: p, start: time.Now(), unit: unit, done: make(chan struct{})}
	pl.stopped.Add(1)
	go func() {
		defer pl.stopped.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-pl.done:
				return
			case <-t.C:
				pl.draw()
			}
		}
	}()
	return pl
}

func (pl *progressLine) draw() {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	el := time.Since(pl.start)
	b := pl.p.Bytes.Load()
	rate := float64(b) / el.Seconds() / 1e6
	fmt.Fprintf(pl.w, "\r\033[Kscanning: %d %s, %.1f MB, %.0f MB/s, %s", pl.p.Files.Load(), pl.unit, float64(b)/1e6, rate, el.Round(time.Second))
	pl.shown = true
}

// clear erases the line so that a warning or the report starts clean.
func (pl *progressLine) clear() {
	if pl.shown {
		fmt.Fprint(pl.w, "\r\033[K")
		pl.shown = false
	}
}

// printWarning prints a warning without tearing the progress line.
func (pl *progressLine) printWarning(w io.Writer, msg string) {
	pl.print(func() { printWarning(w, msg) })
}

// print runs show, which prints a line, without tearing the progress line.
func (pl *progressLine) print(show func()) {
	if pl == nil {
		show()
		return
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.clear()
	show()
}

// stop ends the display and erases it.
func (pl *progressLine) stop() {
	if pl == nil {
		return
	}
	close(pl.done)
	pl.stopped.Wait()
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.clear()
}

// startScan sets up progress for a scan about to run with opts: it returns
// the display (nil when not shown) and the warning printer to hand the
// scanner's Collector. Call stop on the display when the scan ends.
func (o *outputFlags) startScan(e env, opts *scanner.Options, unit string) (*progressLine, func(finding.Warning)) {
	p := &scanner.Progress{}
	opts.Progress = p
	pl := startProgress(e, o.noProgress, p, unit)
	return pl, func(w finding.Warning) { pl.printWarning(e.stderr, w.String()) }
}

// onSkip is the scan's Collector.OnSkip: with --verbose, each thing the
// scan skipped quietly is listed on stderr, once per path and reason
// (history meets a skipped path in many trees); without it, nil.
func (o *outputFlags) onSkip(e env, pl *progressLine) func(finding.Warning) {
	if !o.verbose {
		return nil
	}
	seen := map[finding.Warning]bool{}
	return func(w finding.Warning) {
		if seen[w] {
			return
		}
		seen[w] = true
		pl.print(func() { printSkipped(e.stderr, w.String()) })
	}
}
