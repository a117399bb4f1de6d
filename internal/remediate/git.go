package remediate

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"sync"
)

// The repository facts and blobs are read with the git CLI: the plan is
// made of git commands, so git's own view of refs and remotes is the one
// the commands will act on. (When gitscan reports exposure, the refs that
// contain each commit, Facts can be built from that instead.)

// BlobReader reads a file as a commit holds it, to locate a key stored as
// wrapped base64.
type BlobReader interface {
	ReadBlob(ctx context.Context, commit, path string) (io.ReadCloser, error)
}

// GitBlobs reads blobs with git cat-file from the repository at GitDir.
type GitBlobs struct{ GitDir string }

// ReadBlob streams commit:path. Closing the reader ends git.
func (g GitBlobs) ReadBlob(ctx context.Context, commit, path string) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, "git", "--git-dir="+g.GitDir, "cat-file", "blob", commit+":"+path)
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 4 << 10}
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("running git: %w", err)
	}
	return &cmdReader{r: out, cmd: cmd, cancel: cancel}, nil
}

// cmdReader is a child's standard output; Close stops the child. Its end
// is an error when the child failed: a path that is no file of the commit
// (none, or a folder) reads as an error, not as an empty file.
type cmdReader struct {
	r      io.Reader
	cmd    *exec.Cmd
	cancel context.CancelFunc
	once   sync.Once
	err    error
}

func (c *cmdReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		if werr := c.wait(); werr != nil {
			return n, fmt.Errorf("git cat-file: %w", werr)
		}
	}
	return n, err
}

func (c *cmdReader) wait() error {
	c.once.Do(func() { c.err = c.cmd.Wait() })
	return c.err
}

func (c *cmdReader) Close() error {
	c.cancel() // the rest of the blob is not wanted
	c.wait()
	return nil
}

// ListFiles lists the paths of commit's files as git stores them, bytes
// that are not UTF-8 included.
func (g GitBlobs) ListFiles(ctx context.Context, commit string) ([]string, error) {
	cmd := exec.CommandContext(ctx, "git", "--git-dir="+g.GitDir, "ls-tree", "-r", "-z", "--name-only", "--full-tree", commit)
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 4 << 10}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-tree: %s", cmp.Or(strings.TrimSpace(stderr.String()), err.Error()))
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00"), nil
}

// isFile reports whether path is a file of commit.
func isFile(ctx context.Context, blobs BlobReader, commit, path string) bool {
	rd, err := blobs.ReadBlob(ctx, commit, path)
	if err != nil {
		return false
	}
	defer rd.Close()
	n, err := rd.Read(make([]byte, 1))
	return n > 0 || err == io.EOF
}

// limitedBuffer keeps the first max bytes written to it: a child's error
// output, which a corrupt repository could make long.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// ReadFacts reads what the plan needs to know about the repository at dir:
// where it is, the refs that contain each of commits (a tag object, for a
// key in an annotated tag's message, is matched by the refs that point at
// it), and its remotes. An empty name (a ref's name, or what no commit
// holds, has no commit) is passed over.
func ReadFacts(ctx context.Context, dir string, commits []string) (Facts, error) {
	var f Facts
	commits = slices.DeleteFunc(slices.Clone(commits), func(c string) bool { return c == "" })
	bare, err := gitOut(ctx, dir, "rev-parse", "--is-bare-repository")
	if err != nil {
		return f, err
	}
	f.Bare = strings.TrimSpace(bare) == "true"
	gd, err := gitOut(ctx, dir, "rev-parse", "--absolute-git-dir")
	if err != nil {
		return f, err
	}
	f.GitDir = strings.TrimSuffix(gd, "\n")
	f.Dir = f.GitDir
	if !f.Bare {
		top, err := gitOut(ctx, dir, "rev-parse", "--show-toplevel")
		if err != nil {
			return f, err
		}
		f.Dir = strings.TrimSuffix(top, "\n")
	}
	if f.Refs, err = refsContaining(ctx, dir, commits); err != nil {
		return f, err
	}
	if f.Submodules, err = Submodules(ctx, dir); err != nil {
		return f, err
	}
	if f.Worktrees, err = otherWorktrees(ctx, dir, f.Dir); err != nil {
		return f, err
	}
	f.Remotes, err = remotes(ctx, dir, f.Bare)
	return f, err
}

// ErrIncomplete is wrapped by CheckComplete's errors.
var ErrIncomplete = errors.New("the repository lacks part of its history")

