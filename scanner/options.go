package scanner

import (
	"runtime"

	"github.com/loftyscan/loftyscan/rules"
)

// Options configure a scan. Start from DefaultOptions: the zero value opens
// no archives.
type Options struct {
	Rules          rules.Config // what counts as a finding
	FollowSymlinks bool         // walk into symlinked directories and read symlinked files
	Workers        int          // files scanned at once; 0 means one per CPU; at most MaxWorkers
	Limits         Limits       // caps on archives and compressed data
	// Skip, when set, excludes paths from a walk: it gets each path
	// relative to its root, slash-separated, and whether it is a folder (a
	// skipped folder is not entered). The .loftyscan.toml skip globs.
	Skip func(rel string, isDir bool) bool
	// Progress, when set, is updated as the scan reads, for a progress
	// display; runs that share it each count in their Stats only what they
	// read.
	Progress *Progress
	// CountFirst has a walk of folders count their files while it scans,
	// in a walk of its own that opens nothing, and set Progress.Total once
	// it knows. It costs a second listing of every folder, so it is for
	// a display a person watches.
	CountFirst bool
	// NoInlineAllow has a finding on a line with a loftyscan:allow
	// comment count as any other (--no-inline-allow; a pre-receive hook,
	// where an allow in a pushed file counts for nothing): it is not
	// marked suppressed, so that past maxFindingsPerRun, where only
	// findings that count are still reported, it is.
	NoInlineAllow bool
	// Suppresses, when set, says whether the settings (an ignore file's
	// entry scoped to paths) suppress the key with this fingerprint at
	// this path, as reported. A git scan reports each key once, at the
	// first place it appeared; when that place is suppressed, it reports
	// the key again where it first appeared unsuppressed, so that an entry
	// for a test fixture, or an allow comment, hides no other copy of the
	// key.
	Suppresses func(fingerprint, path string) bool
	// ScopedToPaths, when set, says whether the settings suppress the key
	// with this fingerprint at some paths only (an ignore entry with a
	// path glob): a git scan then treats each path of a file that holds
	// it apart, where it would treat a copy or a rename of the file as
	// the same content.
	ScopedToPaths func(fingerprint string) bool
}

// Limits cap what archives and compressed files may cost. A zip bomb or a
// 42.zip-style nest must not exhaust a CI runner; hitting a cap gives a
// warning and the scan keeps what it read.
type Limits struct {
	ArchiveDepth int   // archive layers opened inside one another (zip, tar, gzip)
	EntryBytes   int64 // decompressed bytes read from one archive entry or gzip stream
	TotalBytes   int64 // decompressed bytes read from one file's archives, all layers together
	Ratio        int64 // decompressed:compressed bytes, checked past the first MiB (8 MiB for a gzip file itself)
	Entries      int   // entries read from one archive
}

// DefaultLimits are the caps applied unless set otherwise.
func DefaultLimits() Limits {
	return Limits{
		ArchiveDepth: 3,
		EntryBytes:   256 << 20,
		TotalBytes:   1 << 30,
		Ratio:        200,
		Entries:      100_000,
	}
}

// DefaultOptions returns the options of a plain `loftyscan dir`.
func DefaultOptions() Options {
	return Options{Limits: DefaultLimits()}
}

// MaxWorkers is the most files a scan reads at once. Each worker holds
// buffers of its own (a few MiB, and more while it reads a big git object);
// past a few hundred they cost memory and buy nothing.
const MaxWorkers = 256

func (o Options) workers() int {
	if o.Workers > 0 {
		return min(o.Workers, MaxWorkers)
	}
	return min(runtime.GOMAXPROCS(0), MaxWorkers)
}
