package cli

import (
	"context"
	"io"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/reporters"
	"github.com/loftyscan/loftyscan/scanner"
	"github.com/spf13/cobra"
)

func newStdinCommand(e env, o *outputFlags) *cobra.Command {
	var sf scanFlags
	var name string
	cmd := &cobra.Command{
		Use:   "stdin",
		Short: "Scan standard input",
		Long: `Scan standard input for Lofty API keys, for example
  kubectl get secret app -o yaml | loftyscan stdin
Findings are reported under the path given by --path (default "stdin").`,
		Args: noArgs(func(args []string) string {
			return "'loftyscan stdin' reads standard input (cat FILE | loftyscan stdin); to scan files or folders, run 'loftyscan dir " +
				shellWords(args) + "'; to name what standard input holds, use --path NAME"
		}),
		RunE: func(cmd *cobra.Command, args []string) error {
			// The current folder's configuration; no ignore file, whose
			// globs would have no scan root to be relative to.
			src := dirSettings(".", "the current folder")
			src.noIgnore = true
			st, err := loadSettings(src, &sf, &o.triage)
			if err != nil {
				return err
			}
			opts, err := sf.options(st)
			if err != nil {
				return err
			}
			if isTerminal(e.stdin) {
				// Typed at a prompt, 'loftyscan stdin' otherwise just waits.
				printNote(e.stderr, "reading standard input from the terminal: paste the text and end it with Ctrl-D, or pipe it in (cat FILE | loftyscan stdin)")
			}
			return o.scanThenReport(cmd.Context(), e, scan{
				unit: "files",
				mode: reporters.ModeFiles,
				opts: opts,
				run: func(ctx context.Context, s *scanner.Scanner, sink scanner.Sink) (finding.Stats, error) {
					// Stopped (a signal, --timeout), standard input ends
					// there: what was read is still scanned, though the read
					// under way may never return (a pipe never closed).
					return s.ScanReader(context.WithoutCancel(ctx), name, readerWithContext(ctx, e.stdin, io.EOF), sink)
				},
				fail:     func(err error) error { return &cliError{err: err} },
				root:     func() string { return "" },
				settings: st,
			})
		},
	}
	sf.register(cmd, false)
	cmd.Flags().StringVar(&name, "path", "stdin", "the `name` findings are reported under")
	return cmd
}
