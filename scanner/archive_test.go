package scanner

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

type archiveCase struct {
	name     string
	file     string // base name of the one file scanned
	content  []byte
	limits   func(*Limits)
	want     []wantFinding // Path is relative to the file's directory
	warnings []wantWarning
	files    int64 // finding.Stats.Files: entries and files scanned as plain content
	errs     int64 // finding.Stats.Errors
}

func runArchiveCases(t *testing.T, tests []archiveCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := writeFixture(t, t.TempDir(), tt.file, tt.content)
			opts := testOptions()
			if tt.limits != nil {
				tt.limits(&opts.Limits)
			}
			c, st := scanPaths(t, opts, p)
			checkFound(t, c.Findings, tt.want...)
			checkWarnings(t, c.Warnings, tt.warnings...)
			checkStats(t, st, c, tt.files, tt.errs, 0)
		})
	}
}

func TestArchives(t *testing.T) {
	t.Parallel()
	env := []byte("# crm\nLOFTY_API_KEY=" + keyActive + "\n")
	yaml := []byte("lofty:\n  token: " + keyExpired + "\n")
	plain := []byte("nothing to see\n")

	// a.zip!b.tar.gz!c/d.zip!e.env is three layers deep: found. f.zip one
	// layer further is not opened.
	dZip := zipBytes(t,
		entry{Name: "e.env", Data: env},
		entry{Name: "f.zip", Data: zipBytes(t, entry{Name: "g.env", Data: yaml})},
	)
	bTarGz := gzipBytes(t, "", tarBytes(t, entry{Name: "c/d.zip", Data: dZip}, entry{Name: "c/readme", Data: plain}))
	aZip := zipBytes(t, entry{Name: "b.tar.gz", Data: bTarGz}, entry{Name: "top.yaml", Data: yaml})

	stored := zipBytes(t, entry{Name: "in.env", Data: env, Store: true})
	storedLine, storedCol := refLineCol(stored, bytes.Index(stored, []byte(keyActive)))
	tarred := tarBytes(t, entry{Name: "x.yaml", Data: yaml})
	tarLine, tarCol := refLineCol(tarred, bytes.Index(tarred, []byte(keyExpired)))

	noDepth := func(l *Limits) { l.ArchiveDepth = 0 }
	runArchiveCases(t, []archiveCase{
		{
			name: "zip", file: "bundle.zip",
			content: zipBytes(t, entry{Name: "config/"}, entry{Name: "config/.env", Data: env}, entry{Name: "notes.txt", Data: plain}),
			want:    []wantFinding{{Path: "bundle.zip!config/.env", Line: 2, Column: 15, Token: keyActive}},
			files:   2,
		},
		{
			name: "stored zip", file: "s.zip", content: stored,
			want:  []wantFinding{{Path: "s.zip!in.env", Line: 2, Column: 15, Token: keyActive}},
			files: 1,
		},
		{
			name: "tar", file: "b.tar",
			content: tarBytes(t, entry{Name: "./etc/app.env", Data: env}, entry{Name: "etc/x.yaml", Data: yaml}),
			want: []wantFinding{
				{Path: "b.tar!etc/app.env", Line: 2, Column: 15, Token: keyActive},
				{Path: "b.tar!etc/x.yaml", Line: 2, Column: 10, Token: keyExpired},
			},
			files: 2,
		},
		{
			name: "tar.gz", file: "c.tar.gz",
			content: gzipBytes(t, "", tarBytes(t, entry{Name: "app/secrets.yaml", Data: yaml})),
			want:    []wantFinding{{Path: "c.tar.gz!app/secrets.yaml", Line: 2, Column: 10, Token: keyExpired}},
			files:   1,
		},
		{
			name: "tgz", file: "d.tgz",
			content: gzipBytes(t, "", tarBytes(t, entry{Name: "x.env", Data: env})),
			want:    []wantFinding{{Path: "d.tgz!x.env", Line: 2, Column: 15, Token: keyActive}},
			files:   1,
		},
		{
			name: "gz without a name", file: "e.env.gz", content: gzipBytes(t, "", env),
			want:  []wantFinding{{Path: "e.env.gz!e.env", Line: 2, Column: 15, Token: keyActive}},
			files: 1,
		},
		{
			name: "gz named in its header", file: "f.gz", content: gzipBytes(t, "orig.yaml", yaml),
			want:  []wantFinding{{Path: "f.gz!orig.yaml", Line: 2, Column: 10, Token: keyExpired}},
			files: 1,
		},
		{
			name: "zip in tar.gz in zip", file: "a.zip", content: aZip,
			want: []wantFinding{
				{Path: "a.zip!b.tar.gz!c/d.zip!e.env", Line: 2, Column: 15, Token: keyActive},
				{Path: "a.zip!top.yaml", Line: 2, Column: 10, Token: keyExpired},
			},
			warnings: []wantWarning{{"a.zip!b.tar.gz!c/d.zip!f.zip", "zip archive nested more than 3 levels deep"}},
			files:    4, // e.env, f.zip as bytes, readme, top.yaml
		},
		{
			name: "depth 0 scans a stored zip as bytes", file: "s.zip", content: stored, limits: noDepth,
			want:  []wantFinding{{Path: "s.zip", Line: storedLine, Column: storedCol, Token: keyActive}},
			files: 1,
		},
		{
			name: "depth 0 scans a tar as bytes", file: "t.tar", content: tarred, limits: noDepth,
			want:  []wantFinding{{Path: "t.tar", Line: tarLine, Column: tarCol, Token: keyExpired}},
			files: 1,
		},
		{
			name: "depth 0 does not inflate", file: "bundle.zip", content: zipBytes(t, entry{Name: "config/.env", Data: env}), limits: noDepth,
			files: 1,
		},
		{
			name: "depth 1 opens the outer zip only", file: "a.zip", content: aZip, limits: func(l *Limits) { l.ArchiveDepth = 1 },
			want:     []wantFinding{{Path: "a.zip!top.yaml", Line: 2, Column: 10, Token: keyExpired}},
			warnings: []wantWarning{{"a.zip!b.tar.gz", "gzip archive nested more than 1 levels deep"}},
			files:    2,
		},
	})
}

