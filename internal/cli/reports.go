package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/loftyscan/loftyscan/internal/ghaction"
	"github.com/loftyscan/loftyscan/reporters"
	"github.com/spf13/cobra"
)

// One scan, many reports. `--report FORMAT[=PATH]` (repeatable) asks for a
// report in FORMAT written to PATH, or to standard output without one;
// --format and --output name one report the same way. All of them are
// rendered from the same scan.
//
//   - Without --report, --format and --output give the one report, as they
//     always have (terminal to standard output by default).
//   - With --report, the reports are those --report names, plus one from
//     --format/--output when either is given: `--format sarif --output
//     x.sarif --report terminal` writes both.
//   - Two reports cannot share standard output, except github: its lines
//     are workflow commands that the Actions runner takes out of the log,
//     so `--report github --report terminal` gives annotations and a
//     readable log. It is written first, and the other report is fenced in
//     ::stop-commands:: (ghaction.StopCommands), so that nothing the
//     scanned data put in it (a path, a commit message) can be read by the
//     runner as a command.
//   - Two reports cannot go to one file.
//   - A report to the file $GITHUB_STEP_SUMMARY or $GITHUB_OUTPUT names
//     (the Actions runner's job summary and step outputs) is appended to
//     it, never truncating what other steps wrote; any other file is
//     replaced whole (reportFile).

// reportSpec is one report asked for.
type reportSpec struct {
	format string // one of reporters.Formats
	path   string // "" for standard output
}

// parseReportSpec reads FORMAT[=PATH].
func parseReportSpec(s string) (reportSpec, error) {
	name, path, hasPath := strings.Cut(s, "=")
	format, err := reporters.ParseFormat(name)
	if err != nil {
		return reportSpec{}, &cliError{err: fmt.Errorf("--report %q: %w", s, err), hint: "use --report FORMAT or --report FORMAT=PATH, e.g. --report sarif=loftyscan.sarif"}
	}
	if hasPath && path == "" {
		return reportSpec{}, &cliError{err: fmt.Errorf("--report %q has no path after '='", s), hint: "leave out '=' to write to standard output, or give a path: --report " + format + "=FILE"}
	}
	if path == "-" {
		path = ""
	}
	return reportSpec{format: format, path: path}, nil
}

// reportSpecs decides the reports of a command from its flags.
func (o *outputFlags) reportSpecs(cmd *cobra.Command) ([]reportSpec, error) {
	var specs []reportSpec
	for _, s := range o.reports {
		spec, err := parseReportSpec(s)
		if err != nil {
			return nil, err
		}
		specs = append(specs, spec)
	}
	if len(specs) == 0 || cmd.Flags().Changed("format") || cmd.Flags().Changed("output") {
		path := o.output
		if path == "-" {
			path = ""
		}
		specs = append(specs, reportSpec{format: o.format, path: path})
	}
	return specs, checkReportSpecs(specs)
}

// checkReportSpecs refuses reports that would write over one another.
func checkReportSpecs(specs []reportSpec) error {
	var onStdout []string
	files := map[string]string{}
	for _, s := range specs {
		if s.path == "" {
			onStdout = append(onStdout, s.format)
			continue
		}
		abs, err := filepath.Abs(s.path)
		if err != nil {
			abs = filepath.Clean(s.path)
		}
		if prev, ok := files[abs]; ok {
			return &cliError{err: fmt.Errorf("two reports (%s and %s) go to %s", prev, s.format, s.path), hint: "give each --report a file of its own"}
		}
		files[abs] = s.format
	}
	github, others := 0, 0
	for _, f := range onStdout {
		if f == reporters.FormatGitHub {
			github++
		} else {
			others++
		}
	}
	if github > 1 || others > 1 {
		return &cliError{err: fmt.Errorf("%d reports go to standard output (%s)", len(onStdout), strings.Join(onStdout, ", ")),
			hint: "only one can (github annotations may join it): write the others to files, as --report FORMAT=PATH"}
	}
	return nil
}

// reportOut is where one report goes, opened before the scan so that one
// that cannot be written fails fast.
type reportOut struct {
	spec reportSpec
	w    io.Writer
	// finish completes the report once written (ok) or drops it (!ok).
	finish func(ok bool) error
	// temp is the temporary file a report is written to before it is
	// renamed into place, "" for none; a walk must not scan it.
	temp string
}

// openReports opens where each report goes, github on standard output
// first. On an error, whatever was opened is closed again.
func (o *outputFlags) openReports(e env) ([]*reportOut, error) {
	var outs []*reportOut
	fail := func(err error) ([]*reportOut, error) {
		abortReports(outs)
		return nil, err
	}
	var first, rest []reportSpec
	for _, s := range o.specs {
		if s.path == "" && s.format == reporters.FormatGitHub {
			first = append(first, s)
		} else {
			rest = append(rest, s)
		}
	}
	for _, s := range append(first, rest...) {
		out := &reportOut{spec: s, finish: func(bool) error { return nil }}
		switch {
		case s.path == "":
			out.w = e.stdout
		case runnerFile(e, s.path):
			f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
			if err != nil {
				return fail(reportError(s, err))
			}
			out.w = f
			out.finish = func(bool) error { return f.Close() }
		default:
			perm := os.FileMode(0o644)
			if o.showSecrets && (s.format == reporters.FormatTerminal || s.format == reporters.FormatJSON) {
				perm = 0o600 // it holds full keys
			}
			rf, err := createReportFile(e.temps, s.path, perm)
			if err != nil {
				return fail(reportError(s, err))
			}
			out.w, out.temp = rf, rf.tempPath()
			out.finish = func(ok bool) error {
				if !ok {
					rf.abort()
					return nil
				}
				return rf.commit()
			}
		}
		outs = append(outs, out)
	}
	return outs, nil
}

