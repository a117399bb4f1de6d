package gitscan

import (
	"bytes"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/nonblock"
	"github.com/loftyscan/loftyscan/scanner"
)

// Refs. go-git lists a repository's refs, but gives up on all of them at
// the first line of packed-refs it cannot read; a scan that gave up there
// would report nothing of a repository whose every commit is readable.
// When go-git's listing fails, the refs are read here instead, leniently:
// the loose refs, and every line of packed-refs that reads.

// maxRefLine is the longest line of packed-refs read: a hash and a name.
const maxRefLine = 64 << 10

// refs lists the refs that point at an object (symbolic refs are left
// out: they name other refs). When go-git cannot list them, it warns, once,
// and lists what it can read itself.
func (g *gitRepo) refs(r *scanner.Run) []*plumbing.Reference {
	g.refsMu.Lock()
	defer g.refsMu.Unlock()
	if !g.refsRead {
		g.refList, g.refsRead = g.listRefs(r), true
	}
	return g.refList
}

// listedRefs returns the refs that point at an object as refs listed them
// when the scan has, or else as go-git lists them (an error when it cannot,
// with no warning, and those listed before it). go-git reads all of packed-refs for each listing: a
// million refs cost a second and a few hundred MB a time, and exposure and
// the tags of messages each listed them once more.
func (g *gitRepo) listedRefs() ([]*plumbing.Reference, error) {
	g.refsMu.Lock()
	read, list := g.refsRead, g.refList
	g.refsMu.Unlock()
	if read {
		return list, nil
	}
	return g.goGitRefs()
}

// goGitRefs lists the refs that point at an object as go-git reads them,
// with its error and those listed before it.
func (g *gitRepo) goGitRefs() ([]*plumbing.Reference, error) {
	iter, err := g.st.IterReferences()
	if err != nil {
		return nil, err
	}
	var out []*plumbing.Reference
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		if ref.Type() == plumbing.HashReference {
			out = append(out, ref)
		}
		return nil
	})
	return out, err
}

// reportKeyedRefNames reports each ref whose name holds a key (a branch
// named after a pasted key) at location finding.InRef: no file holds it
// and no rewrite of files removes it, while everyone who can list the
// repository's refs (and every remote it was pushed to) sees it. The name
// is searched whole as one name, under itself as its label, which
// gitSink.refFinding knows by its "refs/" (a name's label starts with its
// commit's number, a blob's with its hash).
func (g *gitRepo) reportKeyedRefNames(r *scanner.Run) {
	var w *scanner.Worker
	for _, ref := range g.refs(r) {
		name := ref.Name().String()
		if !strings.HasPrefix(name, "refs/") || !scanner.MayHoldKey([]byte(name)) {
			continue
		}
		if w == nil {
			w = r.NewWorker()
		}
		w.ScanName(finding.ValidPath(name), name)
	}
}

func (g *gitRepo) listRefs(r *scanner.Run) []*plumbing.Reference {
	out, err := g.goGitRefs()
	if err == nil {
		return out
	}
	refs, bad := g.readRefs()
	r.Fail("", "cannot read every ref (%v): scanned the history of the %d ref(s) that read, loose or in packed-refs, and left out %d line(s) of packed-refs that did not; run 'git fsck' to check the repository", err, len(refs), bad)
	return refs
}

// readRefs reads the loose refs under refs/ and the lines of packed-refs
// that hold a hash and a name; a loose ref wins over a packed one of the
// same name, as in git. It returns how many lines of packed-refs were
// not read.
func (g *gitRepo) readRefs() ([]*plumbing.Reference, int) {
	byName := map[plumbing.ReferenceName]plumbing.Hash{}
	bad := readPackedRefs(filepath.Join(g.loc.CommonDir, "packed-refs"), byName)
	root := filepath.Join(g.loc.CommonDir, "refs")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(g.loc.CommonDir, p)
		if err != nil {
			return nil
		}
		if h, ok := readLooseRef(p); ok {
			byName[plumbing.ReferenceName(filepath.ToSlash(rel))] = h
		}
		return nil
	})
	var out []*plumbing.Reference
	for name, h := range byName {
		out = append(out, plumbing.NewHashReference(name, h))
	}
	return out, bad
}

// readPackedRefs adds the refs of the packed-refs file at p to refs, and
// returns how many lines held none.
func readPackedRefs(p string, refs map[plumbing.ReferenceName]plumbing.Hash) int {
	f, _, err := nonblock.OpenRegular(p)
	if err != nil {
		return 0
	}
	defer f.Close()
	bad := 0
	_ = nonblock.EachLine(f, maxRefLine, func(line []byte, cut bool) { // a read error: the rest is not read
		if cut {
			bad++
			return
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) > 0 && line[0] != '#' && line[0] != '^' {
			hash, name, ok := strings.Cut(string(line), " ")
			if ok && plumbing.IsHash(hash) && strings.HasPrefix(name, "refs/") && !strings.ContainsAny(name, " \x00") {
				refs[plumbing.ReferenceName(name)] = plumbing.NewHash(hash)
			} else {
				bad++
			}
		}
	})
	return bad
}

// readLooseRef reads a loose ref file: a hash (a symbolic ref is not one).
func readLooseRef(p string) (plumbing.Hash, bool) {
	f, _, err := nonblock.OpenRegular(p)
	if err != nil {
		return plumbing.ZeroHash, false
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, 128))
	s := strings.TrimSpace(string(b))
	if !plumbing.IsHash(s) {
		return plumbing.ZeroHash, false
	}
	return plumbing.NewHash(s), true
}
