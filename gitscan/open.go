package gitscan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/filesystem/dotgit"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/internal/nonblock"
	"github.com/loftyscan/loftyscan/scanner"
)

// gitRepo is an open repository: go-git for its refs, and the object store
// (internal/gitobj) for its objects, which falls back to go-git's storage
// for what it cannot read itself. go-git's storage keeps pack files open,
// which makes its reads several times faster than go-git's PlainOpen.
// Neither rd, crd nor objs is safe for concurrent use: one goroutine at a
// time (the walk, then the attribution) reads objects through them.
type gitRepo struct {
	loc   *Repository
	st    *filesystem.Storage
	repo  *git.Repository
	store *gitobj.Store
	names *gitobj.Names              // commit and tree names in the walk's nodes
	rd    *gitobj.Reader             // trees and blobs, with a cache for the walk
	crd   *gitobj.Reader             // commits, with a cache of their own
	objs  storer.EncodedObjectStorer // rd for go-git's decoders
	tune  tuning

	described map[plumbing.Hash]commitInfo // see describe
	peeled    map[plumbing.Hash]peeled     // see peelToCommit

	// busy counts readEach's workers; left is set once a stopped readEach
	// has left one behind, still reading (see close).
	busy  sync.WaitGroup
	left  atomic.Bool
	notes objectNotes // the commits and tags a scan of everything met (messages.go)
	// packedCommits is how many commits the packs hold, once a sweep has
	// planned: the revision walk of everything makes room for them all
	// at once (newRevWalk).
	packedCommits atomic.Int64
	// octopusLinks counts the parents past each commit's second that the
	// scan's walks have read (countParents).
	octopusLinks   atomic.Int64
	octopusRefused atomic.Int64 // commits left out for it (refuseOctopus)

	refsMu   sync.Mutex
	refList  []*plumbing.Reference // the refs, once read (refs.go)
	refsRead bool

	shallowOnce sync.Once
	shallow     map[plumbing.Hash]bool // shallowCommits

	lfsMissing sync.Once // the one warning about Git LFS contents this clone lacks (lfs.go)

	damage damage // the objects found damaged, and those a warning named (damaged.go)
}

// tuning is how a scan reads objects: the defaults, or a way a test
// chooses in order to compare it with the others.
type tuning struct {
	mode     readMode
	sweepMax int64 // the largest object a sweep holds; 0: the store's default
	// exposeAfter has exposure compare the trees after the walk, never in
	// step with it: the reference exposure_early.go is checked against.
	exposeAfter bool
	// octopusLinks replaces maxOctopusLinks when not 0: a test's budget.
	octopusLinks int64
	// selectAfter replaces selectAfterSweep when not 0.
	selectAfter int64
	// partialWalks replaces maxPartialWalks when not 0: a test's budget.
	partialWalks int
	// seen, when not nil, notes what the scan did, for the tests.
	seen *tuneSeen
}

// tuneSeen is what a scan did that its results do not show.
type tuneSeen struct {
	exposedInStep  bool        // exposure used the comparison made in step with the walk
	comparedInStep int         // commits exposure compared in step with the walk
	countsHeld     int         // the counts held for the commits compared in step
	walkGrown      int         // times the revision walk's nodes were grown (a copy)
	commitsLoaded  int         // commits the revision walks read (from the commit-graph or their objects)
	selectedBeside atomic.Bool // a scan of everything started its selection beside the sweep
}

// readMode chooses how a scan reads blobs. Only tests choose: they check
// that every way gives the same results.
type readMode int

const (
	readAuto     readMode = iota // a sweep when worth it; a scan of everything sweeps first (scanEverything)
	readGoGit                    // every object through go-git, one at a time: the reference
	readSweep                    // a sweep whatever the number of blobs, after the walk
	readOneByOne                 // never a sweep
)

// storage opens the repository's object and ref storage, with an object
// cache of cacheSize bytes. go-git reads objects only in the tests'
// reference mode (readGoGit): it holds in memory none bigger than the
// store holds whole, and streams the rest.
func (r *Repository) storage(cacheSize cache.FileSize) *filesystem.Storage {
	var dot billy.Filesystem = regularFS{osfs.New(r.GitDir)}
	if r.CommonDir != r.GitDir {
		dot = dotgit.NewRepositoryFilesystem(dot, regularFS{osfs.New(r.CommonDir)})
	}
	return filesystem.NewStorageWithOptions(dot, cache.NewObjectLRU(cacheSize), filesystem.Options{KeepDescriptors: true, LargeObjectThreshold: 32 << 20})
}

