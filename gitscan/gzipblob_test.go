package gitscan

import (
	"bytes"
	"compress/gzip"
	"math/rand/v2"
	"slices"
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
