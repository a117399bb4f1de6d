package scanner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/loftyscan/loftyscan/finding"
)

// ErrNoPath is wrapped by ScanPaths when a path given to scan does not exist.
var ErrNoPath = errors.New("no such file or directory")

// ScanPaths scans files and directory trees. Directories are walked
// (skipping .git), every regular file is read, text or binary, and archives
// are opened. Symlinks are not followed unless Options.FollowSymlinks.
//
// Paths in findings are relative to the root when one directory is given
// (so a scan of a checkout reports repository paths), the file's base name
// when one file is given, and the root joined with the relative path when
// several are given.
func (s *Scanner) ScanPaths(ctx context.Context, roots []string, sink Sink) (finding.Stats, error) {
	if len(roots) == 0 {
		roots = []string{"."}
	}
	infos := make([]fs.FileInfo, len(roots))
	for i, root := range roots {
		fi, err := os.Stat(root) // a root named on the command line is followed
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return finding.Stats{}, fmt.Errorf("%s: %w", root, ErrNoPath)
			}
			return finding.Stats{}, err
		}
		infos[i] = fi
	}
	r := s.Start(sink)
	if s.opts.CountFirst {
		stop := r.countFiles(ctx, roots, infos)
		defer stop()
	}
	jobs := make(chan func(context.Context, *Worker), 256)
	go func() {
		defer close(jobs)
		walkRoots(ctx, r, roots, infos, func(w *walker) { w.jobs = jobs })
	}()
	r.Pool(ctx, jobs)
	st := r.Stats()
	if err := ctx.Err(); err != nil {
		return st, err
	}
	return st, nil
}

// walkRoots walks each root with a walker that setup finishes (a
// channel to queue files on, or a count).
func walkRoots(ctx context.Context, r *Run, roots []string, infos []fs.FileInfo, setup func(*walker)) {
	for i, root := range roots {
		display := filepath.ToSlash(filepath.Clean(root))
		if len(roots) == 1 {
			display = ""
			if !infos[i].IsDir() {
				display = filepath.Base(root)
			}
		}
		w := &walker{run: r, visited: map[string]bool{}, prefix: display}
		setup(w)
		if infos[i].IsDir() {
			if real, err := filepath.EvalSymlinks(root); err == nil {
				w.visited[real] = true
			}
			w.walkDir(ctx, root, display, true)
		} else {
			w.fileByPath(root, display)
		}
	}
}

