package scanner

import (
	"slices"
	"sync"

	"github.com/loftyscan/loftyscan/finding"
)

// Sink receives what a scan finds, as it finds it. The scanner calls it
// from one goroutine at a time, so a Sink need not lock.
type Sink interface {
	Finding(finding.Finding)
	Warning(finding.Warning)
}

// SkipSink is a Sink that also wants to hear of each thing the scan
// skipped quietly, without a warning: a path the skip globs exclude, a
// symbolic link not followed (see Run.SkipQuietly). It is for --verbose,
// which lists them; the scan counts them either way.
type SkipSink interface {
	Sink
	Skipped(finding.Warning)
}

// Skipped tells sink of a quiet skip, if it wants to hear (SkipSink). A
// Sink that wraps another passes them on with it.
func Skipped(sink Sink, w finding.Warning) {
	if s, ok := sink.(SkipSink); ok {
		s.Skipped(w)
	}
}

// Collector is a Sink that keeps findings and warnings, and optionally passes
// each warning on as it comes (to print it while the scan goes on), and
// each quiet skip to OnSkip.
type Collector struct {
	Findings  []finding.Finding
	Warnings  []finding.Warning
	OnWarning func(finding.Warning)
	OnSkip    func(finding.Warning)
}

// Skipped passes a quiet skip to OnSkip.
func (c *Collector) Skipped(w finding.Warning) {
	if c.OnSkip != nil {
		c.OnSkip(w)
	}
}

// Finding keeps f.
func (c *Collector) Finding(f finding.Finding) { c.Findings = append(c.Findings, f) }

// Warning keeps w and passes it to OnWarning.
func (c *Collector) Warning(w finding.Warning) {
	c.Warnings = append(c.Warnings, w)
	if c.OnWarning != nil {
		c.OnWarning(w)
	}
}

// Sorted returns the findings in the order reports list them (finding.Sort).
func (c *Collector) Sorted() []finding.Finding {
	out := slices.Clone(c.Findings)
	finding.Sort(out)
	return out
}

// lockedSink serialises calls to a Sink made by several workers.
type lockedSink struct {
	mu   sync.Mutex
	sink Sink
}

func (l *lockedSink) Finding(f finding.Finding) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sink.Finding(f)
}

func (l *lockedSink) Warning(w finding.Warning) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sink.Warning(w)
}

func (l *lockedSink) Skipped(w finding.Warning) {
	l.mu.Lock()
	defer l.mu.Unlock()
	Skipped(l.sink, w)
}
