package reporters

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testleak"
	"github.com/loftyscan/loftyscan/internal/testtoken"
	"github.com/loftyscan/loftyscan/rules"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// gitSampleReport is a history scan that found a key in each place git
// keeps one: a file (with where it went: a branch that removed it, the
// remote's branch that still has it, a tag, a pull-request ref), a commit
// message (whose subject holds the key too), an annotated tag's message, a
// commit only the reflog reaches, a commit nothing reaches, and a blob no
// commit holds.
func gitSampleReport() Report {
	no := false
	date := time.Date(2024, 5, 6, 10, 0, 0, 0, time.UTC)
	key := func(sub string) string { return testtoken.Key(sub, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) }
	const (
		added  = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
		last   = "2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e"
		tip    = "3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f"
		msg    = "4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70"
		tagged = "5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081"
		amend  = "6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192"
		lost   = "708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3"
		blob   = "8192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4"
	)
	git := func(f finding.Finding, commit string) finding.Finding {
		f.RuleID, f.Status, f.Alg = rules.RuleAPIKey, rules.StatusActive, "HS256"
		f.ExpiresAt = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		if commit != "" {
			f.Commit, f.Author, f.Email, f.Date = commit, "Jane Doe", "jane@example.com", date
			if f.Message == "" {
				f.Message = "add settings"
			}
		}
		return f
	}
	inMessage := key("in-message")
	fs := []finding.Finding{
		git(finding.Finding{Path: "config/app.env", Line: 2, Column: 15, Subject: "in-file", Secret: key("in-file"), InHead: &no,
			Exposure: &finding.Exposure{ReachableFrom: finding.ReachRefs, Commits: 4, LastCommit: last, Pushed: true, RefCount: 5, Refs: []finding.RefExposure{
				{Name: "refs/heads/feature", ContainsCommit: true, InTip: true, LastCommit: tip},
				{Name: "refs/heads/main", ContainsCommit: true, LastCommit: last},
				{Name: "refs/remotes/origin/feature", ContainsCommit: true, InTip: true, LastCommit: tip},
				{Name: "refs/tags/v0.9", ContainsCommit: true, InTip: true, LastCommit: added},
				{Name: "refs/pull/7/head", ContainsCommit: false, InTip: true, LastCommit: tip},
			}}}, added),
		git(finding.Finding{Location: finding.InCommitMessage, Line: 3, Column: 1, Subject: "in-message", Secret: inMessage,
			Message: "use " + finding.Redact(inMessage) + " for now",
			Exposure: &finding.Exposure{ReachableFrom: finding.ReachRefs, Commits: 1, LastCommit: msg, RefCount: 1, Refs: []finding.RefExposure{
				{Name: "refs/heads/main", ContainsCommit: true, LastCommit: msg},
			}}}, msg),
		git(finding.Finding{Location: finding.InTagMessage, Tag: "v1.0", Line: 3, Column: 17, Subject: "in-tag", Secret: key("in-tag"),
			Message: "Release 1.0",
			Exposure: &finding.Exposure{ReachableFrom: finding.ReachRefs, RefCount: 1, Refs: []finding.RefExposure{
				{Name: "refs/tags/v1.0", InTip: true},
			}}}, tagged),
		git(finding.Finding{Path: "amended.env", Line: 1, Column: 15, Subject: "amended", Secret: key("amended"), InHead: &no,
			Exposure: &finding.Exposure{ReachableFrom: finding.ReachReflog, Refs: []finding.RefExposure{}}}, amend),
		git(finding.Finding{Path: "lost.env", Line: 1, Column: 15, Subject: "lost", Secret: key("lost"), InHead: &no, Unreachable: true,
			Exposure: &finding.Exposure{ReachableFrom: finding.ReachNothing, Refs: []finding.RefExposure{}}}, lost),
		git(finding.Finding{Path: blob, Line: 1, Column: 15, Subject: "blob", Secret: key("blob"), InHead: &no, Unreachable: true,
			Exposure: &finding.Exposure{ReachableFrom: finding.ReachNothing, Refs: []finding.RefExposure{}}}, ""),
		git(finding.Finding{Location: finding.InCommitHeader, Line: 5, Column: 2, Subject: "in-header", Secret: key("in-header"),
			Exposure: &finding.Exposure{ReachableFrom: finding.ReachRefs, Commits: 1, LastCommit: msg, RefCount: 1, Refs: []finding.RefExposure{
				{Name: "refs/heads/main", ContainsCommit: true, LastCommit: msg},
			}}}, msg),
		git(finding.Finding{Location: finding.InTagHeader, Tag: "v1.0", Line: 3, Column: 5, Subject: "in-tag-header", Secret: key("in-tag-header"),
			Message: "Release 1.0",
			Exposure: &finding.Exposure{ReachableFrom: finding.ReachRefs, RefCount: 1, Refs: []finding.RefExposure{
				{Name: "refs/tags/v1.0", InTip: true},
			}}}, tagged),
	}
	for i := range fs {
		sum := sha256.Sum256([]byte(fs[i].Secret))
		fs[i].Fingerprint = hex.EncodeToString(sum[:])
	}
	return Report{
		Findings: fs,
		Stats:    finding.Stats{Files: 40, Bytes: 52_000, Duration: 31 * time.Millisecond, Findings: int64(len(fs))},
		Root:     "/home/dev/src/repo",
	}
}

