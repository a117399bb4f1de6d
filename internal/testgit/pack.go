package testgit

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// Object is one object of a pack written by WritePack: whole, an offset
// delta against an earlier object of the same pack, or a reference delta
// against any object by name. Fields left zero are computed.
type Object struct {
	Type plumbing.ObjectType
	Data []byte        // the content, or the delta
	Base int           // offset delta: index of the base in the same pack
	Ref  plumbing.Hash // reference delta: the base's name
	Name plumbing.Hash // the name in the index; zero: computed (whole objects)
	Size int64         // the size the header declares; 0: len(Data)
	Raw  []byte        // the bytes after the header instead of zlib of Data
}

// ObjectName is git's name of an object: SHA-1 of "<type> <size>\x00" and
// the content.
func ObjectName(typ plumbing.ObjectType, data []byte) plumbing.Hash {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", typ, len(data))
	h.Write(data)
	var out plumbing.Hash
	copy(out[:], h.Sum(nil))
	return out
}

// BuildPack encodes objects as a version 2 pack and its version 2 index.
func BuildPack(t testing.TB, objs []Object) (pack, idx []byte, names []plumbing.Hash) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("PACK")
	binary.Write(&b, binary.BigEndian, uint32(2))
	binary.Write(&b, binary.BigEndian, uint32(len(objs)))
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	offs := make([]int64, len(objs))
	crcs := make([]uint32, len(objs))
	names = make([]plumbing.Hash, len(objs))
	for i, o := range objs {
		offs[i] = int64(b.Len())
		size := o.Size
		if size == 0 {
			size = int64(len(o.Data))
		}
		var e []byte
		c := byte(o.Type)<<4 | byte(size&15)
		size >>= 4
		for size > 0 {
			e = append(e, c|0x80)
			c = byte(size & 0x7f)
			size >>= 7
		}
		e = append(e, c)
		switch o.Type {
		case plumbing.OFSDeltaObject:
			rel := uint64(offs[i] - offs[o.Base])
			enc := []byte{byte(rel & 0x7f)}
			for rel >>= 7; rel > 0; rel >>= 7 {
				rel--
				enc = append([]byte{byte(0x80 | rel&0x7f)}, enc...)
			}
			e = append(e, enc...)
		case plumbing.REFDeltaObject:
			e = append(e, o.Ref[:]...)
		}
		if o.Raw != nil {
			e = append(e, o.Raw...)
		} else {
			z.Reset()
			zw.Reset(&z) // one writer for all: each new one allocates its tables
			zw.Write(o.Data)
			zw.Close()
			e = append(e, z.Bytes()...)
		}
		crcs[i] = crc32.ChecksumIEEE(e)
		b.Write(e)
		names[i] = o.Name
		if names[i].IsZero() {
			if o.Type >= plumbing.OFSDeltaObject {
				t.Fatalf("object %d: a delta needs a name", i)
			}
			names[i] = ObjectName(o.Type, o.Data)
		}
	}
	sum := sha1.Sum(b.Bytes())
	b.Write(sum[:])
	pack = b.Bytes()

	order := make([]int, len(objs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int { return bytes.Compare(names[x][:], names[y][:]) })
	var x bytes.Buffer
	x.WriteString("\xfftOc")
	binary.Write(&x, binary.BigEndian, uint32(2))
	for c := range 256 {
		n := 0
		for _, i := range order {
			if int(names[i][0]) <= c {
				n++
			}
		}
		binary.Write(&x, binary.BigEndian, uint32(n))
	}
	for _, i := range order {
		x.Write(names[i][:])
	}
	for _, i := range order {
		binary.Write(&x, binary.BigEndian, crcs[i])
	}
	for _, i := range order {
		binary.Write(&x, binary.BigEndian, uint32(offs[i]))
	}
	x.Write(sum[:])
	isum := sha1.Sum(x.Bytes())
	x.Write(isum[:])
	return pack, x.Bytes(), names
}

// WritePack writes objects as a pack into an object folder's pack
// folder and returns their names.
func WritePack(t testing.TB, objectsDir string, objs []Object) []plumbing.Hash {
	t.Helper()
	pack, idx, names := BuildPack(t, objs)
	dir := filepath.Join(objectsDir, "pack")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, "pack-"+hex.EncodeToString(pack[len(pack)-20:]))
	if err := os.WriteFile(base+".pack", pack, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(base+".idx", idx, 0o644); err != nil {
		t.Fatal(err)
	}
	return names
}

// MakeDelta returns a delta that turns base into result: a copy of their
// common prefix, then the rest inserted.
func MakeDelta(base, result []byte) []byte {
	d := AppendVarint(nil, uint64(len(base)))
	d = AppendVarint(d, uint64(len(result)))
	n := 0
	for n < len(base) && n < len(result) && base[n] == result[n] {
		n++
	}
	for off := 0; off < n; {
		size := min(n-off, 0xffff)
		d = appendCopy(d, off, size)
		off += size
	}
	for rest := result[n:]; len(rest) > 0; {
		k := min(len(rest), 127)
		d = append(d, byte(k))
		d = append(d, rest[:k]...)
		rest = rest[k:]
	}
	return d
}

// AppendVarint appends v as a delta header's size: 7 bits a byte, least
// significant first.
func AppendVarint(d []byte, v uint64) []byte {
	for v >= 0x80 {
		d = append(d, byte(v)|0x80)
		v >>= 7
	}
	return append(d, byte(v))
}

// appendCopy appends a copy instruction with every offset and size byte
// present.
func appendCopy(d []byte, off, size int) []byte {
	return append(d, 0xff, byte(off), byte(off>>8), byte(off>>16), byte(off>>24), byte(size), byte(size>>8), byte(size>>16))
}

// Lines makes a text of n numbered lines, for blobs that delta well.
func Lines(prefix string, n int) []byte {
	var b bytes.Buffer
	for i := range n {
		b.WriteString(prefix + " line " + strconv.Itoa(i) + "\n")
	}
	return b.Bytes()
}

// RepeatDelta returns a delta that makes size bytes of base repeated over
// and over: one copy instruction of up to three bytes per copy of base (64
// KiB at most), so that a few hundred bytes of a pack make gigabytes, as a
// crafted pack does. base must not be empty.
func RepeatDelta(base []byte, size int64) []byte {
	d := AppendVarint(nil, uint64(len(base)))
	d = AppendVarint(d, uint64(size))
	step := int64(min(len(base), 0x10000))
	for left := size; left > 0; left -= step {
		n := min(left, step)
		switch {
		case n == 0x10000:
			d = append(d, 0x80) // no size bytes: 64 KiB from offset 0
		case n > 0xff:
			d = append(d, 0x80|0x10|0x20, byte(n), byte(n>>8))
		default:
			d = append(d, 0x80|0x10, byte(n))
		}
	}
	return d
}

// RepeatName is the name of the blob RepeatDelta(base, size) makes,
// hashed without holding it.
func RepeatName(base []byte, size int64) plumbing.Hash {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", plumbing.BlobObject, size)
	step := int64(min(len(base), 0x10000))
	for left := size; left > 0; left -= step {
		h.Write(base[:min(left, step)])
	}
	var out plumbing.Hash
	copy(out[:], h.Sum(nil))
	return out
}
