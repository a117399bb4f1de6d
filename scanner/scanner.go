package scanner

import (
	"context"
	"errors"
	"io"
	"sync/atomic"

	"github.com/loftyscan/loftyscan/finding"
)

// Scanner runs scans with fixed options. It is safe for concurrent use.
type Scanner struct {
	opts Options
}

// New returns a Scanner with the given options.
func New(opts Options) *Scanner { return &Scanner{opts: opts} }

// ScanReader scans one stream, such as standard input, reporting findings
// under the path name. Archives and gzip in it are opened as in files.
func (s *Scanner) ScanReader(ctx context.Context, name string, rd io.Reader, sink Sink) (finding.Stats, error) {
	r := s.Start(sink)
	err := r.NewWorker().scan(ctx, rd, nil, -1, name)
	if err != nil && !isContextErr(err) {
		r.Fail(name, "read error: %v", err)
		err = nil
	}
	return r.Stats(), err
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// Progress counts what a scan has read so far. The scan updates it as it
// goes (bytes chunk by chunk), so another goroutine can show it.
type Progress struct {
	Files atomic.Int64 // files, entries and blobs finished or begun
	Bytes atomic.Int64 // bytes read, after decompression
	// Done counts the streams a source handed to Worker.Scan or ScanBytes
	// (the files of a walk, the blobs of a repository) that are finished,
	// archive entries not counted apart; Total is how many there are to
	// scan, 0 while unknown. A source sets Total when it knows it (a walk
	// with Options.CountFirst, a repository once its trees are walked or
	// its packs planned), so a display can show a percentage and a time
	// left. Total is an estimate: Done may fall short of it (a blob that
	// cannot be read) or pass it (a loose object counted as a blob).
	Done  atomic.Int64
	Total atomic.Int64
}
