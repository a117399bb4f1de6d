package scanner

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/finding"
)

// refLineCol is the position of data[off] as the scanner defines it: lines
// counted by '\n', columns by bytes that do not continue a UTF-8 sequence.
func refLineCol(data []byte, off int) (int, int) {
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	col := 1
	for _, c := range data[start:off] {
		if c&0xC0 != 0x80 {
			col++
		}
	}
	return line, col
}

// binaryBytes returns n reproducible random bytes.
func binaryBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

// sqliteLike is a fake SQLite database: the real magic header, binary pages
// with NUL bytes, and the key stored in a row between them.
func sqliteLike(key string) (data []byte, keyOff int) {
	data = append([]byte("SQLite format 3\x00"), 0x10, 0x00, 0x01, 0x01, 0, 0, 0, 0)
	data = append(data, binaryBytes(1, 3000)...)
	data = append(data, 0, 0, 0)
	keyOff = len(data)
	data = append(data, key...)
	data = append(data, 0, 0)
	data = append(data, binaryBytes(2, 5000)...)
	return data, keyOff
}

// walkTree builds the tree most walk tests scan and returns its root and
// the findings a scan of it as the only root gives.
func walkTree(t *testing.T) (string, []wantFinding) {
	dir := t.TempDir()
	writeFixture(t, dir, "a.env", []byte("LOFTY_API_KEY="+keyActive+"\n"))
	writeFixture(t, dir, "sub/b.yaml", []byte("lofty:\n  token: "+keyExpired))
	writeFixture(t, dir, ".git/config", []byte("token = "+keyForever+"\n"))
	writeFixture(t, dir, "sub/.git/objects/x", []byte(keyForever))
	db, off := sqliteLike(keyForever)
	writeFixture(t, dir, "data/app.db", db)
	line, col := refLineCol(db, off)
	return dir, []wantFinding{
		{Path: "a.env", Line: 1, Column: 15, Token: keyActive},
		{Path: "sub/b.yaml", Line: 2, Column: 10, Token: keyExpired},
		{Path: "data/app.db", Line: line, Column: col, Token: keyForever},
	}
}

func TestScanPathsRoots(t *testing.T) {
	t.Parallel()
	dir, inDir := walkTree(t)
	file := filepath.Join(dir, "a.env")
	other := t.TempDir()
	writeFixture(t, other, "c.txt", []byte("x\n"+keyActive+"\n"))

	slash := func(p string) string { return filepath.ToSlash(filepath.Clean(p)) }
	var joined []wantFinding
	for _, w := range inDir {
		w.Path = slash(dir) + "/" + w.Path
		joined = append(joined, w)
	}
	joined = append(joined,
		wantFinding{Path: slash(other) + "/c.txt", Line: 2, Column: 1, Token: keyActive},
		wantFinding{Path: slash(file), Line: 1, Column: 15, Token: keyActive},
	)

	tests := []struct {
		name  string
		roots []string
		want  []wantFinding
		files int64
	}{
		{"one dir is relative to it", []string{dir}, inDir, 3},
		{"one dir with trailing slash", []string{dir + "/"}, inDir, 3},
		{"one file is its base name", []string{file}, []wantFinding{{Path: "a.env", Line: 1, Column: 15, Token: keyActive}}, 1},
		{"several roots are joined", []string{dir, other, file}, joined, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, st := scanPaths(t, testOptions(), tt.roots...)
			checkFound(t, c.Findings, tt.want...)
			checkWarnings(t, c.Warnings)
			checkStats(t, st, c, tt.files, 0, 0)
		})
	}
}

func TestScanPathsMissingRoot(t *testing.T) {
	t.Parallel()
	c := &Collector{}
	_, err := New(testOptions()).ScanPaths(context.Background(), []string{filepath.Join(t.TempDir(), "nope")}, c)
	if !errors.Is(err, ErrNoPath) {
		t.Fatalf("ScanPaths of a missing root: err = %v, want ErrNoPath", err)
	}
}

