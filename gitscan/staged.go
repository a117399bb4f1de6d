package gitscan

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/nonblock"
	"github.com/loftyscan/loftyscan/scanner"
)

// ScanStaged scans what the commit being made would add: every staged file
// whose blob differs from HEAD's (every staged file before the first
// commit). It reads the index, not the work tree, so a partly staged file
// is scanned as it will be committed. A key is not reported when it is not
// added: when HEAD's version of the same file, or a file the change
// removes (the source of a rename), already holds it, or when the staged
// blob is one HEAD already has. History is not walked, so the scan takes
// as long in a repository of a million commits as in one of ten.
//
// indexFile is the index to read, as git's GIT_INDEX_FILE names it (git
// commit -a and git commit PATH run hooks with a temporary index): empty
// for the repository's own, and relative to the top of the work tree, where
// git runs hooks, when not absolute.
func ScanStaged(ctx context.Context, s *scanner.Scanner, repo *Repository, indexFile string, sink scanner.Sink) (finding.Stats, error) {
	st, _, err := scanIndex(ctx, s, repo, indexFile, false, sink)
	return st, err
}

// ScanStagedOrIndex is ScanStaged for a run of the pre-commit framework
// outside a commit: `pre-commit run --all-files`, which CI runs (the
// pre-commit action does), asks to check every file, but in a clean
// checkout the index adds nothing to HEAD, and the hook passed having
// checked nothing. When the index adds nothing, every file it holds is
// scanned instead, as before the first commit, and whole says so.
func ScanStagedOrIndex(ctx context.Context, s *scanner.Scanner, repo *Repository, indexFile string, sink scanner.Sink) (st finding.Stats, whole bool, err error) {
	return scanIndex(ctx, s, repo, indexFile, true, sink)
}

// scanIndex is ScanStaged and, with orIndex, ScanStagedOrIndex.
func scanIndex(ctx context.Context, s *scanner.Scanner, repo *Repository, indexFile string, orIndex bool, sink scanner.Sink) (_ finding.Stats, whole bool, _ error) {
	if repo.WorkTree == "" && indexFile == "" {
		return finding.Stats{}, false, ErrNoWorkTree
	}
	indexFile = indexPath(repo, indexFile)
	g, err := repo.open(tuning{})
	if err != nil {
		return finding.Stats{}, false, err
	}
	defer g.close()

	gs := newGitSink(sink)
	gs.heads.s = g.store
	r := s.Start(gs)
	idx, cached, err := readIndex(indexFile)
	if err != nil {
		return r.Stats(), false, err
	}
	head, err := g.head()
	if err != nil {
		return r.Stats(), false, err
	}
	var headTree *plumbing.Hash
	if !head.IsZero() {
		tree, err := g.commitTree(head)
		if err != nil {
			return r.Stats(), false, fmt.Errorf("cannot read HEAD's commit %s: %w", head, err)
		}
		if typ, _, err := g.rd.Read(tree); err != nil || typ != plumbing.TreeObject {
			if err == nil {
				err = plumbing.ErrObjectNotFound
			}
			return r.Stats(), false, fmt.Errorf("cannot read HEAD's tree %s: %w", tree, err)
		}
		headTree = &tree
	}
	d := stagedDiff(ctx, g, headTree, idx, cached, r.Options().Skip)
	if orIndex && headTree != nil && len(d.changed) == 0 {
		headTree, whole = nil, true
		d = stagedDiff(ctx, g, nil, idx, cached, r.Options().Skip)
	}

	var blobs []plumbing.Hash
	names := map[plumbing.Hash][]string{} // the names each blob is staged under
	scoped := r.Options().ScopedToPaths
	copies := map[plumbing.Hash]bool{}
	entries := d.changed
	if scoped != nil {
		// Copies and moves are read too, and what they hold kept only for
		// keys suppressed at some paths: a fixture copied out of its
		// ignored folder is new where it lands.
		for _, e := range d.copied {
			copies[e.Hash] = true
		}
		entries = append(entries[:len(entries):len(entries)], d.copied...)
	}
	for _, e := range entries {
		names[e.Hash] = append(names[e.Hash], finding.ValidPath(e.Name))
		if len(names[e.Hash]) > 1 {
			continue // a new file staged under two names is one blob
		}
		gs.register(e.Hash, blobOrigin{commit: 0, path: finding.ValidPath(e.Name)})
		blobs = append(blobs, e.Hash)
	}
	g.scanBlobs(ctx, r, gs, blobs)
	paths := d.named
	for _, e := range idx.Entries {
		if e.Mode == filemode.Submodule {
			paths = append(paths, e.Name) // a submodule's name: searched, its repository not read
		}
	}
	g.searchStagedNames(r, headTree, paths)
	if err := ctx.Err(); err != nil {
		return r.Stats(), false, err
	}

	// Drop the keys HEAD already had where the change found them.
	a := &attributor{g: g, r: r, gs: gs, w: r.NewWorker()}
	gs.mu.Lock()
	var occs []occurrence
	for hash, fs := range gs.found {
		if o := gs.origins[hash]; o.commit == 0 {
			for _, f := range fs {
				rest := f.Path
				f.Path = gs.placeOf(hash, o.path, rest)
				occs = append(occs, occurrence{f: f, origin: o, blob: hash, rest: rest})
			}
		}
	}
	gs.mu.Unlock()
	kept := occs[:0]
	for _, o := range occs {
		if !copies[o.blob] || scoped(o.f.Fingerprint) {
			kept = append(kept, a.countingName(o, names[o.blob]))
		}
	}
	occs = kept
	var out []finding.Finding
	for _, o := range occs {
		if !d.hadKey(ctx, a, headTree, o.origin.path, o.f.Fingerprint, !a.counts(o.f, o.f.Path)) {
			out = append(out, o.f)
		}
	}
	out = append(out, a.nameFindings()...)
	finding.Sort(out)
	for _, f := range out {
		sink.Finding(f)
	}
	return r.Stats(), whole, nil
}

