package gitobj

import (
	"bufio"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// Loose objects: one zlib stream of "<type> <size>\x00" and the content
// per file, under objects/xx/ by the first byte of the name.

// readLoose reads a loose object from the object folders.
func (r *Reader) readLoose(h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
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
	data := allocObject(size, size)
	if _, err := io.ReadFull(zr, data); err != nil {
		return 0, nil, err
	}
	if n, err := zr.Read(z.one[:1]); n != 0 || err != io.EOF {
		return 0, nil, errors.New("object longer than its header says")
	}
	return typ, data, nil
}
