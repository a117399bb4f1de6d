package gitobj

import (
	"bufio"
	"io"
	"os"
	"runtime"
)

// Spilling. Git stores the versions of a big file as deltas of one
// another: to stream the newest, its base (the next version down the
// chain) must be at hand for copies, and so must every version between it
// and the whole object at the bottom. Those of bigObject bytes or more are
// written to a temporary file, one at a time, instead of being held: disk
// rather than memory, at most maxSpill bytes for one object read.

// spillFile is a resolved object written to a temporary file, removed when
// it is closed (on Unix at once: the open file stays readable).
type spillFile struct {
	f       *os.File
	size    int64
	removed bool
}

// spill writes what rd gives, size bytes, to a temporary file.
func spill(rd io.Reader, size int64) (*spillFile, error) {
	f, err := os.CreateTemp("", "loftyscan-object-*")
	if err != nil {
		return nil, err
	}
	s := &spillFile{f: f, size: size}
	if runtime.GOOS != "windows" {
		s.removed = os.Remove(f.Name()) == nil
	}
	w := bufio.NewWriterSize(f, 256<<10)
	n, err := io.Copy(w, rd)
	if err == nil {
		err = w.Flush()
	}
	if err == nil && n != size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *spillFile) close() {
	name := s.f.Name()
	s.f.Close()
	if !s.removed {
		os.Remove(name)
	}
}
