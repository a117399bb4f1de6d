package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/loftyscan/loftyscan/config"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/gitscan"
	"github.com/loftyscan/loftyscan/internal/nonblock"
)

// Where a scan's settings come from. The files that decide what is
// reported (.loftyscan.toml, .loftyscanignore, a baseline) are a security
// control: a change that brings its own ignore entry or skip list along
// with a key must not pass. So a scan of a change (--range, --pre-push,
// --staged) reads them from the commit the change starts from, never from
// the work tree or the commits it scans; flags, and files named by flags
// outside the repository, are the person running the scan's and are read
// as they are. A scan of files (dir, stdin) or of a whole history reads
// the folder scanned or the work tree: whoever runs it chose that
// checkout. The README's "Where settings come from" has the table.

// Read limits for settings files kept in a commit. The configuration
// parser has its own 1 MiB cap; these keep an ignore file or baseline
// that claims gigabytes from being read whole.
const (
	maxSettingsBytes = 16 << 20  // .loftyscan.toml, .loftyscanignore
	maxBaselineBytes = 256 << 20 // a JSON report of every finding of a big repository
)

// settingsSource is where a scan reads the repository's settings files
// from: a folder on disk, a commit, or nowhere.
type settingsSource struct {
	// dir is the folder the files are looked for in; "" when they come
	// from a commit or from nowhere.
	dir string
	// noIgnore: dir holds a configuration file only (the current folder,
	// for a scan of a URL).
	noIgnore bool

	// files and commit: the files are read from commit's tree.
	files    *gitscan.FileReader
	commit   string
	workTree string // the repository's work tree: paths that flags name inside it are read from commit

	// what says where the files come from, for messages: "commit 1a2b3c4
	// (the range's base)", "the work tree", or why none are read.
	what string

	// tips are the ends of the scanned change, whose versions of the
	// settings files are compared with commit's.
	tips []settingsTip
}

// settingsTip reads the blob of a path at one end of the scanned change:
// a commit, or the index for --staged.
type settingsTip struct {
	name string
	blob func(path string) (blob string, ok bool, err error)
}

// dirSettings reads the settings from a folder on disk.
func dirSettings(dir, what string) *settingsSource {
	if dir == "" {
		dir = "."
	}
	return &settingsSource{dir: dir, what: what}
}

// noSettings reads no repository settings: only flags and the files they
// name count.
func noSettings(why string) *settingsSource { return &settingsSource{what: why} }

// commitSettings reads the settings from a commit of the repository open
// in files.
func commitSettings(files *gitscan.FileReader, commit, workTree, what string) *settingsSource {
	return &settingsSource{files: files, commit: commit, workTree: workTree, what: "commit " + commit[:7] + " (" + what + ")"}
}

// addCommitTip adds a commit as an end of the scanned change.
func (s *settingsSource) addCommitTip(commit string) {
	if s.files == nil || commit == s.commit {
		return
	}
	s.tips = append(s.tips, settingsTip{name: "commit " + commit[:7], blob: func(p string) (string, bool, error) {
		return s.files.Blob(commit, p)
	}})
}

// settings are what a scan's triage and options use, read once before the
// scan.
type settings struct {
	config   *config.Config // never nil
	ignore   *config.IgnoreList
	baseline *config.Baseline
	baseName string // the baseline's name in suppression reasons
	// warnings and notices to print and report: caps a file may not
	// raise, files the change edits.
	warnings []string
	notices  []finding.Notice
	// inChange: the scan is of a change, so an inline allow it reports
	// suppresses a key the change adds, and is listed.
	inChange bool
	// noInlineAllow: an inline allow suppresses nothing (--no-inline-allow,
	// a pre-receive hook); the scan is told, so that its findings cap
	// counts such findings (scanner.Options.NoInlineAllow).
	noInlineAllow bool
}

