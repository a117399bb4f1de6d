package scanner

import (
	"bytes"
	"slices"

	"github.com/loftyscan/loftyscan/rules"
)

// maxDecodeDepth bounds how many encodings may wrap a key (base64 inside
// UTF-16 is two). Each layer shrinks the text, so this is also a bound on
// the work a crafted input can cause.
const maxDecodeDepth = rules.MaxLayers

// Window sizes for decoding around a hit. A key's encoding must fit in the
// forward window; the backward window gives the rules the key's line for
// context. The longest key's encoding fits well inside a chunk's overlap.
//
// A window reads b64Back+b64Token characters that the next window of a long
// run reads again, so b64Step, how far it reaches past them, sets the cost
// of a run of hits (megabytes of "ZXlK"): about (b64Back+b64Token+b64Step)/
// b64Step decoded characters per input character and alignment. With a
// step of 1 KB it was 23, and a window allocated for every KB. Hex takes
// two characters a byte, more than base64's 4/3: its windows are sized by
// hexToken, the hex characters of the longest token.
const (
	b64Back  = 1024
	b64Token = rules.MaxTokenLen*4/3 + 4 // base64 characters of the longest token
	hexToken = rules.MaxTokenLen*2 + 2
	b64Step  = 32 << 10
	b64Ahead = hexToken + b64Step
	u16Back  = 1024
	u16Ahead = 2*rules.MaxTokenLen + 64
)

// maxFreeWindows is how many decoded windows a finder keeps for reuse: the
// alignments a run can be decoded at, at each depth of decoding.
const maxFreeWindows = 6 * maxDecodeDepth

// hit is a match of the rules at a position in the buffer searched.
type hit struct {
	pos      int // where the finding is reported: the token, or where its encoded text starts
	match    rules.Match
	encoding string // "", or the encodings that wrap the token, outermost first
}

// finder runs the rules and the decoders over a buffer. It is used by one
// goroutine at a time (a streamer's), and keeps its decoding windows for
// reuse.
type finder struct {
	cfg  rules.Config
	free []*window // windows to reuse
	// searched counts the bytes searched, at every depth of decoding: the
	// work a scan does, which tests check grows linearly with the input,
	// whatever the input.
	searched int64
	scratch  []byte // the text quickLine decodes
	// payload is the decoded payload of the last JWT the rules judged:
	// the run of base64 it is written in is not decoded again.
	payload rules.Payload
	match   rules.Match // what FindAtPayload found last
	// windowsOnly turns quickLine and the reuse of payloads off, so that
	// every run is decoded in windows: the tests' oracle for both.
	windowsOnly bool
	gz          gzipState // gzip streams in base64 (decode_gzip.go)
}

// window returns an empty window, reused when one is free.
func (f *finder) window() *window {
	if n := len(f.free); n > 0 {
		w := f.free[n-1]
		f.free = f.free[:n-1]
		return w
	}
	return &window{off: make([]int32, 0, 512)}
}

// release gives back a window no longer in use; its decoded text must no
// longer be searched.
func (f *finder) release(w *window) {
	if len(f.free) < maxFreeWindows {
		f.free = append(f.free, w)
	}
}

// find reports every key in buf: plain, or wrapped in up to
// maxDecodeDepth-depth layers of base64, hex and UTF-16. One pass of
// rules.Searcher finds every place to decode; each decoded text is searched
// again for the layers inside.
func (f *finder) find(buf []byte, emit func(hit)) {
	f.findOwned(buf, 0, len(buf), emit)
}

// findOwned is find for a chunk of a stream that owns buf[from:to]: the
// gzip streams in base64 that start before from or at to or after are
// left to the chunks that own them.
func (f *finder) findOwned(buf []byte, from, to int, emit func(hit)) {
	f.gz.left = gzipPerByte*int64(len(buf)) + gzipBase
	f.findStretch(buf, from, to, func() bool { return false }, 0, emit)
}

// findIn is find with the enclosing text's context computed only when a
// token needs it: checking the line of every one of thousands of short
// runs on one long line cost more than decoding them.
func (f *finder) findIn(buf []byte, outer func() bool, depth int, emit func(hit)) {
	f.findStretch(buf, 0, len(buf), outer, depth, emit)
}