// objectStorage is go-git's storage of a repository with its objects read
// by the store: go-git's revision parser (HEAD~50, abbreviated hashes) then
// finds what the scan reads, objects borrowed through alternates included,
// and allocates no more than the store does.
type objectStorage struct {
	*filesystem.Storage
	objs storer.EncodedObjectStorer // the store's, through a Reader
}

// prefixLister is the store's way to expand an abbreviated hash, which
// go-git's revision parser looks for.
type prefixLister interface {
	HashesWithPrefix(prefix []byte) ([]plumbing.Hash, error)
}

func (s *objectStorage) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	return s.objs.EncodedObject(t, h)
}

func (s *objectStorage) HasEncodedObject(h plumbing.Hash) error { return s.objs.HasEncodedObject(h) }

func (s *objectStorage) EncodedObjectSize(h plumbing.Hash) (int64, error) {
	return s.objs.EncodedObjectSize(h)
}

func (s *objectStorage) HashesWithPrefix(prefix []byte) ([]plumbing.Hash, error) {
	return s.objs.(prefixLister).HashesWithPrefix(prefix)
}

// readerNeutralExtensions are the repository extensions that change
// nothing a reader of objects and refs sees: per-worktree config files
// (set by `git sparse-checkout` and `git worktree` users), a ban on
// pruning, and the legacy partial-clone marker (missing objects are
// counted by the scan). go-git refuses to open a repository that sets
// any extension it does not implement, so `loftyscan git`, --staged and
// the hooks failed in every sparse checkout; the others (a SHA-256 or
// reftable repository, ones yet to come) still fail, since reading past
// them would scan the wrong thing or nothing.
var readerNeutralExtensions = map[string]bool{
	"worktreeconfig":  true,
	"preciousobjects": true,
	"partialclone":    true,
}

// Config is the repository's config without the extensions that change
// nothing for a reader (readerNeutralExtensions), so that go-git opens it.
func (s *objectStorage) Config() (*gitconfig.Config, error) {
	cfg, err := s.Storage.Config()
	if err != nil || cfg.Raw == nil || !cfg.Raw.HasSection("extensions") {
		return cfg, err
	}
	ext := cfg.Raw.Section("extensions")
	for _, o := range slices.Clone(ext.Options) {
		if readerNeutralExtensions[strings.ToLower(o.Key)] {
			ext.RemoveOption(o.Key)
		}
	}
	if len(ext.Options) == 0 {
		cfg.Raw.RemoveSection("extensions")
	}
	return cfg, nil
}

// treeCacheBytes is the cache of resolved objects for the tree walk: trees
// are stored as chains of deltas, and a walk in commit order reads
// neighbouring versions one after the other. 16 MiB costs no more CPU than
// 64 did, and 60 to 190 MiB less memory at the peak: on a synthetic history
// of 400,000 commits with 50 keys, the trufflehog, go-git and
// amazon-chime-sdk-js mirrors with keys planted, and 400 versions of a root
// tree of 20,000 files (800 KB each), whose chains thrash either size.
const treeCacheBytes = 16 << 20

// commitCacheBytes is the cache for commits, which are deltas of one
// another far less often.
const commitCacheBytes = 8 << 20

func (r *Repository) open(t tuning) (*gitRepo, error) {
	return r.openObjects(t, nil)
}

// openObjects opens the repository with its objects read from the object
// folders dirs (see gitobj.OpenDirs) instead of its own: a pre-receive
// hook's quarantine and the repository's folder.
func (r *Repository) openObjects(t tuning, dirs []string) (*gitRepo, error) {
	if err := checkConfigSections(r.CommonDir); err != nil {
		return nil, fmt.Errorf("cannot open the repository at %s: %w", r.GitDir, err)
	}
	st := r.storage(cache.DefaultMaxSize)
	var wt billy.Filesystem
	if r.WorkTree != "" {
		wt = osfs.New(r.WorkTree)
	}
	objects := filepath.Join(r.CommonDir, "objects")
	if t.mode == readGoGit {
		objects = "" // every object through go-git
	}
	var store *gitobj.Store
	if dirs != nil {
		store = gitobj.OpenDirs(dirs, st)
	} else {
		store = gitobj.Open(objects, st)
	}
	g := &gitRepo{loc: r, st: st, store: store, tune: t}
	g.names = g.store.Names()
	g.notes.names = g.names
	g.rd = g.store.Reader(treeCacheBytes)
	g.crd = g.store.Reader(commitCacheBytes)
	g.objs = g.rd.Storer()
	repo, err := git.Open(&objectStorage{Storage: st, objs: g.objs}, wt)
	if err != nil {
		g.close()
		if errors.Is(err, git.ErrRepositoryNotExists) {
			return nil, fmt.Errorf("%s: %w", r.GitDir, ErrNotRepository)
		}
		return nil, fmt.Errorf("cannot open the repository at %s: %w", r.GitDir, err)
	}
	g.repo = repo
	return g, nil
}

