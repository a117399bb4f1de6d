package gitscan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/gitobj"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/internal/testtool"
	"github.com/loftyscan/loftyscan/scanner"
)

// Hostile repositories, built byte by byte where git will not make them
// (internal/testgit: packs, loose objects, trees), each on top of a history
// that holds a key in an ordinary commit. Each scan must end (a deadline
// far past what it needs), report the ordinary key, name the crafted object
// in a warning where it is not wholly read, and stay within its memory: the
// bytes it allocates, measured in-process, stay far below what holding the
// object would take. These tests do not run in parallel, so the process's
// allocations are theirs; the whole binary's peak memory on full-size
// versions is measured in e2e (TestHostileMemory).

// hostileRepo is a repository whose first commit holds a key in kept.env.
func hostileRepo(t *testing.T) (*testgit.Repo, string, string) {
	r := testgit.New(t, "")
	key := gitTestKey("kept")
	r.Write("kept.env", "LOFTY_API_KEY="+key+"\n")
	return r, key, r.Commit("an ordinary key")
}

// scanBounded scans repo with opts within a deadline and returns what it
// found and how many bytes it allocated.
func scanBounded(t *testing.T, repo *Repository, opts HistoryOptions) ([]finding.Finding, *scanner.Collector, uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := &scanner.Collector{}
	var err error
	mem := allocatedBy(func() { _, err = ScanHistory(ctx, scanner.New(scanner.DefaultOptions()), repo, opts, c) })
	if err != nil {
		t.Fatalf("scan: %v (warnings %v)", err, c.Warnings)
	}
	t.Logf("%+v: allocated %.1f MiB", opts, float64(mem)/(1<<20))
	return c.Sorted(), c, mem
}

// keysFound counts the findings of each key.
func keysFound(fs []finding.Finding) map[string]int {
	out := map[string]int{}
	for _, f := range fs {
		out[f.Secret]++
	}
	return out
}

// warned returns the warnings whose path and message hold all of parts.
func warned(c *scanner.Collector, parts ...string) []finding.Warning {
	var out []finding.Warning
	for _, w := range c.Warnings {
		all := true
		for _, p := range parts {
			if !strings.Contains(w.Path+": "+w.Message, p) {
				all = false
			}
		}
		if all {
			out = append(out, w)
		}
	}
	return out
}

// TestHostileDeltaBomb: one delta of a 600-byte pack makes a 96 MiB blob,
// 64 KiB holding a key repeated. The blob is streamed, whether the scan
// sweeps the packs (all history) or reads blobs one by one (a range): the
// key is reported at its first places, the rest counted in a warning that
// names the file, and the ordinary key is kept.
func TestHostileDeltaBomb(t *testing.T) {
	if raceBuild {
		t.Skip("streams 96 MiB a few times (30 s under -race): .ci/run runs it without -race")
	}
	r, kept, first := hostileRepo(t)
	bombKey := gitTestKey("bomb")
	base := []byte("LOFTY_API_KEY=" + bombKey + "\n")
	base = append(base, strings.Repeat("x", 64<<10-len(base)-1)+"\n"...)
	const size = 96 << 20
	bomb := r.DeltaBomb(base, size)
	r.CommitFiles("a crafted blob", map[string]plumbing.Hash{"bomb.bin": bomb})
	for _, opts := range []HistoryOptions{{}, {Exclude: []string{first}, Refs: []string{"HEAD"}}} {
		got, c, mem := scanBounded(t, repoOf(r), opts)
		keys := keysFound(got)
		if keys[bombKey] != 100 || (len(opts.Exclude) == 0 && keys[kept] != 1) {
			t.Errorf("%+v: findings of each key %v; want 100 of the bomb's and the ordinary one", opts, keys)
		}
		if w := warned(c, "bomb.bin", fmt.Sprintf("%d more findings", size/(64<<10)-100)); len(w) != 1 {
			t.Errorf("%+v: warnings %v; want one about bomb.bin's other places", opts, c.Warnings)
		}
		if mem > 48<<20 {
			t.Errorf("%+v: allocated %d MiB to scan a 96 MiB blob", opts, mem>>20)
		}
	}
}

// TestHostileLoose: loose objects written by hand. A 64 MiB blob of zeros
// (64 KiB on disk) is streamed; one whose header says "blob 10" inflates
// to 64 MiB and is reported by name, never held.
func TestHostileLoose(t *testing.T) {
	if raceBuild {
		t.Skip("streams 64 MiB loose objects (27 s under -race): .ci/run runs it without -race")
	}
	r, kept, _ := hostileRepo(t)
	const size = 64 << 20
	objects := r.ObjectsDir()
	zeros := testgit.WriteLoose(t, objects, fmt.Sprintf("blob %d", size), testgit.Zeros(size))
	lies := testgit.WriteLoose(t, objects, "blob 10", testgit.Zeros(size))
	r.CommitFiles("crafted loose objects", map[string]plumbing.Hash{"zeros.bin": zeros, "lies.bin": lies})
	got, c, mem := scanBounded(t, repoOf(r), HistoryOptions{})
	if keys := keysFound(got); len(keys) != 1 || keys[kept] != 1 {
		t.Errorf("findings %v; want the ordinary key", keys)
	}
	if w := warned(c, "lies.bin", lies.String(), "longer than its header says"); len(w) != 1 || len(c.Warnings) != 1 {
		t.Errorf("warnings %v; want one naming lies.bin's blob", c.Warnings)
	}
	if mem > 32<<20 {
		t.Errorf("allocated %d MiB to scan 64 MiB of zeros and refuse a lying header", mem>>20)
	}
}