var errPartial = fmt.Errorf("%w: it is a partial clone, made with --filter, whose left-out files were not scanned, so their keys would be missing from the plan", ErrIncomplete)

// CheckComplete refuses a repository that lacks part of its history on
// purpose: a shallow clone (older commits cut) or a partial clone (files
// left out by a filter). A scan of it cannot see the keys in what it
// lacks, so a plan made from it would rewrite the remotes' full histories
// for the keys it knows only, and a new plan made after the check finds
// the others would miss them again.
func CheckComplete(ctx context.Context, dir string) error {
	shallow, err := gitOut(ctx, dir, "rev-parse", "--is-shallow-repository")
	if err != nil {
		return err
	}
	if strings.TrimSpace(shallow) == "true" {
		return fmt.Errorf("%w: it is a shallow clone, whose older commits are not here, so their keys would be missing from the plan", ErrIncomplete)
	}
	// A partial clone has extensions.partialClone (git 2.20 on) or a
	// promisor remote.
	if v, ok, err := gitConfig(ctx, dir, "--get", "extensions.partialClone"); err != nil {
		return err
	} else if ok && v != "" {
		return errPartial
	}
	v, ok, err := gitConfig(ctx, dir, "--type=bool", "--get-regexp", `^remote\..*\.promisor$`)
	if err != nil {
		return err
	}
	if ok && slices.ContainsFunc(strings.Split(v, "\n"), func(l string) bool { return strings.HasSuffix(l, " true") }) {
		return errPartial
	}
	broken, err := brokenRefs(ctx, dir)
	if err != nil {
		return err
	}
	if len(broken) > 0 {
		return &BrokenRefsError{Refs: broken}
	}
	return nil
}

// A BrokenRefsError names the refs that point to objects the repository
// does not have. git log --all, which reads the messages, and git
// filter-repo, which rewrites, both stop at the first such ref, so no plan
// could be carried out while one is there.
type BrokenRefsError struct{ Refs []string }

func (e *BrokenRefsError) Error() string {
	const most = 10
	names := e.Refs[:min(len(e.Refs), most)]
	more := ""
	if len(e.Refs) > most {
		more = fmt.Sprintf(" and %d more", len(e.Refs)-most)
	}
	return fmt.Sprintf("%d ref(s) point to objects missing from the repository (%s%s): git log and git filter-repo stop at them", len(e.Refs), strings.Join(names, ", "), more)
}

// brokenRefs lists the refs whose objects the repository lacks, in
// for-each-ref's order: the names of the refs and the objects they point to
// from for-each-ref, each looked up by cat-file --batch-check.
func brokenRefs(ctx context.Context, dir string) ([]string, error) {
	out, err := gitOut(ctx, dir, "for-each-ref", "--format=%(objectname) %(refname)")
	if err != nil {
		return nil, err
	}
	var names, objects []string
	for l := range strings.Lines(out) {
		obj, name, ok := strings.Cut(strings.TrimSuffix(l, "\n"), " ")
		if ok {
			objects, names = append(objects, obj), append(names, name)
		}
	}
	if len(objects) == 0 {
		return nil, nil
	}
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "cat-file", "--batch-check=%(objectname)")
	cmd.Stdin = strings.NewReader(strings.Join(objects, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 4 << 10}
	res, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git cat-file: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var broken []string
	i := 0
	for l := range strings.Lines(string(res)) {
		if i < len(names) && strings.HasSuffix(strings.TrimSuffix(l, "\n"), " missing") {
			broken = append(broken, names[i])
		}
		i++
	}
	return broken, nil
}

// Submodules lists the submodules of HEAD's tree by path. A submodule's
// history is a repository of its own: the scan does not read it and the
// rewrite does not change it, so the plan names each one.
func Submodules(ctx context.Context, dir string) ([]string, error) {
	if _, err := gitOut(ctx, dir, "rev-parse", "--verify", "--quiet", "HEAD^{tree}"); err != nil {
		return nil, nil // no commit yet
	}
	out, err := gitOut(ctx, dir, "ls-tree", "-r", "-z", "--full-tree", "HEAD")
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, rec := range strings.Split(out, "\x00") {
		meta, path, ok := strings.Cut(rec, "\t")
		if ok && strings.HasPrefix(meta, "160000 commit ") {
			paths = append(paths, path)
		}
	}
	return paths, nil
}

