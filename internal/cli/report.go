package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/reporters"
	"github.com/loftyscan/loftyscan/scanner"
)

// scan is one scan a command runs: what scanThenReport needs of it.
type scan struct {
	unit string          // what the progress line counts: "files" or "blobs"
	opts scanner.Options // from the scan flags
	// prepare, when set, runs once the report's output is open and before
	// the scan (a clone), and returns what undoes it.
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

// scanThenReport is how every scan command runs. The report's output is
// opened first, so that one that cannot be written fails before a long
// scan; the scan runs with a progress line; then triage decides what
// counts, the report is written and the output closed, whatever happened.
func (o *outputFlags) scanThenReport(ctx context.Context, e env, sc scan) error {
	w, closeOut, err := o.openOutput(e)
	if err != nil {
		return err
	}
	if sc.prepare != nil {
		cleanup, err := sc.prepare(ctx)
		if err != nil {
			closeOut()
			return err
		}
		defer cleanup()
	}
	announce(e, sc.settings)
	pl, warn := o.startScan(e, &sc.opts, sc.unit)
	c := &scanner.Collector{OnWarning: warn}
	stats, err := sc.run(ctx, scanner.New(sc.opts), c)
	pl.stop()
	if err != nil && !o.stopped(err) {
		closeOut()
		return sc.fail(err)
	}
	stats.Warnings += int64(len(sc.settings.warnings) + len(sc.settings.notices))
	return o.report(e, w, closeOut, c.Sorted(), stats, sc.root(), sc.settings)
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

// openOutput opens where the report goes.
func (o *outputFlags) openOutput(e env) (io.Writer, func() error, error) {
	if o.output == "" || o.output == "-" {
		return e.stdout, func() error { return nil }, nil
	}
	f, err := os.Create(o.output)
	if err != nil {
		return nil, nil, &cliError{err: fmt.Errorf("cannot write the report: %w", err), hint: "check that the folder of --output exists and is writable"}
	}
	return f, f.Close, nil
}

// useColor decides colour for the terminal format: only on a terminal, and
// never with --no-color or NO_COLOR (https://no-color.org).
func (o *outputFlags) useColor(e env, w io.Writer) bool {
	if o.noColor || e.getenv("NO_COLOR") != "" {
		return false
	}
	return isTerminal(w)
}

// report triages the findings, writes the report to w and closes it, and
// turns findings into errFindings.
func (o *outputFlags) report(e env, w io.Writer, closeOut func() error, findings []finding.Finding, stats finding.Stats, root string, st *settings) error {
	shown, err := o.triage.apply(o.ctx, e, findings, &stats, st)
	if err != nil {
		closeOut()
		return err
	}
	rep, err := reporters.New(o.format, reporters.Options{
		ShowSecrets: o.showSecrets,
		Color:       o.format == reporters.FormatTerminal && o.useColor(e, w),
		Version:     versionString(),
	})
	if err != nil {
		closeOut()
		return &cliError{err: err}
	}
	if root != "" {
		if abs, err := filepath.Abs(root); err == nil {
			root = abs
		}
	}
	err = errors.Join(rep.Report(w, reporters.Report{Findings: shown, Stats: stats, Root: root, Notices: st.notices}), closeOut())
	if err != nil {
		return &cliError{err: fmt.Errorf("cannot write the report: %w", err), hint: "check --output and that standard output is open"}
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
