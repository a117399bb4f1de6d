package main

import (
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
			sf.root = scanRoot(args)
			opts, err := sf.options()
			if err != nil {
				return err
			}
			if o.output == "" {
				o.output = defaultBaseline
			}
			o.format, o.showSecrets = reporters.FormatJSON, false
			skipReport(&opts, args, o.output)
			w, closeOut, err := o.openOutput(e)
			if err != nil {
				return err
			}
			pl, warn := o.startScan(e, &opts, "files")
			c := &scanner.Collector{OnWarning: warn}
			stats, err := scanner.New(opts).ScanPaths(cmd.Context(), args, c)
			pl.stop()
			if err != nil && !o.stopped(err) {
				return scanPathError(err)
			}
			// Everything found goes in, suppressed or not, and creating a
			// baseline is not a failure.
			o.triage = triageFlags{showSuppressed: true}
			err = o.report(e, w, closeOut, c.Sorted(), stats, scanRoot(args))
			if err == errFindings {
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
	return cmd
}
