package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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
// A path that is not a file on disk (/dev/stdout, a named pipe, a
// terminal) cannot be renamed over: it is written directly.
//
// It is the one way the CLI writes a report to a file, besides appending
// to the files the Actions runner names (see openReports).
type reportFile struct {
	f      *os.File
	path   string
	direct bool // written in place, not renamed
}

// createReportFile starts a report to path. The file gets the permissions
// of the file it replaces, or perm when there is none.
func createReportFile(path string, perm fs.FileMode) (*reportFile, error) {
	if fi, err := os.Lstat(path); err == nil {
		switch m := fi.Mode(); {
		case m.IsDir():
			return nil, fmt.Errorf("%s is a folder", path)
		case m.IsRegular():
			perm = m.Perm()
		case m&(fs.ModeCharDevice|fs.ModeNamedPipe) != 0, m&fs.ModeSymlink != 0 && systemPath(path):
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				return nil, err
			}
			return &reportFile{f: f, path: path, direct: true}, nil
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
// not scan; "" when the report is written in place.
func (r *reportFile) tempPath() string {
	if r.direct {
		return ""
	}
	return r.f.Name()
}

// systemPath reports whether path is under /dev or /proc, where the
// system's links to open files live (/dev/stdout, /dev/fd/3,
// /proc/self/fd/1): a link there is the file the user means, not one a
// checkout planted.
func systemPath(path string) bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	abs = filepath.ToSlash(abs)
	return strings.HasPrefix(abs, "/dev/") || strings.HasPrefix(abs, "/proc/")
}

// commit puts the report in place: it syncs the temporary file to disk
// and renames it over the path.
func (r *reportFile) commit() error {
	if r.direct {
		return r.f.Close()
	}
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
	if !r.direct {
		os.Remove(r.f.Name())
	}
}
