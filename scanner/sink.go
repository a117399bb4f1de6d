package scanner

import (
	"cmp"
	"slices"
	"sync"
)

// Sink receives what a scan finds, as it finds it. The scanner calls it
// from one goroutine at a time, so a Sink need not lock.
type Sink interface {
	Finding(Finding)
	Warning(Warning)
}

// Collector is a Sink that keeps findings and warnings, and optionally passes
// each warning on as it comes (to print it while the scan goes on).
type Collector struct {
	Findings  []Finding
	Warnings  []Warning
	OnWarning func(Warning)
}

// Finding keeps f.
func (c *Collector) Finding(f Finding) { c.Findings = append(c.Findings, f) }

// Warning keeps w and passes it to OnWarning.
func (c *Collector) Warning(w Warning) {
	c.Warnings = append(c.Warnings, w)
	if c.OnWarning != nil {
		c.OnWarning(w)
	}
}

// Sorted returns the findings in a stable order: by path, line, column,
// rule and fingerprint. Workers finish in any order; reports must not.
func (c *Collector) Sorted() []Finding {
	out := slices.Clone(c.Findings)
	SortFindings(out)
	return out
}

// SortFindings sorts findings by path, line, column, rule and fingerprint.
func SortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
			cmp.Compare(a.RuleID, b.RuleID),
			cmp.Compare(a.Fingerprint, b.Fingerprint),
			cmp.Compare(a.Commit, b.Commit),
		)
	})
}

// lockedSink serialises calls to a Sink made by several workers.
type lockedSink struct {
	mu   sync.Mutex
	sink Sink
}

func (l *lockedSink) Finding(f Finding) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sink.Finding(f)
}

func (l *lockedSink) Warning(w Warning) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sink.Warning(w)
}
