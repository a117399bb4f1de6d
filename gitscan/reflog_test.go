package gitscan

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// hiddenRepo is a history whose keys only a reflog reaches: one amended
// away, one on a branch reset past it, one amended with the key kept (the
// amended commit holds it, so it is reported there).
type hiddenRepo struct {
	r       *testgit.Repo
	keys    map[string]string
	commits map[string]string
}

func buildHiddenRepo(t *testing.T) *hiddenRepo {
	t.Helper()
	r := testgit.New(t, "")
	h := &hiddenRepo{r: r, keys: map[string]string{}, commits: map[string]string{}}
	env := func(name string) string {
		h.keys[name] = gitTestKey("hidden-" + name)
		return "LOFTY_API_KEY=" + h.keys[name] + "\n"
	}
	r.Write("README.md", "hello\n")
	h.commits["base"] = r.Commit("first commit")

	// Amended away: the key was in the commit, the amend removed it.
	r.Write("amended.env", env("amended"))
	h.commits["amended"] = r.Commit("add settings")
	r.Write("amended.env", "LOFTY_API_KEY=${LOFTY_API_KEY}\n")
	r.Git("add", "-A")
	r.Git("commit", "-q", "--amend", "-m", "add settings")
	r.Tick()

	// Amended with the key kept: the new commit has it too.
	r.Write("kept.env", env("kept"))
	h.commits["kept-old"] = r.Commit("add more settings")
	r.Git("commit", "-q", "--amend", "-m", "add more settings, reworded")
	r.Tick()
	h.commits["kept"] = r.Git("rev-parse", "HEAD")

	// A branch reset past the commit that added the key.
	r.Write("reset.env", env("reset"))
	h.commits["reset"] = r.Commit("oops")
	r.Git("reset", "-q", "--hard", "HEAD~1")
	h.commits["head"] = r.Git("rev-parse", "HEAD")
	return h
}

// want returns what a scan reports of the hidden keys: each at its commit,
// with what reaches it.
func (h *hiddenRepo) check(t *testing.T, got []finding.Finding, reach finding.Reach) {
	t.Helper()
	checkGitFindings(t, got,
		gitWant{key: h.keys["amended"], path: "amended.env", commit: h.commits["amended"]},
		gitWant{key: h.keys["kept"], path: "kept.env", commit: h.commits["kept"], inHead: true},
		gitWant{key: h.keys["reset"], path: "reset.env", commit: h.commits["reset"]},
	)
	for _, f := range got {
		want := reach
		if f.Secret == h.keys["kept"] {
			want = finding.ReachRefs
		}
		if f.Exposure == nil || f.Exposure.ReachableFrom != want || f.Unreachable != (want == finding.ReachNothing) {
			t.Errorf("%s: unreachable %v, exposure %+v; want reachable from %s", f.Path, f.Unreachable, f.Exposure, want)
			continue
		}
		if want != finding.ReachRefs && (len(f.Exposure.Refs) != 0 || f.Exposure.Commits != 0 || f.Exposure.LastCommit != "") {
			t.Errorf("%s: no ref holds it, exposure %+v", f.Path, f.Exposure)
		}
	}
}

func TestGitReflog(t *testing.T) {
	t.Parallel()
	h := buildHiddenRepo(t)
	got, c, _ := scanGit(t, repoOf(h.r), HistoryOptions{})
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %v", c.Warnings)
	}
	h.check(t, got, finding.ReachReflog)
	checkFastMatchesSlow(t, repoOf(h.r), HistoryOptions{}, 0)

	h.r.Git("repack", "-a", "-d", "-q") // keeps what the reflogs reach
	got, _, _ = scanGit(t, repoOf(h.r), HistoryOptions{})
	h.check(t, got, finding.ReachReflog)
	checkFastMatchesSlow(t, repoOf(h.r), HistoryOptions{}, 0)

	// A scan of some refs or of a range reads what they reach, and no
	// reflog.
	got, _, _ = scanGit(t, repoOf(h.r), HistoryOptions{Refs: []string{"main"}})
	checkGitFindings(t, got, gitWant{key: h.keys["kept"], path: "kept.env", commit: h.commits["kept"], inHead: true})
	got, _, _ = scanGit(t, repoOf(h.r), HistoryOptions{Refs: []string{"main"}, Exclude: []string{h.commits["base"]}})
	checkGitFindings(t, got, gitWant{key: h.keys["kept"], path: "kept.env", commit: h.commits["kept"], inHead: true})
}

// TestGitReflogExpired expires the reflogs: the commits they reached stay
// in the object database, reachable from nothing, until a prune.
func TestGitReflogExpired(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		after []string // git commands after the reflogs expire
		gone  bool
	}{
		{name: "loose", after: nil},
		{name: "gc keeps them", after: []string{"gc", "-q"}},
		{name: "repack -A", after: []string{"repack", "-A", "-d", "-q"}},
		{name: "gc --prune=now", after: []string{"gc", "-q", "--prune=now"}, gone: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := buildHiddenRepo(t)
			h.r.Git("reflog", "expire", "--expire=now", "--expire-unreachable=now", "--all")
			if tc.after != nil {
				h.r.Git(tc.after...)
			}
			got, c, _ := scanGit(t, repoOf(h.r), HistoryOptions{})
			if len(c.Warnings) != 0 {
				t.Errorf("warnings: %v", c.Warnings)
			}
			if tc.gone {
				checkGitFindings(t, got, gitWant{key: h.keys["kept"], path: "kept.env", commit: h.commits["kept"], inHead: true})
			} else {
				h.check(t, got, finding.ReachNothing)
			}
			checkFastMatchesSlow(t, repoOf(h.r), HistoryOptions{}, 0)
		})
	}
}

