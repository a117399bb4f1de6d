package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/remediate"
	"github.com/loftyscan/loftyscan/reporters"
	"github.com/loftyscan/loftyscan/scanner"
	"github.com/loftyscan/loftyscan/verify"
)

// scan is one scan a command runs: what scanThenReport needs of it.
type scan struct {
	unit string          // what the progress line counts: "files" or "blobs"
	mode reporters.Mode  // what is scanned, for the terminal's advice
	opts scanner.Options // from the scan flags
	// walk, when set, are the roots of a walk of folders: a report written
	// below one of them is not scanned.
	walk []string
	// prepare, when set, runs once the reports' outputs are open and
	// before the scan (a clone), and returns what undoes it.
	prepare func(ctx context.Context) (cleanup func(), err error)
	// run scans, with findings and warnings going to sink.
	run func(ctx context.Context, s *scanner.Scanner, sink scanner.Sink) (finding.Stats, error)
	// fail turns an error of run into the CLI's error, with a hint.
	fail func(error) error
	// root is what SARIF's paths are relative to ("" for none); asked once
	// the scan is done.
	root func() string
	// settings are the configuration, ignore list and baseline, read
	// before the scan from where the scan's settings come from.
	settings *settings
}

// scanThenReport is how every scan command runs. The reports' outputs are
// opened first, so that one that cannot be written fails before a long
// scan; the scan runs with a progress line; then triage decides what
// counts, and every report is rendered from the one scan and written.
// A report file is put in place only once it is whole: a scan that fails
// leaves the previous one. A scan stopped by a signal or --timeout still
// writes every report with what it found; a run stopped before its scan
// began (during a clone) writes none, since it found nothing.
func (o *outputFlags) scanThenReport(ctx context.Context, e env, sc scan) error {
	outs, err := o.openReports(e)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			abortReports(outs)
		}
	}()
	if sc.walk != nil {
		skipReports(&sc.opts, sc.walk, reportPaths(outs))
	}
	if sc.prepare != nil {
		cleanup, err := sc.prepare(ctx)
		if err != nil {
			if cause := stopCause(ctx); cause != nil {
				return o.stoppedError(cause, "the clone", "nothing was scanned, no report was written, and the temporary clone is removed", "raise --timeout, or clone the repository yourself and scan the clone")
			}
			return err
		}
		defer cleanup()
	}
	announce(e, sc.settings)
	pl, warn := o.startScan(e, &sc.opts, sc.unit)
	sink := &reportSink{c: scanner.Collector{OnWarning: warn, OnSkip: o.onSkip(e, pl, sc.opts)}}
	stats, err := runScan(ctx, e, sc, sink)
	pl.stop()
	scanStop := stopCause(ctx)
	if err != nil && scanStop == nil {
		return sc.fail(err)
	}
	stats.Warnings += int64(len(sc.settings.warnings) + len(sc.settings.notices))
	ok = true
	return o.report(ctx, e, outs, sink.freeze(), stats, sc.root(), sc.mode, sc.settings, scanStop)
}

// announce prints, before the scan, what the settings say a reviewer must
// know: caps held to their ceilings, settings the scanned change edits, a
// skip list that skips everything.
func announce(e env, st *settings) {
	for _, w := range st.warnings {
		printWarning(e.stderr, w)
	}
	for _, n := range st.notices {
		msg := n.Message
		if n.Kind == finding.NoticeSkipEverything {
			msg = "NOTHING WILL BE SCANNED: " + msg
		}
		printWarning(e.stderr, msg)
	}
}

// runScan runs the scan. Stopped, a scan returns within scanStopGrace as
// a rule; one that does not is blocked where its context does not reach,
// and is left behind: the findings it had made are reported without it.
func runScan(ctx context.Context, e env, sc scan, sink *reportSink) (finding.Stats, error) {
	type result struct {
		stats finding.Stats
		err   error
	}
	start := time.Now()
	done := make(chan result, 1)
	go func() {
		stats, err := sc.run(ctx, scanner.New(sc.opts), sink)
		done <- result{stats, err}
	}()
	select {
	case r := <-done:
		return r.stats, r.err
	case <-ctx.Done():
	}
	t := time.NewTimer(scanStopGrace)
	defer t.Stop()
	select {
	case r := <-done:
		return r.stats, r.err
	case <-t.C:
	}
	printWarning(e.stderr, fmt.Sprintf("the scan did not stop within %s (a read blocked where it cannot be interrupted): the report lists what it had found, and its counts of skipped and unreadable files may be short", scanStopGrace))
	p := sc.opts.Progress
	return finding.Stats{Files: p.Files.Load(), Bytes: p.Bytes.Load(), Duration: time.Since(start), Warnings: sink.warnings()}, ctx.Err()
}

