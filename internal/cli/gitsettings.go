package cli

import (
	"fmt"
	"strings"

	"github.com/loftyscan/loftyscan/gitscan"
)

// gitSettings decides where a git scan reads .loftyscan.toml,
// .loftyscanignore and the files flags name inside the repository:
//
//	--settings-from REV     REV's tree; "none": nowhere (flags only)
//	--range A..B            A's tree, the range's base
//	--github-event          a range's base (its first exclusion); with no base,
//	                        the default branch's, or none (githubPlan.chooseSettings)
//	--pre-push              the remote's old commit of the first ref pushed that has one;
//	                        for new branches only, the remote's default branch (origin/HEAD);
//	                        else nowhere
//	--staged                HEAD's tree; before the first commit, nowhere
//	all refs, --ref, --since (no base)
//	                        the work tree, which the person running the scan checked out;
//	                        HEAD's tree in a bare repository; for a URL, the current
//	                        folder's .loftyscan.toml only
//
// A server-side pre-receive scan reads nowhere: only the server's flags and
// the files they name count, never the pushed commits. The change's own
// versions of the settings files are compared with the base's (settings
// notices). The returned close releases the repository's files.
func (gf *gitFlags) gitSettings(e env, repo *gitscan.Repository, exclude, include []string, updates []gitscan.RefUpdate) (*settingsSource, func(), error) {
	nothing := func() {}
	if repo == nil {
		if gf.settingsFrom != "" {
			return nil, nil, &cliError{err: fmt.Errorf("--settings-from works on a local repository, not a URL"), hint: "clone the repository, or give --config and --ignore-file"}
		}
		src := dirSettings(".", "the current folder")
		src.noIgnore = true
		return src, nothing, nil
	}
	if gf.settingsFrom == "none" {
		return noSettings("nowhere (--settings-from none)"), nothing, nil
	}
	noBase := gf.settingsFrom == "" && len(exclude) == 0 && !gf.prePush && !gf.staged
	if noBase && repo.WorkTree != "" {
		return dirSettings(repo.WorkTree, "the work tree"), nothing, nil
	}

	files, err := repo.OpenFiles()
	if err != nil {
		return nil, nil, gitError(err)
	}
	done := func() { files.Close() }
	src, err := gf.baseSettings(e, repo, files, exclude, updates)
	if err != nil {
		done()
		return nil, nil, err
	}
	if src.files == nil {
		return src, done, nil
	}
	// The ends of the change, to compare the settings files with.
	switch {
	case gf.staged:
		indexFile := e.getenv("GIT_INDEX_FILE")
		src.tips = append(src.tips, settingsTip{name: "the index", blob: func(p string) (string, bool, error) {
			return gitscan.StagedBlob(repo, indexFile, p)
		}})
	case gf.prePush:
		for _, u := range updates {
			if !isZeroHash(u.LocalHash) {
				if h, err := files.Resolve(u.LocalHash); err == nil {
					src.addCommitTip(h)
				}
			}
		}
	default:
		for _, rev := range include {
			if h, err := files.Resolve(rev); err == nil {
				src.addCommitTip(h)
			}
		}
	}
	return src, done, nil
}

// baseSettings finds the commit the scan's settings are read from, by the
// rules of gitSettings, in a repository open in files.
func (gf *gitFlags) baseSettings(e env, repo *gitscan.Repository, files *gitscan.FileReader, exclude []string, updates []gitscan.RefUpdate) (*settingsSource, error) {
	commit := func(rev, what string) (*settingsSource, error) {
		h, err := files.Resolve(rev)
		if err != nil {
			return nil, gitError(err)
		}
		return commitSettings(files, h, repo.WorkTree, what), nil
	}
	switch {
	case gf.settingsFrom != "":
		return commit(gf.settingsFrom, "--settings-from "+gf.settingsFrom)
	case len(exclude) > 0:
		return commit(exclude[0], "the range's base")
	case gf.prePush:
		for _, u := range updates {
			if isZeroHash(u.RemoteHash) {
				continue
			}
			if h, err := files.Resolve(u.RemoteHash); err == nil {
				return commitSettings(files, h, repo.WorkTree, "the remote's commit before the push"), nil
			}
		}
		if h, name, ok := files.RemoteDefault(); ok {
			return commitSettings(files, h, repo.WorkTree, name+", the remote's default branch"), nil
		}
		return noSettings("nowhere: the push has no base commit and no remote default branch (refs/remotes/NAME/HEAD) is known"), nil
	case gf.staged:
		head, err := files.Head()
		if err != nil {
			return nil, gitError(err)
		}
		if head == "" {
			return noSettings("nowhere: the first commit has no base"), nil
		}
		return commitSettings(files, head, repo.WorkTree, "HEAD, the commit being made starts from it"), nil
	}
	// A bare repository scanned whole: the settings its HEAD holds.
	head, err := files.Head()
	if err != nil {
		return nil, &cliError{err: fmt.Errorf("cannot read the settings of this bare repository, which come from its HEAD: %w", err),
			hint: "run 'git fsck' to check the repository; 'loftyscan git --settings-from none' (or --settings-from REV) scans it with no settings (or a commit's)"}
	}
	if head == "" {
		return noSettings("nowhere: the bare repository has no HEAD commit"), nil
	}
	return commitSettings(files, head, "", "HEAD"), nil
}

// isZeroHash reports whether id is git's all-zero object name, which in
// pre-push input means "no such ref".
func isZeroHash(id string) bool { return strings.Trim(id, "0") == "" }
