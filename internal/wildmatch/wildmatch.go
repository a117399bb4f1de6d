// Package wildmatch matches paths against gitignore-style globs exactly as
// git does: it ports git's wildmatch.c (the matcher behind .gitignore), so
// that skip patterns and ignore-file globs behave exactly as users expect from
// git. go-git's plumbing/format/gitignore was the first choice, but on the
// cases in config/skip_test.go it disagrees with git where it matters: "[!a]" is
// not negation and "[[:digit:]]" is not a class (it calls filepath.Match),
// "**/a/b" does not backtrack and misses "x/a/a/b", "dir/**" and "dir/**/"
// match "dir" itself (so "vendor/**" then "!vendor/keep.env" cannot keep
// the file), "**" inside a segment of an anchored pattern never matches,
// and "*" then "!*/" (skip all files but walk all directories) keeps every
// file that is inside a directory.
package wildmatch

import (
	"fmt"
	"strings"
)

// Results of dowild. The two abort values prune the search: abortAll means
// no later split of the text can match either, abortToStarStar that only an
// enclosing "**" may still try further.
const (
	wmMatch = iota
	wmNoMatch
	wmAbortAll
	wmAbortToStarStar
)

// Match reports whether text matches the glob pattern as git's
// wildmatch does. With pathname (WM_PATHNAME), '*', '?' and bracket
// expressions never match '/', and only "**" as a whole segment crosses
// directories: "**/x" matches x at any depth, "x/**" everything below x,
// "a/**/b" zero or more directories between a and b. Neither string may
// contain NUL (Check rejects it, and paths cannot hold it).
func Match(pattern, text string, pathname bool) bool {
	return dowild(pattern, text, pathname) == wmMatch
}

