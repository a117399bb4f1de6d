package gitobj

import (
	"fmt"

	"github.com/loftyscan/loftyscan/finding"
)

// Memory bounds. A repository is anyone's: an object header, a delta or a
// loose object may claim any size, and a few hundred bytes of a pack can
// expand to gigabytes. What the store holds in memory is bounded here,
// whatever the objects claim:
//
//   - an object read whole (Read), or resolved on the way to another, is
//     held in memory only under bigObject bytes;
//   - a blob (or any object Object is asked for) of bigObject bytes or more
//     is streamed: from the pack or loose file, or, for a delta, applied
//     while it is read (deltaReader), its base held or in a temporary file;
//   - a delta base or an intermediate result of bigObject bytes or more is
//     written to a temporary file (spill.go), at most maxSpill bytes for
//     one read, rather than held;
//   - Read returns objects up to maxWhole bytes (a tree, commit or tag that
//     large is read once, whole) and refuses bigger ones with errTooBig;
//   - a delta whose result is more than maxAmplification times its base
//     and delta together, and more than amplifiedFloor bytes, is scanned
//     up to amplifiedFloor bytes and reported (a crafted pack).
//
// Every buffer whose size an object header or a delta declares is made by
// allocObject, after that size was checked against these bounds and
// against what the pack's bytes can inflate to (fits, plausible,
// applyDelta).
const (
	bigObject        = 32 << 20
	maxWhole         = 64 << 20
	maxSpill         = 4 << 30
	maxAmplification = 1024
	amplifiedFloor   = 1 << 30
)

// bigBlob is the size from which a blob is streamed, and the default bound
// on what a sweep holds.
const bigBlob = bigObject

// Workers share the bounds. Each worker of a scan holds an object of up to
// its bound in memory, with a delta and a base beside it, and a cache: a
// bound of bigObject for each of 64 workers would let a repository of 64
// distinct 31 MiB blobs (a few MiB on disk) take 2 GiB. WorkerReader and
// Sweep divide objectBudget and cacheBudget among the workers instead;
// objects over a worker's share are streamed, as big ones are.
const (
	objectBudget = 128 << 20
	cacheBudget  = 64 << 20
	minShare     = 1 << 20
)

// share is the largest object each of n workers holds in memory.
func share(n int) int64 {
	return min(max(objectBudget/int64(max(n, 1)), minShare), bigObject)
}

// allocObject returns a buffer of n bytes (with room for capacity) for an
// object, a delta or the result of one.
func allocObject(n, capacity int64) []byte { return make([]byte, n, capacity) }

// TooBigError is returned for an object larger than the store reads into
// memory (Read), or whose delta chain needs more than it writes to
// temporary files (maxSpill): it says what was too big.
type TooBigError struct {
	Size  int64 // the size the object declares, or the chain needs
	Limit int64 // the bound it exceeds
	Chain bool  // the delta chain, not the object, is too big
}

func (e *TooBigError) Error() string {
	if e.Chain {
		return fmt.Sprintf("its delta chain holds big versions of more than %s in all, the most resolved for one object", finding.HumanBytes(e.Limit))
	}
	return fmt.Sprintf("object of %s, more than the %s read into memory", finding.HumanBytes(e.Size), finding.HumanBytes(e.Limit))
}

// Is makes errors.Is(err, errTooBig) hold.
func (e *TooBigError) Is(target error) bool { return target == errTooBig }

func tooBig(size, limit int64) error { return &TooBigError{Size: size, Limit: limit} }
