package gitobj

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Trees and commits, parsed from their bytes in place: a walk of a history
// reads every tree of it, and go-git's decoders allocate an object per
// entry.

var errBadTree = errors.New("malformed tree")

// ParseTree calls fn with each entry of a tree object's content: "<octal
// mode> <name>\x00<20-byte hash>", repeated. The name is only valid during
// the call.
func ParseTree(data []byte, fn func(name []byte, mode filemode.FileMode, h plumbing.Hash)) error {
	return parseEntries(data, fn, false)
}

// ParseTreeEntry calls fn with the first entry of data, the rest of a
// tree object's content from where an entry starts.
func ParseTreeEntry(data []byte, fn func(name []byte, mode filemode.FileMode, h plumbing.Hash)) error {
	return parseEntries(data, fn, true)
}

func parseEntries(data []byte, fn func(name []byte, mode filemode.FileMode, h plumbing.Hash), one bool) error {
	for len(data) > 0 {
		name, mode, h, rest, err := NextTreeEntry(data)
		if err != nil {
			return err
		}
		fn(name, mode, h)
		data = rest
		if one {
			break
		}
	}
	return nil
}

// NextTreeEntry parses the first entry of a tree object's content (which
// must not be empty) and returns it and the rest: for a walk that keeps
// its place in a tree while it walks another.
func NextTreeEntry(data []byte) (name []byte, mode filemode.FileMode, h plumbing.Hash, rest []byte, err error) {
	sp := bytes.IndexByte(data, ' ')
	if sp <= 0 || sp > 7 {
		return nil, 0, h, nil, errBadTree
	}
	var m uint32
	for _, c := range data[:sp] {
		if c < '0' || c > '7' {
			return nil, 0, h, nil, errBadTree
		}
		m = m<<3 | uint32(c-'0')
	}
	data = data[sp+1:]
	nul := bytes.IndexByte(data, 0)
	if nul < 0 || len(data) < nul+1+hashLen {
		return nil, 0, h, nil, errBadTree
	}
	copy(h[:], data[nul+1:nul+1+hashLen])
	return data[:nul], CanonMode(m), h, data[nul+1+hashLen:], nil
}

// CanonMode is the mode git gives a tree entry whatever its tree says
// (canon_mode in git's cache.h, applied by every walk of a tree): a file
// is 100644, or 100755 when the owner may run it; a link, 120000; a
// folder, 040000; anything else a submodule, 160000. A crafted tree's
// "100600 app.env" or "40755 config" is a file or folder git lists, checks
// out and archives, and so one a scan reads: taken as it was written, it
// was no file nor folder to the walk, and its keys were missed (a push of
// one went through the pre-receive hook).
func CanonMode(m uint32) filemode.FileMode {
	switch m & 0o170000 {
	case 0o100000:
		if m&0o100 != 0 {
			return filemode.Executable
		}
		return filemode.Regular
	case 0o120000:
		return filemode.Symlink
	case 0o040000:
		return filemode.Dir
	}
	return filemode.Submodule
}

var errBadCommit = errors.New("malformed commit")

// CommitHead is what a walk of a history needs of a commit.
type CommitHead struct {
	Tree    plumbing.Hash
	Parents []plumbing.Hash
	When    time.Time // the committer's time as git compares it (signatureTime); zero when it has none
}

// ParseCommit reads a commit's tree, parents and committer time the way
// go-git's decoder does: the tree first, then the parents, each a full
// hash, each once (firstOfEach); the author, then the committer, only in
// those places.
func ParseCommit(data []byte) (CommitHead, error) {
	return ParseCommitInto(data, nil)
}

// ParseCommitInto is ParseCommit with the parents appended to
// parents[:0]: a walk of many commits reuses one slice.
func ParseCommitInto(data []byte, parents []plumbing.Hash) (CommitHead, error) {
	return parseCommit(data, parents, true)
}

