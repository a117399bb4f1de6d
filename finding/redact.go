package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The one redaction and escaping point. Every string that reaches output
// and comes from scanned data (file, folder and archive entry names, commit
// messages, authors, refs, URLs, ignore-file reasons, config values quoted
// in errors, errors from libraries and remotes) passes through Sanitize, or
// through a Finding's Shown, which applies it to each field. Reports,
// warnings, errors and hints then hold no full token and nothing that can
// drive a terminal or a CI log:
//
//   - every JWS-shaped run is replaced by its redacted form (Redact), also
//     when more dot-separated segments follow it ("<key>.tar.gz");
//   - control characters (ESC, CR, LF, BEL...), invisible format characters
//     (bidirectional overrides such as U+202E, zero-width characters), line
//     and paragraph separators and the noncharacters U+FFFE and U+FFFF are
//     written as \xNN or \uNNNN, and bytes that are not UTF-8 as \xNN;
//   - what the GitHub Actions runner reads as a workflow command is broken
//     up (see noWorkflowCommand): "##[" anywhere, and "::" at the start.
//
// internal/leakcheck checks statically that the reporters and the CLI
// print scanned data only through this file.

// fingerprintDigits is how many hex digits of the token's SHA-256 its
// redacted form shows: enough to tell keys apart and to match a finding's
// fingerprint or a .loftyscanignore line by eye, as a short commit hash is.
const fingerprintDigits = 8

// Redact returns a token's printable form: "eyJ…" (every JWS starts so),
// the token's last 4 characters, '#', and the first 8 hex digits of its
// SHA-256, e.g. "eyJ…x9Qk#3f0c1a2b". The first characters of a Lofty key
// are the same for every key (base64url of `{"alg":"`), so they identify
// nothing; the last 4 are the end of the signature and the 8 digits are
// the start of the fingerprint every report prints in full, so neither
// helps rebuild the key, and together they tell two keys apart. A token
// shorter than 24 characters, or whose end is not base64url, shows no
// characters of its own but the "eyJ" it starts with.
func Redact(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	fp := hex.EncodeToString(sum[:fingerprintDigits/2])
	head := ""
	if strings.HasPrefix(tok, "eyJ") {
		head = "eyJ"
	}
	tail := ""
	if len(tok) >= 24 && isBase64URLTail(tok[len(tok)-4:]) {
		tail = tok[len(tok)-4:]
	}
	return head + "…" + tail + "#" + fp
}

func isBase64URLTail(s string) bool {
	for i := 0; i < len(s); i++ {
		if !b64url[s[i]] && s[i] != '=' {
			return false
		}
	}
	return true
}

// b64url marks the bytes of the base64url alphabet (RFC 4648 §5).
var b64url = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['-'], t['_'] = true, true
	return t
}()

// RedactText replaces every JWS-shaped token in s with its redacted form:
// from an "eyJ" inside a run of base64url characters, three dot-separated
// non-empty base64url segments (with the '=' padding the detector
// accepts). Unlike the detector, it keeps looking where a candidate would
// be refused, since a redactor may over-redact but must never miss:
//
//   - a token followed by more segments is still a token: "<key>.tar.gz"
//     becomes "eyJ…x9Qk#3f0c1a2b.tar.gz";
//   - a token may start inside another (two keys glued together, a key
//     after a bogus "eyJx." segment): the tokens found from every run are
//     merged where they overlap, and redacted as one. A token that would
//     add fewer than minSecret characters past the one before it is left
//     out: a key's signature is longer (HS256's has 43), and what it would
//     add is a file extension ("<key>.tar.gz" also holds the token
//     "<payload>.<signature>.tar");
//   - a token split by characters that output escapes or cannot show
//     (ESC, a zero-width space, a bidi override, a line break, a byte that
//     is not UTF-8, U+FFFD) is a token to whoever reads the output, who
//     drops the "\x1B" and has the key: such characters are skipped when
//     looking for tokens (see invisible), and a token found across them is
//     redacted whole, as the key without them.
//
// It runs in time linear in len(s): tokens that start in the same run end
// at the same place, so each run starts one token at most.
func RedactText(s string) string {
	if allVisible(s) {
		return redactSpans(s, tokenSpans(s, nil))
	}
	// Both the tokens of s as it is and those its visible text holds: a
	// key in s may be cut by hiding what starts a sequence ("\x1b[e..."),
	// and each must be redacted.
	vis, at := visible(s)
	return redactSpans(s, mergeSpans(s, tokenSpans(s, nil), tokenSpans(vis, at)))
}