// TestHostileDeepTree: trees nested 30,000 deep, a key at the bottom, and
// a key in an ordinary commit after them. The walk stops at its bound
// with a warning that names the tree, in a scan of a range as in a scan of
// everything, with memory that does not grow with the depth squared.
func TestHostileDeepTree(t *testing.T) {
	if raceBuild {
		t.Skip("walks trees 30,000 deep (25 s under -race): .ci/run runs it without -race")
	}
	r, kept, first := hostileRepo(t)
	deepKey, laterKey := gitTestKey("deep"), gitTestKey("later")
	leaf := testgit.WriteLoose(t, r.ObjectsDir(), fmt.Sprintf("blob %d", len("LOFTY_API_KEY="+deepKey+"\n")), strings.NewReader("LOFTY_API_KEY="+deepKey+"\n"))
	top := r.DeepTree(30_000, leaf)
	msg := filepath.Join(t.TempDir(), "msg")
	os.WriteFile(msg, []byte("trees nested 30,000 deep\n"), 0o644)
	r.CommitOnHead(top, msg)
	// git itself crashes on a commit after such trees: the next commit
	// is made with its plumbing too.
	later := testgit.WriteLoose(t, r.ObjectsDir(), fmt.Sprintf("blob %d", len("LOFTY_API_KEY="+laterKey+"\n")), strings.NewReader("LOFTY_API_KEY="+laterKey+"\n"))
	r.CommitFiles("a key after the deep trees", map[string]plumbing.Hash{"later.env": later})
	for _, opts := range []HistoryOptions{{}, {Exclude: []string{first}, Refs: []string{"HEAD"}}} {
		got, c, mem := scanBounded(t, repoOf(r), opts)
		keys := keysFound(got)
		// A scan of everything reads every blob of the object database: the
		// one past the bound is reported as a blob no walk reached, under its
		// hash, and the warning says why the walk did not.
		everything := len(opts.Exclude) == 0
		if keys[laterKey] != 1 || keys[deepKey] != boolInt(everything) || (everything && keys[kept] != 1) {
			t.Errorf("%+v: findings %v; want the ordinary keys, and the deep one only in a scan of everything", opts, keys)
		}
		for _, f := range got {
			if f.Secret == deepKey && (f.Path != leaf.String() || f.Commit != "" || !f.Unreachable) {
				t.Errorf("the deep key at %q in commit %q; want it at its blob's hash, in no commit", f.Path, f.Commit)
			}
		}
		if w := warned(c, "nested more than 4096"); len(w) != 1 || !strings.HasPrefix(w[0].Path, "d/d/d/") {
			t.Errorf("%+v: warnings %v; want one about the deep tree", opts, c.Warnings)
		}
		if mem > 64<<20 {
			t.Errorf("%+v: allocated %d MiB to walk trees 30,000 deep", opts, mem>>20)
		}
	}
}

// TestHostileCommitMessage: a commit whose message is 48 MiB, most of it
// one line. Its tree's key is reported, the subject cut to a readable
// length, and the message never held whole: a key near its start is found
// in it, one past the first MiB is not, and a warning names the commit
// whose message was cut. So in a scan of every ref and of a range.
func TestHostileCommitMessage(t *testing.T) {
	r, kept, base := hostileRepo(t)
	key := gitTestKey("long message")
	early, late := gitTestKey("early in the message"), gitTestKey("late in the message")
	msg := filepath.Join(t.TempDir(), "msg")
	long := strings.Repeat("long ", 300) + "\n\nLOFTY_API_KEY=" + early + "\n" + strings.Repeat("long ", 48<<20/5) + "\nLOFTY_API_KEY=" + late + "\n"
	if err := os.WriteFile(msg, []byte(long), 0o644); err != nil {
		t.Fatal(err)
	}
	blob := testgit.WriteLoose(t, r.ObjectsDir(), fmt.Sprintf("blob %d", len("LOFTY_API_KEY="+key+"\n")), strings.NewReader("LOFTY_API_KEY="+key+"\n"))
	c := r.CommitOnHead(r.MkTree(testgit.TreeEntry{Mode: "100644", Hash: blob, Name: "k.env"}), msg)
	for _, opts := range []HistoryOptions{{}, {Refs: []string{"HEAD"}, Exclude: []string{base}}} {
		got, col, mem := scanBounded(t, repoOf(r), opts)
		keys := keysFound(got)
		if keys[key] != 1 || keys[early] != 1 || keys[late] != 0 || keys[kept] != boolInt(len(opts.Exclude) == 0) {
			t.Errorf("%+v: findings %v; want the tree's key and the one early in the message", opts, keys)
		}
		if w := warned(col, "commit "+c, "only the first 1048576 were scanned"); len(w) != 1 || len(col.Warnings) != 1 {
			t.Errorf("%+v: warnings %v; want one that names the commit whose message was cut", opts, col.Warnings)
		}
		for _, f := range got {
			if f.Secret == key && (len(f.Message) > 1100 || !strings.HasPrefix(f.Message, "long long") || !strings.HasSuffix(f.Message, "…")) {
				t.Errorf("subject of %d bytes: %.40q…; want it cut", len(f.Message), f.Message)
			}
			if f.Secret == early && (f.Location != finding.InCommitMessage || f.Commit != c || f.Line != 3) {
				t.Errorf("key in the message: %s line %d of commit %s; want line 3 of the message of %s", f.Location, f.Line, f.Commit, c)
			}
		}
		if mem > 32<<20 {
			t.Errorf("%+v: allocated %d MiB for a 48 MiB commit message", opts, mem>>20)
		}
	}
}