// TestGitCopiedDotGit scans a copy of a .git folder, as a backup or a
// Docker build context carries it: a commit its reflogs no longer reach, a
// blob staged and then replaced before the commit (no commit or index
// names it), and a blob staged and not committed (the index names it).
func TestGitCopiedDotGit(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	keys := map[string]string{}
	env := func(name string) string {
		keys[name] = gitTestKey("copied-" + name)
		return "LOFTY_API_KEY=" + keys[name] + "\n"
	}
	r.Write("README.md", "hello\n")
	r.Commit("first commit")
	r.Write("dropped.env", env("dropped"))
	dropped := r.Commit("add a key")
	r.Git("reset", "-q", "--hard", "HEAD~1")
	r.Git("reflog", "expire", "--expire=now", "--expire-unreachable=now", "--all")
	r.Git("repack", "-a", "-d", "-q")

	r.Write("replaced.env", env("replaced"))
	r.Git("add", "replaced.env")
	replacedBlob := r.Git("rev-parse", ":replaced.env")
	r.Write("replaced.env", "LOFTY_API_KEY=${LOFTY_API_KEY}\n")
	r.Git("add", "replaced.env")
	r.Write("staged.env", env("staged"))
	r.Git("add", "staged.env")

	copied := filepath.Join(t.TempDir(), "backup.git")
	if out, err := exec.Command("cp", "-a", filepath.Join(r.Dir, ".git"), copied).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	if err := os.RemoveAll(r.Dir); err != nil {
		t.Fatal(err)
	}
	repo := repoAt(t, copied)
	got, c, _ := scanGit(t, repo, HistoryOptions{})
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %v", c.Warnings)
	}
	if len(got) != 3 {
		t.Fatalf("got %d findings, want 3: %+v", len(got), got)
	}
	for _, f := range got {
		var path, commit string
		switch f.Secret {
		case keys["dropped"]:
			path, commit = "dropped.env", dropped
		case keys["replaced"]:
			path = replacedBlob
		case keys["staged"]:
			path = "staged.env"
		default:
			t.Errorf("unexpected finding %+v", f)
			continue
		}
		if f.Path != path || f.Commit != commit || !f.Unreachable || f.Exposure == nil || f.Exposure.ReachableFrom != finding.ReachNothing {
			t.Errorf("%s: path %q commit %q unreachable %v exposure %+v; want %q %q, unreachable", f.Secret[len(f.Secret)-8:], f.Path, f.Commit, f.Unreachable, f.Exposure, path, commit)
		}
	}
	checkFastMatchesSlow(t, repo, HistoryOptions{}, 0)

	// A scan of a ref reads none of them.
	got, _, _ = scanGit(t, repo, HistoryOptions{Refs: []string{"main"}})
	if len(got) != 0 {
		t.Errorf("--ref main: %+v", got)
	}
}

// TestGitHiddenSelected checks what --since and --skip read of the commits
// and blobs no ref reaches: --since the reflogs' commits made since then;
// --skip the reflogs and unreachable commits, with the globs applied, and
// no blob that no commit holds (it has no path a glob could match).
func TestGitHiddenSelected(t *testing.T) {
	t.Parallel()
	h := buildHiddenRepo(t)
	got, _, _ := scanGit(t, repoOf(h.r), HistoryOptions{Since: commitTime(h.r, h.commits["reset"])})
	checkGitFindings(t, got, gitWant{key: h.keys["reset"], path: "reset.env", commit: h.commits["reset"]})
	if got[0].Exposure == nil || got[0].Exposure.ReachableFrom != finding.ReachReflog {
		t.Errorf("--since: exposure %+v", got[0].Exposure)
	}

	k := gitTestKey("hidden-staged")
	h.r.Write("staged.env", "LOFTY_API_KEY="+k+"\n")
	h.r.Git("add", "staged.env")
	got, _, _ = scanGit(t, repoOf(h.r), HistoryOptions{})
	if f := findingOf(t, got, k); f.Path != "staged.env" || !f.Unreachable || f.Commit != "" {
		t.Errorf("staged blob: %+v", f)
	}
	o := scanner.DefaultOptions()
	o.Skip = func(p string, _ bool) bool { return p == "reset.env" }
	c := &scanner.Collector{}
	if _, err := ScanHistory(context.Background(), scanner.New(o), repoOf(h.r), HistoryOptions{}, c); err != nil {
		t.Fatal(err)
	}
	checkGitFindings(t, c.Sorted(),
		gitWant{key: h.keys["amended"], path: "amended.env", commit: h.commits["amended"]},
		gitWant{key: h.keys["kept"], path: "kept.env", commit: h.commits["kept"], inHead: true},
	)
}