func TestScanPathsBinary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, off := sqliteLike(keyActive)
	writeFixture(t, dir, "app.sqlite", db)
	nul := []byte("\x00\x00\x00\x01LOFTY_TOKEN\x00" + keyExpired + "\x00\xff\xfe")
	writeFixture(t, dir, "blob.bin", nul)
	line, col := refLineCol(db, off)

	c, st := scanPaths(t, testOptions(), dir)
	checkFound(t, c.Findings,
		wantFinding{Path: "app.sqlite", Line: line, Column: col, Token: keyActive},
		wantFinding{Path: "blob.bin", Line: 1, Column: 17, Token: keyExpired},
	)
	checkWarnings(t, c.Warnings)
	checkStats(t, st, c, 2, 0, 0)
	if st.Bytes != int64(len(db)+len(nul)) {
		t.Errorf("Stats.Bytes = %d, want %d", st.Bytes, len(db)+len(nul))
	}
}

func TestScanPathsSymlinks(t *testing.T) {
	t.Parallel()
	dir, inDir := walkTree(t)
	if err := os.Symlink(filepath.Join(dir, "a.env"), filepath.Join(dir, "link.env")); err != nil {
		t.Skipf("cannot make symlinks: %v", err)
	}
	if err := os.Symlink("sub", filepath.Join(dir, "linkdir")); err != nil {
		t.Fatal(err)
	}

	t.Run("not followed by default", func(t *testing.T) {
		t.Parallel()
		c, st := scanPaths(t, testOptions(), dir)
		checkFound(t, c.Findings, inDir...)
		checkWarnings(t, c.Warnings)
		checkStats(t, st, c, 3, 0, 2)
	})
	t.Run("followed with FollowSymlinks", func(t *testing.T) {
		t.Parallel()
		opts := testOptions()
		opts.FollowSymlinks = true
		c, st := scanPaths(t, opts, dir)
		ws := append(slices.Clone(inDir),
			wantFinding{Path: "link.env", Line: 1, Column: 15, Token: keyActive},
			wantFinding{Path: "linkdir/b.yaml", Line: 2, Column: 10, Token: keyExpired},
		)
		checkFound(t, c.Findings, ws...)
		checkWarnings(t, c.Warnings)
		checkStats(t, st, c, 5, 0, 0)
	})
}

func TestScanPathsSymlinkLoop(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFixture(t, dir, "k.env", []byte("k="+keyActive))
	writeFixture(t, dir, "y/f.env", []byte("f="+keyExpired))
	if err := os.Symlink("..", filepath.Join(dir, "y", "up")); err != nil {
		t.Skipf("cannot make symlinks: %v", err)
	}
	opts := testOptions()
	opts.FollowSymlinks = true
	c, st := scanPaths(t, opts, dir) // scanPaths fails the test after 30 s
	checkFound(t, c.Findings,
		wantFinding{Path: "k.env", Line: 1, Column: 3, Token: keyActive},
		wantFinding{Path: "y/f.env", Line: 1, Column: 3, Token: keyExpired},
	)
	checkWarnings(t, c.Warnings, wantWarning{"y/up", "symbolic link loop"})
	checkStats(t, st, c, 2, 0, 1)
}

