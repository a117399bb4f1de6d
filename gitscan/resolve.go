package gitscan

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/internal/nonblock"
)

// Revisions the user names (--ref, --range A..B, what a push updates) are
// resolved here, with the store's reader: go-git's ResolveRevision reads
// objects through its own storage, which loads every pack index whole
// first (452 MB for a pack of 4.3 million objects), and a range scan must
// cost what the range holds. Only "^{/message}" goes to go-git; forms
// neither knows (@{upstream}, @{yesterday}, rev:path) are errors, where
// go-git skips them silently and resolves another commit.

// resolve turns a revision the user gave (a branch, tag, remote-tracking
// branch, full ref, commit hash or unique abbreviation, a reflog entry
// NAME@{N}, with ~N, ^N, ^{} and ^{commit} suffixes) into a commit hash.
func (g *gitRepo) resolve(rev string) (plumbing.Hash, error) {
	p, err := parseRevision(rev)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%q: %w", rev, err)
	}
	if p.goGit {
		// ^{/message}: go-git searches the messages.
		h, err := g.repo.ResolveRevision(plumbing.Revision(rev))
		if err != nil || h == nil || h.IsZero() {
			return plumbing.ZeroHash, fmt.Errorf("%q: %w", rev, ErrUnknownRevision)
		}
		return *h, nil
	}
	h, err := g.resolveBase(p.base, p.reflog)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%q: %w", rev, err)
	}
	for _, op := range p.ops {
		if h, err = g.step(h, op); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("%q: %w", rev, err)
		}
	}
	return h, nil
}

// revision is a parsed revision: a base, the reflog entry of it (-1 for
// the ref itself), and suffixes.
type revision struct {
	base   string
	reflog int
	ops    []revOp
	goGit  bool // syntax left to go-git
}

// revOp is one suffix of a revision: ~n (the n-th first-parent ancestor)
// or ^n (the n-th parent; ^0 the commit itself).
type revOp struct {
	tilde bool
	n     int
}

// parseRevision parses rev. Syntax that cannot name a commit, or that
// this reader does not know (@{upstream}, @{yesterday}, rev:path), is an
// error: go-git would skip it silently and scan another commit.
func parseRevision(rev string) (revision, error) {
	p := revision{reflog: -1}
	unsupported := fmt.Errorf("%w: this form of revision is not supported here; give a branch, tag or commit hash, with ~N or ^N", ErrUnknownRevision)
	if rev == "" || strings.ContainsAny(rev, ": \t\n") {
		return p, unsupported
	}
	cut := strings.IndexAny(rev, "~^")
	if cut < 0 {
		cut = len(rev)
	}
	base, rest := rev[:cut], rev[cut:]
	if at := strings.Index(base, "@{"); at >= 0 {
		sel, ok := strings.CutSuffix(base[at+2:], "}")
		n, err := strconv.Atoi(sel)
		if !ok || err != nil || n < 0 || sel != strconv.Itoa(n) {
			return p, unsupported
		}
		base, p.reflog = base[:at], n
		if base == "" {
			base = "HEAD"
		}
	}
	if base == "@" {
		base = "HEAD"
	}
	if base == "" {
		return p, unsupported
	}
	p.base = base
	for rest != "" {
		c := rest[0]
		rest = rest[1:]
		if c == '^' && strings.HasPrefix(rest, "{") {
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				return p, unsupported
			}
			switch inner := rest[1:end]; {
			case inner == "" || inner == "commit":
				// Peel to a commit, which every base is.
			case strings.HasPrefix(inner, "/"):
				p.goGit = true
				return p, nil
			default:
				return p, fmt.Errorf("%w: ^{%s} does not name a commit", ErrUnknownRevision, inner)
			}
			rest = rest[end+1:]
			continue
		}
		digits := len(rest) - len(strings.TrimLeft(rest, "0123456789"))
		n := 1
		if digits > 0 {
			v, err := strconv.Atoi(rest[:digits])
			if err != nil || v > 1<<20 {
				return p, unsupported
			}
			n = v
		}
		rest = rest[digits:]
		p.ops = append(p.ops, revOp{tilde: c == '~', n: n})
	}
	return p, nil
}

