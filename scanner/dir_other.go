//go:build !unix

package scanner

import (
	"context"
	"os"
	"path/filepath"
)

// openNoBlock opens a file for reading. Outside Unix there are no FIFOs to
// block on in a directory walk.
func openNoBlock(name string) (*os.File, error) { return os.Open(name) }

// openDir opens a folder to list it.
func openDir(path string, follow bool) (*dirHandle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	d := &dirHandle{f: f, fd: -1, path: path}
	d.refs.Store(1)
	return d, nil
}

// scanFileIn scans the file name of folder d by its path.
func (wk *Worker) scanFileIn(ctx context.Context, d *dirHandle, name, rel string) {
	wk.scanFilePath(ctx, filepath.Join(d.path, name), rel)
}
