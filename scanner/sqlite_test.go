package scanner

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testtool"
)

// sqliteMaker writes SQLite databases with Python's sqlite3 module (SQLite
// itself lays out the pages). For each layout and page size it writes a
// database for every length of the text after the key from 0 up, in
// steps, and keeps those where the key's stored form is not whole in the
// file (a cut lies across it). It prints the files kept, as JSON.
const sqliteMaker = `
import base64, json, os, sqlite3, sys
out, key = sys.argv[1], sys.argv[2]
kept = []
def form(layout):
    if layout == "utf16":
        return key.encode("utf-16-le")
    if layout == "base64":
        return base64.b64encode(key.encode())
    return key.encode()
for ps in (512, 1024, 4096):
    for layout in ("text", "blob", "without-rowid", "index", "utf16", "base64") + (("big",) if ps == 4096 else ()):
        n = 0
        for more in range(0, 3 * ps, 13 if ps < 4096 else 61):
            fn = os.path.join(out, "%s-%d-%d.db" % (layout, ps, more))
            c = sqlite3.connect(fn)
            c.execute("PRAGMA page_size=%d" % ps)
            if layout == "utf16":
                c.execute("PRAGMA encoding='UTF-16le'")
            v = json.dumps({"pad": "x" * 5000, "lofty_token": key, "more": "y" * more})
            if layout == "base64":
                v = "settings: " + base64.b64encode(key.encode()).decode() + " " + "z" * more
            if layout == "without-rowid":
                c.execute("create table t(k text primary key, v text) without rowid")
                c.execute("insert into t values (?, ?)", ("a", v))
            else:
                c.execute("create table t(id integer primary key, v)")
                if layout == "index":
                    c.execute("create index i on t(v)")
                if layout == "big":
                    for i in range(300):
                        c.execute("insert into t(v) values (?)", ("row %d " % i + "w" * 7000,))
                c.execute("insert into t(v) values (?)", (v.encode() if layout == "blob" else v,))
            c.commit()
            c.close()
            data = open(fn, "rb").read()
            if form(layout) in data:
                os.remove(fn)
                continue
            n += 1
            kept.append({"file": os.path.basename(fn), "layout": layout, "places": 2 if layout == "index" else 1})
            if n == 4:
                break
json.dump(kept, sys.stdout)
`

// TestSQLiteRowAcrossPages: a key in a row that overflows its page, lying
// across the cut between the row's start on its page and its overflow
// pages (or between two of those), is found, once, at the file offset of
// its first piece; in a table, a table without rowid (an index's pages), an
// index, a UTF-16 database, as base64, and in a database bigger than the
// scanner's buffer (scanned through the general path, not in memory).
func TestSQLiteRowAcrossPages(t *testing.T) {
	if raceBuild {
		t.Skip("scans databases of thousands of pages (23 s under -race): .ci/run runs it without -race")
	}
	t.Parallel()
	python := testtool.Need(t, "python3")
	dir := t.TempDir()
	out, err := exec.Command(python, "-c", sqliteMaker, dir, keyActive).Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	var kept []struct {
		File, Layout string
		Places       int
	}
	if err := json.Unmarshal(out, &kept); err != nil {
		t.Fatal(err)
	}
	layouts := map[string]int{}
	for _, k := range kept {
		layouts[k.Layout]++
	}
	for _, l := range []string{"text", "blob", "without-rowid", "index", "utf16", "base64", "big"} {
		if layouts[l] < 4 {
			t.Fatalf("only %d databases of layout %s have the key across a cut: the test would test little", layouts[l], l)
		}
	}
	c, _ := scanPaths(t, testOptions(), dir)
	byFile := map[string][]finding.Finding{}
	for _, f := range c.Findings {
		byFile[f.Path] = append(byFile[f.Path], f)
	}
	for _, k := range kept {
		data, err := os.ReadFile(filepath.Join(dir, k.File))
		if err != nil {
			t.Fatal(err)
		}
		got := byFile[k.File]
		if len(got) != k.Places {
			t.Errorf("%s: %d findings, want %d: %v", k.File, len(got), k.Places, got)
			continue
		}
		for _, f := range got {
			if f.Secret != keyActive {
				t.Errorf("%s: found %s, not the key", k.File, describe(f))
			}
		}
		if k.Layout != "text" && k.Layout != "blob" && k.Layout != "big" {
			continue
		}
		// The finding is where the key's first piece starts: the longest
		// start of the key in the file.
		n := len(keyActive) - 1
		for n > 3 && !bytes.Contains(data, []byte(keyActive[:n])) {
			n--
		}
		line, col := refLineCol(data, bytes.Index(data, []byte(keyActive[:n])))
		if got[0].Line != line || got[0].Column != col {
			t.Errorf("%s: found at %d:%d, want %d:%d, where its first piece (%d bytes) is", k.File, got[0].Line, got[0].Column, line, col, n)
		}
	}
}

