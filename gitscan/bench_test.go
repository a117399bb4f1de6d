package gitscan

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// Benchmarks on a synthetic repository of many commits, built with git
// fast-import for each benchmark (100,000 commits take about 10 s to
// build). The size can be changed with LOFTYSCAN_BENCH_COMMITS.
//
//	go test -run '^$' -bench 'Staged|History' -benchtime 20x ./scanner

// benchRepo builds the synthetic repository in a temporary folder: one
// branch of n commits over a tree of 1,000 files in 100 folders, each
// commit changing one file, and a key in one file of the first commit.
func benchRepo(b *testing.B) string {
	b.Helper()
	testgit.Require(b)
	n := 100_000
	if s := os.Getenv("LOFTYSCAN_BENCH_COMMITS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	dir, err := buildSyntheticRepo(b.TempDir(), n)
	if err != nil {
		b.Fatal(err)
	}
	return dir
}

func buildSyntheticRepo(base string, n int) (string, error) {
	dir := filepath.Join(base, "repo")
	home := filepath.Join(base, "home")
	os.MkdirAll(home, 0o755)
	r := &testgit.Repo{Dir: dir, Home: home}
	git := func(feed func(*bufio.Writer), args ...string) error {
		cmd := r.Cmd("", nil, args...)
		if feed == nil {
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("git %v: %v\n%s", args, err, out)
			}
			return nil
		}
		return feedCmd(cmd, feed)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := git(nil, "init", "-q"); err != nil {
		return "", err
	}
	key := gitTestKey("bench")
	err := git(func(w *bufio.Writer) {
		when := testgit.Epoch.Unix()
		data := func(s string) { fmt.Fprintf(w, "data %d\n%s\n", len(s), s) }
		fmt.Fprintf(w, "commit refs/heads/main\ncommitter Ada Author <ada@example.com> %d +0000\n", when)
		data("first commit")
		for i := range 1000 {
			content := fmt.Sprintf("file %d\nversion 0\n", i)
			if i == 500 {
				content += "LOFTY_API_KEY=" + key + "\n"
			}
			fmt.Fprintf(w, "M 100644 inline dir%02d/file%03d.txt\n", i%100, i)
			data(content)
		}
		for c := 1; c < n; c++ {
			fmt.Fprintf(w, "commit refs/heads/main\ncommitter Ada Author <ada@example.com> %d +0000\n", when+int64(c))
			data("commit " + strconv.Itoa(c))
			i := (c * 7919) % 1000
			fmt.Fprintf(w, "M 100644 inline dir%02d/file%03d.txt\n", i%100, i)
			data(fmt.Sprintf("file %d\nversion %d\n", i, c))
		}
	}, "fast-import", "--quiet")
	if err != nil {
		return "", fmt.Errorf("git fast-import: %w", err)
	}
	// An index with a valid cache tree, as after a checkout; the work
	// tree stays empty, which the staged scan never reads.
	if err := git(nil, "read-tree", "HEAD"); err != nil {
		return "", err
	}
	return dir, nil
}

// BenchmarkStaged is the pre-commit check: a 3-file change (one new file
// with a key, two edited) staged in a repository of 100,000 commits. It
// must stay well under 100 ms.
func BenchmarkStaged(b *testing.B) {
	dir := benchRepo(b)
	r := &testgit.Repo{T: b, Dir: dir, Home: filepath.Join(filepath.Dir(dir), "home")}
	k := gitTestKey("bench-staged")
	r.Write("dir42/new.env", "LOFTY_API_KEY="+k+"\n")
	// The work tree is empty: the edited files are written whole.
	r.Write("dir07/file007.txt", "file 7\nedited\n")
	r.Write("dir13/file513.txt", "file 513\nedited\n")
	r.Git("add", "dir42/new.env", "dir07/file007.txt", "dir13/file513.txt")
	defer r.Git("read-tree", "HEAD")
	repo := repoOf(r)
	s := scanner.New(scanner.DefaultOptions())
	b.ResetTimer()
	var worst time.Duration
	for b.Loop() {
		start := time.Now()
		c := &scanner.Collector{}
		if _, err := ScanStaged(context.Background(), s, repo, "", c); err != nil {
			b.Fatal(err)
		}
		if len(c.Findings) != 1 {
			b.Fatalf("%d findings, want 1", len(c.Findings))
		}
		worst = max(worst, time.Since(start))
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
}

// BenchmarkHistory scans all of the synthetic history: 100,000 commits,
// about 101,000 unique blobs.
func BenchmarkHistory(b *testing.B) {
	dir := benchRepo(b)
	repo, err := FindRepository(dir)
	if err != nil {
		b.Fatal(err)
	}
	s := scanner.New(scanner.DefaultOptions())
	for b.Loop() {
		c := &scanner.Collector{}
		st, err := ScanHistory(context.Background(), s, repo, HistoryOptions{}, c)
		if err != nil {
			b.Fatal(err)
		}
		if len(c.Findings) != 1 {
			b.Fatalf("%d findings, want 1", len(c.Findings))
		}
		b.ReportMetric(float64(st.Files), "blobs")
	}
}

// The blob reader and attribution benchmarks read LOFTYSCAN_BENCH_REPO
// when it is set (a bare mirror of a real project: the figures in the
// README are for prometheus/prometheus), else a generated repository of
// 400 commits over 100 files of about 16 KB, packed with deltas.
//
//	LOFTYSCAN_BENCH_REPO=/path/to/repo.git go test -run '^$' -bench 'BlobRead|Attribution' -benchtime 3x ./scanner

func benchGitRepo(b *testing.B) *Repository {
	b.Helper()
	dir := os.Getenv("LOFTYSCAN_BENCH_REPO")
	if dir == "" {
		testgit.Require(b)
		r := testgit.New(b, "")
		err := fastImport(r, func(w *bufio.Writer) {
			for c := range 400 {
				fmt.Fprintf(w, "commit refs/heads/main\ncommitter Ada Author <ada@example.com> %d +0000\ndata 6\ncommit\n", testgit.Epoch.Unix()+int64(c))
				for f := range 100 {
					if c > 0 && (c+f)%7 != 0 {
						continue
					}
					content := testgit.Lines(fmt.Sprintf("file %d version %d", f, c), 300)
					fmt.Fprintf(w, "M 100644 inline src/f%03d.go\ndata %d\n%s\n", f, len(content), content)
				}
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		r.Git("repack", "-a", "-d", "-q")
		dir = r.Dir
	}
	repo, err := FindRepository(dir)
	if err != nil {
		b.Fatal(err)
	}
	return repo
}

// fastImport feeds git fast-import.
func fastImport(r *testgit.Repo, feed func(*bufio.Writer)) error {
	return feedCmd(r.Cmd("", nil, "fast-import", "--quiet"), feed)
}

// feedCmd runs cmd with what feed writes as its standard input.
func feedCmd(cmd *exec.Cmd, feed func(*bufio.Writer)) error {
	cmd.Stdin = nil // testgit's Cmd sets an empty one
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	w := bufio.NewWriterSize(in, 1<<20)
	feed(w)
	ferr := w.Flush()
	in.Close()
	if err := cmd.Wait(); err != nil {
		return err
	}
	return ferr
}

// BenchmarkBlobRead reads every blob of the packs: with the sweep alone,
// with the sweep and a bytes.Index pass (the floor a scan can reach), with
// the sweep and the detector (a scan without the tree walk), and with
// go-git's blob iterator (what the history scan used before the pack
// reader; skipped on a big LOFTYSCAN_BENCH_REPO: it takes minutes).
func BenchmarkBlobRead(b *testing.B) {
	repo := benchGitRepo(b)
	store := gitobj.Open(filepath.Join(repo.CommonDir, "objects"), nil)
	defer store.Close()
	blobs := gitobj.SweepOptions{Workers: runtime.GOMAXPROCS(0), Types: gitobj.TypesOf(plumbing.BlobObject)}
	var total atomic.Int64
	sweep := func(b *testing.B, visit func(w int, data []byte)) {
		for b.Loop() {
			total.Store(0)
			store.Sweep(context.Background(), blobs, func(w int, _ plumbing.Hash, _ plumbing.ObjectType, data []byte) {
				total.Add(int64(len(data)))
				visit(w, data)
			})
		}
		b.SetBytes(total.Load())
	}
	b.Run("sweep", func(b *testing.B) { sweep(b, func(int, []byte) {}) })
	b.Run("sweep+index", func(b *testing.B) {
		sweep(b, func(_ int, data []byte) { bytes.Index(data, []byte("eyJ")) })
	})
	b.Run("sweep+detector", func(b *testing.B) {
		r := scanner.New(scanner.DefaultOptions()).Start(&scanner.Collector{})
		workers := make([]*scanner.Worker, runtime.GOMAXPROCS(0))
		for i := range workers {
			workers[i] = r.NewWorker()
		}
		sweep(b, func(w int, data []byte) { workers[w].ScanBytes(context.Background(), "blob", data) })
	})
	b.Run("go-git", func(b *testing.B) {
		if os.Getenv("LOFTYSCAN_BENCH_REPO") != "" && os.Getenv("LOFTYSCAN_BENCH_GOGIT") == "" {
			b.Skip("set LOFTYSCAN_BENCH_GOGIT=1 to read a big repository with go-git")
		}
		st := repo.storage(cache.DefaultMaxSize)
		defer st.Close()
		for b.Loop() {
			total.Store(0)
			iter, err := st.IterEncodedObjects(plumbing.BlobObject)
			if err != nil {
				b.Fatal(err)
			}
			iter.ForEach(func(o plumbing.EncodedObject) error {
				rd, err := o.Reader()
				if err != nil {
					return err
				}
				n, err := io.Copy(io.Discard, rd)
				rd.Close()
				total.Add(n)
				return err
			})
		}
		b.SetBytes(total.Load())
	})
}

// BenchmarkAttribution is what finding each blob's first commit and path
// costs: listing the commits and walking every unique tree once, oldest
// commit first. It reports that cost as a share of reading every blob
// (read-%), which the design keeps under 30.
func BenchmarkAttribution(b *testing.B) {
	repo := benchGitRepo(b)
	store := gitobj.Open(filepath.Join(repo.CommonDir, "objects"), nil)
	start := time.Now()
	store.Sweep(context.Background(), gitobj.SweepOptions{Workers: runtime.GOMAXPROCS(0), Types: gitobj.TypesOf(plumbing.BlobObject)}, func(int, plumbing.Hash, plumbing.ObjectType, []byte) {})
	read := time.Since(start)
	store.Close()
	var trees, blobs int
	var spent time.Duration
	for b.Loop() {
		start := time.Now()
		g, err := repo.open(tuning{})
		if err != nil {
			b.Fatal(err)
		}
		gs := newGitSink(&scanner.Collector{})
		r := scanner.New(scanner.DefaultOptions()).Start(gs)
		sel, err := g.selectCommits(context.Background(), r, revSet{all: true})
		if err != nil {
			b.Fatal(err)
		}
		w := g.walkHistory(context.Background(), r, gs, sel)
		trees, blobs = len(sel.commits), len(w.blobs)
		g.close()
		spent += time.Since(start)
	}
	b.ReportMetric(float64(trees), "commits")
	b.ReportMetric(float64(blobs), "blobs")
	b.ReportMetric(100*float64(spent)/float64(b.N)/float64(read), "read-%")
}
