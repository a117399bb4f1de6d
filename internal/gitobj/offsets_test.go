package gitobj

import (
	"math"
	"testing"
)

// TestPackOffsets checks the offsets of a plan in 4 bytes and in 8: an
// entry that cannot be read, searches for offsets there and not, offsets
// past 4 GiB, and a plan of some objects appended to.
func TestPackOffsets(t *testing.T) {
	t.Parallel()
	for _, offs := range [][]int64{
		{-1, -1, 12, 40, 41, 9000, math.MaxUint32 - 1},
		{-1, 12, 40, 9000, math.MaxUint32, 1 << 40},
		{},
	} {
		o := newPackOffsets(append([]int64(nil), offs...))
		fits := len(offs) == 0 || offs[len(offs)-1] < math.MaxUint32
		if (o.small != nil || len(offs) == 0) != fits || o.len() != len(offs) {
			t.Fatalf("%v: kept in 4 bytes: %v, %d entries", offs, o.small != nil, o.len())
		}
		for i, off := range offs {
			if got := o.at(int32(i)); got != off {
				t.Errorf("%v: entry %d is %d", offs, i, got)
			}
			if off < 0 {
				continue
			}
			if j, ok := o.search(off); !ok || j != i {
				t.Errorf("%v: %d found at %d, %v", offs, off, j, ok)
			}
			if _, ok := o.search(off + 1); ok && (i+1 == len(offs) || offs[i+1] != off+1) {
				t.Errorf("%v: %d found", offs, off+1)
			}
		}
		for _, off := range []int64{-1, 0, 1, math.MaxUint32 + 12, 1<<40 + 1} {
			if _, ok := o.search(off); ok {
				t.Errorf("%v: %d found", offs, off)
			}
		}
	}
	// A plan of some objects: offsets appended in the order met.
	var o packOffsets
	for _, off := range []int64{9000, 12, 1 << 40} {
		o.add(off)
	}
	if o.len() != 3 || o.at(0) != 9000 || o.at(1) != 12 || o.at(2) != 1<<40 {
		t.Errorf("offsets added: %d of them, %d %d %d", o.len(), o.at(0), o.at(1), o.at(2))
	}
	if o := newPackOffsets(make([]int64, 1000)); len(o.small) != 1000 || o.big != nil {
		t.Error("offsets of a small pack are not kept in 4 bytes")
	}
}
