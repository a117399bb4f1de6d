package remediate

import (
	"bytes"
	"fmt"
)

// The replacements file is git filter-repo's --replace-text format, read
// by --replace-message and by the blob callback as well: one rule a line,
// "literal:<bytes>==><replacement>" or "regex:<python regex>==><template>".
// filter-repo applies the literal rules in file order, then the regular
// expressions. It holds the keys in full: it is written with mode 0600,
// outside the repository, and never printed.

// ruleSet is the content of a replacements file, in the order filter-repo
// applies it.
type ruleSet struct {
	literals []form    // exact segments first, then the keys' forms
	regexes  []segment // wrapped base64, matched where it was found
	seen     map[string]bool
}

// addLiteral adds a literal rule unless the same bytes are matched already.
func (r *ruleSet) addLiteral(f form) {
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	if r.seen["l"+string(f.old)] {
		return
	}
	r.seen["l"+string(f.old)] = true
	r.literals = append(r.literals, f)
}

// addSegment adds the rule for a located segment (base64 wrapped inside a
// key, a key in pieces): a literal when it is on one line, else a regular
// expression.
func (r *ruleSet) addSegment(s segment) {
	if !s.wrapped() {
		r.addLiteral(form{old: s.old, new: s.new, what: "located segment"})
		return
	}
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	if r.seen["r"+string(s.old)] {
		return
	}
	r.seen["r"+string(s.old)] = true
	r.regexes = append(r.regexes, s)
}

// bytes renders the file. Every rule is one line: literals and segments
// hold no line break (keys with one are refused before this), and regular
// expressions escape every byte.
func (r *ruleSet) bytes() []byte {
	var b bytes.Buffer
	for _, l := range r.literals {
		b.WriteString("literal:")
		b.Write(l.old)
		b.WriteString("==>")
		b.Write(l.new)
		b.WriteByte('\n')
	}
	for _, s := range r.regexes {
		b.WriteString("regex:")
		for _, c := range s.old {
			fmt.Fprintf(&b, `\x%02x`, c)
		}
		b.WriteString("==>")
		b.Write(pythonTemplate(s.new))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// pythonTemplate escapes text for the replacement side of Python's re.sub:
// backslashes and line breaks become escapes (the rule must stay on one
// line). A segment's replacement holds nothing else that re.sub reads.
func pythonTemplate(s []byte) []byte {
	var b bytes.Buffer
	for _, c := range s {
		switch c {
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	return b.Bytes()
}

// pythonBytes writes s as a Python bytes literal with every byte escaped,
// whatever the path holds (quotes, backslashes, non-UTF-8).
func pythonBytes(s string) string {
	var b bytes.Buffer
	b.WriteString("b'")
	for _, c := range []byte(s) {
		fmt.Fprintf(&b, `\x%02x`, c)
	}
	b.WriteString("'")
	return b.String()
}

// blobCallback is the --blob-callback for blobs --replace-text leaves alone.
// filter-repo's --replace-text skips every blob with a zero byte in its
// first 8 KiB (UTF-16 text, SQLite databases, compiled Python: places
// loftyscan finds keys); the callback applies the same file, parsed by
// filter-repo's own reader (the callback runs inside filter-repo's module),
// to exactly those blobs. The replacements are as long as the keys, so
// the binary files keep their layout.
func blobCallback(replacementsFile string) []byte {
	return []byte(`# loftyscan: apply the replacements file to the blobs --replace-text skips
# (a zero byte in their first 8 KiB: UTF-16 text, databases, compiled files).
global loftyscan_rules
if 'loftyscan_rules' not in globals():
  loftyscan_rules = FilteringOptions.get_replace_text(` + pythonBytes(replacementsFile) + `)
if b'\0' in blob.data[0:8192]:
  for literal, replacement in loftyscan_rules['literals']:
    blob.data = blob.data.replace(literal, replacement)
  for regex, replacement in loftyscan_rules['regexes']:
    blob.data = regex.sub(replacement, blob.data)
`)
}
