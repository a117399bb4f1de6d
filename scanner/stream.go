package scanner

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/inflate"
	"github.com/loftyscan/loftyscan/rules"
)

// Chunking. A stream is searched in chunks of chunkSize bytes, each with the
// overlap bytes that follow it (so a key that starts in a chunk is whole in
// the buffer) and the back bytes that precede it (so the rules see the
// key's line for context). A match belongs to the chunk its position falls
// in, so none is reported twice and memory stays at one buffer per worker,
// whatever the file size.
const (
	chunkSize = 1 << 20
	overlap   = 64 << 10
	back      = 4 << 10
	bufSize   = back + chunkSize + overlap
)

// streamer scans one stream at a time; each worker owns one.
type streamer struct {
	find     finder
	buf      []byte
	progress *Progress       // when set, bytes are counted here as they are read
	inflate  inflate.Decoder // deflated members decoded whole (inflate.go)
	// whole and entryCap decide which gzip files are decoded whole
	// (gzipFits): the Run's slots for big ones (nil outside a Run: small
	// ones only), and the Limits' cap per entry.
	whole    *wholeGate
	entryCap int64
	// ratio is the run's Limits.Ratio: a decoder's window need not reach
	// back past what the ratio cap lets be scanned (windowMost).
	ratio  int64
	places placeLimit // the findings of the file being scanned
	// searchNames says archive entries' names are searched for keys
	// (names.go), with names, the streamer they are searched with.
	searchNames bool
	names       *streamer
	windows     windows // what this worker's open decoders hold of dictionaries (window.go)
	// report's hits, kept from call to call with the function that
	// gathers them, and the positions it keeps: a closure and a slice
	// made per call were two of the seven allocations a small file cost.
	hits     []hit
	gather   func(hit)
	from, to int
}

func newStreamer(f finder) *streamer { return newStreamerOf(f, bufSize) }

// newStreamerOf returns a streamer with a buffer of size bytes: none for
// one that only searches text held in memory (names.go).
func newStreamerOf(f finder, size int) *streamer {
	s := &streamer{find: f, buf: make([]byte, size)}
	s.gather = func(h hit) {
		if h.pos >= s.from && h.pos < s.to {
			s.hits = append(s.hits, h)
		}
	}
	return s
}

// scan reads r to its end and reports every finding in it under path. It
// returns the bytes read and the first read error (findings before it are
// already reported).
func (s *streamer) scan(ctx context.Context, r io.Reader, path string, emit func(finding.Finding)) (int64, error) {
	var (
		pos   position
		n     int // valid bytes in buf
		owned int // buf[:owned] was owned by earlier chunks
		total int64
	)
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		m, err := readFull(r, s.buf[n:])
		n += m
		total += int64(m)
		if s.progress != nil {
			s.progress.Bytes.Add(int64(m))
		}
		if owned == 0 {
			pos.skipBOM(s.buf[:n]) // the first read: owned is 0 only then
		}
		eof := errors.Is(err, io.EOF)
		if err != nil && !eof {
			// Scan what was read before reporting the error.
			s.report(s.buf[:n], owned, n, &pos, path, emit)
			return total, err
		}
		base, runEnd := s.buf, -1
		if !eof && s.find.gz.on {
			// A gzip stream in base64 that starts in the chunk and runs
			// past its buffer is read whole: the chunk grows to hold it,
			// and ends where it ends (a run after it, past the buffer,
			// is the next chunk's).
			if start := gzipRunTo(s.buf[:n], owned, n-overlap); start >= 0 {
				var m int
				n, m, err = s.grow(r, start, n)
				total += int64(m)
				if eof = errors.Is(err, io.EOF); err != nil && !eof {
					s.report(s.buf[:n], owned, n, &pos, path, emit)
					s.buf = base
					return total, err
				}
				if e := gzipSegmentEnd(s.buf[:n], start); e+overlap <= n {
					runEnd = e
				}
			}
		}
		end := n
		if !eof {
			end = n - overlap
			if runEnd >= 0 {
				end = max(runEnd, n-len(base)+back) // what follows fits in base
			}
		}
		s.report(s.buf[:n], owned, end, &pos, path, emit)
		if eof {
			s.buf = base
			return total, nil
		}
		// Keep the back bytes before end, and the overlap after it.
		keep := n - (end - back)
		copy(base, s.buf[n-keep:n])
		s.buf = base
		owned = back
		n = keep
	}
}

