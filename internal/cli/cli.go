// Package cli is loftyscan's command line: the cobra commands (one file
// each), their flags, exit codes and the error and hint messages, the
// progress line, and the triage that decides which findings count
// (.loftyscanignore, baselines, --verify). Every scan command runs through
// one helper, scanThenReport (report.go): open the output, scan, triage,
// report.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/reporters"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit codes: the contract CI jobs and hooks rely on.
const (
	exitClean    = 0 // nothing found
	exitFindings = 1 // findings (or --exit-code N)
	exitError    = 2 // usage or fatal error
)

// errFindings is returned by a scan command that found something; run maps
// it to the --exit-code value.
var errFindings = errors.New("findings")

// cliError stops the program with exit 2: a mistake in the command line or
// something that makes the scan impossible. hint, if any, says what to do.
type cliError struct {
	err  error
	hint string
}

func (e *cliError) Error() string { return e.err.Error() }
func (e *cliError) Unwrap() error { return e.err }

// env is what a command reads from and writes to, so tests can run the
// whole CLI in-process with buffers.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// temps are the run's leftovers (stop.go): its own, so that runs in
	// one process (the tests') never remove one another's files.
	temps *tempPaths
}

// Run executes the command line args (without the program's name) and
// returns the exit code. It is the process's entry: it handles the stop
// signals (stop.go).
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	temps := newTempPaths()
	ctx, stop := withSignals(context.Background(), stderr, temps)
	defer stop()
	return runEnv(ctx, args, env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv, temps: temps})
}

// runEnv runs the command line with ctx, which a signal cancels.
func runEnv(ctx context.Context, args []string, e env) int {
	if e.temps == nil {
		e.temps = newTempPaths()
	}
	root, o := newRootCommand(e)
	root.SetArgs(args)
	root.SetIn(e.stdin)
	o.stops = newStopWatch()
	o.watch(ctx)
	defer func() { o.release() }() // o.release grows with --timeout
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	return o.wait(e, done)
}

// wait returns the exit code of the command once it returns on done. A run
// that is stopped (a signal, --timeout) and still busy hardStopGrace later,
// outside report writing, is blocked where no context reaches (a read from
// a pipe or a network file system): the run's temporary files are removed
// and the process is left to exit without a report.
func (o *outputFlags) wait(e env, done <-chan error) int {
	finished := func(err error) int {
		e.temps.holdIfExiting() // a signal is ending the process: it exits
		return exitCode(err, e.stderr, o.exitCode)
	}
	select {
	case err := <-done:
		return finished(err)
	case <-o.stops.ch:
	}
	t := time.NewTimer(hardStopGrace)
	defer t.Stop()
	select {
	case err := <-done:
		return finished(err)
	case <-t.C:
	}
	reporting, cause := o.stops.state()
	if reporting {
		return finished(<-done)
	}
	e.temps.removeAll()
	err := fmt.Errorf("loftyscan did not stop within %s of %s (blocked reading or writing a file, a pipe or the network): exiting without a report", hardStopGrace, describeStop(cause, o.timeout))
	return exitCode(&cliError{err: stopError{err, cause}}, e.stderr, o.exitCode)
}

// describeStop names what stopped a run, for messages.
func describeStop(cause error, timeout time.Duration) string {
	var ie *interruptedError
	if errors.As(cause, &ie) {
		return "being " + ie.Error()
	}
	return fmt.Sprintf("--timeout %s running out", timeout)
}

// stopError is an error of a run that was stopped: it unwraps to the cause
// too, so that exitCode finds the signal.
type stopError struct {
	err   error
	cause error
}

func (e stopError) Error() string   { return e.err.Error() }
func (e stopError) Unwrap() []error { return []error{e.err, e.cause} }

// exitCode is the one place errors become exit codes. findingsCode is
// --exit-code (exitFindings unless given). A run a signal stopped exits 128
// plus the signal's number, once its report is written.
func exitCode(err error, stderr io.Writer, findingsCode int) int {
	var (
		ce *cliError
		ie *interruptedError
	)
	switch {
	case err == nil:
		return exitClean
	case errors.Is(err, errFindings):
		return findingsCode
	case errors.As(err, &ce):
		printError(stderr, ce.err.Error())
		printHint(stderr, ce.hint)
		if errors.As(err, &ie) {
			return ie.code()
		}
		return exitError
	default:
		// Cobra's own errors: unknown command or flag, wrong arguments.
		printError(stderr, err.Error())
		printHint(stderr, "run 'loftyscan --help' for usage")
		return exitError
	}
}

// The message helpers are the only way the commands write to the user
// (internal/leakcheck checks it). Each passes its whole message through
// logSafe: errors from libraries and remotes, paths, refs and URLs can hold
// a key or bytes that would drive the terminal or start a CI workflow
// command, so every key-shaped part is redacted and every control
// character escaped, whoever built the message.

func printError(w io.Writer, msg string) {
	fmt.Fprintf(w, "loftyscan: error: %s\n", logSafe(msg))
}

