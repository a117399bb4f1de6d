package scanner

import (
	"bytes"
	"errors"
	"io"

	"github.com/klauspost/compress/gzip"
)

// Gzip inside base64. Tools that embed a file in text compress it first: a
// Helm release Secret is base64 (Kubernetes's) of base64 of gzip of the
// release, values and all; Terraform's base64gzip, cloud-init user data
// and CI variables are base64 of gzip. Compressed, a key has no form to
// find it by. A gzip stream starts with 1f 8b 08, which base64 writes as
// "H4sI" at the start of a run, and base64 of that as "SDRzS": such a run
// is decoded whole (one or two layers of base64), inflated within a
// budget, and the text searched as any other, a stretch at a time. A key
// found there is reported where the run starts, its encodings
// "base64/gzip" (or "base64/base64/gzip") before its own.
//
// The budget keeps the work linear in the input whatever the streams
// claim: what one search of a buffer inflates, in all its runs, is at most
// gzipPerByte times the buffer plus gzipBase (a Helm release's JSON is
// about 6 times its double base64, a gzipped .env under 1 KiB; deflate can
// claim 1,032 times). The inflated text may be as costly to search as text
// can be ("ZXlK" over and over: 20 MB/s), so the budget is what real
// streams need: at 64 times plus 1 MiB, 100 files of 87 KB of such bombs
// (8.6 MB) took 32.7 s of CPU. Past it, or past a stream's gzipRunMax, a
// stream is searched in part, and the file gets a warning. Memory is one
// stretch per worker.
const (
	gzipPerByte = 16
	gzipBase    = 256 << 10
	gzipRunMax  = 64 << 20
	gzipStretch = 1 << 20 // searched at a time, with the overlap that follows it
)

// gzipState is a finder's: its budget and buffers.
type gzipState struct {
	on   bool  // archives are opened (Limits.ArchiveDepth > 0)
	left int64 // inflated bytes the buffer being searched may still cost
	// cut counts the streams of the file being scanned searched in part,
	// damaged (truncated by a chunk's end, say) or over the budget; double
	// is whether one of them was base64 of base64 (see warnGzipCut).
	cut    gzipCut
	double bool
	// deferred counts the streams left to the stretch after the one
	// searched (see findStretch).
	deferred int
	// The buffers of each depth: a stream's text may hold another.
	bufs [maxDecodeDepth]gzipBufs
}

// gzipBufs are the buffers one stream is decoded in.
type gzipBufs struct {
	text    []byte // the base64 characters of a run, line breaks left out
	inner   []byte // base64 of base64: the inner layer, decoded, then swapped with decoded
	decoded []byte // the stream
	out     []byte // a stretch of inflated text
	// The reader of the stream and its source, reset for each stream: a
	// new gzip reader allocates about 40 KB, which thousands of short
	// runs made 150 times the input in garbage.
	src bytes.Reader
	zr  *gzip.Reader
}

// gzipPrefix reports whether the base64 text at s starts a gzip stream:
// "H4sI", or base64 of it.
func gzipPrefix(s []byte) bool {
	return bytes.HasPrefix(s, []byte("H4sI")) || bytes.HasPrefix(s, []byte("SDRzS"))
}

// decodeGzip searches the gzip stream that the base64 text buf[start:end]
// (a segment: see segmentEnd) holds, and reports whether it held one:
// then the run needs no other decoding, its bytes being compressed.
func (d *decodeState) decodeGzip(start, end int) bool {
	f := d.f
	depth, layers := d.depth+1, "base64/gzip"
	if !f.gz.on || depth >= maxDecodeDepth {
		return false
	}
	if start < d.gzFrom || start >= d.gzTo {
		if start >= d.gzTo {
			f.gz.deferred++
		}
		return true // another stretch's: searched there (see findStretch)
	}
	b := &f.gz.bufs[d.depth]
	b.decoded = decodeText(d.buf[start:end], &b.text, b.decoded[:0])
	if bytes.HasPrefix(b.decoded, []byte("H4sI")) && depth+1 < maxDecodeDepth {
		b.inner = decodeText(b.decoded, &b.text, b.inner[:0])
		b.decoded, b.inner = b.inner, b.decoded
		depth, layers = depth+1, "base64/base64/gzip"
	}
	if len(b.decoded) < 18 || b.decoded[0] != 0x1f || b.decoded[1] != 0x8b || b.decoded[2] != 8 {
		return false
	}
	b.src.Reset(b.decoded)
	if b.zr == nil {
		b.zr = new(gzip.Reader)
	}
	zr := b.zr
	if err := zr.Reset(&b.src); err != nil {
		f.gz.cutOne(cutDamaged, depth > d.depth+1)
		return true
	}
	outer := f.lineContext(d.outer, d.buf, start, end)
	emit := func(in hit) {
		in.pos = start
		in.encoding = joinEncoding(layers, in.encoding)
		d.emit(in)
	}
	if why := f.searchInflated(zr, b, outer, depth, emit); why != cutNone {
		f.gz.cutOne(why, depth > d.depth+1)
	}
	return true
}

