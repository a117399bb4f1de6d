package scanner

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"io"
	"slices"
	"strings"

	"github.com/loftyscan/loftyscan/finding"
)

// SQLite databases. A row too big for its page (an app's cached JSON, a
// browser's stored settings: over about 4 KB with the default page size)
// keeps its start on the page and the rest on a chain of overflow pages,
// each of which starts with the 4-byte number of the next. The file's bytes
// hold the row's text cut where each page ends, and a key that lies across
// such a cut is in the file as two pieces, pages apart, with a page number
// glued to the second: the scan of the raw bytes misses it.
//
// scanSQLiteSeams follows each row's overflow chain and searches the text
// on both sides of each cut as the row holds it, reporting the keys that
// lie across a cut (the rest were found in the raw bytes) at the file
// offset where they start. The work is bounded: each overflow page is
// read once (a chain that reaches a page read before ends there, so a
// crafted file's shared or looping chains cost no more than its pages), and
// each cut costs one search of up to 2*seamReach bytes.

// sqliteMagic starts every SQLite 3 database file.
const sqliteMagic = "SQLite format 3\x00"

// seamReach is how far on each side of a cut the text is searched: a key
// (a few hundred bytes; base64 or UTF-16 of it, about twice that) across
// the cut lies within it.
const seamReach = 4 << 10

// maxSQLitePages bounds the pages of one file whose cells are read: 4 GiB
// of 4 KiB pages. A bigger file's later pages are not followed (its raw
// bytes are still scanned).
const maxSQLitePages = 1 << 20

func isSQLite(head []byte) bool { return bytes.HasPrefix(head, []byte(sqliteMagic)) }

// A sqliteFile is a database being read for the text across its cuts.
type sqliteFile struct {
	ra       io.ReaderAt
	pageSize int // bytes a page
	usable   int // a page's bytes less the reserved space at its end
	pages    int // whole pages in the file, at most maxSQLitePages
	// visits counts the times each page (by number - 1) was read as an
	// overflow page, up to maxVisits.
	visits []uint8
	page   []byte // the b-tree page being read
	over   []byte // the overflow page being read
}

// openSQLite reads the header of the database in ra (size bytes); ok is
// false when it is not one whose pages can be followed.
func openSQLite(ra io.ReaderAt, size int64) (*sqliteFile, bool) {
	var h [100]byte
	if _, err := ra.ReadAt(h[:], 0); err != nil || !isSQLite(h[:]) {
		return nil, false
	}
	ps := int(binary.BigEndian.Uint16(h[16:18]))
	if ps == 1 {
		ps = 65536
	}
	if ps < 512 || ps&(ps-1) != 0 {
		return nil, false
	}
	usable := ps - int(h[20])
	if usable < 480 {
		return nil, false
	}
	pages := int(min(size/int64(ps), maxSQLitePages))
	if pages < 2 {
		return nil, false // no page for a row to overflow into
	}
	return &sqliteFile{ra: ra, pageSize: ps, usable: usable, pages: pages, visits: make([]uint8, pages),
		over: make([]byte, ps)}, true
}

// eachRow calls fn for each row (a table's or an index's cell) that
// overflows its page, with its start on the page and, in turn, the part on
// each page of its overflow chain, as add would be called with them: the
// text and where it lies in the file. It stops early when ctx is done.
func (db *sqliteFile) eachRow(ctx context.Context, row func() *seamText) {
	// The pages are read in runs of 256 KiB: one read a page cost a
	// database of 512-byte pages five times its raw scan.
	per := max(1, (256<<10)/db.pageSize)
	run := make([]byte, per*db.pageSize)
	first, have := 0, 0 // the run holds pages first to first+have-1
	for n := 1; n <= db.pages; n++ {
		if n&1023 == 0 && ctx.Err() != nil {
			return
		}
		if db.visits[n-1] > 0 {
			continue // an overflow page: no cells
		}
		off := int64(n-1) * int64(db.pageSize)
		if n < first || n >= first+have {
			k := min(per, db.pages-n+1)
			if _, err := db.ra.ReadAt(run[:k*db.pageSize], off); err != nil {
				return
			}
			first, have = n, k
		}
		db.page = run[(n-first)*db.pageSize:][:db.pageSize]
		hdr := 0
		if n == 1 {
			hdr = 100
		}
		for _, c := range db.cells(hdr) {
			db.readRow(row(), c, off)
		}
	}
}

