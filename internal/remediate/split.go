package remediate

import (
	"bufio"
	"bytes"
	"io"
)

// Keys written in pieces: string literals the language joins ("eyJ..."
// "eyJ..."), a line continued with a backslash. The scanner joins them
// and reports the key at its first piece; the key is not in the file as
// one string, so no form of it matches. The
// occurrence is read back from its blob at that line and column, and each
// of the key's characters is replaced where it is, the text between the
// pieces (quotes, operators, line breaks, indentation) kept.

// Bounds of a split key's text, as the scanner joins it (rules'
// maxJoinSpan and maxJoinGap).
const (
	maxSplitSpan = 32 << 10
	maxSplitGap  = 1 << 10
)

// locateSplit returns the segment of the key written in pieces from the
// 1-based line and column on: from its first character to its last, with
// the key's characters replaced. ok is false when the key is written whole
// there (its forms replace it) or is not there in pieces. Between two
// pieces it skips only bytes that cannot be part of a key (not base64url,
// '.' or '='), at most maxSplitGap of them.
func locateSplit(r io.Reader, line, column int, secret, fp string) (seg segment, ok bool, err error) {
	_, text, err := readWindow(bufio.NewReaderSize(r, 64<<10), line, column, 0, len(secret)+maxSplitSpan)
	if err != nil || bytes.HasPrefix(text, []byte(secret)) {
		return segment{}, false, err
	}
	at := make([]int, 0, len(secret))
	gap := 0
	for i := 0; i < len(text) && len(at) < len(secret); i++ {
		switch c := text[i]; {
		case c == secret[len(at)]:
			at, gap = append(at, i), 0
		case keyByte(c) || gap == maxSplitGap || len(at) == 0:
			return segment{}, false, nil
		default:
			gap++
		}
	}
	if len(at) < len(secret) {
		return segment{}, false, nil
	}
	rep := replacementText(fp, len(secret))
	first, last := at[0], at[len(at)-1]
	seg = segment{old: bytes.Clone(text[first : last+1])}
	seg.new = bytes.Clone(seg.old)
	for k, i := range at {
		seg.new[i-first] = rep[k]
	}
	return seg, true, nil
}

// keyByte reports whether c can be part of a key's text: base64url, '.',
// '='.
func keyByte(c byte) bool {
	return b64value[c] != 0xff && c != '+' && c != '/' || c == '.' || c == '='
}