// at returns s[i], or 0 past the end: the C code reads NUL terminators.
func at(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func isGlobSpecial(c byte) bool { return c == '*' || c == '?' || c == '[' || c == '\\' }

func dowild(p, text string, pathname bool) int {
	pi, ti := 0, 0
	for ; at(p, pi) != 0; pi, ti = pi+1, ti+1 {
		pch := p[pi]
		tch := at(text, ti)
		if tch == 0 && pch != '*' {
			return wmAbortAll
		}
		switch pch {
		case '\\':
			// Literal match with the following character; a trailing
			// backslash (pch becomes 0) fails because tch is not 0 here.
			pi++
			if tch != at(p, pi) {
				return wmNoMatch
			}
		case '?':
			if pathname && tch == '/' {
				return wmNoMatch
			}
		case '*':
			var matchSlash bool
			pi++
			if at(p, pi) == '*' {
				prev := pi - 2
				for pi++; at(p, pi) == '*'; pi++ {
				}
				if (prev < 0 || p[prev] == '/') &&
					(at(p, pi) == 0 || at(p, pi) == '/' || (at(p, pi) == '\\' && at(p, pi+1) == '/')) {
					// At "**/", first assume it matches no directory at
					// all, so "foo/**/bar" matches "foo/bar" too.
					if at(p, pi) == '/' && dowild(p[pi+1:], text[ti:], pathname) == wmMatch {
						return wmMatch
					}
					matchSlash = true
				} else {
					// "**" not alone in its segment is a plain '*'.
					matchSlash = false
				}
			} else {
				// Without pathname, '*' is the same as "**".
				matchSlash = !pathname
			}
			if at(p, pi) == 0 {
				// A trailing "**" matches everything, a trailing '*'
				// only what has no more slashes.
				if !matchSlash && strings.IndexByte(text[ti:], '/') >= 0 {
					return wmNoMatch
				}
				return wmMatch
			} else if !matchSlash && at(p, pi) == '/' {
				// One '*' then '/': the star takes the rest of this
				// segment; the loop's increment consumes both slashes.
				slash := strings.IndexByte(text[ti:], '/')
				if slash < 0 {
					return wmNoMatch
				}
				ti += slash
				continue
			}
			for tch != 0 {
				// Skip ahead to the next occurrence of a literal that
				// follows the star: whatever comes before it belongs to
				// the star. Without matchSlash, do not look past a '/'.
				if !isGlobSpecial(at(p, pi)) {
					pc := at(p, pi)
					for {
						tch = at(text, ti)
						if tch == 0 || (!matchSlash && tch == '/') || tch == pc {
							break
						}
						ti++
					}
					if tch != pc {
						return wmNoMatch
					}
				}
				if m := dowild(p[pi:], text[ti:], pathname); m != wmNoMatch {
					if !matchSlash || m != wmAbortToStarStar {
						return m
					}
				} else if !matchSlash && tch == '/' {
					return wmAbortToStarStar
				}
				ti++
				tch = at(text, ti)
			}
			return wmAbortAll
		case '[':
			pi++
			pch = at(p, pi)
			if pch == '^' {
				pch = '!'
			}
			negated := pch == '!'
			if negated {
				pi++
				pch = at(p, pi)
			}
			var prev byte
			matched := false
			// A do-while in C: a ']' right after '[' or "[!" is literal.
			for {
				if pch == 0 {
					return wmAbortAll
				}
				switch {
				case pch == '\\':
					pi++
					pch = at(p, pi)
					if pch == 0 {
						return wmAbortAll
					}
					if tch == pch {
						matched = true
					}
				case pch == '-' && prev != 0 && at(p, pi+1) != 0 && at(p, pi+1) != ']':
					pi++
					pch = at(p, pi)
					if pch == '\\' {
						pi++
						pch = at(p, pi)
						if pch == 0 {
							return wmAbortAll
						}
					}
					if tch <= pch && tch >= prev {
						matched = true
					}
					pch = 0 // so that prev becomes 0: no range may follow a range
				case pch == '[' && at(p, pi+1) == ':':
					pi += 2
					s := pi
					for at(p, pi) != 0 && at(p, pi) != ']' {
						pi++
					}
					pch = at(p, pi)
					if pch == 0 {
						return wmAbortAll
					}
					if n := pi - s - 1; n < 0 || p[pi-1] != ':' {
						// No ":]": the '[' is an ordinary member.
						pi = s - 2
						pch = '['
						if tch == pch {
							matched = true
						}
					} else {
						in, ok := inClass(p[s:s+n], tch)
						if !ok {
							return wmAbortAll
						}
						if in {
							matched = true
						}
						pch = 0
					}
				default:
					if tch == pch {
						matched = true
					}
				}
				prev = pch
				pi++
				pch = at(p, pi)
				if pch == ']' {
					break
				}
			}
			if matched == negated || (pathname && tch == '/') {
				return wmNoMatch
			}
		default:
			if tch != pch {
				return wmNoMatch
			}
		}
	}
	if ti < len(text) {
		return wmNoMatch
	}
	return wmMatch
}

// inClass reports whether c is in the POSIX class name ("alpha" for
// [:alpha:]), in ASCII as git does; ok is false for an unknown class.
func inClass(name string, c byte) (in, ok bool) {
	upper := c >= 'A' && c <= 'Z'
	lower := c >= 'a' && c <= 'z'
	digit := c >= '0' && c <= '9'
	space := c == ' ' || (c >= '\t' && c <= '\r')
	graph := c > ' ' && c < 0x7f
	switch name {
	case "alnum":
		return upper || lower || digit, true
	case "alpha":
		return upper || lower, true
	case "blank":
		return c == ' ' || c == '\t', true
	case "cntrl":
		return c < ' ' || c == 0x7f, true
	case "digit":
		return digit, true
	case "graph":
		return graph, true
	case "lower":
		return lower, true
	case "print":
		return graph || c == ' ', true
	case "punct":
		return graph && !upper && !lower && !digit, true
	case "space":
		return space, true
	case "upper":
		return upper, true
	case "xdigit":
		return digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'), true
	}
	return false, false
}

// Check finds what git would silently treat as a pattern that never
// matches (an unclosed '[', an unknown [:class:], a trailing backslash), so
// that a typo is reported instead of skipping nothing.
func Check(p string) error {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case 0:
			return fmt.Errorf("contains a NUL byte")
		case '\\':
			i++
			if i == len(p) {
				return fmt.Errorf(`ends in a backslash (write \\ for a literal one)`)
			}
		case '[':
			end, err := checkBracket(p, i)
			if err != nil {
				return err
			}
			i = end
		}
	}
	return nil
}

// checkBracket walks the bracket expression opening at p[open] the way
// dowild does and returns the index of its closing ']'.
func checkBracket(p string, open int) (int, error) {
	unclosed := fmt.Errorf(`has an unclosed '[' (write \[ for a literal one)`)
	i := open + 1
	if at(p, i) == '!' || at(p, i) == '^' {
		i++
	}
	for first := true; ; first = false {
		c := at(p, i)
		switch {
		case c == 0:
			return 0, unclosed
		case c == ']' && !first:
			return i, nil
		case c == '\\':
			i++
			if at(p, i) == 0 {
				return 0, unclosed
			}
		case c == '[' && at(p, i+1) == ':':
			s := i + 2
			j := s
			for at(p, j) != 0 && at(p, j) != ']' {
				j++
			}
			if at(p, j) == 0 {
				return 0, unclosed
			}
			if n := j - s - 1; n >= 0 && p[j-1] == ':' {
				if _, ok := inClass(p[s:s+n], 'a'); !ok {
					return 0, fmt.Errorf("has an unknown character class [:%s:]", p[s:s+n])
				}
				i = j
			}
		}
		i++
	}
}
