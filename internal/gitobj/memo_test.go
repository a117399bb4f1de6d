package gitobj

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// TestChainMemo reads a chain of versions of an object too big for the
// Reader's cache from its deepest delta up, as a walk in commit order
// reads a big tree stored as git stores it (the newest whole, each older
// version a delta of the next newer), and rereads the one before each:
// the memo's checkpoints keep each read to a few deltas. Without them
// each read applied every delta down to the chain's end again: 200
// versions of a 6 MB tree in a chain 175 deep (a 339 KB pack) took 58 s
// of CPU to scan, where git took 0.7 (1.0 now).
func TestChainMemo(t *testing.T) {
	const n, size = 120, 32 << 10
	base := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	version := func(i int) []byte {
		return append(bytes.Clone(base[:size-20]), fmt.Sprintf("%19d\n", i)...)
	}
	// Object k is version n-k: the newest whole, each older one a delta
	// of the one before it in the pack.
	objs := []testgit.Object{{Type: plumbing.BlobObject, Data: version(n)}}
	for k := 1; k <= n; k++ {
		v := version(n - k)
		objs = append(objs, testgit.Object{Type: plumbing.OFSDeltaObject, Base: k - 1, Data: testgit.MakeDelta(version(n-k+1), v), Name: testgit.ObjectName(plumbing.BlobObject, v)})
	}
	dir := filepath.Join(t.TempDir(), "objects")
	names := testgit.WritePack(t, dir, objs)
	s := Open(dir, nil)
	defer s.Close()
	rd := s.Reader(2 * size) // the cache keeps objects of a quarter of it, not these
	read := func(k int) {
		if _, data, err := rd.Read(names[k]); err != nil || !bytes.Equal(data, version(n-k)) {
			t.Fatalf("version %d: %v", n-k, err)
		}
	}
	mem := allocated(func() {
		for k := n; k > 0; k-- { // the oldest first
			read(k)
			if k < n {
				read(k + 1)
			}
			read(k)
		}
	})
	// Each delta applied allocates a version: the chain's end to each
	// read's version would be n*n/2 of them.
	if got := mem / size; got > 12*n {
		t.Errorf("%d versions allocated for %d versions read; want at most %d", got, 3*n, 12*n)
	}
	t.Logf("%d versions allocated for %d read", mem/size, 3*n)
	if rd.memo != nil && rd.memo.used > rd.memo.max {
		t.Errorf("the memo holds %d bytes, over its %d", rd.memo.used, rd.memo.max)
	}
}
