package gitscan

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/scanner"
)

// submodule is a repository that HEAD's tree includes by reference (a
// gitlink). Its history is not in the superproject's objects: a history scan
// does not see its content unless asked to scan it as well.
type submodule struct {
	Path   string      // where HEAD's tree puts it, slash-separated
	Name   string      // its name in .gitmodules ("" when .gitmodules lacks it)
	Commit string      // the commit HEAD's tree pins
	Repo   *Repository // its own repository under .git/modules, nil when not checked out
	// Crafted is set for a path git never checks out (see craftedPath): its
	// repository is not looked for.
	Crafted bool
}

// craftedPath reports whether p, a path from a tree, has a part git
// refuses to check out: empty, ".", "..", ".git" in any case, or one with
// a backslash (a separator on Windows). git fsck rejects such trees, but
// git mktree and a push without fsck let them in, and such a path would
// point the lookup of a submodule's repository (.git/modules/<path>) and
// its work tree at another repository on the same disk
// ("../../../../other/.git").
func craftedPath(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." || strings.EqualFold(part, ".git") || strings.ContainsRune(part, '\\') {
			return true
		}
	}
	return false
}

// listSubmodules returns the submodules in HEAD's tree, in path order, with
// the repository each is checked out to when `git submodule update --init`
// has fetched it, and how many entries of .gitmodules could not be read.
func listSubmodules(ctx context.Context, repo *Repository) ([]submodule, int, error) {
	g, err := repo.open(tuning{})
	if err != nil {
		return nil, 0, err
	}
	defer g.close()
	head, err := g.head()
	if err != nil || head.IsZero() {
		return nil, 0, err
	}
	tree, err := g.commitTree(head)
	if err != nil {
		return nil, 0, err
	}
	var (
		out     []submodule
		modules plumbing.Hash // .gitmodules
		broken  error
	)
	links := g.linkTrees(ctx, tree)
	w := &treeWalk{g: g, entry: func(dir string, name []byte, mode filemode.FileMode, h plumbing.Hash) bool {
		switch {
		case mode == filemode.Submodule:
			if len(out) == maxSubmodules {
				broken = cmp.Or(broken, fmt.Errorf("HEAD's tree holds more than %d submodules (gitlinks)", maxSubmodules))
				return false
			}
			out = append(out, submodule{Path: dir + string(name), Commit: h.String()})
		case dir == "" && string(name) == ".gitmodules" && mode.IsFile():
			modules = h
		}
		return mode == filemode.Dir && links[h]
	}, broken: func(dir string, h plumbing.Hash, err error) {
		if broken == nil {
			broken = fmt.Errorf("tree %s of %s: %w", h, dir, err)
		}
	}}
	w.walk(ctx, tree, "")
	if broken != nil {
		return out, 0, broken
	}
	var names map[string]string
	bad := 0
	if !modules.IsZero() {
		if _, data, err := g.rd.Read(modules); err == nil {
			names, bad = moduleNames(data[:min(len(data), 1<<20)])
		}
	}
	for i := range out {
		if craftedPath(out[i].Path) {
			out[i].Crafted = true
			continue
		}
		out[i].Name = names[out[i].Path]
		out[i].Repo = submoduleRepo(repo, out[i])
	}
	slices.SortFunc(out, func(a, b submodule) int { return strings.Compare(a.Path, b.Path) })
	return out, bad, nil
}

// maxSubmodules is how many submodules listSubmodules lists: the paths
// to them can be as many as the tree's folders can be combined (linkTrees).
const maxSubmodules = 100_000

// linkTrees tells, of each tree under root (root too), whether it holds a
// gitlink at any depth, reading each tree once; a tree that cannot be read
// counts as one that does, for the walk to go in and report it. The walk
// that lists submodules by path goes only into those: a tree is a graph,
// and one whose folders each hold the next one twice lists 2^20 paths
// with 21 trees (a 1 KB repository took 18 s of CPU to list, 2^24 was
// 5 minutes, and 2^40 would never end), where git's own listing of
// submodules reads the index.
func (g *gitRepo) linkTrees(ctx context.Context, root plumbing.Hash) map[plumbing.Hash]bool {
	has := map[plumbing.Hash]bool{} // every tree met, and whether it holds a gitlink
	type frame struct {
		h    plumbing.Hash
		kids []plumbing.Hash // its folders not yet looked at
		link bool
	}
	var stack []frame
	open := func(h plumbing.Hash) {
		f := frame{h: h}
		err := g.treeEntries(h, func(_ []byte, mode filemode.FileMode, eh plumbing.Hash) {
			switch mode {
			case filemode.Submodule:
				f.link = true
			case filemode.Dir:
				f.kids = append(f.kids, eh)
			}
		})
		if err != nil {
			f.link, f.kids = true, nil
		}
		has[h] = false // in the walk: a crafted tree that holds itself holds nothing more
		stack = append(stack, f)
	}
	open(root)
	for len(stack) > 0 && ctx.Err() == nil {
		f := &stack[len(stack)-1]
		if len(f.kids) == 0 {
			has[f.h] = f.link
			stack = stack[:len(stack)-1]
			if f.link && len(stack) > 0 {
				stack[len(stack)-1].link = true
			}
			continue
		}
		k := f.kids[len(f.kids)-1]
		f.kids = f.kids[:len(f.kids)-1]
		if link, met := has[k]; met {
			f.link = f.link || link
			continue
		}
		if len(stack) >= maxTreeDepth {
			f.link = true // for the walk to go in and report it
			continue
		}
		open(k)
	}
	return has
}

