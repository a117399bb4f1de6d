package rules

import "encoding/base64"

// decodeRawURL decodes src, unpadded base64url, into dst (at least
// base64.RawURLEncoding.DecodedLen(len(src)) bytes long) and returns how
// many bytes it wrote: what base64.RawURLEncoding.Decode does, which it
// calls for whatever is not plain base64url (line breaks it skips, bytes
// it refuses, a last quantum of one character).
//
// Every candidate's payload is decoded for the pre-judgement, and the
// standard library's decoder, which handles all of that and reads eight
// characters a step through a checked lookup each, costs ten instructions
// a character; this one reads a quantum through four tables that hold each
// character's bits already in place, one test for all four (three a
// character).
func decodeRawURL(dst, src []byte) (int, error) {
	n, i := 0, 0
	for ; i+4 <= len(src); i += 4 {
		q := src[i : i+4 : i+4]
		x := quantum0[q[0]] | quantum1[q[1]] | quantum2[q[2]] | quantum3[q[3]]
		if x&notURL != 0 {
			return base64.RawURLEncoding.Decode(dst, src)
		}
		d := dst[n : n+3 : n+3]
		d[0], d[1], d[2] = byte(x>>16), byte(x>>8), byte(x)
		n += 3
	}
	switch len(src) - i {
	case 2:
		x := quantum0[src[i]] | quantum1[src[i+1]]
		if x&notURL != 0 {
			return base64.RawURLEncoding.Decode(dst, src)
		}
		dst[n] = byte(x >> 16)
		n++
	case 3:
		x := quantum0[src[i]] | quantum1[src[i+1]] | quantum2[src[i+2]]
		if x&notURL != 0 {
			return base64.RawURLEncoding.Decode(dst, src)
		}
		dst[n], dst[n+1] = byte(x>>16), byte(x>>8)
		n += 2
	case 1:
		return base64.RawURLEncoding.Decode(dst, src)
	}
	return n, nil
}

// notURL is the bit the quantum tables set for a byte that is not
// base64url.
const notURL = 1 << 31

// quantum0..3 hold the 6 bits of each base64url character shifted to
// their place in a quantum's 24 bits, or notURL.
var quantum0, quantum1, quantum2, quantum3 = quantumTables()

func quantumTables() (t0, t1, t2, t3 [256]uint32) {
	for c := range 256 {
		t0[c], t1[c], t2[c], t3[c] = notURL, notURL, notURL, notURL
	}
	const url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for v := range len(url) {
		c := url[v]
		t0[c], t1[c], t2[c], t3[c] = uint32(v)<<18, uint32(v)<<12, uint32(v)<<6, uint32(v)
	}
	return
}
