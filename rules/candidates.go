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
// closing a string literal that goes on in the next: see joinAt).
func readCandidate(buf []byte, start int) (c Candidate, next, stop int, ok bool) {
	// The header's base64url run, read to its end: any "eyJ" before
	// runEnd has the same run end, the same tail and so the same token
	// end, and differs only in length.
	runEnd := skipB64url(buf, start+len(prefix), len(buf))
	// A token starting at or before runEnd-len(prefix) can be at most
	// MaxTokenLen long, so its tail needs no reading past that.
	limit := min(len(buf), runEnd-len(prefix)+MaxTokenLen+1)
	end, ok := cutTail(buf, runEnd, limit)
	if !ok {
		return Candidate{}, runEnd, end, false
	}
	// The first "eyJ" of the run whose token fits in MaxTokenLen, as if
	// each had been tried in turn.
	lo := max(start, end-MaxTokenLen)
	if lo == start && bytes.HasPrefix(buf[start:runEnd], prefix) {
		return Candidate{start, end}, end, end, true // the common case, without a search
	}
	if k := bytes.Index(buf[lo:runEnd], prefix); k >= 0 {
		return Candidate{lo + k, end}, end, end, true
	}
	return Candidate{}, runEnd, end, false
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

// sigPadding is how many '=' a base64 segment of length n needs, by n%4.
var sigPadding = [4]int{0, 0, 2, 1}

// cutTail reads the rest of header.payload.signature from buf[i], just after
// the header's base64url run, and returns the token's end offset, or where
// it stopped when there is no token. It reads no further than limit. Each
// segment is base64url with optional '=' padding (see below); the payload
// must not be empty, and neither may the signature (an unsigned or cut-off
// token). A fourth segment (a JWE or some other dotted identifier)
// disqualifies the whole run.
func cutTail(buf []byte, i, limit int) (int, bool) {
	for seg := 0; seg < 3; seg++ {
		s := i
		if seg > 0 {
			i = skipB64url(buf, i, limit)
			if i == s {
				return i, false // empty payload or signature
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
				return i, false
			}
			i++
		}
	}
	if i >= limit && limit < len(buf) {
		return i, false // longer than MaxTokenLen
	}
	if i+1 < len(buf) && buf[i] == '.' && b64url[buf[i+1]] {
		return i, false // four or more segments: not a compact JWS
	}
	return i, true
}
