package gitobj

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/zlib"
	"container/list"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// The pack reader. go-git reads a history scan's objects several times
// slower than git does: it decodes each object through layers of readers
// and caches, and one goroutine at a time. This reader maps each .pack and
// its .idx, finds objects with binary searches on the index in place, and
// inflates and applies deltas into plain byte slices. Each goroutine has
// its own objReader (zlib state, buffers, an optional cache of resolved
// objects); the store itself is read-only once open, so any number of
// them read at once. Loose objects and alternates are read too. The
// objects of a pack it cannot open (an index of another version or hash
// size) are read through go-git.

// packFile is one .pack file and its index.
type packFile struct {
	name   string
	idx    *packIndex
	idxMap []byte // the .idx bytes: mapped, or read
	data   []byte // the whole .pack when mapped, else nil
	f      *os.File
	size   int64
	mapped bool // idxMap is a mapping to unmap
}

var errNoMap = errors.New("memory mapping not available")

// openPack opens a pack from its .idx path. Both files are mapped when
// the platform allows; otherwise the index is read into memory and the
// pack is read with ReadAt.
func openPack(idxName string) (*packFile, error) {
	p := &packFile{name: strings.TrimSuffix(idxName, ".idx") + ".pack"}
	ib, mapped, err := mapOrRead(idxName)
	if err != nil {
		return nil, err
	}
	p.idxMap, p.mapped = ib, mapped
	if p.idx, err = parsePackIndex(ib); err != nil {
		p.close()
		return nil, fmt.Errorf("%s: %w", idxName, err)
	}
	if p.f, err = os.Open(p.name); err != nil {
		p.close()
		return nil, err
	}
	fi, err := p.f.Stat()
	if err != nil {
		p.close()
		return nil, err
	}
	p.size = fi.Size()
	if p.data, err = mapFile(p.f, p.size); err != nil {
		p.data = nil
	}
	var head [12]byte
	if p.size < 12+hashLen {
		p.close()
		return nil, fmt.Errorf("%s: too short for a pack", p.name)
	}
	if _, err := p.f.ReadAt(head[:], 0); err != nil {
		p.close()
		return nil, err
	}
	v := binary.BigEndian.Uint32(head[4:8])
	if string(head[:4]) != "PACK" || (v != 2 && v != 3) {
		p.close()
		return nil, fmt.Errorf("%s: not a version 2 or 3 pack", p.name)
	}
	if n := binary.BigEndian.Uint32(head[8:12]); int(n) != p.idx.count {
		p.close()
		return nil, fmt.Errorf("%s: holds %d objects, its index %d", p.name, n, p.idx.count)
	}
	return p, nil
}

// mapOrRead maps a whole file, or reads it where mapping is not possible.
func mapOrRead(name string) ([]byte, bool, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	if b, err := mapFile(f, fi.Size()); err == nil {
		return b, true, nil
	}
	b, err := io.ReadAll(f)
	return b, false, err
}

func (p *packFile) close() {
	if p.data != nil {
		unmapFile(p.data)
		p.data = nil
	}
	if p.mapped && p.idxMap != nil {
		unmapFile(p.idxMap)
	}
	p.idxMap = nil
	if p.f != nil {
		p.f.Close()
	}
}

// objHeader is what precedes an object's zlib stream in a pack.
type objHeader struct {
	off     int64               // where the object starts
	typ     plumbing.ObjectType // commit, tree, blob, tag, or one of the two deltas
	size    int64               // inflated size: of the object, or of the delta
	data    int64               // where the zlib stream starts
	baseOff int64               // for an offset delta: where its base starts
	base    plumbing.Hash       // for a reference delta: its base's name
}

var errBadPack = errors.New("corrupt pack")

