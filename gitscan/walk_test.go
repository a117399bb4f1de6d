package gitscan

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// The walk is checked against the walk it replaced (referenceWalk): every
// tree of every selected commit, each once, a map entry per tree and
// blob, the boundary's trees first. Both must find the same new blobs,
// each at the same commit and path.

// referenceWalk registers every blob the selection introduced: the first
// commit, in the selection's order, and path, in tree order, that held it,
// for blobs no boundary commit holds (at a path skip does not skip).
func referenceWalk(t testing.TB, g *gitRepo, sel *selection, skip func(string, bool) bool) map[plumbing.Hash]blobOrigin {
	t.Helper()
	seenTrees := map[plumbing.Hash]bool{}
	seenBlobs := map[plumbing.Hash]bool{}
	out := map[plumbing.Hash]blobOrigin{}
	commit := -1
	var walk func(h plumbing.Hash, dir string)
	walk = func(h plumbing.Hash, dir string) {
		g.treeEntries(h, func(name []byte, mode filemode.FileMode, eh plumbing.Hash) {
			p := dir + string(name)
			switch {
			case mode.IsFile():
				if seenBlobs[eh] || (skip != nil && skip(p, false)) {
					return
				}
				seenBlobs[eh] = true
				if commit >= 0 {
					out[eh] = blobOrigin{commit: commit, path: finding.ValidPath(p)}
				}
			case mode == filemode.Dir:
				// With a filter, every path of a tree is walked: what
				// it skips depends on the path.
				if (seenTrees[eh] && skip == nil) || (skip != nil && skip(p, true)) {
					return
				}
				seenTrees[eh] = true
				walk(eh, p+"/")
			}
		})
	}
	root := func(h plumbing.Hash) {
		if !seenTrees[h] || skip != nil {
			seenTrees[h] = true
			walk(h, "")
		}
	}
	for _, b := range sel.boundary {
		root(sel.tree(&b))
	}
	for i := range sel.commits {
		commit = i
		root(sel.tree(&sel.commits[i]))
	}
	return out
}

