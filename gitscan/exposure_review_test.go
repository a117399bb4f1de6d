package gitscan

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// rawTree writes a tree of the given bytes as they are, unchecked.
func rawTree(t *testing.T, r *testgit.Repo, data []byte) plumbing.Hash {
	t.Helper()
	out, err := r.Cmd(string(data), nil, "hash-object", "-t", "tree", "-w", "--literally", "--stdin").CombinedOutput()
	if err != nil {
		t.Fatalf("hash-object tree: %v\n%s", err, out)
	}
	return plumbing.NewHash(strings.TrimSpace(string(out)))
}

// rawEntry is one tree entry's bytes, the mode as given (it may not parse).
func rawEntry(mode, name string, h plumbing.Hash) []byte {
	return append([]byte(mode+" "+name+"\x00"), h[:]...)
}

// commitChain commits trees one on the other on refs/heads/main, HEAD on
// it, and returns the commits.
func commitChain(r *testgit.Repo, trees ...plumbing.Hash) []string {
	var out []string
	parent := ""
	for i, tr := range trees {
		var ps []string
		if parent != "" {
			ps = []string{parent}
		}
		parent = r.CommitTree(tr.String(), ps, testgit.Epoch.Unix()+int64(i)*60, fmt.Sprint("commit ", i))
		out = append(out, parent)
	}
	r.Git("update-ref", "refs/heads/main", parent)
	r.Git("symbolic-ref", "HEAD", "refs/heads/main")
	return out
}

// TestExposureCarryMalformedCommonEntry checks an entry that does not
// parse, alike in a tree and its parent's version: counted whole, a tree
// ends at such an entry, so the comparison must not skip it as common and
// compare the entries after it (which the counts never held).
func TestExposureCarryMalformedCommonEntry(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	out, err := r.Cmd("LOFTY_API_KEY="+gitTestKey("malformed-common")+"\n", nil, "hash-object", "-w", "--stdin").CombinedOutput()
	if err != nil {
		t.Fatalf("hash-object: %v\n%s", err, out)
	}
	key := plumbing.NewHash(strings.TrimSpace(string(out)))
	first := rawEntry("100644", "0", key)
	bad := rawEntry("10x644", "q", key) // not an octal mode
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	commitChain(r,
		rawTree(t, r, cat(first, bad, rawEntry("100644", "a", key))), // holds the key once: the tree ends at bad
		rawTree(t, r, cat(first, bad)),                               // still holds it (0)
		rawTree(t, r, first),                                         // a well-formed tree that holds it
	)
	for _, partial := range []bool{false, true} {
		x := exposerAfterScan(t, repoOf(r), partial)
		if n := checkCarryOracle(t, fmt.Sprint("malformed common entry, paths followed ", partial), x); n == 0 {
			t.Error("no commit carries the key")
		}
	}
}

// slidingChain writes, in one pack, a chain of trees nested length deep
// (each holds a folder "d" with the next; the deepest holds key as
// "leaf.txt") and commits: a first one whose tree holds key as "key.env"
// and the chain as "d", then one for each of n trees of the chain in turn from the start-th,
// each on the one before. Each commit's tree is a folder of its parent's:
// compared with its parent's, every folder on the way differs, to the
// depth bound.
func slidingChain(t *testing.T, r *testgit.Repo, start, n, length int, key []byte) {
	t.Helper()
	entry := func(mode, name string, h plumbing.Hash) []byte {
		return append([]byte(mode+" "+name+"\x00"), h[:]...)
	}
	kh := testgit.ObjectName(plumbing.BlobObject, key)
	objs := []testgit.Object{{Type: plumbing.BlobObject, Data: key}}
	chain := make([]plumbing.Hash, length)
	data := entry("100644", "leaf.txt", kh)
	for k := length - 1; k >= 0; k-- {
		objs = append(objs, testgit.Object{Type: plumbing.TreeObject, Data: data})
		chain[k] = testgit.ObjectName(plumbing.TreeObject, data)
		data = entry("40000", "d", chain[k])
	}
	first := append(entry("40000", "d", chain[0]), entry("100644", "key.env", kh)...)
	objs = append(objs, testgit.Object{Type: plumbing.TreeObject, Data: first})
	var c plumbing.Hash
	objs, c = appendCommit(objs, testgit.ObjectName(plumbing.TreeObject, first), c, 0)
	for i := range n {
		objs, c = appendCommit(objs, chain[start+i], c, i+1)
	}
	packOnMain(t, r, objs, c)
}

