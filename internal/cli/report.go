package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/reporters"
	"github.com/loftyscan/loftyscan/scanner"
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
// leaves the previous one.
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
			return err
		}
		defer cleanup()
	}
	announce(e, sc.settings)
	pl, warn := o.startScan(e, &sc.opts, sc.unit)
	c := &scanner.Collector{OnWarning: warn, OnSkip: o.onSkip(e, pl)}
	stats, err := sc.run(ctx, scanner.New(sc.opts), c)
	pl.stop()
	if err != nil && !o.stopped(err) {
		return sc.fail(err)
	}
	stats.Warnings += int64(len(sc.settings.warnings) + len(sc.settings.notices))
	ok = true
	return o.report(e, outs, c.Sorted(), stats, sc.root(), sc.mode, sc.settings)
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

// useColor decides colour for the terminal format: only on a terminal, and
// never with --no-color or NO_COLOR (https://no-color.org).
func (o *outputFlags) useColor(e env, w io.Writer) bool {
	if o.noColor || e.getenv("NO_COLOR") != "" {
		return false
	}
	return isTerminal(w)
}

// report triages the findings, writes every report and turns findings
// into errFindings.
func (o *outputFlags) report(e env, outs []*reportOut, findings []finding.Finding, stats finding.Stats, root string, mode reporters.Mode, st *settings) error {
	shown, err := o.triage.apply(o.ctx, e, findings, &stats, st)
	if err != nil {
		abortReports(outs)
		return err
	}
	if root != "" {
		if abs, err := filepath.Abs(root); err == nil {
			root = abs
		}
	}
	if err := o.writeReports(e, outs, reporters.Report{Findings: shown, Stats: stats, Root: root, Notices: st.notices, Mode: mode}); err != nil {
		return err
	}
	switch {
	case o.timedOut:
		return &cliError{err: fmt.Errorf("the scan was stopped by --timeout %s: the report lists only what was found before", o.timeout), hint: "raise --timeout, or scan less at once (a folder, a --range)"}
	case o.failOnError && stats.Errors > 0:
		return &cliError{err: fmt.Errorf("%d files or objects could not be read (see the warnings above)", stats.Errors), hint: "fix or skip them, or leave out --fail-on-error to let the findings decide the exit code"}
	case stats.Findings > 0:
		return errFindings
	}
	return nil
}

// stopped reports whether a scan error is --timeout running out, in which
// case the command reports what was found and then fails.
func (o *outputFlags) stopped(err error) bool {
	if o.timeout > 0 && errors.Is(err, context.DeadlineExceeded) {
		o.timedOut = true
		return true
	}
	return false
}