// A sqliteCell is where a cell's payload starts on its page, how long the
// whole payload is, and how much of it the page holds.
type sqliteCell struct {
	start, local, total int
}

// cells lists the cells of the b-tree page in db.page (its header at hdr)
// whose payload overflows: a table's leaf cells, an index's leaf and
// interior cells. Other pages (interior table pages, overflow, free and
// pointer-map pages) give none.
func (db *sqliteFile) cells(hdr int) []sqliteCell {
	p := db.page[:db.usable]
	if hdr+8 > len(p) {
		return nil
	}
	kind := p[hdr]
	var ptrs, minLocal, maxLocal int
	u := db.usable
	switch kind {
	case 0x0D: // table leaf
		ptrs, maxLocal = hdr+8, u-35
	case 0x0A: // index leaf
		ptrs, maxLocal = hdr+8, (u-12)*64/255-23
	case 0x02: // index interior
		ptrs, maxLocal = hdr+12, (u-12)*64/255-23
	default:
		return nil
	}
	minLocal = (u-12)*32/255 - 23
	n := int(binary.BigEndian.Uint16(p[hdr+3:]))
	var out []sqliteCell
	for i := range n {
		at := ptrs + 2*i
		if at+2 > len(p) {
			break
		}
		c := int(binary.BigEndian.Uint16(p[at:]))
		if kind == 0x02 {
			c += 4 // the left child's page number
		}
		total, k := sqliteVarint(p, c)
		if k == 0 || total <= int64(maxLocal) {
			continue
		}
		c += k
		if kind == 0x0D {
			_, k = sqliteVarint(p, c) // the rowid
			if k == 0 {
				continue
			}
			c += k
		}
		local := minLocal + int((total-int64(minLocal))%int64(u-4))
		if local > maxLocal {
			local = minLocal
		}
		if c+local+4 > len(p) || total > 1<<40 {
			continue
		}
		out = append(out, sqliteCell{start: c, local: local, total: int(total)})
	}
	return out
}

// maxVisits is how many chains may read one overflow page. A live row's
// chain can run through pages a freed page's stale cells still point to
// (SQLite reuses them), so one earlier reading must not stop it; a crafted
// file's chains that all share pages cost at most maxVisits readings of
// each.
const maxVisits = 2

// readRow gives t the cell's text on its page (the page at file offset
// off) and on each page of its overflow chain, until the payload is whole,
// the chain leaves the file, or reaches a page read maxVisits times; then
// ends it. A cell whose chain cannot be followed is not read at all (no
// cut), and of the text on the page only the last seamReach bytes, all a
// search around the first cut reaches.
func (db *sqliteFile) readRow(t *seamText, c sqliteCell, off int64) {
	next := int(binary.BigEndian.Uint32(db.page[c.start+c.local:]))
	if !db.canVisit(next) {
		return
	}
	skip := max(0, c.local-seamReach)
	t.add(db.page[c.start+skip:c.start+c.local], off+int64(c.start+skip))
	left := c.total - c.local
	for left > 0 && db.canVisit(next) {
		db.visits[next-1]++
		pOff := int64(next-1) * int64(db.pageSize)
		if _, err := db.ra.ReadAt(db.over, pOff); err != nil {
			break
		}
		n := min(left, db.usable-4)
		t.add(db.over[4:4+n], pOff+4)
		left -= n
		next = int(binary.BigEndian.Uint32(db.over))
	}
	t.end()
}

// canVisit reports whether page n is in the file and may be read as an
// overflow page once more.
func (db *sqliteFile) canVisit(n int) bool {
	return n >= 1 && n <= db.pages && db.visits[n-1] < maxVisits
}

