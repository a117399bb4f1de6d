package gitobj

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// Repository layouts the pack reader must read exactly as go-git does,
// built with the git CLI: loose objects, one pack with deep delta chains,
// several packs, a pack completed by fetch (reference deltas to bases
// appended after them), a thin pack whose bases are in another pack, and
// a partial clone with blobs missing.

// deltaHistory commits n versions of a few growing files, so that packs
// hold chains of deltas, with a key in one version of one file.
func deltaHistory(t *testing.T, r *gitTestRepo, n int, tag string) {
	t.Helper()
	for i := range n {
		r.write("src/main.go", string(lines("package main // "+tag, 40+i)))
		r.write("docs/notes.md", string(lines("note "+tag, 30+2*i)))
		if i == n/2 {
			r.write("config/app.env", "LOFTY_API_KEY="+gitTestKey("layout-"+tag)+"\n")
		}
		r.commit(tag + " commit")
	}
}

// allObjects lists every object in a repository, as git sees them.
func allObjects(t *testing.T, r *gitTestRepo) []plumbing.Hash {
	t.Helper()
	var out []plumbing.Hash
	for _, line := range strings.Split(r.git("cat-file", "--batch-all-objects", "--batch-check=%(objectname)"), "\n") {
		if line != "" {
			out = append(out, plumbing.NewHash(line))
		}
	}
	return out
}

// checkReader compares the pack reader with go-git on every object of the
// repository, and the sweep with the blobs it must deliver: all of them,
// each with bytes whose hash is its name.
func checkReader(t *testing.T, r *gitTestRepo, wantRefDeltas bool) {
	t.Helper()
	g, err := r.repository().open()
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	var blobs []plumbing.Hash
	refDeltas := 0
	for _, p := range g.store.packs {
		for i := range p.idx.count {
			if h, err := p.header(p.idx.offset(i)); err == nil && h.typ == plumbing.REFDeltaObject {
				refDeltas++
			}
		}
	}
	if wantRefDeltas && refDeltas == 0 {
		t.Errorf("the layout has no reference deltas to test")
	}
	rd := g.store.reader(1 << 20)
	for _, h := range allObjects(t, r) {
		typ, data, err := rd.read(h)
		if err != nil {
			t.Errorf("%s: %v", h, err)
			continue
		}
		obj, err := g.st.EncodedObject(plumbing.AnyObject, h)
		if err != nil {
			t.Fatalf("go-git cannot read %s: %v", h, err)
		}
		want, err := readObject(obj)
		if err != nil {
			t.Fatal(err)
		}
		if typ != obj.Type() || !bytes.Equal(data, want) {
			t.Errorf("%s: %v of %d bytes, go-git %v of %d", h, typ, len(data), obj.Type(), len(want))
		}
		if typ == plumbing.BlobObject {
			blobs = append(blobs, h)
		}
	}
	// go-git's own blob iteration, the slow path, lists the same blobs.
	iter, err := g.st.IterEncodedObjects(plumbing.BlobObject)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[plumbing.Hash]bool{} // go-git lists an object in two packs twice
	iter.ForEach(func(o plumbing.EncodedObject) error { listed[o.Hash()] = true; return nil })
	if len(listed) != len(blobs) {
		t.Errorf("go-git lists %d blobs, git %d", len(listed), len(blobs))
	}

	var mu sync.Mutex
	got := map[plumbing.Hash]int{}
	res := g.store.sweep(context.Background(), 3, func([]byte) bool { return true }, func(_ int, h plumbing.Hash, data []byte) {
		if objName(plumbing.BlobObject, data) != h {
			t.Errorf("sweep: %s has the wrong bytes", h)
		}
		mu.Lock()
		got[h]++
		mu.Unlock()
	})
	loose := 0
	for _, h := range blobs {
		if pi, _ := g.store.locate(h); pi < 0 {
			loose++ // loose objects are read one by one
			continue
		}
		if got[h] != 1 || !res.delivered(h) {
			t.Errorf("sweep: %s delivered %d times", h, got[h])
		}
	}
	t.Logf("%d objects, %d blobs (%d loose), %d packs, %d reference deltas", len(allObjects(t, r)), len(blobs), loose, len(g.store.packs), refDeltas)

	// Where files cannot be mapped (mapFile fails), packs are read with
	// ReadAt and inflated with compress/flate: the same bytes.
	unmapped := openObjectStore(filepath.Join(r.repository().CommonDir, "objects"))
	defer unmapped.close()
	for _, p := range unmapped.packs {
		unmapFile(p.data)
		p.data = nil
	}
	urd := unmapped.reader(0)
	for _, h := range allObjects(t, r) {
		_, want, _ := rd.read(h)
		if _, got, err := urd.read(h); err != nil || !bytes.Equal(got, want) {
			t.Errorf("unmapped %s: %v", h, err)
		}
	}
	n := 0
	unmapped.sweep(context.Background(), 2, func([]byte) bool { return true }, func(_ int, h plumbing.Hash, data []byte) {
		mu.Lock()
		defer mu.Unlock()
		n++
		if objName(plumbing.BlobObject, data) != h {
			t.Errorf("unmapped sweep: %s has the wrong bytes", h)
		}
	})
	if n != len(blobs)-loose {
		t.Errorf("unmapped sweep: %d blobs, want %d", n, len(blobs)-loose)
	}
}