// staged is how the index differs from HEAD.
type staged struct {
	changed []*index.Entry           // staged files whose blob HEAD does not have at that path
	removed map[string]plumbing.Hash // HEAD's files the index no longer has: rename sources
	// copied are the staged files at a new path whose blob HEAD has
	// elsewhere (a copy or a move): not new content, but new at a path
	// for a key suppressed at some paths only (see ScanStaged).
	copied []*index.Entry
	// named are the staged files at a path HEAD's tree lacks that may
	// hold a key, whatever their content (a file renamed keeps its blob):
	// their names are searched.
	named []string
}

// countingName returns o at the first of names, the names its blob is
// staged under, where it counts, when it does not count at the first and
// its key is suppressed at some paths only (see attributor.otherPlaces): a
// fixture staged under a second name outside its ignored folder.
func (a *attributor) countingName(o occurrence, names []string) occurrence {
	scoped := a.r.Options().ScopedToPaths
	if len(names) < 2 || o.f.Suppressed != "" || scoped == nil || !scoped(o.f.Fingerprint) || a.counts(o.f, o.f.Path) {
		return o
	}
	for _, n := range names[1:] {
		placed := o.f
		placed.Path = a.gs.placeOf(o.blob, n, o.rest)
		if a.counts(placed, placed.Path) {
			o.f, o.origin.path = placed, n
			return o
		}
	}
	return o
}

// hadKey reports whether HEAD held the key fp at p or in a removed file:
// at any place when all is set, else at one that counts (see
// attributor.fingerprints).
func (d *staged) hadKey(ctx context.Context, a *attributor, headTree *plumbing.Hash, p, fp string, all bool) bool {
	if headTree == nil {
		return false
	}
	if a.inAny(ctx, []plumbing.Hash{*headTree}, p, fp, all) {
		return true
	}
	for rp, h := range d.removed {
		if a.fingerprints(ctx, h, rp, all)[fp] {
			return true
		}
	}
	return false
}

