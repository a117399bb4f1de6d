package gitobj

import (
	"github.com/go-git/go-git/v5/plumbing"
)

// objCache keeps recently resolved objects, up to a number of bytes, so
// that reading objects along the same delta chains (a history's trees)
// applies each delta about once. It evicts by the clock algorithm (an
// entry used since the hand last passed it gets a second chance), close to
// least recently used, with no allocation per object: a walk of a history
// puts hundreds of thousands of trees in it.
type objCache struct {
	max, used int64
	m         map[cacheKey]int32 // entry of each object cached
	ents      []cacheEntry
	free      []int32 // entries not in use
	hand      int
}

type cacheKey struct {
	pack int
	off  int64
}

type cacheEntry struct {
	key  cacheKey
	typ  plumbing.ObjectType
	data []byte // nil: the entry is free
	used bool   // read since the hand last passed
}

func newObjCache(max int64) *objCache {
	return &objCache{max: max, m: map[cacheKey]int32{}}
}

func (c *objCache) get(pack int, off int64) (plumbing.ObjectType, []byte, bool) {
	if c == nil {
		return 0, nil, false
	}
	i, ok := c.m[cacheKey{pack, off}]
	if !ok {
		return 0, nil, false
	}
	e := &c.ents[i]
	e.used = true
	return e.typ, e.data, true
}

func (c *objCache) put(pack int, off int64, typ plumbing.ObjectType, data []byte) {
	if c == nil || int64(len(data)) > c.max/4 || len(data) == 0 {
		return
	}
	k := cacheKey{pack, off}
	if _, ok := c.m[k]; ok {
		return
	}
	for c.used+int64(len(data)) > c.max && len(c.m) > 0 {
		c.evict()
	}
	var i int32
	if n := len(c.free); n > 0 {
		i, c.free = c.free[n-1], c.free[:n-1]
	} else {
		i = int32(len(c.ents))
		c.ents = append(c.ents, cacheEntry{})
	}
	c.ents[i] = cacheEntry{key: k, typ: typ, data: data}
	c.m[k] = i
	c.used += int64(len(data))
}

// evict moves the hand on to the first entry not used since it last
// passed, and drops it.
func (c *objCache) evict() {
	for {
		if c.hand >= len(c.ents) {
			c.hand = 0
		}
		e := &c.ents[c.hand]
		c.hand++
		switch {
		case e.data == nil:
		case e.used:
			e.used = false
		default:
			delete(c.m, e.key)
			c.used -= int64(len(e.data))
			*e = cacheEntry{}
			c.free = append(c.free, int32(c.hand-1))
			return
		}
	}
}
