package scanner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Scanner runs scans with fixed options. It is safe for concurrent use.
type Scanner struct {
	opts    Options
	gitRead gitReadMode // how git scans read blobs; tests compare the ways
}

// New returns a Scanner with the given options.
func New(opts Options) *Scanner { return &Scanner{opts: opts} }

// run is the state of one scan: the sink and the counters.
type run struct {
	opts     Options
	sink     Sink
	start    time.Time
	progress *Progress // files and bytes, shared with Options.Progress
	skipped  atomic.Int64
	errs     atomic.Int64
	warnings atomic.Int64
	findings atomic.Int64
}

func (s *Scanner) newRun(sink Sink) *run {
	p := s.opts.Progress
	if p == nil {
		p = &Progress{}
	}
	return &run{opts: s.opts, sink: &lockedSink{sink: sink}, start: time.Now(), progress: p}
}

func (r *run) stats() Stats {
	return Stats{
		Files:    r.progress.Files.Load(),
		Bytes:    r.progress.Bytes.Load(),
		Duration: time.Since(r.start),
		Findings: r.findings.Load(),
		Skipped:  r.skipped.Load(),
		Errors:   r.errs.Load(),
		Warnings: r.warnings.Load(),
	}
}

// emit reports a finding.
func (r *run) emit(f Finding) {
	r.findings.Add(1)
	r.sink.Finding(f)
}

// warn reports something the user should know that did not lose content.
func (r *run) warn(path, format string, args ...any) {
	r.warnings.Add(1)
	r.sink.Warning(Warning{Path: RedactText(path), Message: RedactText(fmt.Sprintf(format, args...))})
}

// fail reports content that could not be read, or not wholly.
func (r *run) fail(path, format string, args ...any) {
	r.errs.Add(1)
	r.warn(path, format, args...)
}

// skip reports something not scanned on purpose.
func (r *run) skip(path, format string, args ...any) {
	r.skipped.Add(1)
	r.warn(path, format, args...)
}

// ScanReader scans one stream, such as standard input, reporting findings
// under the path name. Archives and gzip in it are opened as in files.
func (s *Scanner) ScanReader(ctx context.Context, name string, rd io.Reader, sink Sink) (Stats, error) {
	r := s.newRun(sink)
	st := newStreamer(finder{cfg: r.opts.Rules})
	st.progress = r.progress
	err := r.scanEntry(ctx, st, rd, nil, -1, name, 0, newBudget(r.opts.Limits.TotalBytes))
	if err != nil && !isContextErr(err) {
		r.fail(name, "read error: %v", err)
		err = nil
	}
	return r.stats(), err
}

// ScanBytes scans content held in memory (a git blob, say) under path.
func (s *Scanner) ScanBytes(ctx context.Context, path string, data []byte, sink Sink) (Stats, error) {
	return s.ScanReader(ctx, path, bytesReader(data), sink)
}

// pool runs jobs on the scan's workers, each with its own streamer.
func (r *run) pool(ctx context.Context, jobs <-chan func(context.Context, *streamer)) {
	var wg sync.WaitGroup
	for range r.opts.workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := newStreamer(finder{cfg: r.opts.Rules})
			st.progress = r.progress
			for job := range jobs {
				if ctx.Err() != nil {
					continue // drain
				}
				r.safely(func() { job(ctx, st) })
			}
		}()
	}
	wg.Wait()
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// Progress counts what a scan has read so far. The scan updates it as it
// goes (bytes chunk by chunk), so another goroutine can show it.
type Progress struct {
	Files atomic.Int64 // files, entries and blobs finished or begun
	Bytes atomic.Int64 // bytes read, after decompression
}

// safely runs one job, turning a panic into a warning: a bug triggered by
// one hostile file must not end the scan and lose every other finding. The
// panic value is redacted like any message.
func (r *run) safely(job func()) {
	defer func() {
		if v := recover(); v != nil {
			r.fail("", "internal error, one file or object was not scanned completely (please report this): %v", v)
		}
	}()
	job()
}
