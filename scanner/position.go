package scanner

import (
	"bytes"
	"encoding/binary"
	"math/bits"
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
}

// skipBOM makes the columns of the first line leave out a byte order mark
// at the start of head, the stream's first bytes: editors do not show it,
// so counting it would put every column of line 1 one to the right.
func (p *position) skipBOM(head []byte) {
	switch {
	case bytes.HasPrefix(head, []byte("\xEF\xBB\xBF")):
		p.bom8 = 1
	case bytes.HasPrefix(head, []byte("\xFF\xFE")), bytes.HasPrefix(head, []byte("\xFE\xFF")):
		p.bom16 = 2
	}
}

// advance consumes b, the bytes that follow what was consumed before.
func (p *position) advance(b []byte) {
	if i := lastNewline(b); i >= 0 {
		p.line += bytes.Count(b[:i+1], []byte{'\n'})
		p.lineStart = p.off + int64(i) + 1
		p.chars = countChars(b[i+1:])
	} else {
		p.chars += countChars(b)
	}
	p.off += int64(len(b))
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
// UTF-16 code units (two bytes each) when utf16 is true.
func (p *position) lineCol(utf16 bool) (int, int) {
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
