package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/internal/testtool"
)

// remediateRepo is a clone whose history holds keys in a branch, a file
// deleted on another branch, a lightweight tag, an annotated tag's message
// and a commit message, pushed to a bare origin; and one key the
// repository's .loftyscanignore accepts. It returns the clone, the origin,
// the keys to remove by name, and the accepted key.
func remediateRepo(t *testing.T, base string) (*testgit.Repo, *testgit.Repo, map[string]string, string) {
	origin := testgit.New(t, filepath.Join(base, "origin.git"), "--bare")
	r := testgit.New(t, filepath.Join(base, "repo"))
	keys := map[string]string{}
	for _, name := range []string{"main", "deleted", "light-tag", "tag-message", "commit-message"} {
		keys[name] = gitKey("remediate-" + name)
	}
	accepted := gitKey("remediate-accepted")
	r.Write("README.md", "# app\n")
	r.Write("config/app.env", "DEBUG=1\nLOFTY_API_KEY="+keys["main"]+"\nREGION=eu\n")
	r.Write("testdata/fixture.env", "LOFTY_API_KEY="+accepted+"\n")
	r.Write(".loftyscanignore", fingerprintOf(accepted)+" testdata/** # revoked, kept for the client tests\n")
	r.Commit("first")
	r.Git("checkout", "-q", "-b", "dev")
	r.Write("dev/settings.json", `{"lofty": {"token": "`+keys["deleted"]+`"}}`+"\n")
	r.Commit("dev settings")
	r.Git("rm", "-q", "dev/settings.json")
	r.Commit("remove the settings")
	r.Git("checkout", "-q", "main")
	r.Write("src/main.go", "package main\n")
	r.Commit("configure the client\n\nThe demo account's key is " + keys["commit-message"] + ".")
	r.Git("checkout", "-q", "-b", "release", "main")
	r.Write("release.env", "lofty_token="+keys["light-tag"]+"\n")
	r.Commit("release")
	r.Git("tag", "v1.0")
	r.Git("tag", "-a", "v1.1", "-m", "Release 1.1\n\nSmoke-tested with "+keys["tag-message"]+".")
	r.Git("checkout", "-q", "main")
	r.Git("branch", "-q", "-D", "release")
	r.Git("remote", "add", "origin", origin.Dir)
	r.Git("push", "-q", "origin", "main", "dev", "--tags")
	r.Git("fetch", "-q", "origin")
	return r, origin, keys, accepted
}

// shBlocks returns the shell blocks of a Markdown plan between two
// headings.
func shBlocks(t *testing.T, plan, from, to string) []string {
	t.Helper()
	i, j := strings.Index(plan, from), len(plan)
	if to != "" {
		j = strings.Index(plan, to)
	}
	if i < 0 || j < i {
		t.Fatalf("the plan has no %q section before %q:\n%s", from, to, plan)
	}
	var blocks []string
	for _, part := range strings.Split(plan[i:j], "```sh\n")[1:] {
		body, _, ok := strings.Cut(part, "\n```")
		if !ok {
			t.Fatalf("an unclosed block:\n%s", part)
		}
		blocks = append(blocks, body)
	}
	return blocks
}

