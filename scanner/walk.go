package scanner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
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
			w.walkDir(ctx, root, display)
		} else {
			w.file(root, display)
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

// walker walks directory trees and queues their files.
type walker struct {
	run     *Run
	count   *int64 // when set, files are counted here, not queued
	jobs    chan<- func(context.Context, *Worker)
	visited map[string]bool // real paths of directories entered, against symlink loops
	prefix  string          // how the root shows in paths: "" for a lone root
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

func (w *walker) walkDir(ctx context.Context, dir, display string) {
	if ctx.Err() != nil {
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		w.run.Fail(displayName(display, dir), "cannot read directory: %v", finding.DropPath(err))
		// ReadDir returns what it read before the error: go on with it.
	}
	for _, e := range entries {
		name := e.Name()
		abs := filepath.Join(dir, name)
		rel := joinDisplay(display, name)
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
		w.walkDir(ctx, abs, rel)
	case fi.Mode().IsRegular():
		w.file(abs, rel)
	default:
		w.run.Skip(rel, "symbolic link to a %s, not read", describeMode(fi.Mode().Type()))
	}
}

func (w *walker) file(abs, rel string) {
	if w.count != nil {
		*w.count++
		return
	}
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

func joinDisplay(dir, name string) string {
	if dir == "" {
		return name
	}
	return path.Join(dir, name)
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
