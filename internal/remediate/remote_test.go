package remediate

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/gitscan"
	"github.com/loftyscan/loftyscan/scanner"
)

// remoteSetup is a clone with two remotes (bare repositories on disk):
// origin has main, feature and an annotated tag; mirror has main only. The
// clone also has a branch it never pushed and a commit on main it has not
// pushed yet, both with keys.
type remoteSetup struct {
	base, origin, mirror string
	local                *repo
}

func newRemoteSetup(t *testing.T) remoteSetup {
	k := func(sub string) string { s, _ := testKey(sub); return s }
	base := t.TempDir()
	s := remoteSetup{base: base, origin: filepath.Join(base, "origin.git"), mirror: filepath.Join(base, "mirror.git")}
	git(t, base, "init", "-q", "--bare", s.origin)
	git(t, base, "init", "-q", "--bare", s.mirror)
	git(t, base, "clone", "-q", s.origin, filepath.Join(base, "local"))
	s.local = &repo{t: t, dir: filepath.Join(base, "local")}
	r := s.local
	r.commit("initial", map[string]string{"README.md": "# demo\n", "config/app.env": "LOFTY_API_KEY=" + k("pushed-main") + "\n"})
	r.commit("docs", map[string]string{"docs/use.md": "see README\n"})
	r.git("tag", "-a", "v1", "-m", "first release")
	r.git("checkout", "-q", "-b", "feature")
	r.commit("feature", map[string]string{"feature.yaml": "lofty:\n  token: " + k("pushed-feature") + "\n"})
	r.git("push", "-q", "origin", "main", "feature", "v1")
	r.git("remote", "set-head", "origin", "main")
	r.git("remote", "add", "mirror", "../mirror.git") // relative: the plan must resolve it
	r.git("push", "-q", "mirror", "main")
	r.git("fetch", "-q", "mirror")
	r.git("checkout", "-q", "-b", "wip", "main")
	r.commit("wip", map[string]string{"wip.txt": "LOFTY_API_KEY=" + k("local-only") + "\n"})
	r.git("checkout", "-q", "main")
	r.git("branch", "-q", "--set-upstream-to=origin/main")
	r.commit("not pushed yet", map[string]string{"later.env": "LOFTY_API_KEY=" + k("unpushed") + "\n"})
	return s
}

// plan scans the clone and builds its plan.
func (s remoteSetup) plan(t *testing.T) (*Plan, []Key) {
	t.Helper()
	keys := scanRepo(t, s.local.dir)
	if len(keys) != 4 {
		t.Fatalf("the scan found %d keys, want 4:\n%s", len(keys), describeKeys(keys))
	}
	return buildPlan(t, s.local.dir, s.base, keys), keys
}

