package scanner

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
	"github.com/go-git/go-git/v5/plumbing/format/objfile"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// quickObjects reads a few objects from a big repository fast, for the
// staged scan. go-git's storage decodes every pack index whole on the
// first read and then builds a map from offset to hash of every object in
// the pack: for a pack of 400,000 objects that is 40 ms before the first
// object, more than the rest of a pre-commit check. quickObjects instead
// binary-searches the .idx files on disk and reads loose objects itself;
// an object it cannot find that way (in an alternate object store, say) is
// read through go-git's storage. It is not safe for concurrent use.
type quickObjects struct {
	storer.EncodedObjectStorer // the fallback, and the methods not overridden
	dir                        string
	packs                      []*quickPack
}

func newQuickObjects(fallback storer.EncodedObjectStorer, objectsDir string) *quickObjects {
	q := &quickObjects{EncodedObjectStorer: fallback, dir: objectsDir}
	names, _ := filepath.Glob(filepath.Join(objectsDir, "pack", "*.idx"))
	sort.Strings(names)
	for _, idx := range names {
		if p, err := openQuickPack(idx); err == nil {
			q.packs = append(q.packs, p)
		}
	}
	return q
}

func (q *quickObjects) close() {
	for _, p := range q.packs {
		p.close()
	}
}

// EncodedObject returns the object h if it is of type t (or t is
// AnyObject).
func (q *quickObjects) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	obj, err := q.find(h)
	if err != nil {
		return q.EncodedObjectStorer.EncodedObject(t, h)
	}
	if t != plumbing.AnyObject && obj.Type() != t {
		return nil, plumbing.ErrObjectNotFound
	}
	return obj, nil
}

func (q *quickObjects) find(h plumbing.Hash) (plumbing.EncodedObject, error) {
	hex := h.String()
	if f, err := os.Open(filepath.Join(q.dir, hex[:2], hex[2:])); err == nil {
		defer f.Close()
		return readLoose(f)
	}
	for _, p := range q.packs {
		if ok, err := p.idx.Contains(h); err == nil && ok {
			return p.pack.Get(h)
		}
	}
	return nil, plumbing.ErrObjectNotFound
}

// readLoose decodes a loose object file.
func readLoose(f io.Reader) (plumbing.EncodedObject, error) {
	r, err := objfile.NewReader(f)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	t, size, err := r.Header()
	if err != nil {
		return nil, err
	}
	obj := &plumbing.MemoryObject{}
	obj.SetType(t)
	obj.SetSize(size)
	w, err := obj.Writer()
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(w, r); err != nil {
		return nil, err
	}
	return obj, w.Close()
}

// quickPack is a pack file with its index read on demand.
type quickPack struct {
	idx  *diskIndex
	pack *packfile.Packfile
}

func openQuickPack(idxName string) (*quickPack, error) {
	idx, err := openDiskIndex(idxName)
	if err != nil {
		return nil, err
	}
	packName := strings.TrimSuffix(idxName, ".idx") + ".pack"
	fs := osfs.New(filepath.Dir(packName))
	f, err := fs.Open(filepath.Base(packName))
	if err != nil {
		idx.f.Close()
		return nil, err
	}
	// No filesystem: the pack gives objects read into memory.
	return &quickPack{idx: idx, pack: packfile.NewPackfile(idx, nil, f, 0)}, nil
}

func (p *quickPack) close() {
	p.pack.Close()
	p.idx.f.Close()
}

// diskIndex is a version 2 pack index read with binary searches on the
// file, not loaded: finding one object costs a dozen small reads.
type diskIndex struct {
	f      *os.File
	count  uint32
	fanout [256]uint32
}

var errIndexFormat = errors.New("not a version 2 pack index")

const (
	idxHeader   = 8
	idxFanout   = idxHeader + 256*4
	idxNameSize = 20
)

func openDiskIndex(name string) (*diskIndex, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	var head [idxFanout]byte
	if _, err := f.ReadAt(head[:], 0); err != nil {
		f.Close()
		return nil, err
	}
	if string(head[:4]) != "\xfftOc" || binary.BigEndian.Uint32(head[4:8]) != 2 {
		f.Close()
		return nil, errIndexFormat
	}
	d := &diskIndex{f: f}
	for i := range d.fanout {
		d.fanout[i] = binary.BigEndian.Uint32(head[idxHeader+4*i:])
	}
	d.count = d.fanout[255]
	return d, nil
}

// position finds h's position in the sorted names.
func (d *diskIndex) position(h plumbing.Hash) (uint32, error) {
	lo := uint32(0)
	if h[0] > 0 {
		lo = d.fanout[h[0]-1]
	}
	hi := d.fanout[h[0]]
	var name [idxNameSize]byte
	for lo < hi {
		mid := lo + (hi-lo)/2
		if _, err := d.f.ReadAt(name[:], int64(idxFanout)+int64(mid)*idxNameSize); err != nil {
			return 0, err
		}
		switch c := compareHash(name[:], h[:]); {
		case c == 0:
			return mid, nil
		case c < 0:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return 0, plumbing.ErrObjectNotFound
}

func compareHash(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

func (d *diskIndex) Contains(h plumbing.Hash) (bool, error) {
	_, err := d.position(h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (d *diskIndex) FindOffset(h plumbing.Hash) (int64, error) {
	pos, err := d.position(h)
	if err != nil {
		return 0, err
	}
	n := int64(d.count)
	var b [8]byte
	if _, err := d.f.ReadAt(b[:4], int64(idxFanout)+n*(idxNameSize+4)+int64(pos)*4); err != nil {
		return 0, err
	}
	off := binary.BigEndian.Uint32(b[:4])
	if off&0x80000000 == 0 {
		return int64(off), nil
	}
	big := int64(off & 0x7fffffff)
	if _, err := d.f.ReadAt(b[:], int64(idxFanout)+n*(idxNameSize+8)+big*8); err != nil {
		return 0, err
	}
	return int64(binary.BigEndian.Uint64(b[:])), nil
}

func (d *diskIndex) FindCRC32(h plumbing.Hash) (uint32, error) {
	pos, err := d.position(h)
	if err != nil {
		return 0, err
	}
	var b [4]byte
	if _, err := d.f.ReadAt(b[:], int64(idxFanout)+int64(d.count)*idxNameSize+int64(pos)*4); err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(b[:]), nil
}

// FindHash would need the reverse index this type exists to avoid. The
// pack asks for it only to look delta bases up in its cache by name: the
// zero hash misses the cache, and the base is read by its offset.
func (d *diskIndex) FindHash(int64) (plumbing.Hash, error) { return plumbing.ZeroHash, nil }

func (d *diskIndex) Count() (int64, error) { return int64(d.count), nil }

func (d *diskIndex) Entries() (idxfile.EntryIter, error) {
	return nil, errors.New("diskIndex: listing entries is not supported")
}

func (d *diskIndex) EntriesByOffset() (idxfile.EntryIter, error) {
	return nil, errors.New("diskIndex: listing entries is not supported")
}
