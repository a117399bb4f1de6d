package ghaction

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// Git answers the questions about the repository that the ranges need.
// Revisions passed in are either full commit names checked by this
// package, or action inputs checked by checkRevision; an implementation
// must still never let one be read as an option.
type Git interface {
	// Commit returns the full name of the commit rev names (peeling an
	// annotated tag), and false when the clone has no such commit.
	Commit(ctx context.Context, rev string) (string, bool, error)
	// MergeBase returns a best common ancestor of two commits, and false
	// when they have none in the clone (unrelated histories, or history
	// cut by a shallow clone).
	MergeBase(ctx context.Context, a, b string) (string, bool, error)
	// IsShallow reports whether the clone is shallow.
	IsShallow(ctx context.Context) (bool, error)
	// IsPartial reports whether the clone is partial: made or fetched
	// with a filter, which leaves blobs out.
	IsPartial(ctx context.Context) (bool, error)
	// Remotes lists the configured remotes' names.
	Remotes(ctx context.Context) ([]string, error)
	// RemoteBranches lists the remote-tracking branches (refs/remotes/...)
	// and their commits, leaving out symbolic refs such as origin/HEAD.
	RemoteBranches(ctx context.Context) ([]Branch, error)
	// NewCommits walks the commits reachable from tip and from none of
	// exclude, as git rev-list tip --not exclude... does: it returns how
	// many there are and the boundary, the excluded commits that are
	// parents of counted ones. Excluding only the boundary selects the same
	// commits.
	NewCommits(ctx context.Context, tip string, exclude []string) (int, []string, error)
}

// Branch is a remote-tracking branch.
type Branch struct {
	Ref    string // refs/remotes/origin/main
	Commit string // full commit name
}

// GitCLI is Git answered by the git command, run without a shell in Dir.
type GitCLI struct {
	Dir string
	// Env is git's environment; nil means this process's.
	Env []string
}

// maxGitStderr bounds what is kept of git's error output.
const maxGitStderr = 4 << 10

// NewGitCLI returns the git command run in dir, once it has checked that
// dir is a folder inside a git repository. env is git's environment (nil:
// this process's).
func NewGitCLI(ctx context.Context, dir string, env []string) (*GitCLI, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, &Error{
			Kind:    ErrNotRepository,
			Message: fmt.Sprintf("path %q is not a folder", dir),
			Hint:    "check out the repository first (actions/checkout), or set the action's path input to where it is",
			Err:     err,
		}
	}
	if _, err := exec.LookPath("git"); err != nil {
		return nil, &Error{Kind: ErrGit, Message: "git is not on PATH", Hint: "install git in the job's image (GitHub's runners have it)", Err: err}
	}
	g := &GitCLI{Dir: dir, Env: env}
	if _, err := g.output(ctx, nil, "rev-parse", "--git-dir"); err != nil {
		return nil, &Error{
			Kind:    ErrNotRepository,
			Message: fmt.Sprintf("%q is not a git repository: %v", dir, err),
			Hint:    "check out the repository first (actions/checkout with fetch-depth: 0), or set the action's path input to where it is",
			Err:     err,
		}
	}
	return g, nil
}

// Commit implements Git with git rev-parse --verify.
func (g *GitCLI) Commit(ctx context.Context, rev string) (string, bool, error) {
	if err := argSafe(rev); err != nil {
		return "", false, err
	}
	out, err := g.output(ctx, nil, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if code, ok := exitCode(err); ok && code == 1 {
		return "", false, nil // --quiet: no such commit, nothing printed
	}
	if err != nil {
		return "", false, err
	}
	name := strings.TrimSpace(out)
	if _, err := commitName("git rev-parse", name); err != nil {
		return "", false, fmt.Errorf("git rev-parse %s: unexpected output %q", rev, name)
	}
	return name, true, nil
}

// MergeBase implements Git with git merge-base.
func (g *GitCLI) MergeBase(ctx context.Context, a, b string) (string, bool, error) {
	if err := argSafe(a, b); err != nil {
		return "", false, err
	}
	out, err := g.output(ctx, nil, "merge-base", "--end-of-options", a, b)
	if code, ok := exitCode(err); ok && code == 1 {
		return "", false, nil // no common ancestor
	}
	if err != nil {
		return "", false, err
	}
	name := strings.TrimSpace(out)
	if _, err := commitName("git merge-base", name); err != nil {
		return "", false, fmt.Errorf("git merge-base: unexpected output %q", name)
	}
	return name, true, nil
}

// IsShallow implements Git with git rev-parse --is-shallow-repository.
func (g *GitCLI) IsShallow(ctx context.Context) (bool, error) {
	out, err := g.output(ctx, nil, "rev-parse", "--is-shallow-repository")
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(out) == "true", nil
}

// IsPartial implements Git with git config: a clone made or fetched with
// a filter (git clone --filter, actions/checkout's filter input) names its
// remote a promisor, or the repository's partial-clone remote.
func (g *GitCLI) IsPartial(ctx context.Context) (bool, error) {
	out, err := g.output(ctx, nil, "config", "--get-regexp", `^(extensions\.partialclone|remote\..*\.promisor)$`)
	if code, ok := exitCode(err); ok && code == 1 {
		return false, nil // no such setting
	}
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch k = strings.ToLower(k); {
		case k == "extensions.partialclone" && v != "":
			return true, nil
		case strings.HasSuffix(k, ".promisor"):
			switch strings.ToLower(v) {
			case "", "true", "yes", "on", "1":
				return true, nil
			}
		}
	}
	return false, nil
}