// countFiles counts, while the scan runs, the files a walk of roots
// queues, and sets the scan's Progress.Total once it has them all. The
// count walks as the scan does (the same skips, links, folders) but
// opens no file, and says nothing: its warnings and skips go nowhere.
// stop ends it, whether or not it is done.
func (r *Run) countFiles(ctx context.Context, roots []string, infos []fs.FileInfo) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		n := r.countWalk(ctx, roots, infos)
		if ctx.Err() == nil {
			r.progress.Total.Store(n)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// countWalk walks roots as the scan does and counts the files it would
// queue.
func (r *Run) countWalk(ctx context.Context, roots []string, infos []fs.FileInfo) int64 {
	quiet := &Run{opts: r.opts, sink: &lockedSink{sink: discard{}}, progress: &Progress{}}
	var n int64
	walkRoots(ctx, quiet, roots, infos, func(w *walker) { w.count = &n })
	return n
}

// batchFiles is how many files of one folder go to a worker as one job.
// Handing files over one by one cost a goroutine wake-up each, more than
// opening a small file; a batch is still small enough that the workers
// share a folder of large files.
const batchFiles = 32

// walker walks directory trees and queues their files, a batch of one
// folder's files to a job.
type walker struct {
	run     *Run
	count   *int64 // when set, files are counted here, not queued
	jobs    chan<- func(context.Context, *Worker)
	visited map[string]bool // real paths of directories entered, against symlink loops
	prefix  string          // how the root shows in paths: "" for a lone root
	dirBuf  []byte          // for listing folders
}

// skipped reports whether Options.Skip excludes the path rel (as shown in
// findings) below the root; Skip sees it relative to the root.
func (w *walker) skipped(rel string, isDir bool) bool {
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

// walkDir queues the regular files of dir in batches, then walks its
// subfolders. The folder stays open (dirHandle) until its last batch is
// done, so that workers open its files by name in it rather than by a
// path the kernel walks again; it is closed before the walk goes deeper,
// so open folders are bounded by the jobs in flight, not by the depth.
// follow says whether dir may itself be a symbolic link (a root, or a
// link followed on purpose); below, a folder that turned into a link
// between the listing and the open is not entered.
func (w *walker) walkDir(ctx context.Context, dir, display string, follow bool) {
	if ctx.Err() != nil {
		return
	}
	if w.dirBuf == nil {
		w.dirBuf = make([]byte, 32<<10)
	}
	d, entries, err := readDir(dir, display, follow, w.dirBuf)
	if err != nil {
		w.run.Fail(displayName(display, dir), "cannot read directory: %v", finding.DropPath(err))
		// What was read before the error is still walked.
	}
	type sub struct{ abs, rel string }
	var subdirs []sub
	var b batch
	for _, e := range entries {
		name := e.name
		rel := joinDisplay(display, name)
		if !utf8.ValidString(name) {
			w.run.Warn(finding.ValidPath(rel), "file name is not valid UTF-8; shown with U+FFFD in place of the invalid bytes")
			rel = finding.ValidPath(rel)
		}
		if w.skipped(rel, e.typ.IsDir()) {
			continue
		}
		if w.count == nil && w.run.names && mayHoldKey(stringBytes(name)) {
			w.jobs <- func(_ context.Context, wk *Worker) {
				w.run.Safely(rel, func() { wk.st.scanName(rel, name, w.run.emit) })
			}
		}
		switch t := e.typ; {
		case t.IsDir():
			if name != ".git" {
				subdirs = append(subdirs, sub{filepath.Join(dir, name), rel})
			}
		case t&fs.ModeSymlink != 0:
			w.flush(&b)
			w.symlink(ctx, filepath.Join(dir, name), rel)
		case t.IsRegular() && w.count != nil:
			*w.count++
		case t.IsRegular():
			if b.dir == nil {
				b = batch{dir: d.hold(), names: make([]string, 0, batchFiles), rels: make([]string, 0, batchFiles)}
			}
			b.names = append(b.names, name)
			b.rels = append(b.rels, rel)
			if len(b.names) == batchFiles {
				w.flush(&b)
			}
		default:
			w.run.Skip(rel, "%s, not read", describeMode(t))
		}
	}
	w.flush(&b)
	if d != nil {
		d.release()
	}
	for _, s := range subdirs {
		w.walkDir(ctx, s.abs, s.rel, false)
	}
}

// readDir opens dir, keeping it open for its files to be opened in it, and
// returns its entries sorted by name, as os.ReadDir does; buf is for
// readEntries. On an error it
// returns the entries read before it (none, and no handle, when the folder
// could not be opened).
func readDir(dir, display string, follow bool, buf []byte) (*dirHandle, []dirEntry, error) {
	d, err := openDir(dir, follow)
	if err != nil {
		return nil, nil, err
	}
	d.rel = display
	entries, err := readEntries(d, buf)
	slices.SortFunc(entries, func(a, b dirEntry) int { return strings.Compare(a.name, b.name) })
	return d, entries, err
}

// dirEntry is a name in a folder and its type, as the listing gives it.
type dirEntry struct {
	name string
	typ  fs.FileMode // type bits only
}

// dirHandle is a folder held open while its files are read: the walker
// holds it while it lists the folder, each queued batch while it waits and
// runs; the last to let go closes it.
type dirHandle struct {
	f    *os.File
	fd   int    // f's descriptor, for openat (Unix)
	path string // as the walker opened it
	rel  string // as it shows in findings
	// exactSizes says the folder's file system reports file sizes that a
	// read can stop at (a disk, not /proc, whose files say 0 and are not).
	exactSizes bool
	refs       atomic.Int32
}

func (d *dirHandle) hold() *dirHandle {
	d.refs.Add(1)
	return d
}

func (d *dirHandle) release() {
	if d.refs.Add(-1) == 0 {
		d.f.Close()
	}
}

// batch is some files of one folder, queued as one job.
type batch struct {
	dir   *dirHandle
	names []string // names in dir
	rels  []string // as they show in findings
}

// flush queues the files gathered in b, if any, and empties b.
func (w *walker) flush(b *batch) {
	if b.dir == nil {
		return
	}
	job := *b
	*b = batch{}
	w.jobs <- func(ctx context.Context, wk *Worker) {
		defer job.dir.release()
		for i, name := range job.names {
			if ctx.Err() != nil {
				return
			}
			wk.scanFileIn(ctx, job.dir, name, job.rels[i])
		}
	}
}

func (w *walker) symlink(ctx context.Context, abs, rel string) {
	fi, err := os.Stat(abs)
	if err != nil {
		w.run.Skip(rel, "broken symbolic link (its target cannot be read: %v), skipped", finding.DropPath(err))
		return
	}
	if !w.run.opts.FollowSymlinks {
		w.run.SkipQuietly(rel, "symbolic link, not followed (--follow-symlinks follows them)") // no warning: not following links is the default
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
		w.walkDir(ctx, abs, rel, true)
	case fi.Mode().IsRegular():
		w.fileByPath(abs, rel)
	default:
		w.run.Skip(rel, "symbolic link to a %s, not read", describeMode(fi.Mode().Type()))
	}
}

// fileByPath queues one file opened by its path, following a symbolic
// link: a root, or a link followed on purpose.
func (w *walker) fileByPath(abs, rel string) {
	if w.count != nil {
		*w.count++
		return
	}
	w.jobs <- func(ctx context.Context, wk *Worker) { wk.scanFilePath(ctx, abs, rel) }
}

// scanFilePath opens the file at abs without blocking (a path that turned
// into a FIFO since the walk listed it must not hang the scan), checks that
// it is a regular file, and scans it, reporting it as rel.
func (wk *Worker) scanFilePath(ctx context.Context, abs, rel string) {
	r := wk.r
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
	wk.scanOpenFile(ctx, f, fi.Size(), fileExactSize(f), rel)
}

// scanOpenFile scans the regular file f of the given size from its start,
// streaming it chunk by chunk and opening the archive it may be. On a file
// system whose sizes are exact (exact, as the caller knows it), the read
// stops at size, what fstat said
// when the file was opened: a file another writer keeps extending faster
// than the scan reads (a log, a disk image being allocated) would
// otherwise never end the scan. What it grew by is named in a warning.
func (wk *Worker) scanOpenFile(ctx context.Context, f *os.File, size int64, exact bool, rel string) {
	var err error
	if exact {
		sr := io.NewSectionReader(f, 0, size)
		err = wk.scan(ctx, sr, sr, size, rel)
		if fi, serr := f.Stat(); serr == nil && fi.Size() > size && ctx.Err() == nil {
			wk.r.Warn(rel, "grew while it was read: its first %d bytes (its size when the scan opened it) were scanned, not the %d added since; scan it again once it stops growing", size, fi.Size()-size)
		}
	} else {
		err = wk.scan(ctx, f, f, size, rel)
	}
	if err != nil && !isContextErr(err) {
		wk.r.Fail(rel, "read error, the rest of the file was not scanned: %v", finding.DropPath(err))
	}
}

// fileExactSize reports whether f's file system reports sizes as they are
// (exactSizes).
func fileExactSize(f *os.File) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	exact := false
	if rc.Control(func(fd uintptr) { exact = exactSizes(int(fd)) }) != nil {
		return false
	}
	return exact
}

// joinDisplay joins a folder's path as shown in findings (clean and
// slash-separated) and a name in it, as path.Join would.
func joinDisplay(dir, name string) string {
	switch {
	case dir == "" || dir == ".":
		return name
	case strings.HasSuffix(dir, "/"):
		return dir + name
	}
	return dir + "/" + name
}

func displayName(display, abs string) string {
	if display == "" {
		return filepath.ToSlash(abs)
	}
	return display
}

func describeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeIrregular != 0:
		return "irregular file"
	}
	return "not a regular file"
}

// discard is a Sink that keeps nothing.
type discard struct{}

func (discard) Finding(finding.Finding) {}
func (discard) Warning(finding.Warning) {}