// header parses the object header at off. Every field is checked: the
// type, a size that fits in 63 bits, a base before the object itself.
func (p *packFile) header(off int64) (objHeader, error) {
	h := objHeader{off: off}
	if off < 12 || off >= p.size-hashLen {
		return h, fmt.Errorf("%w: object offset %d outside the pack", errBadPack, off)
	}
	var buf [48]byte
	var b []byte
	if p.data != nil {
		b = p.data[off:min(off+int64(len(buf)), p.size)]
	} else {
		n, err := p.f.ReadAt(buf[:min(int64(len(buf)), p.size-off)], off)
		if n == 0 && err != nil {
			return h, err
		}
		b = buf[:n]
	}
	i := 0
	c := b[i]
	i++
	h.typ = plumbing.ObjectType((c >> 4) & 7)
	size := uint64(c & 15)
	shift := uint(4)
	for c&0x80 != 0 {
		if i >= len(b) || shift > 56 {
			return h, fmt.Errorf("%w: bad object header at %d", errBadPack, off)
		}
		c = b[i]
		i++
		size |= uint64(c&0x7f) << shift
		shift += 7
	}
	if size > 1<<62 {
		return h, fmt.Errorf("%w: bad object size at %d", errBadPack, off)
	}
	h.size = int64(size)
	switch h.typ {
	case plumbing.CommitObject, plumbing.TreeObject, plumbing.BlobObject, plumbing.TagObject:
	case plumbing.OFSDeltaObject:
		if i >= len(b) {
			return h, fmt.Errorf("%w: bad delta header at %d", errBadPack, off)
		}
		c = b[i]
		i++
		rel := uint64(c & 0x7f)
		for n := 0; c&0x80 != 0; n++ {
			if i >= len(b) || n >= 8 {
				return h, fmt.Errorf("%w: bad delta offset at %d", errBadPack, off)
			}
			c = b[i]
			i++
			rel = (rel+1)<<7 | uint64(c&0x7f)
		}
		if rel == 0 || rel > uint64(off-12) {
			return h, fmt.Errorf("%w: delta at %d has its base outside the pack", errBadPack, off)
		}
		h.baseOff = off - int64(rel)
	case plumbing.REFDeltaObject:
		if i+hashLen > len(b) {
			return h, fmt.Errorf("%w: bad delta header at %d", errBadPack, off)
		}
		copy(h.base[:], b[i:i+hashLen])
		i += hashLen
	default:
		return h, fmt.Errorf("%w: unknown object type %d at %d", errBadPack, h.typ, off)
	}
	h.data = off + int64(i)
	return h, nil
}

// inflater inflates the zlib streams of pack objects for one goroutine,
// reusing its state. The 2-byte zlib header is checked, then the deflate
// data is decoded: from a mapped pack by inflateInto (pack_inflate.go),
// else streamed through compress/flate. The Adler-32 checksum after the
// stream is not verified, which saves a pass over every byte; damage still
// shows, as the stream must decode to exactly the size the object's header
// declares (git fsck is the tool that verifies checksums).
type inflater struct {
	d   flateDecoder
	fr  io.ReadCloser // for packs read with ReadAt
	sec *bufio.Reader
	one [2]byte
}

// inflate inflates the zlib stream at start into dst, which must be the
// exact size the header declared: a stream that ends early or goes on is
// corrupt.
func (z *inflater) inflate(p *packFile, start int64, dst []byte) error {
	if p.data != nil {
		if start+2 > p.size || !zlibHeader(p.data[start], p.data[start+1]) {
			return fmt.Errorf("%w: no zlib stream at %d", errBadPack, start)
		}
		if _, err := z.d.inflateInto(dst, p.data[start+2:]); err != nil {
			return fmt.Errorf("%w: object at %d: %v", errBadPack, start, err)
		}
		return nil
	}
	sr := io.NewSectionReader(p.f, start, p.size-start)
	if z.sec == nil {
		z.sec = bufio.NewReaderSize(sr, 64<<10)
	} else {
		z.sec.Reset(sr)
	}
	if _, err := io.ReadFull(z.sec, z.one[:2]); err != nil || !zlibHeader(z.one[0], z.one[1]) {
		return fmt.Errorf("%w: no zlib stream at %d", errBadPack, start)
	}
	if z.fr == nil {
		z.fr = flate.NewReader(z.sec)
	} else if err := z.fr.(flate.Resetter).Reset(z.sec, nil); err != nil {
		return fmt.Errorf("%w: %v", errBadPack, err)
	}
	if _, err := io.ReadFull(z.fr, dst); err != nil {
		return fmt.Errorf("%w: %v", errBadPack, err)
	}
	if n, err := z.fr.Read(z.one[:1]); n != 0 || err != io.EOF {
		if err == nil || err == io.EOF {
			err = errors.New("object longer than its header says")
		}
		return fmt.Errorf("%w: %v", errBadPack, err)
	}
	return nil
}

