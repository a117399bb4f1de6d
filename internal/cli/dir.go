package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/reporters"
	"github.com/loftyscan/loftyscan/scanner"
	"github.com/spf13/cobra"
)

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
starts; inside archives the path reads outer.zip!inner/file. The names of
files, folders, links and archive entries are searched too: a key in one is
reported at its path with location "path".`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.scanPaths(cmd.Context(), e, &sf, args, func(opts *scanner.Options) { opts.FollowSymlinks = follow })
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

// scanPathError turns a ScanPaths error into the CLI's error.
func scanPathError(err error) error {
	if errors.Is(err, scanner.ErrNoPath) {
		return &cliError{err: err, hint: "check the path; run 'loftyscan dir' with no path to scan the current folder"}
	}
	return &cliError{err: err}
}

// scanPaths is `dir` and `baseline create`: scan the paths with the flags'
// options (adjusted by tune), then report.
func (o *outputFlags) scanPaths(ctx context.Context, e env, sf *scanFlags, args []string, tune func(*scanner.Options)) error {
	root := scanRoot(args)
	src := dirSettings(root, "the scanned folder")
	if root == "" {
		// Several paths: the current folder's configuration, and no
		// ignore file, whose globs are relative to one scan root.
		src = dirSettings(".", "the current folder")
		src.noIgnore = true
	}
	st, err := loadSettings(src, sf, &o.triage)
	if err != nil {
		return err
	}
	opts, err := sf.options(st)
	if err != nil {
		return err
	}
	tune(&opts)
	walk := args
	if len(walk) == 0 {
		walk = []string{"."}
	}
	return o.scanThenReport(ctx, e, scan{
		unit: "files",
		mode: reporters.ModeFiles,
		opts: opts,
		walk: walk,
		run: func(ctx context.Context, s *scanner.Scanner, sink scanner.Sink) (finding.Stats, error) {
			return s.ScanPaths(ctx, args, sink)
		},
		fail:     scanPathError,
		root:     func() string { return root },
		settings: st,
	})
}