// firstOfEach drops every element of s that an earlier one equals,
// keeping the order of the rest. A commit naming one parent many times
// (git fsck does not object) is the commit with that parent once, for
// every walk of a history; kept whole, 30 commits of 64 MiB headers that
// repeat a few parents (compressed to 100 MB, as deltas of each other)
// made 39 million edges and took 760 MB and 44 s of CPU to scan.
func firstOfEach[T comparable](s []T) []T {
	switch {
	case len(s) < 2:
		return s
	case len(s) == 2: // a merge: the common case past one parent
		if s[0] == s[1] {
			return s[:1]
		}
		return s
	case len(s) <= 16:
		out := s[:1]
		for _, v := range s[1:] {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		return out
	}
	seen := make(map[T]struct{}, min(len(s), 1<<16))
	out := s[:0]
	for _, v := range s {
		if _, dup := seen[v]; !dup {
			seen[v] = struct{}{}
			out = append(out, v)
		}
	}
	return out
}

// CommitTree reads a commit's tree as ParseCommit does, and fails where
// ParseCommit fails (the parents are checked, not kept), without reading
// the rest: for a pass that needs only the trees of every commit.
func CommitTree(data []byte) (plumbing.Hash, error) {
	c, err := parseCommit(data, nil, false)
	return c.Tree, err
}

// parseCommit is ParseCommitInto; without full it stops after the
// parents, which it checks without keeping.
func parseCommit(data []byte, parents []plumbing.Hash, full bool) (CommitHead, error) {
	c := CommitHead{Parents: parents[:0]}
	next := func() []byte {
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 {
			line := data
			data = nil
			return line
		}
		line := data[:nl]
		data = data[nl+1:]
		return line
	}
	header := func(line []byte) (string, []byte) {
		k, v, _ := bytes.Cut(line, []byte{' '})
		switch string(k) { // no copy: the names compared are constants
		case "tree":
			return "tree", v
		case "parent":
			return "parent", v
		case "author":
			return "author", v
		case "committer":
			return "committer", v
		}
		return "", v
	}
	line := next()
	k, v := header(line)
	if k != "tree" || !hexHash(v, &c.Tree) {
		return c, fmt.Errorf("%w: no tree first", errBadCommit)
	}
	line = next()
	for k, v = header(line); k == "parent" && len(line) > 0; k, v = header(line) {
		var p plumbing.Hash
		if !hexHash(v, &p) {
			return c, fmt.Errorf("%w: bad parent", errBadCommit)
		}
		if full {
			c.Parents = append(c.Parents, p)
		}
		line = next()
	}
	if !full {
		return c, nil
	}
	c.Parents = firstOfEach(c.Parents)
	if k == "author" && len(line) > 0 {
		line = next()
		k, v = header(line)
	}
	if k == "committer" && len(line) > 0 {
		c.When = signatureTime(v)
	}
	return c, nil
}

// signatureTime reads the time of "Name <email> 1700000000 +0100" as git
// reads a committer's date to compare it (--since, --until, the order of
// a walk), so that no commit git takes for a recent one reads as older
// here: the digits after a '>', blanks before them skipped and anything
// after them ignored. Where git versions differ, the later date is kept:
// git 2.39 and older read from the first '>', later ones from the last;
// git 2.39 reads "-1" or a number past 2^64 as far in the future
// (strtoumax), later ones as 1970; both are MaxWhen here, as is a number
// past MaxWhen. No '>', or no digits after it, gives the zero Time, which
// git reads as 1970 (0).
func signatureTime(b []byte) time.Time {
	first, last := bytes.IndexByte(b, '>'), bytes.LastIndexByte(b, '>')
	if first < 0 {
		return time.Time{}
	}
	t1, ok1 := timeAfter(b[first+1:])
	t2, ok2 := timeAfter(b[last+1:])
	if !ok1 && !ok2 {
		return time.Time{}
	}
	return time.Unix(max(t1, t2), 0)
}

// timeAfter reads the number at the start of b as signatureTime does, and
// whether there is one.
func timeAfter(b []byte) (int64, bool) {
	b = bytes.TrimLeft(b, " \t\v\f\r")
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg, b = b[0] == '-', b[1:]
	}
	var ts int64
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		n++
		if ts > (MaxWhen-int64(c-'0'))/10 {
			return MaxWhen, true
		}
		ts = ts*10 + int64(c-'0')
	}
	if neg && ts != 0 {
		return MaxWhen, true
	}
	return ts, n > 0
}

// MaxWhen is the latest committer time a commit is read with, in Unix
// seconds (146 billion years from now): later ones, and those git reads
// as later, are read as it. time.Time cannot compare times past int64's
// seconds less its own offset, and git's commit-graph keeps 34 bits.
const MaxWhen = 1 << 62

// MaxSubject is the most of a commit's subject ParseCommitInfo keeps, in
// bytes: a message is any size, and a report shows its first line.
const MaxSubject = 1000

// MaxAuthor is the most of a commit's author name, and of its email, that
// ParseCommitInfo keeps, in bytes: git writes any length (a commit whose
// author is megabytes is read), and every finding of the commit carries
// them into every report.
const MaxAuthor = 1000

// CommitInfo is what a report shows of a commit.
type CommitInfo struct {
	Author  string
	Email   string
	When    time.Time // the author's date, in the author's zone
	Subject string    // the first line of the message, cut at MaxSubject bytes ("…" added)
}

// ParseCommitInfo reads the author and subject of a commit as go-git's
// decoder reads them (the subject is the first line of the message once
// leading newlines are trimmed), from its head: the first bytes of a big
// commit do.
func ParseCommitInfo(data []byte) CommitInfo {
	var c CommitInfo
	for len(data) > 0 {
		line := data
		if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
			line, data = data[:nl], data[nl+1:]
		} else {
			data = nil
		}
		if len(line) == 0 {
			break // the message follows
		}
		if v, ok := bytes.CutPrefix(line, []byte("author ")); ok {
			var s object.Signature
			s.Decode(v)
			c.Author, c.Email, c.When = CutText(s.Name, MaxAuthor), CutText(s.Email, MaxAuthor), s.When
		}
	}
	data = bytes.TrimLeft(data, "\n")
	if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
		data = data[:nl]
	}
	c.Subject = CutText(string(bytes.TrimSpace(data)), MaxSubject)
	return c
}

// CutText returns s cut at n bytes, at the start of a character, with
// "…" added when it was cut.
func CutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// hexHash decodes 40 lowercase or uppercase hex digits into h, as
// plumbing.IsHash accepts them, without allocating.
func hexHash(v []byte, h *plumbing.Hash) bool {
	if len(v) != 2*hashLen {
		return false
	}
	_, err := hex.Decode(h[:], v)
	return err == nil
}
