package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set by the release build (see .goreleaser.yaml): -ldflags "-X
// github.com/loftyscan/loftyscan/internal/cli.version=..." and the same
// for commit and date.
var (
	version = ""
	commit  = ""
	date    = ""
)

// buildInfo returns version, commit and date: from the release ldflags, or
// from what the Go toolchain recorded for `go install` and `go build`.
func buildInfo() (v, c, d string) {
	v, c, d = version, commit, date
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && c == "":
				c = s.Value
			case s.Key == "vcs.time" && d == "":
				d = s.Value
			}
		}
	}
	if v == "" {
		v = "dev"
	}
	if c == "" {
		c = "unknown"
	}
	if d == "" {
		d = "unknown"
	}
	return v, c, d
}

func versionString() string { v, _, _ := buildInfo(); return v }

func newVersionCommand(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date",
		Args:  noArgs(func([]string) string { return "run 'loftyscan version' alone" }),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprint(e.stdout, versionLine(buildInfo()))
			return err
		},
	}
}

// versionLine is what `loftyscan version` and `loftyscan --version` print.
func versionLine(v, c, d string) string {
	return fmt.Sprintf("loftyscan %s (commit %s, built %s)\n", v, c, d)
}