// stagedDiff compares the index with HEAD's tree (nil before the first
// commit). Folders whose cached tree (the index's TREE extension, which
// git keeps up to date) is HEAD's tree are not opened: a small change in a
// big repository reads a few trees, not all of them.
func stagedDiff(ctx context.Context, g *gitRepo, headTree *plumbing.Hash, idx *index.Index, cached map[string]plumbing.Hash, skip func(string, bool) bool) *staged {
	type headFile struct {
		hash plumbing.Hash
		mode filemode.FileMode
	}
	files := map[string]headFile{}
	same := map[string]bool{} // folders (root "") whose index entries are HEAD's
	d := &staged{removed: map[string]plumbing.Hash{}}
	headBlobs := map[plumbing.Hash]bool{}
	inIndexDirs := indexFolders(idx)
	gone := &removedFolders{g: g, d: d, headBlobs: headBlobs}
	// A tree that cannot be read leaves every staged file below it to be
	// compared as new.
	w := &treeWalk{g: g, entry: func(dir string, name []byte, mode filemode.FileMode, h plumbing.Hash) bool {
		p := dir + string(name)
		switch {
		case mode.IsFile():
			files[p] = headFile{h, mode}
			headBlobs[h] = true
		case mode == filemode.Dir:
			if c, ok := cached[p]; ok && c == h {
				same[p] = true
				return false
			}
			if !inIndexDirs[p] {
				gone.add(ctx, h, p+"/")
				return false
			}
			return true
		}
		return false
	}}
	if headTree != nil {
		if c, ok := cached[""]; ok && c == *headTree {
			same[""] = true
		} else {
			w.walk(ctx, *headTree, "")
		}
	}
	underSame := func(name string) bool {
		for dir := path.Dir(name); ; dir = path.Dir(dir) {
			if dir == "." {
				return same[""]
			}
			if same[dir] {
				return true
			}
		}
	}
	inIndex := map[string]bool{}
	for _, e := range idx.Entries {
		if underSame(e.Name) {
			continue
		}
		inIndex[e.Name] = true
		if e.Stage != 0 || e.IntentToAdd || !e.Mode.IsFile() {
			continue // conflicts cannot be committed; gitlinks are other repositories
		}
		f, had := files[e.Name]
		if had && f.hash == e.Hash {
			continue
		}
		if !had && scanner.MayHoldKey([]byte(e.Name)) && (skip == nil || !skip(e.Name, false)) {
			d.named = append(d.named, e.Name)
		}
		if skip != nil && skip(e.Name, false) {
			continue
		}
		if headBlobs[e.Hash] {
			d.copied = append(d.copied, e) // a copy or move of content HEAD already has
			continue
		}
		d.changed = append(d.changed, e)
	}
	for p, f := range files {
		if !inIndex[p] {
			d.removed[p] = f.hash
		}
	}
	return d
}

// indexFolders returns the folders that hold the index's entries, at any
// depth: the folders of HEAD's tree the staged check walks by path. A
// folder of HEAD's that holds none is removed whole, and read by tree
// (removedFolders), not by path: a crafted tree whose folders each hold
// the next twice has 2^n paths for n trees, and a walk by path of 40 of
// them would never end.
func indexFolders(idx *index.Index) map[string]bool {
	dirs := map[string]bool{}
	for _, e := range idx.Entries {
		for dir := path.Dir(e.Name); dir != "." && !dirs[dir]; dir = path.Dir(dir) {
			dirs[dir] = true
		}
	}
	return dirs
}

// removedFolders reads the folders of HEAD the index holds nothing of:
// each tree once, whatever number of paths it is at. Their blobs are
// HEAD's (a staged copy of one is no new content), and each is a removed
// file at the first path it was met at: a rename source, where hadKey
// looks for the key a staged file brings.
type removedFolders struct {
	g         *gitRepo
	d         *staged
	headBlobs map[plumbing.Hash]bool
	seen      map[plumbing.Hash]bool // trees read
	blobs     map[plumbing.Hash]bool // blobs named in d.removed
}

// add reads the folder whose tree is h and whose path is dir.
func (r *removedFolders) add(ctx context.Context, h plumbing.Hash, dir string) {
	if r.seen == nil {
		r.seen, r.blobs = map[plumbing.Hash]bool{}, map[plumbing.Hash]bool{}
	}
	if r.seen[h] {
		return
	}
	r.seen[h] = true
	w := &treeWalk{g: r.g, entry: func(dir string, name []byte, mode filemode.FileMode, h plumbing.Hash) bool {
		switch {
		case mode.IsFile():
			r.headBlobs[h] = true
			if !r.blobs[h] {
				r.blobs[h] = true
				r.d.removed[dir+string(name)] = h
			}
		case mode == filemode.Dir && !r.seen[h]:
			r.seen[h] = true
			return true
		}
		return false
	}}
	w.walk(ctx, h, dir)
}

// indexPath is the index file git's GIT_INDEX_FILE names (empty for the
// repository's own): relative to the top of the work tree, where git runs
// hooks, when not absolute.
func indexPath(repo *Repository, indexFile string) string {
	switch {
	case indexFile == "":
		return filepath.Join(repo.GitDir, "index")
	case !filepath.IsAbs(indexFile) && repo.WorkTree != "":
		return filepath.Join(repo.WorkTree, indexFile)
	case !filepath.IsAbs(indexFile):
		return filepath.Join(repo.GitDir, indexFile)
	}
	return indexFile
}