// loadSettings reads the configuration, ignore file and baseline from src
// and the flags, and compares the change's versions of them with src's.
func loadSettings(src *settingsSource, sf *scanFlags, t *triageFlags) (*settings, error) {
	st := &settings{noInlineAllow: t.noInlineAllow}
	var watch []string // repository paths of the settings files, to compare across the change
	if src.files != nil {
		watch = append(watch, config.FileName, config.IgnoreFileName)
	}

	cfg, p, err := src.loadConfig(sf.configPath)
	if err != nil {
		return nil, err
	}
	if p != "" {
		watch = append(watch, p)
	}
	st.config = cfg
	st.warnings = append(st.warnings, cfg.Archives.Clamp(cfg.Path)...)

	switch t.ignoreFile {
	case "none":
	default:
		l, p, err := src.loadIgnore(t.ignoreFile)
		if err != nil {
			return nil, err
		}
		st.ignore = l
		if p != "" {
			watch = append(watch, p)
		}
	}

	if t.baseline != "" {
		b, p, err := src.loadBaseline(t.baseline)
		if err != nil {
			return nil, err
		}
		st.baseline, st.baseName = b, t.baseline
		if p != "" {
			watch = append(watch, p)
			st.baseName = src.shortCommit() + ":" + p
		}
	}

	notices, err := src.changes(watch)
	if err != nil {
		return nil, err
	}
	st.notices = notices
	return st, nil
}

func (s *settingsSource) shortCommit() string { return s.commit[:min(7, len(s.commit))] }

// loadConfig reads the configuration file: the one named by --config, or
// .loftyscan.toml from the source. repoPath is the file's path in the
// repository when it was read from a commit because --config named it.
func (s *settingsSource) loadConfig(named string) (cfg *config.Config, repoPath string, err error) {
	hint := "fix the file, or point --config at another one; see the README's Configuration section"
	var data []byte
	var name string
	var found bool
	if named != "" {
		data, name, repoPath, found, err = s.readNamed("--config", named, maxSettingsBytes)
	} else {
		data, name, found, err = s.readRepoFile(config.FileName, maxSettingsBytes)
	}
	if err != nil {
		return nil, "", &cliError{err: err, hint: hint}
	}
	if !found {
		return &config.Config{}, repoPath, nil
	}
	cfg, err = config.Parse(bytes.NewReader(data), name)
	if err != nil {
		return nil, "", &cliError{err: err, hint: hint}
	}
	return cfg, repoPath, nil
}

// loadIgnore reads the ignore file: the one named by --ignore-file, or
// .loftyscanignore from the source.
func (s *settingsSource) loadIgnore(named string) (l *config.IgnoreList, repoPath string, err error) {
	var data []byte
	var name string
	var found bool
	switch {
	case named != "":
		data, name, repoPath, found, err = s.readNamed("--ignore-file", named, maxSettingsBytes)
	case s.noIgnore:
		return nil, "", nil
	default:
		data, name, found, err = s.readRepoFile(config.IgnoreFileName, maxSettingsBytes)
	}
	if err != nil {
		return nil, "", &cliError{err: err, hint: "check the file, or give another with --ignore-file PATH (or none)"}
	}
	if !found {
		return nil, repoPath, nil
	}
	l, err = config.ParseIgnore(bytes.NewReader(data), name)
	if err != nil {
		return nil, "", &cliError{err: err, hint: "each line is a 64-hex-digit fingerprint, an optional path glob, and a # comment saying why"}
	}
	return l, repoPath, nil
}

// loadBaseline reads the baseline --baseline names.
func (s *settingsSource) loadBaseline(named string) (b *config.Baseline, repoPath string, err error) {
	data, name, repoPath, found, err := s.readNamed("--baseline", named, maxBaselineBytes)
	if err != nil {
		return nil, "", &cliError{err: fmt.Errorf("cannot read the baseline: %w", err), hint: "create one with 'loftyscan baseline create --output " + named + "'"}
	}
	if !found {
		return nil, repoPath, nil
	}
	b, err = config.LoadBaseline(bytes.NewReader(data), name)
	if err != nil {
		return nil, "", &cliError{err: err, hint: "a baseline is a report written with --format json"}
	}
	return b, repoPath, nil
}

// readRepoFile reads the settings file name from the source: from its
// folder, or from its commit; found is false when there is none.
func (s *settingsSource) readRepoFile(name string, limit int64) (data []byte, shown string, found bool, err error) {
	switch {
	case s.files != nil:
		data, found, err = s.files.ReadFile(s.commit, name, limit)
		return data, s.shortCommit() + ":" + name, found, err
	case s.dir != "":
		p := filepath.Join(s.dir, name)
		data, err = readDiskFile(p, limit)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", false, nil
		}
		return data, filepath.ToSlash(p), err == nil, err
	}
	return nil, "", false, nil
}

