package gitobj

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// TestWorkerShare: workers that read at once share what they may hold.
// A 6 MiB blob, packed and loose, is held in memory by one of 2 workers
// (its share is 32 MiB) but streamed by one of 64 (2 MiB each), and a
// sweep with 64 workers leaves it to be streamed; both give its bytes.
func TestWorkerShare(t *testing.T) {
	if got := share(2); got != bigObject {
		t.Errorf("share of 2 workers: %d, want %d", got, bigObject)
	}
	if got := share(64) * 64; got > objectBudget {
		t.Errorf("64 workers share %d bytes, over %d", got, objectBudget)
	}
	if got := share(1 << 20); got != minShare {
		t.Errorf("share of a million workers: %d, want the floor %d", got, minShare)
	}
	dir := filepath.Join(t.TempDir(), "objects")
	const size = 6 << 20
	content := func(i int) []byte {
		b := make([]byte, size)
		copy(b, fmt.Sprintf("blob number %d\n", i))
		return b
	}
	packed := testgit.WritePack(t, dir, []testgit.Object{{Type: plumbing.BlobObject, Data: content(0)}})[0]
	loose := testgit.WriteLoose(t, dir, fmt.Sprintf("blob %d", size), bytes.NewReader(content(1)))
	s := Open(dir, nil)
	defer s.Close()
	for i, h := range []plumbing.Hash{packed, loose} {
		for _, workers := range []int{2, 64} {
			o, err := s.WorkerReader(16<<20, workers).Object(h)
			if err != nil {
				t.Fatalf("blob %d, %d workers: %v", i, workers, err)
			}
			data := o.Data
			if o.Stream != nil {
				var buf bytes.Buffer
				_, err = buf.ReadFrom(o.Stream)
				o.Stream.Close()
				data = buf.Bytes()
			}
			if streamed := o.Stream != nil; streamed != (workers == 64) || err != nil || !bytes.Equal(data, content(i)) {
				t.Errorf("blob %d, %d workers: streamed %v, %d bytes, %v; want streamed only by one of 64, its bytes", i, workers, streamed, len(data), err)
			}
		}
	}
	for _, workers := range []int{2, 64} {
		var mu sync.Mutex
		var seen []plumbing.Hash
		s.Sweep(context.Background(), SweepOptions{Workers: workers, Types: TypesOf(plumbing.BlobObject)}, func(_ int, h plumbing.Hash, _ plumbing.ObjectType, _ []byte) {
			mu.Lock()
			seen = append(seen, h)
			mu.Unlock()
		})
		if want := workers == 2; (len(seen) == 1) != want {
			t.Errorf("a sweep with %d workers delivered %v; want the 6 MiB blob only with 2", workers, seen)
		}
	}
}

// TestReadLocOverShare: a tree bigger than a worker's share (a folder of
// 30,000 files is 1.1 MB, over the 1 MiB share of one of 128 workers; a
// folder of a million files, 37 MB, is over the 32 MiB of one of 2) is
// read by ReadLoc, as Read reads it, whole: a walk reads trees by their
// place. ReadLoc once gave the "too large" error, and a walk called the
// tree missing or corrupt and scanned none of its files.
func TestReadLocOverShare(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "objects")
	var tree []byte
	for i := range 30_000 {
		tree = fmt.Appendf(tree, "100644 f%08d\x00%s", i, bytes.Repeat([]byte{byte(i)}, 20))
	}
	h := testgit.WritePack(t, dir, []testgit.Object{{Type: plumbing.TreeObject, Data: tree}})[0]
	s := Open(dir, nil)
	defer s.Close()
	for _, workers := range []int{2, 128} {
		r := s.WorkerReader(0, workers)
		typ, data, err := r.ReadLoc(s.Locate(h))
		if err != nil || typ != plumbing.TreeObject || !bytes.Equal(data, tree) {
			t.Errorf("%d workers: %v, %d bytes, %v; want the tree's %d bytes", workers, typ, len(data), err, len(tree))
		}
	}
}
