package gitobj

import (
	"bufio"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/nonblock"
)

// Loose objects: one zlib stream of "<type> <size>\x00" and the content
// per file, under objects/xx/ by the first byte of the name. The header's
// size is checked against what the file's bytes can inflate to before it
// decides anything, and the content must come out exactly that size.
// compress/zlib verifies the stream's Adler-32 checksum once the content
// is read (zlib.ErrChecksum): a loose object is few and small, and unlike
// a packed one (pack.go) is checked.

// looseObject is an open loose object, its header read.
type looseObject struct {
	name string
	f    *os.File
	br   *bufio.Reader // zr's source, reused with it (looseReaders)
	zr   io.ReadCloser
	typ  plumbing.ObjectType
	size int64
}

func (o *looseObject) close() {
	if o.zr == nil {
		return // closed already
	}
	o.zr.Close()
	o.f.Close()
	putLooseReader(o.br, o.zr)
	o.zr, o.br = nil, nil
}

// looseReaders keeps the buffered and zlib readers of closed loose
// objects: each is some 70 KB (a 32 KiB buffer, flate's 32 KiB window and
// tables), and a repository of many loose objects (recent commits, tags
// fetched one by one) allocated them for each: 30,000 loose tags spent a
// quarter of a scan's CPU there and in the collector.
//
// It is a bounded free list, not a sync.Pool: a pool is emptied by each
// garbage collection and, under the race detector, drops a quarter of
// what it is given, so reuse came and went with the collector's timing.
// At most maxLooseReaders are kept (about 1 MB), more than the objects
// the scan's workers hold open at once.
var looseReaders = make(chan looseReader, maxLooseReaders)

const maxLooseReaders = 16

type looseReader struct {
	br *bufio.Reader
	zr io.ReadCloser
}

// newLooseReader returns the zlib stream of the file f, reusing a closed
// object's readers when there is one.
func newLooseReader(f *os.File) (*bufio.Reader, io.ReadCloser, error) {
	select {
	case lr := <-looseReaders:
		lr.br.Reset(f)
		if err := lr.zr.(zlib.Resetter).Reset(lr.br, nil); err != nil {
			putLooseReader(lr.br, lr.zr)
			return nil, nil, err
		}
		return lr.br, lr.zr, nil
	default:
	}
	br := bufio.NewReaderSize(f, 32<<10)
	zr, err := zlib.NewReader(br)
	return br, zr, err
}

// putLooseReader keeps a closed object's readers for the next one, when
// the list has room.
func putLooseReader(br *bufio.Reader, zr io.ReadCloser) {
	if br == nil {
		return
	}
	br.Reset(nil) // the closed file is not held
	select {
	case looseReaders <- looseReader{br: br, zr: zr}:
	default:
	}
}

// content reads the content, exactly size bytes: a stream that goes on
// past them fails at its end (errLonger).
func (o *looseObject) content() io.Reader {
	return &exactReader{r: o.zr, left: o.size, strict: true}
}

// openLoose opens loose object h in the first object folder that has it,
// and reads its header.
func (s *Store) openLoose(h plumbing.Hash) (*looseObject, error) {
	hex := h.String()
	for _, dir := range s.dirs {
		f, _, err := nonblock.OpenRegular(filepath.Join(dir, hex[:2], hex[2:]))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("loose object %s: %w", hex, err)
		}
		o, err := readLooseHeader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("loose object %s: %w", hex, err)
		}
		o.name = hex
		return o, nil
	}
	return nil, plumbing.ErrObjectNotFound
}

// readLooseHeader reads the header of the loose object in f.
func readLooseHeader(f *os.File) (*looseObject, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	br, zr, err := newLooseReader(f)
	if err != nil {
		return nil, err
	}
	o := &looseObject{f: f, br: br, zr: zr}
	var head []byte
	var one [1]byte
	for len(head) < 32 {
		if _, err := io.ReadFull(zr, one[:]); err != nil {
			o.dropReaders()
			return nil, fmt.Errorf("bad header: %w", err)
		}
		if one[0] == 0 {
			break
		}
		head = append(head, one[0])
	}
	ts, ss, ok := strings.Cut(string(head), " ")
	typ, err := plumbing.ParseObjectType(ts)
	size, serr := strconv.ParseInt(ss, 10, 64)
	if !ok || err != nil || typ < plumbing.CommitObject || typ > plumbing.TagObject || serr != nil || size < 0 {
		o.dropReaders()
		return nil, fmt.Errorf("bad header %q", head)
	}
	if size > fi.Size()*maxDeflateRatio+64 {
		o.dropReaders()
		return nil, fmt.Errorf("%w: the header claims %d bytes from %d compressed", errBadPack, size, fi.Size())
	}
	o.typ, o.size = typ, size
	return o, nil
}

// dropReaders gives back the readers of an object whose header did not
// read (its file is closed by the caller).
func (o *looseObject) dropReaders() {
	o.zr.Close()
	putLooseReader(o.br, o.zr)
	o.zr, o.br = nil, nil
}

// readLoose reads a loose object whole, when it is at most the reader's
// limit (else errBig).
func (r *Reader) readLoose(h plumbing.Hash) (plumbing.ObjectType, []byte, error) {
	o, err := r.s.openLoose(h)
	if err != nil {
		return 0, nil, err
	}
	defer o.close()
	if o.size > int64(r.limit) {
		return 0, nil, errBig
	}
	data, err := o.readWhole()
	return o.typ, data, err
}

// readWhole reads the content into memory.
func (o *looseObject) readWhole() ([]byte, error) {
	data := allocObject(o.size, o.size)
	rd := o.content()
	if _, err := io.ReadFull(rd, data); err != nil {
		return nil, fmt.Errorf("loose object %s: %w", o.name, err)
	}
	if _, err := rd.Read(data[:0:0]); err != io.EOF {
		return nil, fmt.Errorf("loose object %s: %w", o.name, err)
	}
	return data, nil
}

// resolveLoose resolves loose object h for m (resolve.go).
func (r *Reader) resolveLoose(h plumbing.Hash, m mode, budget *spillBudget) (resolved, error) {
	o, err := r.s.openLoose(h)
	if err != nil {
		return resolved{}, err
	}
	res := resolved{typ: o.typ, size: o.size}
	switch {
	case o.size <= int64(r.limit) || m == modeWhole:
		defer o.close()
		if o.size > maxWhole {
			return res, tooBig(o.size, maxWhole)
		}
		res.data, err = o.readWhole()
		return res, err
	case m == modeStream:
		res.stream = &looseStream{Reader: o.content(), o: o}
		return res, nil
	}
	defer o.close()
	if err := spend(budget, o.size); err != nil {
		return res, err
	}
	res.file, err = spill(o.content(), o.size)
	if err != nil {
		err = fmt.Errorf("loose object %s: %w", o.name, err)
	}
	return res, err
}

// looseStream streams a loose object's content and closes its file.
type looseStream struct {
	io.Reader
	o *looseObject
}

func (l *looseStream) Close() error {
	l.o.close()
	// Its readers now serve other objects: reads after Close fail.
	l.Reader = closedReader{}
	return nil
}

// closedReader is a closed stream's: every read fails.
type closedReader struct{}

func (closedReader) Read([]byte) (int, error) { return 0, os.ErrClosed }
