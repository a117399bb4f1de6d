package rules

import "bytes"

// MaxTokenLen is the longest compact JWS the detector accepts, in bytes.
// Lofty keys are a few hundred bytes long; the cap keeps the work per
// candidate bounded and tells the scanner how much overlap its chunks need.
const MaxTokenLen = 16 << 10

// prefix is what every base64url-encoded JSON object whose first member name
// starts with a letter begins with: base64url of `{"` plus a letter.
var prefix = []byte("eyJ")

// b64url marks the bytes of the base64url alphabet (RFC 4648 §5).
var b64url = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['-'], t['_'] = true, true
	return t
}()

// Candidate is a dotted three-segment string that may be a compact JWS.
type Candidate struct {
	Start, End int // byte offsets in the searched buffer: buf[Start:End] is the token
}

// FindCandidates returns every three-segment base64url token in buf that
// starts with "eyJ", in order. It does not decode anything: a candidate may
// turn out not to be a JWS, but every JWS of this shape is a candidate.
//
// It runs in time linear in len(buf), whatever the bytes: every "eyJ" inside
// one run of base64url bytes shares that run's end and what follows it, so
// the run and its tail are read once for all of them, not once each (4 MB of
// "eyJeyJ..." would otherwise cost MaxTokenLen per byte).
func FindCandidates(buf []byte) []Candidate {
	out, _ := findCandidates(buf)
	return out
}

// findCandidates is FindCandidates that also returns the bytes its
// candidates read, all together: the work that tests check is linear.
func findCandidates(buf []byte) ([]Candidate, int) {
	var out []Candidate
	work := 0
	for i := 0; i < len(buf); {
		j := Index(buf[i:], prefix)
		if j < 0 {
			break
		}
		c, next, stop, ok := readCandidate(buf, i+j)
		work += stop + 2 - (i + j) // the candidate reads up to the byte after its stop
		if ok {
			out = append(out, c)
		}
		i = next
	}
	return out, work
}

// candidateAt returns the candidate of the base64url run that holds the
// "eyJ" at buf[start:], if there is one, and where the search for the next
// "eyJ" resumes: no "eyJ" before it starts another candidate.
func candidateAt(buf []byte, start int) (Candidate, int, bool) {
	c, next, _, ok := readCandidate(buf, start)
	return c, next, ok
}

// readCandidate is candidateAt that also returns where the reading
// stopped: the token's end, or the byte that ended the candidate (a quote
// closing a string literal that goes on in the next: see joinAt). When a
// fourth segment follows three whole ones, ok is false and c is the
// candidate the three would be on their own (c.End is the fourth
// segment's dot): a key glued to a dot and more text (see findAt);
// otherwise, when ok is false, c is zero.
func readCandidate(buf []byte, start int) (c Candidate, next, stop int, ok bool) {
	return readCandidateDecoding(buf, start, nil, nil)
}

// readCandidateDecoding is readCandidate that, when d is not nil, decodes
// the candidate's payload into room as it reads it (see payloadSpan).
func readCandidateDecoding(buf []byte, start int, room []byte, d *payloadSpan) (c Candidate, next, stop int, ok bool) {
	// The header's base64url run, read to its end: any "eyJ" before
	// runEnd has the same run end, the same tail and so the same token
	// end, and differs only in length.
	runEnd := skipB64url(buf, start+len(prefix), len(buf))
	// A token starting at or before runEnd-len(prefix) can be at most
	// MaxTokenLen long, so its tail needs no reading past that.
	limit := min(len(buf), runEnd-len(prefix)+MaxTokenLen+1)
	end, ok, more := cutTail(buf, runEnd, limit, room, d)
	if !ok && !more {
		return Candidate{}, runEnd, end, false
	}
	// The first "eyJ" of the run whose token fits in MaxTokenLen, as if
	// each had been tried in turn.
	lo := max(start, end-MaxTokenLen)
	if lo == start && bytes.HasPrefix(buf[start:runEnd], prefix) {
		c = Candidate{start, end} // the common case, without a search
	} else if k := bytes.Index(buf[lo:runEnd], prefix); k >= 0 {
		c = Candidate{lo + k, end}
	} else {
		return Candidate{}, runEnd, end, false
	}
	if more {
		return c, runEnd, end, false
	}
	return c, end, end, true
}

