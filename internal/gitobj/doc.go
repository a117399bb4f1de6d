// Package gitobj reads the objects of a git repository: a Store opened on
// its object folder finds each object in the packs (their .idx mapped and
// searched in place), in a loose object, or in an alternate's folder, and
// reads it into a plain byte slice, deltas applied, or, when it is big, as
// a stream: callers never branch on where an object lives.
//
// go-git reads a history scan's objects several times slower than git
// does: it decodes each object through layers of readers and caches, one
// goroutine at a time. Here each goroutine has its own Reader (zlib state,
// buffers, a cache of resolved objects), and any number read at once. A
// Sweep reads many objects of a pack in the pack's own order, each delta
// applied to its parent still in memory: the way to read most of a
// history.
//
// Packs come from anyone's repository: every header, index table and
// delta instruction is checked before it is used, and every buffer an
// object's declared size decides is allocated in one place (alloc.go),
// after that size was checked. Memory stays bounded whatever an object
// claims: big objects are streamed, big delta bases go to temporary
// files, and the few objects read whole have a cap (alloc.go says which).
package gitobj
