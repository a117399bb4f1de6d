package gitscan

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// TestKeysInHeaders: keys in the header lines of a commit (its author, a
// mergetag header, which a merge of a signed tag fills with the whole tag,
// message and all, and a header of a tool's own) and of an annotated tag
// (its name) are found, in a scan of every ref and of a range, at the
// header's line counted from the object's first, with the commit's
// message still counted from its subject. They were once not scanned at
// all: only what follows the blank line was.
func TestKeysInHeaders(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	r.Write("README", "hello\n")
	base := r.Commit("init")
	keys := map[string]string{}
	for _, place := range []string{"author", "mergetag", "custom", "message", "tag name"} {
		keys[place] = gitTestKey("in a " + place)
	}
	tree := strings.TrimSpace(r.Git("rev-parse", base+"^{tree}"))
	commit := writeObject(r, "commit", "tree "+tree+"\nparent "+base+"\n"+
		"author Eve "+keys["author"]+" <eve@example.com> 1700000000 +0000\n"+ // line 3
		"committer Eve <eve@example.com> 1700000000 +0000\n"+
		"mergetag object "+base+"\n type commit\n tag v0\n tagger T <t@example.com> 1700000000 +0000\n \n"+
		" release notes LOFTY_API_KEY="+keys["mergetag"]+"\n"+ // line 10
		"x-ci-token "+keys["custom"]+"\n"+ // line 11
		"\nsubject with no key\n\nbody LOFTY_API_KEY="+keys["message"]+"\n") // message line 3
	tag := writeObject(r, "tag", "object "+commit+"\ntype commit\ntag "+keys["tag name"]+"\n"+ // line 3
		"tagger T <t@example.com> 1700000000 +0000\n\nrelease\n")
	r.Git("update-ref", "refs/heads/main", commit)
	r.Git("update-ref", "refs/tags/rel", tag)
	if err := r.Cmd("", nil, "fsck", "--strict").Run(); err != nil {
		t.Fatalf("git fsck refuses the test's objects: %v", err)
	}
	want := map[string]struct {
		loc  finding.Location
		line int
	}{
		"author":   {finding.InCommitHeader, 3},
		"mergetag": {finding.InCommitHeader, 10},
		"custom":   {finding.InCommitHeader, 11},
		"message":  {finding.InCommitMessage, 3},
		"tag name": {finding.InTagHeader, 3},
	}
	for _, opts := range []HistoryOptions{{}, {Refs: []string{"main", "rel"}, Exclude: []string{base}}} {
		c := &scanner.Collector{}
		if _, err := ScanHistory(t.Context(), scanner.New(scanner.DefaultOptions()), repoOf(r), opts, c); err != nil {
			t.Fatal(err)
		}
		if len(c.Warnings) != 0 {
			t.Errorf("%+v: warnings %v", opts, c.Warnings)
		}
		got := map[string]finding.Finding{}
		for _, f := range c.Sorted() {
			got[f.Secret] = f
		}
		for place, w := range want {
			f, ok := got[keys[place]]
			switch {
			case !ok:
				t.Errorf("%+v: the key in the %s is not found", opts, place)
			case f.Location != w.loc || f.Line != w.line || f.Commit != commit:
				t.Errorf("%+v: the key in the %s at %s line %d of commit %.7s; want %s line %d of %.7s", opts, place, f.Location, f.Line, f.Commit, w.loc, w.line, commit)
			}
		}
		if f := got[keys["tag name"]]; f.Tag != "rel" {
			t.Errorf("%+v: the tag object named by a key is reported as tag %q; want rel, the ref's name", opts, f.Tag)
		}
		if len(got) != len(want) {
			t.Errorf("%+v: %d keys found; want %d", opts, len(got), len(want))
		}
	}
}

