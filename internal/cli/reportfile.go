package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// reportFile is a report being written to a file. It is written to a
// temporary file in the same folder and renamed over the path once it is
// whole, so that:
//
//   - a reader (an upload step, a person) never sees half a report, and a
//     scan that fails or is interrupted leaves the previous report as it
//     was;
//   - a symbolic link planted at the path (in a checkout being scanned,
//     say) is replaced, not followed: the report cannot be made to
//     overwrite a file elsewhere;
//   - a folder that cannot be written fails before the scan, when the
//     temporary file is created.
//
// It is the one way the CLI writes a report to a file, besides appending
// to the files the Actions runner names (see openReports).
type reportFile struct {
	f    *os.File
	path string
}

// createReportFile starts a report to path. The file gets the permissions
// of the file it replaces, or perm when there is none.
func createReportFile(path string, perm fs.FileMode) (*reportFile, error) {
	if fi, err := os.Lstat(path); err == nil {
		switch {
		case fi.IsDir():
			return nil, fmt.Errorf("%s is a folder", path)
		case fi.Mode().IsRegular():
			perm = fi.Mode().Perm()
		}
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".loftyscan-report-*.tmp")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &reportFile{f: f, path: path}, nil
}

// Write writes to the temporary file.
func (r *reportFile) Write(p []byte) (int, error) { return r.f.Write(p) }

// tempPath is the temporary file's path, which a walk of the folder must
// not scan.
func (r *reportFile) tempPath() string { return r.f.Name() }

// commit puts the report in place: it syncs the temporary file to disk
// and renames it over the path.
func (r *reportFile) commit() error {
	err := errors.Join(r.f.Sync(), r.f.Close())
	if err == nil {
		err = os.Rename(r.f.Name(), r.path)
	}
	if err != nil {
		os.Remove(r.f.Name())
	}
	return err
}

// abort removes the temporary file, leaving the path as it was.
func (r *reportFile) abort() {
	r.f.Close()
	os.Remove(r.f.Name())
}
