package remediate

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Base64 that wraps across lines inside a key (the 76-column output of the
// base64 command, PEM-like blocks) is matched by none of the forms in
// forms.go, and its bytes depend on the text around the key. So the
// occurrence is read back from its blob, at the line and column the scan
// reported, and replaced there exactly: the characters that hold the
// key's bits, with the line breaks between them, become the base64 of the
// replacement text spliced into the same bits. The text around it decodes
// as before.

// segment is the stored text of one encoded occurrence and what replaces
// it: the same number of bytes, with line breaks where they were.
type segment struct {
	old, new []byte
}

// wrapped reports whether the segment spans a line break: then only a
// regular expression rule can hold it (a rule is one line).
func (s segment) wrapped() bool { return bytes.ContainsAny(s.old, "\r\n") }

// b64value maps both base64 alphabets to their 6-bit values; 0xff is not base64.
var b64value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range len(std) {
		t[std[i]] = byte(i)
	}
	t['-'], t['_'] = 62, 63
	return t
}()

const (
	stdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	urlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)

// errNotLocated is returned when the occurrence is not where the scan said.
var errNotLocated = errors.New("the key's base64 text is not at the reported line and column")

// locateBase64 reads the blob up to the occurrence's line and column and
// returns the segment that holds the key encoded as the rest of enc (the
// layers inside the base64: none, utf-16le or utf-16be). It reads no more
// than the occurrence's line, up to its column, and a window of a few times
// the key's encoded length after it: memory stays bounded whatever the blob.
func locateBase64(r io.Reader, line, column int, secret, fp string, inner string) (segment, error) {
	olds, news := innerForms(secret, fp, inner)
	if olds == nil {
		return segment{}, fmt.Errorf("base64 of %s text is not handled", inner)
	}
	// The longest text base64 of the key can take: 4 characters for 3
	// bytes, a group either side, and up to 2 bytes of line break after
	// every character (a window too short only fails to locate).
	n := (len(olds[0])+6)/3*4 + 8
	const back = 16 // read from a little before the column: a column counted differently
	before, win, err := readWindow(bufio.NewReaderSize(r, 64<<10), line, column, back, 3*n)
	if err != nil {
		return segment{}, err
	}
	// Try the reported column first, then the characters around it.
	starts := []int{len(before)}
	for d := 1; d <= back; d++ {
		starts = append(starts, len(before)-d, len(before)+d)
	}
	text := append(before, win...)
	for _, s := range starts {
		if s < 0 || s >= len(text) || b64value[text[s]] == 0xff {
			continue
		}
		for i := range olds {
			if seg, ok := spliceAt(text, s, olds[i], news[i]); ok {
				return seg, nil
			}
		}
	}
	return segment{}, errNotLocated
}

// innerForms returns the bytes the key is inside the base64 for the layers
// named by inner, with their replacements: for UTF-16 both byte orders,
// since which one a run is can only be guessed from its ends.
func innerForms(secret, fp, inner string) (olds, news [][]byte) {
	old, rep := []byte(secret), []byte(replacementText(fp, len(secret)))
	switch inner {
	case "":
		return [][]byte{old}, [][]byte{rep}
	case "utf-16le", "utf-16be":
		return [][]byte{utf16LE(old), utf16BE(old)}, [][]byte{utf16LE(rep), utf16BE(rep)}
	}
	return nil, nil
}

