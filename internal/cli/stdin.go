package cli

import (
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
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := sf.options()
			if err != nil {
				return err
			}
			w, closeOut, err := o.openOutput(e)
			if err != nil {
				return err
			}
			pl, warn := o.startScan(e, &opts, "files")
			c := &scanner.Collector{OnWarning: warn}
			stats, err := scanner.New(opts).ScanReader(cmd.Context(), name, e.stdin, c)
			pl.stop()
			if err != nil && !o.stopped(err) {
				return &cliError{err: err}
			}
			return o.report(e, w, closeOut, c.Sorted(), stats, "")
		},
	}
	sf.register(cmd, false)
	cmd.Flags().StringVar(&name, "path", "stdin", "the `name` findings are reported under")
	return cmd
}