func TestGitGolden(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		format string
		opts   Options
	}{
		{"terminal-git", FormatTerminal, Options{Now: fixedNow}},
		{"json-git", FormatJSON, Options{}},
		{"sarif-git", FormatSARIF, Options{Version: "1.0.0"}},
		{"gitlab-git", FormatGitLab, Options{Version: "1.0.0", Now: fixedNow}},
		{"junit-git", FormatJUnit, Options{}},
		{"markdown-git", FormatMarkdown, Options{}},
		{"github-git", FormatGitHub, Options{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := gitSampleReport()
			got := maskSecrets(render(t, tt.format, tt.opts, r), r)
			file := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (run go test -update if the change is intended):\n%s", file, got)
			}
		})
	}
}

// TestGitSchemas validates the git report in each format that has a
// schema: ours, SARIF 2.1.0 and GitLab's.
func TestGitSchemas(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		format string
		schema func() (*jsonschema.Schema, error)
	}{
		{FormatJSON, jsonSchema},
		{FormatSARIF, sarifSchema2},
		{FormatGitLab, gitlabSchema15},
	} {
		sch, err := tc.schema()
		if err != nil {
			t.Fatal(err)
		}
		out := render(t, tc.format, Options{Version: "1.0.0"}, gitSampleReport())
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(doc); err != nil {
			t.Errorf("%s: %v\n%s", tc.format, err, out)
		}
	}
	// The contract of the git fields: the schema rejects what breaks it.
	sch, err := jsonSchema()
	if err != nil {
		t.Fatal(err)
	}
	const base = `"rule_id": "lofty-api-key", "fingerprint": "` + "0000000000000000000000000000000000000000000000000000000000000000" +
		`", "path": "", "line": 1, "column": 1, "confirmed": true, "status": "active", "expires_at": null, "redacted": "x", "severity": "high"`
	for _, bad := range []string{
		`"location": "commit-message"`, // no commit
		`"location": "tag-message", "commit": "` + strings.Repeat("a", 40) + `", "author": "", "email": "", "date": "2024-01-01T00:00:00Z", "message": ""`, // no tag
		`"location": "notes"`,
		`"tag": "v1"`, // no location
		`"location": "file", "unreachable": false`,
		`"location": "file", "exposure": {"reachable_from": "refs", "commits": 1, "pushed": false, "ref_count": 1, "refs": [{"name": "refs/x", "kind": "pr", "contains_commit": true, "in_tip": true}]}`,
		`"location": "file", "exposure": {"reachable_from": "stash", "commits": 1, "pushed": false, "ref_count": 0, "refs": []}`,
	} {
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(`{"findings": [{` + base + `, ` + bad + `}], "stats": {"files": 0, "bytes": 0, "duration": "1ms", "duration_ms": 1, "findings": 1}}`))
		if err != nil {
			t.Fatal(err)
		}
		if sch.Validate(doc) == nil {
			t.Errorf("the schema accepts a broken git finding: %s", bad)
		}
	}
}

