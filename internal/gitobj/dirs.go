package gitobj

import (
	"path/filepath"

	"github.com/go-git/go-git/v5/plumbing/storer"
)

// OpenDirs opens several object folders as one store, searched in the
// order given, each with the folders its info/alternates file names. It
// is how a pre-receive hook reads a push: git keeps the pushed objects in
// a quarantine folder (GIT_OBJECT_DIRECTORY) until the hook accepts them,
// and names the repository's own folder as an alternate
// (GIT_ALTERNATE_OBJECT_DIRECTORIES), so the new objects are nowhere the
// repository's own object folder leads.
//
// fallback is go-git's storage of the repository, as for Open: only the
// base of Storer; objects are read by the store alone.
func OpenDirs(dirs []string, fallback storer.EncodedObjectStorer) *Store {
	s := &Store{fallback: fallback}
	for _, d := range dirs {
		if d != "" {
			s.add(filepath.Clean(d), 0)
		}
	}
	s.opened()
	return s
}
