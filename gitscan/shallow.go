package gitscan

import (
	"path/filepath"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/nonblock"
)

// shallowCommits returns the commits the repository's shallow file names
// (a shallow clone's history is cut there: their parents were never
// fetched), read once. Only the names of objects the repository holds are
// kept: go-git kept a hash for every line, whatever it held, and a 256
// MiB shallow file of hash-like lines took 550 MB; a commit that is not
// here is never read, so whether its parents are cut does not matter.
// Lines are read one at a time; a line over 4 KiB is not one git wrote,
// and is skipped.
func (g *gitRepo) shallowCommits() map[plumbing.Hash]bool {
	g.shallowOnce.Do(func() {
		g.shallow = map[plumbing.Hash]bool{}
		f, _, err := nonblock.OpenRegular(filepath.Join(g.loc.CommonDir, "shallow"))
		if err != nil {
			return
		}
		defer f.Close()
		_ = nonblock.EachLine(f, maxReflogLine, func(line []byte, _ bool) { // a read error: the rest is not read
			if len(line) >= 40 && (len(line) == 40 || line[40] == '\n' || line[40] == '\r') && plumbing.IsHash(string(line[:40])) {
				if h := plumbing.NewHash(string(line[:40])); g.has(h) {
					g.shallow[h] = true
				}
			}
		})
	})
	return g.shallow
}

// has reports whether the repository holds object h, without reading it.
func (g *gitRepo) has(h plumbing.Hash) bool {
	if g.tune.mode == readGoGit {
		return g.objs.HasEncodedObject(h) == nil
	}
	return g.store.Has(h)
}