// sqliteVarint reads SQLite's big-endian varint at p[i:]: its value and
// length, or a length of 0 when p ends first.
func sqliteVarint(p []byte, i int) (int64, int) {
	var v int64
	for k := range 9 {
		if i+k >= len(p) {
			return 0, 0
		}
		b := p[i+k]
		if k == 8 {
			return v<<8 | int64(b), 9
		}
		v = v<<7 | int64(b&0x7f)
		if b < 0x80 {
			return v, k + 1
		}
	}
	return v, 9
}

// A seamHit is a key found across a cut, and the file offset where its
// text starts.
type seamHit struct {
	h       hit
	fileOff int64
}

// A seamText is the text of one row, read a piece at a time: the text
// around each cut is searched once seamReach bytes after it are read (or
// the row has ended), and only what later cuts need is kept, so a row of
// any length holds at most seamBatch bytes and a page of its text.
type seamText struct {
	st     *streamer
	out    *[]seamHit
	text   []byte
	base   int     // the row offset of text[0]
	starts []int   // the row offsets where the kept pieces start
	offs   []int64 // and their file offsets
	cuts   []int   // the row offsets of the cuts not searched yet
}

// add appends the next piece of the row, p, which lies at fileOff.
func (t *seamText) add(p []byte, fileOff int64) {
	end := t.base + len(t.text)
	if len(t.starts) > 0 {
		t.cuts = append(t.cuts, end)
	}
	t.starts, t.offs = append(t.starts, end), append(t.offs, fileOff)
	t.text = append(t.text, p...)
	t.search(false)
}

// end searches around the cuts left once the row has ended.
func (t *seamText) end() { t.search(true) }

// search searches the text around the cuts with seamReach bytes read
// after them (all of them when final), once seamBatch bytes are held: one
// search a batch, so that cuts a page apart (a chain of small pages) cost
// one search of their text, not one of 2*seamReach bytes each. Then it
// drops the text no later search reaches.
func (t *seamText) search(final bool) {
	end := t.base + len(t.text)
	if !final && len(t.text) < seamBatch {
		return
	}
	k := 0
	for k < len(t.cuts) && (final || t.cuts[k]+seamReach <= end) {
		k++
	}
	if k > 0 {
		t.searchCuts(t.cuts[:k])
		t.cuts = t.cuts[k:]
	}
	keep := end - seamReach // a later cut is at end or after
	if len(t.cuts) > 0 {
		keep = min(keep, t.cuts[0]-seamReach)
	}
	if drop := keep - t.base; drop > 0 && drop >= len(t.text)/2 {
		t.text = t.text[:copy(t.text, t.text[drop:])]
		t.base = keep
		i, _ := slices.BinarySearch(t.starts, keep+1)
		t.offs[i-1] += int64(keep - t.starts[i-1])
		t.starts[i-1] = keep
		t.starts, t.offs = t.starts[i-1:], t.offs[i-1:]
	}
}

// seamBatch is how much of a row's text is held before its cuts are
// searched.
const seamBatch = 64 << 10

// searchCuts searches the text from seamReach before the first of cuts
// (row offsets, in order) to seamReach after the last, and keeps the keys
// that lie across one of them.
func (t *seamText) searchCuts(cuts []int) {
	from, to := max(t.base, cuts[0]-seamReach), min(t.base+len(t.text), cuts[len(cuts)-1]+seamReach)
	window := t.text[from-t.base : to-t.base]
	t.st.find.findOwned(window, 0, len(window), func(h hit) {
		start := from + h.pos
		i, _ := slices.BinarySearch(cuts, start+1) // the first cut after start
		if i < len(cuts) && cuts[i] < start+encodedLen(h) && len(*t.out) < maxFindingsPerFile {
			*t.out = append(*t.out, seamHit{h, t.fileOff(start)})
		}
	})
}

// fileOff returns the file offset of the row's byte at row offset i.
func (t *seamText) fileOff(i int) int64 {
	k, _ := slices.BinarySearch(t.starts, i+1)
	return t.offs[k-1] + int64(i-t.starts[k-1])
}

