package gitscan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/filesystem/dotgit"
)

// Errors of the git scans, for the CLI to turn into hints.
var (
	// ErrNotRepository is wrapped when no git repository holds a path.
	ErrNotRepository = errors.New("not a git repository")
	// ErrUnknownRevision is wrapped when a ref, commit or range end given
	// by the user does not name a commit in the repository.
	ErrUnknownRevision = errors.New("unknown revision")
	// ErrNoWorkTree is wrapped when a staged scan is asked of a bare
	// repository, which has no index to commit from.
	ErrNoWorkTree = errors.New("bare repository: no work tree and no staged changes")
)

// Repository says where a git repository's files are. Find one with
// FindRepository, name one with RepositoryAt, or make one with
// CloneRepository.
type Repository struct {
	GitDir    string // the .git folder, a bare repository, or a linked worktree's folder under .git/worktrees
	CommonDir string // where objects, refs and config live: GitDir, except for a linked worktree
	WorkTree  string // the top folder of the work tree; empty for a bare repository
}

// FindRepository finds the repository that holds path the way git does:
// path or its nearest parent that has a .git folder (or a .git file, as in
// linked worktrees and submodules) or that is itself a bare repository.
func FindRepository(path string) (*Repository, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", path, ErrNoPath)
		}
		return nil, err
	}
	if !fi.IsDir() {
		abs = filepath.Dir(abs)
	}
	for dir := abs; ; {
		dotgit := filepath.Join(dir, ".git")
		if fi, err := os.Stat(dotgit); err == nil {
			if fi.IsDir() && isGitDir(dotgit) {
				return RepositoryAt(dotgit, dir)
			}
			if fi.Mode().IsRegular() {
				gd, err := readGitFile(dotgit)
				if err != nil {
					return nil, err
				}
				return RepositoryAt(gd, dir)
			}
		}
		if isGitDir(dir) {
			return RepositoryAt(dir, "")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, fmt.Errorf("%s: %w (nor is any of its parent folders)", path, ErrNotRepository)
		}
		dir = parent
	}
}

// RepositoryAt describes the repository whose git folder is gitDir, with
// the given work tree (empty for none), as git does for GIT_DIR and
// GIT_WORK_TREE. A linked worktree's commondir file is followed.
func RepositoryAt(gitDir, workTree string) (*Repository, error) {
	gd, err := filepath.Abs(gitDir)
	if err != nil {
		return nil, err
	}
	if !isGitDir(gd) {
		return nil, fmt.Errorf("%s: %w", gitDir, ErrNotRepository)
	}
	repo := &Repository{GitDir: gd, CommonDir: gd}
	if b, err := os.ReadFile(filepath.Join(gd, "commondir")); err == nil {
		common := strings.TrimSpace(string(b))
		if !filepath.IsAbs(common) {
			common = filepath.Join(gd, common)
		}
		repo.CommonDir = filepath.Clean(common)
	}
	if workTree != "" {
		if repo.WorkTree, err = filepath.Abs(workTree); err != nil {
			return nil, err
		}
	}
	return repo, nil
}

// isGitDir is git's test for a git folder: a HEAD, and objects of its own
// or a commondir that has them.
func isGitDir(dir string) bool {
	if fi, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	if fi, err := os.Stat(filepath.Join(dir, "objects")); err == nil && fi.IsDir() {
		return true
	}
	_, err := os.Stat(filepath.Join(dir, "commondir"))
	return err == nil
}

// readGitFile reads a .git file ("gitdir: PATH"), relative to its folder.
func readGitFile(name string) (string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	gd, ok := strings.CutPrefix(strings.TrimSpace(line), "gitdir:")
	if !ok {
		return "", fmt.Errorf("%s: %w: the file does not start with \"gitdir:\"", name, ErrNotRepository)
	}
	gd = strings.TrimSpace(gd)
	if !filepath.IsAbs(gd) {
		gd = filepath.Join(filepath.Dir(name), gd)
	}
	return gd, nil
}

