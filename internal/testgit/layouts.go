package testgit

import (
	"path/filepath"
	"testing"
)

// Layout is a way a repository's objects can be stored, for tests that an
// object reader reads each exactly as go-git does.
type Layout struct {
	Name      string
	RefDeltas bool // the packs hold reference deltas
	// Build makes a repository stored this way, with history writing n
	// commits tagged tag into it.
	Build func(t *testing.T, history func(r *Repo, n int, tag string)) *Repo
}

// Layouts are loose objects, one pack with deep delta chains, several
// packs and loose objects, and a pack completed by fetch (reference deltas
// to bases appended after them).
func Layouts() []Layout {
	return []Layout{
		{Name: "loose", Build: func(t *testing.T, history func(*Repo, int, string)) *Repo {
			r := New(t, "")
			history(r, 6, "loose")
			return r
		}},
		{Name: "one pack, deep chains", Build: func(t *testing.T, history func(*Repo, int, string)) *Repo {
			r := New(t, "")
			history(r, 30, "deep")
			r.Git("repack", "-a", "-d", "-f", "--depth=250", "--window=250", "-q")
			return r
		}},
		{Name: "several packs and loose", Build: func(t *testing.T, history func(*Repo, int, string)) *Repo {
			r := New(t, "")
			history(r, 8, "first")
			r.Git("repack", "-d", "-q")
			history(r, 8, "second")
			r.Git("repack", "-d", "-q")
			history(r, 3, "third") // stays loose
			return r
		}},
		{Name: "fetched pack with reference deltas", RefDeltas: true, Build: func(t *testing.T, history func(*Repo, int, string)) *Repo {
			up := New(t, "")
			history(up, 10, "upstream")
			up.Git("gc", "-q")
			r := up.At(t, filepath.Join(t.TempDir(), "clone"))
			up.GitIn(filepath.Dir(r.Dir), "clone", "-q", "file://"+up.Dir, r.Dir)
			history(up, 10, "more")
			// Keep the fetched pack as a pack: index-pack --fix-thin
			// appends the bases the thin pack left out, after the
			// reference deltas that use them.
			r.Git("-c", "fetch.unpackLimit=1", "-c", "transfer.unpackLimit=1", "fetch", "-q", "origin")
			return r
		}},
	}
}
