package remediate

import (
	"bytes"
	"cmp"
	"slices"
	"strings"

	"github.com/loftyscan/loftyscan/finding"
)

// A plan prints names from the repository: paths, refs, remotes, URLs.
// finding.RedactText redacts what is shaped like a key, but a name can
// hold a key in another form (a file named after the base64 of the key,
// a branch named after its hex), and the plan knows each of its keys: so
// it looks for every form of them in what it prints.

// hider finds the plan's keys in text: every form the replacements match
// (keyForms: plain, UTF-16, hex, base64 in both alphabets at each
// alignment), and the key without its header, which is the same for
// every key, so that the rest is the key.
type hider struct{ texts []hidden }

// hidden is one form of a key: its bytes, what the rewrite makes of them
// (as long), and what the plan prints instead.
type hidden struct {
	old, new []byte
	shown    string
	cutEnd   bool // form.cutEnd: hide swallows the character after old too
	cutBits  int  // form.cutBits and form.newLast: rewrite sets the key's bits of that character
	newLast  byte
}

func newHider(keys []Key) hider {
	var h hider
	for _, k := range keys {
		red := redactToken(k.Secret)
		for _, f := range keyForms(k.Secret, k.Fingerprint) {
			shown := red
			if f.what != "plain" {
				shown = "[key " + red + " as " + f.what + "]"
			}
			h.texts = append(h.texts, hidden{f.old, f.new, shown, f.cutEnd, f.cutBits, f.newLast})
		}
		if dot := strings.IndexByte(k.Secret, '.'); dot > 0 {
			rep := replacementText(k.Fingerprint, len(k.Secret))
			h.texts = append(h.texts, hidden{old: []byte(k.Secret[dot+1:]), new: []byte(rep[dot+1:]), shown: "[key " + red + " without its header]"})
		}
	}
	// Longer first: the key without its header is inside the key.
	slices.SortStableFunc(h.texts, func(a, b hidden) int { return cmp.Compare(len(b.old), len(a.old)) })
	return h
}

// holds reports whether s holds a form of a key.
func (h hider) holds(s string) bool {
	return slices.ContainsFunc(h.texts, func(t hidden) bool { return strings.Contains(s, string(t.old)) })
}

// hide is s as the plan prints it: each form of a key replaced by what
// says which key it is.
func (h hider) hide(s string) string {
	for _, t := range h.texts {
		if !strings.Contains(s, string(t.old)) {
			continue
		}
		if !t.cutEnd {
			s = strings.ReplaceAll(s, string(t.old), t.shown)
			continue
		}
		s = hideCutEnd(s, string(t.old), t.shown)
	}
	return s
}

// hideCutEnd replaces each old in s by shown, with the base64 character
// after it and the '=' padding after that: old is a base64 form whose
// key ends inside a character, and that character holds up to 4 bits of
// the key's last byte ("…as base64]w==" showed them). When the key ends
// on a character boundary the one swallowed is the text's own: a
// redactor may hide too much, never too little.
func hideCutEnd(s, old, shown string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, old)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(shown)
		j := i + len(old)
		if j < len(s) && isBase64Char(s[j]) {
			j++
		}
		for k := 0; k < 2 && j < len(s) && s[j] == '='; k++ {
			j++
		}
		s = s[j:]
	}
}

// isBase64Char reports whether c is in either base64 alphabet.
func isBase64Char(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("+/-_", c) >= 0
}

// rewrite is s as the rewrite leaves a text that holds it: each form of a
// key replaced by the same form of its replacement.
func (h hider) rewrite(s string) string {
	b := []byte(s)
	for _, t := range h.texts {
		if t.cutBits == 0 {
			b = bytes.ReplaceAll(b, t.old, t.new)
			continue
		}
		b = t.rewriteCut(b)
	}
	return string(b)
}

// rewriteCut replaces each t.old in b by t.new, and in the base64
// character after it the t.cutBits bits that were the key's last by the
// replacement's: left as they were, a renamed file's new name kept up to 4
// bits of the key.
func (t hidden) rewriteCut(b []byte) []byte {
	var out []byte
	for {
		i := bytes.Index(b, t.old)
		if i < 0 {
			return append(out, b...)
		}
		out = append(append(out, b[:i]...), t.new...)
		b = b[i+len(t.old):]
		if len(b) == 0 {
			continue
		}
		v := strings.IndexByte(b64Std, b[0])
		alphabet := b64Std
		if u := strings.IndexByte(b64URL, b[0]); v < 0 {
			v, alphabet = u, b64URL
		}
		if v < 0 {
			continue
		}
		low := 6 - t.cutBits
		v = int(t.newLast)&(1<<t.cutBits-1)<<low | v&(1<<low-1)
		out = append(out, alphabet[v])
		b = b[1:]
	}
}

// The base64 alphabets, standard and URL-safe.
const (
	b64Std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)