// TestHashLines: the tree and parent lines a commit's text starts with, and
// the object line of a tag, are left out of the text scanned; any other
// line, or one of them that is not a name and a whole hash, is not.
func TestHashLines(t *testing.T) {
	t.Parallel()
	h40, h64 := strings.Repeat("a1", 20), strings.Repeat("0f", 32)
	for _, c := range []struct {
		text  string
		typ   string
		n     int
		lines int
	}{
		{"tree " + h40 + "\nparent " + h40 + "\nparent " + h40 + "\nauthor x\n", "commit", 46 + 2*48, 3},
		{"tree " + h64 + "\nauthor x\n", "commit", 70, 1},
		{"tree " + h40 + "\ntree " + h40 + "\n", "commit", 46, 1},
		{"tree " + strings.ToUpper(h40) + "\nparent " + h40 + "\n", "commit", 0, 0},
		{"tree " + h40[:39] + "\n", "commit", 0, 0},
		{"tree " + h40, "commit", 0, 0},
		{"parent " + h40 + "\n", "commit", 48, 1},
		{"object " + h40 + "\ntype commit\n", "tag", 48, 1},
		{"tree " + h40 + "\n", "tag", 0, 0},
	} {
		typ := map[string]plumbing.ObjectType{"commit": plumbing.CommitObject, "tag": plumbing.TagObject}[c.typ]
		if n, lines := hashLines([]byte(c.text), typ); n != c.n || lines != c.lines {
			t.Errorf("hashLines(%.30q, %s) = %d, %d; want %d, %d", c.text, c.typ, n, lines, c.n, c.lines)
		}
	}
}

// TestSignedCommits: a commit's signature, an armored block of base64
// lines as git writes it last among the headers, is left out of the text
// scanned, and the lines around it are still found where they are; a
// signature with any other line in it (an armor header holding a key) is
// scanned whole.
func TestSignedCommits(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	r.Write("README", "hello\n")
	base := r.Commit("init")
	tree := strings.TrimSpace(r.Git("rev-parse", base+"^{tree}"))
	sig := "gpgsig -----BEGIN PGP SIGNATURE-----\n \n " + strings.Repeat("wsBcBAABCAAQBQJh", 4) + "\n =AbCd\n -----END PGP SIGNATURE-----\n"
	author, inMessage, inComment := gitTestKey("signed author"), gitTestKey("signed message"), gitTestKey("signature comment")
	signed := writeObject(r, "commit", "tree "+tree+"\nparent "+base+"\nauthor Eve "+author+" <e@example.com> 1700000000 +0000\n"+
		"committer Eve <e@example.com> 1700000000 +0000\n"+sig+"\nsubject\n\nLOFTY_API_KEY="+inMessage+"\n")
	commented := writeObject(r, "commit", "tree "+tree+"\nparent "+signed+"\nauthor Eve <e@example.com> 1700000000 +0000\n"+
		"committer Eve <e@example.com> 1700000000 +0000\n"+strings.Replace(sig, " \n", " Comment: "+inComment+"\n \n", 1)+"\nsecond\n")
	r.Git("update-ref", "refs/heads/main", commented)
	c := &scanner.Collector{}
	if _, err := ScanHistory(t.Context(), scanner.New(scanner.DefaultOptions()), repoOf(r), HistoryOptions{}, c); err != nil {
		t.Fatal(err)
	}
	got := map[string]finding.Finding{}
	for _, f := range c.Sorted() {
		got[f.Secret] = f
	}
	for key, w := range map[string]struct {
		commit string
		loc    finding.Location
		line   int
	}{
		author:    {signed, finding.InCommitHeader, 3},
		inMessage: {signed, finding.InCommitMessage, 3},
		inComment: {commented, finding.InCommitHeader, 6},
	} {
		if f, ok := got[key]; !ok || f.Commit != w.commit || f.Location != w.loc || f.Line != w.line {
			t.Errorf("finding %+v (found %v); want %s line %d of %.7s", f, ok, w.loc, w.line, w.commit)
		}
	}
	if len(got) != 3 || len(c.Warnings) != 0 {
		t.Errorf("%d keys, warnings %v; want 3 and none", len(got), c.Warnings)
	}
}