// craftedSQLite builds a database of 512-byte pages: page 1 a table's leaf
// page (cells given), and the pages after it, each given whole (padded).
func craftedSQLite(cells [][]byte, pages ...[]byte) []byte {
	const ps = 512
	p1 := make([]byte, ps)
	copy(p1, sqliteMagic)
	binary.BigEndian.PutUint16(p1[16:], ps)
	p1[100] = 0x0D
	binary.BigEndian.PutUint16(p1[103:], uint16(len(cells)))
	end := ps
	for i, c := range cells {
		end -= len(c)
		copy(p1[end:], c)
		binary.BigEndian.PutUint16(p1[108+2*i:], uint16(end))
	}
	out := p1
	for _, p := range pages {
		page := make([]byte, ps)
		copy(page, p)
		out = append(out, page...)
	}
	return out
}

// overflowCell is a table leaf cell (rowid 1) whose payload of total bytes
// starts with local (its length must be what SQLite keeps on the page for
// that total) and goes on at page next.
func overflowCell(total int, local []byte, next uint32) []byte {
	c := appendSQLiteVarint(nil, uint64(total))
	c = append(c, 1) // rowid
	c = append(c, local...)
	return binary.BigEndian.AppendUint32(c, next)
}

func appendSQLiteVarint(b []byte, v uint64) []byte {
	var tmp [9]byte
	n := 0
	for {
		tmp[n] = byte(v & 0x7f)
		n++
		v >>= 7
		if v == 0 {
			break
		}
	}
	for i := n - 1; i >= 0; i-- {
		c := tmp[i]
		if i > 0 {
			c |= 0x80
		}
		b = append(b, c)
	}
	return b
}

// overflowPage is an overflow page: the next page's number, then text.
func overflowPage(next uint32, text []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, next), text...)
}

