package gitscan

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/internal/testtoken"
	"github.com/loftyscan/loftyscan/scanner"
)

// nameKey is a synthetic key short enough to be a file's name.
func nameKey(t *testing.T, sub string) string {
	t.Helper()
	k := testtoken.Short(sub)
	if len(k) > 200 {
		t.Fatalf("test key of %d bytes: too long for a name", len(k))
	}
	return k
}

// nameFinding is what TestKeysInTreeNames checks of a finding at
// location path.
type nameFinding struct {
	path, commit string
	column       int
	inHead       bool
}

func nameFindings(t *testing.T, c *scanner.Collector) []nameFinding {
	t.Helper()
	var out []nameFinding
	for _, f := range c.Sorted() {
		if f.Location != finding.InPath {
			continue
		}
		if f.Line != 1 || f.InHead == nil || f.Author == "" || f.Date.IsZero() {
			t.Errorf("%s: line %d, in_head %v, author %q, date %v", f.Path, f.Line, f.InHead, f.Author, f.Date)
			continue
		}
		out = append(out, nameFinding{f.Path, f.Commit, f.Column, *f.InHead})
	}
	return out
}

// TestKeysInTreeNames: a scan that selects commits (a range, a ref,
// --since) reports a key in a file's or folder's name once, at the commit
// that added the name, under its path, with whether HEAD still has it; a
// folder's key is not reported again for each file below it, nor when a
// later commit edits a file in it; a rename to another name with the key
// is a new finding. A scan of the whole repository finds the same, in a
// loose repository (which it walks) and a packed one (whose sweep reads
// the trees and calls for the walk).
func TestKeysInTreeNames(t *testing.T) {
	t.Parallel()
	k1, k2 := nameKey(t, "folder"), nameKey(t, "file")
	r := testgit.New(t, "")
	r.Write("README", "hello\n")
	base := r.Commit("init")
	r.Write("cache-"+k1+"/a.txt", "a\n")
	r.Write("cache-"+k1+"/b.txt", "b\n")
	r.Write("conf/"+k2, "nothing here\n")
	added := r.Commit("add caches")
	r.Write("cache-"+k1+"/a.txt", "a2\n")
	r.Commit("edit a file in the folder")
	r.Git("mv", "conf/"+k2, "conf/old-"+k2)
	renamed := r.Commit("rename")
	want := []nameFinding{
		{"cache-" + k1, added, 7, true},
		{"conf/" + k2, added, 1, false},
		{"conf/old-" + k2, renamed, 5, true},
	}
	for _, opts := range []HistoryOptions{
		{Refs: []string{"HEAD"}, Exclude: []string{base}},
		{Refs: []string{"HEAD"}},
		{Since: testgit.Epoch.Add(-time.Hour)},
	} {
		c := &scanner.Collector{}
		if _, err := ScanHistory(t.Context(), scanner.New(scanner.DefaultOptions()), repoOf(r), opts, c); err != nil {
			t.Fatal(err)
		}
		if got := nameFindings(t, c); !slices.Equal(got, want) {
			t.Errorf("%+v:\n got %v\nwant %v", opts, got, want)
		}
		if len(c.Findings) != len(want) {
			t.Errorf("%+v: %d findings, want %d", opts, len(c.Findings), len(want))
		}
	}
	for _, packed := range []bool{false, true} {
		if packed {
			r.Git("gc", "-q")
		}
		c := scanEverythingOf(t, r)
		if got := nameFindings(t, c); !slices.Equal(got, want) || len(c.Findings) != len(want) {
			t.Errorf("a scan of everything, packed %v:\n got %v\nwant %v", packed, got, want)
		}
	}
}