// TestSignatureSpan: what is a signature left out of the text scanned.
func TestSignatureSpan(t *testing.T) {
	t.Parallel()
	const head = "author A <a@example.com> 1 +0000\ncommitter A <a@example.com> 1 +0000\n"
	for _, c := range []struct {
		name, sig string
		skipped   bool
	}{
		{"PGP", "gpgsig -----BEGIN PGP SIGNATURE-----\n \n wsBcBAAB+/==\n =AbCd\n -----END PGP SIGNATURE-----\n", true},
		{"PGP, as GitHub writes it", "gpgsig -----BEGIN PGP SIGNATURE-----\n \n wsFcBAAB\n =mP29\n -----END PGP SIGNATURE-----\n \n", true},
		{"a line after END", "gpgsig -----BEGIN PGP SIGNATURE-----\n wsFc\n -----END PGP SIGNATURE-----\n wsFc\n", false},
		{"SSH, SHA-256", "gpgsig-sha256 -----BEGIN SSH SIGNATURE-----\n U1NIU0lH\n -----END SSH SIGNATURE-----\n", true},
		{"X.509", "gpgsig -----BEGIN SIGNED MESSAGE-----\n MIAGCSqG\n -----END SIGNED MESSAGE-----\n", true},
		{"armor header", "gpgsig -----BEGIN PGP SIGNATURE-----\n Comment: x\n \n wsBc\n -----END PGP SIGNATURE-----\n", false},
		{"END of another kind", "gpgsig -----BEGIN PGP SIGNATURE-----\n wsBc\n -----END SSH SIGNATURE-----\n", false},
		{"no END", "gpgsig -----BEGIN PGP SIGNATURE-----\n wsBc\n", false},
		{"a header after it", "gpgsig -----BEGIN PGP SIGNATURE-----\n wsBc\n -----END PGP SIGNATURE-----\nx-note y\n", false},
		{"a long line", "gpgsig -----BEGIN PGP SIGNATURE-----\n " + strings.Repeat("A", 81) + "\n -----END PGP SIGNATURE-----\n", false},
		{"another header's name", "gpgsigx -----BEGIN PGP SIGNATURE-----\n wsBc\n -----END PGP SIGNATURE-----\n", false},
		{"no signature", "", false},
	} {
		text := head + c.sig + "\nsubject\n"
		s, e, ok := signatureSpan([]byte(text))
		if ok != c.skipped || ok && text[s:e] != c.sig {
			t.Errorf("%s: span %q, %v; want skipped %v", c.name, text[s:e], ok, c.skipped)
		}
	}
}