// TestSQLiteCraftedChains: pages crafted byte by byte. A key across two
// cuts of one chain is found; chains that loop, share pages, leave the
// file, or claim a payload of a terabyte cost no more than the pages they
// have, and keys in them are still found where the pages hold them.
func TestSQLiteCraftedChains(t *testing.T) {
	t.Parallel()
	const usable = 512
	minLocal := (usable-12)*32/255 - 23 // 39: what the page keeps of a big payload
	k := keyN(1)
	// The payload: 20 bytes, the key, the rest. Its local part ends 10
	// bytes into the key; the first overflow page (508 bytes of text)
	// ends inside a second copy of the key.
	payload := []byte(strings.Repeat("a", minLocal-10) + k + strings.Repeat("b", 508-(len(k)-10)-60) + k)
	// SQLite keeps minLocal bytes on the page when the rest does not end
	// near a page's end: (total - minLocal) mod 508 above 438.
	for (len(payload)+400-minLocal)%508 != 480 {
		payload = append(payload, 'c')
	}
	payload = append(payload, strings.Repeat("c", 400)...)
	local, rest := payload[:minLocal], payload[minLocal:]
	cellTotal := len(payload)
	second, third := rest[:508], rest[508:]
	db := craftedSQLite([][]byte{overflowCell(cellTotal, local, 2)},
		overflowPage(3, second), overflowPage(0, third))
	c, _ := scanBytesAsFile(t, db)
	if len(c.Findings) != 2 {
		t.Fatalf("%d findings, want the key twice (across both cuts): %v", len(c.Findings), c.Findings)
	}
	for _, f := range c.Findings {
		if f.Secret != k {
			t.Errorf("found %s", describe(f))
		}
	}

	// Hostile chains: five cells point to page 2, which points to itself;
	// a cell claims a terabyte; one points past the file.
	var cells [][]byte
	for range 5 {
		cells = append(cells, overflowCell(1<<40, local, 2))
	}
	cells = append(cells, overflowCell(cellTotal, local, 99))
	hostile := craftedSQLite(cells, overflowPage(2, second))
	c, _ = scanBytesAsFile(t, hostile)
	if len(c.Findings) != 1 || c.Findings[0].Secret != k {
		t.Errorf("looping chain: %v, want the key across the one cut read", c.Findings)
	}

	// Work: a database of n pages of leaf cells whose chains all run into
	// one another searches at most one window a page.
	work := func(n int) int64 {
		var pages [][]byte
		for i := range n {
			pages = append(pages, overflowPage(uint32(i+3), bytes.Repeat([]byte("eyJ."), 127)))
		}
		var cs [][]byte
		for range 6 {
			cs = append(cs, overflowCell(1<<30, local, 2))
		}
		data := craftedSQLite(cs, pages...)
		st := newStreamer(finder{cfg: testOptions().Rules})
		db, ok := openSQLite(bytes.NewReader(data), int64(len(data)))
		if !ok {
			t.Fatal("the crafted database is not opened")
		}
		var hits []seamHit
		db.eachRow(context.Background(), func() *seamText { return &seamText{st: st, out: &hits} })
		return st.find.searched
	}
	w1, w10 := work(200), work(2000)
	if w10 > 12*w1 || w10 > 2000*(2*seamReach+1024) {
		t.Errorf("searched %d bytes for 200 pages, %d for 2,000: not linear in the pages", w1, w10)
	}
	t.Logf("searched %d bytes for 200 pages, %d for 2,000", w1, w10)
}

// scanBytesAsFile writes data to a file and scans it, as a folder scan does.
func scanBytesAsFile(t *testing.T, data []byte) (*Collector, finding.Stats) {
	t.Helper()
	dir := t.TempDir()
	writeFixture(t, dir, "app.db", data)
	return scanPaths(t, testOptions(), dir)
}

// FuzzSQLite follows the pages of fuzzed databases of 512-byte pages (the
// fuzzed bytes after a valid header): it must not panic, and it searches at
// most a bounded multiple of the file (each overflow page read once).
func FuzzSQLite(f *testing.F) {
	k := keyN(2)
	f.Add(craftedSQLite([][]byte{overflowCell(600, []byte(strings.Repeat("a", 30)+k[:9]), 2)}, overflowPage(0, []byte(k[9:])))[16:])
	f.Add(craftedSQLite([][]byte{overflowCell(1<<40, []byte(k[:39]), 2)}, overflowPage(2, []byte(k)))[16:])
	f.Add(bytes.Repeat([]byte{0x0D, 0, 0, 0xff, 0xff, 0, 0, 0, 0x01, 0x02}, 200))
	f.Fuzz(func(t *testing.T, rest []byte) {
		data := append([]byte(sqliteMagic), rest...)
		if len(data) > 100 {
			binary.BigEndian.PutUint16(data[16:], 512)
			data[20] = 0
		}
		st := newStreamer(finder{cfg: testOptions().Rules})
		db, ok := openSQLite(bytes.NewReader(data), int64(len(data)))
		if !ok {
			return
		}
		var hits []seamHit
		db.eachRow(context.Background(), func() *seamText { return &seamText{st: st, out: &hits} })
		if most := int64(len(data))*4 + 3*2*seamReach + 1<<16; st.find.searched > most {
			t.Fatalf("searched %d bytes of a %d-byte database (at most %d)", st.find.searched, len(data), most)
		}
		for _, h := range hits {
			if h.fileOff < 0 || h.fileOff >= int64(len(data)) {
				t.Fatalf("a hit at %d, outside the %d-byte file", h.fileOff, len(data))
			}
		}
	})
}

