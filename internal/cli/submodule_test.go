package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
)

// TestGitSubmodules: a key in a submodule's history is not in the
// superproject's objects. Without --recurse-submodules the scan says the
// submodule was skipped; with it, the key is reported below the
// submodule's path.
func TestGitSubmodules(t *testing.T) {
	t.Parallel()
	lib := testgit.New(t, "")
	lib.Write("secret.env", "LOFTY_API_KEY="+gitKey("submodule")+"\n")
	lib.Commit("add a key to the library")
	lib.Write("secret.env", "LOFTY_API_KEY=read-from-env\n")
	lib.Commit("remove it")

	super := testgit.New(t, filepath.Join(t.TempDir(), "super"))
	super.Write("README", "app\n")
	super.Commit("first")
	super.Git("submodule", "add", "-q", lib.Dir, "vendor/lib")
	super.Commit("add the library")

	code, stdout, stderr := runGit(t, nil, "", "git", "--format", "json", super.Dir)
	if code != 0 || !strings.Contains(stderr, "vendor/lib: submodule not scanned: run with --recurse-submodules") {
		t.Errorf("without --recurse-submodules: exit %d, stderr %q; want 0 and a warning", code, stderr)
	}
	superFiles, superBytes := scannedStats(super)
	libFiles, libBytes := scannedStats(lib)
	rep := parseReport(t, stdout)
	if len(rep.Findings) != 0 {
		t.Errorf("without --recurse-submodules: findings %+v, want none", rep.Findings)
	}
	if rep.Stats.Files != superFiles || rep.Stats.Bytes != superBytes {
		t.Errorf("without --recurse-submodules: stats %d files, %d bytes; want the superproject's %d blobs and commits, %d bytes", rep.Stats.Files, rep.Stats.Bytes, superFiles, superBytes)
	}
	code, stdout, stderr = runGit(t, nil, "", "git", "--recurse-submodules", "--format", "json", super.Dir)
	if code != 1 {
		t.Fatalf("with --recurse-submodules: exit %d, want 1; stderr %s", code, stderr)
	}
	rep = parseReport(t, stdout)
	if rep.Stats.Files != superFiles+libFiles || rep.Stats.Bytes != superBytes+libBytes {
		t.Errorf("with --recurse-submodules: stats %d files, %d bytes; want both repositories' %d blobs and commits, %d bytes", rep.Stats.Files, rep.Stats.Bytes, superFiles+libFiles, superBytes+libBytes)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Path != "vendor/lib/secret.env" || rep.Findings[0].Message != "add a key to the library" {
		t.Errorf("findings %+v; want one at vendor/lib/secret.env from the library's commit", rep.Findings)
	}
	if f := rep.Findings; len(f) == 1 && (f[0].InHead == nil || *f[0].InHead) {
		t.Errorf("in_head = %v, want false: the key was removed in the submodule", f[0].InHead)
	}
}

// scannedStats counts what a scan of every ref reads in r's objects, as
// git lists them: each blob, and the message of each commit and annotated
// tag (what follows the headers' blank line), with their bytes.
func scannedStats(r *testgit.Repo) (n, size int64) {
	for _, line := range strings.Split(r.Git("cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(objectname) %(objectsize)"), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		var sz int64
		if _, err := fmt.Sscan(f[2], &sz); err != nil {
			r.T.Fatalf("cat-file: %q: %v", line, err)
		}
		switch f[0] {
		case "blob":
			n, size = n+1, size+sz
		case "commit", "tag":
			// The object's text from its author or tag line (git's output
			// is trimmed, its first lines are not).
			n, size = n+1, size+sz-int64(hashLinesLen(r.Git("cat-file", f[0], f[1])))
		}
	}
	return n, size
}

// TestGitSubmodulePathOutsideRepository: a tree entry named ".." (git fsck
// refuses it; git mktree and a push without fsck let it in) can put a
// submodule's path outside the repository, "../../../other/.git". Its
// repository is looked for under .git/modules/<path>, which is then another
// repository on the same disk: it must not be opened, and its keys must
// not reach this repository's report.
func TestGitSubmodulePathOutsideRepository(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	other := testgit.New(t, filepath.Join(root, "other"))
	other.Write("secret.env", "LOFTY_API_KEY="+gitKey("another repository")+"\n")
	other.Commit("a key of another repository")

	if err := os.Mkdir(filepath.Join(root, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	evil := testgit.New(t, filepath.Join(root, "a", "evil"))
	mktree := func(entry string) string {
		out, ok := evil.Try(entry+"\n", "mktree")
		if !ok {
			t.Fatalf("git mktree: %s", out)
		}
		return strings.TrimSpace(out)
	}
	tree := mktree("160000 commit " + other.Git("rev-parse", "HEAD")[:40] + "\t.git")
	tree = mktree("040000 tree " + tree + "\tother")
	for range 4 { // .git/modules/../../../.. is root
		tree = mktree("040000 tree " + tree + "\t..")
	}
	evil.Git("update-ref", "refs/heads/main", evil.CommitTree(tree, nil, 0, "a submodule outside"))

	code, stdout, stderr := runGit(t, nil, "", "git", "--recurse-submodules", "--format", "json", evil.Dir)
	rep := parseReport(t, stdout)
	if code != 0 || len(rep.Findings) != 0 {
		t.Errorf("exit %d, findings %+v: the scan read a repository outside the one scanned\n%s", code, rep.Findings, stderr)
	}
	if !strings.Contains(stderr, "../../../../other/.git: ") || !strings.Contains(stderr, "not scanned") {
		t.Errorf("stderr %q: want a warning naming the submodule as not scanned", stderr)
	}
}
