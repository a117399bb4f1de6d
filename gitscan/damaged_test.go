package gitscan

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// damagedZlib returns the zlib stream of head and then tail, damaged as
// how says: "mid", an invalid block right after head (the deflate data
// cannot go on); "cut", the stream cut after head; "checksum", the
// Adler-32 checksum at its end wrong (the content whole); "" sound.
func damagedZlib(head, tail []byte, how string) []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(head)
	zw.Flush() // tail starts on a byte of its own
	at := z.Len()
	zw.Write(tail)
	zw.Close()
	b := z.Bytes()
	switch how {
	case "mid":
		b[at] = 0x07 // a final block of the reserved type 3
	case "cut":
		b = b[:at]
	case "checksum":
		b[len(b)-1] ^= 1
	}
	return b
}

// damagedCase is one damaged object of TestGitDamagedObjects.
type damagedCase struct {
	name  string
	loose bool
	how   string // as damagedZlib, or "short": a packed object whose stream ends before its header's size
	typ   plumbing.ObjectType
	reach string // "": nothing holds it; "tree": a commit's tree, at broken.env; "ref": a branch; "index": the index, at staged.env
	// What a full scan reports of it: the keys before and after the
	// damage (a blob's), the path of its findings and warning ("hash":
	// its hash), and what its one warning says ("": none).
	before, after bool
	path          string
	warn          []string
}

