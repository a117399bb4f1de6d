package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testgit"
)

// TestSuppressedPlaceHidesNoOther: a git scan reports each key once, where
// it first appeared; when that place is suppressed (an allow comment, an
// ignore entry scoped to a fixture's path), the key is reported again
// where it first appeared unsuppressed, in a full scan, a range and a
// staged scan alike, and the scan fails. A dir scan of the same tree
// reported it all along.
func TestSuppressedPlaceHidesNoOther(t *testing.T) {
	t.Parallel()
	testgit.Require(t)
	key := gitKey("suppressed-once")
	for _, tc := range []struct {
		name     string
		settings map[string]string // committed first, with the base
		fixture  map[string]string // the suppressed place, the first commit of the change
		prod     map[string]string // the place that counts, the second
		remove   string            // a file the second commit removes (git rm)
		wantPath string
		wantLine int
	}{
		{
			name:     "an allow comment in another file",
			fixture:  map[string]string{"docs/sample.env": "K=" + key + " # loftyscan:allow docs sample\n"},
			prod:     map[string]string{"config/prod.env": "LOFTY_API_KEY=" + key + "\n"},
			wantPath: "config/prod.env", wantLine: 1,
		},
		{
			name:     "an ignore entry for a fixture's path",
			settings: map[string]string{".loftyscanignore": fingerprintOf(key) + " testdata/** # the client tests' key\n"},
			fixture:  map[string]string{"testdata/client.env": "LOFTY_API_KEY=" + key + "\n"},
			prod:     map[string]string{"config/app.yaml": "lofty:\n  key: " + key + "\n"},
			wantPath: "config/app.yaml", wantLine: 2,
		},
		{
			name:     "a fixture copied out of its ignored folder, byte for byte",
			settings: map[string]string{".loftyscanignore": fingerprintOf(key) + " testdata/** # the client tests' key\n"},
			fixture:  map[string]string{"testdata/client.env": "LOFTY_API_KEY=" + key + "\n"},
			prod:     map[string]string{"config/client.env": "LOFTY_API_KEY=" + key + "\n"},
			wantPath: "config/client.env", wantLine: 1,
		},
		{
			name:     "a fixture moved out of its ignored folder",
			settings: map[string]string{".loftyscanignore": fingerprintOf(key) + " testdata/** # the client tests' key\n"},
			fixture:  map[string]string{"testdata/client.env": "LOFTY_API_KEY=" + key + "\n"},
			prod:     map[string]string{"client.env": "LOFTY_API_KEY=" + key + "\n"},
			remove:   "testdata/client.env",
			wantPath: "client.env", wantLine: 1,
		},
		{
			name:     "an allow comment in the same file",
			fixture:  map[string]string{"app.env": "EXAMPLE_KEY=" + key + " # loftyscan:allow\n"},
			prod:     map[string]string{"app.env": "EXAMPLE_KEY=" + key + " # loftyscan:allow\nLOFTY_API_KEY=" + key + "\n"},
			wantPath: "app.env", wantLine: 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := testgit.New(t, t.TempDir())
			r.Write("README", "app\n")
			for p, c := range tc.settings {
				r.Write(p, c)
			}
			r.Commit("base")
			for p, c := range tc.fixture {
				r.Write(p, c)
			}
			r.Commit("add the fixture")
			for p, c := range tc.prod {
				r.Write(p, c)
			}
			if tc.remove != "" {
				r.Git("rm", "-q", tc.remove)
			}
			r.Git("add", "-A")
			check := func(name string, args ...string) {
				t.Helper()
				code, stdout, stderr := runGit(t, nil, "", args...)
				if code != exitFindings {
					t.Errorf("%s: exit %d, want %d; stderr:\n%s", name, code, exitFindings, stderr)
				}
				var rep struct {
					Findings []struct {
						Path       string `json:"path"`
						Line       int    `json:"line"`
						Suppressed string `json:"suppressed"`
					} `json:"findings"`
				}
				if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				var counting []string
				for _, f := range rep.Findings {
					if f.Suppressed == "" {
						counting = append(counting, fmt.Sprintf("%s:%d", f.Path, f.Line))
					}
				}
				if want := fmt.Sprintf("%s:%d", tc.wantPath, tc.wantLine); strings.Join(counting, " ") != want {
					t.Errorf("%s: findings that count %v, want %s", name, counting, want)
				}
			}
			check("staged", "git", "--staged", "--format", "json", r.Dir)
			r.Commit("use the key")
			check("range", "git", "--range", "HEAD~2..HEAD", "--format", "json", r.Dir)
			check("full", "git", "--format", "json", r.Dir)
		})
	}
}
