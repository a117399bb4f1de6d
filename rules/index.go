package rules

import (
	"bytes"
	"strings"
)

// rareFirst lists upper-case letters from the rarest in source code and
// text (measured over Go's source tree) to the most common. Lower-case
// letters, digits, punctuation and NUL are all more common than these.
const rareFirst = "JZKQYWXGUVFHBPMDOLNCIRTEAS"

// Index returns the index of the first sep in s, or -1, as bytes.Index.
// It looks for the rarest byte of sep with bytes.IndexByte (which skips
// ahead many bytes at a time) and checks sep around each one: the
// prefilter's patterns start with common letters ("eyJ", "leU"), on which
// bytes.Index stops at every 'e' or 'l'. When the rare byte turns out
// common in s, it hands over to bytes.Index, so it is never much slower.
func Index(s, sep []byte) int {
	k, best := 0, len(rareFirst)
	for i, c := range sep {
		if r := strings.IndexByte(rareFirst, c); r >= 0 && r < best {
			k, best = i, r
		}
	}
	if best == len(rareFirst) || len(sep) < 2 {
		return bytes.Index(s, sep)
	}
	c, n := sep[k], len(sep)
	fails := 0
	for i := k; i < len(s); {
		j := bytes.IndexByte(s[i:], c)
		if j < 0 {
			return -1
		}
		i += j
		if start := i - k; start+n <= len(s) && bytes.Equal(s[start:start+n], sep) {
			return start
		}
		i++
		// Every start before i-k has been tried. Too many false hits for
		// the bytes skipped: let bytes.Index do the rest.
		if fails++; fails > 16 && fails > i>>5 {
			if j := bytes.Index(s[i-k:], sep); j >= 0 {
				return i - k + j
			}
			return -1
		}
	}
	return -1
}