// zlibHeader reports whether cmf and flg start a zlib stream of deflate
// data without a preset dictionary (RFC 1950), as git writes them.
func zlibHeader(cmf, flg byte) bool {
	return cmf&0x0f == 8 && cmf>>4 <= 7 && (uint16(cmf)<<8|uint16(flg))%31 == 0 && flg&0x20 == 0
}

// objectStore is a repository's object folder (and its alternates): its
// packs, newest first, and its loose objects.
type objectStore struct {
	packs []*packFile
	dirs  []string // object folders, for loose objects
	// complete is set when every pack opened: then an object the store
	// does not find is nowhere, and go-git need not be asked (it would
	// load every pack index whole to say so).
	complete bool
}

// openObjectStore opens the packs of an object folder and of the folders
// its info/alternates file names. Packs that do not open (damaged, or of
// a format this reader does not know) are left out: their objects are read
// through go-git.
func openObjectStore(objectsDir string) *objectStore {
	s := &objectStore{complete: true}
	var add func(dir string, depth int)
	add = func(dir string, depth int) {
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
				s.complete = false
			}
		}
		if depth >= 5 {
			return
		}
		b, err := os.ReadFile(filepath.Join(dir, "info", "alternates"))
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' {
				continue
			}
			if !filepath.IsAbs(line) {
				line = filepath.Join(dir, line)
			}
			add(filepath.Clean(line), depth+1)
		}
	}
	add(filepath.Clean(objectsDir), 0)
	return s
}

func (s *objectStore) close() {
	for _, p := range s.packs {
		p.close()
	}
	s.packs = nil
}

// locate finds the pack and position that hold h.
func (s *objectStore) locate(h plumbing.Hash) (int, int) {
	for i, p := range s.packs {
		if pos := p.idx.find(h[:]); pos >= 0 {
			return i, pos
		}
	}
	return -1, -1
}

// looseObjects lists the loose objects of the object folders that no pack
// holds.
func (s *objectStore) looseObjects() []plumbing.Hash {
	var out []plumbing.Hash
	seen := map[plumbing.Hash]bool{}
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
				if pi, _ := s.locate(h); pi < 0 && !seen[h] {
					seen[h] = true
					out = append(out, h)
				}
			}
		}
	}
	return out
}

// maxDeltaChain bounds a chain of deltas: git writes at most 4095. A
// longer chain, or a cycle of reference deltas, is a corrupt pack.
const maxDeltaChain = 5000

// objReader reads objects for one goroutine.
type objReader struct {
	s     *objectStore
	z     inflater
	cache *objCache // resolved objects by pack and offset; nil for none
	limit int       // the largest object read into memory
}

func (s *objectStore) reader(cacheBytes int64) *objReader {
	r := &objReader{s: s, limit: maxMemObject}
	if cacheBytes > 0 {
		r.cache = newObjCache(cacheBytes)
	}
	return r
}

// read returns the type and content of object h. The content may be
// shared with the reader's cache: it must not be modified.
func (r *objReader) read(h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	return r.readDepth(h, 0)
}

func (r *objReader) readDepth(h plumbing.Hash, depth int) (plumbing.ObjectType, []byte, error) {
	if pi, pos := r.s.locate(h); pi >= 0 {
		return r.readPacked(pi, r.s.packs[pi].idx.offset(pos), depth)
	}
	return r.readLoose(h)
}

