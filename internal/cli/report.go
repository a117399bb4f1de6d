package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/loftyscan/loftyscan/reporters"
	"github.com/loftyscan/loftyscan/scanner"
	"github.com/mattn/go-isatty"
)

// openOutput opens where the report goes. It is called before the scan, so
// a report that cannot be written fails fast instead of after a long scan.
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
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// report writes the report to w (from openOutput) and turns findings into
// errFindings.
func (o *outputFlags) report(e env, w io.Writer, closeOut func() error, findings []scanner.Finding, stats scanner.Stats, root string) error {
	shown, counted, err := o.triage.apply(o.ctx, e, findings, &stats, root)
	if err != nil {
		return err
	}
	findings = shown
	rep, err := reporters.New(o.format, reporters.Options{
		ShowSecrets: o.showSecrets,
		Color:       o.format == reporters.FormatTerminal && o.useColor(e, w),
		Version:     versionString(),
	})
	if err != nil {
		return &cliError{err: err}
	}
	if root != "" {
		if abs, err := filepath.Abs(root); err == nil {
			root = abs
		}
	}
	err = errors.Join(rep.Report(w, reporters.Report{Findings: findings, Stats: stats, Root: root}), closeOut())
	if err != nil {
		return &cliError{err: fmt.Errorf("cannot write the report: %w", err), hint: "check --output and that standard output is open"}
	}
	switch {
	case o.timedOut:
		return &cliError{err: fmt.Errorf("the scan was stopped by --timeout %s: the report lists only what was found before", o.timeout), hint: "raise --timeout, or scan less at once (a folder, a --range)"}
	case o.failOnError && stats.Errors > 0:
		return &cliError{err: fmt.Errorf("%d files or objects could not be read (see the warnings above)", stats.Errors), hint: "fix or skip them, or leave out --fail-on-error to let the findings decide the exit code"}
	case counted > 0:
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
