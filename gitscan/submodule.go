package gitscan

import (
	"context"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Submodule is a repository that HEAD's tree includes by reference (a
// gitlink). Its history is not in the superproject's objects: a history scan
// does not see its content unless asked to scan it as well.
type Submodule struct {
	Path   string      // where HEAD's tree puts it, slash-separated
	Name   string      // its name in .gitmodules ("" when .gitmodules lacks it)
	Commit string      // the commit HEAD's tree pins
	Repo   *Repository // its own repository under .git/modules, nil when not checked out
}

// ListSubmodules returns the submodules in HEAD's tree, in path order, with
// the repository each is checked out to when `git submodule update --init`
// has fetched it.
func ListSubmodules(repo *Repository) ([]Submodule, error) {
	g, err := repo.open()
	if err != nil {
		return nil, err
	}
	defer g.close()
	head, err := g.head()
	if err != nil || head.IsZero() {
		return nil, err
	}
	commit, err := object.GetCommit(g.st, head)
	if err != nil {
		return nil, err
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, err
	}
	names := map[string]string{} // path → name, from .gitmodules
	if f, err := tree.File(".gitmodules"); err == nil {
		if r, err := f.Reader(); err == nil {
			data, _ := io.ReadAll(io.LimitReader(r, 1<<20))
			r.Close()
			m := config.NewModules()
			if m.Unmarshal(data) == nil {
				for name, s := range m.Submodules {
					names[path.Clean(s.Path)] = name
				}
			}
		}
	}
	var out []Submodule
	w := object.NewTreeWalker(tree, true, nil)
	defer w.Close()
	for {
		name, entry, err := w.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, err
		}
		if entry.Mode != filemode.Submodule {
			continue
		}
		sm := Submodule{Path: name, Name: names[name], Commit: entry.Hash.String()}
		sm.Repo = submoduleRepo(repo, sm)
		out = append(out, sm)
	}
	slices.SortFunc(out, func(a, b Submodule) int {
		if a.Path < b.Path {
			return -1
		}
		if a.Path > b.Path {
			return 1
		}
		return 0
	})
	return out, nil
}

// submoduleRepo finds a submodule's repository the way git lays it out:
// .git/modules/<name> in the superproject's common dir, with the work tree
// at the submodule's path.
func submoduleRepo(super *Repository, sm Submodule) *Repository {
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
func (s *Scanner) ScanSubmodules(ctx context.Context, repo *Repository, recurse bool, sink Sink) (Stats, error) {
	r := s.newRun(sink)
	subs, err := ListSubmodules(repo)
	if err != nil {
		r.warn("", "cannot list submodules: %v", err)
		return r.stats(), nil // the repository itself was scanned: go on
	}
	// The inner scans' counts add up; this run's own clock spans them all.
	done := func(total Stats) Stats {
		own := r.stats()
		total = total.Add(own)
		total.Duration = own.Duration
		return total
	}
	total := Stats{}
	for _, sm := range subs {
		switch {
		case !recurse:
			r.skip(sm.Path, "submodule not scanned: run with --recurse-submodules to scan its history too")
		case sm.Repo == nil:
			r.skip(sm.Path, "submodule is not checked out (git submodule update --init): not scanned")
		default:
			st, err := s.ScanGit(ctx, sm.Repo, GitOptions{}, &prefixSink{prefix: sm.Path + "/", sink: sink})
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
	sink   Sink
}

func (p *prefixSink) Finding(f Finding) {
	f.Path = p.prefix + f.Path
	p.sink.Finding(f)
}

func (p *prefixSink) Warning(w Warning) {
	if w.Path != "" {
		w.Path = p.prefix + w.Path
	}
	p.sink.Warning(w)
}