// checkWalk compares the walk of set with the reference walk.
func checkWalk(t *testing.T, what string, r *testgit.Repo, set revSet, skip func(string, bool) bool) {
	t.Helper()
	g, err := repoOf(r).open(tuning{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	o := scanner.DefaultOptions()
	o.Skip = skip
	c := &scanner.Collector{}
	run := scanner.New(o).Start(c)
	sel, err := g.selectCommits(context.Background(), run, set)
	if err != nil {
		t.Fatal(err)
	}
	want := referenceWalk(t, g, sel, skip)
	gs := newGitSink(c)
	w := g.walkHistory(context.Background(), run, gs, sel)
	ctx := context.Background()
	got := map[plumbing.Hash]bool{}
	for _, h := range w.blobs {
		if got[h] {
			t.Errorf("%s: blob %s registered twice", what, h)
		}
		got[h] = true
	}
	extra := 0
	for h := range got {
		if _, ok := want[h]; ok {
			continue
		}
		if !w.inBoundary(ctx, h) {
			o, _ := w.origin(h)
			t.Errorf("%s: blob %s at %s (commit %d) is new to the walk only", what, h, o.path, o.commit)
		}
		extra++
	}
	w.originsOf(w.blobs)
	for h, wo := range want {
		if !got[h] {
			t.Errorf("%s: blob %s at %s (commit %d) not registered", what, h, wo.path, wo.commit)
			continue
		}
		if o, ok := w.origin(h); !ok || o != wo {
			t.Errorf("%s: blob %s at %s (commit %d), want %s (commit %d)", what, h, o.path, o.commit, wo.path, wo.commit)
		}
		if w.inBoundary(ctx, h) {
			t.Errorf("%s: blob %s is new, but in the boundary", what, h)
		}
	}
	if len(c.Warnings) > 0 {
		t.Errorf("%s: warnings %v", what, c.Warnings)
	}
	t.Logf("%s: %d commits, %d blobs, %d of them a boundary commit's", what, len(sel.commits), len(want), extra)
}

// TestWalkMatchesReference walks random histories (merges, octopus merges,
// roots, renames of folders, reverts) whole, by ranges and by --since,
// with and without a filter of paths.
func TestWalkMatchesReference(t *testing.T) {
	t.Parallel()
	r, commits := walkHistoryFixture(t, 11, 250)
	rng := rand.New(rand.NewPCG(11, 2))
	skip := func(p string, dir bool) bool {
		return strings.HasSuffix(p, "f3.txt") || (dir && path.Base(p) == "d2")
	}
	for _, sk := range []func(string, bool) bool{nil, skip} {
		name := "no filter"
		if sk != nil {
			name = "filter"
		}
		checkWalk(t, name+": all", r, revSet{all: true}, sk)
		for range 15 {
			a, b := commits[rng.IntN(len(commits))], commits[rng.IntN(len(commits))]
			checkWalk(t, fmt.Sprintf("%s: %.7s..%.7s", name, a, b), r, revSet{include: []plumbing.Hash{plumbing.NewHash(b)}, exclude: []plumbing.Hash{plumbing.NewHash(a)}}, sk)
		}
		for range 5 {
			since := time.Unix(testgit.Epoch.Unix()+int64(rng.IntN(250))*600, 0)
			checkWalk(t, fmt.Sprintf("%s: since %v", name, since), r, revSet{all: true, since: since}, sk)
		}
	}
}

// walkHistoryFixture is a random history in which folders are renamed and
// files go back to older contents, so that trees and blobs come again
// under other paths and commits.
func walkHistoryFixture(t testing.TB, seed uint64, n int) (*testgit.Repo, []string) {
	r, commits := randomHistory(t, seed, n, mildSkew, 17)
	// On top, commits that move a folder, bring back an old file and
	// copy one folder into another.
	wt := t.TempDir() + "/wt"
	r.GitIn(t.TempDir(), "clone", "-q", r.Dir, wt)
	w := r.At(t, wt)
	w.Git("checkout", "-q", "-B", "work", commits[len(commits)-1])
	files := strings.Fields(w.Git("ls-files"))
	if len(files) > 0 {
		dir := path.Dir(files[0])
		w.Git("mv", dir, "moved-"+path.Base(dir))
		w.Commit("move a folder")
		w.Git("checkout", commits[n/3], "--", ".")
		w.Commit("bring back old contents")
		w.Git("rm", "-r", "-q", "--cached", ".")
		w.Git("checkout", commits[n/2], "--", ".")
		w.Commit("back again")
	}
	w.Git("push", "-q", "origin", "work")
	for _, c := range strings.Fields(w.Git("rev-list", "-3", "work")) {
		commits = append(commits, c)
	}
	return r, commits
}

// FuzzEntryLen: entryLen says where nextEntry's entry ends, and fails
// where it fails, whatever the bytes (a crafted tree).
func FuzzEntryLen(f *testing.F) {
	for _, s := range []string{
		"100644 a.env\x00" + strings.Repeat("\x01", 20) + "40000 d\x00" + strings.Repeat("\x02", 20),
		"40000 \x00" + strings.Repeat("x", 20), "1006448 a\x00" + strings.Repeat("y", 20), " a\x00",
		"100644 a\x00short", "10a644 b\x00" + strings.Repeat("z", 20), "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, wantLen, wantOK := specEntry(b)
		e, rest, ok := nextEntry(b)
		if ok != wantOK || (ok && (len(b)-len(rest) != wantLen || e.mode != want.mode || string(e.name) != string(want.name) || e.hash != want.hash)) {
			t.Errorf("nextEntry(%q) = %v %d %v; the format says %v %d %v", b, e, len(b)-len(rest), ok, want, wantLen, wantOK)
		}
		n, lok := entryLen(b)
		if lok != wantOK || (lok && n != wantLen) {
			t.Errorf("entryLen(%q) = %d, %v; the format says %d, %v", b, n, lok, wantLen, wantOK)
		}
	})
}

// specEntry parses a tree entry as plainly as its format reads: "<one to
// seven octal digits> <name>\x00<20-byte hash>".
func specEntry(b []byte) (treeEntry, int, bool) {
	var e treeEntry
	sp := bytes.IndexByte(b, ' ')
	if sp < 1 || sp > 7 {
		return e, 0, false
	}
	m, err := strconv.ParseUint(string(b[:sp]), 8, 32)
	if err != nil || strings.ContainsAny(string(b[:sp]), "+-_") {
		return e, 0, false
	}
	nul := bytes.IndexByte(b[sp+1:], 0)
	if nul < 0 || len(b) < sp+1+nul+1+hashLen {
		return e, 0, false
	}
	e.mode, e.name = specCanonMode(m), b[sp+1:sp+1+nul]
	copy(e.hash[:], b[sp+1+nul+1:])
	return e, sp + 1 + nul + 1 + hashLen, true
}

// specCanonMode is git's canon_mode (cache.h), which every walk of a tree
// applies to the mode an entry is written with: the type bits decide, and
// a file is executable when its owner may run it.
func specCanonMode(m uint64) filemode.FileMode {
	const typeBits, regular, link, dir = 0o170000, 0o100000, 0o120000, 0o040000
	switch m & typeBits {
	case regular:
		if m&0o100 != 0 {
			return 0o100755
		}
		return 0o100644
	case link:
		return 0o120000
	case dir:
		return 0o040000
	}
	return 0o160000
}
