package gitscan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// Files of a commit. A scan of a change reads its settings (.loftyscan.toml,
// .loftyscanignore, a baseline) from the commit the change starts from,
// never from the work tree or the commits being scanned: those belong to
// whoever wrote the change. FileReader reads such files by path, through the
// same object store the scan reads.

// ErrNotFile is wrapped when a path of a commit is a folder, a symbolic
// link or a submodule rather than a regular file.
var ErrNotFile = errors.New("not a regular file")

// ErrFileTooBig is wrapped when a file is larger than the limit a caller
// reads it with.
var ErrFileTooBig = errors.New("file too big")

// FileReader reads files of commits of one repository. It is not safe for
// concurrent use; Close it when done.
type FileReader struct {
	g *gitRepo
}

// OpenFiles opens the repository for reading files of its commits.
func (r *Repository) OpenFiles() (*FileReader, error) {
	g, err := r.open(tuning{})
	if err != nil {
		return nil, err
	}
	return &FileReader{g: g}, nil
}

// Close releases the repository's files.
func (f *FileReader) Close() error { return f.g.close() }

// Resolve returns the full hash of the commit rev names (a branch, tag,
// remote-tracking branch, hash or prefix, with ~ and ^), as the scans
// resolve revisions; an unknown one wraps ErrUnknownRevision.
func (f *FileReader) Resolve(rev string) (string, error) {
	h, err := f.g.resolve(rev)
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

// Head returns the commit HEAD points at, or "" when its branch has no
// commit yet.
func (f *FileReader) Head() (string, error) {
	h, err := f.g.head()
	if err != nil || h.IsZero() {
		return "", err
	}
	return h.String(), nil
}

// RemoteDefault returns the commit of the first remote's default branch
// that this clone knows (refs/remotes/NAME/HEAD, as git clone sets it, in
// the order of the remotes' names), and its ref's short name
// ("origin/HEAD"); ok is false when no remote has one.
func (f *FileReader) RemoteDefault() (commit, name string, ok bool) {
	refs, err := f.g.st.IterReferences()
	if err != nil {
		return "", "", false
	}
	var names []string
	_ = refs.ForEach(func(ref *plumbing.Reference) error {
		if n := ref.Name().String(); strings.HasPrefix(n, "refs/remotes/") && strings.HasSuffix(n, "/HEAD") {
			names = append(names, n)
		}
		return nil
	})
	sort.Strings(names)
	for _, n := range names {
		if h, err := f.g.resolve(n); err == nil {
			return h.String(), strings.TrimPrefix(n, "refs/remotes/"), true
		}
	}
	return "", "", false
}

// Blob returns the blob of the regular file at path (slash-separated,
// relative to the top of the repository) in commit's tree; ok is false
// when there is nothing at path. A folder, symbolic link or submodule at
// path is an error that wraps ErrNotFile.
func (f *FileReader) Blob(commit, path string) (blob string, ok bool, err error) {
	ch := plumbing.NewHash(commit)
	tree, err := f.g.commitTree(ch)
	if err != nil {
		return "", false, fmt.Errorf("cannot read commit %s: %w", commit, err)
	}
	mode, h, found := f.g.findEntry(tree, path)
	switch {
	case !found:
		return "", false, nil
	case mode != filemode.Regular && mode != filemode.Executable && mode != filemode.Deprecated:
		return "", false, fmt.Errorf("%s in commit %s: %w", path, shortHash(ch), ErrNotFile)
	}
	return h.String(), true, nil
}

// ReadFile returns the content of the regular file at path in commit's
// tree, as Blob finds it, reading at most limit bytes: a larger file is an
// error that wraps ErrFileTooBig, whatever size its object claims.
func (f *FileReader) ReadFile(commit, path string, limit int64) (data []byte, ok bool, err error) {
	blob, ok, err := f.Blob(commit, path)
	if !ok || err != nil {
		return nil, ok, err
	}
	o, err := f.g.rd.Object(plumbing.NewHash(blob))
	if err != nil {
		return nil, false, fmt.Errorf("cannot read %s in commit %s: %w", path, commit[:min(7, len(commit))], err)
	}
	var rd io.Reader = bytes.NewReader(o.Data)
	if o.Stream != nil {
		defer o.Stream.Close()
		rd = o.Stream
	}
	data, err = io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		return nil, false, fmt.Errorf("cannot read %s in commit %s: %w", path, commit[:min(7, len(commit))], err)
	}
	if int64(len(data)) > limit {
		return nil, false, fmt.Errorf("%s in commit %s is over %d bytes: %w", path, commit[:min(7, len(commit))], limit, ErrFileTooBig)
	}
	return data, true, nil
}

// StagedBlob returns the blob the index stages at path (stage 0), as
// ScanStaged reads the index: indexFile as git's GIT_INDEX_FILE names it,
// empty for the repository's own. ok is false when the index has no
// entry at path.
func StagedBlob(repo *Repository, indexFile, path string) (blob string, ok bool, err error) {
	idx, _, err := readIndex(indexPath(repo, indexFile))
	if err != nil {
		return "", false, err
	}
	for _, e := range idx.Entries {
		if e.Name == path && e.Stage == 0 {
			return e.Hash.String(), true, nil
		}
	}
	return "", false, nil
}