// commitText is a commit object's text: tree, parents (zero hashes left
// out), and the i-th minute after testgit.Epoch as its times.
func commitText(tree plumbing.Hash, i int, parents ...plumbing.Hash) []byte {
	s := "tree " + tree.String() + "\n"
	for _, p := range parents {
		if !p.IsZero() {
			s += "parent " + p.String() + "\n"
		}
	}
	when := testgit.Epoch.Unix() + int64(i)*60
	s += fmt.Sprintf("author A <a@example.com> %d +0000\ncommitter A <a@example.com> %d +0000\n\nc %d\n", when, when, i)
	return []byte(s)
}

// appendCommit adds the i-th commit of a chain, of tree on parent, to objs.
func appendCommit(objs []testgit.Object, tree, parent plumbing.Hash, i int) ([]testgit.Object, plumbing.Hash) {
	data := commitText(tree, i, parent)
	return append(objs, testgit.Object{Type: plumbing.CommitObject, Data: data}), testgit.ObjectName(plumbing.CommitObject, data)
}

// packOnMain writes objs as a pack and points main, and HEAD, at tip.
func packOnMain(t *testing.T, r *testgit.Repo, objs []testgit.Object, tip plumbing.Hash) {
	t.Helper()
	testgit.WritePack(t, r.ObjectsDir(), objs)
	r.Git("update-ref", "refs/heads/main", tip.String())
	r.Git("symbolic-ref", "HEAD", "refs/heads/main")
}

// TestExposureCarrySlidingChainBounded checks that a crafted history
// whose every commit's tree is a folder of its parent's does not make the
// comparison with first parents walk the whole depth bound at each
// commit: the work stays within a few steps per tree and commit, as the
// history walk's (which walks a tree once). Near the top of the chain,
// the first commit counted the trees whole; deeper, it did not.
func TestExposureCarrySlidingChainBounded(t *testing.T) {
	if raceBuild {
		t.Skip("walks chains past the exposure depth bound (25 s under -race): .ci/run runs it without -race")
	}
	t.Parallel()
	const n = 300
	for _, start := range []int{1, maxExposureDepth + 100} {
		r := testgit.New(t, "")
		trees := start + n + maxExposureDepth + 100
		slidingChain(t, r, start, n, trees, []byte("LOFTY_API_KEY="+gitTestKey("sliding")+"\n"))
		x := exposerAfterScan(t, repoOf(r), false)
		d := newCarryDiff(x, context.Background())
		files := d.commitFiles()
		if limit := 8 * (trees + x.graph.len()); d.work > limit {
			t.Errorf("start %d: %d steps for %d commits and %d trees; want at most %d", start, d.work, x.graph.len(), trees, limit)
		}
		// The key is in the first commit only: below the others' depth bound.
		for i := range files {
			if want := i == 0; (files[i] != 0) != want {
				t.Errorf("start %d: commit %d of %d carries keys %v, want the key %v", start, i, len(files), x.sets.members(files[i]), want)
			}
		}
	}
}

