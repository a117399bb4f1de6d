package scanner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loftyscan/loftyscan/finding"
)

// The API of a source. A source is a place content comes from: the folders
// and standard input of this package, git repositories (package gitscan),
// anything else to come. It starts a Run, hands each piece of content it
// reads to a Worker's Scan or ScanBytes under the path reports should show,
// says through the Run what it could not read, and returns the Run's Stats.

// Run is one scan under way: its options, the sink its findings and
// warnings go to, and its counts. It is safe for concurrent use.
type Run struct {
	opts     Options
	sink     Sink
	start    time.Time
	progress *Progress   // files and bytes, shared with Options.Progress
	windows  *windowGate // slots for big decoder dictionaries (window.go)
	whole    *wholeGate  // slots for big gzip files decoded whole (inflate.go)
	// The shared counters when the run started: runs of one Scanner one
	// after another (a history, then its submodules) share Progress, and
	// each run's Stats count only its own files and bytes.
	files0, bytes0 int64
	skipped        atomic.Int64
	errs           atomic.Int64
	unscanned      atomic.Int64 // FailUnscanned
	warnings       atomic.Int64
	capMu          sync.Mutex // the findings' bound (emit)
	// emitted counts the findings reported; counted holds the keys of
	// those that count (not suppressed), past reports those reported past
	// maxFindingsPerRun, dropped those not.
	emitted, past, dropped int
	counted                map[string]bool
	// unlisted counts the findings files did not report that could be of
	// a key no setting accepts (placeLimit.lost).
	unlisted int
	// names says the names of archive entries (and gzip headers) are
	// searched for keys (names.go): every scan, folders, streams and
	// git blobs alike; tests turn it off.
	names bool
}

// Start begins a scan whose findings and warnings go to sink. The Run
// calls sink from one goroutine at a time.
func (s *Scanner) Start(sink Sink) *Run {
	p := s.opts.Progress
	if p == nil {
		p = &Progress{}
	}
	return &Run{opts: s.opts, sink: &lockedSink{sink: sink}, start: time.Now(), progress: p, files0: p.Files.Load(), bytes0: p.Bytes.Load(), windows: newWindowGate(), whole: newWholeGate(), names: true}
}

// Options returns the options the scan runs with.
func (r *Run) Options() Options { return r.opts }

// Workers is how many streams the scan reads at once.
func (r *Run) Workers() int { return r.opts.workers() }

// AddTotal adds n to the number of streams the scan will hand to
// Worker.Scan or ScanBytes, for a progress display (Progress.Total).
func (r *Run) AddTotal(n int64) { r.progress.Total.Add(n) }

// Stats returns the counts so far. Findings are not counted here: see
// finding.Stats.Count.
func (r *Run) Stats() finding.Stats {
	return finding.Stats{
		Files:    r.progress.Files.Load() - r.files0,
		Bytes:    r.progress.Bytes.Load() - r.bytes0,
		Duration: time.Since(r.start),
		Skipped:  r.skipped.Load(),
		Errors:   r.errs.Load(),
		Warnings: r.warnings.Load(),
	}
}

// emit reports a finding, within maxFindingsPerRun (see there).
func (r *Run) emit(f finding.Finding) {
	if r.opts.NoInlineAllow && f.Suppressed == finding.SuppressedInline {
		f.Suppressed = ""
	}
	if !r.withinCap(f) {
		return
	}
	r.sink.Finding(f)
}

// withinCap reports whether finding f is to be reported, and counts it.
func (r *Run) withinCap(f finding.Finding) bool {
	r.capMu.Lock()
	defer r.capMu.Unlock()
	counts := f.Suppressed == ""
	if r.counted == nil {
		r.counted = map[string]bool{}
	}
	if r.emitted < maxFindingsPerRun {
		r.emitted++
		if counts {
			r.counted[f.Fingerprint] = true
		}
		return true
	}
	if counts && !r.counted[f.Fingerprint] && r.past < maxNewKeysPastCap {
		r.past++
		r.counted[f.Fingerprint] = true
		return true
	}
	if r.dropped++; r.dropped == 1 {
		r.Fail("", "more than %d findings: further findings were not reported, but for those of keys not shown yet (each is held to the end and printed); what was scanned holds more keys, or more places of them, than are listed: look through it by hand", maxFindingsPerRun)
	}
	return false
}

// FindingsDropped returns how many findings the scan has not reported
// past its cap (maxFindingsPerRun), and those files did not report that
// could be of a key no setting accepts (placeLimit.lost): a gate that must know every key the
// scan met (a pre-receive hook) rejects what it cannot list.
func (r *Run) FindingsDropped() int {
	r.capMu.Lock()
	defer r.capMu.Unlock()
	return r.dropped + r.unlisted
}

// Warn reports something the user should know that did not lose content.
// The path and the message are redacted: either may quote content.
func (r *Run) Warn(path, format string, args ...any) {
	r.warnings.Add(1)
	r.sink.Warning(finding.Warning{Path: finding.RedactText(path), Message: finding.RedactText(fmt.Sprintf(format, args...))})
}

