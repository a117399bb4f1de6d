package scanner

import "github.com/loftyscan/loftyscan/rules"

// decodeUTF16 decodes the run of printable ASCII characters at c, c±2,
// c±4... with a zero byte between each two, runs the rules over it, and
// returns where the next run may start, and whether the run was cut by
// the window's size (then the next stretch starts at that character).
// ASCII in UTF-16 is the same run of bytes in either byte order: only its
// ends tell LE from BE. Each LE unit is followed by its zero byte and each
// BE unit preceded by one, so a run whose last character is not followed
// by a zero (the end of the text, or a non-Latin-1 character) but whose
// first is preceded by one is BE; any other run is read as LE, the byte
// order Windows writes. Only the reported encoding depends on that guess,
// never the characters decoded.
func (f *finder) decodeUTF16(buf []byte, c int, outer func() bool, depth int, emit func(hit)) (int, bool) {
	// A control character is more likely half of a non-ASCII unit.
	isChar := func(i int) bool {
		if i < 0 || i >= len(buf) {
			return false
		}
		b := buf[i]
		return b >= 0x20 && b < 0x7f || b == '\t' || b == '\n' || b == '\r'
	}
	if !isChar(c) {
		return c + 1, false
	}
	first := c
	for n := 0; n < u16Back && isChar(first-2) && buf[first-1] == 0; n++ {
		first -= 2
	}
	last := c
	cut := false
	for n := 0; isChar(last+2) && buf[last+1] == 0; n++ {
		if n == u16Ahead {
			cut = true
			break
		}
		last += 2
	}
	// A run cut by the limit holds whole only the tokens that start a
	// token's length before its end; the others are found from the next.
	whole := last + 1
	if cut {
		whole -= 2 * rules.MaxTokenLen
	}
	enc, lo := "utf-16le", 0 // lo: offset of the character in its unit
	if first > 0 && buf[first-1] == 0 && (last+1 == len(buf) || buf[last+1] != 0) {
		enc, lo = "utf-16be", 1
	}
	decoded := make([]byte, 0, (last-first)/2+1)
	for p := first; p <= last; p += 2 {
		decoded = append(decoded, buf[p])
	}
	f.findIn(decoded, outer, depth+1, func(in hit) {
		in.pos = first + 2*in.pos - lo
		if in.pos >= whole {
			return
		}
		in.encoding = joinEncoding(enc, in.encoding)
		emit(in)
	})
	if cut {
		return whole - 1, true // back on a character
	}
	return whole, false
}