// The real command end to end: it scans, writes a Markdown plan, and the
// plan's own commands, run as they are with the real git filter-repo,
// remove every planned key from every branch, tag and message of the
// clone and of its origin; its checks pass; the other files stay as they
// were; the key the repository accepts is left alone.
func TestRemediateEndToEnd(t *testing.T) {
	testtool.Need(t, "git-filter-repo")
	hookBinary(t)
	base := t.TempDir()
	r, origin, keys, accepted := remediateRepo(t, base)
	planParent := filepath.Join(base, "plans")
	if err := os.Mkdir(planParent, 0o700); err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(base, "plan.md")
	code, stdout, stderr := runGit(t, nil, "", "remediate", r.Dir, "--plan-dir", planParent, "-f", "markdown", "-o", planFile)
	if code != 0 {
		t.Fatalf("remediate: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "wrote the plan for 5 keys") {
		t.Errorf("remediate says: %s", stderr)
	}
	b, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	plan := string(b)
	for name, k := range keys {
		if strings.Contains(plan, k) || strings.Contains(stderr, k) {
			t.Errorf("the plan prints key %s", name)
		}
		if !strings.Contains(plan, fingerprintOf(k)[:12]) {
			t.Errorf("the plan does not name key %s", name)
		}
	}
	if strings.Contains(plan, fingerprintOf(accepted)[:12]) {
		t.Error("the plan includes the key .loftyscanignore accepts")
	}
	for _, want := range []string{"Settings → Integrations → API", "git filter-repo", "force", "v1.0", "v1.1", "dev", "Forks and other clones", "re-clone"} {
		if !strings.Contains(plan, want) {
			t.Errorf("the plan does not say %q", want)
		}
	}
	readme := r.Git("show", "main:README.md")

	run := func(what string, blocks []string) {
		t.Helper()
		for _, blk := range blocks {
			cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", blk)
			cmd.Dir = base
			cmd.Env = r.Env()
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s\n%s", what, err, blk, out)
			}
		}
	}
	run("rewrite", shBlocks(t, plan, "## 2. Rewrite", "## 3. Check"))
	run("check", shBlocks(t, plan, "## 3. Check", "")) // each check fails on a key

	// Nothing planned is left, here or in a fresh clone of origin.
	if code, out, errOut := runGit(t, nil, "", "git", r.Dir, "--format", "json"); code != 0 {
		t.Errorf("the rescan finds keys: exit %d\n%s%s", code, out, errOut)
	}
	clone := filepath.Join(base, "fresh")
	r.GitIn(base, "clone", "-q", "--mirror", "--no-local", origin.Dir, clone)
	objects := r.GitIn(clone, "cat-file", "--batch-all-objects", "--batch")
	mine := r.Git("cat-file", "--batch-all-objects", "--batch")
	for name, k := range keys {
		if strings.Contains(objects, k) {
			t.Errorf("key %s is still in a fresh clone of origin", name)
		}
		if strings.Contains(mine, k) {
			t.Errorf("key %s is still in the repository", name)
		}
	}
	if !strings.Contains(mine, accepted) {
		t.Error("the accepted key was rewritten too")
	}
	if got := r.Git("show", "main:README.md"); got != readme {
		t.Errorf("README.md changed: %q", got)
	}
	if got := r.Git("show", "main:config/app.env"); !strings.HasPrefix(got, "DEBUG=1\nLOFTY_API_KEY=***REMOVED-LOFTY-KEY-") || !strings.HasSuffix(got, "\nREGION=eu") {
		t.Errorf("config/app.env after the rewrite: %q", got)
	}
	if _, err := os.Stat(filepath.Join(planParent)); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(planParent); len(left) != 0 {
		t.Errorf("the plan folder is still there: %v", left)
	}
}