// Fail reports content that could not be read, or not wholly: a warning,
// counted as an error.
func (r *Run) Fail(path, format string, args ...any) {
	r.FailMany(1, path, format, args...)
}

// FailUnscanned is Fail for content that may hold a key and was left
// out whole (the rest of a long commit message, the folders below a
// crafted path), not read some other way: a pre-receive hook rejects the
// push (Unscanned), where it lets through, say, an archive it could not
// open whose raw bytes it scanned.
func (r *Run) FailUnscanned(path, format string, args ...any) {
	r.unscanned.Add(1)
	r.Fail(path, format, args...)
}

// Unscanned returns how many times FailUnscanned was called.
func (r *Run) Unscanned() int64 { return r.unscanned.Load() }

// FailMany is Fail for n things that share one warning (the blobs a
// partial clone left out).
func (r *Run) FailMany(n int64, path, format string, args ...any) {
	r.errs.Add(n)
	r.Warn(path, format, args...)
}

// Skip reports something not scanned on purpose: a warning, counted as
// skipped.
func (r *Run) Skip(path, format string, args ...any) {
	r.skipped.Add(1)
	r.Warn(path, format, args...)
}

// SkipQuietly counts something not scanned on purpose that needs no
// warning: a path the Skip option excludes, a symbolic link not followed.
// The sink hears of it only if it asks (SkipSink, for --verbose); path and
// why are redacted as a warning's are.
func (r *Run) SkipQuietly(path, why string) {
	r.skipped.Add(1)
	Skipped(r.sink, finding.Warning{Path: finding.RedactText(path), Message: finding.RedactText(why)})
}

// Safely runs job, turning a panic into a warning about path (which may be
// empty), counted as an error: a bug triggered by one hostile file must
// not end the scan and lose every other finding. The panic value is
// redacted like any message.
func (r *Run) Safely(path string, job func()) {
	defer func() {
		if v := recover(); v != nil {
			r.Fail(path, "internal error, not scanned completely (please report this): %v", v)
		}
	}()
	job()
}

// Pool runs jobs on Workers() goroutines, each with a Worker of its own,
// until jobs is closed; once ctx is done the rest are drained unrun.
func (r *Run) Pool(ctx context.Context, jobs <-chan func(context.Context, *Worker)) {
	var wg sync.WaitGroup
	for range r.Workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := r.NewWorker()
			for job := range jobs {
				if ctx.Err() != nil {
					continue // drain
				}
				r.Safely("", func() { job(ctx, w) })
			}
		}()
	}
	wg.Wait()
}

// Worker scans one stream at a time. Each goroutine of a source has its
// own: it holds the buffers (a few MiB) that every stream it scans reuses.
type Worker struct {
	r  *Run
	st *streamer
	// lastEmpty says the last file the worker opened in a folder was
	// empty: then the next is looked up before it is opened, in case it
	// is empty too (scanFileIn on Unix).
	lastEmpty bool
}

// NewWorker returns a Worker for one goroutine.
func (r *Run) NewWorker() *Worker {
	st := newStreamer(finder{cfg: r.opts.Rules, gz: gzipState{on: r.opts.Limits.ArchiveDepth > 0}})
	st.progress = r.progress
	st.windows.gate = r.windows
	st.whole, st.entryCap, st.ratio = r.whole, r.opts.Limits.EntryBytes, r.opts.Limits.Ratio
	st.places.inlineAllowCounts = r.opts.NoInlineAllow
	st.searchNames = r.names
	return &Worker{r: r, st: st}
}

// Scan scans rd to its end as one file shown at path: archives and gzip in
// it are opened (within the options' Limits, its layers sharing one
// TotalBytes budget), keys in it are found whatever their encoding, and
// findings and warnings go to the Run's sink under path. It returns the
// first read error of rd itself, findings before it already reported, or
// ctx's error; problems inside archives are warnings. A panic while
// scanning becomes a warning about path.
func (w *Worker) Scan(ctx context.Context, path string, rd io.Reader) error {
	return w.scan(ctx, rd, nil, -1, path)
}

// ScanBytes is Scan for content held in memory, which a zip archive needs
// to be opened in place. Plain content shorter than the worker's buffer
// (most blobs of a history) is searched where it lies, as scan would
// search it after one read: without copying it into the buffer, or the
// reader layers around it.
func (w *Worker) ScanBytes(ctx context.Context, path string, data []byte) error {
	if len(data) < len(w.st.buf) && ctx.Err() == nil && sniff(data[:min(len(data), sniffLen)]) == plain && !launcherZipData(data) {
		w.scanHeld(ctx, data, path)
		return nil
	}
	return w.scan(ctx, bytes.NewReader(data), bytes.NewReader(data), int64(len(data)), path)
}