// TestGitDamagedObjects damages objects of a repository by hand, in packs
// and loose, reachable and not: a full scan names each object that
// cannot be read wholly in one warning, counted as an error (a blob at
// its path when a commit or the index holds it), scans a damaged blob up
// to the damage and reports what it holds before it, and reports the
// other keys; whatever the number of workers, swept or read one by one.
// A packed object's zlib checksum is not verified (git fsck's job): one
// whose checksum alone is wrong is scanned whole without a warning. A
// loose object's is (Go's zlib reader does).
func TestGitDamagedObjects(t *testing.T) {
	t.Parallel()
	cases := []damagedCase{
		{name: "packed blob, corrupt", how: "mid", typ: plumbing.BlobObject, before: true, path: "hash", warn: []string{"not wholly scanned", "before the damage", "git fsck", "no commit holds"}},
		{name: "packed blob, short", how: "short", typ: plumbing.BlobObject, before: true, after: true, path: "hash", warn: []string{"not wholly scanned", "git fsck"}},
		{name: "packed blob, checksum", how: "checksum", typ: plumbing.BlobObject, before: true, after: true, path: "hash"},
		{name: "packed blob in a commit, corrupt", how: "mid", typ: plumbing.BlobObject, reach: "tree", before: true, path: "broken.env", warn: []string{"not wholly scanned", "git fsck", "(in commit "}},
		{name: "loose blob, cut", loose: true, how: "cut", typ: plumbing.BlobObject, before: true, path: "hash", warn: []string{"not wholly scanned", "git fsck"}},
		{name: "loose blob in the index, corrupt", loose: true, how: "mid", typ: plumbing.BlobObject, reach: "index", before: true, path: "staged.env", warn: []string{"not wholly scanned", "git fsck"}},
		{name: "loose blob, checksum", loose: true, how: "checksum", typ: plumbing.BlobObject, before: true, after: true, path: "hash", warn: []string{"checksum does not match", "scanned whole", "git fsck"}},
		{name: "packed commit, corrupt", how: "mid", typ: plumbing.CommitObject, warn: []string{"commit ", "cannot be read wholly", "git fsck"}},
		{name: "packed tag, cut", how: "cut", typ: plumbing.TagObject, warn: []string{"tag ", "cannot be read wholly", "git fsck"}},
		{name: "loose commit, checksum", loose: true, how: "checksum", typ: plumbing.CommitObject, warn: []string{"commit ", "cannot be read wholly", "zlib: invalid checksum", "git fsck"}},
		{name: "loose tree, corrupt", loose: true, how: "mid", typ: plumbing.TreeObject, warn: []string{"tree ", "cannot be read wholly", "git fsck"}},
		{name: "loose commit a branch names, cut", loose: true, how: "cut", typ: plumbing.CommitObject, reach: "ref", warn: []string{"commit ", "missing or corrupt", "git fsck"}},
	}
	r := testgit.New(t, "")
	good := gitTestKey("sound")
	r.Write("good.env", "LOFTY_API_KEY="+good+"\n")
	base := r.Commit("sound")
	r.Git("repack", "-a", "-d", "-q")
	objects := filepath.Join(r.Dir, ".git", "objects")
	type made struct {
		c             damagedCase
		h             plumbing.Hash
		before, after string // keys
	}
	var all []made
	for i, c := range cases {
		m := made{c: c, before: gitTestKey(fmt.Sprintf("before-%d", i)), after: gitTestKey(fmt.Sprintf("after-%d", i))}
		head := []byte("LOFTY_API_KEY=" + m.before + "\n")
		var tail bytes.Buffer
		for tail.Len() < 16<<10 {
			fmt.Fprintf(&tail, "line %d of case %d, after the damage\n", tail.Len(), i)
		}
		tail.WriteString("LOFTY_API_KEY=" + m.after + "\n")
		rest := tail.Bytes()
		when := fmt.Sprintf("%d +0000", r.Now().Unix())
		switch c.typ {
		case plumbing.CommitObject:
			head = append([]byte("tree "+r.Git("rev-parse", "HEAD^{tree}")+"\nparent "+base+
				"\nauthor Ada Author <ada@example.com> "+when+"\ncommitter Cy Committer <cy@example.com> "+when+"\n\n"), head...)
		case plumbing.TagObject:
			head = append([]byte("object "+base+"\ntype commit\ntag v1\ntagger Ada Author <ada@example.com> "+when+"\n\n"), head...)
		case plumbing.TreeObject:
			var tr bytes.Buffer
			for k := range 400 {
				fmt.Fprintf(&tr, "100644 file%04d\x00%s", k, bytes.Repeat([]byte{byte(i), byte(k)}, 10))
			}
			head, rest = tr.Bytes()[:tr.Len()/2], tr.Bytes()[tr.Len()/2:]
		}
		content := append(slices.Clip(head), rest...)
		m.h = testgit.ObjectName(c.typ, content)
		if c.loose {
			hdr := fmt.Sprintf("%s %d\x00", c.typ, len(content))
			p := filepath.Join(objects, m.h.String()[:2], m.h.String()[2:])
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, damagedZlib(append([]byte(hdr), head...), rest, c.how), 0o444); err != nil {
				t.Fatal(err)
			}
		} else {
			o := testgit.Object{Type: c.typ, Name: m.h, Size: int64(len(content))}
			if c.how == "short" {
				o.Raw = damagedZlib(content, nil, "")
				o.Size += 100
			} else {
				o.Raw = damagedZlib(head, rest, c.how)
			}
			objs := []testgit.Object{o}
			if c.reach == "tree" {
				tree := append([]byte("100644 broken.env\x00"), m.h[:]...)
				objs = append(objs, testgit.Object{Type: plumbing.TreeObject, Data: tree}, testgit.Object{Type: plumbing.CommitObject, Data: []byte(
					"tree " + testgit.ObjectName(plumbing.TreeObject, tree).String() + "\nparent " + base +
						"\nauthor Ada Author <ada@example.com> " + when + "\ncommitter Cy Committer <cy@example.com> " + when + "\n\nbroken\n")})
			}
			names := testgit.WritePack(t, objects, objs)
			if c.reach == "tree" {
				r.Git("update-ref", "refs/heads/broken-blob", names[2].String())
			}
		}
		switch c.reach {
		case "ref": // git will not point a ref at it
			if err := os.WriteFile(filepath.Join(r.Dir, ".git", "refs", "heads", "broken-commit"), []byte(m.h.String()+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		case "index":
			r.Git("update-index", "--add", "--info-only", "--cacheinfo", "100644,"+m.h.String()+",staged.env")
		}
		all = append(all, m)
	}
	repo := repoOf(r)
	check := func(t *testing.T, got []finding.Finding, c *scanner.Collector, st finding.Stats) {
		t.Helper()
		keys := map[string]string{} // key → path
		for _, f := range got {
			keys[f.Secret] = f.Path
		}
		if keys[good] != "good.env" {
			t.Errorf("the sound file's key: at %q", keys[good])
		}
		warned := 0
		for _, m := range all {
			path := m.c.path
			if path == "hash" {
				path = m.h.String()
			}
			for _, k := range []struct {
				key  string
				want bool
			}{{m.before, m.c.before}, {m.after, m.c.after}} {
				if p, ok := keys[k.key]; ok != k.want || ok && p != path {
					t.Errorf("%s: a key %s damage: found %v at %q; want found %v at %q", m.c.name, map[bool]string{true: "before the", false: "after the"}[k.key == m.before], ok, p, k.want, path)
				}
			}
			var ws []finding.Warning
			for _, w := range c.Warnings {
				if strings.Contains(w.Path+" "+w.Message, m.h.String()) {
					ws = append(ws, w)
				}
			}
			if len(m.c.warn) == 0 {
				if len(ws) != 0 {
					t.Errorf("%s: warnings %v; want none", m.c.name, ws)
				}
				continue
			}
			warned++
			if len(ws) != 1 {
				t.Errorf("%s (%s): %d warnings %v; want one", m.c.name, m.h, len(ws), ws)
				continue
			}
			w := ws[0]
			if path != "" && w.Path != path {
				t.Errorf("%s: warning at %q; want %q", m.c.name, w.Path, path)
			}
			for _, s := range m.c.warn {
				if !strings.Contains(w.Message, s) {
					t.Errorf("%s: warning %q does not say %q", m.c.name, w.Message, s)
				}
			}
		}
		if len(c.Warnings) != warned || st.Errors != int64(warned) || st.Warnings != int64(warned) {
			t.Errorf("%d warnings, stats %d errors and %d warnings; want %d of each: %v", len(c.Warnings), st.Errors, st.Warnings, warned, c.Warnings)
		}
	}
	for _, tc := range []struct {
		name    string
		tune    tuning
		workers int
	}{
		{"swept first, 1 worker", tuning{}, 1},
		{"swept first, 4 workers", tuning{}, 4},
		{"walked first, swept", tuning{mode: readSweep}, 2},
		{"walked first, one by one", tuning{mode: readOneByOne}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, c, st := scanWith(t, repo, HistoryOptions{}, tc.tune, tc.workers)
			check(t, got, c, st)
		})
	}
	// A range reads only the commits it selects: the damaged blob of one
	// is named at its path, nothing else is read.
	t.Run("range", func(t *testing.T) {
		got, c, st := scanWith(t, repo, HistoryOptions{Refs: []string{"broken-blob"}, Exclude: []string{base}}, tuning{}, 2)
		for _, m := range all {
			if m.c.reach != "tree" {
				continue
			}
			if len(got) != 1 || got[0].Secret != m.before || got[0].Path != "broken.env" {
				t.Errorf("findings %v; want the key before the damage at broken.env", got)
			}
			if len(c.Warnings) != 1 || c.Warnings[0].Path != "broken.env" || !strings.Contains(c.Warnings[0].Message, m.h.String()) || st.Errors != 1 {
				t.Errorf("warnings %v, %d errors; want one about %s at broken.env", c.Warnings, st.Errors, m.h)
			}
		}
	})
	// --since reads no blob that no commit holds; it still names the
	// damaged objects it reads: every commit and tag, the loose objects.
	t.Run("since", func(t *testing.T) {
		got, c, _ := scanWith(t, repo, HistoryOptions{Since: time.Unix(1, 0)}, tuning{}, 2)
		for _, m := range all {
			n := 0
			for _, w := range c.Warnings {
				if strings.Contains(w.Path+" "+w.Message, m.h.String()) {
					n++
				}
			}
			want := len(m.c.warn) > 0 && (m.c.loose || m.c.typ != plumbing.BlobObject || m.c.reach == "tree")
			if n != map[bool]int{true: 1}[want] {
				t.Errorf("%s: %d warnings; want %v", m.c.name, n, map[bool]int{true: 1}[want])
			}
			if m.c.reach == "tree" && !slices.ContainsFunc(got, func(f finding.Finding) bool { return f.Secret == m.before && f.Path == "broken.env" }) {
				t.Errorf("%s: the key before the damage is not reported at broken.env", m.c.name)
			}
		}
	})
}

