package gitobj

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/loftyscan/loftyscan/internal/nonblock"
)

// Store is a repository's object folder (and those its alternates name):
// its packs, newest first, and its loose objects. Once open it is
// read-only: any number of Readers read it at once.
type Store struct {
	packs   []*packFile
	dirs    []string // object folders, for loose objects
	damaged []error  // packs that did not open, and why
	unread  []error  // what alternates files named that was not read (readAlternates)

	// viaGoGit is set for a store without an object folder of its own:
	// every object is read through fallback, go-git's storage.
	viaGoGit   bool
	fallback   storer.EncodedObjectStorer // go-git's storage; nil for none
	fallbackMu sync.Mutex                 // go-git's storage is read by one goroutine at a time

	looseOnce sync.Once
	loose     []plumbing.Hash
	looseSet  map[plumbing.Hash]bool

	graphOnce sync.Once
	graph     *CommitGraph

	// A store of multiPacks packs or more looks names up in one table of
	// all of them (multiTable), built after multiAfter lookups.
	multiAfter int64
	lookups    atomic.Int64 // lookups so far, until multi is built
	multi      atomic.Pointer[multiTable]
}

// Open opens the packs of the object folder objectsDir and of the folders
// its info/alternates file names. Packs that do not open (damaged, or of
// a format this reader does not know, such as a SHA-256 repository's) are
// left out, and listed by Damaged: the objects only they hold are missing.
//
// With objectsDir empty, every object is read through fallback, go-git's
// storage of the same repository: the reference the store's own reading
// is tested against. fallback is otherwise only the base of Storer.
func Open(objectsDir string, fallback storer.EncodedObjectStorer) *Store {
	s := &Store{viaGoGit: objectsDir == "", fallback: fallback}
	if objectsDir != "" {
		s.add(filepath.Clean(objectsDir), 0)
	}
	s.opened()
	return s
}

// opened sets what depends on the packs once they are open: when the
// table of all their names is built (multiTable). A lookup asks every
// pack before the one that holds the name, and every pack for a name
// none holds: the table is built once the lookups have cost about what
// building it does, fewer the more packs there are.
func (s *Store) opened() {
	if len(s.packs) >= multiPacks {
		s.multiAfter = int64(s.Packed()/4+hashAfter) / int64(len(s.packs))
	}
}

// add opens the packs of an object folder, then its alternates.
func (s *Store) add(dir string, depth int) {
	for _, d := range s.dirs {
		if d == dir {
			return
		}
	}
	s.dirs = append(s.dirs, dir)
	names, _ := filepath.Glob(filepath.Join(dir, "pack", "*.idx"))
	// Newest first, as git looks them up: a pack fetched last most
	// often holds what is asked for.
	type named struct {
		name string
		mod  int64
	}
	var ns []named
	for _, n := range names {
		var mod int64
		if fi, err := os.Stat(strings.TrimSuffix(n, ".idx") + ".pack"); err == nil {
			mod = fi.ModTime().UnixNano()
		}
		ns = append(ns, named{n, mod})
	}
	sort.SliceStable(ns, func(i, j int) bool { return ns[i].mod > ns[j].mod })
	for _, n := range ns {
		if p, err := openPack(n.name); err == nil {
			s.packs = append(s.packs, p)
		} else {
			s.damaged = append(s.damaged, err)
		}
	}
	if depth >= 5 {
		return
	}
	for _, line := range s.readAlternates(filepath.Join(dir, "info", "alternates")) {
		if len(s.dirs) >= maxObjectDirs {
			s.unread = append(s.unread, fmt.Errorf("%s: more than %d object folders in all, as only a crafted repository names: the rest were not read", filepath.Join(dir, "info", "alternates"), maxObjectDirs))
			return
		}
		if !filepath.IsAbs(line) {
			line = filepath.Join(dir, line)
		}
		s.add(filepath.Clean(line), depth+1)
	}
}

// maxAlternatesFile bounds what is read of an alternates file, a few
// paths of object folders (git's own hold one): git reads it whole, and
// a 256 MiB file planted there took 1.9 GB and 40 s of CPU, its one line
// joined to a path for each of the 256 folders of loose objects.
const maxAlternatesFile = 1 << 20

