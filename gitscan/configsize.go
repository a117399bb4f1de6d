package gitscan

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"

	"github.com/loftyscan/loftyscan/internal/nonblock"
)

// maxConfigSections bounds the sections of the repository's config file
// that go-git is given to parse. Its parser finds the section (and the
// subsection) of each line by a linear search through those it has read,
// so its time grows with the square of their number: 40,000 remote
// sections, a 2.6 MB file, took 8 s of CPU; 2 million, 100 MB, hours.
// git reads either in a blink. A config from git holds a few dozen
// sections; one in a copied .git folder (a tarball, a build context) can
// hold anything, and a scan must not hang on it.
const maxConfigSections = 10_000

// maxConfigLines bounds the lines of the repository's config file, for
// the same parser: each option line looks its section and subsection up
// by that linear search from the last one read, so lines under a section
// reopened after thousands of others cost their number times the
// sections' (9,990 remotes, then the first reopened with 200,000 options,
// a 1.5 MB file: 3.3 s of CPU; 100 MB of them most of an hour and a GB
// held). 50,000 lines is five per section at the cap.
const maxConfigLines = 50_000

// maxConfigBytes bounds the size of the repository's config file that
// go-git is given to parse. Its parser holds about 12 times the file: one
// line of a 256 MiB value took 3.2 GB, a file of 256 MiB of NULs 1.2 GB
// to refuse. 4 MiB is 400 bytes for each section at maxConfigSections.
const maxConfigBytes = 4 << 20

// checkConfigSections fails when the repository's config file holds more
// than maxConfigSections sections, maxConfigLines lines or maxConfigBytes
// bytes. It counts every
// '[' (each section header starts with one; a value may hold a few) and
// every line break, reading the file a block at a time. A config that
// cannot be read is left to go-git, which says what is wrong with it.
func checkConfigSections(commonDir string) error {
	path := filepath.Join(commonDir, "config")
	f, _, err := nonblock.OpenRegular(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	sections, lines, size := 0, 0, int64(0)
	for {
		k, err := f.Read(buf)
		size += int64(k)
		sections += bytes.Count(buf[:k], []byte{'['})
		lines += bytes.Count(buf[:k], []byte{'\n'})
		switch {
		case sections > maxConfigSections:
			return fmt.Errorf("%s holds more than %d sections, more than loftyscan reads (go-git's parser takes a time that grows with the square of their number; git's own configs hold a few dozen): check it with 'git config --list --show-origin'", path, maxConfigSections)
		case size > maxConfigBytes:
			return fmt.Errorf("%s holds more than %d bytes, more than loftyscan reads (go-git's parser holds about 12 times the file; git's own configs hold a few KB): check it with 'git config --list --show-origin'", path, maxConfigBytes)
		case lines > maxConfigLines:
			return fmt.Errorf("%s holds more than %d lines, more than loftyscan reads (go-git's parser takes a time that grows with their number times the sections'; git's own configs hold a few dozen): check it with 'git config --list --show-origin'", path, maxConfigLines)
		case err == io.EOF:
			return nil
		case err != nil:
			return nil // go-git says what is wrong
		}
	}
}
