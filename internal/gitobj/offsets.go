package gitobj

import (
	"math"
	"slices"
)

// packOffsets are the pack offsets of a sweep plan's objects. A pack
// under 4 GiB (nearly every one) has them in 4 bytes each, not 8: a plan
// holds one an object through the sweep, and at a million commits (4
// million objects) the 16 MB saved is held beside the revision walk's
// nodes, at the peak of the scan's memory. An offset of 0 (never an
// object's) stands for -1, an entry that cannot be read.
type packOffsets struct {
	small []uint32 // when every offset fits; else nil
	big   []int64
}

// newPackOffsets keeps offs, -1 for an entry that cannot be read, in as
// few bytes as they fit in.
func newPackOffsets(offs []int64) packOffsets {
	for _, off := range offs {
		if off >= math.MaxUint32 {
			return packOffsets{big: offs}
		}
	}
	small := make([]uint32, len(offs))
	for i, off := range offs {
		small[i] = uint32(max(off, 0))
	}
	return packOffsets{small: small}
}

func (o *packOffsets) len() int {
	if o.small != nil {
		return len(o.small)
	}
	return len(o.big)
}

// at returns the offset of object i, -1 when it cannot be read.
func (o *packOffsets) at(i int32) int64 {
	if o.small != nil {
		if v := o.small[i]; v != 0 {
			return int64(v)
		}
		return -1
	}
	return o.big[i]
}

// search returns the object at off, when the offsets are in pack order;
// an entry that cannot be read is at no offset.
func (o *packOffsets) search(off int64) (int, bool) {
	switch {
	case off <= 0:
		return 0, false
	case o.small != nil:
		if off >= math.MaxUint32 {
			return 0, false
		}
		return slices.BinarySearch(o.small, uint32(off))
	}
	return slices.BinarySearch(o.big, off)
}

// add appends an object at off to a plan of some objects (planObjects),
// which starts empty and lists them in the order they are met, not in pack
// order: its offsets are kept in 8 bytes.
func (o *packOffsets) add(off int64) { o.big = append(o.big, off) }
