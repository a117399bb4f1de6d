package gitobj

import (
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// TestObjCache fills the cache past its size: it keeps to its size, keeps
// what was read since the clock last passed over what was not, and gives
// back what it holds.
func TestObjCache(t *testing.T) {
	t.Parallel()
	c := newObjCache(100)
	obj := func(n int) []byte { return make([]byte, n) }
	c.put(0, 1, plumbing.BlobObject, obj(20))
	c.put(0, 2, plumbing.TreeObject, obj(20))
	c.put(0, 3, plumbing.BlobObject, obj(20))
	c.put(0, 4, plumbing.BlobObject, obj(26)) // too big: over a quarter
	if _, _, ok := c.get(0, 4); ok {
		t.Error("an object over a quarter of the cache was kept")
	}
	if typ, b, ok := c.get(0, 2); !ok || typ != plumbing.TreeObject || len(b) != 20 {
		t.Fatalf("get: %v %d %v", typ, len(b), ok)
	}
	for off := int64(10); off < 30; off++ {
		c.get(0, 2) // read between every put: kept
		c.put(0, off, plumbing.BlobObject, obj(20))
		if c.used > c.max {
			t.Fatalf("%d bytes held, more than %d", c.used, c.max)
		}
	}
	if _, _, ok := c.get(0, 2); !ok {
		t.Error("an object read all along was dropped")
	}
	if _, _, ok := c.get(0, 1); ok {
		t.Error("an object never read again is still there")
	}
	held := 0
	for k, i := range c.m {
		if c.ents[i].key != k || c.ents[i].data == nil {
			t.Fatalf("entry %d does not hold %v", i, k)
		}
		held += len(c.ents[i].data)
	}
	if int64(held) != c.used {
		t.Errorf("%d bytes counted, %d held", c.used, held)
	}
	var nilCache *objCache
	nilCache.put(0, 1, plumbing.BlobObject, obj(1))
	if _, _, ok := nilCache.get(0, 1); ok {
		t.Error("a nil cache holds something")
	}
}
