package gitscan

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/scanner"
)

// Messages. A key pasted into `git commit -m` or `git tag -a -m` is in
// every clone, as much as one in a file. The message of a commit or an
// annotated tag (all of it, from the subject on, with a tag's signature)
// is reported with Location InCommitMessage or InTagMessage, a line
// counted from the subject (line 1) and an empty path.
//
// So are the header lines above it, reported with Location InCommitHeader
// or InTagHeader and a line counted from the object's first: a merge of a
// signed tag copies the whole tag, message and all, into a mergetag
// header of its commit, which stays when the tag is deleted; tools write
// headers of their own; and an author's name is whatever user.name says.
// The headers and the message are scanned as one text, from the first
// line that is not a tree or parent line (which hold nothing but a hash,
// and would send every commit down the scanner's slow path for a run of
// hex), less a commit's signature (signatureSpan), under the label
// "commit:<hash>+<f>:<n>" (or "tag:"): the text starts f lines into the
// object, and its message after its first n lines (headers and the blank
// line). A message that is an archive or a compressed file is scanned on
// its own, as a file, under "commit:<hash>". The headers past the whole
// lines of the first MiB of a streamed object are scanned as a stream of
// their own, from a line's start up to 64 KiB before them (tailBack),
// labelled "commit-header:<hash>+<f>" when f lines come before it.

// maxMessageBytes is how much of one message is scanned. Git sets no
// limit; a message longer than this is cut, with a warning that says how
// to scan the rest.
const maxMessageBytes = 1 << 20

// Labels of messages and headers.
const (
	commitLabel       = "commit:"
	tagLabel          = "tag:"
	commitHeaderLabel = "commit-header:"
	tagHeaderLabel    = "tag-header:"
)

// labels maps each location in a commit or tag object to its label.
var labels = []struct {
	loc   finding.Location
	label string
}{
	{finding.InCommitMessage, commitLabel},
	{finding.InTagMessage, tagLabel},
	{finding.InCommitHeader, commitHeaderLabel},
	{finding.InTagHeader, tagHeaderLabel},
}

// msgKey names one message or block of headers: of a commit or of a tag
// object.
type msgKey struct {
	loc finding.Location
	obj plumbing.Hash
}

// messageLabel is the label a message or its headers are scanned under.
func messageLabel(loc finding.Location, h plumbing.Hash) string {
	for _, l := range labels {
		if l.loc == loc {
			return l.label + h.String()
		}
	}
	panic("gitscan: no label for location " + string(loc))
}

// parseMessageLabel splits a message label into the text it names, where
// that text is (see textAt), and what follows ("" or, in the unlikely
// case of an archive in a message, "!inner").
func parseMessageLabel(p string) (msgKey, textAt, string, bool) {
	var k msgKey
	var at textAt
	found := false
	for _, l := range labels {
		if strings.HasPrefix(p, l.label) {
			k.loc, p, found = l.loc, p[len(l.label):], true
			break
		}
	}
	if !found || len(p) < 40 {
		return k, at, "", false
	}
	hash, p := p[:40], p[40:]
	ok := true
	if rest, cut := strings.CutPrefix(p, "+"); cut {
		at.first, p, ok = leadingNumber(rest)
		if rest, cut := strings.CutPrefix(p, ":"); cut && ok {
			at.before, p, ok = leadingNumber(rest)
		}
	}
	if !ok || !isBlobLabel(hash+p) {
		return k, at, "", false
	}
	k.obj = plumbing.NewHash(hash)
	return k, at, p, true
}

// leadingNumber parses the decimal number s starts with, of up to nine
// digits, and returns what follows it.
func leadingNumber(s string) (int, string, bool) {
	n, i := 0, 0
	for i < len(s) && i < 9 && s[i] >= '0' && s[i] <= '9' {
		n = n*10 + int(s[i]-'0')
		i++
	}
	return n, s[i:], i > 0
}

