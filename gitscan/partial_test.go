package gitscan

import (
	"crypto/sha1"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// The count of what a partial clone left out, made by the pass over the
// trees of the packs (partial.go), which looks only at what each tree
// stored as a delta adds to its base, is checked against git's own count
// and against the walk, on clones whose packs hold chains of tree deltas.

// treeHistory commits n changes to a tree of nested folders: files
// edited, added and removed, a few at a time, so that git stores most
// trees as deltas of others. Every version of every file is its own blob,
// of its own size (some big, for a filter by size), with its path in it.
func treeHistory(r *testgit.Repo, n int, rng *rand.Rand) {
	var paths []string
	for d := range 4 {
		for f := range 25 {
			paths = append(paths, fmt.Sprintf("d%d/s%d/file-%02d.txt", d, f%3, f))
		}
	}
	version := map[string]int{}
	write := func(p string) {
		version[p]++
		size := 20 + rng.IntN(3)*700 // 20, 720 or 1420 lines
		r.Write(p, string(testgit.Lines(fmt.Sprintf("%s v%d", p, version[p]), size)))
	}
	for _, p := range paths {
		write(p)
	}
	r.Commit("start")
	for i := range n {
		for range 1 + rng.IntN(3) {
			p := paths[rng.IntN(len(paths))]
			switch rng.IntN(8) {
			case 0:
				os.Remove(filepath.Join(r.Dir, filepath.FromSlash(p)))
			case 1:
				write(fmt.Sprintf("%s-new%d", p, i))
			default:
				write(p)
			}
		}
		r.Commit(fmt.Sprintf("change %d", i))
	}
}

// treeDeltas counts the trees a repository's packs store as deltas.
func treeDeltas(t *testing.T, r *testgit.Repo) int {
	t.Helper()
	packs, _ := filepath.Glob(filepath.Join(r.Dir, "objects", "pack", "*.idx"))
	n := 0
	for _, p := range packs {
		for _, line := range strings.Split(r.Git("verify-pack", "-v", p), "\n") {
			// "<hash> tree <size> <size in pack> <offset> <depth> <base>"
			if f := strings.Fields(line); len(f) == 7 && f[1] == "tree" {
				n++
			}
		}
	}
	return n
}

// TestPartialCloneHolesMatchGit scans partial clones whose packs hold
// chains of tree deltas: every blob the filter left out is counted, as
// git counts them, by the pass over the trees on one worker and on
// several, and by the walk; the warning is the same whatever the number
// of workers; a key in a file's name is found whether its blob is there
// or not.
func TestPartialCloneHolesMatchGit(t *testing.T) {
	t.Parallel()
	up := testgit.New(t, "")
	treeHistory(up, 120, rand.New(rand.NewPCG(7, 8)))
	up.Write("d2/"+nameKey(t, "partial clone"), "a key-named file: found by the pass over the trees\n")
	// Blobs under two names each, in folders of their own: which name a
	// warning shows must not depend on which worker met which first.
	for i := range 40 {
		content := string(testgit.Lines(fmt.Sprintf("shared %d", i), 30))
		up.Write(fmt.Sprintf("d%d/twin/a-%02d.txt", i%4, i), content)
		up.Write(fmt.Sprintf("d%d/twin/b-%02d.txt", (i+1)%4, i), content)
	}
	up.Commit("twins")
	up.Write("d1/s0/app.env", "LOFTY_API_KEY="+gitTestKey("partial-holes")+"\n")
	up.Commit("key")
	up.Git("repack", "-a", "-d", "-f", "-q", "--depth=50", "--window=50")
	up.Git("config", "uploadpack.allowFilter", "true")
	for _, tc := range []struct {
		name, filter string
		findings     int // found in the blobs the clone holds
	}{
		{name: "blob-none", filter: "blob:none", findings: 1},
		{name: "blob-limit", filter: "blob:limit=20k", findings: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), tc.name+".git")
			up.GitIn(filepath.Dir(dir), "clone", "-q", "--bare", "--filter="+tc.filter, "file://"+up.Dir, dir)
			clone := up.At(t, dir)
			if n := treeDeltas(t, clone); n < 50 {
				t.Fatalf("the clone's pack stores %d trees as deltas: the test needs chains of them", n)
			}
			missing := strings.Count(clone.Git("rev-list", "--objects", "--all", "--missing=print"), "?")
			if missing < 100 {
				t.Fatalf("git says %d objects are missing: the filter left out too little", missing)
			}
			t.Logf("%d tree deltas, %d missing", treeDeltas(t, clone), missing)
			repo := repoAt(t, dir)
			var warnings []string
			for _, tune := range []tuning{{}, {sweepMax: 4 << 10}, {mode: readOneByOne}} {
				for _, workers := range []int{1, 4} {
					name := fmt.Sprintf("mode %d, sweepMax %d, %d workers", tune.mode, tune.sweepMax, workers)
					got, c, st := scanWith(t, repo, HistoryOptions{}, tune, workers)
					if len(got) != tc.findings {
						t.Errorf("%s: %d findings, want %d", name, len(got), tc.findings)
					}
					if st.Errors != int64(missing) {
						t.Errorf("%s: %d objects counted missing, git says %d", name, st.Errors, missing)
					}
					if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].Message, "partial clone") {
						t.Fatalf("%s: want one partial clone warning, got %v", name, c.Warnings)
					}
					if tune == (tuning{}) {
						warnings = append(warnings, c.Warnings[0].String())
					}
				}
			}
			if len(slices.Compact(warnings)) != 1 {
				t.Errorf("the warning depends on the number of workers: %q", warnings)
			}
		})
	}
}

// TestHoleBatchLeastName checks the batched lookups of sweep workers
// against lookups one by one: thousands of references, over several
// batches, to objects the repository has and lacks, each met several
// times under several names, as a blob or a folder: every missing object
// is recorded once, as a blob when it was met as one, under the least of
// its names, whichever worker met it first.
func TestHoleBatchLeastName(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	deltaHistory(r, 4, "batch")
	s := gitobj.Open(filepath.Join(r.Dir, ".git", "objects"), nil)
	defer s.Close()
	var have []plumbing.Hash
	for _, line := range strings.Fields(r.Git("cat-file", "--batch-all-objects", "--batch-check=%(objectname)")) {
		have = append(have, plumbing.NewHash(line))
	}
	rng := rand.New(rand.NewPCG(11, 12))
	hf := newHoleFinder(s, 3)
	want := map[plumbing.Hash]hole{}
	for range 5000 {
		h := have[rng.IntN(len(have))]
		if rng.IntN(2) == 0 {
			h = plumbing.Hash(sha1.Sum(fmt.Appendf(nil, "lacking %d", rng.IntN(1500))))
		}
		tree, name := rng.IntN(3) == 0, fmt.Sprintf("name-%d", rng.IntN(10000))
		if !s.Has(h) {
			m, ok := want[h]
			switch {
			case !ok || m.tree && !tree:
				want[h] = hole{tree: tree, name: name}
			case !tree && name < m.name:
				m.name = name
				want[h] = m
			}
		}
		hf.check(rng.IntN(3), h, tree, []byte(name))
	}
	hf.flush()
	same := len(hf.missing) == len(want)
	for h, m := range want {
		got, ok := hf.missing[h]
		same = same && ok && got.tree == m.tree && (m.tree || got.name == m.name)
	}
	if len(want) < 1000 || !same {
		t.Errorf("batched: %d missing, one by one %d (or their kinds or names differ)", len(hf.missing), len(want))
	}
}
