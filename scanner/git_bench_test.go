package scanner

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
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
	requireGit(b)
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
	git := func(feed func(*bufio.Writer), args ...string) error {
		cmd := exec.Command("git", append(append([]string(nil), gitArgs...), args...)...)
		cmd.Dir = dir
		cmd.Env = gitEnv(home, gitEpoch)
		if feed == nil {
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("git %v: %v\n%s", args, err, out)
			}
			return nil
		}
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
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := git(nil, "init", "-q"); err != nil {
		return "", err
	}
	key := gitTestKey("bench")
	err := git(func(w *bufio.Writer) {
		when := gitEpoch.Unix()
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

// BenchmarkStaged is the pre-commit check: one new file staged in a
// repository of 100,000 commits. It must stay well under 100 ms.
func BenchmarkStaged(b *testing.B) {
	dir := benchRepo(b)
	r := &gitTestRepo{t: b, dir: dir, home: filepath.Join(filepath.Dir(dir), "home")}
	k := gitTestKey("bench-staged")
	r.write("dir42/new.env", "LOFTY_API_KEY="+k+"\n")
	r.git("add", "dir42/new.env")
	defer r.git("rm", "-q", "--cached", "dir42/new.env")
	repo := r.repository()
	s := New(DefaultOptions())
	b.ResetTimer()
	var worst time.Duration
	for b.Loop() {
		start := time.Now()
		c := &Collector{}
		if _, err := s.ScanStaged(context.Background(), repo, "", c); err != nil {
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
	s := New(DefaultOptions())
	for b.Loop() {
		c := &Collector{}
		st, err := s.ScanGit(context.Background(), repo, GitOptions{}, c)
		if err != nil {
			b.Fatal(err)
		}
		if len(c.Findings) != 1 {
			b.Fatalf("%d findings, want 1", len(c.Findings))
		}
		b.ReportMetric(float64(st.Files), "blobs")
	}
}
