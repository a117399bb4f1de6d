package gitscan

import (
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/scanner"
)

// Names inside compressed blobs. A blob is scanned under its hash, so a
// compressed file whose header names nothing (gzip -n, a bzip2, xz or
// zstd stream) is first named after the hash: "<hash>!<hash>". A folder
// names the same file after its own name: "x.env.gz!x.env". Once the blob's
// path is known, placeOf names it the folder's way.

// blobHeads reads the first bytes of blobs, for placeOf: rarely (only the
// findings and warnings of compressed blobs need it), from any goroutine.
type blobHeads struct {
	mu sync.Mutex
	s  *gitobj.Store
	rd *gitobj.Reader
}

// head returns the first bytes of blob h, or nil when it cannot be read.
func (b *blobHeads) head(h plumbing.Hash) []byte {
	if b == nil || b.s == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rd == nil {
		b.rd = b.s.Reader(0)
	}
	o, err := b.rd.Object(h)
	if err != nil {
		return nil
	}
	if o.Stream != nil {
		defer o.Stream.Close()
		buf := make([]byte, 512)
		n, _ := o.Stream.Read(buf)
		return buf[:n]
	}
	return o.Data[:min(len(o.Data), 512)]
}

// placeOf returns where the content of blob h found under label rest
// ("" or "!inner/path") is, for the blob at path p.
func (s *gitSink) placeOf(h plumbing.Hash, p, rest string) string {
	self := "!" + h.String()
	if rest == self || strings.HasPrefix(rest, self+"!") {
		if name, ok := scanner.InnerName(p, s.heads.head(h)); ok {
			rest = "!" + name + rest[len(self):]
		}
	}
	return p + rest
}
