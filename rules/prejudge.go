package rules

import (
	"bytes"
	"encoding/base64"
	"unicode/utf16"
	"unicode/utf8"
)

// The pre-judgement. Most JWTs in real text are not Lofty keys, and the
// full judgement decodes each one's JSON into maps (a few microseconds and
// a dozen allocations). A token can only be reported when its claims carry
// a scope value or when it sits in a Lofty context; the claims can only
// carry a scope value when the scope's text appears in the payload once
// base64url and JSON escapes are undone. payloadMayHoldScope checks that
// with a byte search, so that a generic JWT away from any Lofty name is
// rejected without a JSON decode. It may say yes wrongly (a scope value as
// an object key, inside a longer word), never no wrongly: the full
// judgement has the last word, and the tests and FuzzFind check both paths
// give the same results.

// payloadMayHoldScope reports whether the claims of tok, a candidate
// (header.payload.signature), could carry one of scopes (Scope when none)
// as a value. It says no only when, for every scope, the payload decodes
// and the scope's text is in none of the payload's decoded bytes, escapes
// undone. Every JSON string is a stretch of those bytes, so a scope value
// in any string claim, array element or separated item is found.
func payloadMayHoldScope(tok []byte, scopes []string) bool {
	var stack [512]byte
	payload, ok := decodePayload(tok, stack[:0])
	if !ok {
		return true // let the full judgement say why it is not a JWS
	}
	return payloadHolds(payload, scopes)
}

// payloadHolds reports whether a decoded payload may carry one of scopes
// (Scope when none) as a value: see payloadMayHoldScope.
func payloadHolds(payload []byte, scopes []string) bool {
	if len(scopes) == 0 {
		scopes = defaultScopes
	}
	for _, s := range scopes {
		if s != Scope && !searchable(s) {
			return true
		}
		if s != "" && containsAt(payload, s, anchorOf(s)) {
			return true
		}
	}
	if bytes.IndexByte(payload, '\\') < 0 {
		return false
	}
	// Some text is escaped: a scope may be spelt \u0054HIRD_PARTY_OPERATION,
	// or split across an escape. Search again, escapes undone.
	var stack [512]byte
	plain := unescapeJSON(payload, stack[:0])
	for _, s := range scopes {
		if s != "" && bytes.Contains(plain, []byte(s)) {
			return true
		}
	}
	return false
}

var defaultScopes = []string{Scope}

// scopeAnchor is anchorOf(Scope), found once.
var scopeAnchor = rarestByte(Scope)

// anchorOf returns the index of the byte of scope that containsAt looks
// for first: its rarest in text.
func anchorOf(scope string) int {
	if scope == Scope {
		return scopeAnchor
	}
	return rarestByte(scope)
}

// containsAt is bytes.Contains(s, []byte(sub)) that jumps from one place of
// sub[k] in s to the next with bytes.IndexByte and compares sub around it.
// bytes.Contains compares the whole of sub at every place of a payload
// shorter than 64 bytes (70 ns), where the rarest byte of a scope value is
// seldom found at all (5 ns).
func containsAt(s []byte, sub string, k int) bool {
	n := len(sub)
	for i := k; i <= len(s)-n+k; {
		j := bytes.IndexByte(s[i:len(s)-n+k+1], sub[k])
		if j < 0 {
			return false
		}
		i += j
		if string(s[i-k:i-k+n]) == sub {
			return true
		}
		i++
	}
	return false
}

// searchable reports whether a scope value can be looked for in the raw
// bytes: it is valid UTF-8 without U+FFFD. encoding/json turns invalid
// UTF-8 and lone surrogates in strings into U+FFFD, which the raw bytes do
// not hold; a scope made of valid characters other than U+FFFD appears in
// a decoded string only where its bytes appear in the raw text, escapes
// undone.
func searchable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == utf8.RuneError {
			return false
		}
	}
	return true
}

// decodePayload returns the payload segment of tok decoded from base64url
// (padding allowed), appended to dst; ok is false when tok has no payload
// segment or it does not decode. The bytes are those encoding/json reads in
// the full judgement: golang-jwt pads the segment and decodes it with the
// padded URL alphabet, which gives the same bytes as the unpadded alphabet
// on the segment without its '='.
func decodePayload(tok, dst []byte) ([]byte, bool) {
	i := bytes.IndexByte(tok, '.')
	if i < 0 {
		return nil, false
	}
	seg := tok[i+1:]
	j := bytes.IndexByte(seg, '.')
	if j < 0 {
		return nil, false
	}
	seg = bytes.TrimRight(seg[:j], "=")
	n := base64.RawURLEncoding.DecodedLen(len(seg))
	if cap(dst) < n {
		dst = make([]byte, 0, n)
	}
	dst = dst[:n]
	m, err := decodeRawURL(dst, seg)
	if err != nil {
		return nil, false
	}
	return dst[:m], true
}

// unescapeJSON appends s to dst with every JSON string escape undone as
// encoding/json undoes it: \" \\ \/ \b \f \n \r \t, and \uXXXX as UTF-8,
// a valid surrogate pair as one character and any other surrogate as
// U+FFFD. In valid JSON a backslash appears only in strings, so the escapes
// are read in step with the strings they belong to; anything else is
// copied as it is (invalid JSON fails the full judgement anyway).
func unescapeJSON(s, dst []byte) []byte {
	for len(s) > 0 {
		i := bytes.IndexByte(s, '\\')
		if i < 0 || i+1 >= len(s) {
			return append(dst, s...)
		}
		dst = append(dst, s[:i]...)
		s = s[i:]
		switch c := s[1]; c {
		case '"', '\\', '/', '\'':
			dst = append(dst, c)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(s[2:])
			if !ok {
				dst = append(dst, s[:2]...)
				break
			}
			n := 6
			if utf16.IsSurrogate(r) {
				r2, ok := rune(-1), false
				if len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
					r2, ok = hex4(s[8:])
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r, n = dec, 12
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
			s = s[n:]
			continue
		default:
			dst = append(dst, s[:2]...)
		}
		s = s[2:]
	}
	return dst
}

// hex4 reads four hex digits.
func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s[:4] {
		var v byte
		switch {
		case '0' <= c && c <= '9':
			v = c - '0'
		case 'a' <= c && c <= 'f':
			v = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}