// gitRepo is an open repository. Objects are read by the pack reader
// (pack.go), which falls back to go-git's storage for what it cannot read.
// go-git's storage keeps pack files open, which makes its reads several
// times faster than go-git's PlainOpen. Neither objs nor rd is safe for
// concurrent use: one goroutine at a time reads objects through them.
type gitRepo struct {
	loc   *Repository
	st    *filesystem.Storage
	repo  *git.Repository
	objs  storer.EncodedObjectStorer // where objects are read: the pack reader, then st
	store *objectStore               // the pack reader's packs; nil when reading through go-git only
	rd    *objReader                 // the store's reader behind objs
	crd   *objReader                 // the store's reader for commits
	mode  gitReadMode
}

// storage opens the repository's object and ref storage, with an object
// cache of cacheSize bytes.
func (r *Repository) storage(cacheSize cache.FileSize) *filesystem.Storage {
	var dot billy.Filesystem = osfs.New(r.GitDir)
	if r.CommonDir != r.GitDir {
		dot = dotgit.NewRepositoryFilesystem(dot, osfs.New(r.CommonDir))
	}
	return filesystem.NewStorageWithOptions(dot, cache.NewObjectLRU(cacheSize), filesystem.Options{KeepDescriptors: true})
}

// treeCacheBytes is the pack reader's cache of resolved objects for the
// tree walk: trees are stored as chains of deltas, and a walk in commit
// order reads neighbouring versions one after the other.
const treeCacheBytes = 64 << 20

// commitCacheBytes is the cache for commits, which are deltas of one
// another far less often.
const commitCacheBytes = 8 << 20

func (r *Repository) open() (*gitRepo, error) {
	st := r.storage(cache.DefaultMaxSize)
	var wt billy.Filesystem
	if r.WorkTree != "" {
		wt = osfs.New(r.WorkTree)
	}
	repo, err := git.Open(st, wt)
	if err != nil {
		st.Close()
		if errors.Is(err, git.ErrRepositoryNotExists) {
			return nil, fmt.Errorf("%s: %w", r.GitDir, ErrNotRepository)
		}
		return nil, fmt.Errorf("cannot open the repository at %s: %w", r.GitDir, err)
	}
	g := &gitRepo{loc: r, st: st, repo: repo, store: openObjectStore(filepath.Join(r.CommonDir, "objects"))}
	g.rd = g.store.reader(treeCacheBytes)
	g.crd = g.store.reader(commitCacheBytes)
	g.objs = &packObjects{EncodedObjectStorer: st, rd: g.rd}
	return g, nil
}

// useGoGit makes every read go through go-git's storage: the slow path,
// kept as the reference the pack reader is tested against.
func (g *gitRepo) useGoGit() {
	if g.store != nil {
		g.store.close()
	}
	g.store, g.rd, g.crd, g.objs = nil, nil, nil, g.st
}

func (g *gitRepo) close() error {
	if g.store != nil {
		g.store.close()
	}
	return g.st.Close()
}

// isPartialClone reports whether objects may be missing on purpose: the
// repository was cloned with a filter (git clone --filter=blob:none), so
// it has a promisor remote and .promisor packs.
func (g *gitRepo) isPartialClone() bool {
	if b, err := os.ReadFile(filepath.Join(g.loc.CommonDir, "config")); err == nil {
		low := strings.ToLower(string(b))
		if strings.Contains(low, "partialclone") || strings.Contains(low, "promisor = true") || strings.Contains(low, "promisor=true") {
			return true
		}
	}
	m, _ := filepath.Glob(filepath.Join(g.loc.CommonDir, "objects", "pack", "*.promisor"))
	return len(m) > 0
}

// head returns the commit HEAD points at, or the zero hash when HEAD's
// branch has no commit yet.
func (g *gitRepo) head() (plumbing.Hash, error) {
	ref, err := g.repo.Head()
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("cannot read HEAD: %w", err)
	}
	return g.peelToCommit(ref.Hash())
}