// TestDamagedOrphanBlobWorkers is TestDamagedBlobWorkers for a blob no
// commit holds: damaged past its key, 4.5 MiB, held in memory by one
// worker (its decoding fails, and it is read again as a stream) and
// streamed at once by 64 (over a worker's share). Either way the key before
// the damage is reported, at the blob's hash, with the same one warning.
func TestDamagedOrphanBlobWorkers(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	r.Write("a.txt", "nothing\n")
	r.Commit("one")
	r.Git("repack", "-a", "-d", "-q")
	key := gitTestKey("orphan-big")
	head := []byte("LOFTY_API_KEY=" + key + "\n")
	var tail bytes.Buffer
	for tail.Len() < 9<<19 {
		fmt.Fprintf(&tail, "line %d after the damage\n", tail.Len())
	}
	content := append(slices.Clip(head), tail.Bytes()...)
	h := testgit.ObjectName(plumbing.BlobObject, content)
	testgit.WritePack(t, filepath.Join(r.Dir, ".git", "objects"), []testgit.Object{
		{Type: plumbing.BlobObject, Name: h, Size: int64(len(content)), Raw: damagedZlib(head, tail.Bytes(), "mid")},
	})
	repo := repoOf(r)
	one, c1, st1 := scanWith(t, repo, HistoryOptions{}, tuning{}, 1)
	if len(one) != 1 || one[0].Secret != key || one[0].Path != h.String() || !one[0].Unreachable {
		t.Errorf("1 worker: findings %v; want the key before the damage, at %s", one, h)
	}
	if w := warningKeys(c1); len(w) != 1 || !strings.Contains(w[0], h.String()+": blob "+h.String()+" is corrupt") || st1.Errors != 1 {
		t.Errorf("1 worker: warnings %q, %d errors; want one that names the blob", w, st1.Errors)
	}
	many, c64, _ := scanWith(t, repo, HistoryOptions{}, tuning{}, 64)
	compareFindings(t, "64 workers against 1", one, many)
	if w1, w64 := warningKeys(c1), warningKeys(c64); !slices.Equal(w1, w64) {
		t.Errorf("warnings differ: 1 worker %q, 64 workers %q", w1, w64)
	}
}

// TestReportDamagedWhileAWorkerAdds: a scan stopped by a signal or
// --timeout leaves behind a worker blocked in a read (readEach), which may
// find a damaged object and record it while reportDamaged names the
// others; reportDamaged read the list outside its lock (a data race under
// -race; without it, now and then "concurrent map read and map write",
// which ends the process before any report).
func TestReportDamagedWhileAWorkerAdds(t *testing.T) {
	t.Parallel()
	g := &gitRepo{}
	for i := range 100 {
		g.damage.add(plumbing.Hash{0, byte(i)}, plumbing.CommitObject, fmt.Errorf("damaged %d", i))
	}
	done := make(chan struct{})
	go func() { // the worker left behind
		defer close(done)
		for i := range 2000 {
			g.damage.add(plumbing.Hash{1, byte(i), byte(i >> 8)}, plumbing.TagObject, fmt.Errorf("damaged %d", i))
		}
	}()
	c := &scanner.Collector{}
	for range 20 {
		g.reportDamaged(scanner.New(scanner.DefaultOptions()).Start(c))
	}
	<-done
	if len(c.Warnings) < 20*100 {
		t.Errorf("%d warnings; want each of the first 100 objects named in each of 20 reports", len(c.Warnings))
	}
}