func printWarning(w io.Writer, msg string) {
	fmt.Fprintf(w, "loftyscan: warning: %s\n", logSafe(msg))
}

func printHint(w io.Writer, msg string) {
	if msg != "" {
		fmt.Fprintf(w, "loftyscan: hint: %s\n", logSafe(msg))
	}
}

// printNote says what loftyscan is doing or did ("cloning URL", "installed
// the hook: PATH").
func printNote(w io.Writer, msg string) {
	fmt.Fprintf(w, "loftyscan: %s\n", logSafe(msg))
}

// printSkipped lists, for --verbose, something the scan skipped quietly.
func printSkipped(w io.Writer, msg string) {
	fmt.Fprintf(w, "loftyscan: skipped: %s\n", logSafe(msg))
}

// logSafe is finding.Sanitize for a line of the log, which also breaks up
// what GitHub's runner would read as a workflow command ("##[name]" anywhere
// in a line; the line itself starts with "loftyscan: ").
func logSafe(msg string) string {
	return finding.Sanitize(msg)
}

// isTerminal reports whether f is a terminal (a console on Windows).
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && (isatty.IsTerminal(file.Fd()) || isatty.IsCygwinTerminal(file.Fd()))
}

const rootLong = `loftyscan finds leaked Lofty API keys.

A Lofty API key is a JWS whose claims carry the THIRD_PARTY_OPERATION scope.
loftyscan decodes every JWS it finds, reports the ones that carry that scope
(lofty-api-key), and the ones without it that sit next to a Lofty name
(lofty-unconfirmed-token). Other JWTs are not reported.

Exit codes: 0 nothing found, 1 findings (see --exit-code), 2 usage or fatal
error or --timeout, 128+N stopped by signal N (130 for Ctrl-C), after writing
the report of what was found.`

func newRootCommand(e env) (*cobra.Command, *outputFlags) {
	root := &cobra.Command{
		Use:           "loftyscan",
		Short:         "Find leaked Lofty API keys",
		Long:          rootLong,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Without a subcommand, print help and fail: a CI step that runs
		// bare `loftyscan` scanned nothing and must not pass.
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(e.stderr)
			_ = cmd.Help()
			return &cliError{err: errors.New("no command given"), hint: "to scan this folder, run 'loftyscan dir .'"}
		},
	}
	root.Args = unknownSubcommand
	// Before the completion command is made: it keeps the writer it finds.
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &cliError{err: plainFlagError(err), hint: fmt.Sprintf("run '%s --help' for the flags", cmd.CommandPath())}
	})
	// --version prints what `loftyscan version` prints.
	v, c, d := buildInfo()
	root.Version = v
	root.SetVersionTemplate(versionLine(v, c, d))
	o := &outputFlags{}
	o.register(root)
	root.AddCommand(newDirCommand(e, o), newStdinCommand(e, o), newGitCommand(e, o), newHookCommand(e), newBaselineCommand(e, o), newRemediateCommand(e, o), newVersionCommand(e), newManCommand(e))
	root.SetHelpCommand(newHelpCommand(e))
	// cobra adds `completion` when the run starts; made now, it can be told
	// to fail on a shell it does not know instead of printing its help.
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			requireSubcommand(e, c, "name the shell: loftyscan completion bash|zsh|fish|powershell")
		}
	}
	return root, o
}

// requireSubcommand makes a command that only groups others (baseline,
// completion) fail when it is run alone or with a name it does not know.
// cobra would print its help and exit 0, so a mistyped
// `loftyscan baseline creat` in a CI step would pass having done nothing.
func requireSubcommand(e env, cmd *cobra.Command, hint string) {
	cmd.Args = unknownSubcommand
	cmd.RunE = func(c *cobra.Command, args []string) error {
		c.SetOut(e.stderr)
		_ = c.Help()
		return &cliError{err: fmt.Errorf("'%s' needs a command", c.CommandPath()), hint: hint}
	}
}

// newHelpCommand is `loftyscan help [command]`: cobra's own prints the
// root's help and exits 0 for a topic it does not know, so a mistyped
// `loftyscan help dri` read as an answer. It fails as a mistyped command
// does, with cobra's nearest suggestion.
func newHelpCommand(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		RunE: func(c *cobra.Command, args []string) error {
			root := c.Root()
			cmd, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				// The first word no command has, under the deepest one
				// found: "help baseline creat x" is about "creat".
				if err != nil || cmd == nil {
					cmd = root
				}
				if len(rest) == 0 {
					rest = args
				}
				return unknownSubcommand(cmd, rest)
			}
			cmd.SetOut(e.stdout)
			return cmd.Help()
		},
		// Completes the names of the commands under those typed so far.
		ValidArgsFunction: func(c *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
			cmd, _, err := c.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), prefix) {
					names = append(names, sub.Name()+"\t"+sub.Short)
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
	}
}

