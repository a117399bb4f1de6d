package gitobj

import (
	"container/list"

	"github.com/go-git/go-git/v5/plumbing"
)

// objCache keeps recently resolved objects, up to a number of bytes, so
// that reading objects along the same delta chains (a history's trees)
// applies each delta about once.
type objCache struct {
	max, used int64
	lru       list.List // of *cacheEntry, most recent at the front
	m         map[cacheKey]*list.Element
}

type cacheKey struct {
	pack int
	off  int64
}

type cacheEntry struct {
	key  cacheKey
	typ  plumbing.ObjectType
	data []byte
}

func newObjCache(max int64) *objCache {
	return &objCache{max: max, m: map[cacheKey]*list.Element{}}
}

func (c *objCache) get(pack int, off int64) (plumbing.ObjectType, []byte, bool) {
	if c == nil {
		return 0, nil, false
	}
	e, ok := c.m[cacheKey{pack, off}]
	if !ok {
		return 0, nil, false
	}
	c.lru.MoveToFront(e)
	ce := e.Value.(*cacheEntry)
	return ce.typ, ce.data, true
}

func (c *objCache) put(pack int, off int64, typ plumbing.ObjectType, data []byte) {
	if c == nil || int64(len(data)) > c.max/4 {
		return
	}
	k := cacheKey{pack, off}
	if _, ok := c.m[k]; ok {
		return
	}
	c.m[k] = c.lru.PushFront(&cacheEntry{key: k, typ: typ, data: data})
	c.used += int64(len(data))
	for c.used > c.max {
		e := c.lru.Back()
		ce := e.Value.(*cacheEntry)
		c.lru.Remove(e)
		delete(c.m, ce.key)
		c.used -= int64(len(ce.data))
	}
}