// otherWorktrees lists the work trees of the repository at dir besides
// the one at top (none for a bare repository's own entry), leaving out
// those whose folder is gone.
func otherWorktrees(ctx context.Context, dir, top string) ([]string, error) {
	// -z (git 2.36 on) keeps a path with a line break whole; older git
	// lists one field a line.
	sep := "\x00"
	out, err := gitOut(ctx, dir, "worktree", "list", "--porcelain", "-z")
	if err != nil {
		sep = "\n"
		if out, err = gitOut(ctx, dir, "worktree", "list", "--porcelain"); err != nil {
			return nil, err
		}
	}
	var wts []string
	for _, rec := range strings.Split(out, sep+sep) {
		var path string
		gone := false
		for _, field := range strings.Split(rec, sep) {
			switch {
			case strings.HasPrefix(field, "worktree "):
				path = strings.TrimPrefix(field, "worktree ")
			case field == "bare" || strings.HasPrefix(field, "prunable"):
				gone = true
			}
		}
		if path != "" && !gone && path != top {
			wts = append(wts, path)
		}
	}
	return wts, nil
}

// refsContaining lists the refs that contain any of commits.
func refsContaining(ctx context.Context, dir string, commits []string) ([]Ref, error) {
	byName := map[string]*Ref{}
	var order []string
	seen := map[string]bool{}
	for _, c := range commits {
		if seen[c] {
			continue
		}
		seen[c] = true
		out, err := gitOut(ctx, dir, "for-each-ref", "--contains="+c, "--format=%(objectname)%00%(refname)")
		if err != nil {
			// Not a commit: a tag object holding a key in its message.
			if out, err = gitOut(ctx, dir, "for-each-ref", "--points-at="+c, "--format=%(objectname)%00%(refname)"); err != nil {
				return nil, err
			}
		}
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			hash, name, ok := strings.Cut(line, "\x00")
			if !ok || strings.HasPrefix(name, "refs/remotes/") && strings.HasSuffix(name, "/HEAD") {
				continue // origin/HEAD names a branch listed anyway
			}
			r := byName[name]
			if r == nil {
				r = &Ref{Name: name, Hash: hash}
				byName[name] = r
				order = append(order, name)
			}
			r.Contains = append(r.Contains, c)
		}
	}
	slices.Sort(order)
	refs := make([]Ref, 0, len(order))
	for _, n := range order {
		refs = append(refs, *byName[n])
	}
	return refs, nil
}

// remotes lists the configured remotes with their fetch and push URLs.
// In a bare repository, a remote with no fetch refspec is the one git
// clone --bare cloned: its branches are this repository's own, as in a
// mirror.
func remotes(ctx context.Context, dir string, bare bool) ([]Remote, error) {
	out, err := gitOut(ctx, dir, "remote")
	if err != nil {
		return nil, err
	}
	var rs []Remote
	// A name a line: git remote add refuses spaces, a config file does not.
	for _, name := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if name == "" {
			continue
		}
		fetch, err := gitOut(ctx, dir, "remote", "get-url", "--", name)
		if err != nil {
			return nil, err
		}
		push, err := gitOut(ctx, dir, "remote", "get-url", "--push", "--", name)
		if err != nil {
			return nil, err
		}
		specs, _, err := gitConfig(ctx, dir, "--get-all", "remote."+name+".fetch")
		if err != nil {
			return nil, err
		}
		rs = append(rs, Remote{Name: name, FetchURL: strings.TrimSpace(fetch), PushURL: strings.TrimSpace(push), Mirror: mirrors(specs) || bare && specs == ""})
	}
	return rs, nil
}

// mirrors reports whether one of a remote's fetch refspecs (one a line)
// fetches its branches into this repository's own: +refs/*:refs/*, as git
// clone --mirror writes, or +refs/heads/*:refs/heads/*.
func mirrors(specs string) bool {
	for _, spec := range strings.Split(specs, "\n") {
		_, dst, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(spec), "+"), ":")
		if dst == "refs/*" || dst == "refs/heads/*" {
			return true
		}
	}
	return false
}

// gitConfig runs git config in dir: its output, and false when git found
// no such key (exit code 1).
func gitConfig(ctx context.Context, dir string, args ...string) (string, bool, error) {
	out, err := exec.CommandContext(ctx, "git", append([]string{"-C", dir, "config"}, args...)...).Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("git config: %w", err)
	}
	return strings.TrimSpace(string(out)), true, nil
}

// gitOut runs git in dir and returns its standard output; the error says
// what git said.
func gitOut(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 4 << 10}
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("git %s: %s", args[0], msg)
	}
	return string(out), nil
}