// leafPage is a table's leaf page (not the first: its header at 0) of 512
// bytes holding cells.
func leafPage(cells ...[]byte) []byte {
	p := make([]byte, 512)
	p[0] = 0x0D
	binary.BigEndian.PutUint16(p[3:], uint16(len(cells)))
	end := len(p)
	for i, c := range cells {
		end -= len(c)
		copy(p[end:], c)
		binary.BigEndian.PutUint16(p[8+2*i:], uint16(end))
	}
	return p
}

// TestSQLiteChainThroughAFreedPagesChain: SQLite reuses the overflow pages
// of deleted rows while the freed leaf page still holds the old cells
// (secure_delete off, SQLite's default). A live row whose chain runs
// through pages a stale cell also points to, read first, is still followed
// to its end: its key across the cut between two such pages is found.
func TestSQLiteChainThroughAFreedPagesChain(t *testing.T) {
	t.Parallel()
	k := keyN(3)
	const minLocal = 39 // of a 512-byte page
	text4 := []byte(strings.Repeat("b", 508-30) + k[:30])
	text5 := []byte(k[30:] + strings.Repeat("c", 480-(len(k)-30)))
	local := []byte(strings.Repeat("a", minLocal))
	total := minLocal + 508 + len(text5)                                        // (total - 39) mod 508 = 480: 39 bytes stay on the page
	stale := overflowCell(minLocal+508, bytes.Repeat([]byte("q"), minLocal), 4) // its row ended on page 4
	live := overflowCell(total, local, 4)
	db := craftedSQLite(nil, leafPage(stale), leafPage(live), overflowPage(5, text4), overflowPage(0, text5))
	c, _ := scanBytesAsFile(t, db)
	if len(c.Findings) != 1 || c.Findings[0].Secret != k {
		t.Fatalf("got %v, want the key across the cut of the live row's chain", c.Findings)
	}
}

// TestSQLiteBase64AcrossACut: a key in base64 that starts inside a 3-byte
// group and whose last characters lie past a cut is found whole, wherever
// the cut falls in its last dozen characters (the stored form is longer
// than the key's own base64).
func TestSQLiteBase64AcrossACut(t *testing.T) {
	t.Parallel()
	k := keyN(4)
	enc := base64.StdEncoding.EncodeToString([]byte("ab" + k + "c"))
	const cut = 39 + 508 // between the first and the second overflow page
	for back := 1; back <= 12; back++ {
		start := cut - len(enc) + back + 2 // the cut falls back+2 characters before the form's end
		payload := []byte(strings.Repeat("x", start) + enc + " ")
		for (len(payload)-39)%508 <= 438 {
			payload = append(payload, 'y')
		}
		local, rest := payload[:39], payload[39:]
		p2, p3 := rest[:508], rest[508:]
		for len(p3) > 508 {
			t.Fatalf("payload of %d bytes: more pages than the test makes", len(payload))
		}
		db := craftedSQLite([][]byte{overflowCell(len(payload), local, 2)}, overflowPage(3, p2), overflowPage(0, p3))
		c, _ := scanBytesAsFile(t, db)
		if len(c.Findings) != 1 || c.Findings[0].Secret != k {
			t.Errorf("cut %d characters before the form's end: got %v, want the key once", back+2, c.Findings)
		}
	}
}
