package scanner

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"io"
)

// git's loose objects: each file under a repository's objects/xx/ is a
// zlib stream of a header ("blob 123", NUL) and the object. A copied .git
// folder (a backup.git, a bare mirror, a Docker layer built with COPY . .)
// keeps its latest commits in them, the key a commit removed among them;
// git's packs are named in a warning (compress.go), these are opened.
// Content is one when it starts with a zlib header git writes (levels 1
// to 9) and its first bytes inflate to an object's header: one look at a
// byte for most files, a trial inflate for those that start with 'x' and
// one of four bytes.

// maxLooseHeader bounds an object's header: "commit", a space, at most 20
// digits of size, and the NUL.
const maxLooseHeader = 32

// isGitLoose reports whether head, the start of some content, is the start
// of a loose object.
func isGitLoose(head []byte) bool {
	if len(head) < 2 || head[0] != 0x78 || (head[1] != 0x01 && head[1] != 0x5e && head[1] != 0x9c && head[1] != 0xda) {
		return false
	}
	zr, err := zlib.NewReader(bytes.NewReader(head))
	if err != nil {
		return false
	}
	var hdr [maxLooseHeader]byte
	n, _ := io.ReadFull(zr, hdr[:])
	_, ok := looseHeaderEnd(hdr[:n])
	return ok
}

// looseHeaderEnd returns the length of the object header that starts b,
// its NUL included: a type git writes, a space and a decimal size.
func looseHeaderEnd(b []byte) (int, bool) {
	sp := bytes.IndexByte(b, ' ')
	if sp < 0 {
		return 0, false
	}
	switch string(b[:sp]) {
	case "blob", "tree", "commit", "tag":
	default:
		return 0, false
	}
	i := sp + 1
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	if i == sp+1 || i == len(b) || b[i] != 0 {
		return 0, false
	}
	return i + 1, true
}

// openGitLoose inflates a loose object, and returns the object without
// its header: a blob's content, a commit's or tag's text, a tree's
// entries (whose names are searched as any text is).
func openGitLoose(_ context.Context, _ *streamer, rd io.Reader) (io.ReadCloser, error) {
	zr, err := zlib.NewReader(rd)
	if err != nil {
		return nil, err
	}
	var hdr []byte
	for len(hdr) < maxLooseHeader {
		var c [1]byte
		if _, err := io.ReadFull(zr, c[:]); err != nil {
			zr.Close()
			return nil, err
		}
		hdr = append(hdr, c[0])
		if c[0] == 0 {
			break
		}
	}
	if _, ok := looseHeaderEnd(hdr); !ok {
		zr.Close()
		return nil, errors.New("not a git object: its header is not one git writes")
	}
	return zr, nil
}
