package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/loftyscan/loftyscan/finding"
)

// IgnoreList is a parsed .loftyscanignore: findings a person looked at and
// accepted, one by one. Entries name a fingerprint, not a path and line, so
// they survive edits around the token; a path glob narrows one to where the
// token is expected (a test fixture) so the same key leaking elsewhere is
// still reported.
//
// The file has one entry a line:
//
//	# test fixtures: synthetic keys signed with the test secret
//	3f9a0c...64 hex digits...e1 testdata/**
//	a41b77...64 hex digits...0c          # revoked 2024-05-02, see SEC-118
//
// Each entry is a fingerprint (the "fingerprint" of a JSON report: the
// lowercase hex SHA-256 of the token; uppercase is accepted) and an optional
// path glob. '#' at the start of a line, or after a space or tab, starts a
// comment; blank lines are ignored. The comment on an entry's line says why
// it is ignored; without one, the comment lines just above it (with no blank
// line between) do.
//
// The glob is one gitignore-style pattern, as in SkipMatcher: without a '/'
// it matches a name at any depth ("*.env"), with one it is anchored at the
// scan root ("testdata/**"), a trailing '/' names a directory and so
// everything in it, and '*' stops at '/' while "**" does not. It cannot
// contain spaces (write '?' for one) and cannot start with '!'.
//
// A nil *IgnoreList ignores nothing. It is safe for concurrent use.
type IgnoreList struct {
	name    string
	entries map[string][]ignoreEntry // by fingerprint
	n       int
}

type ignoreEntry struct {
	line   int
	glob   *pattern // nil: everywhere
	reason string
}

// ParseIgnore reads an ignore file; name is the path to show in errors and
// reasons. A line that is not an entry is an error naming its line: an
// entry that silently fails to parse would let a finding through that the
// user believes is handled, or the reverse.
func ParseIgnore(r io.Reader, name string) (*IgnoreList, error) {
	l := &IgnoreList{name: name, entries: map[string][]ignoreEntry{}}
	sc := bufio.NewScanner(r)
	var above []string // comment lines just above the current line
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		if n == 1 {
			text = strings.TrimPrefix(text, "\uFEFF")
		}
		if strings.TrimSpace(text) == "" {
			above = nil // a blank line ends a comment block
			continue
		}
		body, comment := splitComment(text)
		fields := strings.Fields(body)
		if len(fields) == 0 {
			if comment != "" {
				above = append(above, comment)
			}
			continue
		}
		e, fp, err := parseIgnoreEntry(fields)
		if err != nil {
			return nil, fmt.Errorf("ignore %s:%d: %w", name, n, err)
		}
		e.line = n
		why := comment
		if why == "" {
			why = strings.Join(above, " ")
		}
		e.reason = fmt.Sprintf("%s:%d", name, n)
		if why != "" {
			e.reason += ": " + why
		}
		above = nil
		l.entries[fp] = append(l.entries[fp], e)
		l.n++
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("ignore %s: a line is longer than 64 KiB: is this a loftyscan ignore file?", name)
		}
		return nil, fmt.Errorf("ignore %s: %w", name, finding.DropPath(err))
	}
	return l, nil
}

// splitComment cuts a line at a '#' that starts it or follows a blank, so
// that a glob may still contain '#' ("issue#12/*.env").
func splitComment(line string) (body, comment string) {
	for i := 0; i < len(line); i++ {
		if line[i] == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			return line[:i], strings.TrimSpace(strings.TrimLeft(line[i:], "#"))
		}
	}
	return line, ""
}

// parseIgnoreEntry reads "fingerprint [glob]". Errors never quote the
// first field: a user who pastes the key itself in place of its
// fingerprint must not see it echoed into a CI log.
func parseIgnoreEntry(fields []string) (ignoreEntry, string, error) {
	var e ignoreEntry
	if len(fields) > 2 {
		return e, "", fmt.Errorf("want \"fingerprint [path-glob]\", found %d fields (a glob cannot contain spaces: write '?' for one)", len(fields))
	}
	fp, err := normalizeFingerprint(fields[0])
	if err != nil {
		if looksLikeToken(fields[0]) {
			return e, "", err
		}
		return e, "", fmt.Errorf(`%w: copy it from the "fingerprint" of a JSON report`, err)
	}
	if len(fields) == 2 {
		g := fields[1]
		if strings.HasPrefix(g, "!") {
			return e, "", fmt.Errorf("path glob %q starts with '!': an entry cannot exclude paths (write \\! for a name that starts with '!')", g)
		}
		p, err := compilePattern(g)
		if err != nil {
			return e, "", fmt.Errorf("path glob %q %v", g, err)
		}
		e.glob = &p
	}
	return e, fp, nil
}

// normalizeFingerprint checks that s is 64 hex digits and lowercases it.
// Its errors describe s without quoting it: s may be a secret pasted in
// the wrong place.
func normalizeFingerprint(s string) (string, error) {
	if looksLikeToken(s) {
		return "", errors.New("this looks like a key, not its fingerprint (the SHA-256 of the key, 64 hex digits): never write a key here, and revoke it if it was committed")
	}
	if len(s) != 64 {
		return "", fmt.Errorf("a fingerprint is 64 hex digits, found %d characters", len(s))
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return "", fmt.Errorf("a fingerprint is 64 hex digits, character %d is not one", i+1)
		}
	}
	return strings.ToLower(s), nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// looksLikeToken reports whether s looks like a JWS (two dots, a base64url
// JSON header), so that errors can say so without quoting it.
func looksLikeToken(s string) bool {
	return strings.Count(s, ".") >= 2 && strings.Contains(s, "eyJ")
}

// Suppresses reports whether an entry accepts the finding with this
// fingerprint at this path, and why: "NAME:LINE" of the entry, then ": "
// and its comment when it has one (".loftyscanignore:4: revoked 2024-05-02").
//
// path is the finding's path as reported (slash-separated, relative to the
// scan root). For a path inside an archive, "outer.zip!inner/file", the
// glob is matched against the whole string and against the archive's own
// path before the first '!', so "vendor/**" and "*.zip" cover what an
// archive under them holds. A glob matches a file or any directory above
// it.
func (l *IgnoreList) Suppresses(fingerprint, path string) (reason string, ok bool) {
	if l == nil {
		return "", false
	}
	for _, e := range l.entries[strings.ToLower(fingerprint)] {
		if e.glob == nil || e.glob.matchesTree(path) {
			return e.reason, true
		}
		if i := strings.IndexByte(path, '!'); i > 0 && e.glob.matchesTree(path[:i]) {
			return e.reason, true
		}
	}
	return "", false
}

// ScopedToPaths reports whether an entry accepts the key with this
// fingerprint only at some paths: then where the key is decides whether
// it is suppressed, and a copy of its file elsewhere is not.
func (l *IgnoreList) ScopedToPaths(fingerprint string) bool {
	if l == nil {
		return false
	}
	for _, e := range l.entries[strings.ToLower(fingerprint)] {
		if e.glob != nil {
			return true
		}
	}
	return false
}

// Len returns the number of entries.
func (l *IgnoreList) Len() int {
	if l == nil {
		return 0
	}
	return l.n
}
