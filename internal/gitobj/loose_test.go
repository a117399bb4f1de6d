package gitobj

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// TestLooseReadersReused reads loose objects whose readers come from
// closed ones (looseReaders): streams open side by side while small
// objects and a damaged one are read between their reads, each object
// its own bytes; a stream read after Close fails; and reading 300 small
// loose objects allocates far less than a buffer and a zlib window each
// (some 70 KB: 21 MB; without the reuse the scan of 30,000 loose tags
// spent a quarter of its CPU on them).
func TestLooseReadersReused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "objects")
	const big = 48 << 20 // streamed, as in TestBigLoose
	bigA := testgit.WriteLoose(t, dir, fmt.Sprintf("blob %d", big), strings.NewReader(strings.Repeat("a", big)))
	bigB := testgit.WriteLoose(t, dir, fmt.Sprintf("blob %d", big), strings.NewReader(strings.Repeat("b", big)))
	damaged := testgit.WriteLoose(t, dir, "blob x", strings.NewReader("no size"))
	var small []plumbing.Hash
	for i := range 300 {
		body := fmt.Sprintf("small object %d\n", i)
		small = append(small, testgit.WriteLoose(t, dir, fmt.Sprintf("blob %d", len(body)), strings.NewReader(body)))
	}
	s := Open(dir, nil)
	defer s.Close()
	rd := s.Reader(0)

	a, err := rd.Object(bigA)
	if err != nil || a.Stream == nil {
		t.Fatalf("%s: %v (streamed: %v)", bigA, err, a.Stream != nil)
	}
	half := make([]byte, big/2)
	if _, err := io.ReadFull(a.Stream, half); err != nil {
		t.Fatal(err)
	}
	b, err := rd.Object(bigB)
	if err != nil || b.Stream == nil {
		t.Fatalf("%s: %v", bigB, err)
	}
	for i, h := range small[:20] {
		o, err := rd.Object(h)
		if want := fmt.Sprintf("small object %d\n", i); err != nil || string(o.Data) != want {
			t.Fatalf("%s: %q, %v; want %q", h, o.Data, err, want)
		}
		if _, err := rd.Object(damaged); err == nil {
			t.Fatalf("the damaged object %s read", damaged)
		}
	}
	rest, err := io.ReadAll(a.Stream)
	if err != nil || strings.Trim(string(half)+string(rest), "a") != "" || len(half)+len(rest) != big {
		t.Errorf("%s: %d bytes, %v, not only a's", bigA, len(half)+len(rest), err)
	}
	a.Stream.Close()
	if _, err := a.Stream.Read(half[:1]); !errors.Is(err, os.ErrClosed) {
		t.Errorf("a read after Close: %v, want os.ErrClosed", err)
	}
	all, err := io.ReadAll(b.Stream)
	if err != nil || strings.Trim(string(all), "b") != "" || len(all) != big {
		t.Errorf("%s: %d bytes, %v, not only b's", bigB, len(all), err)
	}
	b.Stream.Close()

	var bad error
	mem := allocated(func() {
		for i, h := range small {
			o, err := rd.Object(h)
			if want := fmt.Sprintf("small object %d\n", i); err != nil || string(o.Data) != want {
				bad = fmt.Errorf("%s: %q, %v; want %q", h, o.Data, err, want)
				return
			}
		}
	})
	if bad != nil {
		t.Fatal(bad)
	}
	if mem > 6<<20 {
		t.Errorf("reading %d small loose objects allocated %d bytes (%d each): their readers are not reused", len(small), mem, mem/uint64(len(small)))
	}
}