// reportSink collects what a scan finds. It is frozen when the report is
// made: whatever a scan left behind finds after that is dropped.
type reportSink struct {
	mu     sync.Mutex
	c      scanner.Collector
	frozen bool
}

func (s *reportSink) Finding(f finding.Finding) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.frozen {
		s.c.Finding(f)
	}
}

func (s *reportSink) Warning(w finding.Warning) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.frozen {
		s.c.Warning(w)
	}
}

func (s *reportSink) Skipped(w finding.Warning) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.frozen {
		s.c.Skipped(w)
	}
}

func (s *reportSink) warnings() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.c.Warnings))
}

// freeze ends collection and returns the findings in report order.
func (s *reportSink) freeze() []finding.Finding {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frozen = true
	return s.c.Sorted()
}

// useColor decides colour for the terminal format: only on a terminal, and
// never with --no-color or NO_COLOR (https://no-color.org).
func (o *outputFlags) useColor(e env, w io.Writer) bool {
	if o.noColor || e.getenv("NO_COLOR") != "" {
		return false
	}
	return isTerminal(w)
}

// report triages the findings, writes every report and turns findings
// into errFindings. scanStop is why the scan was stopped, if it was; ctx
// ending during verification (a signal, --timeout) leaves the keys not yet
// checked unknown, and the reports are written all the same.
func (o *outputFlags) report(ctx context.Context, e env, outs []*reportOut, findings []finding.Finding, stats finding.Stats, root string, mode reporters.Mode, st *settings, scanStop error) error {
	shown, err := o.triage.apply(ctx, e, findings, &stats, st)
	if err != nil {
		abortReports(outs)
		return err
	}
	remediate.HideEncodedNames(findings, shown)
	if root != "" {
		if abs, err := filepath.Abs(root); err == nil {
			root = abs
		}
	}
	if o.stops != nil {
		o.stops.setReporting(true)
		defer o.stops.setReporting(false)
	}
	if err := o.writeReports(e, outs, reporters.Report{Findings: shown, Stats: stats, Root: root, Notices: st.notices, Mode: mode}); err != nil {
		return err
	}
	unchecked, verified := unverified(findings)
	switch {
	case scanStop != nil:
		return o.stoppedError(scanStop, "the scan", "the report lists only what was found before", "raise --timeout, or scan less at once (a folder, a --range)")
	case unchecked > 0 && stopCause(ctx) != nil:
		return o.stoppedError(stopCause(ctx), "live verification",
			fmt.Sprintf("%d of %d verified findings were not checked (verification \"unknown\", with the reason); the report lists every finding", unchecked, verified),
			"raise --timeout; keys whose verification is unknown may be live")
	case o.failOnError && stats.Errors > 0:
		return &cliError{err: fmt.Errorf("%d files or objects could not be read (see the warnings above)", stats.Errors), hint: "fix or skip them, or leave out --fail-on-error to let the findings decide the exit code"}
	case stats.Findings > 0:
		return errFindings
	}
	return nil
}

// unverified counts the findings whose verification a stop cut short, and
// those verification looked at.
func unverified(findings []finding.Finding) (unchecked, verified int) {
	for _, f := range findings {
		if f.Verification == "" {
			continue
		}
		verified++
		switch f.VerificationReason {
		case verify.ReasonInterrupted, verify.ReasonTimeoutBefore, verify.ReasonTimeoutDuring:
			unchecked++
		}
	}
	return unchecked, verified
}

// stoppedError says that what (a phase: "the scan") was stopped, by a
// signal or by --timeout, and then what that means; timeoutHint is the
// hint for --timeout. A signal's error exits 128 plus its number.
func (o *outputFlags) stoppedError(cause error, what, then, timeoutHint string) error {
	var ie *interruptedError
	if errors.As(cause, &ie) {
		return &cliError{err: stopError{fmt.Errorf("%s was %s: %s", what, ie.Error(), then), ie}}
	}
	return &cliError{err: fmt.Errorf("%s was stopped by --timeout %s: %s", what, o.timeout, then), hint: timeoutHint}
}