// The plan rewrites each remote from a fresh clone of it and force-pushes
// what that remote has: a fresh clone of each is clean, its refs are the
// ones it had, and this clone, rewritten in place, keeps its branches,
// its remotes and the commits the remotes now have.
func TestPlanRewritesAndForcePushesEachRemote(t *testing.T) {
	requireFilterRepo(t)
	s := newRemoteSetup(t)
	originMainBefore := git(t, s.origin, "rev-list", "--count", "main")
	p, keys := s.plan(t)
	var text strings.Builder
	p.Write(&text, FormatText)
	assertNoSecretIn(t, "the plan", text.String(), keys)
	for _, want := range []string{"Rewrite remote origin", "Rewrite remote mirror", "--force-with-lease=refs/heads/main:", "--force-with-lease=refs/heads/feature:"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the plan does not say %q", want)
		}
	}

	runCommands(t, s.base, p.Rewrite)
	runChecks(t, s.base, p.Check)

	// Each remote has the refs it had, rewritten; nothing it did not have.
	if got := git(t, s.origin, "for-each-ref", "--format=%(refname)"); got != "refs/heads/feature\nrefs/heads/main\nrefs/tags/v1\n" {
		t.Errorf("origin's refs:\n%s", got)
	}
	if got := git(t, s.mirror, "for-each-ref", "--format=%(refname)"); got != "refs/heads/main\n" {
		t.Errorf("mirror's refs:\n%s", got)
	}
	if got := git(t, s.origin, "rev-list", "--count", "main"); got != originMainBefore {
		t.Errorf("origin's main has %s commits, had %s: the push sent this clone's main, not origin's", got, originMainBefore)
	}
	// A fresh clone of each remote, made here rather than by the plan.
	for _, remote := range []string{s.origin, s.mirror} {
		dir := filepath.Join(s.base, "fresh-"+filepath.Base(remote))
		git(t, s.base, "clone", "-q", "--no-local", remote, dir)
		if left := scanRepo(t, dir); len(left) > 0 {
			t.Errorf("a fresh clone of %s holds keys:\n%s", filepath.Base(remote), describeKeys(left))
		}
	}

	// This clone: clean, its branches and remotes kept, its upstream kept,
	// and the remotes' rewritten commits the ones it has.
	r := s.local
	if left := scanRepo(t, r.dir); len(left) > 0 {
		t.Errorf("the clone holds keys:\n%s", describeKeys(left))
	}
	if got := r.git("for-each-ref", "--format=%(refname)", "refs/heads", "refs/remotes"); got != "refs/heads/feature\nrefs/heads/main\nrefs/heads/wip\nrefs/remotes/mirror/main\nrefs/remotes/origin/HEAD\nrefs/remotes/origin/feature\nrefs/remotes/origin/main\n" {
		t.Errorf("the clone's refs:\n%s", got)
	}
	if got := strings.TrimSpace(r.git("symbolic-ref", "refs/remotes/origin/HEAD")); got != "refs/remotes/origin/main" {
		t.Errorf("origin/HEAD names %q", got)
	}
	if got := strings.TrimSpace(r.git("remote")); got != "mirror\norigin" {
		t.Errorf("remotes %q", got)
	}
	if got := strings.TrimSpace(r.git("config", "branch.main.remote")); got != "origin" {
		t.Errorf("main's upstream remote is %q", got)
	}
	before := r.git("rev-parse", "origin/main", "origin/feature", "mirror/main")
	r.git("fetch", "-q", "origin")
	r.git("fetch", "-q", "mirror")
	if after := r.git("rev-parse", "origin/main", "origin/feature", "mirror/main"); after != before {
		t.Errorf("fetching moved the remote-tracking branches: the clone's rewrite and the remotes' differ\n%s\n%s", before, after)
	}
	if got := r.git("rev-list", "--count", "origin/main..main"); strings.TrimSpace(got) != "1" {
		t.Errorf("main is %s commits ahead of origin/main, want the 1 not pushed", got)
	}
}

// A force push replaces only what the scan saw: if someone pushed since, the
// lease refuses it and their commit stays.
func TestPlanPushRefusesWhenTheRemoteMoved(t *testing.T) {
	requireFilterRepo(t)
	s := newRemoteSetup(t)
	p, _ := s.plan(t)

	other := filepath.Join(s.base, "other")
	git(t, s.base, "clone", "-q", s.origin, other)
	o := &repo{t: t, dir: other}
	o.commit("meanwhile", map[string]string{"news.txt": "pushed after the scan\n"})
	o.git("push", "-q", "origin", "main")
	theirs := git(t, s.origin, "rev-parse", "main")

	var refused bool
	for _, st := range p.Rewrite {
		for _, c := range st.Commands {
			cmd := exec.Command(c.Args[0], c.Args[1:]...)
			cmd.Dir = s.base
			out, err := cmd.CombinedOutput()
			if err != nil {
				if !strings.Contains(string(out), "stale info") || !strings.Contains(strings.Join(c.Args, " "), "--force-with-lease=refs/heads/main:") {
					t.Fatalf("%s: %v\n%s", strings.Join(c.Args, " "), err, out)
				}
				refused = true
				break
			}
		}
		if refused {
			break
		}
	}
	if !refused {
		t.Fatal("the push went through although origin moved since the scan")
	}
	if got := git(t, s.origin, "rev-parse", "main"); got != theirs {
		t.Errorf("origin's main is %s, was %s", got, theirs)
	}
}

