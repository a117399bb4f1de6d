//go:build unix

package gitobj

import (
	"bytes"
	stdflate "compress/flate"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	kpflate "github.com/klauspost/compress/flate"
	"github.com/loftyscan/loftyscan/internal/inflate"

	"github.com/go-git/go-git/v5/plumbing"
)

// The inflater against the two libraries that could replace it, on real
// data: every zlib stream of a repository's packs (objects and deltas, as
// the history scan inflates them), and the gzip files its history holds
// (as a directory or history scan meets them). Set LOFTYSCAN_BENCH_REPO to
// a bare mirror, for example of prometheus/prometheus:
//
//	LOFTYSCAN_BENCH_REPO=/path/to/repo.git go test -run '^$' -bench Inflate -benchtime 3x -cpu 1 ./internal/gitobj
//
// Each decoder decodes the same streams into a buffer of the size the
// header declares, one goroutine, and reports the CPU time it took (user
// and system, from getrusage) as cpu-ms/op beside the wall time: the
// machine may be busy, the CPU time is what the decoder costs.

// deflateStream is one raw deflate stream and the size it inflates to.
type deflateStream struct {
	src  []byte
	size int
}

var (
	benchStreamsOnce sync.Once
	benchPack        []deflateStream // the packs' objects
	benchGzip        []deflateStream // the gzip blobs' members
	benchStore       *Store
)

// benchStreams collects the streams of LOFTYSCAN_BENCH_REPO once.
func benchStreams(b *testing.B) ([]deflateStream, []deflateStream) {
	dir := os.Getenv("LOFTYSCAN_BENCH_REPO")
	if dir == "" {
		b.Skip("set LOFTYSCAN_BENCH_REPO to a repository to benchmark the inflaters on its packs")
	}
	benchStreamsOnce.Do(func() {
		objects := filepath.Join(dir, "objects")
		if _, err := os.Stat(objects); err != nil {
			objects = filepath.Join(dir, ".git", "objects")
		}
		benchStore = Open(objects, nil)
		for _, p := range benchStore.packs {
			if p.data == nil {
				b.Fatal("the benchmark needs mapped packs")
			}
			_, offs := p.idx.byOffset()
			for i, off := range offs {
				h, err := p.header(off)
				if err != nil {
					continue
				}
				end := p.size - hashLen
				if i+1 < len(offs) {
					end = offs[i+1]
				}
				if h.data+2 <= end {
					benchPack = append(benchPack, deflateStream{src: p.data[h.data+2 : end], size: int(h.size)})
				}
			}
		}
		var mu sync.Mutex
		benchStore.Sweep(b.Context(), SweepOptions{Workers: 2, Types: TypesOf(plumbing.BlobObject)}, func(_ int, _ plumbing.Hash, _ plumbing.ObjectType, data []byte) {
			if s, ok := gzipMember(data); ok {
				mu.Lock()
				benchGzip = append(benchGzip, s)
				mu.Unlock()
			}
		})
	})
	return benchPack, benchGzip
}

// gzipMember returns the deflate stream of a one-member gzip file and the
// size its trailer declares, copied out of data.
func gzipMember(data []byte) (deflateStream, bool) {
	if len(data) < 18 || data[0] != 0x1f || data[1] != 0x8b || data[2] != 8 {
		return deflateStream{}, false
	}
	flg, p := data[3], 10
	if flg&4 != 0 { // FEXTRA
		if p+2 > len(data) {
			return deflateStream{}, false
		}
		p += 2 + int(binary.LittleEndian.Uint16(data[p:]))
	}
	for _, bit := range []byte{8, 16} { // FNAME, FCOMMENT: NUL-terminated
		if flg&bit != 0 {
			i := bytes.IndexByte(data[min(p, len(data)):], 0)
			if i < 0 {
				return deflateStream{}, false
			}
			p += i + 1
		}
	}
	if flg&2 != 0 { // FHCRC
		p += 2
	}
	if p+8 > len(data) {
		return deflateStream{}, false
	}
	s := deflateStream{src: bytes.Clone(data[p : len(data)-8]), size: int(binary.LittleEndian.Uint32(data[len(data)-4:]))}
	// Only streams that inflate to what the trailer says: one member, and
	// no more than 4 GiB.
	if s.size > 256<<20 {
		return deflateStream{}, false
	}
	if _, err := new(inflate.Decoder).Into(make([]byte, s.size), s.src); err != nil {
		return deflateStream{}, false
	}
	return s, true
}

// decoder inflates src into dst, which is exactly the inflated size.
type decoder func(dst, src []byte) error

func ownDecoder() decoder {
	var d inflate.Decoder
	return func(dst, src []byte) error {
		_, err := d.Into(dst, src)
		return err
	}
}

// readerDecoder adapts a library's io.Reader decoder, reset for each
// stream, as the pack reader uses compress/flate for packs it cannot map.
func readerDecoder(newReader func(io.Reader) io.ReadCloser) decoder {
	var fr io.ReadCloser
	br := bytes.NewReader(nil)
	var one [1]byte
	return func(dst, src []byte) error {
		br.Reset(src)
		if fr == nil {
			fr = newReader(br)
		} else if err := fr.(stdflate.Resetter).Reset(br, nil); err != nil {
			return err
		}
		if _, err := io.ReadFull(fr, dst); err != nil {
			return err
		}
		if n, err := fr.Read(one[:]); n != 0 || err != io.EOF {
			return inflate.ErrTooLong
		}
		return nil
	}
}

func BenchmarkInflate(b *testing.B) {
	pack, gz := benchStreams(b)
	decoders := []struct {
		name string
		new  func() decoder
	}{
		{"own", ownDecoder},
		{"klauspost", func() decoder { return readerDecoder(kpflate.NewReader) }},
		{"stdlib", func() decoder { return readerDecoder(stdflate.NewReader) }},
	}
	for _, set := range []struct {
		name    string
		streams []deflateStream
	}{{"pack", pack}, {"gzip", gz}} {
		var total int64
		maxSize := 0
		for _, s := range set.streams {
			total += int64(s.size)
			maxSize = max(maxSize, s.size)
		}
		small, smallBytes := 0, int64(0)
		for _, s := range set.streams {
			if s.size <= 1<<20 {
				small, smallBytes = small+1, smallBytes+int64(s.size)
			}
		}
		b.Logf("%s: %d streams, %.1f MB inflated; %d of at most 1 MiB, %.1f MB", set.name, len(set.streams), float64(total)/1e6, small, float64(smallBytes)/1e6)
		for _, d := range decoders {
			b.Run(set.name+"/"+d.name, func(b *testing.B) {
				dec := d.new()
				dst := make([]byte, maxSize)
				b.SetBytes(total)
				var cpu time.Duration
				for b.Loop() {
					start := cpuTime()
					for _, s := range set.streams {
						if err := dec(dst[:s.size], s.src); err != nil {
							b.Fatalf("%s: %v", d.name, err)
						}
					}
					cpu += cpuTime() - start
				}
				b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
			})
		}
	}
}

// cpuTime is the user and system time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
