package reporters

import (
	"bufio"
	"fmt"
	"io"
)

// countsReporter writes how many findings a scan made, one NAME=COUNT line
// each, for scripts and CI steps that decide or label by count without
// parsing a report:
//
//	findings=6      findings that count (suppressed ones excluded)
//	suppressed=2    findings suppressed by loftyscan:allow, .loftyscanignore or a baseline
//	live=1          keys --verify found live
//	active=1        confirmed keys that have not expired (and were not found live or rejected)
//	unconfirmed=2   tokens in a Lofty context, not expired
//	rejected=1      confirmed keys Lofty rejected when --verify asked
//	expired=1       tokens past the expiry in their claims
//	allowed_by_change=0  keys the scanned change adds with a loftyscan:allow (counted in suppressed)
//	notices=0       notices for a reviewer: the change edits the scanner's settings...
//	files=13        files, archive entries and blobs scanned
//	skipped=1       things not scanned on purpose
//	errors=1        things that could not be read, or not wholly
//
// live, active, unconfirmed, rejected and expired are the groups of the
// terminal report, and add up to findings. Every value is a decimal
// integer and every name a fixed word, so the output is at once a GitHub
// Actions output file (--report counts=$GITHUB_OUTPUT), a dotenv file and
// a shell script that sets variables. It never holds a token or a path.
type countsReporter struct{}

func (countsReporter) Report(w io.Writer, r Report) error {
	g := byGroup(r.Findings)
	var counted int
	for _, fs := range g[:firstUncounted] {
		counted += len(fs)
	}
	bw := bufio.NewWriter(w)
	for _, c := range []struct {
		name string
		n    int64
	}{
		{"findings", int64(counted)},
		{"suppressed", countSuppressed(r)},
		{"live", int64(len(g[groupLive]))},
		{"active", int64(len(g[groupActive]))},
		{"unconfirmed", int64(len(g[groupUnconfirmed]))},
		{"rejected", int64(len(g[groupRejected]))},
		{"expired", int64(len(g[groupExpired]))},
		{"allowed_by_change", int64(len(g[groupAllowedInChange]))},
		{"notices", int64(len(r.Notices))},
		{"files", r.Stats.Files},
		{"skipped", r.Stats.Skipped},
		{"errors", r.Stats.Errors},
	} {
		fmt.Fprintf(bw, "%s=%d\n", c.name, c.n)
	}
	return bw.Flush()
}