// peelToCommit follows annotated tags (tags of tags too) to what they tag.
// It returns the zero hash, and no error, when that is not a commit.
func (g *gitRepo) peelToCommit(h plumbing.Hash) (plumbing.Hash, error) {
	for range 32 {
		if g.crd != nil {
			if typ, _, err := g.crd.read(h); err == nil && typ == plumbing.CommitObject {
				return h, nil // most refs; the walk reads it again, from the cache
			}
		}
		obj, err := g.objs.EncodedObject(plumbing.AnyObject, h)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		switch obj.Type() {
		case plumbing.CommitObject:
			return h, nil
		case plumbing.TagObject:
			tag, err := object.DecodeTag(g.objs, obj)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			h = tag.Target
		default:
			return plumbing.ZeroHash, nil
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("tag %s: too many tags of tags", h)
}

// resolve turns a revision the user gave (a branch, tag, remote-tracking
// branch, full ref, commit hash or prefix, with ~ and ^ suffixes) into a
// commit hash.
func (g *gitRepo) resolve(rev string) (plumbing.Hash, error) {
	if len(rev) == 40 {
		if h := plumbing.NewHash(rev); h.String() == strings.ToLower(rev) {
			if c, err := g.peelToCommit(h); err == nil && !c.IsZero() {
				return c, nil
			}
		}
	}
	h, err := g.repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil || h == nil || h.IsZero() {
		return plumbing.ZeroHash, fmt.Errorf("%q: %w", rev, ErrUnknownRevision)
	}
	return *h, nil
}

// CloneRepository clones the repository at rawURL into dir, which must be
// empty, for a one-off scan: bare (nothing is checked out), as a mirror
// (every ref: branches, tags, notes, pull-request refs). It works for
// https, ssh, git and file URLs. Errors never contain the URL's
// credentials. An empty remote gives an empty repository, not an error.
func CloneRepository(ctx context.Context, rawURL, dir string) (*Repository, error) {
	_, err := git.PlainCloneContext(ctx, dir, true, &git.CloneOptions{URL: rawURL, Mirror: true, Tags: git.AllTags})
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		if _, err := git.PlainInit(dir, true); err != nil {
			return nil, fmt.Errorf("cannot create an empty repository in %s: %w", dir, err)
		}
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot clone %s: %s", RedactURL(rawURL), scrubURL(err.Error(), rawURL))
	}
	return RepositoryAt(dir, "")
}

// scpLike matches git's scp-like remote syntax, "user@host:path".
var scpLike = regexp.MustCompile(`^[A-Za-z0-9._~-]+@[A-Za-z0-9.-]+:`)

// IsRemoteURL reports whether arg names a remote repository rather than a
// folder: a URL with a scheme git clones from, or "user@host:path".
func IsRemoteURL(arg string) bool {
	lower := strings.ToLower(arg)
	for _, scheme := range []string{"https://", "http://", "ssh://", "git://", "file://", "git+ssh://", "ssh+git://"} {
		if strings.HasPrefix(lower, scheme) {
			return true
		}
	}
	if scpLike.MatchString(arg) {
		if _, err := os.Stat(arg); err != nil {
			return true
		}
	}
	return false
}

// RedactURL returns rawURL safe to print: user names and passwords (a
// token in the user name is common) become "***".
func RedactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		if err != nil && strings.Contains(rawURL, "@") && strings.Contains(rawURL, "://") {
			return "[a URL with credentials]"
		}
		return rawURL
	}
	u.User = nil
	s := u.String()
	scheme, rest, _ := strings.Cut(s, "://")
	return scheme + "://***@" + rest
}

// scrubURL removes rawURL's credentials from msg, in every form a
// transport library might have quoted them.
func scrubURL(msg, rawURL string) string {
	msg = strings.ReplaceAll(msg, rawURL, RedactURL(rawURL))
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return msg
	}
	secrets := []string{u.User.String(), u.User.Username()}
	if pw, ok := u.User.Password(); ok {
		secrets = append(secrets, pw, url.QueryEscape(pw), url.PathEscape(pw))
	}
	for _, s := range secrets {
		if len(s) >= 4 { // short user names ("git") are not secrets, and would garble the message
			msg = strings.ReplaceAll(msg, s, "***")
		}
	}
	return msg
}
