// Package scanner is loftyscan's engine and its file sources. It reads
// folders (the walker) and streams (standard input) and the archives and
// compressed files in them (zip, tar, gzip), decodes what may wrap a key
// (base64, UTF-16), streams content of any size in chunks through the
// rules, and turns the rules' byte offsets into paths, lines and columns.
// It prints nothing: findings and warnings go to a Sink.
//
// # Sources
//
// A source is a place content comes from. ScanPaths and ScanReader are
// this package's; package gitscan is another, written only on the API
// below, as a new one (a container image, a bucket) would be:
//
//   - Scanner.Start begins a scan: a Run, with the Scanner's Options and a
//     Sink for findings and warnings.
//   - Each goroutine of the source gets a Worker from Run.NewWorker; or
//     Run.Pool runs jobs on Run.Workers() goroutines with a Worker each.
//   - Worker.Scan and Worker.ScanBytes scan one piece of content (a file, a
//     blob) under the path reports show. The archives in it are opened
//     within the Options' Limits, all its layers sharing one TotalBytes
//     budget; a panic while scanning it becomes a warning about that path.
//   - Run.Warn, Fail, FailMany, Skip and SkipQuietly say what could not be
//     read, or was left out on purpose; Run.Stats returns the counts.
//
// A scan does not count findings: finding.Stats.Count does, once they are
// final (a git scan drops or moves some of what its blobs held).
package scanner