// moduleNames reads the name of each submodule path from .gitmodules, and
// how many of its entries could not be read. go-git's parser gives up on
// the whole file at one bad byte (a NUL in one path, say), which would
// lose every submodule's name: then each entry is parsed by itself.
func moduleNames(data []byte) (map[string]string, int) {
	names := map[string]string{} // path → name
	add := func(m *config.Modules) {
		for name, s := range m.Submodules {
			names[path.Clean(s.Path)] = name
		}
	}
	m := config.NewModules()
	if m.Unmarshal(data) == nil {
		add(m)
		return names, 0
	}
	bad := 0
	for _, entry := range splitSections(data) {
		m := config.NewModules()
		if m.Unmarshal(entry) != nil {
			bad++
			continue
		}
		add(m)
	}
	return names, bad
}

// splitSections cuts a git config file into its sections: each starts at
// a line whose first non-blank character is '['.
func splitSections(data []byte) [][]byte {
	var out [][]byte
	start := 0
	for i := 0; i < len(data); {
		nl := bytes.IndexByte(data[i:], '\n')
		end := len(data)
		if nl >= 0 {
			end = i + nl + 1
		}
		if line := bytes.TrimLeft(data[i:end], " \t"); len(line) > 0 && line[0] == '[' && i > start {
			out = append(out, data[start:i])
			start = i
		}
		i = end
	}
	if start < len(data) {
		out = append(out, data[start:])
	}
	return out
}

// submoduleRepo finds a submodule's repository the way git lays it out:
// .git/modules/<name> in the superproject's common dir, with the work tree
// at the submodule's path.
func submoduleRepo(super *Repository, sm submodule) *Repository {
	candidates := []string{}
	if sm.Name != "" {
		candidates = append(candidates, filepath.Join(super.CommonDir, "modules", filepath.FromSlash(sm.Name)))
	}
	candidates = append(candidates, filepath.Join(super.CommonDir, "modules", filepath.FromSlash(sm.Path)))
	for _, dir := range candidates {
		if fi, err := os.Stat(filepath.Join(dir, "objects")); err == nil && fi.IsDir() {
			wt := ""
			if super.WorkTree != "" {
				wt = filepath.Join(super.WorkTree, filepath.FromSlash(sm.Path))
			}
			if r, err := RepositoryAt(dir, wt); err == nil {
				return r
			}
		}
	}
	return nil
}

// ScanSubmodules deals with the submodules of HEAD's tree: with recurse,
// it scans the whole history of each checked-out one, reporting paths below
// the submodule's path ("lib/vendored/config.env"); otherwise, and for one
// that is not checked out, it warns that the submodule was not scanned:
// its content is not in this repository's objects.
func ScanSubmodules(ctx context.Context, s *scanner.Scanner, repo *Repository, recurse bool, sink scanner.Sink) (finding.Stats, error) {
	r := s.Start(sink)
	subs, bad, err := listSubmodules(ctx, repo)
	if err != nil {
		r.Warn("", "cannot list submodules: %v", err)
		return r.Stats(), nil // the repository itself was scanned: go on
	}
	if bad > 0 {
		r.Warn(".gitmodules", "%d of its entries cannot be read: the submodules they name are looked for under their paths", bad)
	}
	// The inner scans' counts add up; this run's own clock spans them all.
	// It reads nothing itself: the files and bytes its Stats may show are
	// the inner scans', when they share the Scanner's Progress.
	done := func(total finding.Stats) finding.Stats {
		own := r.Stats()
		own.Files, own.Bytes = 0, 0
		total = total.Add(own)
		total.Duration = own.Duration
		return total
	}
	total := finding.Stats{}
	for _, sm := range subs {
		switch {
		case sm.Crafted:
			r.Warn(sm.Path, "submodule path has a part git never checks out ('..', '.', '.git'): a crafted tree; not scanned, and no repository outside this one is opened for it")
		case !recurse:
			r.Skip(sm.Path, "submodule not scanned: run with --recurse-submodules to scan its history too")
		case sm.Repo == nil:
			r.Skip(sm.Path, "submodule is not checked out (git submodule update --init): not scanned")
		default:
			st, err := ScanHistory(ctx, s, sm.Repo, HistoryOptions{}, &prefixSink{prefix: sm.Path + "/", sink: sink})
			total = total.Add(st)
			if err != nil {
				return done(total), err
			}
		}
	}
	return done(total), nil
}

// prefixSink puts a folder in front of the paths it passes on.
type prefixSink struct {
	prefix string
	sink   scanner.Sink
}

func (p *prefixSink) Finding(f finding.Finding) {
	f.Path = p.prefix + f.Path
	p.sink.Finding(f)
}

func (p *prefixSink) Skipped(w finding.Warning) {
	if w.Path != "" {
		w.Path = p.prefix + w.Path
	}
	scanner.Skipped(p.sink, w)
}

func (p *prefixSink) Warning(w finding.Warning) {
	if w.Path != "" {
		w.Path = p.prefix + w.Path
	}
	p.sink.Warning(w)
}
