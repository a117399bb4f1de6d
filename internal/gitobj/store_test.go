package gitobj

import (
	"bytes"
	"context"
	"crypto/sha1"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// Repository layouts the store must read exactly as go-git does, built
// with the git CLI (testgit.Layouts): loose objects, one pack with deep
// delta chains, several packs, a pack completed by fetch (reference deltas
// to bases appended after them).

// deltaHistory commits n versions of a few growing files, so that packs
// hold chains of deltas; and one version of a file that is nearly the same
// in every history, so that a fetch of another history's commits gets
// deltas against it: reference deltas to a base in another pack.
func deltaHistory(r *testgit.Repo, n int, tag string) {
	for i := range n {
		r.Write("src/main.go", string(testgit.Lines("package main // "+tag, 40+i)))
		r.Write("docs/notes.md", string(testgit.Lines("note "+tag, 30+2*i)))
		if i == n/2 {
			r.Write("config/app.env", string(testgit.Lines("setting", 20))+"tag="+tag+"\n")
		}
		r.Commit(tag + " commit")
	}
}

// allObjects lists every object in a repository, as git sees them.
func allObjects(t *testing.T, r *testgit.Repo) []plumbing.Hash {
	t.Helper()
	var out []plumbing.Hash
	for _, line := range strings.Split(r.Git("cat-file", "--batch-all-objects", "--batch-check=%(objectname)"), "\n") {
		if line != "" {
			out = append(out, plumbing.NewHash(line))
		}
	}
	return out
}

// gitDir is where r keeps its objects and refs.
func gitDir(r *testgit.Repo) string {
	d := r.Git("rev-parse", "--git-common-dir")
	if !filepath.IsAbs(d) {
		d = filepath.Join(r.Dir, d)
	}
	return d
}

// goGit opens go-git's storage of r, the reference.
func goGit(t *testing.T, r *testgit.Repo) *filesystem.Storage {
	st := filesystem.NewStorageWithOptions(osfs.New(gitDir(r)), cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true})
	t.Cleanup(func() { st.Close() })
	return st
}

