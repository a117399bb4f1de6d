package gitobj

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// TestSweepPlanBytesPerObject: a sweep plans a pack in tables of a slot
// an object, and the planning's scratch comes on top of them: at 8
// million objects (two million commits) every byte an object is 8 MB,
// at the peak of a scan's memory as its sweep starts. Planning a pack
// allocates 48 bytes an object; with the pack order's offsets in 8
// bytes before their 4, and each object's pack order made for reference
// deltas the pack does not hold, 69; with a list of every object in
// breadth-first order and a table of where each object's list of deltas
// is filled to, 56. Not parallel: runtime.MemStats
// counts the whole process (in parallel with the package's other tests it
// measured 117).
func TestSweepPlanBytesPerObject(t *testing.T) {
	if raceBuild {
		t.Skip("the race detector changes what is allocated: .ci/run runs this test without it")
	}
	r := testgit.New(t, "", "--bare")
	var script strings.Builder
	for c := range 5000 {
		fmt.Fprintf(&script, "commit refs/heads/main\ncommitter A <a@b> %d +0000\ndata 1\nx\n", 1_700_000_000+c)
		fmt.Fprintf(&script, "M 100644 inline f%d.txt\ndata 8\n%08d\n", c%50, c)
	}
	if out, err := r.Cmd(script.String(), nil, "fast-import", "--quiet").CombinedOutput(); err != nil {
		t.Fatalf("fast-import: %v\n%s", err, out)
	}
	s := Open(filepath.Join(r.Dir, "objects"), nil)
	defer s.Close()
	if len(s.packs) != 1 {
		t.Fatalf("%d packs, want 1", len(s.packs))
	}
	n := s.packs[0].idx.count
	var pl *sweepPlan
	perObject := allocated(func() {
		pl = s.planSweep(context.Background(), 0, TypesOf(plumbing.BlobObject, plumbing.CommitObject), func(int32, []byte) bool { return true })
	}) / uint64(n)
	if pl == nil {
		t.Fatal("nothing planned")
	}
	if perObject > 50 {
		t.Errorf("planning %d objects allocated %d bytes an object, want at most 50", n, perObject)
	}
	t.Logf("%d objects, %d bytes an object", n, perObject)
}
