package gitscan

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// exposureKeys is each finding with its exposure, as JSON, sorted.
func exposureKeys(t *testing.T, fs []finding.Finding) []string {
	t.Helper()
	var out []string
	for _, f := range fs {
		b, err := json.Marshal(struct {
			Key string
			Exp *finding.Exposure
			Unr bool
		}{findingKey(f), f.Exposure, f.Unreachable})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	slices.Sort(out)
	return out
}

// checkExposureInStep scans repo with exposure in step with the walk and
// after it, on one and four workers, and compares the findings and their
// exposure; it reports whether the scan used the comparison made in step.
func checkExposureInStep(t *testing.T, name string, repo *Repository) bool {
	t.Helper()
	want, _, _ := scanWith(t, repo, HistoryOptions{}, tuning{exposeAfter: true}, 1)
	if len(want) == 0 {
		t.Fatalf("%s: no finding", name)
	}
	exposed := 0
	for _, f := range want {
		if f.Exposure != nil && f.Exposure.Commits > 0 {
			exposed++
		}
	}
	if exposed == 0 {
		t.Fatalf("%s: no finding is carried by a commit: the history does not test exposure", name)
	}
	inStep := true
	for _, workers := range []int{1, 4} {
		seen := &tuneSeen{}
		got, _, _ := scanWith(t, repo, HistoryOptions{}, tuning{seen: seen}, workers)
		if w, g := exposureKeys(t, want), exposureKeys(t, got); !slices.Equal(w, g) {
			t.Errorf("%s, %d workers: in step\n  %s\nafter the walk\n  %s", name, workers, strings.Join(g, "\n  "), strings.Join(w, "\n  "))
		}
		inStep = inStep && seen.exposedInStep
	}
	return inStep
}

// TestExposureInStepMatchesAfter checks that exposure worked out in step
// with the history walk, sharing its trees, is the exposure worked out
// after it, on random packed histories (merges, roots, deletions, folders
// renamed and copied, blobs met again) and on a clone with remote-tracking
// branches, tags, a stash, a commit only a reflog holds and loose objects,
// then refs of every kind.
func TestExposureInStepMatchesAfter(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{3, 11, 23} {
		r, _ := randomHistory(t, seed, 160, mildSkew, 7)
		name := fmt.Sprintf("seed %d", seed)
		if !checkExposureInStep(t, name, repoOf(r)) {
			t.Errorf("%s: exposure was not worked out in step with the walk", name)
		}
	}

	x := buildExposureRepo(t)
	c := x.clone
	c.Write("stash.env", "LOFTY_API_KEY="+gitTestKey("exposure-stash")+"\n")
	c.Git("add", "stash.env")
	c.Git("stash", "-q")
	c.Write("gone.env", "LOFTY_API_KEY="+gitTestKey("exposure-reflog")+"\n")
	c.Commit("only a reflog will remember this")
	c.Git("reset", "-q", "--hard", "HEAD~1")
	if !checkExposureInStep(t, "clone, loose objects", repoOf(c)) {
		t.Error("clone, loose objects: exposure was not worked out in step with the walk")
	}
	dir := filepath.Join(t.TempDir(), "packed")
	c.GitIn(filepath.Dir(dir), "clone", "-q", "--mirror", c.Dir, dir)
	p := c.At(t, dir)
	p.Git("repack", "-a", "-d", "-q")
	if !checkExposureInStep(t, "mirror, packed", repoOf(p)) {
		t.Error("mirror, packed: exposure was not worked out in step with the walk")
	}

	// Refs of every kind: a tag of a tag, refs to a tree and to a blob, a
	// replace ref, a note holding a key, HEAD detached at a commit no
	// branch has, two stash entries, and a commit-graph file.
	c.Git("tag", "-a", "v2", "-m", "a tag of a tag", "v1")
	c.Git("update-ref", "refs/trees/head", c.Git("rev-parse", "HEAD^{tree}"))
	c.Git("update-ref", "refs/blobs/config", c.Git("rev-parse", "v1:config.env"))
	c.Git("replace", x.commits["topic"], x.commits["local"])
	c.Git("notes", "add", "-m", "LOFTY_API_KEY="+gitTestKey("exposure-note"), x.commits["edited"])
	c.Git("checkout", "-q", "--detach")
	c.Write("detached.env", "LOFTY_API_KEY="+gitTestKey("exposure-detached")+"\n")
	c.Commit("on no branch")
	c.Write("stash2.env", "LOFTY_API_KEY="+gitTestKey("exposure-stash2")+"\n")
	c.Git("add", "stash2.env")
	c.Git("stash", "-q")
	c.Git("repack", "-a", "-d", "-q")
	c.Git("commit-graph", "write", "--reachable")
	if !checkExposureInStep(t, "refs of every kind", repoOf(c)) {
		t.Error("refs of every kind: exposure was not worked out in step with the walk")
	}
}

// TestExposureCountsShared checks that the commits of a long history in
// which few commits change a file with a key hold few counts: a commit
// that changes none shares its parent's (a slice of them by commit was 24
// bytes each, 24 MB of a scan of a million commits at its peak).
func TestExposureCountsShared(t *testing.T) {
	t.Parallel()
	const n = 3000
	r := testgit.New(t, "", "--bare")
	base := testgit.Epoch.Unix()
	key := map[int]string{100: "shared-a", 1500: "shared-b", 2500: "shared-c"}
	err := feedCmd(r.Cmd("", nil, "fast-import", "--quiet"), func(w *bufio.Writer) {
		for i := 1; i <= n; i++ {
			fmt.Fprintf(w, "commit refs/heads/main\nmark :%d\ncommitter C <c@example.com> %d +0000\ndata 2\nc\n", i, base+int64(i))
			if i > 1 {
				fmt.Fprintf(w, "from :%d\n", i-1)
			}
			fmt.Fprintf(w, "M 100644 inline f%d.txt\ndata 5\n%04d\n", i%40, i)
			if k, ok := key[i]; ok {
				body := "LOFTY_API_KEY=" + gitTestKey(k) + "\n"
				fmt.Fprintf(w, "M 100644 inline keys/%s.env\ndata %d\n%s", k, len(body), body)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := &tuneSeen{}
	fs, _, _ := scanWith(t, repoOf(r), HistoryOptions{}, tuning{seen: seen}, 2)
	if len(fs) != len(key) || !seen.exposedInStep || seen.comparedInStep != n {
		t.Fatalf("%d findings, exposure in step %v over %d commits: the test does not test the counts", len(fs), seen.exposedInStep, seen.comparedInStep)
	}
	if seen.countsHeld > 2*len(key)+1 {
		t.Errorf("%d commits, %d of them adding a key: %d counts held", n, len(key), seen.countsHeld)
	}
}

// TestExposureInStepFallsBack checks that what was counted in step is not
// used when the findings exposure is asked about hold other file keys, or
// other blobs hold them, than the walk knew: exposure then compares the
// trees again.
func TestExposureInStepFallsBack(t *testing.T) {
	t.Parallel()
	r, _ := randomHistory(t, 5, 80, mildSkew, 7)
	seen := &tuneSeen{}
	fs, _, _ := scanWith(t, repoOf(r), HistoryOptions{}, tuning{seen: seen}, 2)
	if !seen.exposedInStep {
		t.Fatal("the scan did not expose in step")
	}
	one := fs[:1]
	var two []finding.Finding
	for _, f := range fs {
		if f.Fingerprint != one[0].Fingerprint {
			two = []finding.Finding{one[0], f}
			break
		}
	}
	if two == nil {
		t.Fatal("the history holds one key: it does not test a key the walk did not know")
	}
	g, err := repoOf(r).open(tuning{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	counted := func() *earlyExposure {
		e := &earlyExposure{x: emptyExposer(&attributor{g: g, gs: newGitSink(nil)})}
		e.x.keys["f"+one[0].Fingerprint] = 0
		e.bits = e.x.foundBits()
		return e
	}
	if counted().exposer(one, false) == nil {
		t.Fatal("the key counted: the comparison made in step was not used")
	}
	for _, tc := range []struct {
		name   string
		change func(e *earlyExposure)
		fs     []finding.Finding
	}{
		{"a key the walk did not know", func(*earlyExposure) {}, two},
		{"a key counted that is not reported", func(e *earlyExposure) { e.x.keys["f"+two[1].Fingerprint] = 1 }, one},
		{"a blob found after the walk", func(e *earlyExposure) { e.bits[plumbing.ZeroHash] = 1 }, one},
		{"a comparison that stopped", func(e *earlyExposure) { e.failed = true }, one},
	} {
		e := counted()
		tc.change(e)
		if e.exposer(tc.fs, false) != nil {
			t.Errorf("%s: the comparison made in step was used", tc.name)
		}
	}
	if counted().exposer(one, true) != nil {
		t.Error("a scan that follows paths: the comparison made in step was used")
	}
}

// TestExposureInStepStopsWithTheScan checks that a scan stopped while its
// history walk goes on compares no more trees for exposure: the walk's
// short grace (stoppedWalkGrace) is for attributing the keys found, and a
// stopped scan reports no exposure. The scan is stopped as the walk meets
// its first commit, a root older than the rest whose folder is missing.
func TestExposureInStepStopsWithTheScan(t *testing.T) {
	t.Parallel()
	r, _ := randomHistory(t, 13, 60, noSkew, 5)
	gone := plumbing.NewHash("0123456789abcdef0123456789abcdef01234567")
	broken := r.MkTree(testgit.TreeEntry{Mode: "040000", Hash: gone, Name: "lost"})
	r.Git("update-ref", "refs/heads/broken", r.CommitTree(broken.String(), nil, testgit.Epoch.Unix()-86400, "a root older than the rest"))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &scanner.Collector{OnWarning: func(w finding.Warning) {
		if strings.Contains(w.Message, "missing or corrupt") {
			cancel()
		}
	}}
	o := scanner.DefaultOptions()
	o.Workers = 1
	seen := &tuneSeen{}
	_, err := scanHistoryTuned(ctx, scanner.New(o), repoOf(r), HistoryOptions{}, c, tuning{seen: seen})
	if err != context.Canceled {
		t.Fatalf("scan: %v, want it stopped", err)
	}
	named := 0 // keys the walk had not met when its grace ended
	for _, w := range c.Warnings {
		if strings.Contains(w.Message, "holds a key") {
			named++
		}
	}
	if len(c.Findings)+named == 0 {
		t.Error("the stopped scan reported no key")
	}
	if seen.comparedInStep != 0 {
		t.Errorf("%d commits compared in step with the walk once the scan was stopped, want none", seen.comparedInStep)
	}
}