// readPacked resolves the object at off in pack pi: it follows the delta
// chain down to a whole object (or one in the cache), then applies the
// deltas back up.
func (r *objReader) readPacked(pi int, off int64, depth int) (plumbing.ObjectType, []byte, error) {
	p := r.s.packs[pi]
	var chain []objHeader
	var (
		typ  plumbing.ObjectType
		base []byte
	)
	for {
		if depth+len(chain) > maxDeltaChain {
			return 0, nil, fmt.Errorf("%w: delta chain longer than %d, or a cycle", errBadPack, maxDeltaChain)
		}
		if r.cache != nil {
			if t, b, ok := r.cache.get(pi, off); ok {
				typ, base = t, b
				break
			}
		}
		h, err := p.header(off)
		if err != nil {
			return 0, nil, err
		}
		if h.typ == plumbing.OFSDeltaObject {
			chain = append(chain, h)
			off = h.baseOff
			continue
		}
		if h.typ == plumbing.REFDeltaObject {
			chain = append(chain, h)
			if pos := p.idx.find(h.base[:]); pos >= 0 {
				off = p.idx.offset(pos)
				continue
			}
			// A thin pack's base in another pack, or loose.
			typ, base, err = r.readDepth(h.base, depth+len(chain))
			if err != nil {
				return 0, nil, fmt.Errorf("base %s of a delta: %w", h.base, err)
			}
			break
		}
		if err := r.fits(p, h); err != nil {
			return 0, nil, err
		}
		base = make([]byte, h.size)
		if err := r.z.inflate(p, h.data, base); err != nil {
			return 0, nil, err
		}
		typ = h.typ
		r.cache.put(pi, off, typ, base)
		break
	}
	for i := len(chain) - 1; i >= 0; i-- {
		h := chain[i]
		if err := r.fits(p, h); err != nil {
			return 0, nil, err
		}
		delta := make([]byte, h.size)
		if err := r.z.inflate(p, h.data, delta); err != nil {
			return 0, nil, err
		}
		out, err := applyDelta(base, delta, nil, r.limit)
		if err != nil {
			return 0, nil, err
		}
		base = out
		r.cache.put(pi, h.off, typ, base)
	}
	return typ, base, nil
}

// fits checks an object's declared size before memory is given to it:
// within the reader's limit, and no more than deflate can make of the
// bytes left in the pack, so that a few crafted bytes cannot claim
// gigabytes.
func (r *objReader) fits(p *packFile, h objHeader) error {
	if h.size > int64(r.limit) {
		return errTooBig
	}
	return p.plausible(h)
}

// maxDeflateRatio is the most deflate expands its input: 258 bytes from
// one bit pattern of at least 2 bits, about 1032:1.
const maxDeflateRatio = 1032

func (p *packFile) plausible(h objHeader) error {
	if left := p.size - h.data; h.size > left*maxDeflateRatio+64 {
		return fmt.Errorf("%w: object at %d claims %d bytes from %d compressed", errBadPack, h.off, h.size, left)
	}
	return nil
}

// readLoose reads a loose object from the object folders.
func (r *objReader) readLoose(h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	hex := h.String()
	for _, dir := range r.s.dirs {
		f, err := os.Open(filepath.Join(dir, hex[:2], hex[2:]))
		if err != nil {
			continue
		}
		typ, data, err := r.z.readLooseFile(f)
		f.Close()
		if err != nil {
			return 0, nil, fmt.Errorf("loose object %s: %w", hex, err)
		}
		return typ, data, nil
	}
	return 0, nil, plumbing.ErrObjectNotFound
}

