package scanner

import (
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
// A history scan (package gitscan) does not search names yet: its names
// are in trees, which a scan of a complete clone without keys does not
// read.

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
// archive (seen holds those searched), and reports them under p, the
// archive's path, joined to the entry's with "!". A path none of whose
// bytes may hold a key costs one search.
func (s *streamer) scanEntryNames(p, entry string, seen map[string]bool, emit func(finding.Finding)) {
	if !s.searchNames {
		return
	}
	entry = strings.TrimPrefix(strings.TrimSuffix(entry, "/"), "./")
	if entry == "" || !mayHoldKey(stringBytes(entry)) {
		return
	}
	start := 0
	for start <= len(entry) {
		end := strings.IndexByte(entry[start:], '/')
		if end < 0 {
			end = len(entry)
		} else {
			end += start
		}
		prefix := entry[:end]
		if !seen[prefix] {
			seen[prefix] = true
			s.scanName(p+"!"+prefix, entry[start:end], emit)
		}
		start = end + 1
	}
}

// stringBytes is s's bytes, for a search that only reads them: no copy
// of every name the walk meets.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