// Why a stream was searched in part.
const (
	cutNone = iota - 1
	cutDamaged
	cutBudget
)

type gzipCut [2]int // streams searched in part, by why

// newFile forgets the streams searched in part of the file before.
func (g *gzipState) newFile() { g.cut, g.double = gzipCut{}, false }

func (g *gzipState) cutOne(why int, double bool) {
	g.cut[why]++
	g.double = g.double || double
}

// searchInflated searches what zr inflates, a stretch at a time with the
// overlap that follows it, within the budget; it reports whether it read
// the stream to its end (cutNone), or why not. What it inflates is taken from the budget as it is
// read, before the stretch is searched: the streams nested in the stretch
// have only what is left of it.
func (f *finder) searchInflated(zr io.Reader, b *gzipBufs, outer func() bool, depth int, emit func(hit)) int {
	if cap(b.out) < gzipStretch+overlap {
		b.out = make([]byte, gzipStretch+overlap)
	}
	buf := b.out[:gzipStretch+overlap]
	n, total := 0, int64(0)
	for {
		room := max(0, min(int64(len(buf)-n), f.gz.left, gzipRunMax-total))
		m, err := readFull(zr, buf[n:n+int(room)])
		n += m
		total += int64(m)
		f.gz.left -= int64(m)
		// The streams nested in the stretch that start in the overlap at
		// its end are the next stretch's, unless this one is the last.
		owned := n
		if err == nil && f.gz.left > 0 && total < gzipRunMax {
			owned = max(n-overlap, 0)
		}
		deferred := f.gz.deferred
		f.findStretch(buf[:n], 0, owned, outer, depth, emit)
		switch {
		case errors.Is(err, io.EOF):
			return cutNone
		case err != nil, m < int(room): // readFull stops short only with an error
			return cutDamaged
		case f.gz.left <= 0 || total >= gzipRunMax:
			// Streams left to the next stretch are not searched now
			// that the budget is spent: this one is searched in part.
			if probeEOF(zr) && f.gz.deferred == deferred {
				return cutNone
			}
			return cutBudget
		}
		// Keep the overlap, searched again with what follows it: a key
		// cut by the stretch's end is whole there.
		copy(buf, buf[n-overlap:n])
		n = overlap
	}
}

// gzipTextMax is how long a run of base64 that starts a gzip stream may be
// for a streamed file's chunk to grow to hold it whole (gzipRunTo): a
// Kubernetes Secret, a Helm release's, holds at most 1 MiB, 1.4 MiB in
// base64; user data and CI variables far less.
const gzipTextMax = 2 << 20

// gzipRunTo returns where the run of base64 that starts a gzip stream at or
// after from, before to, and reaches the end of buf starts, or -1 if there
// is none: a chunk of a stream whose buffer ends in such a run must read on
// to hold it whole. The work is linear in the bytes from the run to the
// buffer's end.
func gzipRunTo(buf []byte, from, to int) int {
	n := len(buf)
	if w := buf[from:min(to+4, n)]; !bytes.Contains(w, []byte("H4sI")) && !bytes.Contains(w, []byte("SDRzS")) {
		return -1 // most chunks: no walk over their runs
	}
	i := gzipRunStart(buf, from, n)
	for i < to {
		for i < n && (buf[i] == '\n' || buf[i] == '\r') {
			i++
		}
		if i >= to {
			break
		}
		var e int
		if gzipPrefix(buf[i:]) {
			if e = gzipSegmentEnd(buf, i); e == n {
				return i
			}
		} else {
			e = gzipLineIn(buf, i, base64Codec.segmentEnd(buf, i)) // as decodeRun reads it
		}
		i = max(e, i+1)
	}
	return -1
}

