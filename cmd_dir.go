package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/loftyscan/loftyscan/scanner"
	"github.com/spf13/cobra"
)

// scanFlags are the flags of the commands that read content.
type scanFlags struct {
	archiveDepth int
	workers      int
}

// register adds the flags to cmd; workers only where there are many files.
func (s *scanFlags) register(cmd *cobra.Command, workers bool) {
	f := cmd.Flags()
	f.IntVar(&s.archiveDepth, "archive-depth", scanner.DefaultLimits().ArchiveDepth, "open archives (zip, tar, gzip) nested up to `N` deep; 0 scans them as plain bytes")
	if workers {
		f.IntVarP(&s.workers, "workers", "j", 0, "files scanned at once (default: one per CPU)")
	}
}

func (s *scanFlags) options() (scanner.Options, error) {
	opts := scanner.DefaultOptions()
	if s.archiveDepth < 0 {
		return opts, &usageError{err: fmt.Errorf("--archive-depth %d is negative", s.archiveDepth), hint: "use 0 to leave archives closed"}
	}
	if s.workers < 0 {
		return opts, &usageError{err: fmt.Errorf("--workers %d is negative", s.workers), hint: "leave it out to use one worker per CPU"}
	}
	opts.Limits.ArchiveDepth = s.archiveDepth
	opts.Workers = s.workers
	return opts, nil
}

func newDirCommand(e env, o *outputFlags) *cobra.Command {
	var sf scanFlags
	var follow bool
	cmd := &cobra.Command{
		Use:   "dir [PATH...]",
		Short: "Scan files and folders (default: the current folder)",
		Long: `Scan files and folders for Lofty API keys.

Every regular file is read, text or binary; .git folders are skipped (use
'loftyscan git' for history). Keys wrapped in base64 or UTF-16, and keys in
zip, tar, tar.gz and gzip files, are found and reported where the wrapped text
starts; inside archives the path reads outer.zip!inner/file.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := sf.options()
			if err != nil {
				return err
			}
			opts.FollowSymlinks = follow
			w, closeOut, err := o.openOutput(e)
			if err != nil {
				return err
			}
			c := &scanner.Collector{OnWarning: warningPrinter(e)}
			stats, err := scanner.New(opts).ScanPaths(cmd.Context(), args, c)
			if errors.Is(err, scanner.ErrNoPath) {
				return &fatalError{err: err, hint: "check the path; run 'loftyscan dir' with no path to scan the current folder"}
			}
			if err != nil {
				return &fatalError{err: err}
			}
			return o.report(e, w, closeOut, c.Sorted(), stats, scanRoot(args))
		},
	}
	sf.register(cmd, true)
	cmd.Flags().BoolVar(&follow, "follow-symlinks", false, "follow symbolic links to files and folders")
	return cmd
}

// scanRoot is the folder finding paths are relative to, for SARIF's
// %SRCROOT%: the one folder scanned, the folder of the one file scanned, or
// none when several paths were given.
func scanRoot(args []string) string {
	switch len(args) {
	case 0:
		return "."
	case 1:
		if fi, err := os.Stat(args[0]); err == nil && !fi.IsDir() {
			return filepath.Dir(args[0])
		}
		return args[0]
	}
	return ""
}