// findStretch is findIn for a stretch of a longer text (a chunk of a
// stream, or of an inflated gzip stream) that owns buf[from:to]: the gzip
// streams in base64 that start outside it are left to the stretches that
// own them, which hold them whole when they fit.
func (f *finder) findStretch(buf []byte, from, to int, outer func() bool, depth int, emit func(hit)) {
	f.searched += int64(len(buf))
	if depth >= maxDecodeDepth {
		if rules.Index(buf, []byte("eyJ")) < 0 {
			return
		}
		for _, m := range f.cfg.FindWithContext(buf, outer()) {
			emit(hit{pos: m.Start, match: m})
		}
		return
	}
	d := decodeState{f: f, buf: buf, outer: outer, depth: depth, emit: emit, u16Done: -1, runDone: -1, gzFrom: from, gzTo: to}
	rules.DefaultSearcher().Search(buf, d.hit)
	d.releaseAll()
}

// lineContext returns the context of text decoded from buf[start:end]:
// the enclosing text's, or a Lofty name on the line of the encoded text
// (a Kubernetes Secret's LOFTY_API_KEY: <base64>, say). It is computed once,
// when first asked.
func (f *finder) lineContext(outer func() bool, buf []byte, start, end int) func() bool {
	done, val := false, false
	return func() bool {
		if !done {
			done = true
			val = outer() || rules.HasLoftyContext(buf, start, end, f.cfg.ContextNames)
		}
		return val
	}
}

// decodeState is what one search of one buffer keeps between hits: the
// windows that may cover hits to come, and how far each kind of run has
// been decoded. Hits come in order, so only the last few windows can cover
// the next hit: one per alignment at most, and a run is decoded once per
// alignment, not once per hit.
type decodeState struct {
	f     *finder
	buf   []byte
	outer func() bool // whether the enclosing text puts buf in a Lofty context
	depth int
	emit  func(hit)

	live    []*window // base64 and hex windows that may cover a hit to come
	u16Done int       // UTF-16 decoded up to here
	// unmarked is where the stretch of text of the last hit that
	// markedLine found on no marked line ends.
	unmarked int
	runDone  int // base64 and hex runs decoded up to here
	hex      hexScan
	// gzFrom and gzTo bound where the gzip streams in base64 that buf's
	// search inflates start (see findStretch).
	gzFrom, gzTo int
}

func (d *decodeState) releaseAll() {
	for _, w := range d.live {
		d.f.release(w)
	}
	d.live = nil
}

// hit decodes what a hit of the searcher points at, and returns where the
// next hit of the same form is worth having.
func (d *decodeState) hit(h rules.Hit) int {
	switch {
	case h.Form.Layer == rules.Plain:
		p := &d.f.payload
		if d.f.windowsOnly {
			p = nil
		}
		ok, next := d.f.cfg.FindAtPayload(d.buf, h.Pos, d.outer(), p, &d.f.match)
		if ok {
			d.emit(hit{pos: d.f.match.Start, match: d.f.match})
		}
		if p != nil && p.End > 0 {
			d.payloadRun(p)
		}
		return next
	case h.Form == rules.RunBase64:
		d.decodeRun(h.Pos)
	case h.Form == rules.RunUTF16:
		c := h.Pos // the first character of the block: the byte whose next is zero
		if d.buf[c] == 0 {
			c++
		}
		d.decodeUTF16Run(c)
	case h.Form.Layer == rules.UTF16:
		d.decodeUTF16Run(h.Pos + h.Form.Phase)
		return d.u16Done
	case h.Form.Layer == rules.Base64:
		d.decodeAround(h.Pos, h.Form.Phase, &base64Codec)
	case h.Form.Layer == rules.Hex:
		d.decodeAround(h.Pos, h.Form.Phase, &hexCodec)
	}
	return 0
}

// decodeAround decodes the text of codec c around a form at buf[pos:],
// phase characters into its unit, unless a window decoded already covers it.
func (d *decodeState) decodeAround(pos, phase int, c *codec) {
	covered, coveredMarked := false, false
	d.live = slices.DeleteFunc(d.live, func(w *window) bool {
		if w.whole < pos { // covers no hit from here on
			d.f.release(w)
			return true
		}
		if w.codec == c && w.covers(pos, phase) {
			if w.mark == 0 {
				covered = true
			} else {
				coveredMarked = true
			}
		}
		return false
	})
	if !covered {
		if w := d.f.decodeWindow(d.buf, pos, phase, c); w != nil {
			d.live = append(d.live, w)
			d.searchWindow(w, -1)
		}
	}
	// The lines may also be marked (see markedLine): their text is
	// decoded without the marks too. A hit on a line found unmarked is
	// not looked at again.
	if coveredMarked || pos < d.unmarked {
		return
	}
	m, e, ts := c.markedLine(d.buf, pos)
	if m.mark == 0 {
		d.unmarked = e
		return
	}
	if w := d.f.decodeMarkedWindow(d.buf, pos, phase, c, len(d.buf), m, ts); w != nil {
		d.live = append(d.live, w)
		d.searchWindow(w, -1)
	} else {
		d.unmarked = e
	}
}

