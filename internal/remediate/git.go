package remediate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
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

// cmdReader is a child's standard output; Close stops the child.
type cmdReader struct {
	r      io.Reader
	cmd    *exec.Cmd
	cancel context.CancelFunc
}

func (c *cmdReader) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *cmdReader) Close() error {
	c.cancel() // the rest of the blob is not wanted
	c.cmd.Wait()
	return nil
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
// it), and its remotes.
func ReadFacts(ctx context.Context, dir string, commits []string) (Facts, error) {
	var f Facts
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
	f.Remotes, err = remotes(ctx, dir)
	return f, err
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
func remotes(ctx context.Context, dir string) ([]Remote, error) {
	out, err := gitOut(ctx, dir, "remote")
	if err != nil {
		return nil, err
	}
	var rs []Remote
	for _, name := range strings.Fields(out) {
		fetch, err := gitOut(ctx, dir, "remote", "get-url", "--", name)
		if err != nil {
			return nil, err
		}
		push, err := gitOut(ctx, dir, "remote", "get-url", "--push", "--", name)
		if err != nil {
			return nil, err
		}
		rs = append(rs, Remote{Name: name, FetchURL: strings.TrimSpace(fetch), PushURL: strings.TrimSpace(push)})
	}
	return rs, nil
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
