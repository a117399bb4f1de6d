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

// blobCallback is the --blob-callback. filter-repo's --replace-text skips
// every blob with a zero byte in its first 8 KiB (UTF-16 text, SQLite
// databases, compiled Python: places loftyscan finds keys); the callback
// applies the same file, parsed by filter-repo's own reader (the callback
// runs inside filter-repo's module), to exactly those blobs. The
// replacements are as long as the keys, so the binary files keep their
// layout. Then, in every blob (filter-repo runs the callback after
// --replace-text), it sets the key's bits in the character after each
// replaced base64 form (cutFixPython).
func blobCallback(replacementsFile string, cuts []cut) []byte {
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
` + cutFixPython(cuts) + `blob.data = loftyscan_fix_cuts(blob.data)
`)
}

// messageCallback is the --message-callback: filter-repo runs it on each
// commit and tag message after --replace-message, and it sets the key's
// bits after each replaced base64 form as the blob callback does.
func messageCallback(cuts []cut) []byte {
	return []byte(`# loftyscan: set the bits of the character after each replaced base64 form.
` + cutFixPython(cuts) + `return loftyscan_fix_cuts(message)
`)
}

// cutFixPython defines loftyscan_fix_cuts(data), once: for each cut, where
// data holds the replacement's form, the base64 character after it (after
// one line break, where wrapped base64 breaks its line there: only when
// the next line is base64 to its end, so that a form cut short at a line's
// end leaves the next line's text alone) gets the replacement's bits where
// the key's were, and keeps the text's own. A
// replacement's form is found only where a rewrite put it, so a pass costs
// one search of the data for each. It holds no key: only the replacements'
// forms and bits.
func cutFixPython(cuts []cut) string {
	var b bytes.Buffer
	b.WriteString(`global loftyscan_fix_cuts
if 'loftyscan_fix_cuts' not in globals():
  import re
  def loftyscan_fix_cuts(data, cuts=[
`)
	for _, c := range cuts {
		fmt.Fprintf(&b, "      (%s, %d, %d),\n", pythonBytes(string(c.new)), c.bits, c.repHigh)
	}
	b.WriteString(`    ]):
    std = b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
    url = b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    for core, bits, high in cuts:
      if core not in data:
        continue
      low = (1 << (6 - bits)) - 1
      def fix(m):
        c = m.group(2)
        alphabet = url if c in b'-_' else std
        v = alphabet.index(c) & low | high
        return m.group(1) + alphabet[v:v+1]
      data = re.sub(rb'(' + re.escape(core) + rb'(?:\r?\n(?=[A-Za-z0-9+/_-]+={0,2}(?:\r?\n|\Z)))?)([A-Za-z0-9+/_-])', fix, data)
    return data
`)
	return b.String()
}
