package remediate

import (
	"context"
	"strings"
	"testing"
)

// A remote's URL can hold a credential, and the plan names remotes in
// commands, titles and notes: none of it is printed. On the web schemes the
// user name alone can be the credential (https://<token>@github.com, as
// GitHub documents for a personal access token), so the whole user
// information goes; ssh keeps its user, which names the account to log in
// as, and drops a password. git asks for what is missing when the command
// runs.
func TestPlanPrintsNoURLCredentials(t *testing.T) {
	for _, tc := range []struct {
		url, secret, shown string
	}{
		{"https://ghp_S3cretTokenValue0000000000000000000@github.com/o/r.git", "S3cretToken", "https://github.com/o/r.git"},
		{"https://oauth2:glpat-S3cretTokenValue@gitlab.example/o/r.git", "S3cretToken", "https://gitlab.example/o/r.git"},
		{"http://ada:hunter2@127.0.0.1:8080/r.git", "hunter2", "http://127.0.0.1:8080/r.git"},
		{"HTTPS://S3cretTokenValue@host.example/r.git", "S3cretToken", "HTTPS://host.example/r.git"},
		{"https://ada:pa@ss:S3cretTokenValue@host.example/r.git", "S3cretToken", "https://host.example/r.git"},
		{"ssh://git:S3cretTokenValue@host.example/r.git", "S3cretToken", "ssh://git@host.example/r.git"},
		{"ssh://git:pa@S3cretTokenValue@host.example/r.git", "S3cretToken", "ssh://git@host.example/r.git"},
		{"git@github.com:o/r.git", "", "git@github.com:o/r.git"},
	} {
		facts := fakeRepo(t)
		k := plainKey("url-credentials")
		facts.Refs = []Ref{{Name: "refs/remotes/up/main", Hash: strings.Repeat("1", 40), Contains: []string{k.Occurrences[0].Commit}}}
		facts.Remotes = []Remote{{Name: "up", FetchURL: tc.url, PushURL: tc.url}}
		p, err := BuildPlan(context.Background(), []Key{k}, facts, Options{PlanDir: t.TempDir(), Blobs: noBlobs{}})
		if err != nil {
			t.Fatal(err)
		}
		for format, s := range renderedPlans(t, p) {
			if tc.secret != "" && strings.Contains(s, tc.secret) {
				t.Errorf("%s: the %s plan prints the credential of %s", tc.url, format, tc.url)
			}
			if !strings.Contains(s, "git clone --bare --no-local -- "+tc.shown+" ") {
				t.Errorf("%s: the %s plan does not clone %s:\n%s", tc.url, format, tc.shown, s)
			}
		}
	}
}