// unknownSubcommand is the argument check of the commands that group
// others (and of the root): an argument can only be a mistyped command,
// named on one line with cobra's nearest suggestion as the hint.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's own default, set only where it prints them itself
	}
	path := cmd.CommandPath()
	hint := fmt.Sprintf("run '%s --help' for its commands", path)
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		hint = fmt.Sprintf("did you mean '%s %s'? %s", path, s[0], hint)
	}
	return &cliError{err: fmt.Errorf("unknown command %q for '%s'", args[0], path), hint: hint}
}

// plainFlagError says in words what is wrong with a flag's value, instead
// of the parser's own error ("strconv.ParseInt: parsing \"x\": invalid
// syntax", "time: missing unit in duration \"5\"").
func plainFlagError(err error) error {
	var bad *pflag.InvalidValueError
	if !errors.As(err, &bad) {
		return err
	}
	var want string
	switch bad.GetFlag().Value.Type() {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		want = "a whole number"
		if errors.Is(err, strconv.ErrRange) {
			want = "a whole number in range"
		}
	case "bool":
		want = "true or false"
	case "duration":
		want = "a duration with its unit, such as 30s, 10m or 1h"
	default:
		return err
	}
	return fmt.Errorf("--%s %q is not %s", bad.GetFlag().Name, bad.GetValue(), want)
}

// outputFlags are the flags every scan command shares.
type outputFlags struct {
	format      string
	output      string
	reports     []string     // --report FORMAT[=PATH], as given
	specs       []reportSpec // the reports to write, from --report, --format and --output
	verbose     bool
	showSecrets bool
	exitCode    int
	noColor     bool
	noProgress  bool
	timeout     time.Duration
	failOnError bool
	triage      triageFlags

	stops   *stopWatch // closed when the run is stopped, for the hard-stop watchdog
	release func()     // stops watching and frees the --timeout timer
}

// watch makes the end of ctx (a signal, --timeout) stop the run.
func (o *outputFlags) watch(ctx context.Context) {
	unwatch := o.stops.watch(ctx)
	prev := o.release
	o.release = func() {
		unwatch()
		if prev != nil {
			prev()
		}
	}
}

func (o *outputFlags) register(root *cobra.Command) {
	f := root.PersistentFlags()
	f.StringVarP(&o.format, "format", "f", reporters.FormatTerminal, "report format: "+strings.Join(reporters.Formats(), ", "))
	f.StringVarP(&o.output, "output", "o", "", "write the report to `FILE` instead of standard output")
	f.StringArrayVar(&o.reports, "report", nil, "also write a report in `FORMAT[=PATH]` (standard output without a path); repeatable: one scan, every report")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "also list what was skipped on purpose and why (skip globs, symbolic links not followed)")
	f.BoolVar(&o.showSecrets, "show-secrets", false, "print full keys in terminal and json reports (never in SARIF, GitLab or JUnit)")
	f.IntVar(&o.exitCode, "exit-code", exitFindings, "exit `code` when keys are found")
	f.BoolVar(&o.noColor, "no-color", false, "no colours in terminal output (also NO_COLOR=1)")
	f.BoolVar(&o.noProgress, "no-progress", false, "no progress line on stderr (it is shown only on a terminal, never in CI)")
	f.DurationVar(&o.timeout, "timeout", 0, "stop the scan after `DURATION` (e.g. 10m), report what was found, and exit 2")
	f.BoolVar(&o.failOnError, "fail-on-error", false, "exit 2 when a file or object could not be read, after reporting")
	o.triage.register(f)
	_ = root.RegisterFlagCompletionFunc("format", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return reporters.Formats(), cobra.ShellCompDirectiveNoFileComp
	})
	_ = root.RegisterFlagCompletionFunc("report", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, f := range reporters.Formats() {
			out = append(out, f, f+"=")
		}
		return out, cobra.ShellCompDirectiveNoSpace
	})
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if o.timeout < 0 {
			return &cliError{err: fmt.Errorf("--timeout %s is negative", o.timeout), hint: "use a duration such as 10m, or leave it out"}
		}
		if o.timeout > 0 {
			ctx, cancel := context.WithTimeout(cmd.Context(), o.timeout)
			if o.stops != nil {
				o.watch(ctx)
			}
			release := o.release
			o.release = func() {
				if release != nil {
					release()
				}
				cancel()
			}
			cmd.SetContext(ctx)
		}
		if err := o.triage.validate(); err != nil {
			return err
		}
		format, err := reporters.ParseFormat(o.format)
		if err != nil {
			return &cliError{err: err, hint: "pick a format with --format " + strings.Join(reporters.Formats(), "|")}
		}
		o.format = format
		if o.specs, err = o.reportSpecs(cmd); err != nil {
			return err
		}
		if o.exitCode < 0 || o.exitCode > 125 {
			return &cliError{err: fmt.Errorf("--exit-code %d is out of range", o.exitCode), hint: "use a code from 0 to 125"}
		}
		return nil
	}
}