// TestHeaderTailCut: the headers of a streamed commit past the first MiB
// a message scan holds are scanned as a stream of their own, and a key
// across that cut is found whole, at its line and column in the object:
// on a line longer than the cut (the head once ended inside the line, so
// a key across the cut was missed, and one after it was given a column
// counted from the cut), and in base64 wrapped over header lines the cut
// falls between (the head held its first lines, the stream the rest). A
// key on a whole line just before the cut is reported once. The workers'
// number makes each hold at most 1 MiB of an object: a commit of 1.5 MB
// is streamed.
func TestHeaderTailCut(t *testing.T) {
	t.Parallel()
	r, _, base := hostileRepo(t)
	tree := strings.TrimSpace(r.Git("rev-parse", base+"^{tree}"))
	head := "tree " + tree + "\nparent " + base + "\nauthor A <a@example.com> 1700000000 +0000\ncommitter A <a@example.com> 1700000000 +0000\n"
	type place struct{ line, column int }
	want, names := map[string]place{}, map[string]string{}
	var commits []string
	write := func(content string) {
		h := testgit.WriteLoose(t, r.ObjectsDir(), fmt.Sprintf("commit %d", len(content)), strings.NewReader(content))
		commits = append(commits, h.String())
	}

	// One line of 1.4 MB, read 64 KiB at a time (readStreamedHead's
	// buffer): the head stops at the last 64 KiB of it that fit in its MiB.
	across, after := gitTestKey("across the cut"), gitTestKey("after the cut")
	names[across], names[after] = "across the cut", "after the cut"
	line := "x-pad "
	cut := (commitHeadMax - len(head)) / (64 << 10) * (64 << 10) // where the head stops, in the line
	line += strings.Repeat(" ", cut-20-len(line)) + across + " " + strings.Repeat("word ", 100) + after + strings.Repeat(" more", 80_000)
	want[across] = place{5, strings.Index(line, across) + 1}
	want[after] = place{5, strings.Index(line, after) + 1}
	write(head + line + "\n\nlong line\n")

	// Lines of 1,000 bytes, then base64 wrapped at 76 columns, its second
	// line the last the head holds; a key on a line 10 KB before.
	wrapped, before := gitTestKey("wrapped across the cut"), gitTestKey("before the cut")
	names[wrapped], names[before] = "in base64 across the cut", "before the cut"
	var b strings.Builder
	b.WriteString(head)
	for b.Len() < commitHeadMax-20_000 {
		b.WriteString("x-fill " + strings.Repeat("w", 1000-len("x-fill \n")) + "\n")
	}
	want[before] = place{strings.Count(b.String(), "\n") + 1, 8}
	b.WriteString("x-note " + before + "\n")
	// Written as a signature is: a header's name, then the lines of its
	// value, each after a space.
	enc := base64.StdEncoding.EncodeToString([]byte("LOFTY_API_KEY=" + wrapped))
	pad := commitHeadMax - b.Len() - len("x-b64\n") - 2*78
	b.WriteString("x-fill " + strings.Repeat("w", pad-len("x-fill \n")) + "\n")
	b.WriteString("x-b64\n")
	want[wrapped] = place{strings.Count(b.String(), "\n") + 1, 2 + len("LOFTY_API_KEY=")/3*4}
	for i := 0; enc != ""; i++ {
		b.WriteString(" " + enc[:min(76, len(enc))] + "\n")
		enc = enc[min(76, len(enc)):]
		if i == 1 && b.Len() != commitHeadMax {
			t.Fatalf("the head ends %d bytes after the base64's second line; want 0", commitHeadMax-b.Len())
		}
	}
	for b.Len() < commitHeadMax+500_000 {
		b.WriteString("x-fill " + strings.Repeat("w", 1000-len("x-fill \n")) + "\n")
	}
	write(b.String() + "\nwrapped\n")

	for i, c := range commits {
		r.Git("update-ref", fmt.Sprintf("refs/heads/c%d", i), c)
	}
	o := scanner.DefaultOptions()
	o.Workers = scanner.MaxWorkers // each holds objects of up to 1 MiB
	for _, opts := range []HistoryOptions{{}, {Refs: []string{"c0", "c1"}, Exclude: []string{base}}} {
		c := &scanner.Collector{}
		if _, err := ScanHistory(t.Context(), scanner.New(o), repoOf(r), opts, c); err != nil {
			t.Fatal(err)
		}
		if len(c.Warnings) != 0 {
			t.Errorf("%+v: warnings %v", opts, c.Warnings)
		}
		got := map[string][]place{}
		for _, f := range c.Sorted() {
			if f.Location == finding.InCommitHeader {
				got[f.Secret] = append(got[f.Secret], place{f.Line, f.Column})
			}
		}
		for key, w := range want {
			if g := got[key]; len(g) != 1 || g[0] != w {
				t.Errorf("%+v: the key %s in the headers at %v; want once, at line %d column %d", opts, names[key], g, w.line, w.column)
			}
		}
	}
}