// zerosZip is a zip whose one entry is the key and then n zero bytes,
// written as a stream so the test never holds n bytes.
func zerosZip(t *testing.T, name string, n int64, text []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	writeZeros(t, w, n, text)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zerosGzip is zerosZip for gzip.
func zerosGzip(t *testing.T, n int64, text []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	writeZeros(t, zw, n, text)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeZeros(t *testing.T, w io.Writer, n int64, text []byte) {
	t.Helper()
	if _, err := w.Write(text); err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for left := n; left > 0; left -= int64(len(zeros)) {
		if _, err := w.Write(zeros[:min(left, int64(len(zeros)))]); err != nil {
			t.Fatal(err)
		}
	}
}

// TestArchiveLimits checks that the caps stop a decompression bomb with a
// warning, and that what came before the cap is still scanned.
func TestArchiveLimits(t *testing.T) {
	t.Parallel()
	env := []byte("LOFTY_API_KEY=" + keyActive + "\n")
	bomb := zerosZip(t, "bomb.env", 64<<20, env)
	gzBomb := zerosGzip(t, 64<<20, env)
	mib := func(i int) []byte { // 1 MiB of text starting with a key
		return append([]byte("k"+strings.Repeat("x", i)+"="+keyN(i)+"\n"), bytes.Repeat([]byte("filler text\n"), 1<<20/12)...)
	}
	bigZip := zipBytes(t, entry{Name: "in.env", Data: append(append([]byte(nil), env...), bytes.Repeat([]byte("x"), 2<<20)...), Store: true})

	runArchiveCases(t, []archiveCase{
		{
			name: "entry cap", file: "bomb.zip", content: bomb,
			limits:   func(l *Limits) { l.EntryBytes = 8 << 20 },
			want:     []wantFinding{{Path: "bomb.zip!bomb.env", Line: 1, Column: 15, Token: keyActive}},
			warnings: []wantWarning{{"bomb.zip!bomb.env", "decompresses past the 8.0 MiB cap per entry"}},
			files:    1, errs: 1,
		},
		{
			name: "ratio cap on zip", file: "bomb.zip", content: bomb,
			limits:   func(l *Limits) { l.Ratio = 50 },
			want:     []wantFinding{{Path: "bomb.zip!bomb.env", Line: 1, Column: 15, Token: keyActive}},
			warnings: []wantWarning{{"bomb.zip!bomb.env", "compression ratio above 50:1"}},
			files:    1, errs: 1,
		},
		{
			name: "ratio cap on gzip", file: "bomb.gz", content: gzBomb,
			limits:   func(l *Limits) { l.Ratio = 50 },
			want:     []wantFinding{{Path: "bomb.gz!bomb", Line: 1, Column: 15, Token: keyActive}},
			warnings: []wantWarning{{"bomb.gz!bomb", "compression ratio above 50:1"}},
			files:    1, errs: 1,
		},
		{
			name: "total cap", file: "t.tar",
			content: tarBytes(t, entry{Name: "1", Data: mib(1)}, entry{Name: "2", Data: mib(2)}, entry{Name: "3", Data: mib(3)}, entry{Name: "4", Data: mib(4)}),
			limits:  func(l *Limits) { l.TotalBytes = 5 << 19 },
			want: []wantFinding{
				{Path: "t.tar!1", Line: 1, Column: 4, Token: keyN(1)},
				{Path: "t.tar!2", Line: 1, Column: 5, Token: keyN(2)},
				{Path: "t.tar!3", Line: 1, Column: 6, Token: keyN(3)},
			},
			warnings: []wantWarning{{"t.tar!3", "total cap per file"}},
			files:    3, errs: 1, // 4 had no byte left
		},
		{
			name: "entries cap", file: "many.zip",
			content: zipBytes(t, entry{Name: "1", Data: env}, entry{Name: "2", Data: env}, entry{Name: "3", Data: env}),
			limits:  func(l *Limits) { l.Entries = 2 },
			want: []wantFinding{
				{Path: "many.zip!1", Line: 1, Column: 15, Token: keyActive},
				{Path: "many.zip!2", Line: 1, Column: 15, Token: keyActive},
			},
			warnings: []wantWarning{{"many.zip", "more than 2 entries"}},
			files:    2, errs: 1,
		},
		{
			// A zip inside an archive is read into memory to be opened; one
			// too big for that is scanned as bytes, not dropped.
			name: "nested zip over the entry cap", file: "t.tar",
			content:  tarBytes(t, entry{Name: "big.zip", Data: bigZip}),
			limits:   func(l *Limits) { l.EntryBytes = 1 << 20 },
			want:     []wantFinding{{Path: "t.tar!big.zip", Line: 1, Column: 1 + bytes.Index(bigZip, []byte(keyActive)), Token: keyActive}},
			warnings: []wantWarning{{"t.tar!big.zip", "cap per entry"}},
			files:    1, errs: 1,
		},
	})
}

// TestZipBomb2GiB is the entry cap at full scale: a 2.5 MB zip whose entry
// inflates to 2 GiB, scanned with the default limits. Building it costs about
// a second (ten under the race detector, where it is skipped; the entry cap
// case of TestArchiveLimits covers the same code at 64 MiB).
func TestZipBomb2GiB(t *testing.T) {
	t.Parallel()
	if testing.Short() || raceBuild {
		t.Skip("slow: builds a zip of 2 GiB of zeros")
	}
	bomb := zerosZip(t, "zeros.env", 2<<30, []byte("LOFTY_API_KEY="+keyActive+"\n"))
	runArchiveCases(t, []archiveCase{{
		name: "2 GiB entry", file: "bomb.zip", content: bomb,
		want:     []wantFinding{{Path: "bomb.zip!zeros.env", Line: 1, Column: 15, Token: keyActive}},
		warnings: []wantWarning{{"bomb.zip!zeros.env", "decompresses past the 256.0 MiB cap per entry"}},
		files:    1, errs: 1,
	}})
}

// TestCorruptArchives checks that a damaged archive gives one warning,
// counts as an error, keeps what could be read, and costs the other files
// nothing.
func TestCorruptArchives(t *testing.T) {
	t.Parallel()
	env := []byte("LOFTY_API_KEY=" + keyActive + "\n")
	good := writeFixture(t, t.TempDir(), "good.env", []byte("x="+keyExpired+"\n"))

	garbage := append([]byte("PK\x03\x04\x14\x00garbage\x00\x00"), binaryBytes(3, 500)...)
	garbage = append(garbage, "\nkey: "...)
	garbage = append(garbage, keyForever...)
	gLine, gCol := refLineCol(garbage, bytes.Index(garbage, []byte(keyForever)))

	stored := zipBytes(t, entry{Name: "in.env", Data: env, Store: true}, entry{Name: "pad", Data: binaryBytes(4, 4000), Store: true})
	cut := stored[:len(stored)/2]
	cLine, cCol := refLineCol(cut, bytes.Index(cut, []byte(keyActive)))

	// The key comes first, then enough incompressible text that the cut
	// falls well after it.
	long := append([]byte(nil), env...)
	for i := range 2000 {
		long = append(long, []byte(" line "+strings.Repeat(string(rune('a'+i%26)), i%17)+string(binaryHex(uint64(i)))+"\n")...)
	}
	gz := gzipBytes(t, "", long)
	badEntry := zipBytes(t, entry{Name: "ok.env", Data: env}, entry{Name: "bad.env", Data: long})
	// Flip bytes in the middle of bad.env's deflate stream.
	at := bytes.Index(badEntry, []byte("bad.env")) + 20000
	for i := at; i < at+64; i++ {
		badEntry[i] ^= 0x5a
	}

	tests := []struct {
		name    string
		file    string
		content []byte
		want    []wantFinding
		warning wantWarning
		files   int64
	}{
		{"garbage after the zip magic", "bad.zip", garbage,
			[]wantFinding{{Path: "bad.zip", Line: gLine, Column: gCol, Token: keyForever}},
			wantWarning{"bad.zip", "not a readable zip archive"}, 1},
		{"truncated zip", "cut.zip", cut,
			[]wantFinding{{Path: "cut.zip", Line: cLine, Column: cCol, Token: keyActive}},
			wantWarning{"cut.zip", "not a readable zip archive"}, 1},
		{"truncated gzip", "cut.env.gz", gz[:len(gz)/2],
			[]wantFinding{{Path: "cut.env.gz!cut.env", Line: 1, Column: 15, Token: keyActive}},
			wantWarning{"cut.env.gz!cut.env", "corrupt gzip data"}, 1},
		// A file that only looks like gzip is scanned as plain bytes. The
		// 0x8b byte continues no UTF-8 character: it is not counted.
		{"garbage gzip", "junk.gz", []byte("\x1f\x8bnot gzip LOFTY_API_KEY=" + keyActive),
			[]wantFinding{{Path: "junk.gz", Line: 1, Column: 25, Token: keyActive}},
			wantWarning{"junk.gz", "not a readable gzip file"}, 1},
		{"garbage tar", "junk.tar", append(append(make([]byte, 257), "ustar\x00garbage header LOFTY_API_KEY="...), keyActive...),
			[]wantFinding{{Path: "junk.tar", Line: 1, Column: 257 + 36, Token: keyActive}},
			wantWarning{"junk.tar", "not a readable tar archive"}, 1},
		{"corrupt zip entry", "entry.zip", badEntry,
			[]wantFinding{{Path: "entry.zip!ok.env", Line: 1, Column: 15, Token: keyActive}, {Path: "entry.zip!bad.env", Line: 1, Column: 15, Token: keyActive}},
			wantWarning{"entry.zip!bad.env", "corrupt zip entry"}, 2},
		{"truncated tar", "cut.tar", tarBytes(t, entry{Name: "a.env", Data: env}, entry{Name: "b.env", Data: long})[:1024+len(long)/2],
			[]wantFinding{{Path: "cut.tar!a.env", Line: 1, Column: 15, Token: keyActive}, {Path: "cut.tar!b.env", Line: 1, Column: 15, Token: keyActive}},
			wantWarning{"cut.tar!b.env", "corrupt tar entry"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFixture(t, dir, tt.file, tt.content)
			c, st := scanPaths(t, testOptions(), filepath.Join(dir, tt.file), good)
			for i := range tt.want {
				tt.want[i].Path = filepath.ToSlash(dir) + "/" + tt.want[i].Path
			}
			tt.warning.Path = filepath.ToSlash(dir) + "/" + tt.warning.Path
			ws := append(tt.want, wantFinding{Path: filepath.ToSlash(good), Line: 1, Column: 3, Token: keyExpired})
			checkFound(t, c.Findings, ws...)
			checkWarnings(t, c.Warnings, tt.warning)
			checkStats(t, st, c, tt.files+1, 1, 0)
		})
	}
}

// binaryHex is i in hex, to make text that compresses poorly.
func binaryHex(i uint64) []byte {
	h := i * 0x9E3779B97F4A7C15
	const digits = "0123456789abcdef"
	out := make([]byte, 16)
	for j := range out {
		out[j] = digits[h>>(4*j)&0xf]
	}
	return out
}