// TestScanPathsWorkers checks that the number of workers changes nothing
// but the order findings arrive in. Each worker has its own stream buffer,
// so the tree mixes plain, encoded and archived keys.
func TestScanPathsWorkers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var ws []wantFinding
	for i := range 200 {
		name := "d" + strconv.Itoa(i%7) + "/f" + strconv.Itoa(i) + ".txt"
		var b strings.Builder
		for j := range i % 13 {
			b.WriteString("line " + strconv.Itoa(j) + " of filler text\n")
		}
		content := b.String()
		line, col := refLineCol([]byte(content+"token: "), len(content)+7)
		switch {
		case i%25 == 0:
			name = strings.TrimSuffix(name, ".txt") + ".zip"
			k := keyN(i)
			ws = append(ws, wantFinding{Path: name + "!in.env", Line: line, Column: col, Token: k})
			writeFixture(t, dir, name, zipBytes(t, entry{Name: "in.env", Data: []byte(content + "token: " + k + "\n")}))
			continue
		case i%17 == 0:
			k := keyN(i)
			content += "token: " + base64.StdEncoding.EncodeToString([]byte(k)) + "\n"
			ws = append(ws, wantFinding{Path: name, Line: line, Column: col, Encoding: "base64", Token: k})
		case i%3 == 0:
			k := keyN(i)
			content += "token: " + k + "\n"
			ws = append(ws, wantFinding{Path: name, Line: line, Column: col, Token: k})
		}
		if i%10 == 0 {
			line, col := refLineCol([]byte(content+"LOFTY_OLD="), len(content)+10)
			content += "LOFTY_OLD=" + keyExpired
			ws = append(ws, wantFinding{Path: name, Line: line, Column: col, Token: keyExpired})
		}
		writeFixture(t, dir, name, []byte(content))
	}
	var results [][]finding.Finding
	var stats []finding.Stats
	for _, workers := range []int{1, 4} {
		opts := testOptions()
		opts.Workers = workers
		c, st := scanPaths(t, opts, dir)
		checkFound(t, c.Findings, ws...)
		checkWarnings(t, c.Warnings)
		checkStats(t, st, c, 200, 0, 0)
		results = append(results, c.Sorted())
		st.Duration = 0
		stats = append(stats, st)
	}
	if !slices.EqualFunc(results[0], results[1], func(a, b finding.Finding) bool { return a == b }) {
		t.Errorf("findings with 1 worker and with 4 differ")
	}
	if stats[0] != stats[1] {
		t.Errorf("stats with 1 worker %+v, with 4 %+v", stats[0], stats[1])
	}
}

func TestSkip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, p := range []string{"a.env", "vendor/b.env", "vendor/keep/c.env", "src/d.min.js"} {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("LOFTY_API_KEY="+keyActive+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	opts := testOptions()
	opts.Skip = func(rel string, isDir bool) bool {
		seen = append(seen, rel)
		return (rel == "vendor" && isDir) || strings.HasSuffix(rel, ".min.js")
	}
	opts.Workers = 1
	c := &Collector{}
	st, err := New(opts).ScanPaths(context.Background(), []string{dir}, c)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range c.Sorted() {
		got = append(got, f.Path)
	}
	if strings.Join(got, ",") != "a.env" {
		t.Errorf("findings in %v, want only a.env", got)
	}
	if st.Skipped != 2 {
		t.Errorf("Skipped = %d, want 2", st.Skipped)
	}
	for _, rel := range seen {
		if strings.HasPrefix(rel, "vendor/") {
			t.Errorf("Skip asked about %s below a skipped folder", rel)
		}
	}
}

// The count for the progress display walks as the scan does: the same
// skips, links and folders, archives one file each. A scan with
// CountFirst ends with Done at the count, and Total at it when the count
// finished first (it is stopped when the scan ends).
func TestCountWalk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, p := range []string{"a.env", "vendor/b.env", "src/d.min.js", "src/deep/e.txt", ".git/config", "z.zip"} {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a.env", filepath.Join(dir, "link.env")); err != nil {
		t.Fatal(err)
	}
	for _, follow := range []bool{false, true} {
		opts := testOptions()
		opts.FollowSymlinks = follow
		opts.Skip = func(rel string, isDir bool) bool { return rel == "vendor" && isDir }
		opts.Progress = &Progress{}
		opts.CountFirst = true
		s := New(opts)
		if _, err := s.ScanPaths(context.Background(), []string{dir}, &Collector{}); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		r := s.Start(&Collector{})
		n := r.countWalk(context.Background(), []string{dir}, []os.FileInfo{fi})
		want := int64(4) // a.env, src/d.min.js, src/deep/e.txt, z.zip
		if follow {
			want++ // link.env
		}
		if n != want || opts.Progress.Done.Load() != want {
			t.Errorf("follow=%v: counted %d, scanned %d, want %d", follow, n, opts.Progress.Done.Load(), want)
		}
		if total := opts.Progress.Total.Load(); total != 0 && total != want {
			t.Errorf("follow=%v: Total %d, want %d (or 0 if the scan ended first)", follow, total, want)
		}
	}
}