// skipB64url returns the end of the run of base64url bytes at buf[i:],
// reading no further than limit. Eight bytes are tested per step: the runs
// are the JWTs' segments, read for every candidate.
func skipB64url(buf []byte, i, limit int) int {
	for ; i+8 <= limit; i += 8 {
		b := buf[i : i+8 : i+8]
		if !(b64url[b[0]] && b64url[b[1]] && b64url[b[2]] && b64url[b[3]] &&
			b64url[b[4]] && b64url[b[5]] && b64url[b[6]] && b64url[b[7]]) {
			break
		}
	}
	for i < limit && b64url[buf[i]] {
		i++
	}
	return i
}

// payloadSpan is what reading a candidate learnt of its payload, decoded
// as it was read: the pre-judgement needs every payload decoded, and
// reading its base64url once to find its end and again to decode it cost
// twice. It holds no pointer (the bytes are in the room the reader was
// given), so that it lives on the stack of whoever asks.
type payloadSpan struct {
	start, end int  // the payload's base64url run in the buffer read
	n          int  // the bytes it decodes to, at the start of the room
	ok         bool // it decodes: its length is not 4n+1
	seen       bool // it was read and decoded whole into the room
}

// decodeRun decodes the run of base64url at buf[i:limit] into room and
// returns its end: what skipB64url returns. The bytes are what
// base64.RawURLEncoding.Decode makes of the run (see decodeRawURL). A run
// whose bytes do not fit in room is only read (d.seen is false).
func decodeRun(buf []byte, i, limit int, room []byte, d *payloadSpan) int {
	d.start, d.seen = i, false
	n := 0
	for ; i+4 <= limit; i += 4 {
		q := buf[i : i+4 : i+4]
		x := quantum0[q[0]] | quantum1[q[1]] | quantum2[q[2]] | quantum3[q[3]]
		if x&notURL != 0 {
			break
		}
		if n+3 > len(room) {
			d.end = skipB64url(buf, i, limit)
			return d.end
		}
		o := room[n : n+3 : n+3]
		o[0], o[1], o[2] = byte(x>>16), byte(x>>8), byte(x)
		n += 3
	}
	// The last quantum, cut: the characters before the first byte that is
	// not base64url, or the limit.
	var x uint32
	k := 0
	for ; k < 3 && i+k < limit && b64url[buf[i+k]]; k++ {
		x |= quantum0[buf[i+k]] >> (6 * k)
	}
	if n+2 > len(room) {
		d.end = i + k
		return d.end
	}
	switch k {
	case 2:
		room[n] = byte(x >> 16)
		n++
	case 3:
		room[n], room[n+1] = byte(x>>16), byte(x>>8)
		n += 2
	}
	d.end, d.n, d.ok, d.seen = i+k, n, k != 1, true
	return d.end
}

// sigPadding is how many '=' a base64 segment of length n needs, by n%4.
var sigPadding = [4]int{0, 0, 2, 1}

// cutTail reads the rest of header.payload.signature from buf[i], just after
// the header's base64url run (decoding the payload into room when d is not
// nil), and returns the token's end offset, or where
// it stopped when there is no token. It reads no further than limit. Each
// segment is base64url with optional '=' padding (see below); the payload
// must not be empty, and neither may the signature (an unsigned or cut-off
// token). A fourth segment (a JWE, some other dotted identifier, or a key
// glued to ".json") disqualifies the whole run as a candidate: ok is false,
// and more says the three segments before it were whole, ending at the
// returned offset.
func cutTail(buf []byte, i, limit int, room []byte, d *payloadSpan) (end int, ok, more bool) {
	for seg := 0; seg < 3; seg++ {
		s := i
		if seg == 1 && d != nil {
			i = decodeRun(buf, i, limit, room, d)
		} else if seg > 0 {
			i = skipB64url(buf, i, limit)
		}
		if seg > 0 {
			if i == s {
				return i, false, false // empty payload or signature
			}
		}
		// Padding: up to two '=' before the '.' of the header and payload
		// (anything else fails to decode later), but on the signature
		// only as many as its length needs. An '=' after a token is more
		// often text (KEY=<jws>==) than padding, and an '=' too many would
		// make the signature undecodable and the key missed.
		pad := 2
		if seg == 2 {
			pad = sigPadding[(i-s)%4]
		}
		for p := 0; p < pad && i < limit && buf[i] == '='; p++ {
			i++
		}
		if seg < 2 {
			if i >= limit || buf[i] != '.' {
				return i, false, false
			}
			i++
		}
	}
	if i >= limit && limit < len(buf) {
		return i, false, false // longer than MaxTokenLen
	}
	if i+1 < len(buf) && buf[i] == '.' && b64url[buf[i+1]] {
		return i, false, true // four or more segments: not a compact JWS
	}
	return i, true, false
}
