package gitscan

import (
	"context"
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
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
	repo, err := CloneRepository(context.Background(), "file://"+f.repo.Dir, dir, CloneOptions{})
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

// cloners are the two ways CloneRepository clones: with the git command
// (installed here) and with go-git (when it is not).
var cloners = map[string]func(ctx context.Context, rawURL, dir string) (*Repository, error){
	"git": func(ctx context.Context, rawURL, dir string) (*Repository, error) {
		return cloneWithGit(ctx, "git", rawURL, dir, CloneOptions{})
	},
	"go-git": cloneWithGoGit,
}

func TestCloneHTTP(t *testing.T) {
	t.Parallel()
	f := sharedHistory(t)
	srv := gitHTTPServer(t, filepath.Dir(f.repo.Dir))
	// The server does not ask for credentials; the user name and password
	// in the URL must still never be printed.
	u := strings.Replace(srv.URL, "http://", "http://ci-user:hunter2-pass@", 1)
	for name, clone := range cloners {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			repo, err := clone(context.Background(), u+"/repo", filepath.Join(t.TempDir(), "clone"))
			if err != nil {
				t.Fatal(err)
			}
			got, _, _ := scanGit(t, repo, HistoryOptions{})
			checkGitFindings(t, got, f.mirrorWants()...)

			_, err = clone(context.Background(), u+"/no-such-repo", filepath.Join(t.TempDir(), "x"))
			if err == nil {
				t.Fatal("cloning a missing repository worked")
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "ci-user") {
				t.Errorf("the error shows the credentials: %v", err)
			}
		})
	}
}

// TestCloneCredentialHelper: a server that asks for a password, and the
// user's git config with a credential helper that has it. The clone uses
// it, as the user's own 'git clone' does; go-git, which reads no helper,
// is refused. Not parallel: the git config comes from the environment.
func TestCloneCredentialHelper(t *testing.T) {
	f := sharedHistory(t)
	backend := gitHTTPServer(t, filepath.Dir(f.repo.Dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pass, ok := r.BasicAuth(); !ok || user != "ci-user" || pass != "hunter2-pass" {
			w.Header().Set("WWW-Authenticate", `Basic realm="repos"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		target, _ := url.Parse(backend.URL)
		httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	home := t.TempDir()
	cfg := filepath.Join(home, "gitconfig")
	helper := "[credential]\n\thelper = \"!f() { test \\\"$1\\\" = get && echo username=ci-user && echo password=hunter2-pass; }; f\"\n"
	if err := os.WriteFile(cfg, []byte(helper), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("GIT_CONFIG_GLOBAL", cfg)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_TERMINAL_PROMPT", "0")

	repo, err := CloneRepository(context.Background(), srv.URL+"/repo", filepath.Join(t.TempDir(), "clone"), CloneOptions{})
	if err != nil {
		t.Fatalf("clone with the credential helper: %v", err)
	}
	got, _, _ := scanGit(t, repo, HistoryOptions{})
	checkGitFindings(t, got, f.mirrorWants()...)

	if _, err := cloneWithGoGit(context.Background(), srv.URL+"/repo", filepath.Join(t.TempDir(), "x")); err == nil {
		t.Error("go-git cloned without credentials: the server asks for none")
	}
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	_, err = CloneRepository(context.Background(), srv.URL+"/repo", filepath.Join(t.TempDir(), "y"), CloneOptions{})
	if err == nil || !strings.Contains(err.Error(), "git clone:") {
		t.Errorf("no credentials: %v, want git's error", err)
	}
}

func TestCloneEmptyRemote(t *testing.T) {
	t.Parallel()
	empty := testgit.New(t, "", "--bare")
	for name, clone := range cloners {
		repo, err := clone(context.Background(), "file://"+empty.Dir, filepath.Join(t.TempDir(), "clone"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, _, _ := scanGit(t, repo, HistoryOptions{})
		if len(got) != 0 {
			t.Errorf("%s: empty remote: %v", name, got)
		}
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

// TestCloneWithoutGit: with no git command on PATH, CloneRepository clones
// with go-git (over HTTP: go-git's file:// transport runs git itself). Not
// parallel: it changes PATH.
func TestCloneWithoutGit(t *testing.T) {
	f := sharedHistory(t)
	srv := gitHTTPServer(t, filepath.Dir(f.repo.Dir))
	t.Setenv("PATH", t.TempDir())
	if _, err := exec.LookPath("git"); err == nil {
		t.Fatal("git is still on PATH")
	}
	repo, err := CloneRepository(context.Background(), srv.URL+"/repo", filepath.Join(t.TempDir(), "clone"), CloneOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _, _ := scanGit(t, repo, HistoryOptions{})
	checkGitFindings(t, got, f.mirrorWants()...)
	_, err = CloneRepository(context.Background(), srv.URL+"/none", filepath.Join(t.TempDir(), "x"), CloneOptions{})
	if err == nil || strings.Contains(err.Error(), "git clone:") {
		t.Errorf("a missing repository without git: %v, want go-git's error", err)
	}
}