// A remote that is a repository on this machine keeps the old commits in
// its object store after the force pushes, where a scan of it (which reads
// every object) still finds every key: the plan prunes them, and its check
// scans that repository itself, not only a fresh clone of it.
func TestPlanPrunesARemoteOnThisMachine(t *testing.T) {
	requireFilterRepo(t)
	s := newRemoteSetup(t)
	p, keys := s.plan(t)
	runCommands(t, s.base, p.Rewrite)
	runChecks(t, s.base, p.Check)
	for _, remote := range []string{s.origin, s.mirror} {
		if left := scanRepo(t, remote); len(left) > 0 {
			t.Errorf("%s still holds keys after the plan:\n%s", filepath.Base(remote), describeKeys(left))
		}
		objects := git(t, remote, "cat-file", "--batch-all-objects", "--batch")
		assertNoSecretIn(t, filepath.Base(remote)+"'s objects", objects, keys)
		scanned := false
		for _, st := range p.Check {
			for _, c := range st.Commands {
				scanned = scanned || len(c.Args) == 4 && c.Args[1] == "git" && c.Args[3] == remote
			}
		}
		if !scanned {
			t.Errorf("no check scans %s itself", filepath.Base(remote))
		}
	}
}

// The README's way to make a plan is a fresh git clone --mirror of the
// server. A mirror has no remote-tracking branches: its branches are the
// server's, under refs/heads. The plan rewrote the mirror alone and pushed
// nothing, so the server kept every key while the checks of the mirror
// came back clean. It rewrites and force-pushes the server's branches.
// The same holds for a git clone --bare, whose remote has no fetch refspec
// at all: the plan rewrote the clone alone, said nothing of the server,
// and its checks came back clean.
func TestPlanFromAMirrorCloneRewritesTheServer(t *testing.T) {
	requireFilterRepo(t)
	for _, how := range []string{"--mirror", "--bare"} {
		t.Run(how, func(t *testing.T) { testPlanFromACloneRewritesTheServer(t, how) })
	}
}

func testPlanFromACloneRewritesTheServer(t *testing.T, how string) {
	k := func(sub string) string { s, _ := testKey(sub); return s }
	base := t.TempDir()
	server := filepath.Join(base, "server.git")
	git(t, base, "init", "-q", "--bare", server)
	dev := newRepo(t, filepath.Join(base, "dev"))
	dev.commit("config", map[string]string{"app.env": "LOFTY_API_KEY=" + k("mirror-main") + "\n"})
	dev.git("checkout", "-q", "-b", "feature")
	dev.commit("feature", map[string]string{"feature.env": "LOFTY_API_KEY=" + k("mirror-feature") + "\n"})
	dev.git("tag", "-a", "v1", "-m", "first release") // the check scans tag messages
	dev.git("push", "-q", server, "main", "feature", "v1")
	mirror := filepath.Join(base, "mirror.git")
	git(t, base, "clone", "-q", how, server, mirror)

	keys := scanRepo(t, mirror)
	if len(keys) != 2 {
		t.Fatalf("the scan found %d keys, want 2:\n%s", len(keys), describeKeys(keys))
	}
	p := buildPlan(t, mirror, base, keys)
	runCommands(t, base, p.Rewrite)
	runChecks(t, base, p.Check)
	if left := scanRepo(t, server); len(left) > 0 {
		t.Errorf("the server still holds keys after the plan:\n%s", describeKeys(left))
	}
	if got := git(t, server, "for-each-ref", "--format=%(refname)"); got != "refs/heads/feature\nrefs/heads/main\nrefs/tags/v1\n" {
		t.Errorf("the server's refs:\n%s", got)
	}
}