// readWhole reads a go-git object's content.
func readWhole(t *testing.T, obj plumbing.EncodedObject) []byte {
	t.Helper()
	rd, err := obj.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkReader compares the store with go-git on every object of the
// repository, and the sweep with the blobs it must deliver: all of them,
// each with bytes whose hash is its name. The store has no fallback: what
// it gives, it read itself.
func checkReader(t *testing.T, r *testgit.Repo, wantRefDeltas bool) {
	t.Helper()
	st := goGit(t, r)
	s := Open(filepath.Join(gitDir(r), "objects"), nil)
	defer s.Close()
	var blobs []plumbing.Hash
	refDeltas := 0
	for _, p := range s.packs {
		for i := range p.idx.count {
			if h, err := p.header(p.idx.offset(i)); err == nil && h.typ == plumbing.REFDeltaObject {
				refDeltas++
			}
		}
	}
	if wantRefDeltas && refDeltas == 0 {
		t.Errorf("the layout has no reference deltas to test")
	}
	rd := s.Reader(1 << 20)
	for _, h := range allObjects(t, r) {
		typ, data, err := rd.Read(h)
		if err != nil {
			t.Errorf("%s: %v", h, err)
			continue
		}
		obj, err := st.EncodedObject(plumbing.AnyObject, h)
		if err != nil {
			t.Fatalf("go-git cannot read %s: %v", h, err)
		}
		if want := readWhole(t, obj); typ != obj.Type() || !bytes.Equal(data, want) {
			t.Errorf("%s: %v of %d bytes, go-git %v of %d", h, typ, len(data), obj.Type(), len(want))
		}
		if typ == plumbing.BlobObject {
			blobs = append(blobs, h)
		}
	}
	// go-git's own blob iteration, the slow path, lists the same blobs.
	iter, err := st.IterEncodedObjects(plumbing.BlobObject)
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
	res := s.Sweep(context.Background(), SweepOptions{Workers: 3, Types: TypesOf(plumbing.BlobObject)}, func(_ int, h plumbing.Hash, _ plumbing.ObjectType, data []byte) {
		if testgit.ObjectName(plumbing.BlobObject, data) != h {
			t.Errorf("sweep: %s has the wrong bytes", h)
		}
		mu.Lock()
		got[h]++
		mu.Unlock()
	})
	loose := 0
	for _, h := range blobs {
		if pi, _ := s.locate(h); pi < 0 {
			loose++ // loose objects are read one by one
			continue
		}
		if got[h] != 1 || !res.Delivered(h) {
			t.Errorf("sweep: %s delivered %d times", h, got[h])
		}
	}
	// A finished sweep keeps a bit per object, not its plans: the history
	// walk that follows holds the result.
	if res.plans != nil {
		t.Error("a finished sweep keeps its plans")
	}
	for pi, bits := range res.delivered {
		if bits != nil && len(bits) != (s.packs[pi].idx.count+63)/64 {
			t.Errorf("pack %d: %d words of bits for %d objects", pi, len(bits), s.packs[pi].idx.count)
		}
	}
	if len(s.Loose()) < loose {
		t.Errorf("%d loose blobs, but Loose lists %d objects", loose, len(s.Loose()))
	}
	checkFreshSweep(t, r, s)

	// A sweep of some objects only: every third blob, and one that is not
	// there. Each is delivered once, with its bytes, or left for the caller.
	var some []plumbing.Hash
	for i, h := range blobs {
		if i%3 == 0 {
			some = append(some, h)
		}
	}
	some = append(some, plumbing.NewHash("0123456789012345678901234567890123456789"))
	clear(got)
	res = s.SweepObjects(context.Background(), some, SweepOptions{Workers: 2, Types: TypesOf(plumbing.BlobObject)}, func(_ int, h plumbing.Hash, _ plumbing.ObjectType, data []byte) {
		if testgit.ObjectName(plumbing.BlobObject, data) != h {
			t.Errorf("sweep of some: %s has the wrong bytes", h)
		}
		mu.Lock()
		got[h]++
		mu.Unlock()
	})
	undelivered := map[plumbing.Hash]bool{}
	for _, h := range res.Undelivered() {
		undelivered[h] = true
	}
	for i, h := range some {
		packed, _ := s.locate(h)
		switch {
		case packed >= 0 && (got[h] != 1 || !res.Delivered(h) || undelivered[h]):
			t.Errorf("sweep of some: %s delivered %d times", h, got[h])
		case packed < 0 && (got[h] != 0 || res.Delivered(h)):
			t.Errorf("sweep of some: %s (%d), not in a pack, delivered", h, i)
		}
	}

	t.Logf("%d objects, %d blobs (%d loose), %d packs, %d reference deltas", len(allObjects(t, r)), len(blobs), loose, len(s.packs), refDeltas)

	// Where files cannot be mapped (mapFile fails), packs are read with
	// ReadAt and inflated with compress/flate: the same bytes.
	unmapped := Open(filepath.Join(gitDir(r), "objects"), nil)
	defer unmapped.Close()
	for _, p := range unmapped.packs {
		unmapFile(p.data)
		p.data = nil
	}
	urd := unmapped.Reader(0)
	for _, h := range allObjects(t, r) {
		_, want, _ := rd.Read(h)
		if _, got, err := urd.Read(h); err != nil || !bytes.Equal(got, want) {
			t.Errorf("unmapped %s: %v", h, err)
		}
	}
	n := 0
	unmapped.Sweep(context.Background(), SweepOptions{Workers: 2, Types: TypesOf(plumbing.BlobObject)}, func(_ int, h plumbing.Hash, _ plumbing.ObjectType, data []byte) {
		mu.Lock()
		defer mu.Unlock()
		n++
		if testgit.ObjectName(plumbing.BlobObject, data) != h {
			t.Errorf("unmapped sweep: %s has the wrong bytes", h)
		}
	})
	if n != len(blobs)-loose {
		t.Errorf("unmapped sweep: %d blobs, want %d", n, len(blobs)-loose)
	}
}

// checkFreshSweep sweeps the trees of r's packs, each with its fresh
// entries only, and checks that every object some tree refers to is given
// fresh at least once. It returns how many trees came as deltas.
func checkFreshSweep(t *testing.T, r *testgit.Repo, s *Store) int {
	t.Helper()
	rd := s.Reader(1 << 20)
	var mu sync.Mutex
	// A sweep of the trees that gives each tree's fresh entries only
	// still gives every object some tree refers to at least once.
	all, fresh := map[plumbing.Hash]bool{}, map[plumbing.Hash]bool{}
	for _, h := range allObjects(t, r) {
		if typ, data, err := rd.Read(h); err == nil && typ == plumbing.TreeObject {
			ParseTree(data, func(_ []byte, _ filemode.FileMode, eh plumbing.Hash) { all[eh] = true })
		}
	}
	partial := 0
	s.Sweep(context.Background(), SweepOptions{Workers: 2, Types: TypesOf(plumbing.TreeObject),
		Tree: func(_ int, data []byte, offs []int32) {
			mu.Lock()
			defer mu.Unlock()
			if offs == nil {
				// Whole: a tree of the repository.
				if h := testgit.ObjectName(plumbing.TreeObject, data); !all[h] && !isTree(rd, h) {
					t.Errorf("sweep of trees: %s, given whole, is not a tree of the repository", h)
				}
				ParseTree(data, func(_ []byte, _ filemode.FileMode, eh plumbing.Hash) { fresh[eh] = true })
				return
			}
			partial++
			for _, off := range offs {
				ParseTreeEntry(data[off:], func(_ []byte, _ filemode.FileMode, eh plumbing.Hash) { fresh[eh] = true })
			}
		}}, func(int, plumbing.Hash, plumbing.ObjectType, []byte) { t.Error("a tree given to the visitor") })
	for h := range all {
		if !fresh[h] && !looseTreeRef(t, s, h) {
			t.Errorf("sweep of trees: %s, which a tree refers to, never fresh", h)
		}
	}
	t.Logf("%d of the trees were deltas compared with their base", partial)
	return partial

}

func isTree(rd *Reader, h plumbing.Hash) bool {
	typ, _, err := rd.Read(h)
	return err == nil && typ == plumbing.TreeObject
}

// TestSweepFreshEntries sweeps the trees of a history of a big folder
// edited a file at a time, packed with deltas between trees.
func TestSweepFreshEntries(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "", "--bare")
	var script strings.Builder
	for c := range 300 {
		fmt.Fprintf(&script, "commit refs/heads/main\ncommitter A <a@b> %d +0000\ndata 1\nx\n", 1_700_000_000+c)
		for f := range 200 {
			if c == 0 || (c*37+f)%97 == 0 {
				fmt.Fprintf(&script, "M 100644 inline dir/sub%d/f%03d.txt\ndata 8\n%08d\n", f%3, f, c)
			}
		}
		if c%50 == 49 {
			fmt.Fprintf(&script, "D dir/sub1/f%03d.txt\n", c%200)
		}
	}
	if out, err := r.Cmd(script.String(), nil, "fast-import", "--quiet").CombinedOutput(); err != nil {
		t.Fatalf("fast-import: %v\n%s", err, out)
	}
	r.Git("repack", "-a", "-d", "-f", "-q", "--depth=50", "--window=50")
	s := Open(filepath.Join(r.Dir, "objects"), nil)
	defer s.Close()
	if n := checkFreshSweep(t, r, s); n < 100 {
		t.Errorf("only %d trees came as deltas: the test does not test much", n)
	}
}