// decodeRun decodes a run of base64 text, or of hex, that reaches the
// block at pos, from its start to its end: nested encodings have no fixed
// form to find them by, but need long runs. A run of several lines is
// decoded as one text where its lines continue each other (as a window
// joins them: see codec.continues), and line by line otherwise: each line of
// a list of base64 values starts a quantum of its own.
func (d *decodeState) decodeRun(pos int) {
	if pos < d.runDone {
		return
	}
	buf := d.buf
	start := pos
	for {
		for start > 0 && start > pos-2*rules.RunBlock && inRun(buf[start-1]) {
			start--
		}
		// On over an escaped line break, its 'n' taken as base64, between
		// base64 (or a line break) and base64.
		if start > 0 && start > pos-2*rules.RunBlock && buf[start-1] == '\\' && buf[start] == 'n' && start+1 < len(buf) && b64val[buf[start+1]] != 0xff {
			if k := escapedBreakBefore(buf, start+1); k > 0 && start+1-k > 0 && inRun(buf[start-k]) {
				start -= k - 1
				continue
			}
		}
		// Over the end of a list's string and the start of the next.
		if start > 0 && start > pos-2*rules.RunBlock && buf[start-1] == '"' {
			if k := listBreakBefore(buf, start); k > 0 && start-k > 0 && inRun(buf[start-k-1]) {
				start -= k
				continue
			}
		}
		break
	}
	if start > 0 && buf[start-1] == '\\' && d.f.gz.on {
		// A run whose '/' are written "\/" (JSON) that starts a gzip stream
		// further back: the walk stops at runDone, so it is linear.
		if g := gzipRunStart(buf, max(d.runDone, 0), start); gzipPrefix(buf[g:]) {
			if end := gzipSegmentEnd(buf, g); end > start && d.decodeGzip(g, end) {
				d.runDone = max(d.runDone, end)
				start = end
			}
		}
	}
	shortHex := false // the segment before was a short line of hex
	oddHex := false   // the segment before was hex of an odd number of characters
	prevHex := false  // the segment before was hex
	for start < len(buf) && (inRun(buf[start]) || escapedBreak(buf, start) > 0) {
		for start < len(buf) && (buf[start] == '\n' || buf[start] == '\r' || buf[start] == '\\') {
			if buf[start] == '\\' {
				k := escapedBreak(buf, start)
				if k == 0 {
					break
				}
				start += k - 1
			}
			start++
		}
		c := &base64Codec
		if d.isHexRun(start) || prevHex && d.hex.end == hexEnd {
			// The second case: the last lines of a hex text, fewer than
			// 16 digits before the run ends, which are hex only after hex.
			c = &hexCodec
		} else if gzipPrefix(buf[start:]) {
			if end := gzipSegmentEnd(buf, start); d.decodeGzip(start, end) {
				d.runDone = max(d.runDone, end)
				start = end
				continue
			}
		}
		end, done := d.quickLine(start, c)
		if !done {
			end = c.segmentEnd(buf, start)
			if c == &base64Codec && d.f.gz.on {
				end = gzipLineIn(buf, start, end)
			}
			if !shortHex || end-start >= minHexLine {
				d.decodeSegment(start, end, c, 0)
				if c == &hexCodec && oddHex {
					d.decodeSegment(start, end, c, 1)
				}
			}
		}
		shortHex = c == &hexCodec && end-start < minHexLine
		oddHex = c == &hexCodec && hexChars(buf[start:end])%2 == 1
		prevHex = c == &hexCodec
		d.runDone = max(d.runDone, end)
		start = end
	}
	d.runDone = max(d.runDone, start, pos+rules.RunBlock)
}