// readLooseFile decodes a loose object: zlib of "<type> <size>\x00" and
// the content.
func (z *inflater) readLooseFile(f io.Reader) (plumbing.ObjectType, []byte, error) {
	zr, err := zlib.NewReader(bufio.NewReaderSize(f, 32<<10))
	if err != nil {
		return 0, nil, err
	}
	defer zr.Close()
	var head []byte
	for len(head) < 32 {
		if _, err := io.ReadFull(zr, z.one[:1]); err != nil {
			return 0, nil, fmt.Errorf("bad header: %w", err)
		}
		if z.one[0] == 0 {
			break
		}
		head = append(head, z.one[0])
	}
	ts, ss, ok := strings.Cut(string(head), " ")
	typ, err := plumbing.ParseObjectType(ts)
	if !ok || err != nil || typ < plumbing.CommitObject || typ > plumbing.TagObject {
		return 0, nil, fmt.Errorf("bad header %q", head)
	}
	size, err := strconv.ParseInt(ss, 10, 64)
	if err != nil || size < 0 {
		return 0, nil, fmt.Errorf("bad header %q", head)
	}
	if size > maxMemObject {
		return 0, nil, errTooBig
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(zr, data); err != nil {
		return 0, nil, err
	}
	if n, err := zr.Read(z.one[:1]); n != 0 || err != io.EOF {
		return 0, nil, errors.New("object longer than its header says")
	}
	return typ, data, nil
}

// objCache keeps recently resolved objects, up to a number of bytes, so
// that reading objects along the same delta chains (a history's trees)
// applies each delta about once.
type objCache struct {
	max, used int64
	lru       list.List // of *cacheEntry, most recent at the front
	m         map[cacheKey]*list.Element
}

type cacheKey struct {
	pack int
	off  int64
}

type cacheEntry struct {
	key  cacheKey
	typ  plumbing.ObjectType
	data []byte
}

func newObjCache(max int64) *objCache {
	return &objCache{max: max, m: map[cacheKey]*list.Element{}}
}

func (c *objCache) get(pack int, off int64) (plumbing.ObjectType, []byte, bool) {
	if c == nil {
		return 0, nil, false
	}
	e, ok := c.m[cacheKey{pack, off}]
	if !ok {
		return 0, nil, false
	}
	c.lru.MoveToFront(e)
	ce := e.Value.(*cacheEntry)
	return ce.typ, ce.data, true
}

func (c *objCache) put(pack int, off int64, typ plumbing.ObjectType, data []byte) {
	if c == nil || int64(len(data)) > c.max/4 {
		return
	}
	k := cacheKey{pack, off}
	if _, ok := c.m[k]; ok {
		return
	}
	c.m[k] = c.lru.PushFront(&cacheEntry{key: k, typ: typ, data: data})
	c.used += int64(len(data))
	for c.used > c.max {
		e := c.lru.Back()
		ce := e.Value.(*cacheEntry)
		c.lru.Remove(e)
		delete(c.m, ce.key)
		c.used -= int64(len(ce.data))
	}
}

// streamBig returns a reader of blob h's content when h is stored whole
// in a pack and is at least bigBlob bytes: such a blob is streamed rather
// than held in memory.
func (r *objReader) streamBig(h plumbing.Hash) (io.Reader, bool) {
	pi, pos := r.s.locate(h)
	if pi < 0 {
		return nil, false
	}
	p := r.s.packs[pi]
	hd, err := p.header(p.idx.offset(pos))
	if err != nil || hd.typ != plumbing.BlobObject || hd.size < bigBlob {
		return nil, false
	}
	var src io.Reader
	if p.data != nil {
		src = bytes.NewReader(p.data[hd.data:])
	} else {
		src = bufio.NewReaderSize(io.NewSectionReader(p.f, hd.data, p.size-hd.data), 64<<10)
	}
	zr, err := zlib.NewReader(src)
	if err != nil {
		return nil, false
	}
	return &exactReader{r: zr, left: hd.size}, true
}

// exactReader reads exactly left bytes from r: a stream that ends before
// is cut short (io.ErrUnexpectedEOF), and what follows them is not read.
type exactReader struct {
	r    io.Reader
	left int64
}

func (e *exactReader) Read(b []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > e.left {
		b = b[:e.left]
	}
	n, err := e.r.Read(b)
	e.left -= int64(n)
	if err == io.EOF && e.left > 0 {
		err = io.ErrUnexpectedEOF
	} else if err == io.EOF {
		err = nil
	}
	return n, err
}

// packObjects gives go-git's object API (commits, tags, trees decoded by
// go-git) objects read by the pack reader, and falls back to go-git's own
// storage for what the pack reader does not have. It is not safe for
// concurrent use.
type packObjects struct {
	storer.EncodedObjectStorer
	rd *objReader
}

func (p *packObjects) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	typ, data, err := p.rd.read(h)
	if errors.Is(err, plumbing.ErrObjectNotFound) && p.rd.s.complete {
		return nil, err
	}
	if err != nil {
		return p.EncodedObjectStorer.EncodedObject(t, h)
	}
	if t != plumbing.AnyObject && typ != t {
		return nil, plumbing.ErrObjectNotFound
	}
	obj := &plumbing.MemoryObject{}
	obj.SetType(typ)
	obj.Write(data)
	return obj, nil
}