// TestGitLocations checks that every format says where a key in a message
// is: JSON's location and tag, SARIF's artifact and logical locations and
// properties, GitLab's location.file, the terminal's and JUnit's words.
func TestGitLocations(t *testing.T) {
	t.Parallel()
	r := gitSampleReport()
	var doc struct {
		Findings []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal(render(t, FormatJSON, Options{}, r), &doc); err != nil {
		t.Fatal(err)
	}
	wantLoc := []string{"file", "commit-message", "tag-message", "file", "file", "file", "commit-header", "tag-header"}
	if len(doc.Findings) != len(wantLoc) {
		t.Fatalf("%d findings, want %d", len(doc.Findings), len(wantLoc))
	}
	for i, f := range doc.Findings {
		if f["location"] != wantLoc[i] {
			t.Errorf("finding %d: location %v, want %s", i, f["location"], wantLoc[i])
		}
	}
	if doc.Findings[2]["tag"] != "v1.0" || doc.Findings[5]["commit"] != nil || doc.Findings[5]["unreachable"] != true || doc.Findings[0]["unreachable"] != nil {
		t.Errorf("tag %v, blob's commit %v, unreachable %v and %v", doc.Findings[2]["tag"], doc.Findings[5]["commit"], doc.Findings[5]["unreachable"], doc.Findings[0]["unreachable"])
	}

	var s sarifDoc
	if err := json.Unmarshal(render(t, FormatSARIF, Options{}, r), &s); err != nil {
		t.Fatal(err)
	}
	res := s.Runs[0].Results
	for i, want := range []string{"config/app.env", ".git/commits/" + r.Findings[1].Commit + "/message", ".git/tags/v1.0/message"} {
		if got := res[i].Locations[0].PhysicalLocation.ArtifactLocation.URI; got != want {
			t.Errorf("result %d: uri %q, want %q", i, got, want)
		}
	}
	if res[1].Properties["location"] != "commit-message" || !strings.Contains(res[1].Message.Text, "in the message of commit 4d5e6f7") {
		t.Errorf("commit message result: %+v", res[1])
	}
	if res[2].Properties["tag"] != "v1.0" || !strings.Contains(res[2].Message.Text, "in the message of tag v1.0") {
		t.Errorf("tag message result: %+v", res[2])
	}
	for i, want := range map[int]struct{ uri, text, logical string }{
		6: {".git/commits/" + r.Findings[1].Commit + "/headers", "in the headers of commit 4d5e6f7", "commit " + r.Findings[1].Commit},
		7: {".git/tags/v1.0/headers", "in the headers of tag v1.0", "tag v1.0"},
	} {
		got := res[i]
		if got.Locations[0].PhysicalLocation.ArtifactLocation.URI != want.uri || !strings.Contains(got.Message.Text, want.text) ||
			len(got.Locations[0].LogicalLocations) != 1 || got.Locations[0].LogicalLocations[0].Name != "headers" || got.Locations[0].LogicalLocations[0].FullyQualifiedName != want.logical {
			t.Errorf("header result %d: %+v; want at %s, %q, a logical location %q named headers", i, got, want.uri, want.text, want.logical)
		}
	}
	if e, ok := res[0].Properties["exposure"].(map[string]any); !ok || e["pushed"] != true || e["commits"] != 4.0 {
		t.Errorf("exposure property: %v", res[0].Properties["exposure"])
	}

	term := string(render(t, FormatTerminal, Options{Now: fixedNow}, r))
	for _, want := range []string{
		"message of commit 4d5e6f7, line 3, column 1",
		"message of tag v1.0, line 3, column 17",
		"headers of commit 4d5e6f7, line 5, column 2",
		"headers of tag v1.0, line 3, column 5",
		"pushed to   origin/feature (still there)",
		"branches    feature (still there), main (removed; last in 2b3c4d5)",
		"history     4 commits carry it; the last on the main line is 2b3c4d5",
		"reached by  only a reflog",
		"reached by  nothing",
	} {
		if !strings.Contains(term, want) {
			t.Errorf("terminal report lacks %q:\n%s", want, term)
		}
	}
	junit := string(render(t, FormatJUnit, Options{}, r))
	if !strings.Contains(junit, `classname=".git/tags/v1.0/message" name="lofty-api-key at message of tag v1.0, line 3, column 17"`) {
		t.Errorf("junit:\n%s", junit)
	}
	gl := string(render(t, FormatGitLab, Options{}, r))
	if !strings.Contains(gl, `"file": ".git/commits/`+r.Findings[1].Commit+`/message"`) {
		t.Errorf("gitlab:\n%s", gl)
	}

	md := testleak.UnescapeMarkdown(string(render(t, FormatMarkdown, Options{}, r)))
	for _, want := range []string{
		"| where it went |",
		"<code>message of commit 4d5e6f7, line 3</code>",
		"<code>message of tag v1.0, line 3</code>",
		"<code>headers of commit 4d5e6f7, line 5</code>",
		"<code>On 5 refs (pushed: origin/feature); 4 commits carry it.</code>",
		"<code>Reached by only a reflog",
		"| none (unreachable) |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown report lacks %q:\n%s", want, md)
		}
	}
	ghOut := render(t, FormatGitHub, Options{}, r)
	testleak.WorkflowCommands(t, ghOut) // every line an annotation the runner reads
	gh := strings.Split(strings.ReplaceAll(string(ghOut), "%0A", "\n"), "\n::")
	for i, want := range []string{
		"file=config/app.env,line=2,",
		"file=.git/commits/" + r.Findings[1].Commit + "/message,line=3,",
		"file=.git/tags/v1.0/message,line=3,",
	} {
		if !strings.Contains(gh[i], want) {
			t.Errorf("annotation %d lacks %q: %s", i, want, gh[i])
		}
	}
	for i, want := range []string{
		"On 5 refs (pushed: origin/feature); 4 commits carry it.",
		"In the message of commit 4d5e6f7, line 3.",
		"In the message of tag v1.0, line 3.",
		"Reached by only a reflog",
		"Reached by nothing",
		"Reached by nothing",
	} {
		if !strings.Contains(gh[i], want) {
			t.Errorf("annotation %d lacks %q: %s", i, want, gh[i])
		}
	}
}

