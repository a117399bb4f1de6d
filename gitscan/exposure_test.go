package gitscan

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// exposureRepo is a clone of an upstream repository with keys spread
// over branches, tags and the remote's branches:
//
//   - "main": added to config.env on main upstream, edited around, removed,
//     added again, removed again; tagged (annotated v1 and lightweight
//     light) while it was there; cherry-picked onto the local branch copy;
//   - "topic": on a branch pushed upstream, with no local branch;
//   - "local": on a local branch never pushed.
type exposureRepo struct {
	up, clone *testgit.Repo
	keys      map[string]string
	commits   map[string]string
}

func buildExposureRepo(t *testing.T) *exposureRepo {
	t.Helper()
	up := testgit.New(t, "")
	x := &exposureRepo{up: up, keys: map[string]string{}, commits: map[string]string{}}
	for _, name := range []string{"main", "topic", "local"} {
		x.keys[name] = gitTestKey("exposure-" + name)
	}
	config := func(key, extra string) string {
		s := "# settings\n"
		if key != "" {
			s += "LOFTY_API_KEY=" + key + "\n"
		}
		return s + extra
	}
	up.Write("README.md", "hello\n")
	x.commits["root"] = up.Commit("first commit")
	up.Write("config.env", config(x.keys["main"], ""))
	x.commits["added"] = up.Commit("add settings")
	up.Write("config.env", config(x.keys["main"], "DEBUG=1\n"))
	x.commits["edited"] = up.Commit("debug") // a new blob, the same key
	up.Git("tag", "light")
	up.Git("tag", "-a", "v1", "-m", "release 1")
	up.Tick()
	up.Write("config.env", config("", "DEBUG=1\n"))
	x.commits["removed"] = up.Commit("read the key from the environment")
	up.Write("config.env", config(x.keys["main"], "DEBUG=0\n"))
	x.commits["again"] = up.Commit("quick test") // added again
	up.Write("config.env", config("", "DEBUG=0\n"))
	x.commits["removed again"] = up.Commit("remove it again")

	up.Git("checkout", "-q", "-b", "topic")
	up.Write("topic.env", "LOFTY_API_KEY="+x.keys["topic"]+"\n")
	x.commits["topic"] = up.Commit("topic work")
	up.Git("checkout", "-q", "main")

	dir := filepath.Join(t.TempDir(), "clone")
	up.GitIn(filepath.Dir(dir), "clone", "-q", "file://"+up.Dir, dir)
	c := up.At(t, dir)
	x.clone = c
	c.Git("checkout", "-q", "-b", "local")
	c.Write("local.env", "LOFTY_API_KEY="+x.keys["local"]+"\n")
	x.commits["local"] = c.Commit("local work")
	c.Git("checkout", "-q", "-b", "copy", x.commits["root"])
	c.Git("cherry-pick", x.commits["added"])
	c.Tick()
	x.commits["copy"] = c.Git("rev-parse", "HEAD")
	c.Git("checkout", "-q", "main")
	return x
}

func findingOf(t *testing.T, got []finding.Finding, key string) finding.Finding {
	t.Helper()
	for _, f := range got {
		if f.Secret == key {
			return f
		}
	}
	t.Fatalf("no finding of the key among %d", len(got))
	return finding.Finding{}
}

func TestGitExposure(t *testing.T) {
	t.Parallel()
	x := buildExposureRepo(t)
	got, c, _ := scanGit(t, repoOf(x.clone), HistoryOptions{})
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %v", c.Warnings)
	}
	checkGitFindings(t, got,
		gitWant{key: x.keys["main"], path: "config.env", commit: x.commits["added"]},
		gitWant{key: x.keys["topic"], path: "topic.env", commit: x.commits["topic"]},
		gitWant{key: x.keys["local"], path: "local.env", commit: x.commits["local"]},
	)
	c0 := x.commits
	want := map[string]*finding.Exposure{
		"main": {
			ReachableFrom: finding.ReachRefs,
			Commits:       4, // added, edited, again, and the cherry-picked copy
			LastCommit:    c0["again"],
			Pushed:        true,
			Refs: []finding.RefExposure{
				{Name: "refs/heads/copy", ContainsCommit: false, InTip: true, LastCommit: c0["copy"]},
				{Name: "refs/heads/local", ContainsCommit: true, InTip: false, LastCommit: c0["again"]},
				{Name: "refs/heads/main", ContainsCommit: true, InTip: false, LastCommit: c0["again"]},
				{Name: "refs/remotes/origin/main", ContainsCommit: true, InTip: false, LastCommit: c0["again"]},
				{Name: "refs/remotes/origin/topic", ContainsCommit: true, InTip: false, LastCommit: c0["again"]},
				{Name: "refs/tags/light", ContainsCommit: true, InTip: true, LastCommit: c0["edited"]},
				{Name: "refs/tags/v1", ContainsCommit: true, InTip: true, LastCommit: c0["edited"]},
			},
			RefCount: 7,
		},
		"topic": {
			ReachableFrom: finding.ReachRefs,
			Commits:       1,
			Pushed:        true,
			Refs: []finding.RefExposure{
				{Name: "refs/remotes/origin/topic", ContainsCommit: true, InTip: true, LastCommit: c0["topic"]},
			},
			RefCount: 1,
		},
		"local": {
			ReachableFrom: finding.ReachRefs,
			Commits:       1,
			Refs: []finding.RefExposure{
				{Name: "refs/heads/local", ContainsCommit: true, InTip: true, LastCommit: c0["local"]},
			},
			RefCount: 1,
		},
	}
	for name, w := range want {
		f := findingOf(t, got, x.keys[name])
		if !reflect.DeepEqual(f.Exposure, w) {
			t.Errorf("%s: exposure\n%+v\nwant\n%+v", name, f.Exposure, w)
		}
	}
	checkFastMatchesSlow(t, repoOf(x.clone), HistoryOptions{}, 0)

	// A range that holds only the commit that added the key reads the
	// other versions of its file now, and says the same.
	got, _, _ = scanGit(t, repoOf(x.clone), HistoryOptions{Refs: []string{c0["added"]}, Exclude: []string{c0["root"]}})
	f := findingOf(t, got, x.keys["main"])
	if !reflect.DeepEqual(f.Exposure, want["main"]) {
		t.Errorf("range: exposure\n%+v\nwant\n%+v", f.Exposure, want["main"])
	}
}