// TestExposureCarryAlternatingTreesBounded checks a crafted history whose
// commits have, in turn, one of two trees of many files that all differ:
// the history walk reads each tree once, and so must the comparison with
// first parents, whether it counts every file or follows the paths keys
// were found at.
func TestExposureCarryAlternatingTreesBounded(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	const files, n = 2000, 200
	key := []byte("LOFTY_API_KEY=" + gitTestKey("alternating") + "\n")
	objs := []testgit.Object{{Type: plumbing.BlobObject, Data: key}}
	var trees [2]plumbing.Hash
	for side := range trees {
		var data []byte
		for i := range files {
			blob := []byte(fmt.Sprintf("side %d file %d\n", side, i))
			objs = append(objs, testgit.Object{Type: plumbing.BlobObject, Data: blob})
			data = append(data, rawEntry("100644", fmt.Sprintf("f%04d", i), testgit.ObjectName(plumbing.BlobObject, blob))...)
		}
		data = append(data, rawEntry("100644", "key.env", testgit.ObjectName(plumbing.BlobObject, key))...)
		objs = append(objs, testgit.Object{Type: plumbing.TreeObject, Data: data})
		trees[side] = testgit.ObjectName(plumbing.TreeObject, data)
	}
	var c plumbing.Hash
	for i := range n {
		objs, c = appendCommit(objs, trees[i%2], c, i)
	}
	packOnMain(t, r, objs, c)
	for _, partial := range []bool{false, true} {
		x := exposerAfterScan(t, repoOf(r), partial)
		d := newCarryDiff(x, context.Background())
		got := d.commitFiles()
		if limit := 8 * (2*files + n); d.work > limit {
			t.Errorf("paths followed %v: %d steps for %d commits of two trees of %d files; want at most %d", partial, d.work, n, files, limit)
		}
		for i := range got {
			if got[i] == 0 {
				t.Errorf("paths followed %v: commit %d does not carry the key", partial, i)
			}
		}
	}
}

// stopsAfter is a context whose Err reports it done from its n-th call on.
type stopsAfter struct {
	context.Context
	calls, n int
}

func (c *stopsAfter) Err() error {
	if c.calls++; c.calls >= c.n {
		return context.Canceled
	}
	return nil
}

// TestExposureCarryStopsAfterARead: the comparison asks its context once
// every 256 steps, but a step may read a tree, which a crafted one makes
// costly: a read from the store has the next step ask, so that a stopped
// scan reads one more tree pair at most, not a few hundred.
func TestExposureCarryStopsAfterARead(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	const n = 300
	key := []byte("LOFTY_API_KEY=" + gitTestKey("stops") + "\n")
	objs := []testgit.Object{{Type: plumbing.BlobObject, Data: key}}
	var c plumbing.Hash
	for i := range n {
		blob := []byte(fmt.Sprintf("file %d\n", i))
		sub := rawEntry("100644", "f", testgit.ObjectName(plumbing.BlobObject, blob))
		root := append(rawEntry("40000", "d", testgit.ObjectName(plumbing.TreeObject, sub)), rawEntry("100644", "key.env", testgit.ObjectName(plumbing.BlobObject, key))...)
		objs = append(objs, testgit.Object{Type: plumbing.BlobObject, Data: blob},
			testgit.Object{Type: plumbing.TreeObject, Data: sub}, testgit.Object{Type: plumbing.TreeObject, Data: root})
		objs, c = appendCommit(objs, testgit.ObjectName(plumbing.TreeObject, root), c, i)
	}
	packOnMain(t, r, objs, c)
	x := exposerAfterScan(t, repoOf(r), false)
	d := newCarryDiff(x, &stopsAfter{Context: context.Background(), n: 2}) // done from its second ask
	d.commitFiles()
	if d.reads > 4 {
		t.Errorf("%d trees read once the scan was stopped, want a pair or two", d.reads)
	}
	if all := newCarryDiff(x, context.Background()); all.commitFiles() != nil && all.reads < n {
		t.Errorf("%d trees read by a whole comparison of %d commits: the test reads too few to tell", all.reads, n)
	}
}

// TestExposureLastOnLine checks the newest carrier of each key on each
// commit's first-parent line, worked out at once for a key, against a
// walk down that line, on random histories with merges.
func TestExposureLastOnLine(t *testing.T) {
	t.Parallel()
	r, _ := randomHistory(t, 5, 160, mildSkew, 5)
	x := exposerAfterScan(t, repoOf(r), false)
	x.carry = x.commitCounts(context.Background())
	x.flow()
	found := 0
	for _, key := range []int{0, 1, 0, 2, 1} { // keys met again after another
		if key >= len(x.keys) {
			continue
		}
		for i := range x.graph.len() {
			h := x.graph.hash(i)
			want := ""
			for j := i; j >= 0; j = x.firstParent(j) {
				if x.sets.has(x.carry[j], key) {
					want = x.graph.hash(j).String()
					break
				}
			}
			if got := x.lastOnLine(h, key); got != want {
				t.Errorf("key %d, commit %s: last on line %q, want %q", key, h, got, want)
			}
			if want != "" {
				found++
			}
		}
	}
	if found == 0 {
		t.Error("no commit has a carrier on its line: the history does not test it")
	}
}