func TestPackLayouts(t *testing.T) {
	t.Parallel()
	layouts := map[string]func(t *testing.T) *gitTestRepo{
		"loose": func(t *testing.T) *gitTestRepo {
			r := newGitTestRepo(t)
			deltaHistory(t, r, 6, "loose")
			return r
		},
		"one pack, deep chains": func(t *testing.T) *gitTestRepo {
			r := newGitTestRepo(t)
			deltaHistory(t, r, 30, "deep")
			r.git("repack", "-a", "-d", "-f", "--depth=250", "--window=250", "-q")
			return r
		},
		"several packs and loose": func(t *testing.T) *gitTestRepo {
			r := newGitTestRepo(t)
			deltaHistory(t, r, 8, "first")
			r.git("repack", "-d", "-q")
			deltaHistory(t, r, 8, "second")
			r.git("repack", "-d", "-q")
			deltaHistory(t, r, 3, "third") // stays loose
			return r
		},
		"fetched pack with reference deltas": func(t *testing.T) *gitTestRepo {
			up := newGitTestRepo(t)
			deltaHistory(t, up, 10, "upstream")
			up.git("gc", "-q")
			r := &gitTestRepo{t: t, dir: filepath.Join(t.TempDir(), "clone"), home: up.home}
			up.runIn(filepath.Dir(r.dir), "clone", "-q", "file://"+up.dir, r.dir)
			deltaHistory(t, up, 10, "more")
			// Keep the fetched pack as a pack: index-pack --fix-thin
			// appends the bases the thin pack left out, after the
			// reference deltas that use them.
			r.git("-c", "fetch.unpackLimit=1", "-c", "transfer.unpackLimit=1", "fetch", "-q", "origin")
			return r
		},
	}
	for name, build := range layouts {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := build(t)
			checkReader(t, r, strings.Contains(name, "reference"))
			checkFastMatchesSlow(t, r.repository(), GitOptions{})
		})
	}
}

// TestPackThinOnDisk reads a delta whose base is in another pack, which
// git itself never leaves on disk but another tool might.
func TestPackThinOnDisk(t *testing.T) {
	t.Parallel()
	r := newGitTestRepo(t)
	base := lines("settings", 40)
	r.write("app.env", string(base))
	r.commit("base")
	r.git("repack", "-a", "-d", "-q")
	key := gitTestKey("thin")
	next := append(bytes.Clone(base), "LOFTY_API_KEY="+key+"\n"...)
	blob := objName(plumbing.BlobObject, next)
	// git refuses such a pack, so the tree and commit that hold the blob
	// go in it too, whole.
	tree := append([]byte("100644 app.env\x00"), blob[:]...)
	when := fmt.Sprintf("%d +0000", r.now().Unix())
	commit := []byte("tree " + objName(plumbing.TreeObject, tree).String() + "\nparent " + r.git("rev-parse", "HEAD") +
		"\nauthor Ada Author <ada@example.com> " + when + "\ncommitter Cy Committer <cy@example.com> " + when + "\n\nthin\n")
	names := writeTestPack(t, filepath.Join(r.dir, ".git", "objects"), []testObj{
		{typ: plumbing.REFDeltaObject, ref: objName(plumbing.BlobObject, base), data: makeDelta(base, next), name: blob},
		{typ: plumbing.TreeObject, data: tree},
		{typ: plumbing.CommitObject, data: commit},
	})
	r.git("update-ref", "refs/heads/main", names[2].String())
	r.tick += 60

	g, err := r.repository().open()
	if err != nil {
		t.Fatal(err)
	}
	typ, data, err := g.store.reader(0).read(names[0])
	g.close()
	if err != nil || typ != plumbing.BlobObject || !bytes.Equal(data, next) {
		t.Fatalf("thin delta: %v %v", typ, err)
	}
	got, _, _ := scanGit(t, r.repository(), GitOptions{})
	checkGitFindings(t, got, gitWant{key: key, path: "app.env", commit: names[2].String(), inHead: true})
}

