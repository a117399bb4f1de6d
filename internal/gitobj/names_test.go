package gitobj

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// TestNames checks NameRefs on every layout against git's list of the
// objects: each name's ref gives the name back, one ref for each name
// (the same ref however often asked), where Locate says the object is,
// in the order of the names; Find gives what Ref gave and makes no ref
// for a name never asked; the zero hash is the zero ref.
func TestNames(t *testing.T) {
	t.Parallel()
	testgit.Require(t)
	for _, l := range testgit.Layouts() {
		t.Run(l.Name, func(t *testing.T) {
			t.Parallel()
			r := l.Build(t, deltaHistory)
			s := Open(filepath.Join(r.Dir, ".git", "objects"), nil)
			defer s.Close()
			n := s.Names()
			var names []plumbing.Hash
			for _, h := range strings.Fields(r.Git("cat-file", "--batch-all-objects", "--batch-check=%(objectname)")) {
				names = append(names, plumbing.NewHash(h))
			}
			missing := plumbing.NewHash(strings.Repeat("ab", 20))
			if _, ok := n.Find(missing); ok {
				t.Fatal("a name no object has found before it was asked for")
			}
			refs := map[NameRef]plumbing.Hash{}
			for _, h := range append(names, missing) {
				ref := n.Ref(h)
				if ref == 0 {
					t.Fatalf("%s: the zero ref", h)
				}
				if other, ok := refs[ref]; ok {
					t.Fatalf("%s and %s have the same ref", h, other)
				}
				refs[ref] = h
				if got := n.Hash(ref); got != h {
					t.Fatalf("%s: ref %d gives %s", h, ref, got)
				}
				if again := n.Ref(h); again != ref {
					t.Fatalf("%s: ref %d, then %d", h, ref, again)
				}
				if f, ok := n.Find(h); !ok || f != ref {
					t.Fatalf("%s: Find %d, %v; Ref %d", h, f, ok, ref)
				}
				if got, want := n.Loc(ref), s.Locate(h); got != want {
					t.Fatalf("%s: Loc %+v, Locate %+v", h, got, want)
				}
				if l := s.Locate(h); l.Packed() && n.RefOf(l) != ref {
					t.Fatalf("%s: RefOf %d, Ref %d", h, n.RefOf(l), ref)
				}
			}
			for a, ha := range refs {
				for b, hb := range refs {
					if got, want := n.Compare(a, b), bytes.Compare(ha[:], hb[:]); got != want {
						t.Fatalf("Compare(%s, %s) = %d, want %d", ha, hb, got, want)
					}
				}
			}
			if n.Ref(plumbing.ZeroHash) != 0 || !n.Hash(0).IsZero() {
				t.Error("the zero hash is not the zero ref")
			}
		})
	}
}

// TestNamesSteadyAcrossNameTable: an index that lists a name twice (git's
// index-pack lets a pack hold an object twice, and git fsck passes it) or
// lists names out of order (a crafted one) gives each name the same ref
// before and after the point an index builds its hash table at: the table
// found a name twice at its first place where the search found it at its
// second, and found names out of order that the search cannot find, so
// that one commit had two refs, and the revision walk, the selection's
// index and exposure took it for two (exposure then listed no ref for
// the keys of the newest commits of a history whose pack held each commit
// twice). Compare stays the order of the names.
func TestNamesSteadyAcrossNameTable(t *testing.T) {
	t.Parallel()
	twice := func(t *testing.T) (*Store, []plumbing.Hash) {
		var objs []testgit.Object
		for i := range 300 {
			o := testgit.Object{Type: plumbing.BlobObject, Data: []byte("blob " + strconv.Itoa(i) + "\n")}
			objs = append(objs, o, o)
		}
		dir := t.TempDir()
		names := testgit.WritePack(t, dir, objs)
		return Open(dir, nil), names
	}
	outOfOrder := func(t *testing.T) (*Store, []plumbing.Hash) {
		names := syntheticIndex(600).names
		var list [][]byte
		for i := 0; i < len(names); i += hashLen {
			list = append(list, names[i:i+hashLen])
		}
		for i := 0; i+1 < len(list); i += 3 {
			if list[i][0] == list[i+1][0] { // the fan-out stays right
				list[i], list[i+1] = list[i+1], list[i]
			}
		}
		x, err := parsePackIndex(indexBytesAsIs(list))
		if err != nil {
			t.Fatal(err)
		}
		var hs []plumbing.Hash
		for _, n := range list {
			hs = append(hs, plumbing.Hash(n))
		}
		return &Store{packs: []*packFile{{idx: x}}}, hs
	}
	for name, open := range map[string]func(*testing.T) (*Store, []plumbing.Hash){"a name twice": twice, "names out of order": outOfOrder} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, names := open(t)
			defer s.Close()
			n := s.Names()
			before := map[plumbing.Hash]NameRef{}
			for _, h := range names {
				before[h] = n.Ref(h)
			}
			x := s.packs[0].idx
			for i := 0; i < x.count+hashAfter; i++ { // past the point the table is built at
				x.find(names[i%len(names)][:])
			}
			refs := map[NameRef]plumbing.Hash{}
			for _, h := range names {
				r := n.Ref(h)
				if r != before[h] {
					t.Fatalf("%s: ref %d, then %d", h, before[h], r)
				}
				if f, ok := n.Find(h); !ok || f != r {
					t.Fatalf("%s: Find %d, %v; Ref %d", h, f, ok, r)
				}
				refs[r] = h
			}
			for a, ha := range refs {
				for b, hb := range refs {
					if got, want := n.Compare(a, b), bytes.Compare(ha[:], hb[:]); got != want {
						t.Fatalf("Compare(%s, %s) = %d, want %d", ha, hb, got, want)
					}
				}
			}
		})
	}
}