// readIndex decodes an index file, and its cached trees by folder. A
// missing index is an empty one, as for git. The file is read as a
// stream, three times: its header and checksum first (go-git's decoder
// checks the checksum too, and git fsck does), so that a damaged or
// crafted file (zeros, or an entry count of billions) is refused without
// holding anything; then go-git
// decodes it, holding its entries (as git does); then its TREE extension
// is read. It was read whole: a 256 MiB index took 280 MB to refuse.
func readIndex(name string) (*index.Index, map[string]plumbing.Hash, error) {
	idx := &index.Index{}
	f, fi, err := nonblock.OpenRegular(name)
	if errors.Is(err, fs.ErrNotExist) {
		return idx, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read the index: %w", err)
	}
	defer f.Close()
	if err := checkIndexFile(f, fi.Size()); err != nil {
		return nil, nil, fmt.Errorf("cannot read the index %s: %w", name, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, nil, fmt.Errorf("cannot read the index %s: %w", name, err)
	}
	// go-git reads through a bufio.Reader of 4 KiB unless given a bigger
	// one: 4,000 reads for an index of 200,000 files (16 MB), which cost
	// the staged check a fifth more CPU than reading the file whole did.
	if err := index.NewDecoder(bufio.NewReaderSize(f, indexReadBuffer)).Decode(idx); err != nil {
		if errors.Is(err, index.ErrUnknownExtension) {
			return nil, nil, fmt.Errorf("cannot read the index %s: it uses a format extension loftyscan does not read (split index or sparse index?): %w; write it whole and try again: for a split index, 'git config core.splitIndex false' and 'git update-index --no-split-index'; for a sparse index, 'git sparse-checkout init --no-sparse-index'", name, err)
		}
		return nil, nil, fmt.Errorf("cannot read the index %s: %w", name, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return idx, nil, nil
	}
	return idx, cacheTree(f, fi.Size()), nil
}

// indexReadBuffer is how much of the index each read asks for.
const indexReadBuffer = 1 << 20

// checkIndexFile checks an index file's header as git does before it
// reads an entry (the signature, a version from 2 to 4), an entry count
// the file can hold, and the SHA-1 of what precedes the checksum, unless
// it is all zeros, which git's index.skipHash writes. git checks that
// SHA-1 only in git fsck (since 2.13), go-git's decoder always: a file
// whose checksum alone is wrong is one git reads and we cannot, and the
// error says how to have git write it anew.
func checkIndexFile(f io.Reader, size int64) error {
	const hashLen = 20
	br := bufio.NewReaderSize(f, indexReadBuffer)
	hdr, err := br.Peek(12)
	if err != nil || size < 12+hashLen {
		return errors.New("too short to be an index (damaged?); 'git status' says whether git can read it")
	}
	if string(hdr[:4]) != "DIRC" {
		return errors.New("malformed index signature (damaged?); 'git status' says whether git can read it")
	}
	if v := binary.BigEndian.Uint32(hdr[4:8]); v < 2 || v > 4 {
		return fmt.Errorf("unsupported index version %d; 'git status' says whether git can read it", v)
	}
	// An entry takes at least 62 bytes of stat data, object name and
	// flags, and a NUL: go-git makes room for each as it reads it, so a
	// crafted count (4 billion, with a trailer of zeros) held 772 MB of
	// empty entries read from a 256 MiB file of zeros.
	if n := int64(binary.BigEndian.Uint32(hdr[8:12])); n > (size-12-hashLen)/63 {
		return fmt.Errorf("it claims %d entries, more than its %d bytes hold (damaged?); 'git status' says whether git can read it", n, size)
	}
	h := sha1.New()
	if _, err := io.CopyN(h, br, size-hashLen); err != nil {
		return err
	}
	var sum [hashLen]byte
	if _, err := io.ReadFull(br, sum[:]); err != nil {
		return err
	}
	if sum != [hashLen]byte{} && !bytes.Equal(sum[:], h.Sum(nil)) {
		return errors.New("its checksum does not match its content (damaged, or written by a tool that did not update it); 'git fsck' says whether anything else is wrong, and if nothing is, 'git update-index --force-write-index' writes it anew")
	}
	return nil
}

// entryPeek is how much of an index entry cacheTree looks at at once: the
// fixed part, the extended flags, a prefix length, and a path of up to
// 4 KiB.
const entryPeek = 62 + 2 + 10 + 4096

// maxCacheTree bounds the TREE extension read: a few dozen bytes a
// folder. A bigger one is not read (the cache is only a shortcut).
const maxCacheTree = 64 << 20

// cacheTree parses the index's TREE extension into the tree hash of each
// folder whose entry is valid ("" is the root). go-git's decoder drops the
// invalid entries, and with them the shape of the tree, so the extension
// is read here from the raw file, r, of size bytes, a stream. It returns
// nil when the file has no such extension or does not parse: the cache is
// only a shortcut.
func cacheTree(r io.Reader, size int64) map[string]plumbing.Hash {
	const hashLen = 20
	if size < 12+hashLen {
		return nil
	}
	br := bufio.NewReaderSize(r, indexReadBuffer)
	var hdr [12]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil
	}
	version := binary.BigEndian.Uint32(hdr[4:8])
	count := binary.BigEndian.Uint32(hdr[8:12])
	off := int64(12)
	end := size - hashLen
	// Each entry is read from a peek at its bytes, then skipped: reading
	// its fields one call each cost the staged check of an index of
	// 200,000 files 6% of its CPU. A path too long for the peek is read
	// on its own.
	const fixed = 62 // stat data, mode, sizes, object name and flags
	for range count {
		if off+fixed > end {
			return nil
		}
		head, _ := br.Peek(int(min(entryPeek, end-off)))
		if len(head) < fixed {
			return nil
		}
		flags := binary.BigEndian.Uint16(head[60:62])
		n := fixed
		if version >= 3 && flags&0x4000 != 0 {
			n += 2
		}
		if version == 4 {
			for n < len(head) && head[n]&0x80 != 0 { // the prefix length, a varint
				n++
			}
			n++
		}
		if n > len(head) {
			return nil
		}
		nul := bytes.IndexByte(head[n:], 0)
		read := 0    // of the entry, already
		if nul < 0 { // a path longer than the peek: a buffer holds it
			if _, err := br.Discard(n); err != nil {
				return nil
			}
			name, err := br.ReadSlice(0)
			if err != nil {
				return nil
			}
			nul = len(name) - 1
			read = n + nul + 1
		}
		used := n + nul + 1
		if version != 4 {
			used = (n + nul + 8) &^ 7 // NUL-padded to a multiple of 8
		}
		if off += int64(used); off > end {
			return nil
		}
		if _, err := br.Discard(used - read); err != nil {
			return nil
		}
	}
	for off+8 <= end {
		var ext [8]byte
		if _, err := io.ReadFull(br, ext[:]); err != nil {
			return nil
		}
		size := int64(binary.BigEndian.Uint32(ext[4:8]))
		off += 8
		if off+size > end {
			return nil
		}
		if string(ext[:4]) == "TREE" {
			if size > maxCacheTree {
				return nil
			}
			b := make([]byte, size)
			if _, err := io.ReadFull(br, b); err != nil {
				return nil
			}
			out := map[string]plumbing.Hash{}
			if _, ok := parseCacheTree(b, "", out); !ok {
				return nil
			}
			return out
		}
		if _, err := br.Discard(int(size)); err != nil {
			return nil
		}
		off += size
	}
	return nil
}

// parseCacheTree parses one entry of the TREE extension and its subtrees,
// in the pre-order git writes them, and returns what follows.
func parseCacheTree(b []byte, parent string, out map[string]plumbing.Hash) ([]byte, bool) {
	nul := bytes.IndexByte(b, 0)
	if nul < 0 {
		return nil, false
	}
	name := string(b[:nul])
	b = b[nul+1:]
	sp := bytes.IndexByte(b, ' ')
	nl := bytes.IndexByte(b, '\n')
	if sp < 0 || nl < sp {
		return nil, false
	}
	entries, err1 := strconv.Atoi(string(b[:sp]))
	subtrees, err2 := strconv.Atoi(string(b[sp+1 : nl]))
	if err1 != nil || err2 != nil || subtrees < 0 {
		return nil, false
	}
	b = b[nl+1:]
	full := name
	if parent != "" {
		full = parent + "/" + name
	}
	if entries >= 0 {
		if len(b) < 20 {
			return nil, false
		}
		var h plumbing.Hash
		copy(h[:], b[:20])
		out[full] = h
		b = b[20:]
	}
	for range subtrees {
		var ok bool
		if b, ok = parseCacheTree(b, full, out); !ok {
			return nil, false
		}
	}
	return b, true
}