// TestGitNoSecrets checks that the CI formats hold no full key of the git
// report, whatever the options: the commit subject that holds one comes
// redacted, and no other field adds one.
func TestGitNoSecrets(t *testing.T) {
	t.Parallel()
	r := gitSampleReport()
	for _, format := range Formats() {
		out := render(t, format, Options{ShowSecrets: true}, r)
		for _, f := range r.Findings {
			n := bytes.Count(out, []byte(f.Secret))
			if !printsSecrets(format) && n > 0 || printsSecrets(format) && n != 1 {
				t.Errorf("%s: the key of %s appears %d times", format, f.Subject, n)
			}
		}
	}
}

// A key in a ref's name (location ref) is reported in every format at the
// ref's name, which stands at .git/<name> where a file is needed (after a
// submodule's folder, for a submodule's ref); the name shows the key
// redacted; and the reports that have a schema validate.
func TestRefFindingInEveryFormat(t *testing.T) {
	t.Parallel()
	secret := testtoken.Key("in-a-ref", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	sum := sha256.Sum256([]byte(secret))
	ref := func(path string) finding.Finding {
		return finding.Finding{RuleID: rules.RuleAPIKey, Status: rules.StatusActive, Alg: "HS256", Secret: secret, Fingerprint: hex.EncodeToString(sum[:]),
			ExpiresAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Location: finding.InRef, Path: path, Line: 1, Column: len(path) - len(secret) + 1}
	}
	r := Report{Findings: []finding.Finding{ref("refs/heads/wip/" + secret), ref("lib/refs/tags/t-" + secret), ref("xrefs/sub/refs/heads/x-" + secret)}, Stats: finding.Stats{Findings: 3}}
	shown := "refs/heads/wip/" + finding.Redact(secret)
	for format, want := range map[string][]string{
		FormatJSON:     {`"location": "ref"`, `"path": "` + shown + `"`},
		FormatSARIF:    {`"uri": ".git/refs/heads/wip/eyJ%E2%80%A6`, `"uri": "lib/.git/refs/tags/t-eyJ%E2%80%A6`, `"uri": "xrefs/sub/.git/refs/heads/x-eyJ%E2%80%A6`, "in the name of ref " + shown},
		FormatGitLab:   {`"file": ".git/` + shown + `"`, `"file": "lib/.git/refs/tags/t-`},
		FormatGitHub:   {"file=.git/" + shown + ",line=1,col=16", "In the name of ref " + shown + "."},
		FormatTerminal: {"name of ref " + shown + ", column 16", "A key in a branch's or tag's name"},
		FormatJUnit:    {`classname=".git/` + shown + `"`},
		FormatMarkdown: {"name of ref " + shown},
	} {
		out := string(render(t, format, Options{Version: "1.0.0", Now: fixedNow}, r))
		if format == FormatMarkdown {
			out = testleak.UnescapeMarkdown(out)
		}
		if testleak.Leaked(out, secret) != "" {
			t.Errorf("%s prints the key:\n%s", format, out)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s lacks %q:\n%s", format, w, out)
			}
		}
	}
	for _, tc := range []struct {
		format string
		schema func() (*jsonschema.Schema, error)
	}{{FormatJSON, jsonSchema}, {FormatSARIF, sarifSchema2}, {FormatGitLab, gitlabSchema15}} {
		sch, err := tc.schema()
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(render(t, tc.format, Options{Version: "1.0.0"}, r)))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(doc); err != nil {
			t.Errorf("%s: %v", tc.format, err)
		}
	}
}
