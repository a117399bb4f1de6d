//go:build unix

package scanner

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/loftyscan/loftyscan/finding"
)

// The walker's oracle: ScanPaths as it was before folders were kept open,
// files opened in them in batches and small files read whole into the
// worker's buffer (one job per file, each opened by its path, read through
// scanEntry's readers). TestWalkOracle checks that the fast walk gives the
// same findings, warnings and counts on generated trees.

func (s *Scanner) oracleScanPaths(ctx context.Context, roots []string, sink Sink) (finding.Stats, error) {
	if len(roots) == 0 {
		roots = []string{"."}
	}
	infos := make([]fs.FileInfo, len(roots))
	for i, root := range roots {
		fi, err := os.Stat(root)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return finding.Stats{}, fmt.Errorf("%s: %w", root, ErrNoPath)
			}
			return finding.Stats{}, err
		}
		infos[i] = fi
	}
	r := s.Start(sink)
	jobs := make(chan func(context.Context, *Worker), 256)
	go func() {
		defer close(jobs)
		for i, root := range roots {
			display := filepath.ToSlash(filepath.Clean(root))
			if len(roots) == 1 {
				display = ""
				if !infos[i].IsDir() {
					display = filepath.Base(root)
				}
			}
			w := oracleWalker{run: r, jobs: jobs, visited: map[string]bool{}, prefix: display}
			if infos[i].IsDir() {
				if real, err := filepath.EvalSymlinks(root); err == nil {
					w.visited[real] = true
				}
				w.walkDir(ctx, root, display)
			} else {
				w.file(root, display)
			}
		}
	}()
	r.Pool(ctx, jobs)
	st := r.Stats()
	if err := ctx.Err(); err != nil {
		return st, err
	}
	return st, nil
}

type oracleWalker struct {
	run     *Run
	jobs    chan<- func(context.Context, *Worker)
	visited map[string]bool
	prefix  string
}

func (w *oracleWalker) skipped(rel string, isDir bool) bool {
	if w.run.opts.Skip == nil {
		return false
	}
	inRoot := rel
	if w.prefix != "" {
		inRoot = strings.TrimPrefix(strings.TrimPrefix(rel, w.prefix), "/")
	}
	if w.run.opts.Skip(inRoot, isDir) {
		what := "file"
		if isDir {
			what = "folder"
		}
		w.run.SkipQuietly(rel, what+" excluded (--skip, the config's skip, or a report being written there)")
		return true
	}
	return false
}

func (w *oracleWalker) walkDir(ctx context.Context, dir, display string) {
	if ctx.Err() != nil {
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		w.run.Fail(displayName(display, dir), "cannot read directory: %v", finding.DropPath(err))
	}
	for _, e := range entries {
		name := e.Name()
		abs := filepath.Join(dir, name)
		rel := name
		if display != "" {
			rel = path.Join(display, name)
		}
		if !utf8.ValidString(name) {
			w.run.Warn(finding.ValidPath(rel), "file name is not valid UTF-8; shown with U+FFFD in place of the invalid bytes")
			rel = finding.ValidPath(rel)
		}
		if w.skipped(rel, e.IsDir()) {
			continue
		}
		switch t := e.Type(); {
		case t.IsDir():
			if name == ".git" {
				continue
			}
			w.walkDir(ctx, abs, rel)
		case t&fs.ModeSymlink != 0:
			w.symlink(ctx, abs, rel)
		case t.IsRegular():
			w.file(abs, rel)
		default:
			w.run.Skip(rel, "%s, not read", describeMode(t))
		}
	}
}

func (w *oracleWalker) symlink(ctx context.Context, abs, rel string) {
	fi, err := os.Stat(abs)
	if err != nil {
		w.run.Skip(rel, "broken symbolic link (its target cannot be read: %v), skipped", finding.DropPath(err))
		return
	}
	if !w.run.opts.FollowSymlinks {
		w.run.SkipQuietly(rel, "symbolic link, not followed (--follow-symlinks follows them)")
		return
	}
	switch {
	case fi.IsDir():
		real, err := filepath.EvalSymlinks(abs)
		if err != nil || w.visited[real] {
			w.run.Skip(rel, "symbolic link loop, not followed again")
			return
		}
		w.visited[real] = true
		w.walkDir(ctx, abs, rel)
	case fi.Mode().IsRegular():
		w.file(abs, rel)
	default:
		w.run.Skip(rel, "symbolic link to a %s, not read", describeMode(fi.Mode().Type()))
	}
}

