package gitobj

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

func TestApplyDelta(t *testing.T) {
	t.Parallel()
	base := []byte("hello, delta world")
	hdr := func(b, r int) []byte { return testgit.AppendVarint(testgit.AppendVarint(nil, uint64(b)), uint64(r)) }
	tests := []struct {
		name  string
		delta []byte
		want  string // "" with err
		err   bool
	}{
		{name: "copy and insert", delta: testgit.MakeDelta(base, []byte("hello, delta! and more")), want: "hello, delta! and more"},
		{name: "copy all", delta: append(hdr(18, 18), 0x90, 18), want: "hello, delta world"},
		{name: "copy with offset", delta: append(hdr(18, 5), 0x91, 7, 5), want: "delta"},
		{name: "empty result", delta: hdr(18, 0), want: ""},
		{name: "insert only", delta: append(hdr(18, 3), 3, 'a', 'b', 'c'), want: "abc"},
		{name: "size 0 means 64 KiB", delta: append(hdr(18, 0x10000), 0x80), err: true},
		{name: "wrong base size", delta: append(hdr(17, 18), 0x90, 18), err: true},
		{name: "copy past the base", delta: append(hdr(18, 18), 0x91, 1, 18), err: true},
		{name: "copy offset overflow", delta: append(hdr(18, 1), 0x9f, 0xff, 0xff, 0xff, 0xff, 1), err: true},
		{name: "copy past the result", delta: append(hdr(18, 4), 0x90, 5), err: true},
		{name: "insert past the result", delta: append(hdr(18, 2), 3, 'a', 'b', 'c'), err: true},
		{name: "insert past the delta", delta: append(hdr(18, 3), 3, 'a'), err: true},
		{name: "truncated copy", delta: append(hdr(18, 3), 0x91, 1), err: true},
		{name: "reserved 0", delta: append(hdr(18, 1), 0, 1, 'a'), err: true},
		{name: "short result", delta: append(hdr(18, 5), 1, 'a'), err: true},
		{name: "bad header", delta: []byte{0x80, 0x80}, err: true},
		{name: "huge result", delta: append(hdr(18, 1<<40), 0x90, 1), err: true},
	}
	for _, tc := range tests {
		for way, apply := range map[string]func([]byte, []byte) ([]byte, error){
			"in memory": func(b, d []byte) ([]byte, error) { return applyDelta(b, d, nil, bigObject) },
			"streamed":  streamDelta,
		} {
			got, err := apply(base, tc.delta)
			if tc.err {
				if err == nil {
					t.Errorf("%s, %s: got %q, want an error", tc.name, way, got)
				}
				continue
			}
			if err != nil || string(got) != tc.want {
				t.Errorf("%s, %s: got %q, %v; want %q", tc.name, way, got, err, tc.want)
			}
		}
	}
}

