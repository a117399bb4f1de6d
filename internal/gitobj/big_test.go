package gitobj

import (
	"bytes"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// Objects bigger than memory should hold, built byte by byte as a crafted
// repository holds them: a delta that expands a few hundred bytes of pack
// to hundreds of megabytes, chains of big versions, loose objects whose
// header lies. Each is read with bounded memory or refused with an error
// that says why. The tests that measure memory do not run in parallel, so
// that the process's allocations are theirs.

// allocated runs fn and returns the bytes it allocated (TotalAlloc: what a
// bigger buffer would show, whether or not it was collected since).
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// blobName hashes a stream as git names a blob of size bytes, and says
// how many bytes the stream gave.
func blobName(rd io.Reader, size int64) (plumbing.Hash, int64, error) {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", size)
	n, err := io.CopyBuffer(h, rd, make([]byte, 64<<10))
	var out plumbing.Hash
	copy(out[:], h.Sum(nil))
	return out, n, err
}

// TestBigDeltaStreamed reads a blob that one delta expands to 256 MiB:
// streamed, right to the last byte, with a few MiB of memory; Read refuses
// it before holding any of it.
func TestBigDeltaStreamed(t *testing.T) {
	base := testgit.Lines("base", 100) // about 1.5 KiB
	const size = 256 << 20
	name := testgit.RepeatName(base, size)
	dir := filepath.Join(t.TempDir(), "objects")
	testgit.WritePack(t, dir, []testgit.Object{
		{Type: plumbing.BlobObject, Data: base},
		{Type: plumbing.OFSDeltaObject, Base: 0, Data: testgit.RepeatDelta(base, size), Name: name},
	})
	s := Open(dir, nil)
	defer s.Close()
	rd := s.Reader(16 << 20)
	var got plumbing.Hash
	var n int64
	var err error
	mem := allocated(func() {
		var o Object
		if o, err = rd.Object(name); err != nil {
			return
		}
		if o.Stream == nil || o.Size != size {
			err = fmt.Errorf("not streamed: %d bytes in memory, size %d", len(o.Data), o.Size)
			return
		}
		got, n, err = blobName(o.Stream, size)
		o.Stream.Close()
	})
	if err != nil || got != name || n != size {
		t.Fatalf("streamed %d bytes named %s (%v); want %d named %s", n, got, err, size, name)
	}
	if mem > 8<<20 {
		t.Errorf("allocated %d MiB to stream a 256 MiB delta result", mem>>20)
	}
	mem = allocated(func() { _, _, err = rd.Read(name) })
	var tb *TooBigError
	if !errors.As(err, &tb) || tb.Size != size {
		t.Errorf("Read of a 256 MiB blob: %v; want a TooBigError", err)
	}
	if mem > 1<<20 {
		t.Errorf("allocated %d KiB to refuse it", mem>>10)
	}
}

// TestBigDeltaChain reads the top of a chain of deltas whose base and
// versions are each bigger than the reader holds (its limit lowered to
// 1 MiB): the versions in between go to temporary files, the top is
// streamed, and the bytes are right. The result of every way of reading
// is the same: in memory with the usual limit, streamed, and, once the
// temporary files allowed are too few, an error that says so.
func TestBigDeltaChain(t *testing.T) {
	const mib = 1 << 20
	v0 := bytes.Repeat(testgit.Lines("v0", 1000), 8) // about 150 KiB, repeated to 1.2 MiB
	for len(v0) < 6*mib {
		v0 = append(v0, v0...)
	}
	v1 := append(bytes.Clone(v0[:len(v0)-100]), "the end of version one\n"...)
	v2 := append([]byte("version two starts here\n"), v1...)
	v3 := append(bytes.Clone(v2[:3*mib]), "a key would be here\n"...)
	v3 = append(v3, v2[3*mib:]...)
	// v2 is a reference delta against v1, v3 an offset delta against v2.
	objs := []testgit.Object{
		{Type: plumbing.BlobObject, Data: v0},
		{Type: plumbing.OFSDeltaObject, Base: 0, Data: testgit.MakeDelta(v0, v1), Name: testgit.ObjectName(plumbing.BlobObject, v1)},
		{Type: plumbing.REFDeltaObject, Ref: testgit.ObjectName(plumbing.BlobObject, v1), Data: prefixDelta(v1, v2), Name: testgit.ObjectName(plumbing.BlobObject, v2)},
		{Type: plumbing.OFSDeltaObject, Base: 2, Data: testgit.MakeDelta(v2, v3), Name: testgit.ObjectName(plumbing.BlobObject, v3)},
	}
	dir := filepath.Join(t.TempDir(), "objects")
	names := testgit.WritePack(t, dir, objs)
	s := Open(dir, nil)
	defer s.Close()
	want := [][]byte{v0, v1, v2, v3}
	for i, n := range names {
		if _, data, err := s.Reader(0).Read(n); err != nil || !bytes.Equal(data, want[i]) {
			t.Errorf("version %d in memory: %v", i, err)
		}
		rd := s.Reader(0)
		rd.limit = mib
		o, err := rd.Object(n)
		if err != nil || o.Stream == nil {
			t.Fatalf("version %d: %v, streamed %v", i, err, o.Stream != nil)
		}
		got, size, err := blobName(o.Stream, o.Size)
		o.Stream.Close()
		if err != nil || got != n || size != int64(len(want[i])) {
			t.Errorf("version %d streamed: %d bytes named %s (%v)", i, size, got, err)
		}
	}
	// Two big versions to write for the top: not with room for one.
	rd := s.Reader(0)
	rd.limit, rd.spillMax = mib, int64(len(v1))+10
	_, err := rd.Object(names[3])
	var tb *TooBigError
	if !errors.As(err, &tb) || !tb.Chain || !strings.Contains(err.Error(), "delta chain") {
		t.Errorf("with room for one version on disk: %v; want a TooBigError about the chain", err)
	}
	if left, _ := filepath.Glob(filepath.Join(os.TempDir(), "loftyscan-object-*")); runtime.GOOS != "windows" && len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// prefixDelta returns a delta that makes result of base when result ends
// with all of base: an insert, then copies of the base.
func prefixDelta(base, result []byte) []byte {
	d := testgit.AppendVarint(testgit.AppendVarint(nil, uint64(len(base))), uint64(len(result)))
	head := result[:len(result)-len(base)]
	for len(head) > 0 {
		k := min(len(head), 127)
		d = append(d, byte(k))
		d = append(d, head[:k]...)
		head = head[k:]
	}
	for off := 0; off < len(base); off += 0xffff {
		n := min(len(base)-off, 0xffff)
		d = append(d, 0xff, byte(off), byte(off>>8), byte(off>>16), byte(off>>24), byte(n), byte(n>>8), 0)
	}
	return d
}

// TestAmplifiedDelta reads a delta that claims far more than its bytes and
// base can make in earnest: its result is read up to the floor, then the
// stream fails with an error that says what happened.
func TestAmplifiedDelta(t *testing.T) {
	t.Parallel()
	base := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB: one byte of delta copies it all
	const size = 256 << 20
	name := testgit.RepeatName(base, size)
	dir := filepath.Join(t.TempDir(), "objects")
	testgit.WritePack(t, dir, []testgit.Object{
		{Type: plumbing.BlobObject, Data: base},
		{Type: plumbing.OFSDeltaObject, Base: 0, Data: testgit.RepeatDelta(base, size), Name: name},
	})
	s := Open(dir, nil)
	defer s.Close()
	rd := s.Reader(0)
	rd.amplifiedFloor = 8 << 20
	o, err := rd.Object(name)
	if err != nil || o.Stream == nil {
		t.Fatalf("%v, streamed %v", err, o.Stream != nil)
	}
	defer o.Stream.Close()
	n, err := io.Copy(io.Discard, o.Stream)
	var ae *AmplifiedError
	if n != 8<<20 || !errors.As(err, &ae) || !strings.Contains(err.Error(), "crafted pack") {
		t.Errorf("read %d bytes, then %v; want 8 MiB, then an AmplifiedError", n, err)
	}
}

// TestBigLoose reads loose objects whose headers say more or less than
// they hold, and a big one that is true: streamed, refused, or failed at
// the end with an error that names the object, never held whole.
func TestBigLoose(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "objects")
	const big = 48 << 20
	zeros := testgit.WriteLoose(t, dir, fmt.Sprintf("blob %d", big), testgit.Zeros(big))
	longer := testgit.WriteLoose(t, dir, "blob 10", testgit.Zeros(big))
	claims := testgit.WriteLoose(t, dir, "blob 1000000000", strings.NewReader("tiny"))
	shorter := testgit.WriteLoose(t, dir, fmt.Sprintf("blob %d", big), testgit.Zeros(big-1))
	s := Open(dir, nil)
	defer s.Close()
	rd := s.Reader(0)

	var err error
	mem := allocated(func() {
		var o Object
		if o, err = rd.Object(zeros); err != nil {
			return
		}
		if o.Stream == nil {
			err = errors.New("not streamed")
			return
		}
		var got plumbing.Hash
		var n int64
		got, n, err = blobName(o.Stream, big)
		o.Stream.Close()
		if err == nil && (got != zeros || n != big) {
			err = fmt.Errorf("%d bytes named %s", n, got)
		}
	})
	if err != nil {
		t.Errorf("48 MiB loose blob: %v", err)
	}
	if mem > 4<<20 {
		t.Errorf("allocated %d MiB to stream a 48 MiB loose blob", mem>>20)
	}

	mem = allocated(func() { _, _, err = rd.Read(longer) })
	if err == nil || !strings.Contains(err.Error(), "longer than its header says") || !strings.Contains(err.Error(), longer.String()) {
		t.Errorf("\"blob 10\" holding 48 MiB: %v; want an error naming it", err)
	}
	if mem > 1<<20 {
		t.Errorf("allocated %d KiB for a 10-byte loose blob", mem>>10)
	}

	if _, err := rd.Object(claims); err == nil || !strings.Contains(err.Error(), "claims 1000000000 bytes") {
		t.Errorf("a header claiming 1 GB of a tiny file: %v", err)
	}

	o, err := rd.Object(shorter)
	if err == nil {
		_, err = io.Copy(io.Discard, o.Stream)
		o.Stream.Close()
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a loose blob a byte short of its header: %v", err)
	}
}

// TestReadRefusesHuge asks Read for objects over maxWhole: a tree that one
// delta claims is 1 GiB, and one stored whole: refused before any is held.
func TestReadRefusesHuge(t *testing.T) {
	if raceBuild {
		t.Skip("writes objects that claim 1 GiB (30 s under -race): .ci/run runs it without -race")
	}
	base := []byte("100644 a\x00" + strings.Repeat("\x01", 20))
	const size = 1 << 30
	dir := filepath.Join(t.TempDir(), "objects")
	whole := bytes.Repeat([]byte("100644 f\x00aaaaaaaaaaaaaaaaaaaa"), maxWhole/20)
	names := testgit.WritePack(t, dir, []testgit.Object{
		{Type: plumbing.TreeObject, Data: base},
		{Type: plumbing.OFSDeltaObject, Base: 0, Data: testgit.RepeatDelta(base, size), Name: plumbing.NewHash("aa00000000000000000000000000000000000001")},
		{Type: plumbing.TreeObject, Data: whole},
	})
	s := Open(dir, nil)
	defer s.Close()
	rd := s.Reader(0)
	for _, n := range names[1:] {
		var err error
		mem := allocated(func() { _, _, err = rd.Read(n) })
		var tb *TooBigError
		if !errors.As(err, &tb) {
			t.Errorf("%s: %v; want a TooBigError", n, err)
		}
		if mem > 2<<20 {
			t.Errorf("%s: allocated %d MiB to refuse it", n, mem>>20)
		}
	}
}