// maxAlternateLine bounds a line of an alternates file: a path (PATH_MAX
// is 4096 bytes).
const maxAlternateLine = 4 << 10

// maxObjectDirs bounds the object folders a store reads, its own and
// those alternates name.
const maxObjectDirs = 100

// readAlternates returns the paths of the alternates file name, read a
// line at a time, up to maxAlternatesFile bytes; what it leaves out is
// noted in s.unread. A missing file names none.
func (s *Store) readAlternates(name string) []string {
	f, fi, err := nonblock.OpenRegular(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	if fi.Size() > maxAlternatesFile {
		s.unread = append(s.unread, fmt.Errorf("%s: %d bytes, more than the %d loftyscan reads of a list of object folders: the folders named past that were not read", name, fi.Size(), maxAlternatesFile))
	}
	var out []string
	long := 0
	// A read error: the rest is not read.
	_ = nonblock.EachLine(io.LimitReader(f, maxAlternatesFile), maxAlternateLine+2, func(line []byte, cut bool) {
		if cut {
			long++
		} else if l := strings.TrimSpace(string(line)); l != "" && l[0] != '#' {
			out = append(out, l)
		}
	})
	if long > 0 {
		s.unread = append(s.unread, fmt.Errorf("%s: %d line(s) over %d bytes, longer than a path: not read", name, long, maxAlternateLine))
	}
	return out
}

// Damaged lists the packs that could not be opened, each error naming the
// pack and saying why.
func (s *Store) Damaged() []error { return s.damaged }

// Unread lists what the alternates files named that the store did not
// read (a file or a line too long, too many folders), each error naming
// the file: objects only those folders hold are missing.
func (s *Store) Unread() []error { return s.unread }

// Close unmaps and closes the packs and the commit-graph.
func (s *Store) Close() {
	for _, p := range s.packs {
		p.close()
	}
	s.packs = nil
	s.multiAfter = 0
	s.multi.Store(nil)
	s.graph.Close()
	s.graph = nil
}

// CommitGraph returns the commit-graph of the first object folder that
// has one, the repository's own then its alternates, as git looks for it
// (a pre-receive hook's store starts with git's quarantine, which has
// none, then the repository's folder); it is opened at the first call,
// and nil when no folder has one (or none that parses, or the store reads
// everything through go-git). A commit it does not hold is read from its
// object; a commit it holds has its parents in it too.
func (s *Store) CommitGraph() *CommitGraph {
	s.graphOnce.Do(func() {
		for _, d := range s.dirs {
			if s.graph = OpenCommitGraph(d); s.graph != nil {
				return
			}
		}
	})
	return s.graph
}

// Packed returns how many objects the packs hold.
func (s *Store) Packed() int {
	n := 0
	for _, p := range s.packs {
		n += p.idx.count
	}
	return n
}

// locate finds the first pack that holds h, and its position there.
func (s *Store) locate(h plumbing.Hash) (int, int) {
	if s.multiAfter > 0 {
		if t := s.multi.Load(); t != nil {
			if pi, pos, ok := t.find(s, h[:]); ok {
				return pi, pos
			}
		} else if s.lookups.Add(1) == s.multiAfter {
			s.multi.Store(newMultiTable(s)) // nil when the names do not spread
		}
	}
	for i, p := range s.packs {
		if pos := p.idx.find(h[:]); pos >= 0 {
			return i, pos
		}
	}
	return -1, -1
}

// Absent calls absent with the index of each of names that no pack and
// no loose object holds. Sorted, the names are looked up front to back in
// each pack's index, each search near the one before, in memory a cache
// holds: in a big index that saves the cache misses of lookups in any
// order (Has), a miss or two a name. It does not ask go-git.
func (s *Store) Absent(names []plumbing.Hash, absent func(i int)) {
	for i := range names {
		h := names[i][:]
		found := false
		for _, p := range s.packs {
			if searchNames(&p.idx.fanout, p.idx.names, h) >= 0 {
				found = true
				break
			}
		}
		if !found {
			s.listLoose()
			if !s.looseSet[names[i]] {
				absent(i)
			}
		}
	}
}

// Has reports whether a pack or a loose object holds h. It does not ask
// go-git.
func (s *Store) Has(h plumbing.Hash) bool {
	if pi, _ := s.locate(h); pi >= 0 {
		return true
	}
	s.listLoose()
	return s.looseSet[h]
}

// HashesWithPrefix lists the objects of the packs and loose objects whose
// names start with prefix (whole bytes of a name), as an abbreviated hash
// is resolved.
func (s *Store) HashesWithPrefix(prefix []byte) []plumbing.Hash {
	var out []plumbing.Hash
	seen := map[plumbing.Hash]bool{}
	add := func(h plumbing.Hash) {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	for _, p := range s.packs {
		for _, i := range p.idx.withPrefix(prefix) {
			add(plumbing.Hash(p.idx.name(i)))
		}
	}
	for _, h := range s.Loose() {
		if bytes.HasPrefix(h[:], prefix) {
			add(h)
		}
	}
	return out
}

// Loose lists the loose objects of the object folders that no pack holds.
func (s *Store) Loose() []plumbing.Hash {
	s.listLoose()
	return s.loose
}

func (s *Store) listLoose() {
	s.looseOnce.Do(func() {
		s.looseSet = map[plumbing.Hash]bool{}
		for _, dir := range s.dirs {
			for i := range 256 {
				sub := fmt.Sprintf("%02x", i)
				names, err := os.ReadDir(filepath.Join(dir, sub))
				if err != nil {
					continue
				}
				for _, e := range names {
					hex := sub + e.Name()
					if len(hex) != 40 || !plumbing.IsHash(hex) {
						continue // a temporary file
					}
					h := plumbing.NewHash(hex)
					if pi, _ := s.locate(h); pi < 0 && !s.looseSet[h] {
						s.looseSet[h] = true
						s.loose = append(s.loose, h)
					}
				}
			}
		}
	})
}

// WithPrefix lists the objects whose name starts with the hexadecimal
// prefix hex (of any length up to 40), in the packs and loose, up to limit
// of them: enough to tell a unique abbreviation from an ambiguous one.
func (s *Store) WithPrefix(hexPrefix string, limit int) []plumbing.Hash {
	hexPrefix = strings.ToLower(hexPrefix)
	if len(hexPrefix) == 0 || len(hexPrefix) > 40 || strings.Trim(hexPrefix, "0123456789abcdef") != "" {
		return nil
	}
	// The names from lo (the prefix padded with zeros) to hi (with f's).
	lo := plumbing.NewHash(hexPrefix + strings.Repeat("0", 40-len(hexPrefix)))
	hi := plumbing.NewHash(hexPrefix + strings.Repeat("f", 40-len(hexPrefix)))
	seen := map[plumbing.Hash]bool{}
	var out []plumbing.Hash
	add := func(h plumbing.Hash) bool {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
		return len(out) < limit
	}
	for _, p := range s.packs {
		x := p.idx
		for i := x.lowerBound(lo[:]); i < x.count; i++ {
			var h plumbing.Hash
			copy(h[:], x.name(i))
			if bytes.Compare(h[:], hi[:]) > 0 || !add(h) {
				break
			}
		}
	}
	s.listLoose()
	for _, h := range s.loose {
		if len(out) >= limit {
			break
		}
		if bytes.Compare(h[:], lo[:]) >= 0 && bytes.Compare(h[:], hi[:]) <= 0 {
			add(h)
		}
	}
	// When the store reads everything through go-git, go-git lists them
	// (loading its indexes). A pack that did not open is not handed to
	// go-git (see mayFallBack): its objects are missing.
	type prefixLister interface {
		HashesWithPrefix(prefix []byte) ([]plumbing.Hash, error)
	}
	if pl, ok := s.fallback.(prefixLister); ok && s.viaGoGit && len(out) < limit {
		even, _ := hex.DecodeString(hexPrefix[:len(hexPrefix)&^1])
		if hs, err := pl.HashesWithPrefix(even); err == nil {
			for _, h := range hs {
				if strings.HasPrefix(h.String(), hexPrefix) && !add(h) {
					break
				}
			}
		}
	}
	return out
}
