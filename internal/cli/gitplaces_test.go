package cli

import (
	"encoding/json"
	"encoding/xml"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/internal/testleak"
)

// TestGitPlacesInEveryFormat runs `loftyscan git` on a clone with a key in
// a commit message, one in an annotated tag's message, one in a commit
// only the reflog reaches, one pushed in a file, and one in a submodule's
// commit message, and checks that every format says where each is.
func TestGitPlacesInEveryFormat(t *testing.T) {
	t.Parallel()
	keys := map[string]string{}
	key := func(name string) string {
		keys[name] = gitKey("places-" + name)
		return keys[name]
	}
	up := testgit.New(t, "")
	up.Write("app.env", "LOFTY_API_KEY="+key("file")+"\n")
	up.Commit("add settings")
	up.Git("tag", "-a", "v1.0", "-m", "Release 1.0\n\nSmoke-tested with "+key("tag"))
	up.Tick()

	lib := testgit.New(t, "")
	lib.Write("lib.go", "package lib\n")
	lib.Commit("library\n\ntoken for the demo: " + key("submodule"))

	dir := filepath.Join(t.TempDir(), "clone")
	up.GitIn(filepath.Dir(dir), "clone", "-q", "file://"+up.Dir, dir)
	r := up.At(t, dir)
	r.Write("README", "app\n")
	r.Commit("readme\n\nThe key is " + key("message") + ", do not share.")
	r.Write("amended.env", "LOFTY_API_KEY="+key("amended")+"\n")
	r.Commit("settings")
	r.Git("rm", "-q", "amended.env")
	r.Git("commit", "-q", "--amend", "--allow-empty", "-m", "settings, reworded")
	r.Tick()
	r.Git("submodule", "add", "-q", lib.Dir, "vendor/lib")
	r.Commit("add the library")
	message := r.Git("rev-parse", "HEAD~2")
	sub := lib.Git("rev-parse", "HEAD")

	run := func(format string) string {
		t.Helper()
		code, stdout, stderr := runGit(t, nil, "", "git", "--recurse-submodules", "--format", format, r.Dir)
		if code != 1 {
			t.Fatalf("%s: exit %d, want 1; stderr %s", format, code, stderr)
		}
		for name, k := range keys {
			if format != "terminal" && format != "json" && strings.Contains(stdout, k) {
				t.Errorf("%s: holds the full key %s", format, name)
			}
		}
		return stdout
	}

	var rep struct {
		Findings []struct {
			Path, Location, Commit, Tag, Redacted string
			Line                                  int
			Exposure                              *struct {
				ReachableFrom string `json:"reachable_from"`
				Pushed        bool
			}
		}
	}
	if err := json.Unmarshal([]byte(run("json")), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range rep.Findings {
		reach, pushed := "", false
		if f.Exposure != nil {
			reach, pushed = f.Exposure.ReachableFrom, f.Exposure.Pushed
		}
		got[f.Redacted] = strings.Join([]string{f.Location, f.Path, f.Tag, reach, map[bool]string{true: "pushed", false: "local"}[pushed]}, " ")
		if f.Location == "commit-message" && f.Path == "" && f.Commit != message {
			t.Errorf("commit message finding at %.7s, want %.7s", f.Commit, message)
		}
		if f.Location == "commit-message" && f.Path == "vendor/lib/" && f.Commit != sub {
			t.Errorf("submodule message finding at %.7s, want %.7s", f.Commit, sub)
		}
	}
	want := map[string]string{
		"file":      "file app.env  refs pushed",
		"tag":       "tag-message  v1.0 refs local",
		"message":   "commit-message   refs local",
		"amended":   "file amended.env  reflog local",
		"submodule": "commit-message vendor/lib/  refs pushed", // a submodule is a clone
	}
	for name, w := range want {
		if g := got[redact(keys[name])]; g != w {
			t.Errorf("json: %s: %q, want %q", name, g, w)
		}
	}
	if len(rep.Findings) != len(want) {
		t.Errorf("json: %d findings, want %d", len(rep.Findings), len(want))
	}

	var sarif struct {
		Runs []struct {
			Results []struct {
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
					}
				}
				Properties map[string]any
			}
		}
	}
	if err := json.Unmarshal([]byte(run("sarif")), &sarif); err != nil {
		t.Fatal(err)
	}
	uris := map[string]bool{}
	for _, res := range sarif.Runs[0].Results {
		uris[res.Locations[0].PhysicalLocation.ArtifactLocation.URI] = true
	}
	for _, u := range []string{"app.env", ".git/tags/v1.0/message", ".git/commits/" + message + "/message", "amended.env", "vendor/lib/.git/commits/" + sub + "/message"} {
		if !uris[u] {
			t.Errorf("sarif: no result at %s (results at %v)", u, uris)
		}
	}

	var gl struct {
		Vulnerabilities []struct {
			Location struct{ File string }
		}
	}
	if err := json.Unmarshal([]byte(run("gitlab")), &gl); err != nil {
		t.Fatal(err)
	}
	files := map[string]bool{}
	for _, v := range gl.Vulnerabilities {
		files[v.Location.File] = true
	}
	if !files[".git/tags/v1.0/message"] || !files[".git/commits/"+message+"/message"] || len(files) != 5 {
		t.Errorf("gitlab: files %v", files)
	}

	var junit struct {
		Suites []struct {
			Cases []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(run("junit")), &junit); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range junit.Suites[0].Cases {
		names = append(names, c.Name)
	}
	all := strings.Join(names, "\n")
	for _, w := range []string{"at message of tag v1.0, line 3, column 19", "at message of commit " + message[:7] + ", line 3, column 12", "at message of commit " + sub[:7] + " in vendor/lib/, line 3, column 21"} {
		if !strings.Contains(all, w) {
			t.Errorf("junit: no case %q in\n%s", w, all)
		}
	}

	term := run("terminal")
	for _, w := range []string{
		"message of tag v1.0, line 3, column 19",
		"message of commit " + message[:7] + ", line 3, column 12",
		"pushed to   origin/main (still there)",
		"reached by  only a reflog",
	} {
		if !strings.Contains(term, w) {
			t.Errorf("terminal: no %q in\n%s", w, term)
		}
	}

	md := testleak.UnescapeMarkdown(run("markdown"))
	for _, w := range []string{
		"<code>message of tag v1.0, line 3</code>",
		"<code>message of commit " + message[:7] + ", line 3</code>",
		"<code>message of commit " + sub[:7] + " in vendor/lib/, line 3</code>",
		"(pushed: origin/main)",
		"Reached by only a reflog",
	} {
		if !strings.Contains(md, w) {
			t.Errorf("markdown: no %q in\n%s", w, md)
		}
	}
	gh := run("github")
	testleak.WorkflowCommands(t, []byte(gh))
	for _, w := range []string{
		"file=.git/tags/v1.0/message,line=3,col=19,",
		"file=.git/commits/" + message + "/message,line=3,col=12,",
		"file=vendor/lib/.git/commits/" + sub + "/message,line=3,col=21,",
		"In the message of tag v1.0, line 3.",
		"Reached by only a reflog",
	} {
		if !strings.Contains(gh, w) {
			t.Errorf("github: no %q in\n%s", w, gh)
		}
	}
}

// redact is the redacted form of a key, as reports print it.
func redact(k string) string { return finding.Redact(k) }