func (w *oracleWalker) file(abs, rel string) {
	r := w.run
	w.jobs <- func(ctx context.Context, wk *Worker) {
		f, err := openNoBlock(abs)
		if err != nil {
			r.Fail(rel, "cannot open: %v", finding.DropPath(err))
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			r.Fail(rel, "cannot stat: %v", finding.DropPath(err))
			return
		}
		if !fi.Mode().IsRegular() {
			r.Skip(rel, "%s, not read", describeMode(fi.Mode().Type()))
			return
		}
		err = wk.scan(ctx, f, f, fi.Size(), rel)
		if err != nil && !isContextErr(err) {
			r.Fail(rel, "read error, the rest of the file was not scanned: %v", finding.DropPath(err))
		}
	}
}

// oracleTree writes a tree of n files of every kind the walk treats apart,
// chosen by seed: empty files, small text with keys plain, base64-wrapped,
// in UTF-16 and after byte order marks, files around the stream buffer's
// size with keys at its edges, archives and compressed files (opened, or
// too deep to open), formats loftyscan does not open, corrupt gzip, names
// that are not UTF-8 or hold a newline, a .git folder, FIFOs, and symbolic
// links to files, folders, FIFOs, nowhere and an ancestor.
func oracleTree(t *testing.T, seed uint64, n int) string {
	t.Helper()
	dir := t.TempDir()
	rnd := rand.New(rand.NewPCG(seed, 7))
	filler := func(size int) []byte {
		line := []byte("\tlog.Printf(\"request %s from %s\", r.URL.Path, r.RemoteAddr) // eyJ is not a key\n")
		return bytes.Repeat(line, size/len(line)+1)[:size]
	}
	near := func(size, keyAt int, key string) []byte {
		data := filler(size)
		return append(append(data[:keyAt:keyAt], key...), data[keyAt:]...)
	}
	folders := []string{".", "a", "a/b", "a/b/c", "d", "d/e", ".git", "sub/.git", "vendor", "vendor/x"}
	for i := range n {
		key := keyN(i)
		var data []byte
		name := "f" + strconv.Itoa(i)
		switch rnd.IntN(16) {
		case 0:
			data = nil // empty
		case 1:
			data = []byte("LOFTY_API_KEY=" + key + "\n")
		case 2:
			data = append(filler(rnd.IntN(4000)), "secret: "+base64.StdEncoding.EncodeToString([]byte(key))+"\n"...)
		case 3:
			u := utf16.Encode([]rune("token=" + key + "\n"))
			data = []byte{0xFF, 0xFE}
			for _, c := range u {
				data = append(data, byte(c), byte(c>>8))
			}
		case 4:
			data = append([]byte("\xEF\xBB\xBFtoken: "), key...)
		case 5: // around the stream buffer: one read, a full buffer, chunks
			sizes := []int{bufSize - 1, bufSize, bufSize + 1, chunkSize, chunkSize + overlap, 2*chunkSize + 17}
			size := sizes[rnd.IntN(len(sizes))]
			at := []int{0, size - len(key) - 1, chunkSize - 10, back + chunkSize - 3}[rnd.IntN(4)]
			data = near(size-len(key), max(0, min(at, size-len(key))), key)
		case 6:
			name += ".zip"
			data = zipBytes(t, entry{Name: "in.env", Data: []byte("LOFTY_API_KEY=" + key + "\n")})
		case 7:
			name += ".gz"
			data = gzipBytes(t, "x.env", append(filler(rnd.IntN(3000)), "token: "+key+"\n"...))
		case 8:
			name += ".tar.gz"
			data = gzipBytes(t, "", tarBytes(t, entry{Name: "k.env", Data: []byte(key)}))
		case 9: // zip in zip in zip in zip: past the depth cap
			data = []byte(key)
			for range 4 {
				data = zipBytes(t, entry{Name: "n.zip", Data: data, Store: true})
			}
		case 10: // 7z's magic, then a key in the raw bytes
			data = append([]byte("7z\xBC\xAF\x27\x1C\x00\x04"), " token: "+key...)
		case 11: // gzip's magic and garbage: scanned as plain bytes
			data = append([]byte{0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad}, " token: "+key...)
		case 12:
			name = "bad\xff" + name
			data = []byte(key)
		case 13:
			name = "two\nlines" + name
			data = append(filler(100), key...)
		case 14:
			data = filler(rnd.IntN(1500))
		default:
			data = filler(rnd.IntN(200000))
		}
		rel := path.Join(folders[rnd.IntN(len(folders))], name)
		writeFixture(t, dir, rel, data)
	}
	// A run of empty files, which the walk may count without opening
	// them, with a FIFO, links and files not readable by their owner bits
	// among them, and a key after them.
	for i := range 20 {
		writeFixture(t, dir, fmt.Sprintf("empty/e%02d", i), nil)
	}
	writeFixture(t, dir, "empty/e05w", nil)
	must(t, os.Chmod(filepath.Join(dir, "empty/e05w"), 0o200))
	writeFixture(t, dir, "empty/e12w", append(filler(100), keyN(n)...))
	must(t, os.Chmod(filepath.Join(dir, "empty/e12w"), 0o200))
	writeFixture(t, dir, "empty/z.env", []byte("LOFTY_API_KEY="+keyN(n+1)+"\n"))
	must(t, syscall.Mkfifo(filepath.Join(dir, "empty/e08p"), 0o644))
	must(t, os.Symlink("e00", filepath.Join(dir, "empty/e09l")))
	must(t, os.Symlink("../a", filepath.Join(dir, "empty/e10l")))
	{
		for _, f := range []string{"pipe", "a/b/pipe"} {
			if err := syscall.Mkfifo(filepath.Join(dir, f), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		links := map[string]string{
			"link-file": "a/" + firstFile(t, filepath.Join(dir, "a")),
			"link-dir":  "d",
			"link-pipe": "pipe",
			"link-none": "gone",
			"a/b/up":    "../..",
		}
		for link, target := range links {
			if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func firstFile(t *testing.T, dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			return e.Name()
		}
	}
	t.Fatalf("no file in %s", dir)
	return ""
}

// oracleResult is a scan's findings and warnings in a fixed order, and its
// counts without the time taken.
type oracleResult struct {
	findings []finding.Finding
	warnings []string
	skips    []string // quiet skips, as --verbose lists them
	stats    finding.Stats
	done     int64 // Progress.Done: files handed to a worker and finished
}

func runWalk(t *testing.T, scan func(*Scanner, context.Context, []string, Sink) (finding.Stats, error), opts Options, roots ...string) oracleResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var skips []string
	c := &Collector{OnSkip: func(w finding.Warning) { skips = append(skips, w.String()) }}
	opts.Progress = &Progress{}
	st, err := scan(New(opts), ctx, roots, c)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	st.Duration = 0
	var ws []string
	for _, w := range c.Warnings {
		ws = append(ws, w.String())
	}
	slices.Sort(ws)
	slices.Sort(skips)
	return oracleResult{findings: c.Sorted(), warnings: ws, skips: skips, stats: st, done: opts.Progress.Done.Load()}
}

// TestWalkOracle scans generated trees with ScanPaths and with the oracle,
// on one worker and on four, following links and not, with a skip list,
// and as one root, several roots and a lone file: everything reported and
// counted must be the same (quiet skips and Progress.Done too), and the
// count walk for a progress display must count the files scanned.
func TestWalkOracle(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2, 3} {
		dir := oracleTree(t, seed, 150)
		lone := filepath.Join(dir, "a", firstFile(t, filepath.Join(dir, "a")))
		for _, follow := range []bool{false, true} {
			for _, workers := range []int{1, 4} {
				for _, skip := range []bool{false, true} {
					opts := testOptions()
					opts.Workers = workers
					opts.FollowSymlinks = follow
					if skip {
						opts.Skip = func(rel string, isDir bool) bool {
							return (isDir && rel == "vendor") || strings.HasSuffix(rel, ".zip")
						}
					}
					for _, roots := range [][]string{{dir}, {filepath.Join(dir, "a"), filepath.Join(dir, "d")}, {lone}} {
						name := fmt.Sprintf("seed %d follow %v workers %d skip %v roots %d", seed, follow, workers, skip, len(roots))
						want := runWalk(t, (*Scanner).oracleScanPaths, opts, roots...)
						got := runWalk(t, (*Scanner).ScanPaths, opts, roots...)
						compareWalks(t, name, got, want)
						if n := countFiles(t, opts, roots); n != want.done {
							t.Errorf("%s: the progress count walk counted %d files, the oracle scanned %d", name, n, want.done)
						}
					}
				}
			}
		}
	}
}

// countFiles is the count of files the walk for a progress display
// (Options.CountFirst) makes of roots.
func countFiles(t *testing.T, opts Options, roots []string) int64 {
	t.Helper()
	infos := make([]fs.FileInfo, len(roots))
	for i, root := range roots {
		fi, err := os.Stat(root)
		if err != nil {
			t.Fatal(err)
		}
		infos[i] = fi
	}
	return New(opts).Start(&Collector{}).countWalk(context.Background(), roots, infos)
}

func compareWalks(t *testing.T, name string, got, want oracleResult) {
	t.Helper()
	if len(want.findings) == 0 && want.stats.Files > 1 {
		t.Errorf("%s: the oracle found nothing in %d files: the tree tests too little", name, want.stats.Files)
	}
	if !slices.Equal(got.findings, want.findings) {
		t.Errorf("%s: %d findings, the oracle %d", name, len(got.findings), len(want.findings))
		for i := range max(len(got.findings), len(want.findings)) {
			var g, w string
			if i < len(got.findings) {
				g = describe(got.findings[i])
			}
			if i < len(want.findings) {
				w = describe(want.findings[i])
			}
			if g != w {
				t.Errorf("  got  %s\n  want %s", g, w)
			}
		}
	}
	if !slices.Equal(got.warnings, want.warnings) {
		t.Errorf("%s: warnings\n  got  %q\n  want %q", name, got.warnings, want.warnings)
	}
	if !slices.Equal(got.skips, want.skips) {
		t.Errorf("%s: quiet skips\n  got  %q\n  want %q", name, got.skips, want.skips)
	}
	if got.stats != want.stats {
		t.Errorf("%s: stats %+v, the oracle %+v", name, got.stats, want.stats)
	}
	if got.done != want.done {
		t.Errorf("%s: Progress.Done %d, the oracle %d", name, got.done, want.done)
	}
}

// TestWalkOracleRaces changes files between the walk's listing and the
// workers' opening (through the Skip hook, which the walk calls as it
// lists): a file removed, replaced by a FIFO, by a folder, or emptied and
// grown. The fast walk must report them as the oracle does, without
// blocking on the FIFO.
func TestWalkOracleRaces(t *testing.T) {
	t.Parallel()
	for _, workers := range []int{1, 4} {
		var results []oracleResult
		for _, scan := range []func(*Scanner, context.Context, []string, Sink) (finding.Stats, error){(*Scanner).oracleScanPaths, (*Scanner).ScanPaths} {
			dir := t.TempDir()
			for _, f := range []string{"a.env", "gone.env", "fifo.env", "dir.env", "grown.env", "emptied.env", "z.env"} {
				writeFixture(t, dir, f, []byte("LOFTY_API_KEY="+keyN(len(f))+"\n"))
			}
			opts := testOptions()
			opts.Workers = workers
			opts.Skip = func(rel string, isDir bool) bool {
				if rel != "a.env" { // the first asked about: the folder is listed, nothing opened yet
					return false
				}
				must(t, os.Remove(filepath.Join(dir, "gone.env")))
				must(t, os.Remove(filepath.Join(dir, "fifo.env")))
				must(t, syscall.Mkfifo(filepath.Join(dir, "fifo.env"), 0o644))
				must(t, os.Remove(filepath.Join(dir, "dir.env")))
				must(t, os.Mkdir(filepath.Join(dir, "dir.env"), 0o755))
				must(t, os.WriteFile(filepath.Join(dir, "grown.env"), append(bytes.Repeat([]byte("x"), bufSize), "\nLOFTY_API_KEY="+keyActive+"\n"...), 0o644))
				must(t, os.WriteFile(filepath.Join(dir, "emptied.env"), nil, 0o644))
				return false
			}
			results = append(results, runWalk(t, scan, opts, dir))
		}
		compareWalks(t, "workers "+strconv.Itoa(workers), results[1], results[0])
		if results[1].stats.Errors != 1 || results[1].stats.Skipped != 2 {
			t.Errorf("workers %d: stats %+v, want 1 error (gone.env) and 2 skipped (the FIFO, the folder)", workers, results[1].stats)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestWalkSwappedForLinks: a file or a folder the walk listed that turns
// into a symbolic link before it is opened is not followed (the oracle,
// which opened by path, followed both): the scan stays in the tree it
// was given, and says what it could not read.
func TestWalkSwappedForLinks(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	writeFixture(t, outside, "secret.env", []byte("LOFTY_API_KEY="+keyExpired+"\n"))
	dir := t.TempDir()
	writeFixture(t, dir, "a.env", []byte("LOFTY_API_KEY="+keyActive+"\n"))
	writeFixture(t, dir, "file.env", []byte("nothing\n"))
	writeFixture(t, dir, "sub/x.txt", []byte("nothing\n"))
	opts := testOptions()
	opts.Skip = func(rel string, isDir bool) bool {
		if rel == "a.env" { // the folder is listed, nothing opened yet
			must(t, os.Remove(filepath.Join(dir, "file.env")))
			must(t, os.Symlink(filepath.Join(outside, "secret.env"), filepath.Join(dir, "file.env")))
			must(t, os.RemoveAll(filepath.Join(dir, "sub")))
			must(t, os.Symlink(outside, filepath.Join(dir, "sub")))
		}
		return false
	}
	c, st := scanPathsNoHang(t, opts, dir)
	checkFound(t, c.Findings, wantFinding{Path: "a.env", Line: 1, Column: 15, Token: keyActive})
	checkWarnings(t, c.Warnings,
		wantWarning{"file.env", "cannot open: too many levels of symbolic links"},
		wantWarning{"sub", "cannot read directory: "}, // ENOTDIR on Linux, ELOOP elsewhere
	)
	checkStats(t, st, c, 1, 2, 0)
}