// minHexLine is the shortest line of hex a window is decoded for when the
// line before it, a segment of its own, is shorter too. Hex lines of
// unequal length do not continue each other (codec.continues), so every
// line of a file of numbers, or of hex values of many lengths, is a
// segment, and its window decodes the b64Back characters before it as well
// (to find a key wrapped over lines ending in it): 85 bytes searched, and
// 47 allocated, for each byte of input, 0.7 MB/s. A key's hex is hundreds
// of characters; hex wrapped at fewer columns than this is not read.
const minHexLine = 16

// hexChars returns how many hex digits s holds.
func hexChars(s []byte) int {
	n := 0
	for _, c := range s {
		if hexval[c] != 0xff {
			n++
		}
	}
	return n
}

// gzipLineIn returns where the segment buf[start:end] ends when a line
// of it after the first starts a gzip stream ("H4sI", or base64 of it):
// the line break before that line, so that the stream is read from its
// own first line. Lines of base64 letters before a block ("payload", a
// column of "p") are read as continuing it, and their text would shift
// every quantum of the stream. Otherwise end.
func gzipLineIn(buf []byte, start, end int) int {
	for i := start; i < end; {
		j := bytes.IndexByte(buf[i:end], '\n')
		if j < 0 {
			break
		}
		if k := i + j + 1; k < end && gzipPrefix(buf[k:]) {
			if i+j > start && buf[i+j-1] == '\r' {
				return i + j - 1
			}
			return i + j
		}
		i += j + 1
	}
	return end
}

// payloadRun does for the base64url text of a JWT's payload, decoded by the
// rules as p, what decodeRun would do when the searcher reaches the run it
// is: when quickLine would decode the run (as p.Text) and find it holds
// nothing, the run is marked done, so that it is not decoded again. Any
// other run is left to decodeRun. A payload with no whole block of the
// search in it is no run the searcher reports, and is left alone.
func (d *decodeState) payloadRun(p *rules.Payload) {
	buf, start, end := d.buf, p.Start, p.End
	first := (start + rules.RunBlock - 1) / rules.RunBlock * rules.RunBlock
	if first+rules.RunBlock > end || start < d.runDone || end-start > quickSegment {
		return
	}
	// decodeRun would start at start (the byte before is a '.', and its
	// first block is less than 2*RunBlock on), read base64 (not hex) up to
	// end (a '.' or '=' follows), and quickLine would decode it as p.Text.
	if start == 0 || buf[start-1] != '.' || end >= len(buf) || inRun(buf[end]) || d.isHexRun(start) {
		return
	}
	if !d.quickDone(p.Text, end-start) {
		return
	}
	d.runDone = max(d.runDone, end)
}

// segmentEnd returns the end of the text of c at buf[start:] that is one
// encoded text: its line, and the lines after it that continue it.
func (c *codec) segmentEnd(buf []byte, start int) int {
	i, prevLen := start, -1
	indent := lineIndent(buf, start)
	for {
		lineStart := i
		for i < len(buf) && c.val[buf[i]] != 0xff {
			i++
		}
		lineLen := i - lineStart
		next := i
		if k := escapedBreak(buf, i); k > 0 {
			next = i + k
		} else {
			if next < len(buf) && buf[next] == '\r' {
				next++
			}
			if next >= len(buf) || buf[next] != '\n' {
				return i
			}
			next++
		}
		next = c.lineAfter(buf, next, indent, len(buf))
		if next < 0 || !c.continues(buf, next, lineLen, prevLen) {
			return i
		}
		prevLen = lineLen
		i = next
	}
}

// decodeSegment decodes one encoded text from its start, window after
// window, its start phase characters into its first unit.
//
// A segment's first window holds the lines before it too, aligned on the
// segment's start. Hex wrapped at an odd width (a key's hex on lines of
// 17 characters, the last one shorter) starts every other line in the
// middle of a byte: decodeRun decodes a hex segment after one of an odd
// number of characters at both alignments (phase 1 as well), so that the
// window of the line a key ends on reads it whatever the parity of the
// lines before. Read at one, a key whose hex started an odd number of
// characters before that line was found only by a window of a later line
// of the other parity, when there was one (before short lines of hex were
// passed over: see minHexLine).
func (d *decodeState) decodeSegment(start, end int, c *codec, phase int) {
	h, prevWhole := start, -1
	for first := true; ; first = false {
		p := 0
		if first {
			p = phase
		}
		w := d.f.decodeWindowTo(d.buf, h, p, c, end)
		if w == nil {
			return
		}
		d.searchWindow(w, prevWhole)
		cut := len(w.off) >= b64Back+b64Ahead
		if !cut || w.whole <= h {
			d.f.release(w)
			return
		}
		// Go on from the last unit start at or before the end of what
		// this window holds whole.
		i := w.index(w.whole)
		i -= (i - w.quantum) % c.unit
		h, prevWhole = w.at(i), w.whole
		d.f.release(w)
	}
}