// warnDamaged reports the packs the store could not open: the objects
// only they hold are not scanned.
func (g *gitRepo) warnDamaged(r *scanner.Run) {
	for _, err := range g.store.Damaged() {
		r.Fail("", "%v: the objects only this pack holds were not scanned; run 'git fsck' to check the repository", err)
	}
	for _, err := range g.store.Unread() {
		r.Fail("", "%v; run 'git fsck' to check the repository", err)
	}
}

// close releases the repository's files: at once, or, when a stopped scan
// left workers behind still reading them (readEach), once they are done,
// so that none reads a file closed under it.
func (g *gitRepo) close() error {
	if g.left.Load() {
		go func() {
			g.busy.Wait()
			g.store.Close()
			g.st.Close()
		}()
		return nil
	}
	g.store.Close()
	return g.st.Close()
}

// isPartialClone reports whether objects may be missing on purpose: the
// repository was cloned with a filter (git clone --filter=blob:none), so
// it has a promisor remote and .promisor packs.
func (g *gitRepo) isPartialClone() bool {
	if b, err := nonblock.ReadRegularMax(filepath.Join(g.loc.CommonDir, "config"), maxConfigBytes); err == nil {
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
	c, err := g.peelToCommit(ref.Hash())
	if err != nil {
		// The object's error alone ("object not found") named nothing.
		return plumbing.ZeroHash, fmt.Errorf("cannot read HEAD (%s, commit %s): %w", ref.Name(), ref.Hash(), err)
	}
	return c, nil
}

// maxTagChain is how many tags of tags peelToCommit follows. Git follows
// any number, but a repository of 100,000 tags each of the one before,
// each with its ref, would cost 5 billion reads to peel every ref.
const maxTagChain = 32

// errTagChain is peelToCommit's error for a chain of more than
// maxTagChain tags.
var errTagChain = fmt.Errorf("more than %d tags of tags, where loftyscan stops (git follows any number)", maxTagChain)

// peelToCommit follows annotated tags (tags of tags too) to what they tag.
// It returns the zero hash, and no error, when that is not a commit.
//
// Its answers are kept (peeled): a million refs to one commit (a 61 MB
// packed-refs) had its object opened three million times, 32 s of CPU
// when it was loose. Like crd, it is for one goroutine at a time.
func (g *gitRepo) peelToCommit(h plumbing.Hash) (plumbing.Hash, error) {
	if p, ok := g.peeled[h]; ok {
		return p.commit, p.err
	}
	c, err := g.peelToCommitRead(h)
	if g.peeled == nil {
		g.peeled = map[plumbing.Hash]peeled{}
	}
	g.peeled[h] = peeled{c, err}
	return c, err
}

// peeled is what peelToCommit said of an object.
type peeled struct {
	commit plumbing.Hash
	err    error
}

// peelToCommitRead is peelToCommit, reading the objects.
func (g *gitRepo) peelToCommitRead(h plumbing.Hash) (plumbing.Hash, error) {
	start := h
	for range maxTagChain + 1 { // the tags, then what the last one tags
		// Its type from its header: a ref to a big tree (a tag of each
		// version of a 6 MB one) is not read whole, twice, to learn it.
		switch typ, err := g.crd.Type(h); {
		case err != nil, typ == plumbing.TagObject:
		case typ == plumbing.CommitObject:
			return h, nil // most refs
		default:
			return plumbing.ZeroHash, nil
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
	return plumbing.ZeroHash, fmt.Errorf("tag %s: %w", start, errTagChain)
}

// regularFS is the repository's folder as go-git reads it, refusing to open
// for reading anything that is not a regular file or a folder. A named pipe
// planted as config, packed-refs or a ref (a copied .git folder, an unpacked
// tarball) would block go-git's open until a writer came, which may be
// never; Stat does not block, so the pipe is refused before it is opened.
// A ref file is read up to maxRefFile bytes.
type regularFS struct{ billy.Filesystem }

func (f regularFS) Open(name string) (billy.File, error) {
	return f.OpenFile(name, os.O_RDONLY, 0)
}

func (f regularFS) OpenFile(name string, flag int, perm os.FileMode) (billy.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR) != 0 {
		return f.Filesystem.OpenFile(name, flag, perm)
	}
	fi, err := f.Filesystem.Stat(name)
	if err == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
		return nil, &os.PathError{Op: "open", Path: name, Err: fmt.Errorf("not a regular file (%s): skipped", fi.Mode().Type())}
	}
	if !isRefFile(name) || (err == nil && fi.IsDir()) {
		return f.Filesystem.OpenFile(name, flag, perm)
	}
	if err == nil && fi.Size() > maxRefFile {
		if filepath.Clean(name) == "HEAD" {
			return &headFile{Reader: bytes.NewReader([]byte(unreadableHead)), name: name}, nil
		}
		return nil, &os.PathError{Op: "open", Path: filepath.ToSlash(name), Err: errBigRef}
	}
	file, err := f.Filesystem.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &refFile{File: file, left: maxRefFile}, nil
}

// maxRefFile bounds what is read of a loose ref, HEAD or another ref file
// at the top of the git folder (ORIG_HEAD...). go-git reads one whole, and
// so does git, though a ref is a hash and a newline (41 bytes) or
// "ref: " and a ref's name, a file's path, which file systems bound to
// 4096 bytes: a 1 GB file planted at refs/heads/big took 2 GB to read.
// A bigger one is a malformed ref: go-git's listing of the refs fails
// on it, and the scan reads the others itself (listRefs), with a warning
// that names it.
const maxRefFile = 8 << 10

// errBigRef is the error of a ref file over maxRefFile.
var errBigRef = fmt.Errorf("a ref file of more than %d bytes, as only a damaged or crafted repository has: not read", maxRefFile)

// isRefFile reports whether name, relative to a git folder, is a ref file:
// under refs/, or at the top and named like HEAD.
func isRefFile(name string) bool {
	name = filepath.ToSlash(filepath.Clean(name))
	return strings.HasPrefix(name, "refs/") || (!strings.Contains(name, "/") && strings.HasSuffix(name, "HEAD"))
}

// unreadableHead is what a HEAD over maxRefFile reads as: a symbolic ref
// to a name no ref has (git refuses a space in one). go-git then opens the
// repository, where it would say there is none, HEAD counts as a branch
// with no commit yet, as for a HEAD that names a missing branch, and
// every other ref is scanned, as 'git rev-list --all' reads them; the
// scan of the history names HEAD in a warning (warnBigHead).
const unreadableHead = "ref: refs/heads/HEAD over the size of a ref\n"

// headFile is the HEAD go-git reads in place of one over maxRefFile.
type headFile struct {
	*bytes.Reader
	name string
}

func (f *headFile) Name() string                { return f.name }
func (f *headFile) Write(p []byte) (int, error) { return 0, os.ErrPermission }
func (f *headFile) Close() error                { return nil }
func (f *headFile) Lock() error                 { return nil }
func (f *headFile) Unlock() error               { return nil }
func (f *headFile) Truncate(int64) error        { return os.ErrPermission }

// warnBigHead names HEAD in a warning when it is over maxRefFile, and so
// was not read (unreadableHead).
func (g *gitRepo) warnBigHead(r *scanner.Run) {
	if fi, err := os.Stat(filepath.Join(g.loc.GitDir, "HEAD")); err == nil && fi.Mode().IsRegular() && fi.Size() > maxRefFile {
		r.Fail("HEAD", "a ref file of %d bytes, more than the %d loftyscan reads of one (a ref is a hash or a ref's name), as only a damaged or crafted repository has: not read, so HEAD names no commit; the other refs were scanned; run 'git fsck' to check the repository", fi.Size(), maxRefFile)
	}
}

// refFile is a ref file that fails past maxRefFile bytes read: one that
// grew since it was looked at.
type refFile struct {
	billy.File
	left int64
}

func (f *refFile) Read(p []byte) (int, error) {
	if f.left <= 0 {
		var one [1]byte
		if n, _ := f.File.Read(one[:]); n > 0 {
			return 0, &os.PathError{Op: "read", Path: filepath.ToSlash(f.Name()), Err: errBigRef}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > f.left {
		p = p[:f.left]
	}
	n, err := f.File.Read(p)
	f.left -= int64(n)
	return n, err
}
