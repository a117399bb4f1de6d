package scanner

import "bytes"

// position turns byte offsets of one stream into lines and columns. It is fed
// the stream's bytes in order, a piece at a time, so a file never has to be
// in memory whole; it keeps only the state of the current line.
type position struct {
	off       int64 // bytes consumed so far
	line      int   // 0-based line of off
	lineStart int64 // offset where that line starts
	chars     int   // characters between lineStart and off
}

// advance consumes b, the bytes that follow what was consumed before.
func (p *position) advance(b []byte) {
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		p.line += bytes.Count(b[:i+1], []byte{'\n'})
		p.lineStart = p.off + int64(i) + 1
		p.chars = countChars(b[i+1:])
	} else {
		p.chars += countChars(b)
	}
	p.off += int64(len(b))
}

// lineCol returns the 1-based line and column of the offset consumed last.
// Columns count characters: bytes that do not continue a UTF-8 sequence, or
// UTF-16 code units (two bytes each) when utf16 is true.
func (p *position) lineCol(utf16 bool) (int, int) {
	if utf16 {
		return p.line + 1, int(p.off-p.lineStart)/2 + 1
	}
	return p.line + 1, p.chars + 1
}

// countChars counts the bytes that start a UTF-8 character (or stand alone
// in text that is not UTF-8). It is boundary-safe: a character cut between
// two pieces is counted once.
func countChars(b []byte) int {
	n := len(b)
	for _, c := range b {
		if c&0xC0 == 0x80 {
			n--
		}
	}
	return n
}