// scan scans one file, archive or stream with a budget of its own. ra and
// size give random access when there is (zip needs it); else size is -1.
func (w *Worker) scan(ctx context.Context, rd io.Reader, ra io.ReaderAt, size int64, path string) (err error) {
	defer w.r.progress.Done.Add(1)
	w.st.places.reset()
	w.st.find.gz.newFile()
	w.st.windows.reset()
	w.r.Safely(path, func() {
		err = w.r.scanEntry(ctx, w.st, rd, ra, size, path, 0, newBudget(w.r.opts.Limits.TotalBytes))
	})
	w.warnDropped(path)
	w.warnGzipCut(path)
	return err
}

// warnGzipCut says how many gzip streams in base64 in the file at path
// were searched only in part (decode_gzip.go), why, and what to do.
func (w *Worker) warnGzipCut(path string) {
	g := &w.st.find.gz
	how := "base64 -d | gunzip"
	if g.double {
		how += "; base64 of base64, as in a Helm release: base64 -d | base64 -d | gunzip"
	}
	if n := g.cut[cutDamaged]; n > 0 {
		streams, is, was, it := gzipStreams(n)
		w.r.Warn(path, "%s written in base64 %s damaged (corrupt, or cut short: past %d MiB of base64 in a file read in stretches, or %d KiB past a %d MiB stretch of inflated text) and %s searched up to the damage, a key past it missed; to search the rest, decode %s by hand (%s) and scan that",
			streams, is, gzipTextMax>>20, overlap>>10, gzipStretch>>20, was, it, how)
	}
	if n := g.cut[cutBudget]; n > 0 {
		streams, _, was, it := gzipStreams(n)
		inflate := "inflate"
		if n == 1 {
			inflate = "inflates"
		}
		w.r.Warn(path, "%s written in base64 %s past what a scan decodes of %s (%d times the text searched plus %d KiB, at most %d MiB a stream) and %s searched up to there, a key past it missed; to search the rest, decode %s by hand (%s) and scan that",
			streams, inflate, it, gzipPerByte, gzipBase>>10, gzipRunMax>>20, was, it, how)
	}
}

// gzipStreams returns "n gzip streams" and the words that go with it.
func gzipStreams(n int) (streams, is, was, it string) {
	if n == 1 {
		return "1 gzip stream", "is", "was", "it"
	}
	return fmt.Sprintf("%d gzip streams", n), "are", "were", "them"
}

// warnDropped says how many findings of the file at path were not
// reported (placeLimit).
func (w *Worker) warnDropped(path string) {
	l := &w.st.places
	if l.dropped == 0 {
		return
	}
	var why []string
	if seen := l.dropped - l.unseen; seen > 0 {
		why = append(why, fmt.Sprintf("%d are more places of keys already reported (a file gives at most %d places of each key)", seen, maxPlacesPerKey))
	}
	if l.unseen > 0 {
		why = append(why, fmt.Sprintf("%d are of keys reported nowhere else in the file, past its first %d findings: look through the file by hand, it holds more keys than are listed", l.unseen, maxFindingsPerFile))
	}
	if l.lost == 0 {
		w.r.Warn(path, "%d more findings were not reported: %s", l.dropped, strings.Join(why, "; "))
		return
	}
	// Past even the keys a file reports past its cap: a key no allow
	// comment accepts may be among those not listed, so the scan did not
	// list every key that counts (a pre-receive hook rejects the push).
	w.r.dropUnlisted(l.lost)
	w.r.Fail(path, "%d more findings were not reported: %s; %d of them are of keys with no place listed that counts (not allowed inline), past the %d such keys a file lists beyond its cap",
		l.dropped, strings.Join(why, "; "), l.lost, maxNewKeysPastFile)
}

// dropUnlisted counts n findings a file did not report that could be of a
// key no setting accepts (warnDropped), as FindingsDropped counts those
// past the scan's cap.
func (r *Run) dropUnlisted(n int64) {
	r.capMu.Lock()
	r.unlisted += int(n)
	r.capMu.Unlock()
}

// scanHeld scans data, a whole file shorter than the worker's stream
// buffer (read into it, or held in memory) and not an archive, as scan
// would: without reader layers, a copy, or a second read.
func (w *Worker) scanHeld(ctx context.Context, data []byte, path string) {
	r := w.r
	defer r.progress.Done.Add(1)
	w.st.places.reset()
	w.st.find.gz.newFile()
	r.Safely(path, func() {
		r.noteUnopened(path, data[:min(len(data), sniffLen)])
		r.progress.Files.Add(1)
		var seams []finding.Finding
		if isSQLite(data) {
			seams = r.sqliteSeams(ctx, w.st, bytes.NewReader(data), int64(len(data)), path)
		}
		r.withSeams(w.st, seams, func(emit func(finding.Finding)) {
			r.addBytes(w.st, w.st.scanHeld(data, path, emit))
		})
	})
	w.warnDropped(path)
	w.warnGzipCut(path)
}
