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

// checkConfigSections fails when the repository's config file holds more
// than maxConfigSections sections. It counts every '[' (each section
// header starts with one; a value may hold a few), reading the file a
// block at a time. A config that cannot be read is left to go-git, which
// says what is wrong with it.
func checkConfigSections(commonDir string) error {
	path := filepath.Join(commonDir, "config")
	f, _, err := nonblock.OpenRegular(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	n := 0
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'['})
		if n > maxConfigSections {
			return fmt.Errorf("%s holds more than %d sections, more than loftyscan reads (go-git's parser takes a time that grows with the square of their number; git's own configs hold a few dozen): check it with 'git config --list --show-origin'", path, maxConfigSections)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return nil // go-git says what is wrong
		}
	}
}