// allVisible reports whether s is UTF-8 with no invisible rune; printable
// ASCII, the usual case, is told apart byte by byte.
func allVisible(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return utf8.ValidString(s[i:]) && strings.IndexFunc(s[i:], invisible) < 0
		}
	}
	return true
}

// invisible reports whether r is skipped when RedactText looks for tokens:
// a rune Escape escapes, or U+FFFD, which stands for bytes that were not
// UTF-8 (ValidPath).
func invisible(r rune) bool { return Unsafe(r) || r == utf8.RuneError }

// visible returns s without its invisible runes, bytes that are not UTF-8
// and terminal escape sequences (ESC and what a terminal reads with it: a
// colour's "\x1b[31m" splits a key as much as the ESC alone), and the
// offset in s of each byte it keeps.
func visible(s string) (string, []int) {
	var b strings.Builder
	b.Grow(len(s))
	at := make([]int, 0, len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == 0x1b {
			n = escapeLen(s[i:])
		}
		if !invisible(r) {
			b.WriteString(s[i : i+n])
			for k := range n {
				at = append(at, i+k)
			}
		}
		i += n
	}
	return b.String(), at
}

// escapeLen is the length of the terminal escape sequence at the start of
// s, which starts with ESC: a control sequence (ESC '[', parameters and
// intermediates, a final byte), or an operating system command or string
// (ESC ']', 'P', '_', '^' or 'X', up to BEL or ESC '\\'); else the ESC
// alone, since the character after it is shown after "\x1B". A sequence
// cut short by the end of s runs to the end.
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[':
		i := 2
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
			i++
		}
		if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
			i++
		}
		return i
	case ']', 'P', '_', '^', 'X':
		for i := 2; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
		return len(s)
	}
	return 1
}

// span is a stretch of a string, [from, to), that RedactText redacts.
type span struct{ from, to int }

// tokenSpans returns where the tokens of vis are (see RedactText), merged
// where they overlap. vis is a string s without its hidden runes, and
// at[i] the offset in s of vis[i]; with a nil at, vis is s. The spans are
// offsets in s, in order.
func tokenSpans(vis string, at []int) []span {
	var spans []span
	from, to := -1, -1 // the tokens found so far that overlap, merged
	flush := func() {
		switch {
		case from < 0:
		case at == nil:
			spans = append(spans, span{from, to})
		default:
			spans = append(spans, span{at[from], at[to-1] + 1})
		}
	}
	for i := 0; i < len(vis); {
		j := strings.Index(vis[i:], "eyJ")
		if j < 0 {
			break
		}
		start := i + j
		end, runEnd := tokenAt(vis, start)
		i = runEnd // any "eyJ" before runEnd has the same run end, and so the same tail
		switch {
		case end < 0:
		case start >= to:
			flush()
			from, to = start, end
		case end-to >= minSecret:
			to = end
		}
	}
	flush()
	return spans
}

// mergeSpans returns two lists of spans of s in order as one, in order,
// with overlapping spans joined as tokenSpans joins tokens: a span that
// adds fewer than minSecret visible characters past the one before it is
// left out (the key's span in the visible text and the token
// "<payload>.<signature>.env" of s as it is are one key).
func mergeSpans(s string, a, b []span) []span {
	all := append(a, b...)
	// Of spans that start together, the shortest first: a key followed
	// by hidden runes and then text ("<key>\x1b]0;x\x07gpj") is a token
	// of s, and the visible text's token ("<key>gpj") only adds the text
	// after it.
	slices.SortFunc(all, func(x, y span) int {
		if x.from != y.from {
			return x.from - y.from
		}
		return x.to - y.to
	})
	var out []span
	for _, sp := range all {
		n := len(out)
		switch {
		case n == 0 || sp.from >= out[n-1].to:
			out = append(out, sp)
		case sp.to > out[n-1].to:
			if added, _ := visible(s[out[n-1].to:sp.to]); len(added) >= minSecret {
				out[n-1].to = sp.to
			}
		}
	}
	return out
}

// redactSpans writes s with each of spans (in order, apart) in its redacted
// form: the redacted form of its visible text, which for a key split by
// hidden runes is the key's own.
func redactSpans(s string, spans []span) string {
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	written := 0 // s[:written] is in b
	for _, sp := range spans {
		b.WriteString(s[written:sp.from])
		tok := s[sp.from:sp.to]
		if !allVisible(tok) {
			tok, _ = visible(tok)
		}
		b.WriteString(Redact(tok))
		written = sp.to
	}
	b.WriteString(s[written:])
	return b.String()
}