// readNamed reads a file a flag names. A path inside the repository's work
// tree is read from the source's commit when there is one, since the work
// tree holds the change being scanned; repoPath is then its path in the
// repository, and found is false when the commit has no such file (a
// change that adds it is listed as a settings change). Any other path is
// read from disk, and must exist.
func (s *settingsSource) readNamed(flag, path string, limit int64) (data []byte, shown, repoPath string, found bool, err error) {
	if rel, ok := s.inWorkTree(path); ok {
		data, found, err = s.files.ReadFile(s.commit, rel, limit)
		if err != nil || found {
			return data, s.shortCommit() + ":" + rel, rel, found, err
		}
		if !s.anyTipHas(rel) {
			return nil, "", "", false, fmt.Errorf("%s %s: no such file in %s, nor in the scanned change: a file inside the repository's folder is read from there, as the work tree belongs to the change; give a file outside the folder for one that is not committed", flag, path, s.what)
		}
		return nil, "", rel, false, nil
	}
	data, err = readDiskFile(path, limit)
	if err != nil {
		return nil, "", "", false, fmt.Errorf("%s %s: %w", flag, path, finding.DropPath(err))
	}
	return data, path, "", true, nil
}

// inWorkTree returns path's place in the repository (slash-separated, from
// the top) when the settings come from a commit and path, symbolic links
// followed, is inside the work tree.
func (s *settingsSource) inWorkTree(path string) (string, bool) {
	if s.files == nil || s.workTree == "" {
		return "", false
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(realPath(s.workTree), realPath(abs))
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// realPath follows the symbolic links of p, or of its folder when p does
// not exist.
func realPath(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	if r, err := filepath.EvalSymlinks(filepath.Dir(p)); err == nil {
		return filepath.Join(r, filepath.Base(p))
	}
	return p
}

func (s *settingsSource) anyTipHas(p string) bool {
	for _, t := range s.tips {
		if _, ok, err := t.blob(p); ok || err != nil {
			return true
		}
	}
	return false
}

// readDiskFile reads a file, at most limit bytes of it. A named pipe
// (planted in a scanned folder as .loftyscan.toml, say) does not block the
// open, and reads as empty when nothing writes to it.
func readDiskFile(p string, limit int64) ([]byte, error) {
	f, err := nonblock.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is over %d MiB: is it the right file?", p, limit>>20)
	}
	return data, nil
}

// changes compares the source commit's version of each settings file with
// the scanned change's, and returns a notice for each the change adds,
// edits or removes.
func (s *settingsSource) changes(paths []string) ([]finding.Notice, error) {
	if s.files == nil || len(s.tips) == 0 {
		return nil, nil
	}
	var out []finding.Notice
	seen := map[string]bool{}
	for _, p := range paths {
		if seen[p] {
			continue
		}
		seen[p] = true
		base, inBase, err := s.files.Blob(s.commit, p)
		if err != nil && !errors.Is(err, gitscan.ErrNotFile) {
			return nil, &cliError{err: err}
		}
		if errors.Is(err, gitscan.ErrNotFile) {
			base, inBase = "not a file", true
		}
		for _, t := range s.tips {
			tip, inTip, err := t.blob(p)
			if errors.Is(err, gitscan.ErrNotFile) {
				tip, inTip, err = "not a file", true, nil
			}
			if err != nil {
				return nil, &cliError{err: err}
			}
			if inTip == inBase && tip == base {
				continue
			}
			verb := "edits"
			switch {
			case !inBase:
				verb = "adds"
			case !inTip:
				verb = "removes"
			}
			out = append(out, finding.Notice{
				Kind: finding.NoticeSettingsChanged,
				Path: p,
				Message: fmt.Sprintf("the scanned change %s %s (%s), which decides what loftyscan reports; this scan read its settings from %s, not from the change: review the edit, which takes effect for later changes once it is part of their base",
					verb, p, t.name, s.what),
			})
			break
		}
	}
	slices.SortFunc(out, func(a, b finding.Notice) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// skipNotice is the notice for a skip list that skips every path.
func skipNotice(from string) finding.Notice {
	return finding.Notice{
		Kind:    finding.NoticeSkipEverything,
		Message: "the skip list from " + from + " skips every path: nothing is scanned. Fix the list, or give --skip to replace it",
	}
}