// textAt says where the text scanned under a message label is in its
// object: first lines of the object come before it, and before lines of
// it come before the message (its headers and the blank line; 0 for a
// header label).
type textAt struct{ first, before int }

// place turns a line of the text scanned under a message label into its
// location and its line in the object (for headers) or in the message.
func (at textAt) place(loc finding.Location, line int) (finding.Location, int) {
	switch loc {
	case finding.InCommitHeader, finding.InTagHeader:
		return loc, line + at.first
	case finding.InCommitMessage, finding.InTagMessage:
		if line < at.before {
			return headerOf(loc), line + at.first
		}
		return loc, max(1, line-at.before)
	}
	return loc, line
}

// messageLoc is the location of the message of an object of type typ, a
// commit or a tag.
func messageLoc(typ plumbing.ObjectType) finding.Location {
	if typ == plumbing.TagObject {
		return finding.InTagMessage
	}
	return finding.InCommitMessage
}

// headerOf is the location of the headers of the object whose message is
// at loc.
func headerOf(loc finding.Location) finding.Location {
	if loc == finding.InTagMessage {
		return finding.InTagHeader
	}
	return finding.InCommitHeader
}

// messageOf returns the message of a commit or tag object's content:
// what follows the first blank line. Header lines that go on (a gpgsig)
// start with a space, so they hold no blank line.
func messageOf(data []byte) []byte {
	if bytes.HasPrefix(data, []byte("\n")) {
		return data[1:]
	}
	if i := bytes.Index(data, []byte("\n\n")); i >= 0 {
		return data[i+2:]
	}
	return nil
}

// hashLines returns how many bytes and lines the lines that name objects
// at the start of a commit's or tag's content take (tree and parents, or
// the tagged object): each a name and a hash.
func hashLines(data []byte, typ plumbing.ObjectType) (n, lines int) {
	names := []string{"tree ", "parent "}
	if typ == plumbing.TagObject {
		names = []string{"object "}
	}
	for _, name := range names {
		for {
			rest, ok := bytes.CutPrefix(data[n:], []byte(name))
			if !ok {
				break
			}
			h := bytes.IndexByte(rest, '\n')
			if h != 40 && h != 64 || !isLowerHex(rest[:h]) {
				return n, lines
			}
			n += len(name) + h + 1
			lines++
			if name != "parent " {
				break
			}
		}
	}
	return n, lines
}

// signatureSpan returns where the signature of a commit is in text (its
// content from the author line on): the start and end of a gpgsig or
// gpgsig-sha256 header that is the commit's last, as git writes it, and
// holds nothing but an armored signature (PGP, SSH or X.509) of base64
// lines. Such a header is left out of the text scanned: it holds no key
// (base64 of a signature's bytes, lines of at most 80 characters), and
// every one of its lines, which start with a blank as a diff's context
// lines do, would be decoded as base64 on a marked line; 60% of go-git's
// commits are signed, and scanning their signatures cost 8% more
// instructions on its whole history. Any other line in it (an armor
// header such as Comment:), or another header after it, and it is
// scanned with the rest.
func signatureSpan(text []byte) (start, end int, ok bool) {
	end = bytes.Index(text, []byte("\n\n")) + 1
	if end <= 0 {
		return 0, 0, false
	}
	start = bytes.LastIndex(text[:end], []byte("\ngpgsig")) + 1
	if start <= 0 {
		return 0, 0, false
	}
	rest := text[start : end-1]
	first, rest, _ := bytes.Cut(rest, []byte("\n"))
	name, begin, _ := bytes.Cut(first, []byte(" "))
	kind, isBegin := bytes.CutPrefix(begin, []byte("-----BEGIN "))
	if string(name) != "gpgsig" && string(name) != "gpgsig-sha256" || !isBegin ||
		string(kind) != "PGP SIGNATURE-----" && string(kind) != "SSH SIGNATURE-----" && string(kind) != "SIGNED MESSAGE-----" {
		return 0, 0, false
	}
	ended := false // past the END line, which GitHub follows with an empty one
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		body, cont := bytes.CutPrefix(line, []byte(" "))
		switch e, isEnd := bytes.CutPrefix(body, []byte("-----END ")); {
		case !cont:
			return 0, 0, false // a header after the signature
		case ended:
			if len(body) > 0 {
				return 0, 0, false
			}
		case isEnd:
			if !bytes.Equal(e, kind) {
				return 0, 0, false
			}
			ended = true
		case len(body) > 80 || !isBase64Line(body):
			return 0, 0, false
		}
	}
	return start, end, ended
}

