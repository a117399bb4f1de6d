package gitscan

import (
	"bytes"
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/scanner"
)

// Names. A key can be a name in a tree: a file saved under the token, a
// folder named after it. A walk of commits' trees (a range, --ref,
// --since, a push, a staged change, the commits only a reflog or nothing
// reaches) meets every name a commit adds, so it searches each (nearly
// none may hold a key, and the rules' searcher says so first) and reports
// a key in one at location finding.InPath: at the commit that added the
// name, under the path of the file or folder so named, with its author
// and date. A scan of the whole repository sweeps the packs and walks no
// commit unless it must: the sweep reads every tree too, and searches the
// names each tree adds to the tree it is stored as a delta of
// (treeNamesHoldKey); a key in one calls for the walk, which finds it
// again where it was added. Reading the trees costs such a scan of a
// history without keys 2–6% of its CPU (prometheus: 153,057 trees).

// nameHit is a key found in a name: the commit that added the name (its
// index in the selection; -1 for a staged change, orphanTree for a tree no
// commit reaches) and the finding, whose Path is the named file's or
// folder's (the name alone for orphanTree).
type nameHit struct {
	commit int
	f      finding.Finding
}

// nameLabel is the label the name at path p, added by commit c, is
// scanned under: the sink takes the two back (gitSink.nameFinding).
func nameLabel(c int, p string) string { return strconv.Itoa(c) + ":" + p }

// nameSearch searches the names a walk meets for keys, but not those of
// the paths the scan skips (as a scan of folders does not), with a worker
// of its own made at the first name that may hold one.
type nameSearch struct {
	r      *scanner.Run
	worker *scanner.Worker
}

// search searches the last element of path, which commit c added, for
// keys; dir says it names a folder.
func (n *nameSearch) search(c int32, path []byte, dir bool) {
	name := path[bytes.LastIndexByte(path, '/')+1:]
	if !scanner.MayHoldKey(name) {
		return
	}
	if skip := n.r.Options().Skip; skip != nil && skip(string(path), dir) {
		return
	}
	if n.worker == nil {
		n.worker = n.r.NewWorker()
	}
	n.worker.ScanName(nameLabel(int(c), finding.ValidPath(string(path))), string(name))
}

// treeNamesHoldKey reports whether a name among the entries of tree data
// at the offsets fresh (all of them when fresh is nil) holds a key, for
// worker w of the sweep of a whole repository (see Names), and gives each
// such name to found (when not nil; else it stops at the first). A tree
// whose entries do not parse holds none from there on: the walk, when a
// key in a blob calls for it, says what is wrong with it.
func treeNamesHoldKey(w *scanner.Worker, data []byte, fresh []int32, found func(name []byte)) bool {
	any := false
	hit := func(name []byte) bool {
		if !w.NameHoldsKey(name) {
			return false
		}
		any = true
		if found != nil {
			found(name)
		}
		return found == nil
	}
	if fresh == nil {
		// One search of the whole tree says whether any name may hold a
		// key: nearly none do.
		if !scanner.MayHoldKey(data) {
			return false
		}
		for len(data) > 0 {
			name, _, _, rest, err := gitobj.NextTreeEntry(data)
			if err != nil || hit(name) {
				return any
			}
			data = rest
		}
		return any
	}
	for _, off := range fresh {
		name, _, _, _, err := gitobj.NextTreeEntry(data[off:])
		if err == nil && hit(name) {
			return any
		}
	}
	return any
}

// refFinding passes on a finding of a ref's name (reportKeyedRefNames) at
// location finding.InRef, and reports whether f was one.
func (s *gitSink) refFinding(f finding.Finding) bool {
	if f.Location != finding.InPath || !strings.HasPrefix(f.Path, "refs/") {
		return false
	}
	f.Location = finding.InRef
	s.out.Finding(f)
	return true
}

// nameFinding keeps a finding of a name under its commit, and reports
// whether f was one.
func (s *gitSink) nameFinding(f finding.Finding) bool {
	if f.Location != finding.InPath {
		return false
	}
	c, p, ok := strings.Cut(f.Path, ":")
	n, err := strconv.Atoi(c)
	if !ok || err != nil {
		return false
	}
	f.Path = p
	s.mu.Lock()
	s.nameHits = append(s.nameHits, nameHit{n, f})
	s.fire()
	s.mu.Unlock()
	return true
}