// readWindow reads r up to the 1-based line and column and returns up to
// back bytes of that line before the column, and up to n bytes from the
// column on. Columns count characters as loftyscan does: bytes that do not
// continue a UTF-8 sequence, leaving out a UTF-8 byte order mark on line 1.
func readWindow(r *bufio.Reader, line, column, back, n int) (before, win []byte, err error) {
	if line < 1 || column < 1 {
		return nil, nil, fmt.Errorf("line %d, column %d: not a position", line, column)
	}
	if head, _ := r.Peek(3); line == 1 && bytes.Equal(head, []byte("\xEF\xBB\xBF")) {
		r.Discard(3)
	}
	for l := 1; l < line; {
		c, err := r.ReadByte()
		if err != nil {
			return nil, nil, fmt.Errorf("the blob has fewer than %d lines", line)
		}
		if c == '\n' {
			l++
		}
	}
	var tail []byte // the last back bytes of the line before the column
	for chars := 0; ; {
		c, err := r.ReadByte()
		if err != nil || c == '\n' {
			return nil, nil, fmt.Errorf("line %d is shorter than %d characters", line, column)
		}
		if c&0xC0 != 0x80 {
			chars++
		}
		if chars == column {
			r.UnreadByte()
			break
		}
		tail = append(tail, c)
		if len(tail) > back {
			tail = tail[1:]
		}
	}
	win = make([]byte, n)
	got, err := io.ReadFull(r, win)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, nil, err
	}
	return tail, win[:got], nil
}

// spliceAt decodes the base64 characters from text[s] on (joining lines
// broken by a single "\n" or "\r\n") and, if the key's bytes old start in
// the first 3-byte group, returns the stored text of the characters that
// hold its bits and the same text with rep's bits in their place.
func spliceAt(text []byte, s int, old, rep []byte) (segment, bool) {
	// The offsets of the base64 characters, as many as hold old and the
	// group before it.
	need := (len(old)+2+2)/3*4 + 4
	var at []int
	for i := s; i < len(text) && len(at) < need; i++ {
		if b64value[text[i]] != 0xff {
			at = append(at, i)
			continue
		}
		j := i
		if text[j] == '\r' && j+1 < len(text) && text[j+1] == '\n' {
			j++
		}
		if text[j] != '\n' || j+1 >= len(text) || b64value[text[j+1]] == 0xff {
			break
		}
		i = j
	}
	bits := make([]byte, 0, len(at)*6) // one bit per byte: short texts, plain code
	for _, i := range at {
		v := b64value[text[i]]
		for k := 5; k >= 0; k-- {
			bits = append(bits, v>>k&1)
		}
	}
	for d := range 3 {
		if 8*(d+len(old)) > len(bits) || !bitsEqual(bits[8*d:], old) {
			continue
		}
		setBits(bits[8*d:], rep)
		first, last := 8*d/6, (8*(d+len(old))-1)/6
		alphabet := stdAlphabet
		if bytes.ContainsAny(text[at[first]:at[last]+1], "-_") {
			alphabet = urlAlphabet
		}
		seg := segment{old: bytes.Clone(text[at[first] : at[last]+1])}
		seg.new = bytes.Clone(seg.old)
		for k := first; k <= last; k++ {
			var v byte
			for _, b := range bits[6*k : 6*k+6] {
				v = v<<1 | b
			}
			seg.new[at[k]-at[first]] = alphabet[v]
		}
		return seg, true
	}
	return segment{}, false
}

// bitsEqual reports whether the bits (one per byte, most significant
// first) spell b.
func bitsEqual(bits, b []byte) bool {
	for i, c := range b {
		for k := range 8 {
			if bits[8*i+k] != c>>(7-k)&1 {
				return false
			}
		}
	}
	return true
}

// setBits writes b into bits, one bit per byte, most significant first.
func setBits(bits, b []byte) {
	for i, c := range b {
		for k := range 8 {
			bits[8*i+k] = c >> (7 - k) & 1
		}
	}
}

// base64Layers splits an encoding into its outer base64 layer and what is
// inside it, when the plan can rewrite it from the blob: base64 of plain
// text or of UTF-16. ok is false for any other encoding.
func base64Layers(enc string) (inner string, ok bool) {
	rest, found := strings.CutPrefix(enc, "base64")
	if !found {
		return "", false
	}
	switch rest {
	case "":
		return "", true
	case "/utf-16le", "/utf-16be":
		return rest[1:], true
	}
	return "", false
}