// quickSegment is the longest segment quickLine decodes: a JWT's payload
// or signature, a hash, a short base64 value. Longer runs are rare and go
// through windows.
const quickSegment = 2048

// quickLine decodes the run of c's text at buf[start:] up to the end of its
// line, and reports where it ends and whether that line is a whole segment
// (see segmentEnd) in whose decoded text the searcher finds nothing: then
// decoding it window by window would find nothing either, and it is done.
// Most runs are of this kind (every JWT's payload is a run), and a window,
// its offsets and a search of its own cost several times the decoding. It
// decodes as decodeWindowTo does from start with no phase; when the text
// before start would join the window (text of c, or a line break) or a
// line break follows, it says no, and segmentEnd and the windows decide.
func (d *decodeState) quickLine(start int, c *codec) (int, bool) {
	buf := d.buf
	if d.f.windowsOnly || start > 0 && (c.val[buf[start-1]] != 0xff || buf[start-1] == '\n' || buf[start-1] == '\r' || escapedBreakBefore(buf, start) > 0 || listBreakBefore(buf, start) > 0) {
		return 0, false
	}
	dec, n := decodeLine(c, buf[start:min(len(buf), start+quickSegment+1)], d.f.scratch[:0])
	d.f.scratch = dec
	end := start + n
	if n > quickSegment || end < len(buf) && (buf[end] == '\n' || buf[end] == '\r' || escapedBreak(buf, end) > 0) {
		return 0, false
	}
	return end, d.quickDone(dec, n)
}

// quickDone reports whether dec, a whole run of n characters decoded from
// its first, holds nothing to search for at the next depth.
func (d *decodeState) quickDone(dec []byte, n int) bool {
	if n < 16 {
		return true // too short for a window (see decodeWindowTo)
	}
	d.f.searched += int64(len(dec))
	if d.depth+1 >= maxDecodeDepth {
		return rules.Index(dec, []byte("eyJ")) < 0
	}
	return !rules.DefaultSearcher().Any(dec)
}

// decodeLine decodes the characters of c at the start of s, appended to
// dst, as a window decodes them from its first: whole units, then the
// bytes a cut unit's characters make. It returns the decoded bytes and how
// many characters it read (it stops at the first byte not of c).
func decodeLine(c *codec, s, dst []byte) ([]byte, int) {
	val := c.val
	k := 0
	if c.unit == 4 {
		// Whole quanta through tables that hold each character's bits in
		// place (one test a quantum), written into room made once.
		dst = slices.Grow(dst, len(s)/4*3)
		n, out := len(dst), dst[:cap(dst)]
		for ; k+4 <= len(s); k += 4 {
			q := s[k : k+4 : k+4]
			x := b64q0[q[0]] | b64q1[q[1]] | b64q2[q[2]] | b64q3[q[3]]
			if x&notBase64 != 0 {
				break
			}
			o := out[n : n+3 : n+3]
			o[0], o[1], o[2] = byte(x>>16), byte(x>>8), byte(x)
			n += 3
		}
		dst = out[:n]
	} else {
		for ; k+2 <= len(s); k += 2 {
			a, b := val[s[k]], val[s[k+1]]
			if a|b == 0xff {
				break
			}
			dst = append(dst, a<<4|b)
		}
	}
	var acc uint32
	var bits uint
	for ; k < len(s) && val[s[k]] != 0xff; k++ {
		acc = acc<<c.bits | uint32(val[s[k]])
		bits += c.bits
		if bits >= 8 {
			bits -= 8
			dst = append(dst, byte(acc>>bits))
		}
	}
	return dst, k
}

// notBase64 is the bit b64q0..3 set for a byte that is not base64.
const notBase64 = 1 << 31