// gzipSegmentEnd is segmentEnd for a run that starts a gzip stream, read
// on across "\/": JSON encoders (PHP's by default) escape the '/' of the
// standard alphabet, which a gzip header written by Go has at its 13th
// character (H4sIAAAAAAAA/); and across "\u002B" and "\u002F", as .NET's
// System.Text.Json writes '+' (and some encoders '/'), which nearly every
// such run holds.
func gzipSegmentEnd(buf []byte, start int) int {
	e := base64Codec.segmentEnd(buf, start)
	for {
		if e+1 < len(buf) && buf[e] == '\\' && buf[e+1] == '/' {
			e = base64Codec.segmentEnd(buf, e+1)
			continue
		}
		if escapedBase64Char(buf[e:]) != 0 {
			e = base64Codec.segmentEnd(buf, e+6)
			continue
		}
		return e
	}
}

// escapedBase64Char returns the base64 character s starts with written as
// a JSON escape, "\u002B" ('+') or "\u002F" ('/'), either case of hex
// digit; 0 when it starts with none.
func escapedBase64Char(s []byte) byte {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' || s[2] != '0' || s[3] != '0' || s[4] != '2' {
		return 0
	}
	switch s[5] {
	case 'B', 'b':
		return '+'
	case 'F', 'f':
		return '/'
	}
	return 0
}

// gzipRunStart returns where the run of base64 that reaches pos starts, no
// lower than lo, read across "\/" and the indentation of the lines of a
// block (see gzipSegmentEnd).
func gzipRunStart(buf []byte, lo, pos int) int {
	i := pos
	for i > lo {
		switch {
		case inRun(buf[i-1]):
			if buf[i-1] == 'n' && i < len(buf) && b64val[buf[i]] != 0xff {
				if k := escapedBreakBefore(buf, i); k > 0 && i-k > lo && inRun(buf[i-k-1]) {
					i -= k
					continue
				}
			}
			i--
		case buf[i-1] == '\\' && i < len(buf) && buf[i] == '/' && i-1 > lo && b64val[buf[i-2]] != 0xff:
			i--
		case buf[i-1] == '\\' && escapedBase64Char(buf[i-1:]) != 0 && i-1 > lo && b64val[buf[i-2]] != 0xff:
			i-- // its "u002B" is base64 to the walk
		case isBlank(buf[i-1]):
			k := i - 1
			for k > lo && isBlank(buf[k-1]) {
				k--
			}
			if k-1 <= lo || buf[k-1] != '\n' || i == len(buf) || base64Codec.val[buf[i]] == 0xff {
				return i
			}
			i = k
		default:
			return i
		}
	}
	return i
}

// probeEOF reports whether zr has nothing more to give.
func probeEOF(zr io.Reader) bool {
	var b [1]byte
	m, err := zr.Read(b[:])
	return m == 0 && errors.Is(err, io.EOF)
}

// decodeText decodes base64 text, either alphabet, line breaks and
// indentation left out (a run wrapped at 76 columns is one text) and "\/",
// "\u002B" and "\u002F" read as the characters they escape, appended to
// dst; text is the scratch the characters are gathered in.
func decodeText(s []byte, text *[]byte, dst []byte) []byte {
	t := (*text)[:0]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' {
			if k := escapedBreak(s, i); k > 0 {
				i += k - 1 // an escaped line break (see escapedBreak)
				continue
			}
			if e := escapedBase64Char(s[i:]); e != 0 {
				t = append(t, e)
				i += 5
				continue
			}
		}
		// A segment holds blanks only as indentation.
		if c != '\n' && c != '\r' && !isBlank(c) && (c != '\\' || i+1 == len(s) || s[i+1] != '/') {
			t = append(t, c)
		}
	}
	*text = t
	dst, _ = decodeLine(&base64Codec, t, dst)
	return dst
}