// Remotes implements Git with git remote.
func (g *GitCLI) Remotes(ctx context.Context) ([]string, error) {
	out, err := g.output(ctx, nil, "remote")
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

// RemoteBranches implements Git with git for-each-ref. A remote-tracking
// ref that points at an annotated tag is peeled to its commit; one that
// points at a tree or blob is left out.
func (g *GitCLI) RemoteBranches(ctx context.Context) ([]Branch, error) {
	out, err := g.output(ctx, nil, "for-each-ref",
		"--format=%(objectname)%00%(objecttype)%00%(*objectname)%00%(*objecttype)%00%(symref)%00%(refname)",
		"refs/remotes/")
	if err != nil {
		return nil, err
	}
	var bs []Branch
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, "\x00")
		if len(f) != 6 {
			continue
		}
		name, typ, peeled, peeledType, symref, ref := f[0], f[1], f[2], f[3], f[4], f[5]
		if symref != "" || strings.HasSuffix(ref, "/HEAD") {
			continue // origin/HEAD names a branch listed anyway
		}
		if typ == "tag" && peeledType == "commit" {
			name, typ = peeled, peeledType
		}
		if typ != "commit" {
			continue
		}
		bs = append(bs, Branch{Ref: ref, Commit: name})
	}
	return bs, nil
}

// NewCommits implements Git with git rev-list --boundary, the revisions
// given on standard input, so that thousands of branches do not make a
// command line too long. The output is counted as it streams: a new
// branch of a million commits costs no memory.
func (g *GitCLI) NewCommits(ctx context.Context, tip string, exclude []string) (int, []string, error) {
	if err := argSafe(append([]string{tip}, exclude...)...); err != nil {
		return 0, nil, err
	}
	var in strings.Builder
	// One revision a line; ^X excludes X (git before 2.42 takes no --not
	// on standard input).
	in.WriteString(tip + "\n")
	for _, x := range exclude {
		in.WriteString("^" + x + "\n")
	}
	cmd, stderr := g.command(ctx, strings.NewReader(in.String()), "rev-list", "--boundary", "--stdin")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, nil, err
	}
	if err := cmd.Start(); err != nil {
		return 0, nil, err
	}
	n := 0
	var boundary []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if b, ok := strings.CutPrefix(line, "-"); ok {
			boundary = append(boundary, b)
		} else if line != "" {
			n++
		}
	}
	scanErr := sc.Err()
	if scanErr != nil {
		_, _ = io.Copy(io.Discard, stdout)
	}
	if err := cmd.Wait(); err != nil {
		return 0, nil, gitError(cmd.Args, err, stderr)
	}
	return n, boundary, scanErr
}

// argSafe refuses a revision git could read as an option. Callers check
// their values first; this is the last line, should one slip through.
func argSafe(revs ...string) error {
	for _, r := range revs {
		if r == "" || r[0] == '-' || strings.IndexFunc(r, unsafeInName) >= 0 {
			return &Error{Kind: ErrBadValue, Message: fmt.Sprintf("refusing to pass %q to git as a revision", r)}
		}
	}
	return nil
}

// command is git with args in g.Dir, its stderr kept (bounded).
func (g *GitCLI) command(ctx context.Context, stdin io.Reader, args ...string) (*exec.Cmd, *boundedBuffer) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = g.Dir
	cmd.Env = g.Env
	cmd.Stdin = stdin
	stderr := &boundedBuffer{max: maxGitStderr}
	cmd.Stderr = stderr
	return cmd, stderr
}

// output runs git and returns its standard output.
func (g *GitCLI) output(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	cmd, stderr := g.command(ctx, stdin, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return "", gitError(cmd.Args, err, stderr)
	}
	return out.String(), nil
}

// gitError is a failed git command, with the first line of what it said.
func gitError(args []string, err error, stderr *boundedBuffer) error {
	msg, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
	if msg == "" {
		msg = err.Error()
	}
	return &commandError{args: args[1:], msg: msg, err: err}
}

// commandError is git's failure: the command, its message, and the
// *exec.ExitError for the exit status.
type commandError struct {
	args []string
	msg  string
	err  error
}

func (e *commandError) Error() string {
	return fmt.Sprintf("git %s: %s", strings.Join(e.args, " "), e.msg)
}

func (e *commandError) Unwrap() error { return e.err }

// exitCode returns git's exit status when err is one.
func exitCode(err error) (int, bool) {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), true
	}
	return 0, false
}

// boundedBuffer keeps the first max bytes written to it.
type boundedBuffer struct {
	buf bytes.Buffer
	max int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *boundedBuffer) String() string { return b.buf.String() }
