package gitobj

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// TestLocateManyPacks: a store of many packs, some objects in several of
// them, finds each name where asking each pack in turn does (the first
// pack that holds it), and, once it has looked up enough names, without
// asking any pack's index: a lookup asked every pack before the one that
// held the name, and every pack for a name none held, a probe each. A
// name keeps its NameRef across the point the table is built at. With an
// index whose names are out of order the table is not built, and lookups
// go on asking each pack.
func TestLocateManyPacks(t *testing.T) {
	t.Parallel()
	for _, crafted := range []bool{false, true} {
		t.Run("out of order "+strconv.FormatBool(crafted), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			blob := func(i int) testgit.Object {
				return testgit.Object{Type: plumbing.BlobObject, Data: []byte("blob " + strconv.Itoa(i) + "\n")}
			}
			var names []plumbing.Hash
			for p := range 2 * multiPacks {
				var objs []testgit.Object
				for i := range 30 {
					objs = append(objs, blob(p*30+i))
				}
				objs = append(objs, blob(-1-p%5)) // in every fifth pack
				names = append(names, testgit.WritePack(t, dir, objs)...)
			}
			for i := range 50 {
				names = append(names, testgit.ObjectName(plumbing.BlobObject, []byte("nowhere "+strconv.Itoa(i))))
			}
			s := Open(dir, nil)
			defer s.Close()
			if len(s.packs) != 2*multiPacks || s.multiAfter <= 0 {
				t.Fatalf("%d packs, table after %d lookups", len(s.packs), s.multiAfter)
			}
			if crafted { // two names of a pack swapped: searches lose at most those two
				p := s.packs[len(s.packs)/2]
				x, err := parsePackIndex(bytes.Clone(p.idxMap))
				if err != nil {
					t.Fatal(err)
				}
				a, b := x.name(0), x.name(1)
				for i := range hashLen {
					a[i], b[i] = b[i], a[i]
				}
				p.idx = x
			}
			// Where asking each pack in turn finds each name.
			type at struct{ pi, pos int }
			want := map[plumbing.Hash]at{}
			for _, h := range names {
				want[h] = at{-1, -1}
				for pi, p := range s.packs {
					if pos := searchNames(&p.idx.fanout, p.idx.names, h[:]); pos >= 0 {
						want[h] = at{pi, pos}
						break
					}
				}
			}
			n := s.Names()
			refs := map[plumbing.Hash]NameRef{}
			for _, h := range names {
				refs[h] = n.Ref(h)
			}
			for i := int64(0); i < s.multiAfter; i++ {
				s.locate(names[i%int64(len(names))])
			}
			if built := s.multi.Load() != nil; built == crafted {
				t.Fatalf("table built: %v", built)
			}
			asked := func() (sum int64) {
				for _, p := range s.packs {
					sum += p.idx.lookups.Load()
				}
				return sum
			}
			before := asked()
			for _, h := range names {
				if pi, pos := s.locate(h); (at{pi, pos}) != want[h] {
					t.Fatalf("%s at %d, %d; want %v", h, pi, pos, want[h])
				}
				if r := n.Ref(h); r != refs[h] {
					t.Fatalf("%s: ref %d, then %d", h, refs[h], r)
				}
			}
			if got := asked() - before; !crafted && got != 0 {
				t.Errorf("%d lookups asked the packs' indexes %d times", 2*len(names), got)
			}
		})
	}
}
