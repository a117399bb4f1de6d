package remediate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The plan folder holds the replacements file (the keys in full), the blob
// callback, the backup and the work clones. It must not be inside the
// repository: a file there can be committed, or land in an archive or a CI
// cache with the work tree. And it must be private: git writes the backup
// and the clones with the user's umask.

// MakePlanDir makes the plan folder: a new folder with mode 0700 inside
// parent (the system's temporary folder when empty), so that the backup and
// the work clones git writes into it, with the keys in them, are private
// whatever parent's mode. Neither may be inside the repository, nor in any
// of its work trees (a git add -A in another work tree commits what is
// there as much as one in this one). A caller
// that makes it (to remove it if the run is stopped) gives it to BuildPlan
// in Options.Dir and removes it when no plan is delivered.
func MakePlanDir(parent string, f Facts) (string, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	abs, err := realPath(parent)
	if err != nil {
		return "", fmt.Errorf("plan folder: %w", err)
	}
	for i, repo := range append([]string{f.Dir, f.GitDir}, f.Worktrees...) {
		if repo == "" {
			continue
		}
		r, err := realPath(repo)
		if err != nil && i >= 2 {
			continue // a work tree whose folder is gone holds nothing
		}
		if err != nil {
			return "", fmt.Errorf("repository: %w", err)
		}
		if within(abs, r) {
			return "", fmt.Errorf("the plan folder %s is inside the repository %s: the replacements file holds the keys in full and must not be where it can be committed; choose a folder outside it", abs, r)
		}
	}
	dir, err := os.MkdirTemp(abs, "loftyscan-remediate-")
	if err != nil {
		return "", fmt.Errorf("making the plan folder: %w", err)
	}
	return dir, nil
}

// realPath is the absolute path with symbolic links resolved, so that a
// link cannot hide that a folder is inside the repository.
func realPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// writePrivate writes data to path with mode 0600: into a new file made
// with that mode (a file another user could read is never there, not even
// for a moment), then renamed over path. The rename replaces a file or a
// symbolic link at path; it never writes through one.
func writePrivate(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails once renamed: nothing left behind either way
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