// TestHeaderTailCounts: a streamed commit whose headers pass the first
// MiB is one text in the scan's counts, as any commit is (a file, and its
// bytes from the author line on), though its headers are scanned in two
// parts that share up to 64 KiB: it counted as two files, and the bytes
// both parts read twice were counted twice.
func TestHeaderTailCounts(t *testing.T) {
	t.Parallel()
	r, _, base := hostileRepo(t)
	tree := strings.TrimSpace(r.Git("rev-parse", base+"^{tree}"))
	hashes := "tree " + tree + "\nparent " + base + "\n"
	content := hashes + "author A <a@example.com> 1700000000 +0000\ncommitter A <a@example.com> 1700000000 +0000\n" +
		strings.Repeat("x-fill "+strings.Repeat("w", 992)+"\n", 1500) + "\nsubject\n\nbody\n"
	h := testgit.WriteLoose(t, r.ObjectsDir(), fmt.Sprintf("commit %d", len(content)), strings.NewReader(content))
	r.Git("update-ref", "refs/heads/big", h.String())
	o := scanner.DefaultOptions()
	o.Workers = scanner.MaxWorkers // each holds objects of up to 1 MiB
	stats, err := ScanHistory(t.Context(), scanner.New(o), repoOf(r), HistoryOptions{Refs: []string{"big"}, Exclude: []string{base}}, &scanner.Collector{})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(len(content) - len(hashes)); stats.Files != 1 || stats.Bytes != want {
		t.Errorf("a commit of %d bytes counted as %d files of %d bytes; want 1 of %d", len(content), stats.Files, stats.Bytes, want)
	}
}

// TestCompressedMessage: a message that is a compressed file, which git
// takes for a tag (git tag -a -F notes.gz) and a crafted commit holds, is
// opened as a file is and the key in it found, at the line of the text it
// holds, in the message, with no path. Scanned from the author line on,
// with the headers, a message was no longer seen to start a compressed
// stream, and such keys were missed.
func TestCompressedMessage(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	r.Write("README", "hello\n")
	base := r.Commit("init")
	inCommit, inTag := gitTestKey("in a gzip commit message"), gitTestKey("in a gzip tag message")
	commitMsg := gzipText(t, "notes\nLOFTY_API_KEY="+inCommit+"\n")
	tree := strings.TrimSpace(r.Git("rev-parse", base+"^{tree}"))
	commit := writeObject(r, "commit", "tree "+tree+"\nparent "+base+"\nauthor A <a@example.com> 1700000000 +0000\ncommitter A <a@example.com> 1700000000 +0000\n\n"+commitMsg)
	r.Git("update-ref", "refs/heads/main", commit)
	notes := filepath.Join(t.TempDir(), "notes.gz")
	if err := os.WriteFile(notes, []byte(gzipText(t, "release\n\nLOFTY_API_KEY="+inTag+"\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Git("tag", "-a", "--cleanup=verbatim", "-F", notes, "v1") // stripping its trailing blank lines would cut the stream
	want := map[string]struct {
		loc  finding.Location
		line int
	}{inCommit: {finding.InCommitMessage, 2}, inTag: {finding.InTagMessage, 3}}
	for _, opts := range []HistoryOptions{{}, {Refs: []string{"main", "v1"}, Exclude: []string{base}}} {
		c := &scanner.Collector{}
		if _, err := ScanHistory(t.Context(), scanner.New(scanner.DefaultOptions()), repoOf(r), opts, c); err != nil {
			t.Fatal(err)
		}
		got := map[string]finding.Finding{}
		for _, f := range c.Sorted() {
			got[f.Secret] = f
		}
		for key, w := range want {
			f, ok := got[key]
			switch {
			case !ok:
				t.Errorf("%+v: the key in the compressed %s is not found", opts, w.loc)
			case f.Location != w.loc || f.Line != w.line || f.Path != "" || f.Commit != commit:
				t.Errorf("%+v: the key in the compressed %s found in %s at %q line %d, commit %.7s; want line %d, no path, commit %.7s",
					opts, w.loc, f.Location, f.Path, f.Line, f.Commit, w.line, commit)
			}
		}
		if len(c.Warnings) != 0 {
			t.Errorf("%+v: warnings %v", opts, c.Warnings)
		}
	}
}

// gzipText is text compressed with gzip.
func gzipText(t *testing.T, text string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
