package gitscan

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// TestGzipBlobWorkers scans a history holding a gzip file that the scan
// decodes whole when a worker holds the blob in memory, and streams when
// the blob is over a worker's share (gitobj: 2 MiB each for 64 workers):
// a file whose first MiB alone deflates past the ratio cap (zeros), and
// whose whole does not (incompressible bytes follow), with a key at its
// end. Either way, the same findings and warnings, whatever the number of
// workers.
func TestGzipBlobWorkers(t *testing.T) {
	t.Parallel()
	testgit.Require(t)
	content := make([]byte, 3<<20)
	noise := make([]byte, 5<<19)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	content = append(content, noise...)
	key := testtoken.Key("gzip-blob", time.Now().Add(24*time.Hour))
	content = append(content, "\nLOFTY_API_KEY="+key+"\n"...)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(content)
	zw.Close()
	if gz.Len() <= 2<<20 || gz.Len() > 8<<20 {
		t.Fatalf("the gzip file is %d bytes: want it over 64 workers' share and within 8 MiB", gz.Len())
	}
	r := testgit.New(t, t.TempDir())
	r.Write("logs/app.log.gz", gz.String())
	r.Commit("logs")
	repo := repoOf(r)
	one, c1, _ := scanWith(t, repo, HistoryOptions{}, tuning{}, 1)
	if len(one) != 1 || len(c1.Warnings) != 0 {
		t.Fatalf("1 worker: %d findings, warnings %v; want the key and no warning", len(one), warningKeys(c1))
	}
	many, c64, _ := scanWith(t, repo, HistoryOptions{}, tuning{}, 64)
	compareFindings(t, "64 workers against 1", one, many)
	if w1, w64 := warningKeys(c1), warningKeys(c64); !slices.Equal(w1, w64) {
		t.Errorf("warnings differ: 1 worker %q, 64 workers %q", w1, w64)
	}
}

// TestDamagedBlobWorkers damages, in the pack, the middle of a blob of
// 4.5 MiB whose key is at its start: held in memory (one worker) its
// decoding fails; streamed (64 workers: over a worker's share) it is read
// up to the damage. Either way the key before the damage is reported, with
// the same "not wholly scanned" warning, whatever the number of workers.
func TestDamagedBlobWorkers(t *testing.T) {
	t.Parallel()
	testgit.Require(t)
	key := testtoken.Key("damaged-blob", time.Now().Add(24*time.Hour))
	var text bytes.Buffer
	text.WriteString("LOFTY_API_KEY=" + key + "\n")
	rng := rand.New(rand.NewPCG(7, 8))
	for text.Len() < 9<<19 {
		fmt.Fprintf(&text, "line %d: %x\n", text.Len(), rng.Uint64())
	}
	r := testgit.New(t, t.TempDir())
	r.Write("big.log", text.String())
	r.Commit("a big log")
	r.Git("repack", "-a", "-d", "-q")
	blob := r.Git("rev-parse", "HEAD:big.log")
	packs, err := filepath.Glob(filepath.Join(r.Dir, ".git", "objects", "pack", "*.pack"))
	if err != nil || len(packs) != 1 {
		t.Fatalf("packs %v, %v", packs, err)
	}
	var off, size int64
	for _, line := range strings.Split(r.Git("verify-pack", "-v", strings.TrimSuffix(packs[0], ".pack")+".idx"), "\n") {
		// name type size size-in-pack offset
		if f := strings.Fields(line); len(f) >= 5 && f[0] == blob {
			size, _ = strconv.ParseInt(f[3], 10, 64)
			off, _ = strconv.ParseInt(f[4], 10, 64)
		}
	}
	if size < 1<<20 {
		t.Fatalf("blob %s takes %d bytes in the pack", blob, size)
	}
	pack, err := os.ReadFile(packs[0])
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(packs[0], 0o644)
	for i := off + size/2; i < off+size/2+64; i++ {
		pack[i] ^= 0xa5
	}
	if err := os.WriteFile(packs[0], pack, 0o644); err != nil {
		t.Fatal(err)
	}
	repo := repoOf(r)
	one, c1, _ := scanWith(t, repo, HistoryOptions{}, tuning{}, 1)
	if len(one) != 1 || one[0].Secret != key {
		t.Errorf("1 worker: findings %v; want the key before the damage", one)
	}
	if w := warningKeys(c1); len(w) != 1 || !strings.Contains(w[0], "not wholly scanned") {
		t.Errorf("1 worker: warnings %q; want one that the blob was not wholly scanned", w)
	}
	many, c64, _ := scanWith(t, repo, HistoryOptions{}, tuning{}, 64)
	compareFindings(t, "64 workers against 1", one, many)
	if w1, w64 := warningKeys(c1), warningKeys(c64); !slices.Equal(w1, w64) {
		t.Errorf("warnings differ: 1 worker %q, 64 workers %q", w1, w64)
	}
}