// looseTreeRef reports whether h is referred to by a loose tree only: the
// sweep reads packs.
func looseTreeRef(t *testing.T, s *Store, h plumbing.Hash) bool {
	rd := s.Reader(0)
	for _, l := range s.Loose() {
		if typ, data, err := rd.Read(l); err == nil && typ == plumbing.TreeObject {
			found := false
			ParseTree(data, func(_ []byte, _ filemode.FileMode, eh plumbing.Hash) { found = found || eh == h })
			if found {
				return true
			}
		}
	}
	return false
}

func TestPackLayouts(t *testing.T) {
	t.Parallel()
	for _, l := range testgit.Layouts() {
		t.Run(l.Name, func(t *testing.T) {
			t.Parallel()
			checkReader(t, l.Build(t, deltaHistory), l.RefDeltas)
		})
	}
}

// TestAbsent looks up, in each layout (loose objects, several packs), every
// object and names no object has, in order and in any order: Absent names
// just those Has says no to.
func TestAbsent(t *testing.T) {
	t.Parallel()
	for _, l := range testgit.Layouts() {
		t.Run(l.Name, func(t *testing.T) {
			t.Parallel()
			r := l.Build(t, deltaHistory)
			s := Open(r.ObjectsDir(), nil)
			defer s.Close()
			names := allObjects(t, r)
			for i := range 50 {
				names = append(names, plumbing.Hash(sha1.Sum(fmt.Appendf(nil, "absent %d", i))))
			}
			names = append(names, plumbing.ZeroHash, names[0], names[len(names)-1])
			for _, order := range []string{"as listed", "sorted"} {
				if order == "sorted" {
					slices.SortFunc(names, func(a, b plumbing.Hash) int { return bytes.Compare(a[:], b[:]) })
				}
				var got, want []int
				s.Absent(names, func(i int) { got = append(got, i) })
				for i, h := range names {
					if !s.Has(h) {
						want = append(want, i)
					}
				}
				if !slices.Equal(got, want) || len(want) != 52 {
					t.Errorf("%s: absent %v, Has says %v", order, got, want)
				}
			}
		})
	}
}

