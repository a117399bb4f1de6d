package remediate

import (
	"bufio"
	"bytes"
	"io"

	"github.com/loftyscan/loftyscan/rules"
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
// there (its forms replace it) or is not there in pieces. The pieces are
// found as the scanner joins them (rules.JoinedAt), or else by skipping
// between them only bytes that cannot be part of a key (skipBetween).
func locateSplit(r io.Reader, line, column int, secret, fp string) (seg segment, ok bool, err error) {
	before, text, err := readWindow(bufio.NewReaderSize(r, 64<<10), line, column, splitBack, len(secret)+maxSplitSpan)
	if err != nil || bytes.HasPrefix(text, []byte(secret)) {
		return segment{}, false, err
	}
	at, ok := joinedAt(before, text, secret)
	if !ok {
		if at, ok = skipBetween(text, secret); !ok {
			return segment{}, false, nil
		}
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

// splitBack is how much of the line before a key's first piece the
// scanner reads to know the literal it is in (rules' contextBefore).
const splitBack = 512

// joinedAt returns the offset in text of each of secret's characters as
// the scanner joins the pieces (rules.JoinedAt), with the line before
// them: it knows every layout the scanner joins (a list's commas, a
// notebook's JSON-escaped lines, a quoted-printable soft break).
func joinedAt(before, text []byte, secret string) ([]int, bool) {
	buf := append(bytes.Clone(before), text...)
	at, ok := rules.JoinedAt(buf, len(before), secret)
	if !ok || at[0] < len(before) {
		return nil, false
	}
	for k := range at {
		at[k] -= len(before)
	}
	return at, true
}

// skipBetween returns the offsets of secret's characters in text, skipping
// between two pieces only bytes that cannot be part of a key (not
// base64url, '.' or '='), at most maxSplitGap of them: the layouts the
// scanner joined before rules.JoinedAt, kept for a key it does not place.
func skipBetween(text []byte, secret string) ([]int, bool) {
	at := make([]int, 0, len(secret))
	gap := 0
	for i := 0; i < len(text) && len(at) < len(secret); i++ {
		switch c := text[i]; {
		case c == secret[len(at)]:
			at, gap = append(at, i), 0
		case keyByte(c) || gap == maxSplitGap || len(at) == 0:
			return nil, false
		default:
			gap++
		}
	}
	return at, len(at) == len(secret)
}

// keyByte reports whether c can be part of a key's text: base64url, '.',
// '='.
func keyByte(c byte) bool {
	return b64value[c] != 0xff && c != '+' && c != '/' || c == '.' || c == '='
}
