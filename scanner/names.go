package scanner

import (
	"iter"
	"strings"
	"unsafe"

	"github.com/loftyscan/loftyscan/finding"
)

// Names. A key can be a name: a file saved under the token it holds, a
// cache entry named after it, a folder or an archive entry so named. A
// scan of folders (ScanPaths) and of a stream (ScanReader) searches the
// name of every file, folder, link and archive entry it meets, as text of
// its own, and reports a key in one at location finding.InPath: the
// finding's path is the named thing's path, its line and column are those
// of the key in the name (the path's last element). Nearly no name holds
// anything a key could be in, and the rules' searcher says so first
// (mayHoldKey), so a name costs one search of its bytes.
//
// A history scan (package gitscan) searches the names its walk of the
// trees meets itself, with ScanName; archive entries inside blobs are not
// searched there.

// nameStreamer returns the streamer a streamer's names are searched with:
// one of their own, made at the first name that may hold a key, so that
// the file or archive being scanned keeps its limits and decoders'
// state.
func (s *streamer) nameStreamer() *streamer {
	if s.names == nil {
		s.names = newStreamerOf(finder{cfg: s.find.cfg}, 0)
	}
	return s.names
}

// scanName searches name, the last element of the path p, for keys and
// reports them at location finding.InPath under p.
func (s *streamer) scanName(p, name string, emit func(finding.Finding)) {
	if name == "" || !mayHoldKey(stringBytes(name)) {
		return
	}
	n := s.nameStreamer()
	n.places.reset()
	var pos position
	n.report(stringBytes(name), 0, len(name), &pos, p, func(f finding.Finding) {
		f.Location = finding.InPath
		emit(f)
	})
}

// scanEntryNames searches the names in an archive entry's path entry
// (slash-separated: "dir/sub/file") for keys, each folder's name once per
// archive (seen holds the folders met), and reports them under p, the
// archive's path, joined to the entry's with "!". A path none of whose
// bytes may hold a key costs one search; one that may costs a search of
// each new part and a lookup of each part, never of a whole prefix, so
// that a crafted archive of long paths costs in proportion to its size.
func (s *streamer) scanEntryNames(p, entry string, seen *entryNames, emit func(finding.Finding)) {
	if !s.searchNames {
		return
	}
	entry = strings.TrimPrefix(strings.TrimSuffix(entry, "/"), "./")
	if entry == "" || !mayHoldKey(stringBytes(entry)) {
		return
	}
	if len(entry) > maxNamePath {
		// Longer than any path a system takes (a crafted PAX header can
		// name a megabyte): searched once, whole, as one name.
		s.scanName(p+"!"+entry, entry, emit)
		return
	}
	if seen.m == nil || len(seen.m) >= maxSeenNames || seen.held >= maxSeenBytes {
		// A folder's key may then be reported again: memory stays bounded.
		seen.m, seen.held = map[entryName]int32{}, 0
	}
	parent := int32(0)
	for prefix, name := range PathParts(entry) {
		k := entryName{parent, name}
		id, ok := seen.m[k]
		if !ok {
			s.scanName(p+"!"+prefix, k.name, emit)
			k.name = strings.Clone(k.name) // not the whole path it is cut from
			id = int32(len(seen.m) + 1)
			seen.m[k] = id
			seen.held += len(k.name)
		}
		parent = id
	}
}

// PathParts yields each folder of the slash-separated path p and then p
// itself, each as its path from p's start and its own name: "a/b" gives
// ("a", "a") and ("a/b", "b").
func PathParts(p string) iter.Seq2[string, string] {
	return func(yield func(prefix, name string) bool) {
		start := 0
		for {
			end := strings.IndexByte(p[start:], '/')
			if end < 0 {
				yield(p, p[start:])
				return
			}
			end += start
			if !yield(p[:end], p[start:end]) {
				return
			}
			start = end + 1
		}
	}
}

// entryNames are the folders and files an archive's scan has met, each
// under its folder's number (0 for the archive's top), so that a folder's
// name is searched once however many entries are below it.
type entryNames struct {
	m    map[entryName]int32
	held int // bytes of the names in m
}

type entryName struct {
	parent int32
	name   string
}

// maxNamePath is the longest archive entry path whose names are searched
// one by one (Linux's PATH_MAX); maxSeenNames and maxSeenBytes bound the
// names an archive's scan remembers as searched.
const (
	maxNamePath  = 4096
	maxSeenNames = 1 << 16
	maxSeenBytes = 4 << 20
)

// stringBytes is s's bytes, for a search that only reads them: no copy
// of every name the walk meets.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// MayHoldKey reports whether the rules' searcher finds any form of a key,
// or any run of encoded text, in name: a source that meets names by the
// million (the trees of a history) asks it before ScanName.
func MayHoldKey(name []byte) bool { return mayHoldKey(name) }

// ScanName searches name, the last element of a path, for keys, and
// reports each at location finding.InPath under label (which the source
// maps to the path and its commit), as a finding of the Run. A source
// that meets names itself (a history's trees) scans them with it; a scan
// of folders or of a stream searches its names on its own.
func (w *Worker) ScanName(label, name string) {
	w.r.Safely(label, func() { w.st.scanName(label, name, w.r.emit) })
}

// NameHoldsKey reports whether ScanName would report a key in name,
// suppressed or not, and reports nothing: a source that meets names
// before it knows where they are (the sweep of a whole history, which
// reads trees without their commits or paths) asks it to learn whether
// to look. A name it panics on holds one, for ScanName to say what
// failed.
func (w *Worker) NameHoldsKey(name []byte) (found bool) {
	if len(name) == 0 || !mayHoldKey(name) {
		return false
	}
	defer func() {
		if recover() != nil {
			found = true
		}
	}()
	w.st.scanName("", string(name), func(finding.Finding) { found = true })
	return found
}
