package cli

import (
	"errors"
	"fmt"

	"github.com/loftyscan/loftyscan/reporters"
	"github.com/loftyscan/loftyscan/scanner"
	"github.com/spf13/cobra"
)

// defaultBaseline is where `baseline create` writes when --output is not given.
const defaultBaseline = ".loftyscan-baseline.json"

func newBaselineCommand(e env, o *outputFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "baseline",
		Short: "Record the findings of today, so that later scans report only new ones",
	}
	var sf scanFlags
	create := &cobra.Command{
		Use:   "create [PATH...]",
		Short: "Scan folders and write the findings as a baseline (JSON report, no secrets)",
		Long: `Scan folders like 'loftyscan dir' and write the findings as a baseline: a
JSON report without secrets, by default to ` + defaultBaseline + `.
Later scans with --baseline FILE do not report a finding whose fingerprint
(the SHA-256 of the key) is in it, wherever the key has moved. Record a
baseline only for keys you have revoked or accepted: a baseline hides them.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Flags every scan command takes but a baseline cannot honour:
			// said, not silently dropped.
			if o.format != reporters.FormatJSON && cmd.Flags().Changed("format") {
				printWarning(e.stderr, fmt.Sprintf("--format %s ignored: a baseline is always a JSON report, which later scans read with --baseline", o.format))
			}
			if o.showSecrets {
				printWarning(e.stderr, "--show-secrets ignored: a baseline never holds keys, only their fingerprints, which is all --baseline needs")
			}
			if len(o.reports) > 0 {
				return &cliError{err: errors.New("'baseline create' writes one JSON file and takes no --report"), hint: "choose where it goes with --output FILE (default " + defaultBaseline + ")"}
			}
			if o.output == "" || o.output == "-" {
				o.output = defaultBaseline
			}
			// A baseline is JSON without secrets, holds everything found,
			// suppressed or not, and creating one is not a failure.
			o.format, o.showSecrets = reporters.FormatJSON, false
			o.specs = []reportSpec{{format: reporters.FormatJSON, path: o.output}}
			o.triage = triageFlags{showSuppressed: true}
			err := o.scanPaths(cmd.Context(), e, &sf, args, func(*scanner.Options) {})
			if errors.Is(err, errFindings) {
				err = nil
			}
			if err == nil {
				printHint(e.stderr, "wrote "+o.output+"; scan with --baseline "+o.output+" to report only new keys")
			}
			return err
		},
	}
	sf.register(create, true)
	cmd.AddCommand(create)
	requireSubcommand(e, cmd, "to record today's findings, run 'loftyscan baseline create'")
	return cmd
}
