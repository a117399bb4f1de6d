package gitobj

// allocObject returns a buffer of n bytes (with room for capacity) for an
// object, a delta or the result of one. Every buffer whose size an object
// header or a delta declares is made here, after that size was checked
// against the reader's limit and what the pack's bytes can inflate to
// (fits, plausible, applyDelta): bounds on the memory reads may take
// belong here.
func allocObject(n, capacity int64) []byte { return make([]byte, n, capacity) }
