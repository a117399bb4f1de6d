package gitscan

import (
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
}

// listSubmodules returns the submodules in HEAD's tree, in path order, with
// the repository each is checked out to when `git submodule update --init`
// has fetched it.
func listSubmodules(ctx context.Context, repo *Repository) ([]submodule, error) {
	g, err := repo.open(tuning{})
	if err != nil {
		return nil, err
	}
	defer g.close()
	head, err := g.head()
	if err != nil || head.IsZero() {
		return nil, err
	}
	tree, err := g.commitTree(head)
	if err != nil {
		return nil, err
	}
	var (
		out     []submodule
		modules plumbing.Hash // .gitmodules
		broken  error
	)
	w := &treeWalk{g: g, entry: func(dir string, name []byte, mode filemode.FileMode, h plumbing.Hash) bool {
		switch {
		case mode == filemode.Submodule:
			out = append(out, submodule{Path: dir + string(name), Commit: h.String()})
		case dir == "" && string(name) == ".gitmodules" && mode.IsFile():
			modules = h
		}
		return mode == filemode.Dir
	}, broken: func(dir string, h plumbing.Hash, err error) {
		if broken == nil {
			broken = fmt.Errorf("tree %s of %s: %w", h, dir, err)
		}
	}}
	w.walk(ctx, tree, "")
	if broken != nil {
		return out, broken
	}
	names := map[string]string{} // path → name, from .gitmodules
	if !modules.IsZero() {
		if _, data, err := g.rd.Read(modules); err == nil {
			m := config.NewModules()
			if m.Unmarshal(data[:min(len(data), 1<<20)]) == nil {
				for name, s := range m.Submodules {
					names[path.Clean(s.Path)] = name
				}
			}
		}
	}
	for i := range out {
		out[i].Name = names[out[i].Path]
		out[i].Repo = submoduleRepo(repo, out[i])
	}
	slices.SortFunc(out, func(a, b submodule) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
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
	subs, err := listSubmodules(ctx, repo)
	if err != nil {
		r.Warn("", "cannot list submodules: %v", err)
		return r.Stats(), nil // the repository itself was scanned: go on
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
