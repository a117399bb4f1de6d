package gitscan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/nonblock"
	"github.com/loftyscan/loftyscan/scanner"
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
			return nil, fmt.Errorf("%s: %w", path, scanner.ErrNoPath)
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
	b, err := nonblock.ReadRegularMax(filepath.Join(gd, "commondir"), maxPathFile)
	if tooBig := (*nonblock.TooBigError)(nil); errors.As(err, &tooBig) {
		return nil, fmt.Errorf("%s: %w: its commondir file holds %d bytes, and a commondir is the path of a folder (at most %d bytes): the repository it belongs to cannot be found", gitDir, ErrNotRepository, tooBig.Size, maxPathFile)
	}
	if err == nil {
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

// maxPathFile bounds what is read of a file of the git folder that holds
// one path: commondir, a .git file ("gitdir: " and a path). A path is at
// most 4096 bytes (PATH_MAX); git reads either whole (a .git file up to 1
// MiB), and a commondir planted at 256 MiB took loftyscan 6 GB and 30 s
// of CPU to read and look up.
const maxPathFile = 8 << 10

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
	b, err := nonblock.ReadRegularMax(name, maxPathFile)
	if tooBig := (*nonblock.TooBigError)(nil); errors.As(err, &tooBig) {
		return "", fmt.Errorf("%s: %w: a .git file of %d bytes, and one holds \"gitdir:\" and the path of a folder (at most %d bytes; git refuses one over 1 MiB)", name, ErrNotRepository, tooBig.Size, maxPathFile)
	}
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

// CloneRepository clones the repository at rawURL into dir, which must be
// empty, for a one-off scan: bare (nothing is checked out), as a mirror
// (every ref: branches, tags, notes, pull-request refs). It works for
// https, ssh, git and file URLs. With the git command installed it clones
// with git, so the user's credential helpers, SSH configuration and proxy
// settings apply as they do to their own clones; without it, with go-git.
// Errors never contain the URL's credentials, nor more than the first 2
// KiB of what a server says with an HTTP error. An empty remote gives an
// empty repository, not an error.
func CloneRepository(ctx context.Context, rawURL, dir string, opts CloneOptions) (*Repository, error) {
	if gitBin, err := exec.LookPath("git"); err == nil {
		return cloneWithGit(ctx, gitBin, rawURL, dir, opts)
	}
	return cloneWithGoGit(ctx, rawURL, dir)
}

// CloneOptions are how a clone is watched.
type CloneOptions struct {
	// Running, when not nil, is given, while git runs, a function that
	// kills git and the helpers it started (git-remote-https, ssh) at
	// once, and returns what to call once git has exited. A process that
	// exits without waiting for ctx (a second signal, SIGQUIT) kills them
	// first: else they would outlive it, downloading the repository into a
	// folder it has removed, with the URL and its credentials in their
	// command lines.
	Running func(kill func()) (done func())
}

// cloneWithGoGit clones with go-git: no credential helper, no SSH config.
func cloneWithGoGit(ctx context.Context, rawURL, dir string) (*Repository, error) {
	useBoundedHTTP()
	_, err := git.PlainCloneContext(ctx, dir, true, &git.CloneOptions{URL: rawURL, Mirror: true, Tags: git.AllTags})
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		if _, err := git.PlainInit(dir, true); err != nil {
			return nil, fmt.Errorf("cannot create an empty repository in %s: %w", dir, err)
		}
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot clone %s: %s", finding.RedactURL(rawURL), finding.RedactURLIn(err.Error(), rawURL))
	}
	return RepositoryAt(dir, "")
}

// cloneWaitDelay is how long a stopped clone waits for git's output to
// close once git is killed.
const cloneWaitDelay = 200 * time.Millisecond

// cloneErrTail is how much of git's error output a failed clone keeps:
// the end, where git says what went wrong, whatever the remote sent before.
const cloneErrTail = 4 << 10

// oneLine joins the lines of git's error output with "; ": printed as one
// line of loftyscan's error, its line breaks were escaped (\x0A\x0A) into
// text that means nothing to a user. Other control characters are left to
// the output's escaping.
func oneLine(s string) string {
	var lines []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "; ")
}

// cloneWithGit clones with the git command, in the user's environment.
// "--" keeps a URL from being read as an option; git's own protocol
// policy refuses ext:: and other command-running transports.
func cloneWithGit(ctx context.Context, gitBin, rawURL, dir string, opts CloneOptions) (*Repository, error) {
	cmd := exec.CommandContext(ctx, gitBin, "clone", "--mirror", "--quiet", "--", rawURL, dir)
	// Stopped (a signal, --timeout), git and its helpers are killed, and
	// the clone returns at once, even if a helper still held git's error
	// output open.
	killGroupOnCancel(cmd)
	cmd.WaitDelay = cloneWaitDelay
	stderr := &tailBuffer{max: cloneErrTail}
	cmd.Stderr = stderr
	err := cmd.Start()
	if err == nil {
		if opts.Running != nil {
			done := opts.Running(func() { killGroup(cmd) })
			defer done()
		}
		err = cmd.Wait()
	}
	if err != nil {
		msg := oneLine(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("cannot clone %s: git clone: %s", finding.RedactURL(rawURL), finding.RedactURLIn(msg, rawURL))
	}
	return RepositoryAt(dir, "")
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) > b.max {
		p = p[len(p)-b.max:]
	}
	if over := len(b.buf) + len(p) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	b.buf = append(b.buf, p...)
	return n, nil
}

func (b *tailBuffer) String() string { return string(b.buf) }

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
