package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/remediate"
	"github.com/loftyscan/loftyscan/scanner"
)

// progressLine shows how far a scan has got, on one line of stderr that it
// rewrites in place. It runs only when stderr is a terminal and not in CI:
// progress in a CI log or a pipe is noise that outlives its moment.
type progressLine struct {
	w       io.Writer
	p       *scanner.Progress
	start   time.Time
	unit    string // "files" or "blobs"
	mu      sync.Mutex
	shown   bool
	done    chan struct{}
	stopped sync.WaitGroup
}

// progressWanted decides whether to show progress.
func progressWanted(e env, off bool) bool {
	if off || e.getenv("CI") != "" {
		return false
	}
	return isTerminal(e.stderr)
}

// startProgress starts the display if wanted and returns it, or nil. A nil
// *progressLine is valid: its methods do nothing.
func startProgress(e env, off bool, p *scanner.Progress, unit string) *progressLine {
	if !progressWanted(e, off) {
		return nil
	}
	pl := &progressLine{w: e.stderr, p: p, start: time.Now(), unit: unit, done: make(chan struct{})}
	pl.stopped.Add(1)
	go func() {
		defer pl.stopped.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-pl.done:
				return
			case <-t.C:
				pl.draw()
			}
		}
	}()
	return pl
}

func (pl *progressLine) draw() {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	text := progressText(pl.unit, pl.p.Done.Load(), pl.p.Total.Load(), pl.p.Bytes.Load(), time.Since(pl.start))
	fmt.Fprintf(pl.w, "\r\033[K%s", text)
	pl.shown = true
}

// progressText is what the progress line says after elapsed: done of
// total units (files or blobs) and the bytes read. With a total, it says
// how far in percent and, once a second has passed and something is
// done, about how long is left at the pace so far; without one (not known
// yet, or passed), how many units a second. It fits 80 columns.
//
//	scanning: 1,234/5,678 files (21%), 12.3 MB at 4.5 MB/s, about 18s left
//	scanning: 1,234 blobs (250/s), 12.3 MB at 4.5 MB/s, 5s
func progressText(unit string, done, total, bytes int64, elapsed time.Duration) string {
	secs := max(elapsed.Seconds(), 0.001)
	read := fmt.Sprintf("%s at %s/s", mega(float64(bytes)), mega(float64(bytes)/secs))
	if total > 0 && done < total {
		pct := done * 100 / total
		text := fmt.Sprintf("scanning: %s/%s %s (%d%%), %s", thousands(done), thousands(total), unit, pct, read)
		if elapsed >= time.Second && done > 0 {
			left := time.Duration(float64(elapsed) * float64(total-done) / float64(done))
			text += ", about " + roughDuration(left) + " left"
		}
		return text
	}
	return fmt.Sprintf("scanning: %s %s (%s/s), %s, %s", thousands(done), unit, thousands(int64(float64(done)/secs)), read, roughDuration(elapsed))
}

// mega formats bytes in MB with one decimal, or in GB with two from 1 GB.
func mega(b float64) string {
	if b >= 1e9 {
		return fmt.Sprintf("%.2f GB", b/1e9)
	}
	return fmt.Sprintf("%.1f MB", b/1e6)
}

// thousands formats n with commas between groups of three digits.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// roughDuration rounds d to what a person waiting wants to know: seconds
// below a minute, minutes below an hour, then hours and minutes.
func roughDuration(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
}

// clear erases the line so that a warning or the report starts clean.
func (pl *progressLine) clear() {
	if pl.shown {
		fmt.Fprint(pl.w, "\r\033[K")
		pl.shown = false
	}
}

// printWarning prints a warning without tearing the progress line.
func (pl *progressLine) printWarning(w io.Writer, msg string) {
	pl.print(func() { printWarning(w, msg) })
}

// print runs show, which prints a line, without tearing the progress line.
func (pl *progressLine) print(show func()) {
	if pl == nil {
		show()
		return
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.clear()
	show()
}

// stop ends the display and erases it.
func (pl *progressLine) stop() {
	if pl == nil {
		return
	}
	close(pl.done)
	pl.stopped.Wait()
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.clear()
}

// startScan sets up progress for a scan about to run with opts: it returns
// the display (nil when not shown) and the warning printer to hand the
// scanner's Collector. Call stop on the display when the scan ends.
func (o *outputFlags) startScan(e env, opts *scanner.Options, unit string) (*progressLine, func(finding.Warning)) {
	hide := encodedKeyHider(*opts)
	p := &scanner.Progress{}
	opts.Progress = p
	pl := startProgress(e, o.noProgress, p, unit)
	// A walk counts its files for the display's percentage; a scan nobody
	// watches does not pay for the second listing.
	opts.CountFirst = pl != nil
	return pl, func(w finding.Warning) { pl.printWarning(e.stderr, hide(w.String())) }
}

// onSkip is the scan's Collector.OnSkip: with --verbose, each thing the
// scan skipped quietly is listed on stderr, once per path and reason
// (history meets a skipped path in many trees); without it, nil.
func (o *outputFlags) onSkip(e env, pl *progressLine, opts scanner.Options) func(finding.Warning) {
	if !o.verbose {
		return nil
	}
	hide := encodedKeyHider(opts)
	seen := map[finding.Warning]bool{}
	return func(w finding.Warning) {
		if seen[w] {
			return
		}
		seen[w] = true
		pl.print(func() { printSkipped(e.stderr, hide(w.String())) })
	}
}

// encodedKeyHider returns what a warning's text goes through before it is
// printed, for a scan with opts: a warning names a path, and a name can
// hold a key encoded (a folder named after the key's base64), which
// finding's redaction does not see. Warnings are printed as the scan
// meets them, before its findings are known, so a text that may hold a
// key is searched on its own, each element of a path on a line of its
// own, and every form of a key found encoded in it is hidden.
func encodedKeyHider(opts scanner.Options) func(string) string {
	opts.Progress, opts.CountFirst = nil, false
	s := scanner.New(opts)
	split := strings.NewReplacer("/", "\n", "!", "\n", ": ", "\n")
	return func(text string) string {
		if !scanner.MayHoldKey([]byte(text)) {
			return text
		}
		var c scanner.Collector
		if _, err := s.ScanReader(context.Background(), "", strings.NewReader(split.Replace(text)), &c); err != nil {
			return text
		}
		return remediate.HideEncoded(c.Findings)(text)
	}
}