// TestPartialClone scans clones made with --filter=blob:none: the blobs
// the clone left out are counted in one warning, and what is there is
// scanned.
func TestPartialClone(t *testing.T) {
	t.Parallel()
	up := newGitTestRepo(t)
	deltaHistory(t, up, 6, "partial")
	headKey := gitTestKey("partial-head")
	up.write("head.env", "LOFTY_API_KEY="+headKey+"\n")
	head := up.commit("head key")
	up.git("config", "uploadpack.allowFilter", "true")
	up.git("config", "uploadpack.allowAnySHA1InWant", "true")

	t.Run("bare", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "bare.git")
		up.runIn(filepath.Dir(dir), "clone", "-q", "--bare", "--filter=blob:none", "file://"+up.dir, dir)
		got, c, st := scanGit(t, up.repositoryAt(dir), GitOptions{})
		if len(got) != 0 {
			t.Errorf("findings in a clone without blobs: %v", got)
		}
		checkPartialWarning(t, c, st)
		// No finding: the missing blobs were counted by the pass over the
		// trees, not by a walk. git counts the same.
		clone := &gitTestRepo{t: t, dir: dir, home: up.home}
		missing := strings.Count(clone.git("rev-list", "--objects", "--all", "--missing=print"), "?")
		if st.Errors != int64(missing) || missing == 0 {
			t.Errorf("%d blobs counted missing, git says %d", st.Errors, missing)
		}
	})
	t.Run("filter that left nothing out", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "limit.git")
		up.runIn(filepath.Dir(dir), "clone", "-q", "--bare", "--filter=blob:limit=1m", "file://"+up.dir, dir)
		got, c, st := scanGit(t, up.repositoryAt(dir), GitOptions{})
		if len(got) != 2 || len(c.Warnings) != 0 || st.Errors != 0 {
			t.Errorf("findings %d, warnings %v, errors %d", len(got), c.Warnings, st.Errors)
		}
	})
	t.Run("trees left out", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "notrees.git")
		up.runIn(filepath.Dir(dir), "clone", "-q", "--bare", "--filter=tree:0", "file://"+up.dir, dir)
		_, c, st := scanGit(t, up.repositoryAt(dir), GitOptions{})
		if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].Message, "tree(s)") || st.Errors == 0 {
			t.Errorf("want one warning about missing trees, got %v (%+v)", c.Warnings, st)
		}
	})
	t.Run("checked out", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "work")
		up.runIn(filepath.Dir(dir), "clone", "-q", "--filter=blob:none", "file://"+up.dir, dir)
		repo := up.repositoryAt(dir)
		got, c, st := scanGit(t, repo, GitOptions{})
		// HEAD's blobs were fetched for the checkout: its keys are found.
		checkGitFindings(t, got,
			gitWant{key: headKey, path: "head.env", commit: head, inHead: true},
			gitWant{key: gitTestKey("layout-partial"), path: "config/app.env", commit: up.git("log", "--format=%H", "-1", "--", "config/app.env"), inHead: true},
		)
		checkPartialWarning(t, c, st)
		checkFastMatchesSlowWarnings(t, repo)
	})
}

func checkPartialWarning(t *testing.T, c *Collector, st Stats) {
	t.Helper()
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].Message, "partial clone") {
		t.Fatalf("want one partial clone warning, got %v", c.Warnings)
	}
	if st.Errors == 0 {
		t.Errorf("the missing blobs are not counted: %+v", st)
	}
}

// checkFastMatchesSlowWarnings compares the findings, stats and warnings
// of the two readers where the slow one warns blob by blob.
func checkFastMatchesSlowWarnings(t *testing.T, repo *Repository) {
	t.Helper()
	fast, _, fst := scanWith(t, repo, GitOptions{}, readAuto, 0)
	slow, sc, sst := scanWith(t, repo, GitOptions{}, readGoGit, 0)
	compareFindings(t, "go-git", slow, fast)
	if fst.Files != sst.Files || fst.Bytes != sst.Bytes || fst.Errors != sst.Errors {
		t.Errorf("stats: fast %+v, go-git %+v", fst, sst)
	}
	if int(sst.Errors) != len(sc.Warnings) {
		t.Errorf("go-git: %d errors, %d warnings", sst.Errors, len(sc.Warnings))
	}
}

// storerOf is a compile-time check that packObjects is an object storer.
var _ storer.EncodedObjectStorer = (*packObjects)(nil)

// TestPackObjectsDecode decodes commits and trees read by the pack reader
// with go-git's decoders, as the walk and attribution do.
func TestPackObjectsDecode(t *testing.T) {
	t.Parallel()
	r := newGitTestRepo(t)
	deltaHistory(t, r, 3, "decode")
	r.git("gc", "-q")
	g, err := r.repository().open()
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	head, err := g.head()
	if err != nil {
		t.Fatal(err)
	}
	c, err := object.GetCommit(g.objs, head)
	if err != nil {
		t.Fatal(err)
	}
	if c.Hash != head || c.Message != "decode commit\n" {
		t.Errorf("commit %s %q", c.Hash, c.Message)
	}
	if _, err := object.GetTree(g.objs, c.TreeHash); err != nil {
		t.Error(err)
	}
	if _, err := g.objs.EncodedObject(plumbing.TreeObject, head); err != plumbing.ErrObjectNotFound {
		t.Errorf("a commit read as a tree: %v", err)
	}
	if _, err := os.Stat(g.store.packs[0].name); err != nil {
		t.Error(err)
	}
}