// encodedLen is at least the length of a hit's text as stored: the
// token's, or its encoded form's, with room for what an encoding may add
// (base64 started inside a 3-byte group, wrapped with CRLF every 64
// columns; hex wrapped at 16 bytes a line). A hit that ends before the cut
// and is taken as across it is also the raw scan's, at the same place, and
// withSeams keeps one of the two.
func encodedLen(h hit) int {
	n := len(h.match.Token)
	for _, enc := range strings.Split(h.encoding, "/") {
		switch {
		case enc == "base64":
			n = n*4/3 + n/32 + 12
		case enc == "hex":
			n = 2*n + n/8 + 4
		case strings.HasPrefix(enc, "utf-16"):
			n = 2*n + 2
		}
	}
	return n
}

// sqliteSeams returns the findings of the keys across the cuts of the
// rows of the database in ra (size bytes) at path, placed at the lines and
// columns of their first pieces, in order; nil when it is no database
// whose pages can be followed.
func (r *Run) sqliteSeams(ctx context.Context, st *streamer, ra io.ReaderAt, size int64, path string) []finding.Finding {
	db, ok := openSQLite(ra, size)
	if !ok {
		return nil
	}
	var hits []seamHit
	var t seamText
	db.eachRow(ctx, func() *seamText {
		t = seamText{st: st, out: &hits, text: t.text[:0], starts: t.starts[:0], offs: t.offs[:0], cuts: t.cuts[:0]}
		return &t
	})
	if len(hits) == 0 {
		return nil
	}
	slices.SortStableFunc(hits, func(a, b seamHit) int { return cmp.Compare(a.fileOff, b.fileOff) })
	return placeSeamHits(ra, hits, path)
}

// placeSeamHits turns hits, sorted by file offset, into findings at the
// lines and columns of their offsets in the file in ra: one pass over the
// file up to the last, as a scan places findings. A key across two cuts is
// one finding.
func placeSeamHits(ra io.ReaderAt, hits []seamHit, path string) []finding.Finding {
	var pos position
	buf := make([]byte, 64<<10)
	var at int64
	type place struct {
		tok string
		off int64
	}
	seen := map[place]bool{}
	var out []finding.Finding
	for _, sh := range hits {
		for at < sh.fileOff {
			n := int(min(int64(len(buf)), sh.fileOff-at))
			if _, err := ra.ReadAt(buf[:n], at); err != nil {
				return out
			}
			if at == 0 {
				pos.skipBOM(buf[:n])
			}
			pos.advance(buf[:n])
			at += int64(n)
		}
		key := place{sh.h.match.Token, sh.fileOff}
		if seen[key] {
			continue
		}
		seen[key] = true
		line, col := pos.lineCol(strings.HasPrefix(sh.h.encoding, "utf-16"))
		f := newFinding(sh.h, path, line, col)
		f.Encoding = pos.orderOf(f.Encoding)
		out = append(out, f)
	}
	return out
}

// withSeams scans a SQLite database through scan (the raw bytes' scan,
// given the emit to report through) with the findings across its cuts,
// seams: a raw finding where a seam finding is, whose key is the seam's or
// its start (the key cut short where its page ends, which the raw bytes
// hold), is left out, and the seam findings are reported after the raw
// ones. Where is the same line, and the same column or, for keys in UTF-16,
// one byte either side (a big-endian key is placed by its zero byte or its
// letter).
func (r *Run) withSeams(st *streamer, seams []finding.Finding, scan func(emit func(finding.Finding))) {
	if len(seams) == 0 {
		scan(r.emit)
		return
	}
	type place struct{ line, col int }
	at := map[place][]int{}
	for i, s := range seams {
		at[place{s.Line, s.Column}] = append(at[place{s.Line, s.Column}], i)
	}
	covered := func(f finding.Finding) bool {
		for d := -1; d <= 1; d++ {
			if d != 0 && !strings.HasPrefix(f.Encoding, "utf-16") && !strings.Contains(f.Encoding, "/utf-16") {
				continue
			}
			for _, i := range at[place{f.Line, f.Column + d}] {
				if strings.HasPrefix(seams[i].Secret, f.Secret) {
					return true
				}
			}
		}
		return false
	}
	scan(func(f finding.Finding) {
		if !covered(f) {
			r.emit(f)
		}
	})
	for _, f := range seams {
		if st.places.keep(f) {
			r.emit(f)
		}
	}
}
