package scanner

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestHugeSparseFile scans a 2 GiB sparse file (one line of zeros) with a
// key at its very end: the key is found, at the right column, and memory
// stays bounded. It reads 2 GiB, so it runs without -race (.ci/run runs it
// separately) and not with -short.
func TestHugeSparseFile(t *testing.T) {
	if testing.Short() || raceBuild {
		t.Skip("reads 2 GiB: run without -race and -short")
	}
	const size = 2 << 30
	path := filepath.Join(t.TempDir(), "huge.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	line := "LOFTY_API_KEY=" + keyActive
	if _, err := f.WriteAt([]byte(line), size); err != nil {
		f.Close()
		t.Skipf("cannot make a sparse file here: %v", err)
	}
	f.Close()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	c := &Collector{}
	opts := testOptions()
	st, err := New(opts).ScanPaths(context.Background(), []string{path}, c)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	t.Logf("scanned %d bytes in %s", st.Bytes, time.Since(start))
	if len(c.Findings) != 1 || c.Findings[0].Line != 1 || c.Findings[0].Column != size+len("LOFTY_API_KEY=")+1 {
		t.Fatalf("findings %+v; want the key at line 1, column %d", c.Findings, size+len("LOFTY_API_KEY=")+1)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 64<<20 {
		t.Errorf("allocated %d MB for a 2 GiB file: memory must not grow with file size", grown>>20)
	}
}