// nameFindings turns the keys found in names into findings: each key at
// each path once, at the first commit that added it there, with that
// commit's author, date and subject, and whether HEAD's tree still has
// the name, at that path or another (a folder renamed or copied whole is
// one tree the walk does not enter again). A staged change's have no
// commit. They carry no exposure: where a name went is not counted.
func (a *attributor) nameFindings() []finding.Finding {
	a.gs.mu.Lock()
	hits := slices.Clone(a.gs.nameHits)
	a.gs.mu.Unlock()
	if len(hits) == 0 {
		return nil
	}
	slices.SortStableFunc(hits, func(x, y nameHit) int { return cmp.Compare(x.commit, y.commit) })
	var head plumbing.Hash
	if h, err := a.g.head(); err == nil && !h.IsZero() {
		if t, err := a.g.commitTree(h); err == nil {
			head = t
		}
	}
	wanted := map[string]bool{}
	for _, hit := range hits {
		wanted[hit.f.Path[strings.LastIndexByte(hit.f.Path, '/')+1:]] = true
	}
	var inHead map[string]bool
	if a.sel != nil {
		inHead = a.g.namesIn(head, wanted)
	}
	type place struct {
		fp, path  string
		line, col int
	}
	seen := map[place]bool{}
	var out []finding.Finding
	for _, hit := range hits {
		f := hit.f
		if k := (place{f.Fingerprint, f.Path, f.Line, f.Column}); seen[k] {
			continue
		} else {
			seen[k] = true
		}
		if a.sel != nil && hit.commit >= 0 && hit.commit < len(a.sel.commits) {
			c := &a.sel.commits[hit.commit]
			h := a.sel.hash(c)
			d := a.g.describe(h)
			f.Commit, f.Author, f.Email, f.Date, f.Message = h.String(), d.author, d.email, d.date, finding.RedactText(d.subject)
			f.Unreachable = c.reach == reachNothing
			in := inHead[f.Path[strings.LastIndexByte(f.Path, '/')+1:]]
			f.InHead = &in
		}
		// A name in a tree no commit reaches is unreachable; one in a tree a
		// ref holds (refHeldName, at "refs/tags/t:path") is not.
		f.Unreachable = f.Unreachable || hit.commit == orphanTree
		out = append(out, f)
	}
	finding.Sort(out)
	return out
}

// searchStagedNames searches the names a staged change adds: each part of
// the path of each changed file that HEAD's tree (head, nil before the
// first commit) does not have, once.
func (g *gitRepo) searchStagedNames(r *scanner.Run, head *plumbing.Hash, changed []string) {
	var wk *scanner.Worker
	searched := map[string]bool{}
	for _, p := range changed {
		if !scanner.MayHoldKey([]byte(p)) {
			continue
		}
		for prefix, name := range scanner.PathParts(p) {
			if searched[prefix] || !scanner.MayHoldKey([]byte(name)) {
				continue
			}
			searched[prefix] = true
			if head != nil {
				if _, _, had := g.findEntry(*head, prefix); had {
					continue
				}
			}
			if wk == nil {
				wk = r.NewWorker()
			}
			wk.ScanName(nameLabel(-1, finding.ValidPath(prefix)), name)
		}
	}
}

// namesIn returns which of the names wanted tree (zero: none) holds, at
// any depth: each tree read once, to the depth git itself takes.
func (g *gitRepo) namesIn(tree plumbing.Hash, wanted map[string]bool) map[string]bool {
	found := map[string]bool{}
	if tree.IsZero() || len(wanted) == 0 {
		return found
	}
	type level struct {
		h     plumbing.Hash
		depth int
	}
	seen := map[plumbing.Hash]bool{tree: true}
	stack := []level{{tree, 0}}
	for len(stack) > 0 && len(found) < len(wanted) {
		t := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		g.treeEntries(t.h, func(name []byte, mode filemode.FileMode, h plumbing.Hash) {
			if wanted[string(name)] {
				found[string(name)] = true
			}
			if mode == filemode.Dir && !seen[h] && t.depth < maxTreeDepth {
				seen[h] = true
				stack = append(stack, level{h, t.depth + 1})
			}
		})
	}
	return found
}
