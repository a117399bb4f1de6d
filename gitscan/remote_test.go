package gitscan

import (
	"context"
	"io"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
)

// gitHTTPServer serves the repositories under root over git's smart HTTP
// protocol, with git http-backend behind net/http/cgi, on loopback.
func gitHTTPServer(t *testing.T, root string) *httptest.Server {
	t.Helper()
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skipf("git --exec-path: %v", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		t.Skipf("no git-http-backend: %v", err)
	}
	srv := httptest.NewServer(&cgi.Handler{
		Path:   backend,
		Env:    []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "HOME=" + t.TempDir()},
		Stderr: io.Discard,
	})
	t.Cleanup(srv.Close)
	return srv
}

// mirrorWants is what a scan of a mirror clone of the fixture finds: every
// ref, refs/stash included, but not the stash's reflog.
func (f *historyFixture) mirrorWants() []gitWant {
	all := f.all()
	return append(all[:9:9], all[10])
}

func TestCloneFileURL(t *testing.T) {
	t.Parallel()
	f := sharedHistory(t)
	dir := filepath.Join(t.TempDir(), "clone")
	repo, err := CloneRepository(context.Background(), "file://"+f.repo.Dir, dir)
	if err != nil {
		t.Fatal(err)
	}
	if repo.WorkTree != "" {
		t.Errorf("the clone has a work tree: %+v", repo)
	}
	if _, err := os.Stat(filepath.Join(dir, "root.env")); err == nil {
		t.Error("the clone checked files out")
	}
	got, _, _ := scanGit(t, repo, HistoryOptions{})
	checkGitFindings(t, got, f.mirrorWants()...)
}

func TestCloneHTTP(t *testing.T) {
	t.Parallel()
	f := sharedHistory(t)
	srv := gitHTTPServer(t, filepath.Dir(f.repo.Dir))
	dir := filepath.Join(t.TempDir(), "clone")
	// The server does not ask for credentials; the user name and password
	// in the URL must still never be printed.
	u := strings.Replace(srv.URL, "http://", "http://ci-user:hunter2-pass@", 1)
	repo, err := CloneRepository(context.Background(), u+"/repo", dir)
	if err != nil {
		t.Fatal(err)
	}
	got, _, _ := scanGit(t, repo, HistoryOptions{})
	checkGitFindings(t, got, f.mirrorWants()...)

	_, err = CloneRepository(context.Background(), u+"/no-such-repo", filepath.Join(t.TempDir(), "x"))
	if err == nil {
		t.Fatal("cloning a missing repository worked")
	}
	if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "ci-user") {
		t.Errorf("the error shows the credentials: %v", err)
	}
}

func TestCloneEmptyRemote(t *testing.T) {
	t.Parallel()
	empty := testgit.New(t, "", "--bare")
	repo, err := CloneRepository(context.Background(), "file://"+empty.Dir, filepath.Join(t.TempDir(), "clone"))
	if err != nil {
		t.Fatal(err)
	}
	got, _, _ := scanGit(t, repo, HistoryOptions{})
	if len(got) != 0 {
		t.Errorf("empty remote: %v", got)
	}
}

func TestIsRemoteURL(t *testing.T) {
	t.Parallel()
	for arg, want := range map[string]bool{
		"https://github.com/o/r":       true,
		"ssh://git@host/o/r.git":       true,
		"git@github.com:o/r.git":       true,
		"file:///tmp/r":                true,
		".":                            false,
		"/tmp/repo":                    false,
		"some/dir":                     false,
		"C:/Users/me/repo":             false,
		"HTTPS://EXAMPLE.COM/REPO.GIT": true,
	} {
		if got := IsRemoteURL(arg); got != want {
			t.Errorf("IsRemoteURL(%q) = %v, want %v", arg, got, want)
		}
	}
}
