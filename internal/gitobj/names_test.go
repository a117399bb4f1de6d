package gitobj

import (
	"bytes"
	"path/filepath"
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