// hideAll replaces every form of a key in the plan's strings by what the
// plan prints instead, once the plan is built: a command naming such a
// name then names none, as with a key-shaped name, which finding's
// redaction hides (the steps whose commands must name it, deleting or
// renaming a file, read it from a file of the plan folder instead).
func (p *Plan) hideAll(h hider) {
	s := func(p *string) { *p = h.hide(*p) }
	all := func(ss []string) {
		for i := range ss {
			s(&ss[i])
		}
	}
	occ := func(o *Occurrence) { s(&o.Path); s(&o.Tag); s(&o.Ref) }
	cmd := func(c *Command) { all(c.Args); all(c.Pipe); s(&c.Expect) }
	step := func(st *Step) {
		s(&st.Title)
		all(st.Notes)
		for i := range st.Commands {
			cmd(&st.Commands[i])
		}
	}
	s(&p.Repo)
	s(&p.Dir)
	s(&p.ReplacementsFile)
	s(&p.CallbackFile)
	s(&p.MessageCallbackFile)
	for i := range p.Keys {
		k := &p.Keys[i]
		s(&k.Subject)
		for j := range k.Occurrences {
			occ(&k.Occurrences[j])
		}
		for j := range k.Refs {
			s(&k.Refs[j].Name)
		}
	}
	all(p.RewriteNotes)
	for i := range p.Rewrite {
		step(&p.Rewrite[i])
	}
	for i := range p.Manual {
		m := &p.Manual[i]
		occ(&m.Occurrence)
		s(&m.Why)
		s(&m.Do)
		if m.Command != nil {
			cmd(m.Command)
		}
	}
	all(p.Unreachable)
	for i := range p.Check {
		step(&p.Check[i])
	}
	step(&p.Cleanup)
}

// HideEncodedNames hides, in the path, tag and exposure's ref names of
// each finding of shown, every form of the keys a name holds encoded
// among the findings of all (findings at location path or ref with an
// encoding: a file named after a key's base64 or hex, a tag so named), as
// a plan hides its keys: finding's redaction sees only what is shaped like
// a key, so such a name, and every path below it, would print the key
// whole. all holds the findings not shown too: a name whose finding an
// ignore file or a baseline accepts still holds the key, and a finding
// below it names it.
func HideEncodedNames(all, shown []finding.Finding) {
	h, ok := encodedHider(all, true)
	if !ok {
		return
	}
	for i := range shown {
		f := &shown[i]
		f.Path, f.Tag = h.hide(f.Path), h.hide(f.Tag)
		if e := f.Exposure; e != nil && slices.ContainsFunc(e.Refs, func(r finding.RefExposure) bool { return h.holds(r.Name) }) {
			c := *e // shared with the findings of all
			c.Refs = slices.Clone(e.Refs)
			for j := range c.Refs {
				c.Refs[j].Name = h.hide(c.Refs[j].Name)
			}
			f.Exposure = &c
		}
	}
}

// HideEncoded returns what hides, in a text, every form of the keys the
// findings of fs found encoded (a base64 or hex name, a line of a
// warning), as a plan hides them.
func HideEncoded(fs []finding.Finding) func(string) string {
	h, ok := encodedHider(fs, false)
	if !ok {
		return func(s string) string { return s }
	}
	return h.hide
}

// encodedHider hides the keys of the findings of fs that found them
// encoded, only those at location path or ref when names is set.
func encodedHider(fs []finding.Finding, names bool) (hider, bool) {
	var keys []Key
	seen := map[string]bool{}
	for _, f := range fs {
		if (f.Location == finding.InPath || f.Location == finding.InRef || !names) && f.Encoding != "" && f.Secret != "" && !seen[f.Fingerprint] {
			seen[f.Fingerprint] = true
			keys = append(keys, Key{Fingerprint: f.Fingerprint, Secret: f.Secret})
		}
	}
	if len(keys) == 0 {
		return hider{}, false
	}
	h := newHider(keys)
	h.addWholeNames(fs)
	return h, true
}

// addWholeNames hides, whole, each name a finding found a key encoded in
// (location path) that holds none of the key's forms: base64 broken by a
// line break inside the name, which the forms do not match, was printed
// whole in every path of every report. The name is cut from the path at
// its last '/' or '!' (an archive's entry: "a.zip!name"), which no
// encoding the scanner decodes holds.
func (h *hider) addWholeNames(fs []finding.Finding) {
	for _, f := range fs {
		if f.Location != finding.InPath || f.Encoding == "" || f.Secret == "" {
			continue
		}
		name := f.Path[max(strings.LastIndexByte(f.Path, '/'), strings.LastIndexByte(f.Path, '!'))+1:]
		if name == "" || h.holds(name) {
			continue
		}
		h.texts = append(h.texts, hidden{old: []byte(name), shown: "[name holding key " + redactToken(f.Secret) + " as " + f.Encoding + "]"})
	}
	slices.SortStableFunc(h.texts, func(a, b hidden) int { return cmp.Compare(len(b.old), len(a.old)) })
}
