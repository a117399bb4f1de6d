package cli

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestGitSubmodules: a key in a submodule's history is not in the
// superproject's objects. Without --recurse-submodules the scan says the
// submodule was skipped; with it, the key is reported below the
// submodule's path.
func TestGitSubmodules(t *testing.T) {
	t.Parallel()
	lib := newTestGitRepo(t, "")
	lib.write("secret.env", "LOFTY_API_KEY="+gitKey("submodule")+"\n")
	lib.commit("add a key to the library")
	lib.write("secret.env", "LOFTY_API_KEY=read-from-env\n")
	lib.commit("remove it")

	super := newTestGitRepo(t, filepath.Join(t.TempDir(), "super"))
	super.write("README", "app\n")
	super.commit("first")
	super.git("submodule", "add", "-q", lib.dir, "vendor/lib")
	super.commit("add the library")

	code, stdout, stderr := runGit(t, nil, "", "git", "--format", "json", super.dir)
	if code != 0 || !strings.Contains(stderr, "vendor/lib: submodule not scanned: run with --recurse-submodules") {
		t.Errorf("without --recurse-submodules: exit %d, stderr %q; want 0 and a warning", code, stderr)
	}
	if rep := parseReport(t, stdout); len(rep.Findings) != 0 {
		t.Errorf("without --recurse-submodules: findings %+v, want none", rep.Findings)
	}
	code, stdout, stderr = runGit(t, nil, "", "git", "--recurse-submodules", "--format", "json", super.dir)
	if code != 1 {
		t.Fatalf("with --recurse-submodules: exit %d, want 1; stderr %s", code, stderr)
	}
	rep := parseReport(t, stdout)
	if len(rep.Findings) != 1 || rep.Findings[0].Path != "vendor/lib/secret.env" || rep.Findings[0].Message != "add a key to the library" {
		t.Errorf("findings %+v; want one at vendor/lib/secret.env from the library's commit", rep.Findings)
	}
	if f := rep.Findings; len(f) == 1 && (f[0].InHead == nil || *f[0].InHead) {
		t.Errorf("in_head = %v, want false: the key was removed in the submodule", f[0].InHead)
	}
}