// grow reads on into a bigger buffer, in place of s.buf until the chunk is
// reported, until the run of base64 at buf[start:n] ends before the overlap
// that follows it, or is gzipTextMax long. It returns the bytes the buffer
// holds, the bytes read and the read's error.
func (s *streamer) grow(r io.Reader, start, n int) (int, int, error) {
	read := 0
	for {
		size := min(n+chunkSize, start+gzipTextMax+overlap)
		if size <= n {
			return n, read, nil
		}
		if len(s.buf) < size {
			b := make([]byte, size)
			copy(b, s.buf[:n])
			s.buf = b
		}
		m, err := readFull(r, s.buf[n:size])
		n += m
		read += m
		if s.progress != nil {
			s.progress.Bytes.Add(int64(m))
		}
		if err != nil || gzipSegmentEnd(s.buf[:n], start)+overlap <= n {
			return n, read, err
		}
	}
}

// scanHeld is scan for a stream held whole, shorter than s.buf (read into
// it, or held in memory), as if one read gave it all.
func (s *streamer) scanHeld(data []byte, path string, emit func(finding.Finding)) int64 {
	if s.progress != nil {
		s.progress.Bytes.Add(int64(len(data)))
	}
	if len(data) == 0 {
		return 0 // nothing to search: an empty file costs a count
	}
	var pos position
	pos.skipBOM(data)
	s.report(data, 0, len(data), &pos, path, emit)
	return int64(len(data))
}

// readFull reads into b until b is full or r fails. Unlike io.ReadFull it
// passes r's errors on as they are: io.EOF is the end of the stream, while
// an io.ErrUnexpectedEOF from r itself (a truncated gzip stream or tar
// entry) is damage to report, not an end.
func readFull(r io.Reader, b []byte) (int, error) {
	n, empty := 0, 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m == 0 {
			if empty++; empty > 100 {
				return n, io.ErrNoProgress // a reader that never gives data nor fails
			}
		}
	}
	return n, nil
}

// report finds the keys in buf whose position is in buf[from:to], turns
// them into findings in order, and advances pos to to.
func (s *streamer) report(buf []byte, from, to int, pos *position, path string, emit func(finding.Finding)) {
	s.hits, s.from, s.to = s.hits[:0], from, to
	s.find.findOwned(buf, from, to, s.gather)
	hits := s.hits
	defer clear(hits) // the tokens are not kept past the call
	if len(hits) > 1 {
		slices.SortStableFunc(hits, func(a, b hit) int { return cmp.Compare(a.pos, b.pos) })
	}
	cur := from
	type place struct {
		pos int
		tok string
	}
	var seen map[place]bool // made for the first hit: most buffers have none
	var allow allowCheck
	for _, h := range hits {
		if seen == nil {
			seen = map[place]bool{}
		}
		key := place{h.pos, h.match.Token}
		if seen[key] {
			continue // the same token reached by two decoding paths
		}
		seen[key] = true
		pos.advance(buf[cur:h.pos])
		cur = h.pos
		line, col := pos.lineCol(strings.HasPrefix(h.encoding, "utf-16"))
		f := newFinding(h, path, line, col)
		f.Encoding = pos.orderOf(f.Encoding)
		if allow.check(buf, h) {
			f.Suppressed = finding.SuppressedInline
		}
		if !s.places.keep(f) {
			continue
		}
		emit(f)
	}
	pos.advance(buf[cur:to])
}

// Places. A key repeated a million times in one file (a crafted file, or a
// git delta that repeats its base) is one key to revoke, and each place it
// appears would be a finding held in memory and printed: a file gives at
// most maxPlacesPerKey places of each key, and maxFindingsPerFile findings
// in all; the rest are counted, and the file gets a warning that says so.
const (
	maxPlacesPerKey    = 100
	maxFindingsPerFile = 10_000
)

// maxFindingsPerRun bounds the findings of a whole scan (Run.emit): files
// of a few thousand keys each add up, and each finding is held to the end
// and printed (a git scan holds a few kilobytes of each: a commit of 126
// MB of distinct keys, 2.5 MB compressed, peaked at 8.3 GB for its million
// findings). Past it, a finding is not reported, with one warning counted
// as an error, unless it counts (is not suppressed inline) and is of a key
// no finding that counts has shown yet, up to maxNewKeysPastCap such keys
// more: a scanned change cannot crowd out the key it adds with keys it
// allows inline (loftyscan:allow), and make the report clean.
const (
	maxFindingsPerRun = 20_000
	maxNewKeysPastCap = 20_000
)

