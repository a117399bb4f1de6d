package cli

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
)

// gitBlobs counts the blobs git lists for `rev-list --objects args`, and
// their bytes, with the text of the commits it lists, headers and message
// (each scanned as a text of its own, counted as a file, from its author
// line: the tree and parent lines hold only hashes): what a scan of that
// history reads, each blob and commit once.
func gitBlobs(r *testgit.Repo, args ...string) (files, size int64) {
	r.T.Helper()
	var names []string
	for _, line := range strings.Split(r.Git(append([]string{"rev-list", "--objects"}, args...)...), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	out, err := r.Cmd(strings.Join(names, "\n")+"\n", nil, "cat-file", "--batch-check=%(objecttype) %(objectsize)").Output()
	if err != nil {
		r.T.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if typ, n, ok := strings.Cut(line, " "); ok && typ == "blob" {
			v, _ := strconv.ParseInt(n, 10, 64)
			files, size = files+1, size+v
		}
	}
	for _, c := range strings.Fields(r.Git(append([]string{"rev-list"}, args...)...)) {
		raw, err := r.Cmd("", nil, "cat-file", "commit", c).Output()
		if err != nil {
			r.T.Fatal(err)
		}
		files, size = files+1, size+int64(len(raw)-hashLinesLen(string(raw)))
	}
	return files, size
}

// TestGitCountsMatchGit: the files and bytes a git scan reports are the
// blobs git lists and their sizes, each counted once: for the history of a
// repository, for a range, and with its submodule's history added.
func TestGitCountsMatchGit(t *testing.T) {
	t.Parallel()
	lib := testgit.New(t, "")
	for i := range 5 {
		lib.Write("lib.txt", strings.Repeat("lib\n", i+1))
		lib.Commit("lib")
	}
	r := testgit.New(t, "")
	for i := range 12 {
		r.Write("notes.txt", strings.Repeat("note\n", i+1))
		r.Write("docs/"+strconv.Itoa(i%3)+".md", strings.Repeat("doc\n", i+2))
		r.Commit("commit " + strconv.Itoa(i))
	}
	r.Git("submodule", "add", "-q", lib.Dir, "vendor/lib")
	r.Commit("a submodule")
	module := r.At(t, filepath.Join(r.Dir, ".git", "modules", "vendor", "lib"))

	files, size := gitBlobs(r, "--all")
	rangeFiles, rangeSize := gitBlobs(r, "HEAD", "^HEAD~5")
	libFiles, libSize := gitBlobs(module, "--all")
	for _, tc := range []struct {
		args        []string
		files, size int64
	}{
		{[]string{"git", "--format", "json", r.Dir}, files, size},
		{[]string{"git", "--format", "json", "--range", "HEAD~5..HEAD", r.Dir}, rangeFiles, rangeSize},
		{[]string{"git", "--format", "json", "--recurse-submodules", r.Dir}, files + libFiles, size + libSize},
	} {
		code, stdout, stderr := runGit(t, nil, "", tc.args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, stderr)
		}
		var rep struct {
			Stats struct{ Files, Bytes int64 } `json:"stats"`
		}
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Stats.Files != tc.files || rep.Stats.Bytes != tc.size {
			t.Errorf("%v: %d files, %d bytes; git lists %d blobs of %d bytes", tc.args[3:], rep.Stats.Files, rep.Stats.Bytes, tc.files, tc.size)
		}
	}
}

// hashLinesLen is how long the lines that name objects at the start of a
// commit's or tag's text are (tree and parents, or the tagged object),
// which a scan leaves out.
func hashLinesLen(text string) int {
	n := 0
	for _, name := range []string{"tree ", "parent ", "object "} {
		for strings.HasPrefix(text[n:], name) {
			i := strings.IndexByte(text[n:], '\n')
			if i < 0 {
				return n
			}
			n += i + 1
		}
	}
	return n
}