// b64q0..3 hold the 6 bits of each base64 character (either alphabet)
// shifted to their place in a quantum's 24 bits, or notBase64.
var b64q0, b64q1, b64q2, b64q3 = func() (t0, t1, t2, t3 [256]uint32) {
	for c, v := range b64val {
		if v == 0xff {
			t0[c], t1[c], t2[c], t3[c] = notBase64, notBase64, notBase64, notBase64
			continue
		}
		t0[c], t1[c], t2[c], t3[c] = uint32(v)<<18, uint32(v)<<12, uint32(v)<<6, uint32(v)
	}
	return
}()

// inRun reports whether c can be part of a base64 or hex run, line breaks
// included.
func inRun(c byte) bool { return b64val[c] != 0xff || c == '\n' || c == '\r' }

// isHexRun reports whether the run at buf[start:] is hex digits only (and
// line breaks) for as far as a window reads: then it is decoded as hex. A
// base64 text of 64 characters or more that holds only hex digits is not
// to be expected. It is hexRunRef, with what it read kept for the next
// call (hexScan).
func (d *decodeState) isHexRun(start int) bool {
	s, buf := &d.hex, d.buf
	if start < s.at || start > s.to {
		*s = hexScan{to: start, at: start}
	}
	for ; s.at < start; s.at++ {
		if hexval[buf[s.at]] != 0xff {
			s.atDigits++
		}
	}
	const limit = b64Back + b64Ahead
	for s.end == hexOpen && s.digits-s.atDigits < limit {
		if s.to == len(buf) {
			s.end = hexEnd
			break
		}
		switch c := buf[s.to]; {
		case c == '\n' || c == '\r':
		case hexval[c] != 0xff:
			s.digits++
		case b64val[c] != 0xff:
			s.end = hexBase64
			continue
		default:
			s.end = hexEnd
			continue
		}
		s.to++
		s.read++
	}
	n := s.digits - s.atDigits
	switch {
	case n >= limit:
		return true
	case s.end == hexBase64:
		return false // base64 that starts as hex
	}
	return n >= 16 // the run ended
}

// hexScan is what isHexRun read of a run since it last started again:
// buf[at:to] is hex digits and line breaks, digits counts the digits read
// up to to and atDigits those up to at (digits-atDigits are ahead of at),
// and end says what buf[to] is. Every line of a file of numbers is a segment of one
// run, and isHexRun reads as far as a window reads (64 KiB of digits)
// from each: 109 KB of numbers, one a line, took a second. Kept, it reads
// each character once.
type hexScan struct {
	to, digits, at, atDigits int
	end                      int8
	read                     int // characters read, for the tests
}

// What buf[hexScan.to] is.
const (
	hexOpen   = iota // not read yet
	hexBase64        // a base64 character that is no hex digit
	hexEnd           // no character of a run, or the end of buf
)

// hexRunRef is isHexRun as its specification: read from start each time.
func hexRunRef(buf []byte, start int) bool {
	n := 0
	for i := start; i < len(buf) && n < b64Back+b64Ahead; i++ {
		c := buf[i]
		if c == '\n' || c == '\r' {
			continue
		}
		if hexval[c] == 0xff {
			return b64val[c] == 0xff && n >= 16 // the run ended
		}
		n++
	}
	return n >= 16
}

// searchWindow runs the rules over a decoded window and reports what it
// finds at the place its encoded text starts; a token at or before skip
// was reported from the window before.
func (d *decodeState) searchWindow(w *window, skip int) {
	outer := d.f.lineContext(d.outer, d.buf, w.at(w.quantum), w.at(len(w.off)-1)+1)
	c := w.codec
	d.f.findIn(w.decoded, outer, d.depth+1, func(in hit) {
		q := w.quantum + in.pos/c.bytes*c.unit
		in.pos = w.at(min(q, len(w.off)-1))
		if in.pos > w.whole || in.pos <= skip {
			return // cut off by the window's end: found from a window of its own
		}
		in.encoding = joinEncoding(c.name, in.encoding)
		d.emit(in)
	})
}

// decodeUTF16Run decodes the UTF-16 text around the character at c, and on
// past each stretch cut by its size, unless it was decoded already.
func (d *decodeState) decodeUTF16Run(c int) {
	for c >= d.u16Done {
		whole, cut := d.f.decodeUTF16(d.buf, c, d.outer, d.depth, d.emit)
		d.u16Done = whole
		if !cut {
			return
		}
		c = whole // a character: whole is the cut end less whole characters
	}
}

func joinEncoding(outer, inner string) string {
	if inner == "" {
		return outer
	}
	return outer + "/" + inner
}
