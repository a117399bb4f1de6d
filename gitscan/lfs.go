package gitscan

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/nonblock"
	"github.com/loftyscan/loftyscan/scanner"
)

// Git LFS. A file git-lfs tracks (a database, an archive, a big
// configuration file) is stored in git as a pointer: a few lines naming the
// SHA-256 of the contents, which git-lfs keeps outside git's objects, in
// <common dir>/lfs/objects/<2>/<2>/<oid> for the versions this clone
// fetched (and `git add` of a tracked file puts there before the commit
// exists), on the LFS server for the rest. A scan of the pointers alone
// would call a key in such a file clean, in history and in the staged
// files the pre-commit hook checks. So the contents of a pointer are
// scanned as the pointer is, under its label: a key in them is reported at
// the pointer's commit and path.

// lfsPointerStarts are the first lines a pointer starts with: the spec's,
// and the one of git-lfs's first releases, which git-lfs still reads.
var lfsPointerStarts = [][]byte{
	[]byte("version https://git-lfs.github.com/spec/v1\n"),
	[]byte("version https://hawser.github.com/spec/v1\n"),
}

// lfsPointerMax is git-lfs's own limit: a bigger blob is not a pointer.
const lfsPointerMax = 1024

// LFSPointer returns the SHA-256 of the contents a Git LFS pointer names,
// lower-case hex, or false when data is not a pointer. The contents are at
// LFSObjectPath in the clone that fetched them.
func LFSPointer(data []byte) (string, bool) {
	if len(data) > lfsPointerMax || !(bytes.HasPrefix(data, lfsPointerStarts[0]) || bytes.HasPrefix(data, lfsPointerStarts[1])) {
		return "", false
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		oid, ok := bytes.CutPrefix(line, []byte("oid sha256:"))
		if ok && len(oid) == 64 && bytes.IndexFunc(oid, func(r rune) bool { return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') }) < 0 {
			return string(oid), true
		}
	}
	return "", false
}

// LFSObjectPath is where git-lfs keeps the contents oid (from LFSPointer)
// in the repository whose common dir (its .git folder) is commonDir.
func LFSObjectPath(commonDir, oid string) string {
	return filepath.Join(commonDir, "lfs", "objects", oid[:2], oid[2:4], oid)
}

// scanLFS scans the contents a pointer blob h names, when data is one and
// this clone has them; contents it does not have are named in one warning
// a scan, since git-lfs fetches only some versions by default, counted as
// an error: they were not read, and a key in them would pass a scan that
// fails on what it could not read (--fail-on-error).
func (g *gitRepo) scanLFS(ctx context.Context, r *scanner.Run, w *scanner.Worker, h plumbing.Hash, data []byte) {
	oid, ok := LFSPointer(data)
	if !ok {
		return
	}
	path := LFSObjectPath(g.loc.CommonDir, oid)
	// git-lfs writes its objects as regular files: a link there (to
	// /proc/self/pagemap, to a file outside the repository) is the
	// scanned repository's, and is not followed.
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		r.Fail(h.String(), "the contents of this Git LFS file (sha256 %s) are not a regular file in the clone's LFS store (%v): not scanned", oid, fi.Mode().Type())
		return
	}
	f, fi, err := nonblock.OpenRegular(path)
	if errors.Is(err, fs.ErrNotExist) {
		g.lfsMissing.Do(func() {
			r.Fail(h.String(), "a Git LFS file whose contents (sha256 %s) this clone does not have: not scanned, nor any other LFS file's version it lacks (counted as one error); run 'git lfs fetch --all' and scan again", oid)
		})
		return
	}
	if err != nil {
		r.Fail(h.String(), "cannot read the contents of this Git LFS file (%v): not scanned", err)
		return
	}
	defer f.Close()
	if err := w.Scan(ctx, h.String(), io.LimitReader(f, fi.Size())); err != nil && !stopped(err) {
		r.Fail(h.String(), "the contents of this Git LFS file (sha256 %s) could not be wholly read (%v)", oid, err)
	}
}