// resolveBase resolves a revision's base to a commit, as git does: a full
// hash, then a ref by git's rules (NAME, refs/NAME, refs/tags/NAME,
// refs/heads/NAME, refs/remotes/NAME, refs/remotes/NAME/HEAD), then an
// abbreviated hash that names one commit (or a tag of one). With reflog
// >= 0 it is that entry of the ref's reflog instead (0 the newest).
func (g *gitRepo) resolveBase(base string, reflog int) (plumbing.Hash, error) {
	if reflog >= 0 {
		return g.reflogEntry(base, reflog)
	}
	if len(base) == 40 && plumbing.IsHash(base) {
		if c, err := g.peelToCommit(plumbing.NewHash(base)); err == nil && !c.IsZero() {
			return c, nil
		}
		return plumbing.ZeroHash, ErrUnknownRevision
	}
	for _, rule := range plumbing.RefRevParseRules {
		name := plumbing.ReferenceName(fmt.Sprintf(rule, base))
		ref, err := storer.ResolveReference(g.st, name)
		if err != nil {
			continue
		}
		c, err := g.peelToCommit(ref.Hash())
		if errors.Is(err, errTagChain) {
			return plumbing.ZeroHash, fmt.Errorf("%w: %s: %v", ErrUnknownRevision, name, err)
		}
		if err != nil || c.IsZero() {
			return plumbing.ZeroHash, fmt.Errorf("%w: %s does not name a commit", ErrUnknownRevision, name)
		}
		return c, nil
	}
	if len(base) >= 4 && len(base) < 40 {
		var found []plumbing.Hash
		for _, h := range g.store.WithPrefix(base, 64) {
			if c, err := g.peelToCommit(h); err == nil && !c.IsZero() && !slices.Contains(found, c) {
				found = append(found, c)
			}
		}
		switch len(found) {
		case 1:
			return found[0], nil
		case 0:
		default:
			return plumbing.ZeroHash, fmt.Errorf("%w: the abbreviation is ambiguous: %d commits start with it; give more of the hash", ErrUnknownRevision, len(found))
		}
	}
	return plumbing.ZeroHash, ErrUnknownRevision
}

// reflogEntry returns entry n (0 the newest) of the reflog of ref name,
// found by the same rules as refs: the first that has a reflog.
func (g *gitRepo) reflogEntry(name string, n int) (plumbing.Hash, error) {
	for _, rule := range plumbing.RefRevParseRules {
		full := fmt.Sprintf(rule, name)
		dir := g.loc.CommonDir
		if !strings.HasPrefix(full, "refs/") {
			dir = g.loc.GitDir // HEAD and the like are per worktree
		}
		name := filepath.Join(dir, "logs", filepath.FromSlash(full))
		count, _, err := reflogLine(name, -1)
		if err != nil {
			continue
		}
		if n >= count {
			return plumbing.ZeroHash, fmt.Errorf("%w: the reflog of %s has only %d entries", ErrUnknownRevision, full, count)
		}
		_, line, err := reflogLine(name, count-1-n)
		f := strings.Fields(line)
		if err != nil || len(f) < 2 || !plumbing.IsHash(f[1]) {
			return plumbing.ZeroHash, fmt.Errorf("%w: entry %d of the reflog of %s does not parse", ErrUnknownRevision, n, full)
		}
		c, err := g.peelToCommit(plumbing.NewHash(f[1]))
		if err != nil || c.IsZero() {
			return plumbing.ZeroHash, fmt.Errorf("%w: entry %d of the reflog of %s is not a commit", ErrUnknownRevision, n, full)
		}
		return c, nil
	}
	return plumbing.ZeroHash, fmt.Errorf("%w: no reflog for %s", ErrUnknownRevision, name)
}

// reflogLine reads the reflog file name a line at a time: it returns how
// many lines it has, and the start of line i (0 the oldest; up to
// maxReflogLine bytes, which hold the object names). A reflog can hold
// millions of entries: it is never read whole.
func reflogLine(name string, i int) (count int, line string, err error) {
	f, _, err := nonblock.OpenRegular(name)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	err = nonblock.EachLine(f, maxReflogLine, func(b []byte, _ bool) {
		if count == i {
			line = string(b)
		}
		count++
	})
	return count, line, err
}

// step applies one suffix to commit h.
func (g *gitRepo) step(h plumbing.Hash, op revOp) (plumbing.Hash, error) {
	if !op.tilde && op.n == 0 {
		return h, nil
	}
	times, nth := op.n, 0
	if !op.tilde {
		times, nth = 1, op.n-1
	}
	for range times {
		c, err := g.readCommit(h)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if nth >= len(c.Parents) {
			return plumbing.ZeroHash, fmt.Errorf("%w: commit %s has %d parent(s)", ErrUnknownRevision, shortHash(h), len(c.Parents))
		}
		h = c.Parents[nth]
	}
	// The parent a commit names may not be here: a shallow clone's history
	// stops at commits whose parents it never fetched (HEAD~1 with
	// fetch-depth 1), as a partial copy's may. git says the revision is
	// unknown; so do we, rather than fail later reading it.
	if _, err := g.readCommit(h); err != nil {
		return plumbing.ZeroHash, err
	}
	return h, nil
}

// readCommit reads commit h's tree, parents and committer time.
func (g *gitRepo) readCommit(h plumbing.Hash) (gitobj.CommitHead, error) {
	data, err := g.commitHead(h) // a big commit: its head
	if err != nil {
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return gitobj.CommitHead{}, fmt.Errorf("%w: commit %s is missing", ErrUnknownRevision, shortHash(h))
		}
		return gitobj.CommitHead{}, err
	}
	return gitobj.ParseCommit(data)
}