// A remote branch whose name holds a key-shaped text is printed redacted, so
// a push naming it names no branch, and git refused the whole push: no
// branch of the remote was rewritten. The other branches are pushed, and
// the plan says what to do by hand about the one whose name it cannot print.
func TestPlanPushesTheOtherBranchesWhenANameHoldsAKey(t *testing.T) {
	requireFilterRepo(t)
	k := func(sub string) string { s, _ := testKey(sub); return s }
	base := t.TempDir()
	server := filepath.Join(base, "server.git")
	git(t, base, "init", "-q", "--bare", server)
	local := filepath.Join(base, "local")
	git(t, base, "clone", "-q", server, local)
	r := &repo{t: t, dir: local}
	secret := k("named-branch-body")
	r.commit("config", map[string]string{"app.env": "LOFTY_API_KEY=" + secret + "\n"})
	r.git("tag", "-a", "v1", "-m", "first release") // the check scans tag messages
	named := "refs/heads/" + k("in-a-branch-name")
	r.git("push", "-q", "origin", "main", "v1", "main:"+named)
	r.git("fetch", "-q", "origin")

	// The scan reports the ref at location ref (its name is no file).
	repo, err := gitscan.FindRepository(local)
	if err != nil {
		t.Fatal(err)
	}
	var c scanner.Collector
	if _, err := gitscan.ScanHistory(context.Background(), scanner.New(scanner.Options{}), repo, gitscan.HistoryOptions{}, &c); err != nil {
		t.Fatal(err)
	}
	refs := 0
	for _, f := range c.Findings {
		if f.Location == finding.InRef && f.Path == "refs/remotes/origin/"+strings.TrimPrefix(named, "refs/heads/") {
			refs++
		}
	}
	if len(c.Warnings) != 0 || refs != 1 {
		t.Errorf("scan warnings %v, %d findings at the remote-tracking branch: want none, and one", c.Warnings, refs)
	}
	keys := keysFromFindings(c.Sorted())
	p := buildPlan(t, local, base, keys)
	var text strings.Builder
	p.Write(&text, FormatText)
	if !strings.Contains(text.String(), "is not pushed here: its name holds a key-shaped text") {
		t.Errorf("the plan does not say what to do about the branch it cannot name:\n%s", text.String())
	}
	// As a person runs them: the printed lines, through a shell.
	for _, st := range p.Rewrite {
		for _, c := range st.Commands {
			cmd := exec.Command("bash", "-c", shellLine(c))
			cmd.Dir = base
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("step %q: %s: %v\n%s", st.Title, shellLine(c), err, out)
			}
		}
	}
	assertNoSecretIn(t, "the server's main", git(t, server, "show", "main:app.env"), keys)
}

// The steps by hand that have a command (deleting an archive, renaming a
// file named after a key) were printed after the rewrite steps, which push:
// read top to bottom, the plan had pushed each remote before the reader
// got to them, and a second push was refused as stale (--force-with-lease
// names the old commit), so the remote kept the archive. Each rewrite
// step now runs them in its repository before it pushes: the plan's
// rewrite, run in order, leaves nothing on the remote.
func TestPlanRunInOrderRemovesArchivesFromTheRemote(t *testing.T) {
	requireFilterRepo(t)
	k := func(sub string) string { s, _ := testKey(sub); return s }
	base := t.TempDir()
	server := filepath.Join(base, "server.git")
	git(t, base, "init", "-q", "--bare", server)
	r := newRepo(t, filepath.Join(base, "repo"))
	r.commit("add", map[string]string{
		"dist/bundle.zip": zipOfKey(t, "in-order-archive"),
		"app.env":         "LOFTY_API_KEY=" + k("in-order-text") + "\n",
		"src/main.go":     "package main\n",
	})
	r.git("tag", "-a", "v1", "-m", "first release") // the check scans tag messages
	r.git("remote", "add", "origin", server)
	r.git("push", "-q", "origin", "main", "v1")
	r.git("fetch", "-q", "origin")

	p := buildPlan(t, r.dir, base, scanRepoWith(t, r.dir, scanner.DefaultOptions()))
	if len(p.Manual) != 1 {
		t.Fatalf("%d steps by hand, want the archive's: %+v", len(p.Manual), p.Manual)
	}
	runCommands(t, base, p.Rewrite)
	runChecks(t, base, p.Check)
	for _, dir := range []string{server, r.dir} {
		if left := scanRepoWith(t, dir, scanner.DefaultOptions()); len(left) > 0 {
			t.Errorf("%s still holds keys after the plan's rewrite, run in order:\n%s", filepath.Base(dir), describeKeys(left))
		}
		if files := git(t, dir, "log", "--all", "--format=", "--name-only"); !strings.Contains(files, "src/main.go") {
			t.Errorf("%s lost its other files:\n%s", filepath.Base(dir), files)
		}
	}
}
