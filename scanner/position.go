package scanner

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strings"
)

// position turns byte offsets of one stream into lines and columns. It is fed
// the stream's bytes in order, a piece at a time, so a file never has to be
// in memory whole; it keeps only the state of the current line.
type position struct {
	off       int64 // bytes consumed so far
	line      int   // 0-based line of off
	lineStart int64 // offset where that line starts
	chars     int   // characters between lineStart and off
	bom8      int   // 1 when the stream starts with a UTF-8 byte order mark
	bom16     int64 // 2 when it starts with a UTF-16 byte order mark
	order     unitOrder
	unitLine  int   // with order: 0-based line of off, counted in code units
	unitStart int64 // offset where that line starts
	prev      byte  // the last byte consumed, for a code unit cut between pieces
}

// unitOrder is the byte order of a stream that starts with a UTF-16 byte
// order mark, or with two ASCII characters in UTF-16. For the keys found in its UTF-16 text, a line break is the
// code unit U+000A, two bytes at an even offset, and not a byte 0x0A inside
// another character's code unit (上 is 0A 4E in UTF-16LE, 《 is 0A 30):
// counting those put every line after them one further down. A key
// written in single bytes (text appended by a program that does not write
// UTF-16) is placed by the bytes 0x0A, as in any other stream.
type unitOrder uint8

const (
	bytesOrder unitOrder = iota // not UTF-16: a line break is the byte 0x0A
	littleEndian
	bigEndian
)

// skipBOM makes the columns of the first line leave out a byte order mark
// at the start of head, the stream's first bytes: editors do not show it,
// so counting it would put every column of line 1 one to the right.
func (p *position) skipBOM(head []byte) {
	switch {
	case bytes.HasPrefix(head, []byte("\xEF\xBB\xBF")):
		p.bom8 = 1
	case bytes.HasPrefix(head, []byte("\xFF\xFE")):
		p.bom16, p.order = 2, littleEndian
	case bytes.HasPrefix(head, []byte("\xFE\xFF")):
		p.bom16, p.order = 2, bigEndian
	default:
		p.order = unmarkedOrder(head)
	}
}

// unmarkedOrder returns the byte order of a stream with no byte order mark
// that starts with two ASCII characters in UTF-16 (a file written by .NET
// or PowerShell without one), or bytesOrder.
func unmarkedOrder(head []byte) unitOrder {
	ascii := func(c byte) bool { return c >= 0x20 && c < 0x7f || c == '\t' || c == '\n' || c == '\r' }
	switch {
	case len(head) < 4:
		return bytesOrder
	case ascii(head[0]) && head[1] == 0 && ascii(head[2]) && head[3] == 0:
		return littleEndian
	case head[0] == 0 && ascii(head[1]) && head[2] == 0 && ascii(head[3]):
		return bigEndian
	}
	return bytesOrder
}

// advance consumes b, the bytes that follow what was consumed before.
func (p *position) advance(b []byte) {
	if p.order != bytesOrder {
		p.advanceUnits(b)
	}
	if i := lastNewline(b); i >= 0 {
		p.line += bytes.Count(b[:i+1], []byte{'\n'})
		p.lineStart = p.off + int64(i) + 1
		p.chars = countChars(b[i+1:])
	} else {
		p.chars += countChars(b)
	}
	p.off += int64(len(b))
}

// advanceUnits counts the code units U+000A in b, the bytes after off, of
// a UTF-16 stream; a unit may be cut between b and the bytes before.
func (p *position) advanceUnits(b []byte) {
	if len(b) > 0 && p.order == littleEndian && p.prev == '\n' && p.off%2 == 1 && b[0] == 0 {
		p.unitLine++ // the unit's 0x0A ended the bytes consumed before
		p.unitStart = p.off + 1
	}
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			break
		}
		i += j
		if end, ok := p.unitEnd(b, i); ok {
			p.unitLine++
			p.unitStart = end
		}
		i++
	}
	if len(b) > 0 {
		p.prev = b[len(b)-1]
	}
}

// unitEnd reports whether the byte 0x0A at b[i] is part of the code unit
// U+000A, and the stream offset just after that unit. A unit cut between
// two pieces is counted with the piece that holds its second byte.
func (p *position) unitEnd(b []byte, i int) (int64, bool) {
	at := p.off + int64(i)
	if p.order == bigEndian {
		if at%2 == 0 {
			return 0, false
		}
		before := p.prev
		if i > 0 {
			before = b[i-1]
		}
		return at + 1, before == 0
	}
	if at%2 != 0 || i+1 >= len(b) || b[i+1] != 0 {
		return 0, false
	}
	return at + 2, true
}

// orderOf returns enc, a finding's encodings outermost first, with the
// byte order the stream starts in when UTF-16 is outermost: the
// decoder guesses the order from the ends of a run of ASCII (see
// decodeUTF16), and a character such as 上 (4E 0A in UTF-16BE) before the
// run looks like the zero byte of a little-endian unit.
func (p *position) orderOf(enc string) string {
	if p.order == bytesOrder || !strings.HasPrefix(enc, "utf-16") || len(enc) < len("utf-16le") {
		return enc
	}
	order := "utf-16le"
	if p.order == bigEndian {
		order = "utf-16be"
	}
	return order + enc[len(order):]
}

// lastNewline is bytes.LastIndexByte(b, '\n'), which goes back a byte at
// a time: through a long stretch with no line break (a binary file, the
// zeros of a sparse tar entry) that cost more than the search for keys.
// It goes back a block at a time instead, and looks a byte at a time only
// in the block that holds the last line break.
func lastNewline(b []byte) int {
	const block = 512
	for end := len(b); end > 0; end -= block {
		start := max(0, end-block)
		if bytes.IndexByte(b[start:end], '\n') >= 0 {
			return start + bytes.LastIndexByte(b[start:end], '\n')
		}
	}
	return -1
}

// lineCol returns the 1-based line and column of the offset consumed last.
// Columns count characters: bytes that do not continue a UTF-8 sequence, or
// UTF-16 code units (two bytes each) when utf16 is true (and lines too,
// when the stream starts as UTF-16 text: see unitOrder).
func (p *position) lineCol(utf16 bool) (int, int) {
	if utf16 && p.order != bytesOrder {
		start := p.unitStart
		if p.unitLine == 0 {
			start += p.bom16
		}
		return p.unitLine + 1, int(p.off-start)/2 + 1
	}
	if utf16 {
		start := p.lineStart
		if p.line == 0 {
			start += p.bom16
		}
		return p.line + 1, int(p.off-start)/2 + 1
	}
	if p.line == 0 {
		return 1, p.chars - p.bom8 + 1
	}
	return p.line + 1, p.chars + 1
}

// countChars counts the bytes that start a UTF-8 character (or stand alone
// in text that is not UTF-8). It is boundary-safe: a character cut between
// two pieces is counted once.
func countChars(b []byte) int {
	n := len(b)
	// Eight bytes at a time: a continuation byte has bit 7 set and bit 6
	// clear; shifting left by one brings each byte's bit 6 under its bit 7.
	const high = 0x8080808080808080
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		n -= bits.OnesCount64(x &^ (x << 1) & high)
		b = b[8:]
	}
	for _, c := range b {
		if c&0xC0 == 0x80 {
			n--
		}
	}
	return n
}
