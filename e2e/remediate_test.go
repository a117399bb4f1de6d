package e2e

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/internal/testtool"
)

// TestReadmeAfterALeak runs the README's "After a leak" command as
// written, in a clone whose branches, tags and messages hold keys, with a
// local server standing in for Lofty's API; then the plan's own commands,
// with the real git filter-repo, as a person would paste them. The rescan
// finds nothing, here and in a fresh clone of the origin, and the other
// files are as they were.
func TestReadmeAfterALeak(t *testing.T) {
	t.Parallel()
	testtool.Need(t, "git-filter-repo")
	lines := commandLines(readmeBlock(t, "loftyscan remediate --verify"))
	if len(lines) != 1 {
		t.Fatalf("want one command, got %q", lines)
	}
	base := t.TempDir()
	origin := testgit.New(t, filepath.Join(base, "origin.git"), "--bare")
	r := testgit.New(t, filepath.Join(base, "repo"))
	live, dead, tagged, inTag := gitKey("leak-live"), gitKey("leak-dead"), gitKey("leak-tagged"), gitKey("leak-tag-message")
	keys := map[string]string{"live": live, "dead": dead, "tagged": tagged, "tag message": inTag}

	r.Write("README.md", "# app\n")
	r.Write("config/app.env", "DEBUG=1\nLOFTY_API_KEY="+live+"\n")
	r.Commit("first")
	r.Git("checkout", "-q", "-b", "feature")
	r.Write("src/client.js", "const token = '"+dead+"';\nexport default token;\n")
	r.Commit("client")
	r.Git("checkout", "-q", "main")
	r.Git("checkout", "-q", "-b", "release")
	r.Write("release.env", "lofty_token="+tagged+"\n")
	r.Commit("release")
	r.Git("tag", "v1.0")
	r.Git("tag", "-a", "v1.1", "-m", "Release 1.1\n\nSmoke-tested with "+inTag+".")
	r.Git("checkout", "-q", "main")
	r.Git("branch", "-q", "-D", "release")
	r.Git("remote", "add", "origin", origin.Dir)
	r.Git("push", "-q", "origin", "main", "feature", "--tags")
	r.Git("fetch", "-q", "origin")
	readme := r.Git("show", "main:README.md")

	lofty := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/v1.0/me" && req.Header.Get("Authorization") == "token "+live {
			w.Write([]byte(`{}`))
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer lofty.Close()
	code, out := runBinary(t, r.Dir, []string{"LOFTY_BASE_URL=" + lofty.URL, "TMPDIR=" + base}, lines[0])
	if code != 0 || !strings.Contains(out, "wrote the plan for 4 keys") {
		t.Fatalf("%s: exit %d\n%s", lines[0], code, out)
	}
	b, err := os.ReadFile(filepath.Join(r.Dir, "plan.md"))
	if err != nil {
		t.Fatal(err)
	}
	plan := string(b)
	for name, k := range keys {
		if strings.Contains(plan, k) || strings.Contains(out, k) {
			t.Errorf("the plan prints the %s key", name)
		}
	}
	if !strings.Contains(plan, "LIVE, REVOKE NOW") || !strings.Contains(plan, "Settings → Integrations → API") {
		t.Errorf("the plan does not put the live key first with where to revoke it:\n%s", plan)
	}

	for _, section := range [][2]string{{"## 2. Rewrite", "## 3. Check"}, {"## 3. Check", ""}} {
		for _, blk := range shellBlocks(t, plan, section[0], section[1]) {
			cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", blk)
			cmd.Dir = r.Dir
			cmd.Env = r.Env()
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s\n%s", section[0], err, blk, out)
			}
		}
	}

	if code, out := runBinary(t, r.Dir, nil, "loftyscan git ."); code != 0 {
		t.Errorf("the rescan finds keys: exit %d\n%s", code, out)
	}
	fresh := filepath.Join(base, "fresh.git")
	r.GitIn(base, "clone", "-q", "--mirror", "--no-local", origin.Dir, fresh)
	theirs := r.GitIn(fresh, "cat-file", "--batch-all-objects", "--batch")
	mine := r.Git("cat-file", "--batch-all-objects", "--batch")
	for name, k := range keys {
		if strings.Contains(theirs, k) {
			t.Errorf("the %s key is still in a fresh clone of origin", name)
		}
		if strings.Contains(mine, k) {
			t.Errorf("the %s key is still in the repository", name)
		}
	}
	if got := r.Git("show", "main:README.md"); got != readme {
		t.Errorf("README.md changed: %q", got)
	}
	for _, ref := range []string{"main", "feature", "v1.0", "v1.1"} {
		if _, ok := r.Try("", "rev-parse", "--verify", "-q", ref); !ok {
			t.Errorf("%s is gone after the rewrite", ref)
		}
	}
	if got := r.Git("show", "feature:src/client.js"); !strings.HasSuffix(got, "';\nexport default token;") || strings.Contains(got, "eyJ") {
		t.Errorf("src/client.js after the rewrite: %q", got)
	}
}

// shellBlocks returns the ```sh blocks of a Markdown text between two
// headings ("" for the end).
func shellBlocks(t *testing.T, md, from, to string) []string {
	t.Helper()
	i, j := strings.Index(md, from), len(md)
	if to != "" {
		j = strings.Index(md, to)
	}
	if i < 0 || j < i {
		t.Fatalf("the plan has no %q section before %q:\n%s", from, to, md)
	}
	var blocks []string
	for _, part := range strings.Split(md[i:j], "```sh\n")[1:] {
		body, _, ok := strings.Cut(part, "\n```")
		if !ok {
			t.Fatalf("an unclosed block:\n%s", part)
		}
		blocks = append(blocks, body)
	}
	if len(blocks) == 0 {
		t.Fatalf("the plan's %q section has no commands", from)
	}
	return blocks
}