// TestFallback reads every object through go-git when the store has no
// object folder of its own, as the store reads it itself; and a complete
// store says "not found" for what it does not have, without asking go-git.
func TestFallback(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	deltaHistory(r, 4, "fallback")
	r.Git("gc", "-q")
	st := goGit(t, r)
	own := Open(filepath.Join(gitDir(r), "objects"), st)
	defer own.Close()
	only := Open("", st)
	defer only.Close()
	ord, grd := own.Reader(0), only.Reader(0)
	for _, h := range allObjects(t, r) {
		typ, data, err := ord.Read(h)
		gtyp, gdata, gerr := grd.Read(h)
		if err != nil || gerr != nil || typ != gtyp || !bytes.Equal(data, gdata) {
			t.Errorf("%s: store %v %v, go-git only %v %v", h, typ, err, gtyp, gerr)
		}
	}
	missing := plumbing.NewHash("00000000000000000000000000000000000000aa")
	if _, _, err := ord.Read(missing); err != plumbing.ErrObjectNotFound {
		t.Errorf("a missing object: %v", err)
	}
	if _, err := grd.Object(missing); err == nil {
		t.Error("go-git found a missing object")
	}
	if own.Has(missing) || only.Has(allObjects(t, r)[0]) {
		t.Error("Has: wrong answers")
	}
}

// TestStorerDecode decodes commits and trees read by the store with
// go-git's decoders, as the walk and attribution do.
func TestStorerDecode(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	deltaHistory(r, 3, "decode")
	r.Git("gc", "-q")
	s := Open(filepath.Join(gitDir(r), "objects"), goGit(t, r))
	defer s.Close()
	objs := s.Reader(0).Storer()
	head := plumbing.NewHash(r.Git("rev-parse", "HEAD"))
	c, err := object.GetCommit(objs, head)
	if err != nil {
		t.Fatal(err)
	}
	if c.Hash != head || c.Message != "decode commit\n" {
		t.Errorf("commit %s %q", c.Hash, c.Message)
	}
	if _, err := object.GetTree(objs, c.TreeHash); err != nil {
		t.Error(err)
	}
	if _, err := objs.EncodedObject(plumbing.TreeObject, head); err != plumbing.ErrObjectNotFound {
		t.Errorf("a commit read as a tree: %v", err)
	}
	if _, err := os.Stat(s.packs[0].name); err != nil {
		t.Error(err)
	}
}

// TestUndeliveredIsTheCallersToAppendTo: what one caller appends to the
// list does not show in the next caller's.
func TestUndeliveredIsTheCallersToAppendTo(t *testing.T) {
	t.Parallel()
	res := &SweepResult{undelivered: make([]plumbing.Hash, 1, 8)}
	a := append(res.Undelivered(), plumbing.NewHash("aa"))
	b := append(res.Undelivered(), plumbing.NewHash("bb"))
	if a[1] != plumbing.NewHash("aa") || b[1] != plumbing.NewHash("bb") {
		t.Errorf("appends share the result's list: %v, %v", a, b)
	}
}
