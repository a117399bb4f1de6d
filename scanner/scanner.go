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
}