// minSecret is the fewest characters a token must add past an overlapping
// one to be redacted with it (see RedactText).
const minSecret = 16

// tokenAt reads header.payload.signature from s[start:] and returns where
// the token ends, or -1 when no token starts there; runEnd is the end of
// the base64url run the header starts.
func tokenAt(s string, start int) (end, runEnd int) {
	i := start
	for seg := 0; seg < 3; seg++ {
		from := i
		for i < len(s) && b64url[s[i]] {
			i++
		}
		if seg == 0 {
			runEnd = i
		}
		if i == from {
			return -1, runEnd
		}
		pad := 2 // padding before a '.'; on the signature only what its length needs
		if seg == 2 {
			pad = [4]int{0, 0, 2, 1}[(i-from)%4]
		}
		for p := 0; p < pad && i < len(s) && s[i] == '='; p++ {
			i++
		}
		if seg < 2 {
			if i >= len(s) || s[i] != '.' {
				return -1, runEnd
			}
			i++
		}
	}
	return i, runEnd
}

// Escape makes s safe to print into a terminal, a CI log or any report:
// each rune that could move the cursor, recolour or retitle a terminal,
// start a new log line (and so a CI workflow command), or reorder or hide
// text is written as \xNN (below U+0100) or \uNNNN, and each byte that is
// not UTF-8 as \xNN, in upper-case hex (see Sanitize). Everything else is
// kept as it is.
func Escape(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, Unsafe) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02X`, s[i])
		case Unsafe(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02X`, r)
		case Unsafe(r) && r <= 0xFFFF:
			fmt.Fprintf(&b, `\u%04X`, r)
		case Unsafe(r):
			fmt.Fprintf(&b, `\U%08X`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// Unsafe reports whether Escape escapes r: control characters (C0, DEL,
// C1: ESC, BEL, CR, LF, NEL...), format characters (bidirectional
// overrides and isolates such as U+202E, zero-width spaces and joiners,
// the byte order mark, tag characters), the line and paragraph separators
// U+2028 and U+2029, and the noncharacters U+FFFE and U+FFFF, which XML
// 1.0 cannot carry.
func Unsafe(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || r == 0xFFFE || r == 0xFFFF
}

// Sanitize is Escape(RedactText(s)), redacted again: the form in which
// any string from scanned data is printed. Escapes write hex digits in
// upper case so that none ends in the "e" of an "eyJ": with lower case,
// the byte 0xfe before "yJ" became "\xfe" and so a token's start, and
// 0xde before a key's payload without its "e" showed the payload (both
// found by FuzzSanitize). The second pass is a guard should an escape ever
// make a token again. Its own output needs no escaping.
func Sanitize(s string) string {
	return noWorkflowCommand(RedactText(Escape(RedactText(s))))
}

// noWorkflowCommand keeps s from being read as a GitHub Actions workflow
// command wherever it is printed: alone on a line (a script printing a
// report's field, a report line that starts with a path) or inside one.
// The runner (actions/runner ActionCommand.cs) reads a line that starts,
// after white space, with "::NAME" and holds a second "::" as a command,
// and failing that "##[NAME]" anywhere in it: a file named "::set-output
// name=findings::0" or "x ##[error]y" would otherwise set a step output or
// forge an annotation from the terminal report. So "##[" is written
// "#\x23[", and a leading "::" as "\x3A:", as Escape writes escapes.
func noWorkflowCommand(s string) string {
	s = strings.ReplaceAll(s, "##[", `#\x23[`)
	if rest := strings.TrimLeftFunc(s, unicode.IsSpace); strings.HasPrefix(rest, "::") {
		i := len(s) - len(rest)
		s = s[:i] + `\x3A` + s[i+1:]
	}
	return s
}

// RedactPath is p with its token-shaped parts redacted and bytes that are
// not UTF-8 replaced by U+FFFD, but control and format characters kept: for
// a format that encodes every such character itself without loss, as a
// SARIF URI percent-encodes them. Anything printed as text takes Sanitize.
func RedactPath(p string) string {
	return RedactText(ValidPath(p))
}

// ValidPath returns p with every byte that is not valid UTF-8 replaced by
// U+FFFD, as paths from scanned data (file names, tree entries, archive
// entries) are shown.
func ValidPath(p string) string { return strings.ToValidUTF8(p, "\uFFFD") }
