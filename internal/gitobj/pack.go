package gitobj

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/klauspost/compress/flate"
	"github.com/loftyscan/loftyscan/internal/inflate"
	"github.com/loftyscan/loftyscan/internal/nonblock"
)

// Pack files. A .pack holds objects one after another, each a header (its
// type and inflated size, and for a delta where its base is) and a zlib
// stream. A pack is mapped when the platform allows, and read with ReadAt
// otherwise; every header field is checked before it is used, as packs
// come from anyone's repository.

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
	var fi os.FileInfo
	if p.f, fi, err = nonblock.OpenRegular(p.name); err != nil {
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
	f, fi, err := nonblock.OpenRegular(name)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
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
// data is decoded: from a mapped pack by internal/inflate,
// else streamed through klauspost's flate. The stream must decode to
// exactly the size the object's header declares, which most damage
// breaks; the Adler-32 checksum after it is not verified, so damage that
// leaves the stream whole (a flipped literal byte) goes unnoticed.
// Verifying it is a pass over every inflated byte: 6 to 17% more CPU for
// the inflater (BenchmarkInto), and 3% more for a whole scan of go-git's
// or gitleaks' history (user+sys, 40 runs each, alternating builds), more
// than it is worth to a scanner: git fsck is the tool that verifies
// checksums. A loose object's is verified (compress/zlib does; loose.go).
type inflater struct {
	d   inflate.Decoder
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
		if _, err := z.d.Into(dst, p.data[start+2:]); err != nil {
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

// maxDeflateRatio is the most deflate expands its input: 258 bytes from
// one bit pattern of at least 2 bits, about 1032:1.
const maxDeflateRatio = 1032

func (p *packFile) plausible(h objHeader) error {
	if left := p.size - h.data; h.size > left*maxDeflateRatio+64 {
		return fmt.Errorf("%w: object at %d claims %d bytes from %d compressed", errBadPack, h.off, h.size, left)
	}
	return nil
}
