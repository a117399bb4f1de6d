package bzip2

import (
	"bytes"
	stdbzip2 "compress/bzip2"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testtool"
)

// compress runs the real bzip2 tool at the given level.
func compress(tb testing.TB, data []byte, level int) []byte {
	tb.Helper()
	cmd := exec.Command(testtool.Need(tb, "bzip2"), fmt.Sprintf("-%d", level), "-c")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("bzip2 -%d: %v", level, err)
	}
	return out
}

// readAll reads r in reads of varying sizes, so that runs are cut at every
// kind of place.
func readAll(r io.Reader, rng *rand.Rand) ([]byte, error) {
	var out []byte
	buf := make([]byte, 70000)
	for {
		k := 1 + rng.IntN(len(buf))
		if rng.IntN(4) == 0 {
			k = 1 + rng.IntN(7)
		}
		n, err := r.Read(buf[:k])
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// inputs are the shapes a run-length step, a move-to-front list and an
// inverse transform can trip on.
func inputs() map[string][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 150_000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	var runs bytes.Buffer
	for l := 1; l < 700; l++ { // around the step's 4 and 255
		runs.Write(bytes.Repeat([]byte{byte('a' + l%3)}, l))
		runs.WriteByte('-')
	}
	var text strings.Builder
	for i := range 6_000 {
		fmt.Fprintf(&text, "line %d: the quick brown fox %x jumps\n", i%977, i*i%4099)
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	return map[string][]byte{
		"empty":      {},
		"one byte":   {'x'},
		"four equal": []byte("aaaa"),
		"five equal": []byte("aaaaab"),
		"all bytes":  all,
		"random":     random,
		"runs":       runs.Bytes(),
		"zeros":      make([]byte, 2_000_000),             // runs longer than a block holds
		"text":       []byte(text.String()),               // several blocks at -1
		"two values": bytes.Repeat([]byte("ab"), 500_000), // two blocks at -9
	}
}

// TestMatchesBzip2Tool decodes what the real bzip2 writes, at several
// levels, and compares with the input and with compress/bzip2.
func TestMatchesBzip2Tool(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for name, data := range inputs() {
		for _, level := range []int{1, 9} {
			z := compress(t, data, level)
			got, err := readAll(NewReader(bytes.NewReader(z)), rng)
			if err != nil {
				t.Fatalf("%s at -%d: %v", name, level, err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("%s at -%d: got %d bytes, want %d (first difference at %d)", name, level, len(got), len(data), firstDiff(got, data))
			}
			std, err := io.ReadAll(stdbzip2.NewReader(bytes.NewReader(z)))
			if err != nil || !bytes.Equal(std, got) {
				t.Fatalf("%s at -%d: compress/bzip2 reads %d bytes (%v)", name, level, len(std), err)
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestConcatenatedStreams reads streams written one after another, as
// bzip2 -d does.
func TestConcatenatedStreams(t *testing.T) {
	in := inputs()
	a, b := in["text"], in["runs"]
	z := append(compress(t, a, 9), compress(t, b, 1)...)
	z = append(z, compress(t, nil, 5)...)
	got, err := io.ReadAll(NewReader(bytes.NewReader(z)))
	if err != nil || !bytes.Equal(got, append(append([]byte{}, a...), b...)) {
		t.Fatalf("got %d bytes, %v; want %d", len(got), err, len(a)+len(b))
	}
}

// TestBadStreams: truncated, damaged and trailed streams end in an error,
// after at most the bytes of the blocks that checked out, never a panic or
// a clean end.
func TestBadStreams(t *testing.T) {
	data := inputs()["text"][:150_000]
	z := compress(t, data, 1)
	for _, cut := range []int{0, 1, 3, 4, 10, 14, 40, 100, len(z) / 2, len(z) - 11, len(z) - 1} {
		got, err := io.ReadAll(NewReader(bytes.NewReader(z[:cut])))
		if err == nil || !bytes.HasPrefix(data, got) {
			t.Errorf("cut at %d of %d: %d bytes, %v; want a prefix and an error", cut, len(z), len(got), err)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 40 {
		bad := bytes.Clone(z)
		i := 14 + rng.IntN(len(bad)-14)
		bad[i] ^= 1 << rng.IntN(8)
		got, err := io.ReadAll(NewReader(bytes.NewReader(bad)))
		if err == nil {
			t.Fatalf("bit flipped at byte %d: read %d bytes without an error", i, len(got))
		}
	}
	_, err := io.ReadAll(NewReader(bytes.NewReader(append(bytes.Clone(z), "trailing"...))))
	if err == nil || !strings.Contains(err.Error(), "continuation") {
		t.Errorf("trailing bytes: %v", err)
	}
	for in, want := range map[string]string{"": "unexpected EOF", "BZh0": "compression level", "BZx9": "non-Huffman", "PK\x03\x04": "bad magic"} {
		_, err := io.ReadAll(NewReader(strings.NewReader(in)))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

// refusedByBzip2 reports whether the bzip2 tool (bzip2 1.0.8, the
// reference decoder) finds stream z damaged.
func refusedByBzip2(t *testing.T, z []byte) bool {
	cmd := exec.Command(testtool.Need(t, "bzip2"), "-t")
	cmd.Stdin = bytes.NewReader(z)
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("bzip2 -t: %v", err)
	}
	return err != nil
}

// naiveOrder is the reference decoder's walk: n steps from the first
// position, one after the other.
func naiveOrder(last []byte, origPtr int) []byte {
	n := len(last)
	var c [256]int
	for _, b := range last {
		c[b]++
	}
	sum := 0
	for b := range c {
		c[b], sum = sum, sum+c[b]
	}
	next := make([]int, n)
	for i, b := range last {
		next[c[b]] = i
		c[b]++
	}
	out := make([]byte, 0, n)
	for p := next[origPtr]; len(out) < n; p = next[p] {
		out = append(out, last[p])
	}
	return out
}

// TestOrderMatchesNaiveWalk compares the walk along many chains with the
// reference decoder's single walk, on random last columns: most of them
// form several cycles, which the reference decoder reads as its first
// cycle repeated.
func TestOrderMatchesNaiveWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var u unBWT
	for _, n := range []int{1, 2, 3, 7, 100, 4095, 4096, 4097, 50_000, 262_145, 900_000} {
		for _, values := range []int{1, 2, 4, 256} {
			if n == 900_000 && values != 4 {
				continue // the biggest block once: -race makes it slow
			}
			last := make([]byte, n)
			for i := range last {
				last[i] = byte(rng.IntN(values))
			}
			var counts [256]int32
			for _, b := range last {
				counts[b]++
			}
			copy(u.column(0, n, n), last)
			orig := rng.IntN(n)
			got := u.order(n, &counts, orig)
			if want := naiveOrder(last, orig); !bytes.Equal(got, want) {
				t.Fatalf("n=%d values=%d origPtr=%d: differs at %d", n, values, orig, firstDiff(got, want))
			}
		}
	}
}

// FuzzReader compares this reader with compress/bzip2: where both read a
// stream they give the same bytes, and whatever compress/bzip2 reads this
// reader reads too, unless the bzip2 tool itself refuses the stream:
// compress/bzip2 reads a code table that leaves codes unused as a tree with
// levels left out, and so decodes some streams bzip2 1.0.8 calls damaged
// (testdata/fuzz/FuzzReader/d5d02a429021bfb3: compress/bzip2 reads 6
// bytes, bzip2 -t says "data integrity error"); this reader follows bzip2.
func FuzzReader(f *testing.F) {
	for _, name := range []string{"runs", "all bytes", "five equal", "one byte"} {
		f.Add(compress(f, inputs()[name], 1))
	}
	f.Fuzz(func(t *testing.T, z []byte) {
		const limit = 8 << 20
		got, err := io.ReadAll(io.LimitReader(NewReader(bytes.NewReader(z)), limit))
		std, stdErr := io.ReadAll(io.LimitReader(stdbzip2.NewReader(bytes.NewReader(z)), limit))
		if stdErr == nil && err != nil && !refusedByBzip2(t, z) {
			t.Fatalf("compress/bzip2 and bzip2 -t read it; this reader %d bytes (%v)", len(got), err)
		}
		if err == nil && stdErr == nil && !bytes.Equal(got, std) {
			t.Fatal("different bytes")
		}
		var se StructuralError
		if err != nil && !errors.As(err, &se) && err != io.ErrUnexpectedEOF {
			t.Fatalf("unexpected kind of error: %v", err)
		}
	})
}

// unrunRef is the run-length step as bzip2 1.0.8 undoes it: after four
// equal bytes the next is a count of further copies, and the byte after
// the count starts afresh.
func unrunRef(in []byte) []byte {
	var out []byte
	same, last := 0, -1
	for _, b := range in {
		if same == 4 {
			out = append(out, bytes.Repeat([]byte{byte(last)}, int(b))...)
			same, last = 0, -1
			continue
		}
		if int(b) == last {
			same++
		} else {
			same, last = 1, int(b)
		}
		out = append(out, b)
	}
	return out
}

// TestUnrunMatchesReference undoes the run-length step on blocks of few
// byte values (runs of every length, counts equal to the bytes around
// them) in reads of every size, against unrunRef.
func TestUnrunMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for round := range 300 {
		values := 1 + rng.IntN(4)
		block := make([]byte, rng.IntN(3000))
		for i := range block {
			block[i] = byte('a' + rng.IntN(values))
			if rng.IntN(50) == 0 {
				block[i] = byte(rng.IntN(8)) // small counts
			}
		}
		z := &reader{out: block}
		var got []byte
		buf := make([]byte, 64)
		for {
			n := z.unrun(buf[:1+rng.IntN(len(buf))])
			if n == 0 {
				break
			}
			got = append(got, buf[:n]...)
		}
		if want := unrunRef(block); !bytes.Equal(got, want) {
			t.Fatalf("round %d (%q): got %q, want %q", round, block, got, want)
		}
	}
}

// TestSmallStreamSmallMemory: a small file at -9 is not given a whole
// block's buffers (compress/bzip2 allocates 3.6 MB for any stream at -9).
func TestSmallStreamSmallMemory(t *testing.T) {
	z := compress(t, inputs()["runs"][:5000], 9)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, err := io.ReadAll(NewReader(bytes.NewReader(z)))
	runtime.ReadMemStats(&after)
	if err != nil || len(got) != 5000 {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("decoding 5,000 bytes allocated %d bytes", alloc)
	}
}