// reportError says why the report cannot go to s.path.
func reportError(s reportSpec, err error) error {
	return outputFileError(fmt.Sprintf("the report (%s)", s.format), s.path, err)
}

// outputFileError says why what (a report, a plan) cannot be written to
// path, naming path rather than the temporary file beside it that err is
// about, and saying so in words when its folder does not exist.
func outputFileError(what, path string, err error) error {
	dir := filepath.Dir(path)
	var pe *fs.PathError
	if fi, serr := os.Stat(path); serr == nil && fi.IsDir() {
		return &cliError{err: fmt.Errorf("cannot write %s to %s: it is a folder", what, path), hint: "give the path of a file, such as " + filepath.Join(path, "loftyscan-report")}
	}
	if file := fileAbove(path); file != "" {
		return &cliError{err: fmt.Errorf("cannot write %s to %s: %s is a file, not a folder", what, path, file), hint: "write into a folder that exists, or remove or rename " + file + " first"}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &cliError{err: fmt.Errorf("cannot write %s to %s: the folder %s does not exist", what, path, dir), hint: "create the folder first (mkdir -p " + dir + "), or write into a folder that exists"}
	case errors.As(err, &pe) && pe.Path != path:
		err = pe.Err
	}
	return &cliError{err: fmt.Errorf("cannot write %s to %s: %w", what, path, err), hint: "check that the folder of " + path + " exists and is writable"}
}

// fileAbove returns the nearest folder of path, up to the first that
// exists, when that one is not a folder but a file (--output app.env/r.json),
// or "".
func fileAbove(path string) string {
	for dir := filepath.Dir(path); ; {
		fi, err := os.Stat(dir)
		if err == nil {
			if fi.IsDir() {
				return ""
			}
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// abortReports drops reports that will not be written.
func abortReports(outs []*reportOut) {
	for _, out := range outs {
		_ = out.finish(false)
	}
}

// runnerFile reports whether path is a file the GitHub Actions runner
// gives the job to append to: the job summary ($GITHUB_STEP_SUMMARY) or the
// step's outputs ($GITHUB_OUTPUT). Truncating either would drop what the
// job's other steps wrote.
func runnerFile(e env, path string) bool {
	for _, name := range []string{"GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"} {
		if v := e.getenv(name); v != "" && samePath(v, path) {
			return true
		}
	}
	return false
}

// samePath reports whether a and b name the same file: the same path, or
// the same file reached another way.
func samePath(a, b string) bool {
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	if errA == nil && errB == nil && absA == absB {
		return true
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// reportPaths are the files the reports write, final and temporary: a
// walk of the folder they are in must not scan them.
func reportPaths(outs []*reportOut) []string {
	var paths []string
	for _, out := range outs {
		if out.spec.path != "" {
			paths = append(paths, out.spec.path)
		}
		if out.temp != "" {
			paths = append(paths, out.temp)
		}
	}
	return paths
}

// writeReports renders r in each report's format and finishes each: every
// report is attempted, whatever happened to the others.
func (o *outputFlags) writeReports(e env, outs []*reportOut, r reporters.Report) error {
	annotations := false
	for _, out := range outs {
		annotations = annotations || (out.spec.path == "" && out.spec.format == reporters.FormatGitHub)
	}
	var errs []error
	for _, out := range outs {
		rep, err := reporters.New(out.spec.format, reporters.Options{
			ShowSecrets: o.showSecrets,
			Color:       out.spec.format == reporters.FormatTerminal && o.useColor(e, out.w),
			Version:     versionString(),
		})
		if err == nil {
			if annotations && out.spec.path == "" && out.spec.format != reporters.FormatGitHub {
				err = fenced(out.w, func() error { return rep.Report(out.w, r) })
			} else {
				err = rep.Report(out.w, r)
			}
		}
		err = errors.Join(err, out.finish(err == nil))
		if err != nil {
			where := out.spec.path
			if where == "" {
				where = "standard output"
			}
			errs = append(errs, fmt.Errorf("cannot write the report (%s) to %s: %w", out.spec.format, where, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return &cliError{err: err, hint: "check the report paths and that standard output is open"}
	}
	return nil
}

// fenced runs write between ::stop-commands:: and its resume: the Actions
// runner reads no workflow command from what write prints.
func fenced(w io.Writer, write func() error) error {
	resume, err := ghaction.StopCommands(w)
	if err != nil {
		return err
	}
	return errors.Join(write(), resume())
}