// TestStagedNames: the staged check reports a key in the name of a file,
// folder or submodule the change adds, once, and not in a name HEAD
// already has (a file so named edited again).
func TestStagedNames(t *testing.T) {
	t.Parallel()
	k1, k2, old := nameKey(t, "staged folder"), nameKey(t, "staged file"), nameKey(t, "committed")
	k3 := nameKey(t, "staged submodule")
	r := testgit.New(t, "")
	r.Write(old+".txt", "x\n")
	r.Commit("a file named after a key, committed before")
	r.Write(old+".txt", "edited\n")
	r.Write("new-"+k1+"/one", "1\n")
	r.Write("new-"+k1+"/two", "2\n")
	if err := os.WriteFile(filepath.Join(r.Dir, "tok="+k2), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r.Git("add", "-A")
	r.Git("update-index", "--add", "--cacheinfo", "160000,"+strings.Repeat("ab", 20)+",sub-"+k3)
	c := &scanner.Collector{}
	if _, err := ScanStaged(t.Context(), scanner.New(scanner.DefaultOptions()), repoOf(r), "", c); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range c.Sorted() {
		if f.Location != finding.InPath || f.Commit != "" {
			t.Errorf("%s: location %q, commit %q", f.Path, f.Location, f.Commit)
		}
		got = append(got, f.Path+" "+strings.Repeat("^", f.Column))
	}
	want := []string{"new-" + k1 + " ^^^^^", "sub-" + k3 + " ^^^^^", "tok=" + k2 + " ^^^^^"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestKeysInGitlinkNames: a submodule's name (a gitlink in the tree) is a
// name a commit adds like a file's: a key in it is reported, at the
// commit that added it, though the submodule's repository is not read.
func TestKeysInGitlinkNames(t *testing.T) {
	t.Parallel()
	k := nameKey(t, "submodule")
	r := testgit.New(t, "")
	r.Write("README", "hello\n")
	base := r.Commit("init")
	r.Git("update-index", "--add", "--cacheinfo", "160000,"+base+",vendor/sub-"+k)
	r.Git("commit", "-q", "-m", "add a submodule")
	added := strings.TrimSpace(r.Git("rev-parse", "HEAD"))
	c := &scanner.Collector{}
	if _, err := ScanHistory(t.Context(), scanner.New(scanner.DefaultOptions()), repoOf(r), HistoryOptions{Refs: []string{"HEAD"}, Exclude: []string{base}}, c); err != nil {
		t.Fatal(err)
	}
	want := []nameFinding{{"vendor/sub-" + k, added, 5, true}}
	if got := nameFindings(t, c); !slices.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

// TestNameInHeadAfterFolderRename: a folder renamed whole is the same
// tree, which the walk does not enter again, so the key-named file in it
// is reported at its first path; HEAD still has the name (elsewhere), so
// in_head is true. Deleted, it is false.
func TestNameInHeadAfterFolderRename(t *testing.T) {
	t.Parallel()
	k := nameKey(t, "moved")
	r := testgit.New(t, "")
	r.Write("README", "hello\n")
	base := r.Commit("init")
	r.Write("d/"+k, "x\n")
	added := r.Commit("add")
	r.Git("mv", "d", "e")
	r.Commit("move the folder")
	scan := func() []nameFinding {
		c := &scanner.Collector{}
		if _, err := ScanHistory(t.Context(), scanner.New(scanner.DefaultOptions()), repoOf(r), HistoryOptions{Refs: []string{"HEAD"}, Exclude: []string{base}}, c); err != nil {
			t.Fatal(err)
		}
		return nameFindings(t, c)
	}
	if got, want := scan(), []nameFinding{{"d/" + k, added, 1, true}}; !slices.Equal(got, want) {
		t.Errorf("after the move:\n got %v\nwant %v", got, want)
	}
	r.Git("rm", "-q", "-r", "e")
	r.Commit("delete")
	if got, want := scan(), []nameFinding{{"d/" + k, added, 1, false}}; !slices.Equal(got, want) {
		t.Errorf("after the delete:\n got %v\nwant %v", got, want)
	}
}

// TestNamesInScanOfEverything: the sweep of a packed repository reads its
// trees and finds a key in a name whatever else the history holds: in a
// file of a big folder, whose tree git stores as a delta of the folder's
// tree after the file's removal (the sweep sees only the entries the
// delta adds), in a commit only a reflog reaches, and in a loose commit
// nothing reaches. A skipped path's name is not reported, as a folder
// scan does not report it.
func TestNamesInScanOfEverything(t *testing.T) {
	t.Parallel()
	k1, k2, k3 := nameKey(t, "in a big folder"), nameKey(t, "only in the reflog"), nameKey(t, "skipped")
	k4 := nameKey(t, "dangling")
	r := testgit.New(t, "")
	for i := range 60 {
		r.Write(fmt.Sprintf("data/file-%02d.txt", i), fmt.Sprintf("line %d\n", i))
	}
	r.Write("data/"+k1, "x\n")
	r.Write("vendor/"+k3, "y\n")
	added := r.Commit("a big folder with a key-named file")
	r.Git("rm", "-q", "data/"+k1)
	for i := 60; i < 70; i++ { // git makes the bigger tree the base
		r.Write(fmt.Sprintf("data/file-%02d.txt", i), fmt.Sprintf("line %d\n", i))
	}
	r.Commit("the key-named file removed, more added")
	r.Write("top-"+k2, "z\n")
	inReflog := r.Commit("a key-named file, then reset away")
	r.Git("reset", "-q", "--hard", "HEAD~1")
	r.Git("repack", "-adq", "--window=250", "--depth=50")
	if !treeIsDelta(t, r, added+":data") {
		t.Fatalf("git stored the folder's tree with the key-named file whole: the sweep's delta path is not tested")
	}
	r.Write("loose-"+k4, "w\n")
	r.Git("add", "-A")
	dangling := r.CommitTree(r.Git("write-tree"), []string{r.Git("rev-parse", "HEAD")}, r.Now().Unix(), "nothing reaches this")
	r.Git("rm", "-q", "--cached", "loose-"+k4)

	opts := scanner.DefaultOptions()
	opts.Skip = func(p string, _ bool) bool { return strings.HasPrefix(p, "vendor/") }
	c := &scanner.Collector{}
	if _, err := ScanHistory(t.Context(), scanner.New(opts), repoOf(r), HistoryOptions{}, c); err != nil {
		t.Fatal(err)
	}
	got := namePlaces(t, c)
	want := map[string]namePlace{
		"data/" + k1:  {added, false},
		"top-" + k2:   {inReflog, false},
		"loose-" + k4: {dangling, true},
	}
	if !maps.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

// namePlace is where a name's finding is: its commit, and whether it is
// unreachable.
type namePlace struct {
	commit      string
	unreachable bool
}

// namePlaces maps the path of each finding of c to its place; every
// finding must be at location path.
func namePlaces(t *testing.T, c *scanner.Collector) map[string]namePlace {
	t.Helper()
	got := map[string]namePlace{}
	for _, f := range c.Findings {
		if f.Location != finding.InPath {
			t.Errorf("unexpected finding at %s (%s)", f.Path, f.Location)
			continue
		}
		got[f.Path] = namePlace{f.Commit, f.Unreachable}
	}
	return got
}

// scanEverythingOf scans every ref of r with the default options.
func scanEverythingOf(t *testing.T, r *testgit.Repo) *scanner.Collector {
	t.Helper()
	c := &scanner.Collector{}
	if _, err := ScanHistory(t.Context(), scanner.New(scanner.DefaultOptions()), repoOf(r), HistoryOptions{}, c); err != nil {
		t.Fatal(err)
	}
	return c
}

// treeIsDelta reports whether git stores the object rev names as a delta.
func treeIsDelta(t *testing.T, r *testgit.Repo, rev string) bool {
	t.Helper()
	h := strings.TrimSpace(r.Git("rev-parse", rev))
	packs, _ := filepath.Glob(filepath.Join(r.ObjectsDir(), "pack", "*.idx"))
	for _, p := range packs {
		for _, line := range strings.Split(r.Git("verify-pack", "-v", p), "\n") {
			if f := strings.Fields(line); len(f) == 7 && f[0] == h {
				return true // name, type, size, packed size, offset, depth, base
			}
		}
	}
	return false
}

// TestTreeNamesHoldKey: of a tree stored as a delta, only the entries the
// delta adds are searched, and a key in the name of one is found; a tree
// given whole is searched whole.
func TestTreeNamesHoldKey(t *testing.T) {
	k := nameKey(t, "tree entry")
	var data []byte
	var offs []int32
	for _, name := range []string{"a.txt", "b-" + k, "c.txt"} {
		offs = append(offs, int32(len(data)))
		data = append(data, "100644 "+name+"\x00"...)
		data = append(data, strings.Repeat("\x01", 20)...)
	}
	w := scanner.New(scanner.DefaultOptions()).Start(&scanner.Collector{}).NewWorker()
	for _, c := range []struct {
		fresh []int32
		want  bool
	}{
		{nil, true},
		{offs, true},
		{[]int32{offs[1]}, true},
		{[]int32{offs[0], offs[2]}, false},
		{[]int32{}, false},
	} {
		if got := treeNamesHoldKey(w, data, c.fresh, nil); got != c.want {
			t.Errorf("fresh %v: %v, want %v", c.fresh, got, c.want)
		}
	}
	if treeNamesHoldKey(w, []byte("100644 "+k), nil, nil) {
		t.Error("a tree cut short in its first entry holds a key")
	}
}

// TestStagedRenameNames: a file renamed or copied to a name holding a key
// keeps a blob HEAD has, and the staged check still reports its name.
func TestStagedRenameNames(t *testing.T) {
	t.Parallel()
	k1, k2 := nameKey(t, "renamed"), nameKey(t, "copied")
	r := testgit.New(t, "")
	r.Write("notes.txt", "nothing\n")
	r.Write("other.txt", "else\n")
	r.Commit("init")
	r.Git("mv", "notes.txt", "n-"+k1)
	r.Write("c-"+k2, "else\n")
	r.Git("add", "-A")
	c := &scanner.Collector{}
	if _, err := ScanStaged(t.Context(), scanner.New(scanner.DefaultOptions()), repoOf(r), "", c); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range c.Sorted() {
		got = append(got, string(f.Location)+" "+f.Path)
	}
	if want := []string{"path c-" + k2, "path n-" + k1}; !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestHiddenCommitNamesNotAgain: a commit only a reflog reaches, which
// edits a file beside a key-named one its parent has (in a folder copied
// whole, so that its tree is new), does not report that name again: the
// name is reported once, at the commit that added it.
func TestHiddenCommitNamesNotAgain(t *testing.T) {
	t.Parallel()
	k := nameKey(t, "hidden again")
	r := testgit.New(t, "")
	r.Write("d1/"+k, "x\n")
	r.Write("d1/o.txt", "o\n")
	added := r.Commit("A")
	r.Write("d2/"+k, "x\n")
	r.Write("d2/o.txt", "o\n")
	r.Commit("B: d1 copied whole to d2")
	r.Write("d2/o.txt", "o\nc\n")
	r.Commit("C: edits d2/o.txt, then reset away")
	r.Git("reset", "-q", "--hard", "HEAD~1")
	for _, packed := range []bool{false, true} {
		if packed {
			r.Git("gc", "-q")
		}
		c := scanEverythingOf(t, r)
		var got []string
		for _, f := range c.Sorted() {
			got = append(got, f.Path+" "+f.Commit)
		}
		// d2 is d1's tree, which the walk does not enter again (as a
		// file's key stays at its first path): one finding.
		if want := []string{"d1/" + k + " " + added}; !slices.Equal(got, want) {
			t.Errorf("packed %v:\n got %q\nwant %q", packed, got, want)
		}
	}
}

// A tree no commit reaches (git commit writes the tree before it asks for
// the message, so an aborted commit leaves one; git write-tree; a rewrite)
// is met by no walk: the sweep saw the key in its name and nothing was
// reported. Such names are now reported after the walks, unreachable, at
// the name alone, loose and packed; a name a walk reported elsewhere is
// not reported again.
func TestNamesInTreesNoCommitReaches(t *testing.T) {
	t.Parallel()
	for _, packed := range []bool{false, true} {
		k1, k2 := nameKey(t, "orphan tree"), nameKey(t, "reachable")
		r := testgit.New(t, "")
		r.Write("README.md", "hello\n")
		r.Write("docs/"+k2, "x\n")
		added := r.Commit("first")
		r.Write("secrets/"+k1, "y\n")
		r.Git("add", "-A")
		orphan := r.Git("write-tree") // then the commit is given up
		r.Git("rm", "-rq", "--cached", "secrets")
		if packed {
			r.Git("repack", "-adq")
			// The orphan trees (root and secrets/) into a pack of their own.
			sub := strings.TrimSpace(r.Git("rev-parse", orphan+":secrets"))
			if out, ok := r.Try(orphan+"\n"+sub+"\n", "pack-objects", "-q", filepath.Join(r.ObjectsDir(), "pack", "pack")); !ok {
				t.Fatalf("git pack-objects: %s", out)
			}
			r.Git("prune-packed")
		}
		c := scanEverythingOf(t, r)
		got := namePlaces(t, c)
		want := map[string]namePlace{
			"docs/" + k2: {added, false},
			k1:           {"", true},
		}
		if !maps.Equal(got, want) {
			t.Errorf("packed %v: got %v\nwant %v", packed, got, want)
		}
	}
}

// The names of entries inside archives a commit adds (a zip whose file is
// named after a key, a tar.gz with a folder so named) were searched in
// folder scans and standard input, not in git: a scan of the same commit
// found nothing. Every git scan now searches them, and reports each at the
// commit that added the archive, location path, with no exposure (as a
// tree's names); in a scan of the whole repository, a range and a staged
// change alike.
func TestArchiveEntryNamesInGit(t *testing.T) {
	t.Parallel()
	k1, k2 := nameKey(t, "zip entry"), nameKey(t, "tar folder")
	r := testgit.New(t, "")
	r.Write("README.md", "hello\n")
	base := r.Commit("first")
	r.Write("a.zip", string(zipOf(t, map[string]string{k1 + ".txt": "x\n", "ok.txt": "y\n"})))
	r.Write("b.tar.gz", string(tarGzOf(t, map[string]string{"d" + k2 + "/f": "z\n"})))
	added := r.Commit("archives")
	want := map[string]string{"a.zip!" + k1 + ".txt": added, "b.tar.gz!d" + k2: added}
	check := func(what string, c *scanner.Collector) {
		t.Helper()
		got := map[string]string{}
		for _, f := range c.Findings {
			if f.Location != finding.InPath || f.Exposure != nil {
				t.Errorf("%s: finding at %s, location %q, exposure %v", what, f.Path, f.Location, f.Exposure)
			}
			got[f.Path] = f.Commit
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s: got %v\nwant %v", what, got, want)
		}
	}
	check("loose, everything", scanEverythingOf(t, r))
	r.Git("repack", "-adq")
	check("packed, everything", scanEverythingOf(t, r))
	c := &scanner.Collector{}
	if _, err := ScanHistory(t.Context(), scanner.New(scanner.DefaultOptions()), repoOf(r), HistoryOptions{Refs: []string{"HEAD"}, Exclude: []string{base}}, c); err != nil {
		t.Fatal(err)
	}
	check("range", c)
}

// An archive's entry named after a key in a commit nothing reaches is
// reported unreachable, as a file's key there is (exposure, which says it
// for those, passes over names).
func TestArchiveEntryNameUnreachable(t *testing.T) {
	t.Parallel()
	k := nameKey(t, "unreachable zip entry")
	r := testgit.New(t, "")
	r.Write("README.md", "hello\n")
	r.Commit("first")
	r.Git("checkout", "-q", "-b", "tmp")
	r.Write("a.zip", string(zipOf(t, map[string]string{k + ".txt": "x\n"})))
	added := r.Commit("archive")
	r.Git("checkout", "-q", "-")
	r.Git("branch", "-q", "-D", "tmp")
	r.Git("reflog", "expire", "--expire=now", "--all")
	for _, packed := range []bool{false, true} {
		if packed {
			r.Git("repack", "-adq", "--keep-unreachable")
		}
		c := scanEverythingOf(t, r)
		if len(c.Findings) != 1 || c.Findings[0].Location != finding.InPath || c.Findings[0].Commit != added || !c.Findings[0].Unreachable {
			t.Errorf("packed %v: findings %+v: want the entry's name at %s, unreachable", packed, c.Findings, added[:8])
		}
	}
}

// zipOf is a zip of the files given, written by archive/zip.
func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[name]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tarGzOf is a gzip'd tar of the files given, with their folders.
func tarGzOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if dir, _, ok := strings.Cut(name, "/"); ok {
			tw.WriteHeader(&tar.Header{Name: dir + "/", Typeflag: tar.TypeDir, Mode: 0o755})
		}
		tw.WriteHeader(&tar.Header{Name: name, Size: int64(len(files[name])), Mode: 0o644})
		tw.Write([]byte(files[name]))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	gz.Close()
	return buf.Bytes()
}

// A tree too big for the sweep to hold (32 MiB and more) that no commit
// reaches is read after the sweep for the names that hold keys: one was
// missed silently. Loose and packed.
func TestBigOrphanTreeSearched(t *testing.T) {
	if raceBuild {
		t.Skip("writes a 36 MB tree (42 s under -race): .ci/run runs it without -race")
	}
	if testing.Short() {
		t.Skip("writes a 36 MB tree")
	}
	t.Parallel()
	r := testgit.New(t, "")
	r.Write("README.md", "hello\n")
	r.Commit("first")
	// Written whole with hash-object: git mktree takes 17 s for it.
	empty, err := hex.DecodeString(r.Git("hash-object", "-w", "/dev/null"))
	if err != nil {
		t.Fatal(err)
	}
	var tree bytes.Buffer
	entry := func(name string) { tree.WriteString("100644 " + name + "\x00"); tree.Write(empty) }
	key := nameKey(t, "in a big tree")
	entry("k-" + key) // 'k' sorts before 'x'
	pad := strings.Repeat("x", 220)
	for i := range 150_000 {
		entry(fmt.Sprintf("%s%07d", pad, i))
	}
	if tree.Len() <= 32<<20 {
		t.Fatalf("the tree is %d bytes: not too big for the sweep", tree.Len())
	}
	if out, err := r.Cmd(tree.String(), nil, "hash-object", "-t", "tree", "-w", "--stdin").CombinedOutput(); err != nil {
		t.Fatalf("git hash-object: %v\n%s", err, out)
	}
	for _, packed := range []bool{false, true} {
		if packed {
			r.Git("repack", "-adq", "--keep-unreachable")
		}
		c := scanEverythingOf(t, r)
		for _, w := range c.Warnings {
			t.Errorf("packed %v: warning %s", packed, w)
		}
		if len(c.Findings) != 1 || c.Findings[0].Path != "k-"+key || !c.Findings[0].Unreachable || c.Findings[0].Location != finding.InPath {
			t.Errorf("packed %v: findings %v: want the name in the big tree, unreachable", packed, c.Findings)
		}
	}
}