// isBase64Line reports whether b is nothing but base64 digits and padding
// (or empty).
func isBase64Line(b []byte) bool {
	for _, c := range b {
		if !base64Line[c] {
			return false
		}
	}
	return true
}

// base64Line holds the bytes of a signature's base64 lines.
var base64Line = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") {
		t[c] = true
	}
	return t
}()

// isLowerHex reports whether b is lowercase hex digits, as git writes
// object names.
func isLowerHex(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// linesBefore returns how many lines of a commit or tag object's content
// come before its message: the header lines and the blank line after
// them; one more than the lines of data when it has no blank line.
func linesBefore(data []byte) int {
	if bytes.HasPrefix(data, []byte("\n")) {
		return 1
	}
	hdr := data
	if i := bytes.Index(data, []byte("\n\n")); i >= 0 {
		hdr = data[:i+1]
	} else if len(data) > 0 && data[len(data)-1] != '\n' {
		return bytes.Count(data, []byte("\n")) + 2
	}
	return bytes.Count(hdr, []byte("\n")) + 1
}

// messageContent returns the content of a commit or tag object, or of a
// streamed one the first MiB of its headers and the first
// maxMessageBytes+1 bytes of its message (readStreamedHead, which hands
// the rest of the headers to tail, when given), and the object's size
// less the header bytes dropped. It closes the stream. Neither a message
// nor headers of a hundred megabytes are held.
func messageContent(o gitobj.Object, tail func(rd io.Reader, lines, again int)) ([]byte, int64, error) {
	if o.Stream == nil {
		return o.Data, int64(len(o.Data)), nil
	}
	defer o.Stream.Close()
	data, skipped, err := readStreamedHead(o.Stream, o.Size, maxMessageBytes+1, false, tail)
	return data, max(o.Size-skipped, int64(len(data))), err
}

// scanMessage scans the text of commit or tag object o, named h, on
// worker w: its header lines and up to maxMessageBytes of its message, in
// one piece, with a warning that names the object when the message is
// longer. The headers of a streamed object past their first MiB are
// scanned as a stream (scanHeaderTail), never held.
func scanMessage(ctx context.Context, r *scanner.Run, w *scanner.Worker, h plumbing.Hash, o gitobj.Object) {
	typ := o.Type
	loc := messageLoc(typ)
	data, size, err := messageContent(o, func(tail io.Reader, lines, again int) {
		scanHeaderTail(ctx, r, w, h, typ, tail, lines, again)
	})
	if err != nil {
		r.Fail("", "%s %s: cannot read its message (%v); run 'git fsck' to check the repository", typ, h, err)
		return
	}
	msg := messageOf(data)
	text := data
	if length := int64(len(msg)) + size - int64(len(data)); length > maxMessageBytes { // the whole message, read or not
		r.FailUnscanned("", "%s %s: the message is %d bytes long; only the first %d were scanned; to scan all of it, run 'git cat-file %s %s | loftyscan stdin'",
			typ, h, length, maxMessageBytes, typ, h)
		text = data[:len(data)-len(msg)+min(len(msg), maxMessageBytes)]
	}
	skip, lines := hashLines(text, typ)
	text = text[skip:]
	if len(text) == 0 {
		return
	}
	if body := messageOf(text); scanner.Opens(body) {
		// A message that is a compressed file or an archive (git takes
		// 'git tag -a -F notes.gz') is opened only when scanned from its
		// start, as a file: on its own, under the message's label.
		if err := w.ScanText(ctx, messageLabel(loc, h), body); err != nil && !stopped(err) {
			r.Fail("", "%s %s: its message could not be scanned (%v)", typ, h, err)
		}
		text = text[:len(text)-len(body)]
	}
	if s, e, ok := signatureSpan(text); ok && typ == plumbing.CommitObject {
		text = append(text[:s:s], text[e:]...) // a copy: data may be shared
	}
	label := messageLabel(loc, h) + "+" + strconv.Itoa(lines) + ":" + strconv.Itoa(linesBefore(text))
	if err := w.ScanText(ctx, label, text); err != nil && !stopped(err) {
		r.Fail("", "%s %s: its message and headers could not be scanned (%v)", typ, h, err)
	}
}

// scanHeaderTail scans the header lines of streamed commit or tag object h
// past their first MiB, read from tail, lines lines into the object; the
// first again bytes of tail are scanned with the message too.
func scanHeaderTail(ctx context.Context, r *scanner.Run, w *scanner.Worker, h plumbing.Hash, typ plumbing.ObjectType, tail io.Reader, lines, again int) {
	label := messageLabel(headerOf(messageLoc(typ)), h) + "+" + strconv.Itoa(lines)
	if err := w.ScanTextFrom(ctx, label, tail, int64(again)); err != nil && !stopped(err) {
		r.Fail("", "%s %s: its headers past the first %d bytes could not be scanned (%v)", typ, h, commitHeadMax, err)
	}
}

// objectNotes lists the commits and annotated tags a scan of a whole
// repository met in its object database, reachable or not, and scans
// their messages as it meets them. Its methods are safe for concurrent
// use.
type objectNotes struct {
	names   *gitobj.Names // the repository's: commits are listed as NameRefs
	mu      sync.Mutex
	commits []gitobj.NameRef // 4 bytes a commit, not a 20-byte name: 8 MB at two million
	tags    []plumbing.Hash
}

// expect makes room for n more commits at once: grown as they come, the
// list's last copy held the old beside the new, 74 MB at two million
// commits where the list of names was 40 (and of NameRefs is 8).
func (n *objectNotes) expect(commits int) {
	n.mu.Lock()
	n.commits = slices.Grow(n.commits, commits)
	n.mu.Unlock()
}

// object scans the message of a commit or tag and lists it. It closes
// o's stream, if any.
func (n *objectNotes) object(ctx context.Context, r *scanner.Run, w *scanner.Worker, h plumbing.Hash, o gitobj.Object) {
	if o.Type != plumbing.CommitObject && o.Type != plumbing.TagObject {
		if o.Stream != nil {
			o.Stream.Close()
		}
		return
	}
	scanMessage(ctx, r, w, h, o)
	var ref gitobj.NameRef
	if o.Type == plumbing.CommitObject {
		ref = n.names.Ref(h)
	}
	n.mu.Lock()
	if o.Type == plumbing.CommitObject {
		n.commits = append(n.commits, ref)
	} else {
		n.tags = append(n.tags, h)
	}
	n.mu.Unlock()
}

// scanCommitMessages reads the selected commits again and scans their
// messages: for a scan of a range or of some refs, which reads no other
// commit. tags are annotated tags the refs given name, whose messages are
// scanned too.
func (g *gitRepo) scanCommitMessages(ctx context.Context, r *scanner.Run, commits []commitNode, tags []plumbing.Hash) {
	names := make([]plumbing.Hash, 0, len(commits)+len(tags))
	for _, c := range commits {
		names = append(names, g.names.Hash(c.hash))
	}
	names = append(names, tags...)
	g.readEach(ctx, r, names, func(w *scanner.Worker, rd *gitobj.Reader, h plumbing.Hash) {
		o, err := rd.Open(h) // streamed when too big to hold: only its start is read
		if err != nil {
			r.Fail("", "%s: cannot read its message (%v); run 'git fsck' to check the repository", h, err)
			return
		}
		scanMessage(ctx, r, w, h, o)
	})
}

// tagChain returns the annotated tags rev names, when it is the name of a
// ref to one, or a full object name (git takes 40 hex digits as one before
// any ref): the tag and any tags it tags in turn. A full name is not
// looked up as a ref: go-git reads the whole packed-refs file for each
// name it does not find, five names a pushed ref, so that a pre-push of
// 500 tags in a repository of 300,000 refs took 207 s of CPU.
func (g *gitRepo) tagChain(rev string) []plumbing.Hash {
	var h plumbing.Hash
	if len(rev) == 40 && plumbing.IsHash(rev) {
		h = plumbing.NewHash(rev)
	} else {
		ref, err := g.repo.Reference(plumbing.ReferenceName(rev), true)
		if err != nil {
			for _, p := range []string{"refs/tags/", "refs/heads/", "refs/remotes/", "refs/"} {
				if ref, err = g.repo.Reference(plumbing.ReferenceName(p+rev), true); err == nil {
					break
				}
			}
		}
		if err != nil {
			return nil
		}
		h = ref.Hash()
	}
	var out []plumbing.Hash
	for range maxTagChain {
		t, err := g.decodeTag(h)
		if err != nil {
			break
		}
		out = append(out, h)
		h = t.Target
	}
	return out
}

// decodeTag reads tag object h. Any object a ref names is asked for: one
// that is not a tag (a commit whose message is a hundred megabytes, say)
// is not read whole to learn it, and a big tag's message is cut as a
// scan of it is (messageContent).
func (g *gitRepo) decodeTag(h plumbing.Hash) (*object.Tag, error) {
	if typ, err := g.crd.Type(h); err == nil && typ != plumbing.TagObject {
		// Known from its header: a ref to a big tree is not read whole.
		return nil, plumbing.ErrObjectNotFound // as go-git says
	}
	o, err := g.crd.Open(h)
	if err != nil {
		return nil, err
	}
	if o.Type != plumbing.TagObject {
		if o.Stream != nil {
			o.Stream.Close()
		}
		return nil, plumbing.ErrObjectNotFound // as go-git says
	}
	data, _, err := messageContent(o, nil)
	if err != nil {
		return nil, err
	}
	obj := &plumbing.MemoryObject{}
	obj.SetType(plumbing.TagObject)
	obj.Write(data)
	return object.DecodeTag(g.objs, obj)
}

// messageFinding keeps a finding of a message, by message, and reports
// whether f was one.
func (s *gitSink) messageFinding(f finding.Finding) bool {
	k, at, rest, ok := parseMessageLabel(f.Path)
	if !ok {
		return false
	}
	f.Path = innerPath(k, rest)
	if rest == "" { // in an archive, the line is the inner file's
		k.loc, f.Line = at.place(k.loc, f.Line)
	}
	f.Location = k.loc
	s.mu.Lock()
	if s.messages == nil {
		s.messages = map[msgKey][]finding.Finding{}
	}
	s.messages[k] = append(s.messages[k], f)
	s.fire()
	s.mu.Unlock()
	return true
}

// innerPath is the path inside a message that rest, what follows the
// message's label, names: "" for the message itself, and for the stream a
// compressed message holds when its header gives no name (the scan names
// it after the label, as a file "x.gz" holds "x": scanner.InnerName); an
// archive's entry by its name.
func innerPath(k msgKey, rest string) string {
	p := strings.TrimPrefix(rest, "!")
	if q, ok := strings.CutPrefix(p, messageLabel(k.loc, k.obj)); ok && (q == "" || q[0] == '!') {
		p = strings.TrimPrefix(q, "!")
	}
	return p
}

// messageWarning names the message a warning about one is about.
func messageWarning(w finding.Warning) (finding.Warning, bool) {
	k, at, rest, ok := parseMessageLabel(w.Path)
	if !ok {
		return w, false
	}
	w.Path = innerPath(k, rest)
	what := "commit " + shortHash(k.obj)
	if k.loc.OfTag() {
		what = "tag " + shortHash(k.obj)
	}
	part := k.loc.Part()
	if part == "message" && at.before > 0 {
		part = "headers or message"
	}
	w.Message += " (in the " + part + " of " + what + ")"
	return w, true
}

// messageFindings turns the findings of messages into one finding per key
// and kind of message: at the first selected commit whose message holds
// it (the selection lists commits reachable from refs first, then those
// only a reflog reaches, then the rest), and at one annotated tag. Only
// the messages of selected commits and of tags are reported: a scan with
// --since leaves out the older commits the sweep read.
func (a *attributor) messageFindings(set revSet) []finding.Finding {
	a.gs.mu.Lock()
	found := a.gs.messages
	a.gs.mu.Unlock()
	if len(found) == 0 {
		return nil
	}
	tags := a.g.newTagSet(set)
	index := make(map[plumbing.Hash]int, len(a.sel.commits))
	for i := range a.sel.commits {
		index[a.sel.hash(&a.sel.commits[i])] = i
	}
	type best struct {
		k    msgKey
		rank int
	}
	first := map[string]best{} // by kind and fingerprint
	for k, fs := range found {
		rank, ok := a.messageRank(k, index, tags)
		if !ok {
			continue
		}
		for _, f := range fs {
			id := string(k.loc) + f.Fingerprint
			if b, seen := first[id]; !seen || rank < b.rank || rank == b.rank && k.obj.String() < b.k.obj.String() {
				first[id] = best{k, rank}
			}
		}
	}
	var out []finding.Finding
	seen := map[string]bool{}
	for k, fs := range found {
		for _, f := range fs {
			if b := first[string(k.loc)+f.Fingerprint]; b.k != k {
				continue
			}
			place := fmt.Sprint(f.Fingerprint, f.Path, f.Line, f.Column, f.Encoding, k.obj)
			if seen[place] {
				continue
			}
			seen[place] = true
			if k.loc.OfTag() {
				a.describeTag(&f, k.obj, tags)
			} else {
				c := &a.sel.commits[index[k.obj]]
				h := a.sel.hash(c)
				d := a.g.describe(h)
				f.Commit, f.Author, f.Email, f.Date, f.Message = h.String(), d.author, d.email, d.date, finding.RedactText(d.subject)
				f.Unreachable = c.reach == reachNothing
			}
			out = append(out, f)
		}
	}
	return out
}

// messageRank orders the messages that hold a key: the lower, the better
// the place to report it. It reports false for a message not to report.
func (a *attributor) messageRank(k msgKey, index map[plumbing.Hash]int, tags *tagSet) (int, bool) {
	if k.loc.OfTag() {
		t, ok := tags.info(a.g, k.obj)
		if !ok {
			return 0, false
		}
		if t.unreachable {
			return 1, true
		}
		return 0, true
	}
	i, ok := index[k.obj]
	return i, ok
}

// describeTag fills in the git fields of a finding in the message of tag
// object h: the tag's name, the tagger as author, the tagged commit.
func (a *attributor) describeTag(f *finding.Finding, h plumbing.Hash, tags *tagSet) {
	t, _ := tags.info(a.g, h)
	f.Tag = finding.RedactText(t.name)
	f.Commit = t.commit
	f.Author, f.Email, f.Date = t.tagger, t.email, t.date
	f.Message = finding.RedactText(t.subject)
	f.Unreachable = t.unreachable
}
