package gitscan

import (
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
// is a new finding. A scan of the whole repository searches no names (it
// reads no tree of a history without keys), in a packed repository and a
// loose one alike, unless asked to (HistoryOptions.Names, remediate's).
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
		c := &scanner.Collector{}
		if _, err := ScanHistory(t.Context(), scanner.New(scanner.DefaultOptions()), repoOf(r), HistoryOptions{}, c); err != nil {
			t.Fatal(err)
		}
		if len(c.Findings) != 0 {
			t.Errorf("a scan of everything (packed %v) searched names: %d findings", packed, len(c.Findings))
		}
		// Remediate's scan asks for names: it walks every tree instead.
		c = &scanner.Collector{}
		if _, err := ScanHistory(t.Context(), scanner.New(scanner.DefaultOptions()), repoOf(r), HistoryOptions{Names: true}, c); err != nil {
			t.Fatal(err)
		}
		if got := nameFindings(t, c); !slices.Equal(got, want) {
			t.Errorf("Names, packed %v:\n got %v\nwant %v", packed, got, want)
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
