package gitobj

import (
	"errors"
	"fmt"
)

// Git deltas. A delta object holds the size of its base, the size of the
// result, and instructions that either copy a range of the base or insert
// literal bytes. The pack reader applies deltas from packs it does not
// trust (a clone of anyone's repository), so every instruction is checked
// against the base, the delta and the declared result size before a byte
// is copied, and the result must come out exactly that size.

var (
	errBadDelta = errors.New("corrupt delta")
	// errBig is returned for an object, or a delta, larger than the
	// reader resolves in memory: it is resolved the big way (resolve.go).
	errBig = errors.New("object too large to resolve in memory")
	// errTooBig is wrapped by TooBigError, for an object larger than the
	// store reads at all the way it was asked for.
	errTooBig = errors.New("object too large to read")
)

// deltaVarint reads one of the two sizes at the head of a delta: 7 bits a
// byte, least significant first.
func deltaVarint(d []byte) (v uint64, n int, ok bool) {
	var shift uint
	for n < len(d) && n < 10 {
		c := d[n]
		n++
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, n, true
		}
		shift += 7
	}
	return 0, 0, false
}

// deltaSizes returns the base size and result size a delta declares, and
// the instructions that follow them.
func deltaSizes(delta []byte) (base, result uint64, ops []byte, err error) {
	base, n, ok := deltaVarint(delta)
	if !ok {
		return 0, 0, nil, fmt.Errorf("%w: bad base size", errBadDelta)
	}
	delta = delta[n:]
	result, n, ok = deltaVarint(delta)
	if !ok {
		return 0, 0, nil, fmt.Errorf("%w: bad result size", errBadDelta)
	}
	return base, result, delta[n:], nil
}

// applyDelta applies delta to base and returns the result, in buf when it
// is big enough (buf must not overlap base). Results over limit bytes are
// refused with errBig before anything is allocated.
func applyDelta(base, delta, buf []byte, limit int) ([]byte, error) {
	baseSize, size, ops, err := deltaSizes(delta)
	if err != nil {
		return nil, err
	}
	if baseSize != uint64(len(base)) {
		return nil, fmt.Errorf("%w: made for a base of %d bytes, not %d", errBadDelta, baseSize, len(base))
	}
	if size > uint64(limit) {
		return nil, errBig
	}
	var out []byte
	if uint64(cap(buf)) >= size {
		out = buf[:size]
	} else {
		out = allocObject(int64(size), int64(size))
	}
	o := 0
	for i := 0; i < len(ops); {
		op, next, err := nextDeltaOp(ops, i, o, len(out), len(base))
		if err != nil {
			return nil, err
		}
		if op.lit {
			copy(out[o:], ops[op.src:op.src+op.n])
		} else {
			copy(out[o:], base[op.src:op.src+op.n])
		}
		o, i = o+op.n, next
	}
	if o != len(out) {
		return nil, fmt.Errorf("%w: result is %d bytes, not the %d declared", errBadDelta, o, len(out))
	}
	return out, nil
}

// nextDeltaOp decodes the instruction of a delta at ops[i], the result
// having o of its size bytes written, over a base of baseLen bytes, and
// checks it as git does: a copy within the base, an insert within the
// instructions, neither past the result's size. It returns where the
// next instruction starts. applyDelta, the unmade leaf trees of a sweep
// and deltaCopies all read instructions through it.
func nextDeltaOp(ops []byte, i, o, size, baseLen int) (deltaSpan, int, error) {
	cmd := ops[i]
	i++
	switch {
	case cmd&0x80 != 0: // copy from the base
		var off, n int
		for bit := range 4 {
			if cmd&(1<<bit) != 0 {
				if i >= len(ops) {
					return deltaSpan{}, i, fmt.Errorf("%w: truncated copy", errBadDelta)
				}
				off |= int(ops[i]) << (8 * bit)
				i++
			}
		}
		for bit := range 3 {
			if cmd&(0x10<<bit) != 0 {
				if i >= len(ops) {
					return deltaSpan{}, i, fmt.Errorf("%w: truncated copy", errBadDelta)
				}
				n |= int(ops[i]) << (8 * bit)
				i++
			}
		}
		if n == 0 {
			n = 0x10000
		}
		if off+n > baseLen || n > size-o {
			return deltaSpan{}, i, fmt.Errorf("%w: copy out of bounds", errBadDelta)
		}
		return deltaSpan{out: o, src: off, n: n}, i, nil
	case cmd != 0: // insert the next cmd bytes
		n := int(cmd)
		if n > len(ops)-i || n > size-o {
			return deltaSpan{}, i, fmt.Errorf("%w: insert out of bounds", errBadDelta)
		}
		return deltaSpan{out: o, src: i, n: n, lit: true}, i + n, nil
	}
	return deltaSpan{}, i, fmt.Errorf("%w: reserved instruction 0", errBadDelta)
}
