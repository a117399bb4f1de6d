package cli

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/loftyscan/loftyscan/config"
	"github.com/loftyscan/loftyscan/rules"
	"github.com/loftyscan/loftyscan/scanner"
	"github.com/spf13/cobra"
)

// scanFlags are the flags of the commands that read content. Each has a
// .loftyscan.toml setting; a flag given on the command line wins.
type scanFlags struct {
	cmd          *cobra.Command
	configPath   string
	skip         []string
	contextNames []string
	scopes       []string
	archiveDepth int
	entryBytes   string
	totalBytes   string
	ratio        int64
	entries      int
	workers      int
	noUnconfirm  bool
}

// register adds the flags to cmd; workers only where there are many files.
func (s *scanFlags) register(cmd *cobra.Command, workers bool) {
	s.cmd = cmd
	d := scanner.DefaultLimits()
	f := cmd.Flags()
	f.StringVar(&s.configPath, "config", "", "read settings from `FILE` (default: .loftyscan.toml at the scan root, or at the base of a --range, --pre-push or --staged scan)")
	f.StringArrayVar(&s.skip, "skip", nil, "skip paths matching the gitignore-style `GLOB` (repeatable; replaces the config's list)")
	f.StringArrayVar(&s.contextNames, "context-name", nil, "extra `NAME` that puts a JWS in a Lofty context (repeatable; adds to lofty, chime)")
	f.StringArrayVar(&s.scopes, "scope", nil, "scope `VALUE` that confirms a Lofty key (repeatable; default THIRD_PARTY_OPERATION)")
	f.IntVar(&s.archiveDepth, "archive-depth", d.ArchiveDepth, "open archives (zip, tar, gzip) nested up to `N` deep; 0 scans them as plain bytes")
	f.StringVar(&s.entryBytes, "max-entry-bytes", "256MiB", "read at most `SIZE` decompressed bytes from one archive entry")
	f.StringVar(&s.totalBytes, "max-total-bytes", "1GiB", "read at most `SIZE` decompressed bytes from one file's archives")
	f.Int64Var(&s.ratio, "max-ratio", d.Ratio, "stop an entry that decompresses more than `N` times its size (past 1 MiB, 8 MiB for a gzip file itself; 0: no check)")
	f.IntVar(&s.entries, "max-entries", d.Entries, "read at most `N` entries of one archive")
	f.BoolVar(&s.noUnconfirm, "no-unconfirmed", false, "do not report lofty-unconfirmed-token findings, tokens without the Lofty scope beside a Lofty name (config: [rules] unconfirmed = false)")
	if workers {
		f.IntVarP(&s.workers, "workers", "j", 0, fmt.Sprintf("files scanned at once, 1 to %d (default, or 0: one per CPU)", scanner.MaxWorkers))
	}
}

func (s *scanFlags) changed(name string) bool {
	return s.cmd != nil && s.cmd.Flags().Changed(name)
}