// --key picks keys by their fingerprint's start, a suppressed one too;
// --from-report by a JSON report; a bad selection says why.
func TestRemediateSelection(t *testing.T) {
	base := t.TempDir()
	r, _, keys, accepted := remediateRepo(t, base)
	plans := filepath.Join(base, "plans")
	if err := os.Mkdir(plans, 0o700); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runGit(t, nil, "", "remediate", r.Dir, "--plan-dir", plans, "--key", fingerprintOf(accepted)[:10], "--key", fingerprintOf(keys["deleted"])[:8])
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, fingerprintOf(accepted)[:12]) || !strings.Contains(stdout, fingerprintOf(keys["deleted"])[:12]) || strings.Contains(stdout, fingerprintOf(keys["main"])[:12]) {
		t.Errorf("the plan is not of the two keys named:\n%s", stdout)
	}
	if !strings.Contains(stdout, "dev/settings.json") || strings.Contains(stdout, accepted) {
		t.Errorf("text plan:\n%s", stdout)
	}

	report := filepath.Join(base, "report.json")
	if code, _, stderr := runGit(t, nil, "", "git", r.Dir, "--range", "main..v1.0", "--format", "json", "--output", report); code != 1 {
		t.Fatalf("report: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr = runGit(t, nil, "", "remediate", r.Dir, "--plan-dir", plans, "--from-report", report)
	if code != 0 {
		t.Fatalf("--from-report: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, fingerprintOf(keys["light-tag"])[:12]) || strings.Contains(stdout, fingerprintOf(keys["main"])[:12]) || strings.Contains(stdout, fingerprintOf(keys["deleted"])[:12]) {
		t.Errorf("--from-report planned keys the report does not list:\n%s", stdout)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--key", "abc"}, "at least 8 hex digits"},
		{[]string{"--key", "00000000"}, "no key with fingerprint"},
		{[]string{"-f", "json"}, "unknown plan format"},
		{[]string{"--plan-dir", r.Dir}, "outside"},
		{[]string{"--from-report", filepath.Join(base, "none.json")}, "cannot read the report"},
	} {
		code, _, stderr := runGit(t, nil, "", append([]string{"remediate", r.Dir}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, want 2 and %q:\n%s", tc.args, code, tc.want, stderr)
		}
	}
	if code, _, stderr := runGit(t, nil, "", "remediate", "https://example.com/r.git"); code != 2 || !strings.Contains(stderr, "a plan rewrites a clone") {
		t.Errorf("a URL: exit %d\n%s", code, stderr)
	}
	// -o into the repository, as the README does: a link planted at the
	// path is replaced by the plan, not followed.
	victim := filepath.Join(base, "victim.txt")
	if err := os.WriteFile(victim, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	planted := filepath.Join(r.Dir, "plan.md")
	if err := os.Symlink(victim, planted); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runGit(t, nil, "", "remediate", r.Dir, "--plan-dir", plans, "-o", planted); code != 0 {
		t.Fatalf("-o over a link: exit %d\n%s", code, stderr)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep me\n" {
		t.Errorf("the plan was written through the planted link: %q", b)
	}
	if fi, err := os.Lstat(planted); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Errorf("the plan file: %v %v", fi, err)
	} else if b, _ := os.ReadFile(planted); !strings.Contains(string(b), fingerprintOf(keys["main"])[:12]) {
		t.Errorf("the plan file does not hold the plan:\n%s", b)
	}

	clean := testgit.New(t, "")
	clean.Write("a.txt", "a\n")
	clean.Commit("clean")
	if code, _, stderr := runGit(t, nil, "", "remediate", clean.Dir); code != 0 || !strings.Contains(stderr, "nothing to remediate") {
		t.Errorf("a clean repository: exit %d\n%s", code, stderr)
	}
}

// A shallow or a partial clone lacks part of the history, and so the keys
// in it: a plan made from it would rewrite the remotes' whole histories for
// the keys it saw only, and a new plan after the check would miss the rest
// again. remediate refuses it and says how to get a whole clone; a whole
// clone of the same remote plans for both keys.
func TestRemediateRefusesIncompleteClones(t *testing.T) {
	base := t.TempDir()
	origin := testgit.New(t, filepath.Join(base, "origin"))
	old, recent := gitKey("remediate-old"), gitKey("remediate-recent")
	origin.Write("old.env", "LOFTY_API_KEY="+old+"\n")
	origin.Commit("old key")
	origin.Git("rm", "-q", "old.env")
	origin.Commit("remove it")
	origin.Write("new.env", "LOFTY_API_KEY="+recent+"\n")
	origin.Commit("new key")
	origin.Git("config", "uploadpack.allowFilter", "true")
	url := "file://" + filepath.ToSlash(origin.Dir)
	plans := filepath.Join(base, "plans")
	if err := os.Mkdir(plans, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"shallow", []string{"--depth", "1"}, "it is a shallow clone"},
		{"partial", []string{"--filter=blob:none"}, "it is a partial clone"},
		{"whole", nil, ""},
	} {
		dir := filepath.Join(base, tc.name)
		origin.GitIn(base, append(append([]string{"clone", "-q"}, tc.args...), url, dir)...)
		code, stdout, stderr := runGit(t, nil, "", "remediate", dir, "--plan-dir", plans)
		if tc.want == "" {
			if code != 0 || !strings.Contains(stdout, fingerprintOf(old)[:12]) || !strings.Contains(stdout, fingerprintOf(recent)[:12]) {
				t.Errorf("%s clone: exit %d, want a plan for both keys:\n%s\n%s", tc.name, code, stdout, stderr)
			}
			continue
		}
		if code != 2 || stdout != "" || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "git clone --mirror") {
			t.Errorf("%s clone: exit %d, want 2, no plan, and an error saying %q with a hint:\nstdout:\n%s\nstderr:\n%s", tc.name, code, tc.want, stdout, stderr)
		}
	}
}

// A ref to an object the repository lacks stops git log --all and git
// filter-repo: remediate says which refs (a name holding a key hidden), and
// what to do, rather than failing in git log with a hint about installing
// git. Once the refs are gone, the plan is made.
func TestRemediateNamesBrokenRefs(t *testing.T) {
	r := testgit.New(t, "")
	k := gitKey("remediate-broken-ref")
	r.Write("a.env", "LOFTY_API_KEY="+k+"\n")
	r.Commit("key")
	missing := strings.Repeat("0123456789", 4)
	named := "refs/heads/wip/" + gitKey("remediate-ref-name")
	for _, ref := range []string{"refs/heads/broken", named} {
		p := filepath.Join(r.Dir, ".git", filepath.FromSlash(ref))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(missing+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	plans := t.TempDir()
	code, stdout, stderr := runGit(t, nil, "", "remediate", r.Dir, "--plan-dir", plans)
	if code != 2 || stdout != "" {
		t.Fatalf("exit %d, want 2 and no plan:\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"2 ref(s) point to objects missing", "refs/heads/broken", "refs/heads/wip/eyJ", "git update-ref -d"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, k[len(k)-20:]) || strings.Contains(stderr, named[len(named)-20:]) || strings.Contains(stderr, "git is installed") {
		t.Errorf("stderr shows a key, or the old hint:\n%s", stderr)
	}
	r.Git("update-ref", "-d", "refs/heads/broken")
	r.Git("update-ref", "-d", named)
	if code, stdout, stderr := runGit(t, nil, "", "remediate", r.Dir, "--plan-dir", plans); code != 0 || !strings.Contains(stdout, fingerprintOf(k)[:12]) {
		t.Errorf("refs deleted: exit %d, want a plan:\n%s\n%s", code, stdout, stderr)
	}
}

// A submodule's history is a repository of its own: remediate neither
// scans nor rewrites it, and says so (a clean superproject's "nothing to
// remediate" does not hide a key in the submodule, and a plan lists each
// submodule among what it does not reach).
func TestRemediateNamesSubmodules(t *testing.T) {
	base := t.TempDir()
	lib := testgit.New(t, filepath.Join(base, "lib"))
	lib.Write("lib.env", "LOFTY_API_KEY="+gitKey("remediate-submodule")+"\n")
	lib.Commit("key")
	lib.Git("rm", "-q", "lib.env")
	lib.Commit("remove it")
	super := testgit.New(t, filepath.Join(base, "super"))
	super.Write("README.md", "# app\n")
	super.Commit("first")
	super.Git("submodule", "add", "-q", lib.Dir, "vendor/lib")
	super.Commit("add lib")
	plans := filepath.Join(base, "plans")
	if err := os.Mkdir(plans, 0o700); err != nil {
		t.Fatal(err)
	}
	const note = "Submodule vendor/lib is a repository of its own"
	code, stdout, stderr := runGit(t, nil, "", "remediate", super.Dir, "--plan-dir", plans)
	if code != 0 || !strings.Contains(stderr, "nothing to remediate") || !strings.Contains(stderr, note) || stdout != "" {
		t.Errorf("clean superproject: exit %d, want 0 and a note naming the submodule:\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	super.Write("app.env", "LOFTY_API_KEY="+gitKey("remediate-super")+"\n")
	super.Commit("key")
	code, stdout, stderr = runGit(t, nil, "", "remediate", super.Dir, "--plan-dir", plans)
	if code != 0 || !strings.Contains(stdout, note) {
		t.Errorf("superproject with a key: exit %d, want a plan naming the submodule:\n%s\n%s", code, stdout, stderr)
	}
}

// A key in a commit or tag message is listed once, as a message: the scan
// and the message pass both find it, and the scan's finding used to be
// listed a second time as a file with no name ("commit 1a2b3c,  line 3").
func TestRemediateListsMessagesOnce(t *testing.T) {
	base := t.TempDir()
	r, _, keys, _ := remediateRepo(t, base)
	stdout, _ := remediatePlan(t, r.Dir, base)
	for _, name := range []string{"commit-message", "tag-message"} {
		_, rest, _ := strings.Cut(stdout, fingerprintOf(keys[name])[:12])
		found, _, _ := strings.Cut(rest, "- In:")
		places := strings.Count(found, "\n      - ")
		if places != 1 || strings.Count(found, "in its message") != 1 || strings.Contains(found, ",  line") {
			t.Errorf("the %s key is listed at %d places, want its message once:\n%s", name, places, found)
		}
	}
}

// Keys no commit holds make a plan too: a blob staged and then replaced
// (no commit, unreachable), a branch named after a key (location ref),
// a tag of a blob and a tag of a tree. Each had no commit, and the plan
// stopped at "git for-each-ref: malformed object name" (an empty one).
// The plan prints no key, and, run, its rewrite prunes the blob and
// rewrites the tag of a blob (filter-repo does), while the check still
// finds the ref's name and the tree's key, each of which has a step by
// hand.
func TestRemediatePlansKeysNoCommitHolds(t *testing.T) {
	testtool.Need(t, "git-filter-repo")
	base := t.TempDir()
	r := testgit.New(t, filepath.Join(base, "repo"))
	staged, named, blobTag, treeTag := gitKey("remediate-staged"), gitKey("remediate-ref-name"), gitKey("remediate-blob-tag"), gitKey("remediate-tree-tag")
	r.Write("app.env", "LOFTY_API_KEY="+staged+"\n")
	r.Git("add", "app.env")
	r.Write("app.env", "LOFTY_API_KEY=\n")
	r.Commit("settings")
	r.Git("branch", "wip/"+named)
	hash := func(content string) string {
		out, err := r.Cmd(content, nil, "hash-object", "-w", "--stdin").Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	r.Git("tag", "-a", "pubkey", "-m", "a blob", hash("LOFTY_API_KEY="+blobTag+"\n"))
	tree, err := r.Cmd("100644 blob "+hash("token: "+treeTag+"\n")+"\tkeys.env\n", nil, "mktree").Output()
	if err != nil {
		t.Fatal(err)
	}
	r.Git("tag", "snapshot", strings.TrimSpace(string(tree)))
	stdout, stderr := remediatePlan(t, r.Dir, base)
	for _, k := range []string{staged, named, blobTag, treeTag} {
		if strings.Contains(stdout+stderr, k[40:80]) {
			t.Fatalf("the plan prints a key:\n%s", stdout)
		}
		if !strings.Contains(stdout, fingerprintOf(k)[:12]) {
			t.Errorf("the plan does not list key %s:\n%s", fingerprintOf(k)[:12], stdout)
		}
	}
	for _, want := range []string{"no commit (only the object database keeps it)", "the name of ref refs/heads/wip/eyJ", "git branch -m OLD NEW",
		"ref refs/tags/snapshot holds it directly, refs/tags/snapshot:keys.env", "ref refs/tags/snapshot holds a tree with no commit between"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the plan does not say %q:\n%s", want, stdout)
		}
	}
	// The rewrite, as the plan writes it, prunes the staged blob and
	// rewrites the tag of a blob: the scan after it finds the ref's name
	// and the tree's key, the two steps by hand.
	dir := strings.TrimSpace(strings.SplitN(strings.SplitN(stdout, "Plan folder: ", 2)[1], "\n", 2)[0])
	r.Git("filter-repo", "--replace-text", filepath.Join(dir, "replacements.txt"), "--replace-message", filepath.Join(dir, "replacements.txt"), "--blob-callback", filepath.Join(dir, "blob-callback.py"), "--message-callback", filepath.Join(dir, "message-callback.py"), "--force")
	code, stdout, _ := runGit(t, nil, "", "git", r.Dir, "--format", "json")
	if code != 1 || strings.Count(stdout, `"fingerprint"`) != 2 || !strings.Contains(stdout, fingerprintOf(named)) || !strings.Contains(stdout, `"location": "ref"`) || !strings.Contains(stdout, fingerprintOf(treeTag)) {
		t.Errorf("after the rewrite: exit %d, want the ref's key and the tree's alone:\n%s", code, stdout)
	}
}

// remediatePlan runs loftyscan remediate on the repository at dir, its plan
// folder made in base/plans, and returns what it printed; it fails the
// test unless the plan was written.
func remediatePlan(t *testing.T, dir, base string) (stdout, stderr string) {
	t.Helper()
	plans := filepath.Join(base, "plans")
	if err := os.Mkdir(plans, 0o700); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runGit(t, nil, "", "remediate", dir, "--plan-dir", plans)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	return stdout, stderr
}
