package config

import (
	"fmt"
	"strings"

	"github.com/loftyscan/loftyscan/internal/wildmatch"
)

// SkipMatcher decides which paths a scan leaves out, with the patterns of a
// .gitignore file: users already know that language, and a vendored
// directory or minified bundle is described the same way in both files.
//
// The rules, as git applies them to one .gitignore at the scan root:
//
//   - A pattern with a '/' at its start or middle is anchored: it matches
//     the path from the scan root ("/build", "docs/*.md"). Without one it
//     matches a name at any depth ("*.min.js", "node_modules/").
//   - A trailing '/' matches directories only.
//   - '*' and '?' do not match '/'; "[a-z]", "[!a-z]" and "[[:digit:]]" are
//     bracket expressions; "**/" matches any number of leading directories,
//     "/**" everything below, "/**/" zero or more directories.
//   - '!' negates: the path is kept after all. A backslash quotes the next
//     character ("\!important", "\#notes", "\[").
//   - The last pattern that matches wins.
//   - A skipped directory skips everything below it, and no '!' brings a
//     file back from inside it: the walker never enters it. To keep one
//     file, skip the directory's contents ("vendor/**") rather than the
//     directory, then re-include the file ("!vendor/keep.env").
//
// Trailing spaces are dropped unless quoted with a backslash, as git does.
// Matching is case-sensitive and byte-wise.
//
// A nil *SkipMatcher skips nothing. It is safe for concurrent use.
type SkipMatcher struct {
	patterns []pattern
}

// pattern is one compiled gitignore line.
type pattern struct {
	glob     string // what wildmatch sees: no '!', no trailing '/', no leading '/'
	negate   bool   // '!': keep what matches
	dirOnly  bool   // trailing '/': directories only
	basename bool   // no '/' in it: match the last path element at any depth
}

// NewSkipMatcher compiles gitignore-style patterns, in order. Patterns that
// git would accept but that can never match (an unclosed '[', a trailing
// backslash, "./x", an empty string) are errors: a typo in a skip list
// should fail loudly, not scan what the user meant to skip.
func NewSkipMatcher(patterns []string) (*SkipMatcher, error) {
	m := &SkipMatcher{patterns: make([]pattern, 0, len(patterns))}
	for _, s := range patterns {
		p, err := compilePattern(s)
		if err != nil {
			return nil, fmt.Errorf("skip pattern %q: %w", s, err)
		}
		m.patterns = append(m.patterns, p)
	}
	return m, nil
}

// compilePattern parses one line as git's parse_path_pattern does.
func compilePattern(s string) (pattern, error) {
	var p pattern
	if strings.TrimSpace(s) == "" {
		return p, fmt.Errorf("is empty")
	}
	if strings.HasPrefix(s, "#") {
		return p, fmt.Errorf(`starts with '#', which gitignore reads as a comment (write \# to match a name starting with '#')`)
	}
	s = trimTrailingSpaces(s)
	if strings.HasPrefix(s, "!") {
		p.negate = true
		s = s[1:]
	}
	if strings.HasSuffix(s, "/") {
		p.dirOnly = true
		s = s[:len(s)-1]
	}
	p.basename = !strings.Contains(s, "/")
	s = strings.TrimPrefix(s, "/")
	if s == "" {
		return p, fmt.Errorf("matches nothing")
	}
	for _, seg := range strings.Split(s, "/") {
		if seg == "." || seg == ".." {
			return p, fmt.Errorf("has a %q element, which never matches: paths are relative to the scan root and clean", seg)
		}
		if seg == "" {
			return p, fmt.Errorf("has an empty element (\"//\"), which never matches")
		}
	}
	if err := wildmatch.Check(s); err != nil {
		return p, err
	}
	p.glob = s
	return p, nil
}

// trimTrailingSpaces drops trailing spaces that no backslash quotes, as
// git's trim_trailing_spaces does.
func trimTrailingSpaces(s string) string {
	end := len(s)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ':
			if end == len(s) {
				end = i
			}
		case '\\':
			i++
			end = len(s)
		default:
			end = len(s)
		}
	}
	return s[:end]
}

// Match reports whether relPath is skipped. relPath is slash-separated and
// relative to the scan root ("src/app.js", not "./src/app.js"; convert with
// filepath.ToSlash); isDir says whether it names a directory, which only
// patterns with a trailing '/' care about. A trailing '/' on relPath also
// marks a directory. The scan root itself ("" or ".") is never skipped.
//
// Match checks the path's parent directories first, so a file is skipped
// when any directory above it is, whatever the patterns say about the file:
// this is what a walker that prunes skipped directories does, and what git
// does.
func (m *SkipMatcher) Match(relPath string, isDir bool) bool {
	if m == nil || len(m.patterns) == 0 {
		return false
	}
	if strings.HasSuffix(relPath, "/") {
		isDir = true
		relPath = strings.TrimRight(relPath, "/")
	}
	relPath = strings.TrimPrefix(relPath, "./")
	if relPath == "" || relPath == "." {
		return false
	}
	for i := 0; i < len(relPath); i++ {
		if relPath[i] == '/' && m.excluded(relPath[:i], true) {
			return true
		}
	}
	return m.excluded(relPath, isDir)
}

// excluded applies the patterns to one path, ignoring its parents: the
// last pattern that matches decides.
func (m *SkipMatcher) excluded(p string, isDir bool) bool {
	for i := len(m.patterns) - 1; i >= 0; i-- {
		if m.patterns[i].matches(p, isDir) {
			return !m.patterns[i].negate
		}
	}
	return false
}

// matches reports whether the pattern, '!' aside, matches the path itself.
func (p *pattern) matches(path string, isDir bool) bool {
	if p.dirOnly && !isDir {
		return false
	}
	if p.basename {
		return wildmatch.Match(p.glob, path[strings.LastIndexByte(path, '/')+1:], false)
	}
	return wildmatch.Match(p.glob, path, true)
}

// matchesTree reports whether the pattern matches the path or one of its
// parent directories: a glob naming a directory covers what is in it.
func (p *pattern) matchesTree(path string) bool {
	for i := 0; i < len(path); i++ {
		if path[i] == '/' && p.matches(path[:i], true) {
			return true
		}
	}
	return p.matches(path, false)
}
