package cli

import (
	"io/fs"

	"github.com/loftyscan/loftyscan/internal/atomicfile"
)

// reportFile is a report being written to a file, through package
// atomicfile (the one writer of whole files, which baselines and hooks use
// too): it is written to a temporary file in the same folder and renamed
// over the path once it is whole, so that:
//
//   - a reader (an upload step, a person) never sees half a report, and a
//     scan that fails, is interrupted or fills the disk leaves the
//     previous report as it was;
//   - a symbolic link planted at the path (in a checkout being scanned,
//     say) is replaced, not followed: the report cannot be made to
//     overwrite a file elsewhere;
//   - a folder that cannot be written fails before the scan, when the
//     temporary file is created.
//
// A path that is not a file on disk (/dev/stdout, a named pipe, a
// terminal) cannot be renamed over: it is written directly.
//
// While it is written, the temporary file is one of the run's leftovers
// (stop.go), which an exit at once (a second Ctrl-C, SIGQUIT) removes.
//
// It is the one way the CLI writes a report to a file, besides appending
// to the files the Actions runner names (see openReports).
type reportFile struct {
	*atomicfile.File
	forget func() // unregisters the temporary file from the run's leftovers
}

// createReportFile starts a report to path, its temporary file one of
// temps. A new file gets mode perm; a file replaced keeps its mode, less
// what perm denies to group and others (atomicfile.CreateMode).
func createReportFile(temps *tempPaths, path string, perm fs.FileMode) (*reportFile, error) {
	f, err := atomicfile.CreateMode(path, perm)
	if err != nil {
		return nil, err
	}
	return &reportFile{File: f, forget: temps.add(f.TempName())}, nil
}

// tempPath is the temporary file's path, which a walk of the folder must
// not scan; "" when the report is written in place.
func (r *reportFile) tempPath() string { return r.TempName() }

// commit puts the report in place.
func (r *reportFile) commit() error {
	defer r.forget()
	return r.Commit()
}

// abort removes the temporary file, leaving the path as it was.
func (r *reportFile) abort() {
	r.Abort()
	r.forget()
}