// options builds the scan options: defaults, then the settings file st
// read (its caps already held to their ceilings), then the flags given. A
// skip list that skips every path adds a notice to st.
func (s *scanFlags) options(st *settings) (scanner.Options, error) {
	opts := scanner.DefaultOptions()
	opts.NoInlineAllow = st.noInlineAllow
	if ig := st.ignore; ig.Len() > 0 {
		opts.Suppresses = func(fp, path string) bool { _, ok := ig.Suppresses(fp, path); return ok }
		opts.ScopedToPaths = ig.ScopedToPaths
	}
	cfg := st.config
	skip, from := cfg.Skip, cfg.Path
	if s.changed("skip") {
		skip, from = s.skip, "--skip"
	}
	if len(skip) > 0 {
		m, err := config.NewSkipMatcher(skip)
		if err != nil {
			return opts, &cliError{err: err, hint: "--skip takes gitignore-style globs such as 'vendor/' or '**/*.min.js'"}
		}
		opts.Skip = m.Match
		if m.SkipsEverything() {
			st.notices = append(st.notices, skipNotice(from))
		}
	}
	names := cfg.ContextNames
	if s.changed("context-name") {
		names = s.contextNames
	}
	if len(names) > 0 {
		opts.Rules.ContextNames = append(append([]string{}, rules.DefaultContextNames...), names...)
	}
	if u := cfg.Rules.Unconfirmed; u != nil {
		opts.Rules.NoUnconfirmed = !*u
	}
	if s.changed("no-unconfirmed") {
		opts.Rules.NoUnconfirmed = s.noUnconfirm
	}
	opts.Rules.Scopes = cfg.Scopes
	if s.changed("scope") {
		opts.Rules.Scopes = s.scopes
	}
	for _, sc := range opts.Rules.Scopes {
		if sc == "" {
			return opts, &cliError{err: fmt.Errorf("--scope is empty"), hint: "give the scope value that confirms a key, e.g. --scope THIRD_PARTY_OPERATION"}
		}
	}

	l := &opts.Limits
	a := cfg.Archives
	setIf(&l.ArchiveDepth, a.Depth)
	setIf(&l.EntryBytes, a.EntryBytes)
	setIf(&l.TotalBytes, a.TotalBytes)
	setIf(&l.Ratio, a.Ratio)
	setIf(&l.Entries, a.Entries)
	if s.changed("archive-depth") {
		if s.archiveDepth < 0 || s.archiveDepth > config.MaxArchiveDepth {
			return opts, &cliError{err: fmt.Errorf("--archive-depth %d is out of range", s.archiveDepth), hint: "use 0 (archives not opened) to " + strconv.Itoa(config.MaxArchiveDepth)}
		}
		l.ArchiveDepth = s.archiveDepth
	}
	for _, sz := range []struct {
		flag string
		val  string
		dst  *int64
	}{{"max-entry-bytes", s.entryBytes, &l.EntryBytes}, {"max-total-bytes", s.totalBytes, &l.TotalBytes}} {
		if !s.changed(sz.flag) {
			continue
		}
		n, err := config.ParseSize(sz.val)
		if err != nil || n <= 0 {
			return opts, &cliError{err: fmt.Errorf("--%s %q is not a size", sz.flag, sz.val), hint: "use a size such as 64MiB, 1GiB or a number of bytes"}
		}
		if n > config.MaxFlagBytes {
			return opts, &cliError{err: fmt.Errorf("--%s %s is over 1 TiB", sz.flag, sz.val), hint: "use a size up to 1TiB (1099511627776); the default is " + config.FormatSize(*sz.dst)}
		}
		*sz.dst = n
	}
	if s.changed("max-ratio") {
		if s.ratio < 0 || s.ratio > math.MaxInt32 {
			return opts, &cliError{err: fmt.Errorf("--max-ratio %d is out of range", s.ratio), hint: "use 0 to turn the ratio check off, or a ratio up to " + strconv.Itoa(math.MaxInt32)}
		}
		l.Ratio = s.ratio
	}
	if s.changed("max-entries") {
		if s.entries < 1 || s.entries > math.MaxInt32 {
			return opts, &cliError{err: fmt.Errorf("--max-entries %d is out of range", s.entries), hint: "use a number of entries from 1 to " + strconv.Itoa(math.MaxInt32)}
		}
		l.Entries = s.entries
	}
	if s.workers < 0 || s.workers > scanner.MaxWorkers {
		return opts, &cliError{err: fmt.Errorf("--workers %d is out of range", s.workers), hint: fmt.Sprintf("use 1 to %d files at once, or leave it out to use one worker per CPU", scanner.MaxWorkers)}
	}
	opts.Workers = s.workers
	return opts, nil
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// skipReports keeps a walk of roots from reading the reports being
// written into them (a report path inside the scanned folder, and the
// temporary file it is written to first): a JSON report with
// --show-secrets would otherwise be found by the next scan, and an empty
// one is noise in the stats. Paths are matched relative to the one root;
// with several roots, finding paths are not relative to one folder and
// nothing is left out.
func skipReports(opts *scanner.Options, roots []string, paths []string) {
	if len(paths) == 0 || len(roots) > 1 {
		return
	}
	root := "."
	if len(roots) == 1 {
		root = roots[0]
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return
	}
	skip := map[string]bool{}
	for _, p := range paths {
		absOut, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		rel, err := filepath.Rel(absRoot, absOut)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			continue
		}
		skip[filepath.ToSlash(rel)] = true
	}
	if len(skip) == 0 {
		return
	}
	prev := opts.Skip
	opts.Skip = func(p string, isDir bool) bool {
		return (!isDir && skip[p]) || (prev != nil && prev(p, isDir))
	}
}