// streamDelta applies a delta with deltaReader, reading the result in odd
// sizes, as a scan reads a stream.
func streamDelta(base, delta []byte) ([]byte, error) {
	dr, err := newDeltaReader(bytes.NewReader(base), int64(len(base)), bytes.NewReader(delta))
	if err != nil {
		return nil, err
	}
	var out []byte
	buf := make([]byte, 4093)
	for len(out) <= 2<<20 {
		n, err := dr.Read(buf)
		out = append(out, buf[:n]...)
		if int64(len(out)) > dr.size {
			return nil, fmt.Errorf("%d bytes past the declared %d", len(out), dr.size)
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, errors.New("more than 2 MiB")
}

// FuzzApplyDelta applies arbitrary deltas to arbitrary bases: never a
// panic or a read or write out of bounds, the result exactly the declared
// size, and the same result as go-git's implementation whenever both
// accept the delta.
func FuzzApplyDelta(f *testing.F) {
	base := []byte("the quick brown fox jumps over the lazy dog\n")
	f.Add(base, testgit.MakeDelta(base, []byte("the quick brown cat\n")))
	f.Add(base, testgit.MakeDelta(base, append(bytes.Clone(base), base...)))
	f.Add([]byte{}, []byte{0, 3, 3, 'a', 'b', 'c'})
	f.Add(base, []byte{44, 10, 0x91, 40, 10})
	f.Add(base, []byte{44, 0x80, 0x80, 0x04, 0x80})
	f.Add(base, []byte{44, 5, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, base, delta []byte) {
		got, err := applyDelta(base, delta, nil, 1<<20)
		if streamed, serr := streamDelta(base, delta); err == nil && (serr != nil || !bytes.Equal(streamed, got)) {
			t.Fatalf("streamed: %q, %v; in memory %q", streamed, serr, got)
		} else if err != nil && serr == nil && len(streamed) <= 1<<20 && !errors.Is(err, errBig) {
			t.Fatalf("streamed %q where applyDelta fails: %v", streamed, err)
		}
		if err != nil {
			return
		}
		_, size, _, _ := deltaSizes(delta)
		if uint64(len(got)) != size {
			t.Fatalf("result of %d bytes, declared %d", len(got), size)
		}
		want, gerr := goGitPatch(base, delta)
		if gerr == nil && !bytes.Equal(got, want) {
			t.Fatalf("result %q, go-git's %q", got, want)
		}
	})
}

// goGitPatch is go-git's delta application, the fuzz target's reference.
func goGitPatch(base, delta []byte) (out []byte, err error) {
	defer func() {
		if recover() != nil {
			err = errors.New("go-git panicked")
		}
	}()
	return packfile.PatchDelta(base, delta)
}

// FuzzPackObject reads the first object of a pack made of arbitrary bytes,
// and every object of a pack with a crafted delta: never a panic, and
// bounded work and memory whatever the headers claim.
func FuzzPackObject(f *testing.F) {
	good, _, _ := testgit.BuildPack(f, []testgit.Object{{Type: plumbing.BlobObject, Data: []byte("hello\n")}})
	f.Add(good[12 : len(good)-20])
	delta, _, _ := testgit.BuildPack(f, []testgit.Object{
		{Type: plumbing.BlobObject, Data: testgit.Lines("a", 20)},
		{Type: plumbing.OFSDeltaObject, Data: testgit.MakeDelta(testgit.Lines("a", 20), testgit.Lines("a", 21)), Name: testgit.ObjectName(plumbing.BlobObject, testgit.Lines("a", 21))},
	})
	f.Add(delta[12 : len(delta)-20])
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Add([]byte{0x60 | 5, 0x0c})
	f.Fuzz(func(t *testing.T, body []byte) {
		// One object at offset 12, one at the middle of the body.
		data := append(append([]byte("PACK\x00\x00\x00\x02\x00\x00\x00\x02"), body...), make([]byte, 20)...)
		var idx packIndex
		idx.count = 2
		offsets := []int64{12, 12 + int64(len(body)/2)}
		p := &packFile{data: data, size: int64(len(data)), idx: &idx}
		s := &Store{packs: []*packFile{p}}
		rd := s.Reader(1 << 20)
		rd.limit = 1 << 20
		for _, off := range offsets {
			typ, out, err := rd.readPacked(0, off, 0)
			if err == nil && (typ < plumbing.CommitObject || typ > plumbing.TagObject || len(out) > rd.limit) {
				t.Fatalf("type %v, %d bytes", typ, len(out))
			}
		}
	})
}

func TestParsePackIndex(t *testing.T) {
	t.Parallel()
	_, idx, names := testgit.BuildPack(t, []testgit.Object{
		{Type: plumbing.BlobObject, Data: []byte("one")},
		{Type: plumbing.BlobObject, Data: []byte("two")},
	})
	x, err := parsePackIndex(idx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if pos := x.find(n[:]); pos < 0 || x.offset(pos) < 12 {
			t.Errorf("%s: position %d", n, pos)
		}
	}
	if x.find(make([]byte, 20)) >= 0 {
		t.Error("found the zero hash")
	}
	// An offset past 2 GiB: the 4-byte entry points into the 8-byte table.
	big := bytes.Clone(idx[:len(idx)-40])
	offAt := idxFanoutEnd + 2*(hashLen+4)
	copy(big[offAt:], []byte{0x80, 0, 0, 0})
	big = append(big, 0, 0, 0, 1, 0, 0, 0, 0) // 1<<32
	big = append(big, idx[len(idx)-40:]...)
	if x, err := parsePackIndex(big); err != nil || x.offset(0) != 1<<32 {
		t.Errorf("large offset: %v", err)
	}
	bad := map[string][]byte{
		"empty":     nil,
		"version 1": append([]byte("\xfftOc\x00\x00\x00\x01"), idx[8:]...),
		"truncated": idx[:len(idx)-30],
		"unsorted fan-out": func() []byte {
			b := bytes.Clone(idx)
			b[8+3] = 0xff // fan-out[0] > fan-out[255]
			return b
		}(),
		"more large offsets than objects": func() []byte {
			b := bytes.Clone(idx[:len(idx)-40])
			b = append(b, make([]byte, 16)...)
			return append(b, idx[len(idx)-40:]...)
		}(),
		"32-byte names": func() []byte {
			b := bytes.Clone(idx[:idxFanoutEnd])
			for range 2 {
				b = append(b, make([]byte, 32)...)
			}
			b = append(b, idx[idxFanoutEnd+2*hashLen:len(idx)-40]...)
			return append(b, make([]byte, 64)...)
		}(),
		"too many objects": func() []byte {
			b := bytes.Clone(idx)
			for i := 8 + 255*4; i < 8+256*4; i++ {
				b[i] = 0x7f
			}
			return b
		}(),
	}
	for name, b := range bad {
		if _, err := parsePackIndex(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A large offset with no table to point into opens, as in git, and
	// fails when it is used.
	b := bytes.Clone(idx)
	b[idxFanoutEnd+2*(hashLen+4)] |= 0x80
	if x, err := parsePackIndex(b); err != nil || x.offset(0) != -1 {
		t.Errorf("a large offset with no table: %v", err)
	}
}

// TestPackCrafted reads packs a malicious repository could hold: every
// object either reads right or fails with an error, and the sweep ends.
func TestPackCrafted(t *testing.T) {
	t.Parallel()
	base := testgit.Lines("base", 50)
	v1 := append(bytes.Clone(base), "v1\n"...)
	v2 := append(bytes.Clone(v1), "v2\n"...)
	a, b := plumbing.NewHash("aa00000000000000000000000000000000000001"), plumbing.NewHash("bb00000000000000000000000000000000000002")
	objs := []testgit.Object{
		0: {Type: plumbing.BlobObject, Data: base},
		1: {Type: plumbing.OFSDeltaObject, Base: 0, Data: testgit.MakeDelta(base, v1), Name: testgit.ObjectName(plumbing.BlobObject, v1)},
		2: {Type: plumbing.REFDeltaObject, Ref: testgit.ObjectName(plumbing.BlobObject, v1), Data: testgit.MakeDelta(v1, v2), Name: testgit.ObjectName(plumbing.BlobObject, v2)},
		// A cycle of reference deltas.
		3: {Type: plumbing.REFDeltaObject, Ref: b, Data: testgit.MakeDelta(base, v1), Name: a},
		4: {Type: plumbing.REFDeltaObject, Ref: a, Data: testgit.MakeDelta(base, v1), Name: b},
		// A delta made for another base.
		5: {Type: plumbing.OFSDeltaObject, Base: 0, Data: testgit.MakeDelta(v1, v2), Name: plumbing.NewHash("cc00000000000000000000000000000000000003")},
		// A header that claims more than the stream holds, and less.
		6: {Type: plumbing.BlobObject, Data: []byte("short"), Size: 1000, Name: plumbing.NewHash("dd00000000000000000000000000000000000004")},
		7: {Type: plumbing.BlobObject, Data: []byte("longer than said"), Size: 3, Name: plumbing.NewHash("ee00000000000000000000000000000000000005")},
		// Not zlib at all.
		8: {Type: plumbing.BlobObject, Raw: []byte("garbage!"), Size: 8, Name: plumbing.NewHash("ff00000000000000000000000000000000000006")},
		// A delta whose base is missing everywhere.
		9: {Type: plumbing.REFDeltaObject, Ref: plumbing.NewHash("1100000000000000000000000000000000000007"), Data: testgit.MakeDelta(base, v1), Name: plumbing.NewHash("1200000000000000000000000000000000000008")},
		// A huge declared size on a tiny stream.
		10: {Type: plumbing.BlobObject, Data: []byte("x"), Size: 1 << 40, Name: plumbing.NewHash("1300000000000000000000000000000000000009")},
	}
	dir := filepath.Join(t.TempDir(), "objects")
	names := testgit.WritePack(t, dir, objs)
	s := Open(dir, nil)
	defer s.Close()
	if len(s.packs) != 1 {
		t.Fatalf("%d packs open", len(s.packs))
	}
	good := map[plumbing.Hash][]byte{names[0]: base, names[1]: v1, names[2]: v2}
	rd := s.Reader(1 << 20)
	for i, n := range names {
		typ, data, err := rd.Read(n)
		if want, ok := good[n]; ok {
			if err != nil || typ != plumbing.BlobObject || !bytes.Equal(data, want) {
				t.Errorf("object %d: %v %q %v", i, typ, data, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("object %d: read %q, want an error", i, data)
		}
	}
	var mu sync.Mutex
	got := map[plumbing.Hash]bool{}
	res := s.Sweep(context.Background(), SweepOptions{Workers: 2, Types: TypesOf(plumbing.BlobObject)}, func(_ int, h plumbing.Hash, _ plumbing.ObjectType, data []byte) {
		if testgit.ObjectName(plumbing.BlobObject, data) != h {
			t.Errorf("sweep gave %s bytes that are not it", h)
		}
		mu.Lock()
		got[h] = true
		mu.Unlock()
	})
	for i, n := range names {
		_, ok := good[n]
		if got[n] != ok || res.Delivered(n) != ok {
			t.Errorf("object %d: swept %v, delivered %v, want %v", i, got[n], res.Delivered(n), ok)
		}
	}
	// The same, asking for each object by name.
	clear(got)
	res = s.SweepObjects(context.Background(), names, SweepOptions{Workers: 2, Types: TypesOf(plumbing.BlobObject)}, func(_ int, h plumbing.Hash, _ plumbing.ObjectType, data []byte) {
		if testgit.ObjectName(plumbing.BlobObject, data) != h {
			t.Errorf("sweep of some gave %s bytes that are not it", h)
		}
		mu.Lock()
		got[h] = true
		mu.Unlock()
	})
	for i, n := range names {
		_, ok := good[n]
		if got[n] != ok || res.Delivered(n) != ok {
			t.Errorf("object %d: swept by name %v, delivered %v, want %v", i, got[n], res.Delivered(n), ok)
		}
	}
}

// TestPackDeepChain reads a chain of deltas longer than the sweep holds
// in memory, and one longer than any git writes.
func TestPackDeepChain(t *testing.T) {
	t.Parallel()
	var objs []testgit.Object
	prev := testgit.Lines("v", 10)
	objs = append(objs, testgit.Object{Type: plumbing.BlobObject, Data: prev})
	want := map[plumbing.Hash][]byte{testgit.ObjectName(plumbing.BlobObject, prev): prev}
	for i := 1; i <= maxDeltaChain+10; i++ {
		next := append(bytes.Clone(prev[:len(prev)-8]), testgit.Lines("w", 1)...)
		next = append(next, byte('a'+i%26))
		name := testgit.ObjectName(plumbing.BlobObject, next)
		if _, dup := want[name]; dup {
			next = append(next, 'x')
			name = testgit.ObjectName(plumbing.BlobObject, next)
		}
		objs = append(objs, testgit.Object{Type: plumbing.OFSDeltaObject, Base: i - 1, Data: testgit.MakeDelta(prev, next), Name: name})
		want[name] = next
		prev = next
	}
	dir := filepath.Join(t.TempDir(), "objects")
	names := testgit.WritePack(t, dir, objs)
	s := Open(dir, nil)
	defer s.Close()
	n := 0
	var mu sync.Mutex
	s.Sweep(context.Background(), SweepOptions{Workers: 2, Types: TypesOf(plumbing.BlobObject)}, func(_ int, h plumbing.Hash, _ plumbing.ObjectType, data []byte) {
		mu.Lock()
		defer mu.Unlock()
		n++
		if !bytes.Equal(data, want[h]) {
			t.Errorf("%s: wrong content", h)
		}
	})
	if n < maxDeltaChain/2 {
		t.Errorf("swept %d of %d", n, len(names))
	}
	// Past maxDeltaChain, a read by name fails rather than recursing on.
	if _, _, err := s.Reader(0).Read(names[len(names)-1]); err == nil {
		t.Error("read a chain longer than maxDeltaChain")
	}
	if _, data, err := s.Reader(0).Read(names[100]); err != nil || !bytes.Equal(data, want[names[100]]) {
		t.Errorf("object 100: %v", err)
	}
}

// TestPackCycleAcrossPacks reads objects of a cycle of reference deltas
// that crosses two packs (each base is in the other pack): a read
// recurses from pack to pack until maxDeltaChain, and must fail with one
// short error naming the cycle, not one "base ... of a delta" per level
// (5000 levels made a 300 KB warning and held 750 MB of messages).
func TestPackCycleAcrossPacks(t *testing.T) {
	t.Parallel()
	base, v1 := []byte("base\n"), []byte("hello v1\n")
	a, b := testgit.ObjectName(plumbing.BlobObject, v1), plumbing.NewHash("bb00000000000000000000000000000000000002")
	dir := filepath.Join(t.TempDir(), "objects")
	testgit.WritePack(t, dir, []testgit.Object{{Type: plumbing.REFDeltaObject, Ref: b, Data: testgit.MakeDelta(base, v1), Name: a}})
	testgit.WritePack(t, dir, []testgit.Object{{Type: plumbing.REFDeltaObject, Ref: a, Data: testgit.MakeDelta(v1, base), Name: b}, {Type: plumbing.BlobObject, Data: []byte("x")}})
	s := Open(dir, nil)
	defer s.Close()
	if len(s.packs) != 2 {
		t.Fatalf("%d packs open, want 2", len(s.packs))
	}
	for _, h := range []plumbing.Hash{a, b} {
		rd := s.Reader(1 << 20)
		_, _, rerr := rd.Read(h)
		_, oerr := rd.Open(h)
		for what, err := range map[string]error{"Read": rerr, "Open": oerr} {
			if err == nil || !errors.Is(err, errBadPack) || !strings.Contains(err.Error(), "or a cycle") || len(err.Error()) > 200 {
				t.Errorf("%s of %s: error of %d bytes, want a short one that names the cycle: %.300v", what, h, len(fmt.Sprint(err)), err)
			}
		}
	}
}