// TestExposureCarryMissingObjects checks the comparison against the
// oracle where trees are missing from the repository (a folder, a whole
// commit's tree) and where a merge's first parent is: the commit is then
// compared with the parent that is there (the selection leaves the other
// out, as before), and a missing tree counts as empty on either side.
func TestExposureCarryMissingObjects(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	out, err := r.Cmd("LOFTY_API_KEY="+gitTestKey("missing")+"\n", nil, "hash-object", "-w", "--stdin").CombinedOutput()
	if err != nil {
		t.Fatalf("hash-object: %v\n%s", err, out)
	}
	key := plumbing.NewHash(strings.TrimSpace(string(out)))
	gone := plumbing.NewHash("00000000000000000000000000000000000000aa")
	sub := r.MkTree(testgit.TreeEntry{Mode: "100644", Hash: key, Name: "k.env"})
	trees := []plumbing.Hash{
		r.MkTree(testgit.TreeEntry{Mode: "040000", Hash: sub, Name: "a"}, testgit.TreeEntry{Mode: "100644", Hash: key, Name: "z.env"}),
		r.MkTree(testgit.TreeEntry{Mode: "040000", Hash: gone, Name: "a"}, testgit.TreeEntry{Mode: "100644", Hash: key, Name: "z.env"}), // a's tree missing
		gone, // the whole tree missing
		r.MkTree(testgit.TreeEntry{Mode: "040000", Hash: sub, Name: "a"}),
		r.MkTree(testgit.TreeEntry{Mode: "040000", Hash: gone, Name: "a"}, testgit.TreeEntry{Mode: "040000", Hash: sub, Name: "b"}),
	}
	// Commits written raw: git commit-tree refuses a missing tree or parent.
	rawCommit := func(tree string, parents []string, i int) string {
		var ps []plumbing.Hash
		for _, p := range parents {
			ps = append(ps, plumbing.NewHash(p))
		}
		out, err := r.Cmd(string(commitText(plumbing.NewHash(tree), i, ps...)), nil, "hash-object", "-t", "commit", "-w", "--literally", "--stdin").CombinedOutput()
		if err != nil {
			t.Fatalf("hash-object commit: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	var parents []string
	for i, tr := range trees {
		c := rawCommit(tr.String(), parents, i)
		parents = []string{c}
	}
	r.Git("update-ref", "refs/heads/main", parents[0])
	r.Git("symbolic-ref", "HEAD", "refs/heads/main")
	// A merge whose first parent is not in the repository.
	merge := rawCommit(trees[3].String(), []string{"00000000000000000000000000000000000000bb", parents[0]}, len(trees))
	r.Git("update-ref", "refs/heads/side", merge)
	for _, partial := range []bool{false, true} {
		x := exposerAfterScan(t, repoOf(r), partial)
		if n := checkCarryOracle(t, fmt.Sprint("missing objects, paths followed ", partial), x); n == 0 {
			t.Error("no commit carries the key")
		}
		if _, ok := x.graph.find(plumbing.NewHash(merge)); !ok {
			t.Errorf("paths followed %v: the merge is not in the graph", partial)
		}
	}
}

// TestExposureRangeInvalidUTF8Path checks a scan of a range that finds a
// key in a file whose name (and folder's) is not valid UTF-8: the paths
// followed are the tree's names, not the report's (which shows U+FFFD).
func TestExposureRangeInvalidUTF8Path(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	r.Write("README.md", "hello\n")
	root := r.Commit("first")
	key := gitTestKey("invalid-utf8")
	r.Write("caf\xe9/k\xff.env", "LOFTY_API_KEY="+key+"\n")
	added := r.Commit("add")
	r.Write("README.md", "hello again\n")
	r.Commit("more")
	got, _, _ := scanGit(t, repoOf(r), HistoryOptions{Refs: []string{added}, Exclude: []string{root}})
	f := findingOf(t, got, key)
	e := f.Exposure
	if e == nil || e.Commits != 2 || e.RefCount != 1 || len(e.Refs) != 1 || !e.Refs[0].InTip {
		t.Errorf("exposure %+v: want 2 commits carrying the key, and main holding it in its tip", e)
	}
}