// boolInt is 1 for true.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestHostileErrorBody clones from a server on loopback that answers 404
// with 256 MiB, with go-git and with the git command: the clone fails, its
// error quotes no more than a few KiB of the body (go-git's the first 2
// KiB, git's the end of what git printed), and the body is not held.
func TestHostileErrorBody(t *testing.T) {
	const size = 256 << 20
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.WriteHeader(http.StatusNotFound)
		line := []byte(strings.Repeat("not here ", 100) + "\n")
		for n := 0; n < size; n += len(line) {
			if _, err := w.Write(line[:min(len(line), size-n)]); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	gitBin := testtool.Need(t, "git")
	for _, c := range []struct {
		name  string
		clone func(ctx context.Context, url, dir string) (*Repository, error)
		max   int
	}{
		{"go-git", cloneWithGoGit, 4 << 10},
		{"git", func(ctx context.Context, url, dir string) (*Repository, error) {
			return cloneWithGit(ctx, gitBin, url, dir, CloneOptions{})
		}, cloneErrTail + 1<<10},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		var err error
		mem := allocatedBy(func() {
			_, err = c.clone(ctx, srv.URL+"/x.git", filepath.Join(t.TempDir(), "clone"))
		})
		cancel()
		if err == nil || len(err.Error()) > c.max || !strings.Contains(err.Error(), "not here") {
			t.Errorf("%s: error of %d bytes: %.200q; want some of the body, at most %d bytes", c.name, len(fmt.Sprint(err)), fmt.Sprint(err), c.max)
		}
		if mem > 16<<20 {
			t.Errorf("%s: allocated %d MiB for a 256 MiB error page", c.name, mem>>20)
		}
	}
}

// allocatedBy runs fn and returns the bytes it allocated.
func allocatedBy(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHostileCommitHeaders: a commit of 40 MiB, as git makes and reads
// one: an author line of 1.1 MB (as a commit of 22,000 parents has 1 MB of
// headers before its author) and a signature of 40 MiB, then a header
// and a message each holding a key; its tree holds another. The three
// keys are reported, in a scan of every ref and of a range, with no
// warning and without holding the commit: its headers were once read
// only up to their first MiB, so the walk said the commit was "missing or
// corrupt" and skipped it and the history behind it (a range that held
// only it reported nothing, exit 0), and its message was not scanned;
// then the headers past their first MiB were not scanned, and the key
// after the signature was missed.
func TestHostileCommitHeaders(t *testing.T) {
	if raceBuild {
		t.Skip("scans 40 MiB of signature lines twice (2 minutes under -race): .ci/run runs it without -race")
	}
	r, kept, base := hostileRepo(t)
	inTree, inMessage, inHeader := gitTestKey("tree of a signed commit"), gitTestKey("message of a signed commit"), gitTestKey("header of a signed commit")
	blob := testgit.WriteLoose(t, r.ObjectsDir(), fmt.Sprintf("blob %d", len("LOFTY_API_KEY="+inTree+"\n")), strings.NewReader("LOFTY_API_KEY="+inTree+"\n"))
	tree := r.MkTree(testgit.TreeEntry{Mode: "100644", Hash: blob, Name: "k.env"})
	c := writeSignedCommit(t, r, base, tree, inMessage, inHeader)
	r.Git("update-ref", "HEAD", c.String())
	if got := r.Git("log", "-1", "--format=%s", "HEAD"); strings.TrimSpace(got) != "signed commit" {
		t.Fatalf("git log reads the commit's subject as %q", got)
	}
	for _, opts := range []HistoryOptions{{}, {Refs: []string{"HEAD"}, Exclude: []string{base}}} {
		got, col, mem := scanBounded(t, repoOf(r), opts)
		keys := keysFound(got)
		if keys[inTree] != 1 || keys[inMessage] != 1 || keys[inHeader] != 1 || keys[kept] != boolInt(len(opts.Exclude) == 0) {
			t.Errorf("%+v: findings %v; want the signed commit's three keys", opts, keys)
		}
		for _, f := range got {
			if f.Secret != kept && (f.Commit != c.String() || f.Message != "signed commit") {
				t.Errorf("%+v: key in %s of commit %s %q; want commit %s, \"signed commit\"", opts, f.Location, f.Commit, f.Message, c)
			}
			if f.Secret == inHeader && (f.Location != finding.InCommitHeader || f.Line != signedHeaderLine || f.Column != 8) {
				t.Errorf("%+v: the key after the signature at %s line %d column %d; want %s line %d column 8", opts, f.Location, f.Line, f.Column, finding.InCommitHeader, signedHeaderLine)
			}
		}
		if len(col.Warnings) != 0 {
			t.Errorf("%+v: warnings %v; want none", opts, col.Warnings)
		}
		if mem > 32<<20 {
			t.Errorf("%+v: allocated %d MiB for a 40 MiB commit", opts, mem>>20)
		}
	}
}

// signedSigLines is how many lines the signature of writeSignedCommit's
// commit has between its first and last, and signedHeaderLine the line
// of the header after it.
const (
	signedSigLines   = 40 << 20 / 64
	signedHeaderLine = 5 + signedSigLines + 2
)

// writeSignedCommit writes, loose in r, a commit of tree on parent whose
// author line is 1.1 MB and whose signature is 40 MiB, with the subject
// "signed commit" and the key in its message's body; with headerKey, a
// header after the signature holds it, at signedHeaderLine, column 8.
func writeSignedCommit(t *testing.T, r *testgit.Repo, parent string, tree plumbing.Hash, key, headerKey string) plumbing.Hash {
	t.Helper()
	const sigLines = signedSigLines
	head := "tree " + tree.String() + "\nparent " + parent + "\nauthor " + strings.Repeat("A", 1100_000) +
		" <a@example.com> 1700000000 +0000\ncommitter A <a@example.com> 1700000000 +0000\ngpgsig -----BEGIN PGP SIGNATURE-----\n"
	sigLine := " " + strings.Repeat("A", 62) + "\n"
	tail := " -----END PGP SIGNATURE-----\n"
	if headerKey != "" {
		tail += "x-note " + headerKey + "\n"
	}
	tail += "\nsigned commit\n\nLOFTY_API_KEY=" + key + "\n"
	size := len(head) + sigLines*len(sigLine) + len(tail)
	content := io.MultiReader(strings.NewReader(head), strings.NewReader(strings.Repeat(sigLine, sigLines)), strings.NewReader(tail))
	return testgit.WriteLoose(t, r.ObjectsDir(), fmt.Sprintf("commit %d", size), content)
}

// TestHostileTagChain: a ref to a tag of a tag of ... 40 deep, which git
// follows (git log reads it). loftyscan stops at maxTagChain; a scan of
// every ref says so in a warning that names the ref, where it once called
// the tag a commit "missing or corrupt (object not found)", and still
// reports the tagged commit's key (the sweep reads every object); a
// scan of the ref alone says why it cannot resolve it.
func TestHostileTagChain(t *testing.T) {
	r, kept, _ := hostileRepo(t)
	key := gitTestKey("behind 40 tags")
	r.Git("checkout", "-q", "-b", "side")
	r.Write("deep.env", "LOFTY_API_KEY="+key+"\n")
	target := r.Commit("tagged deep")
	r.Git("checkout", "-q", "main")
	r.Git("branch", "-D", "side")
	prev := target
	for i := range 40 {
		r.Git("tag", "-a", "-m", "tag", fmt.Sprintf("t%d", i), prev)
		prev = fmt.Sprintf("t%d", i)
	}
	for i := range 39 { // the tag objects stay; only the last keeps a ref
		r.Git("update-ref", "-d", fmt.Sprintf("refs/tags/t%d", i))
	}
	if got := strings.TrimSpace(r.Git("rev-parse", "t39^{commit}")); got != target {
		t.Fatalf("git peels t39 to %s, want %s", got, target)
	}
	got, col, _ := scanBounded(t, repoOf(r), HistoryOptions{})
	if keys := keysFound(got); keys[key] != 1 || keys[kept] != 1 {
		t.Errorf("findings %v; want both keys", keys)
	}
	if w := warned(col, "refs/tags/t39", "more than 32 tags of tags"); len(w) != 1 || len(warned(col, "missing or corrupt")) != 0 {
		t.Errorf("warnings %v; want one that names refs/tags/t39 and its chain of tags", col.Warnings)
	}
	_, err := ScanHistory(context.Background(), scanner.New(scanner.DefaultOptions()), repoOf(r), HistoryOptions{Refs: []string{"t39"}}, &scanner.Collector{})
	if err == nil || !strings.Contains(err.Error(), "more than 32 tags of tags") {
		t.Errorf("a scan of t39: %v; want an error about its chain of tags", err)
	}
}

// TestTagChainAtLimit: a chain of exactly maxTagChain tags of tags is
// within the limit the README and the error give ("more than 32"): a
// scan of its ref, of every ref, and a push of it read the tagged commit.
// The loops once counted the commit at the chain's end as one of the 32,
// so that 32 tags were refused as "more than 32".
func TestTagChainAtLimit(t *testing.T) {
	r, kept, _ := hostileRepo(t)
	key := gitTestKey("behind 32 tags")
	r.Write("deep.env", "LOFTY_API_KEY="+key+"\n")
	r.Commit("tagged deep")
	prev := "HEAD"
	for i := range maxTagChain {
		r.Git("tag", "-a", "-m", "tag", fmt.Sprintf("t%d", i), prev)
		prev = fmt.Sprintf("t%d", i)
	}
	last := fmt.Sprintf("refs/tags/t%d", maxTagChain-1)
	got, col, _ := scanBounded(t, repoOf(r), HistoryOptions{Refs: []string{last}})
	if keys := keysFound(got); keys[key] != 1 || keys[kept] != 1 {
		t.Errorf("a scan of %s found %v; want both keys", last, keys)
	}
	if w := warned(col, "tags of tags"); len(w) != 0 {
		t.Errorf("warnings %v; want none for a chain of %d tags", w, maxTagChain)
	}
	_, col, _ = scanBounded(t, repoOf(r), HistoryOptions{})
	if w := warned(col, "tags of tags"); len(w) != 0 {
		t.Errorf("a scan of every ref warned %v; want nothing for a chain of %d tags", w, maxTagChain)
	}
	g, err := repoOf(r).open(tuning{})
	if err != nil {
		t.Fatal(err)
	}
	if _, typ, tags, err := g.peel(plumbing.NewHash(strings.TrimSpace(r.Git("rev-parse", last)))); err != nil || typ != plumbing.CommitObject || len(tags) != maxTagChain {
		t.Errorf("peel of a push of %s: %v, %d tags, %v; want the commit and %d tags", last, typ, len(tags), err, maxTagChain)
	}
	if n := len(g.tagChain(last)); n != maxTagChain {
		t.Errorf("tagChain(%s) holds %d tags, want %d", last, n, maxTagChain)
	}
}

// TestHostileConfigSections: a repository config of 40,000 remote
// sections (a 2.6 MB file git reads at once, as a copied .git folder may
// hold) took go-git's parser 8 s of CPU, 2 million sections hours, before
// the scan began. Past maxConfigSections the scan now stops at once with
// an error that names the file; a config of a few hundred sections is
// read and the key reported.
func TestHostileConfigSections(t *testing.T) {
	r, kept, _ := hostileRepo(t)
	cfg := filepath.Join(r.Dir, ".git", "config")
	appendSections := func(from, to int) {
		f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i := from; i < to; i++ {
			fmt.Fprintf(f, "[remote \"r%d\"]\n\turl = https://example.com/%d\n", i, i)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	appendSections(0, 300)
	got, _, _ := scanBounded(t, repoOf(r), HistoryOptions{})
	if keys := keysFound(got); keys[kept] != 1 {
		t.Fatalf("with 300 remotes: findings %v; want the key", keys)
	}
	appendSections(300, 40_000)
	_, err := ScanHistory(context.Background(), scanner.New(scanner.DefaultOptions()), repoOf(r), HistoryOptions{}, &scanner.Collector{})
	if err == nil || !strings.Contains(err.Error(), cfg+" holds more than 10000 sections") {
		t.Fatalf("with 40,000 remotes: %v; want an error that names the config", err)
	}
}

// TestHostileConfigLines: a config under the section cap can still cost
// go-git sections times lines: each option line looks its section (and
// subsection) up by a linear search from the last one, so 9,990 remotes
// and then the first reopened with 200,000 option lines under it (a 1.5
// MB file) took 3.3 s of CPU, and 100 MB of them would take most of an
// hour and a GB of memory. Past maxConfigLines lines the scan stops at
// once with an error that names the file, as past maxConfigSections.
func TestHostileConfigLines(t *testing.T) {
	if raceBuild {
		t.Skip("parses configs of 200,000 lines (27 s under -race): .ci/run runs it without -race")
	}
	r, kept, _ := hostileRepo(t)
	cfg := filepath.Join(r.Dir, ".git", "config")
	var b strings.Builder
	for i := range 9_990 {
		fmt.Fprintf(&b, "[remote \"r%d\"]\n", i)
	}
	b.WriteString("[remote \"r0\"]\n")
	withLines := func(n int) string { return b.String() + strings.Repeat("\tx = y\n", n) }
	orig, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	base := string(orig)
	if err := os.WriteFile(cfg, []byte(base+withLines(20_000)), 0o644); err != nil {
		t.Fatal(err)
	}
	got, _, _ := scanBounded(t, repoOf(r), HistoryOptions{})
	if keys := keysFound(got); keys[kept] != 1 {
		t.Fatalf("with 30,000 lines: findings %v; want the key", keys)
	}
	if err := os.WriteFile(cfg, []byte(base+withLines(200_000)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ScanHistory(context.Background(), scanner.New(scanner.DefaultOptions()), repoOf(r), HistoryOptions{}, &scanner.Collector{})
	if err == nil || !strings.Contains(err.Error(), cfg+" holds more than 50000 lines") {
		t.Fatalf("with 210,000 lines: %v; want an error that names the config", err)
	}
}

// TestHostilePushManyRefs: a pre-push of 100 annotated tags in a clone of
// 20,000 refs scans each tag's message, without reading packed-refs again
// for each: go-git read the whole file for every name it did not find,
// five a pushed ref (the tag's object name looked up as a ref), so the
// bytes allocated grew with pushed refs times refs (1.6 GiB here, 0.24
// GiB now; a pre-push of 500 tags in a clone of 300,000 refs took 207 s
// of CPU, 4.7 s now).
func TestHostilePushManyRefs(t *testing.T) {
	if raceBuild {
		t.Skip("pushes hundreds of refs (43 s under -race): .ci/run runs it without -race")
	}
	r, kept, _ := hostileRepo(t)
	key := gitTestKey("in a tag message")
	r.Git("tag", "-a", "-m", "LOFTY_API_KEY="+key, "keyed")
	tag := strings.TrimSpace(r.Git("rev-parse", "keyed"))
	var packed strings.Builder
	for i := range 20_000 {
		fmt.Fprintf(&packed, "%s refs/tags/t%05d\n", tag, i)
	}
	if err := os.WriteFile(filepath.Join(r.Dir, ".git", "packed-refs"), []byte(packed.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var updates []RefUpdate
	for i := range 100 {
		updates = append(updates, RefUpdate{LocalRef: fmt.Sprintf("refs/tags/t%05d", i), LocalHash: tag, RemoteRef: fmt.Sprintf("refs/tags/t%05d", i), RemoteHash: strings.Repeat("0", 40)})
	}
	c := &scanner.Collector{}
	var err error
	mem := allocatedBy(func() {
		_, err = ScanPush(context.Background(), scanner.New(scanner.DefaultOptions()), repoOf(r), PushRemote{}, updates, c)
	})
	if err != nil {
		t.Fatal(err)
	}
	if keys := keysFound(c.Sorted()); keys[key] != 1 || keys[kept] != 1 {
		t.Errorf("findings %v; want the tag message's key and the commit's", keys)
	}
	t.Logf("allocated %.1f MiB", float64(mem)/(1<<20))
	if mem > 512<<20 {
		t.Errorf("allocated %d MiB to push 100 tags among 20,000 refs", mem>>20)
	}
}

// TestMessageOfHugeHeaders: a message scan holds at most the first MiB
// of a streamed commit's headers, whatever they are, and still finds the
// message and its exact length. Every worker scans messages at once
// (-j up to 256), so the 64 MiB of header lines the walk keeps of a commit
// of a million parents (readCommitHead, one commit at a time) must not be
// kept by each of them: eight commits of 62 MB of parent lines, a 3 MB
// repository, once took 1.2 GB with -j 8. Here the author line (not a
// signature's, which was always dropped) is 20 MiB.
func TestMessageOfHugeHeaders(t *testing.T) {
	r, _, base := hostileRepo(t)
	key := gitTestKey("message after a 20 MiB author")
	tree := strings.TrimSpace(r.Git("rev-parse", base+"^{tree}"))
	msg := "big author\n\nLOFTY_API_KEY=" + key + "\n"
	content := "tree " + tree + "\nparent " + base + "\nauthor " + strings.Repeat("A", 20<<20) +
		" <a@example.com> 1700000000 +0000\ncommitter A <a@example.com> 1700000000 +0000\n\n" + msg
	h := testgit.WriteLoose(t, r.ObjectsDir(), fmt.Sprintf("commit %d", len(content)), strings.NewReader(content))
	g, err := repoOf(r).open(tuning{})
	if err != nil {
		t.Fatal(err)
	}
	rd := g.store.WorkerReader(0, scanner.MaxWorkers)
	var data []byte
	var size int64
	mem := allocatedBy(func() {
		o, err := rd.Open(h)
		if err != nil || o.Stream == nil {
			t.Fatalf("open: %v, streamed %v; want a stream", err, o.Stream != nil)
		}
		data, size, err = messageContent(o, nil)
		if err != nil {
			t.Fatal(err)
		}
	})
	if got := string(messageOf(data)); got != msg {
		t.Errorf("message %.80q; want %q", got, msg)
	}
	if length := int64(len(messageOf(data))) + size - int64(len(data)); length != int64(len(msg)) {
		t.Errorf("message length %d; want %d", length, len(msg))
	}
	if mem > 4<<20 {
		t.Errorf("a message scan allocated %.1f MiB for a commit of 20 MiB headers; want under 4", float64(mem)/(1<<20))
	}
}

// TestHostileAuthorLength: a finding's author and email are cut at
// gitobj.MaxAuthor bytes, as its subject is at MaxSubject: git writes a
// commit whose author is 2 MB (and the walk reads one of up to 64 MiB),
// and every finding of the commit once carried all of it into every
// report, a 2 MB JSON field for each key.
func TestHostileAuthorLength(t *testing.T) {
	r, _, base := hostileRepo(t)
	key := gitTestKey("under a long author")
	r.Write("deep.env", "LOFTY_API_KEY="+key+"\n")
	r.Git("add", "deep.env")
	tree := strings.TrimSpace(r.Git("write-tree"))
	content := "tree " + tree + "\nparent " + base + "\nauthor " + strings.Repeat("é", 1<<20) + " <" + strings.Repeat("e", 1<<20) +
		"@example.com> 1700000000 +0000\ncommitter A <a@example.com> 1700000000 +0000\n\nlong author\n"
	h := testgit.WriteLoose(t, r.ObjectsDir(), fmt.Sprintf("commit %d", len(content)), strings.NewReader(content))
	r.Git("update-ref", "HEAD", h.String())
	got, _, _ := scanBounded(t, repoOf(r), HistoryOptions{})
	n := 0
	for _, f := range got {
		if f.Secret != key {
			continue
		}
		n++
		if len(f.Author) > gitobj.MaxAuthor+len("…") || len(f.Email) > gitobj.MaxAuthor+len("…") || !utf8.ValidString(f.Author) {
			t.Errorf("author of %d bytes, email of %d; want at most %d each, cut between characters", len(f.Author), len(f.Email), gitobj.MaxAuthor)
		}
		if !strings.HasPrefix(f.Author, "éé") || !strings.HasSuffix(f.Author, "…") {
			t.Errorf("author %.20q…; want its start and a mark that it was cut", f.Author)
		}
	}
	if n != 1 {
		t.Errorf("%d findings of the key; want 1", n)
	}
}

// TestHostileTagTextLength: a finding in an annotated tag's message shows
// the tagger, email and subject cut as a commit's are (gitobj.MaxAuthor,
// MaxSubject): a tag whose subject line is 200 KB once carried it whole
// into every report, as it did a tagger of 100 KB.
func TestHostileTagTextLength(t *testing.T) {
	r, _, _ := hostileRepo(t)
	key := gitTestKey("in a tag with a long subject")
	msg := filepath.Join(t.TempDir(), "msg")
	if err := os.WriteFile(msg, []byte(strings.Repeat("s", 200_000)+"\n\nLOFTY_API_KEY="+key+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("T", 100_000)
	r.GitEnv([]string{"GIT_COMMITTER_NAME=" + long, "GIT_COMMITTER_EMAIL=" + long + "@example.com"}, "tag", "-a", "-F", msg, "long")
	got, _, _ := scanBounded(t, repoOf(r), HistoryOptions{})
	n := 0
	for _, f := range got {
		if f.Secret != key {
			continue
		}
		n++
		if len(f.Message) > gitobj.MaxSubject+len("…") || len(f.Author) > gitobj.MaxAuthor+len("…") || len(f.Email) > gitobj.MaxAuthor+len("…") {
			t.Errorf("subject of %d bytes, tagger of %d, email of %d; want at most %d, %d, %d", len(f.Message), len(f.Author), len(f.Email), gitobj.MaxSubject, gitobj.MaxAuthor, gitobj.MaxAuthor)
		}
	}
	if n != 1 {
		t.Errorf("%d findings of the key; want 1", n)
	}
}

// TestHostileTagNameLength: the name of a tag no ref reaches is the one its
// object holds, any length: a finding in its message shows it cut at
// gitobj.MaxSubject bytes, as its subject.
func TestHostileTagNameLength(t *testing.T) {
	r, _, base := hostileRepo(t)
	key := gitTestKey("in a tag with a long name")
	content := "object " + base + "\ntype commit\ntag " + strings.Repeat("n", 200_000) +
		"\ntagger T <t@example.com> 1700000000 +0000\n\nlong name\n\nLOFTY_API_KEY=" + key + "\n"
	testgit.WriteLoose(t, r.ObjectsDir(), fmt.Sprintf("tag %d", len(content)), strings.NewReader(content))
	got, _, _ := scanBounded(t, repoOf(r), HistoryOptions{})
	n := 0
	for _, f := range got {
		if f.Secret == key {
			n++
			if len(f.Tag) > gitobj.MaxSubject+len("…") || !strings.HasPrefix(f.Tag, "nnn") {
				t.Errorf("tag name of %d bytes; want its start, at most %d", len(f.Tag), gitobj.MaxSubject)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d findings of the key; want 1", n)
	}
}

// TestHostileRepeatedParents: a commit that names its parents many times
// over (git fsck does not object) has each of them once in every walk. Kept
// whole, 30 commits of 64 MiB headers that named a hundred thousand
// commits thirteen times each (a 100 MB pack, as deltas of each other)
// made 39 million edges: 760 MB and 44 s of CPU to scan, against 396 MB
// and 34 s (git rev-list --all --objects: 378 MB, 21 s) with each once.
func TestHostileRepeatedParents(t *testing.T) {
	r, key, base := hostileRepo(t)
	other := gitTestKey("in the commit of repeated parents")
	r.Write("other.env", "LOFTY_API_KEY="+other+"\n")
	r.Git("add", "other.env")
	tree := strings.TrimSpace(r.Git("write-tree"))
	second := r.Commit("a second parent")
	const repeats = 50_000
	content := "tree " + tree + "\n" + strings.Repeat("parent "+base+"\nparent "+second+"\n", repeats) +
		"author A <a@example.com> 1700000000 +0000\ncommitter A <a@example.com> 1700000000 +0000\n\nrepeated parents\n"
	h := testgit.WriteLoose(t, r.ObjectsDir(), fmt.Sprintf("commit %d", len(content)), strings.NewReader(content))
	r.Git("update-ref", "refs/heads/main", h.String())

	g, err := repoOf(r).open(tuning{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	if c, err := g.loadCommit(h); err != nil || len(c.parents) != 2 {
		t.Fatalf("the commit graph's node: %v, %d parents; want 2", err, len(c.parents))
	}
	sel, err := g.selectCommits(context.Background(), scanner.New(scanner.DefaultOptions()).Start(&scanner.Collector{}), revSet{all: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range sel.commits {
		if c := &sel.commits[i]; sel.hash(c) == h && parentCount(c, sel.wide) != 2 {
			t.Errorf("the selection's node has %d parents; want 2", parentCount(c, sel.wide))
		}
	}
	if len(sel.edges) != 3 {
		t.Errorf("the selection has %d edges; want 3 (2 of the crafted commit, 1 of %s)", len(sel.edges), second)
	}
	for _, opts := range []HistoryOptions{{}, {Refs: []string{h.String()}, Exclude: []string{base}}} {
		got, c, _ := scanBounded(t, repoOf(r), opts)
		if n := keysFound(got); n[other] != 1 || (opts.Refs == nil && n[key] != 1) {
			t.Errorf("%+v: keys found %v; want the one in the crafted commit's tree once (and the first commit's in a full scan)", opts, n)
		}
		if len(c.Warnings) > 0 {
			t.Errorf("%+v: warnings %v", opts, c.Warnings)
		}
	}
}

// TestHostileOctopusLinks: the parents past each merge's second that a
// scan's walks read are counted against a budget (maxOctopusLinks, here
// 20): each walk keeps every link it reads, and a crafted pack can name
// billions (a merge of 100,000 parents is a delta of 100 bytes against
// another). Past it, a merge is left out as an unreadable commit is, with
// one warning for the scan, counted as an error, and every key is still
// found by the full scan, which reads every blob; a range, which reads
// only what its walk selects, stops with an error instead. Before the
// budget, 150 merges of 100,000 parents (a 43 MB pack) took 325 MB and
// 10.9 s of CPU; 8.0 s and 220 MB with it at 4 Mi links.
func TestHostileOctopusLinks(t *testing.T) {
	r, kept, base := hostileRepo(t)
	var chain []string
	for i := range 10 {
		chain = append(chain, r.CommitTree("", []string{base}, 1700000000+int64(i), fmt.Sprintf("side %d", i)))
	}
	octoKey, hiddenKey := gitTestKey("in a merge of 11 parents"), gitTestKey("in a merge no ref reaches")
	treeWith := func(name, key string) string {
		text := "LOFTY_API_KEY=" + key + "\n"
		blob := testgit.WriteLoose(t, r.ObjectsDir(), fmt.Sprintf("blob %d", len(text)), strings.NewReader(text))
		return r.MkTree(testgit.TreeEntry{Mode: "100644", Hash: blob, Name: name}).String()
	}
	var merges []string
	prev := base
	for i := range 5 {
		tree := ""
		if i == 4 {
			tree = treeWith("octopus.env", octoKey)
		}
		prev = r.CommitTree(tree, append([]string{prev}, chain...), 1700001000+int64(i), fmt.Sprintf("merge %d", i))
		merges = append(merges, prev)
	}
	r.Git("update-ref", "refs/heads/main", merges[4])
	r.Git("update-ref", "refs/heads/old", merges[1])
	r.CommitTree(treeWith("hidden.env", hiddenKey), append([]string{merges[0]}, chain...), 1700002000, "a merge no ref reaches")
	r.Git("repack", "-adq") // a scan of every ref then reads every object, whatever its walk leaves out

	for _, opts := range []HistoryOptions{{}, {Refs: []string{"main"}, Exclude: []string{base}}} {
		for _, budget := range []int64{0, 20} {
			if opts.Refs != nil && budget != 0 {
				// A range reads only what its walk selects: it stops
				// rather than leave the refused merges' history out.
				c := &scanner.Collector{}
				_, err := scanHistoryTuned(context.Background(), scanner.New(scanner.DefaultOptions()), repoOf(r), opts, c, tuning{octopusLinks: budget})
				if !errors.Is(err, errOctopusLinks) || !strings.Contains(err.Error(), "scan the whole repository") {
					t.Errorf("%+v, budget %d: error %v; want the scan stopped, with what to do", opts, budget, err)
				}
				continue
			}
			got, c, st := scanWith(t, repoOf(r), opts, tuning{octopusLinks: budget}, 2)
			n := keysFound(got)
			if n[octoKey] != 1 || (opts.Refs == nil && (n[kept] != 1 || n[hiddenKey] != 1)) {
				t.Errorf("%+v, budget %d: keys found %v; want every key once", opts, budget, n)
			}
			t.Logf("%+v, budget %d: %v", opts, budget, c.Warnings)
			w := warned(c, "names 11 parents", "crafted to exhaust memory", "not scanned")
			if budget == 0 && len(c.Warnings) > 0 {
				t.Errorf("%+v, the default budget: warnings %v", opts, c.Warnings)
			}
			if budget != 0 && (len(w) != 1 || len(c.Warnings) != 1 || st.Errors != 1) {
				t.Errorf("%+v, budget %d: warnings %v, %d errors; want the one about the merges, counted as an error", opts, budget, c.Warnings, st.Errors)
			}
		}
	}
}

// TestHostileRefsToBigTree: refs to a big tree (here 30 tags of one tree
// of 60,000 files, 3.5 MB) are told from refs to commits by the object's
// header, as git tells them: the walks that list the refs' commits and
// tags read each such tree whole, five times a ref (1,000 tags of the
// versions of a 6 MB tree, a 1.75 MB pack, took 24 s of CPU, git 6.9 s;
// now 2.9 s). Both keys are still found.
func TestHostileRefsToBigTree(t *testing.T) {
	r, kept, _ := hostileRepo(t)
	key := gitTestKey("in a big tree")
	text := "LOFTY_API_KEY=" + key + "\n"
	blob := testgit.WriteLoose(t, r.ObjectsDir(), fmt.Sprintf("blob %d", len(text)), strings.NewReader(text))
	entries := make([]testgit.TreeEntry, 60000)
	for i := range entries {
		entries[i] = testgit.TreeEntry{Mode: "100644", Hash: blob, Name: fmt.Sprintf("file-with-a-longer-name-%06d.env", i)}
	}
	tree := r.MkTree(entries...).String()
	var refs strings.Builder
	for i := range 30 {
		fmt.Fprintf(&refs, "create refs/tags/tree-%d %s\n", i, tree)
	}
	if out, err := r.Cmd(refs.String(), nil, "update-ref", "--stdin").CombinedOutput(); err != nil {
		t.Fatalf("update-ref: %v\n%s", err, out)
	}
	got, c, mem := scanBounded(t, repoOf(r), HistoryOptions{})
	if n := keysFound(got); n[kept] != 1 || n[key] != 1 {
		t.Errorf("keys found %v; want each once (warnings %v)", n, c.Warnings)
	}
	if mem > 64<<20 {
		t.Errorf("allocated %d MiB for refs to a tree of 3.5 MB", mem>>20)
	}
}