// maxNewKeysPastFile bounds the keys a file still reports past
// maxFindingsPerFile: a finding that counts (not allowed inline, or
// --no-inline-allow) of a key the file has not shown yet is reported past
// the cap, so that a file of 10,000 places of keys it allows inline (or
// that a push option or an ignore entry accepts) cannot hide the key it
// adds after them. Past these too, a key the file reported nowhere is an
// error, and a finding the scan did not list (Run.FindingsDropped): a
// pre-receive hook rejects the push.
const maxNewKeysPastFile = 10_000

// placeLimit counts the findings of the file being scanned.
type placeLimit struct {
	perKey map[string]int
	// shown holds the keys with a place kept that counts.
	shown map[string]bool
	total int
	// past counts the places kept past the caps (maxNewKeysPastFile).
	past int
	// inlineAllowCounts is --no-inline-allow: an allow comment does not
	// stop a finding from counting.
	inlineAllowCounts bool
	// dropped counts the findings left out; unseen those of them whose key
	// the file reported nowhere (past maxFindingsPerFile), which the
	// warning must not call more places of keys already shown; lost those
	// that count, of a key with no place kept that counts.
	dropped, unseen, lost int64
}

func (l *placeLimit) reset() {
	clear(l.perKey)
	clear(l.shown)
	l.total, l.past, l.dropped, l.unseen, l.lost = 0, 0, 0, 0, 0
}

// keep reports whether finding f is within the limits, and counts it. A
// place that counts of a key with none kept that counts is kept past
// both caps (up to maxNewKeysPastFile such places): a key allowed inline
// a hundred times, or ten thousand places of other keys, cannot hide a
// place of it that is not.
func (l *placeLimit) keep(f finding.Finding) bool {
	if l.perKey == nil {
		l.perKey, l.shown = map[string]int{}, map[string]bool{}
	}
	fp := f.Fingerprint
	n := l.perKey[fp]
	counts := f.Suppressed == "" || l.inlineAllowCounts
	switch {
	case n < maxPlacesPerKey && l.total < maxFindingsPerFile:
		l.total++
	case counts && !l.shown[fp] && l.past < maxNewKeysPastFile:
		l.past++
	default:
		l.dropped++
		if n == 0 {
			l.unseen++
		}
		if counts && !l.shown[fp] {
			l.lost++
		}
		return false
	}
	l.perKey[fp]++
	if counts {
		l.shown[fp] = true
	}
	return true
}

func newFinding(h hit, path string, line, col int) finding.Finding {
	sum := sha256.Sum256([]byte(h.match.Token))
	return finding.Finding{
		RuleID:      h.match.Rule,
		Fingerprint: hex.EncodeToString(sum[:]),
		Path:        path,
		Line:        line,
		Column:      col,
		Encoding:    h.encoding,
		Status:      h.match.Status,
		ExpiresAt:   h.match.ExpiresAt,
		Alg:         h.match.Alg,
		Subject:     h.match.Subject,
		Secret:      h.match.Token,
	}
}

// allowCheck checks a hit's lines for an allow comment. A key in a gzip
// stream in base64 is on every line of the run, whose end no length of the
// key tells (a Helm release's run is one line of up to 1.4 MB, the comment
// after it): the lines are those of the whole run, checked once for all its
// keys.
type allowCheck struct {
	pos     int // the run last checked, +1 (0: none)
	allowed bool
}

func (a *allowCheck) check(buf []byte, h hit) bool {
	end := h.pos + storedLen(h)
	if !strings.Contains(h.encoding, "gzip") {
		return rules.HasAllowComment(buf, h.pos, end)
	}
	if a.pos != h.pos+1 {
		a.pos = h.pos + 1
		a.allowed = rules.HasAllowComment(buf, h.pos, max(end, gzipSegmentEnd(buf, h.pos)))
	}
	return a.allowed
}

// storedLen estimates how many bytes a hit's token takes in the buffer, so
// the allow check looks past the token's end: base64 takes 4 bytes for 3
// (and some line breaks), UTF-16 two for one.
func storedLen(h hit) int {
	n := len(h.match.Token)
	for _, enc := range strings.Split(h.encoding, "/") {
		switch {
		case enc == "base64":
			n = n*4/3 + n/38 + 4
		case strings.HasPrefix(enc, "utf-16"):
			n *= 2
		}
	}
	return n
}
