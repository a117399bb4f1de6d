package reporters

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/loftyscan/loftyscan/finding"
)

// gitlabSchema15 is GitLab's secret detection report schema 15.2.1, copied
// into testdata from the security-report-schemas repository's dist folder.
var gitlabSchema15 = sync.OnceValues(func() (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	return c.Compile("testdata/gitlab-secret-detection-report-format-15.2.1.json")
})

func TestGitLabSchema(t *testing.T) {
	t.Parallel()
	withErrors := cleanReport()
	withErrors.Stats.Errors, withErrors.Stats.Warnings = 2, 3
	atZero := sampleReport()
	atZero.Findings[0].Line, atZero.Findings[0].Column = 0, 0
	tests := []struct {
		name   string
		opts   Options
		report Report
	}{
		{"clean", Options{}, cleanReport()},
		{"clean with errors", Options{Version: "v1.2.3", Now: fixedNow}, withErrors},
		{"findings", Options{Version: "1.2.3", Now: fixedNow}, sampleReport()},
		{"findings, show secrets", Options{ShowSecrets: true, Color: true}, sampleReport()},
		{"findings, devel version", Options{Version: "(devel)"}, sampleReport()},
		{"finding at line 0", Options{}, atZero},
		{"only suppressed findings", Options{}, suppressedOnlyReport()},
	}
	sch, err := gitlabSchema15()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := render(t, FormatGitLab, tt.opts, tt.report)
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(doc); err != nil {
				t.Errorf("%v\n%s", err, out)
			}
		})
	}
}

// gitlabDoc is the part of a GitLab report the tests look into.
type gitlabDoc struct {
	Version string `json:"version"`
	Scan    struct {
		Analyzer, Scanner struct {
			ID, Name, Version string
			Vendor            struct{ Name string }
		}
		Type      string `json:"type"`
		Status    string `json:"status"`
		StartTime string `json:"start_time"`
		EndTime   string `json:"end_time"`
		Messages  []struct{ Level, Value string }
	} `json:"scan"`
	Vulnerabilities []struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Description string `json:"description"`
		Severity    string `json:"severity"`
		Identifiers []struct{ Type, Name, Value string }
		Location    struct {
			File      string `json:"file"`
			StartLine int    `json:"start_line"`
			EndLine   int    `json:"end_line"`
			Commit    struct {
				SHA, Author, Date, Message string
			} `json:"commit"`
		} `json:"location"`
		Details map[string]struct{ Name, Type, Value string } `json:"details"`
		Raw     *string                                       `json:"raw_source_code_extract"`
	} `json:"vulnerabilities"`
}

func TestGitLabClean(t *testing.T) {
	t.Parallel()
	out := render(t, FormatGitLab, Options{Now: fixedNow}, cleanReport())
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	if got := string(raw["vulnerabilities"]); got != "[]" {
		t.Errorf("vulnerabilities = %s, want []", got)
	}
	var doc gitlabDoc
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	s := doc.Scan
	if doc.Version != "15.2.1" || s.Type != "secret_detection" || s.Status != "success" || len(s.Messages) != 0 {
		t.Errorf("version %q, scan %+v", doc.Version, s)
	}
	for _, tool := range []struct{ ID, Name, Version, Vendor string }{
		{s.Analyzer.ID, s.Analyzer.Name, s.Analyzer.Version, s.Analyzer.Vendor.Name},
		{s.Scanner.ID, s.Scanner.Name, s.Scanner.Version, s.Scanner.Vendor.Name},
	} {
		if tool.ID != "loftyscan" || tool.Name != "loftyscan" || tool.Vendor != "loftyscan" || tool.Version != "0.0.0-dev" {
			t.Errorf("tool %+v", tool)
		}
	}
}

// The scan's times are in UTC, without zone or fraction, and start_time is
// end_time less the scan's duration.
func TestGitLabTimes(t *testing.T) {
	t.Parallel()
	r := cleanReport()
	r.Stats.Duration = 90*time.Second + 500*time.Millisecond
	var doc gitlabDoc
	if err := json.Unmarshal(render(t, FormatGitLab, Options{Now: fixedNow}, r), &doc); err != nil {
		t.Fatal(err)
	}
	// fixedNow is 05:06:07.89 EST, 10:06:07.89 UTC.
	if doc.Scan.EndTime != "2025-03-04T10:06:07" || doc.Scan.StartTime != "2025-03-04T10:04:37" {
		t.Errorf("start %s, end %s", doc.Scan.StartTime, doc.Scan.EndTime)
	}

	before := time.Now().UTC().Truncate(time.Second)
	if err := json.Unmarshal(render(t, FormatGitLab, Options{}, cleanReport()), &doc); err != nil {
		t.Fatal(err)
	}
	end, err := time.Parse("2006-01-02T15:04:05", doc.Scan.EndTime)
	if err != nil || end.Before(before) || end.After(time.Now().UTC()) {
		t.Errorf("without a clock, end_time %s is not now (%v)", doc.Scan.EndTime, err)
	}
}

func TestGitLabErrorsAreAWarning(t *testing.T) {
	t.Parallel()
	r := sampleReport() // one error
	var doc gitlabDoc
	if err := json.Unmarshal(render(t, FormatGitLab, Options{}, r), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Scan.Status != "success" {
		t.Errorf("status %q: errors reading some content do not fail the scan", doc.Scan.Status)
	}
	if m := doc.Scan.Messages; len(m) != 2 || m[0].Level != "warn" || !strings.HasPrefix(m[0].Value, "1 error:") {
		t.Errorf("messages %+v, want a warning first", m)
	}
}

// Suppressed findings are not vulnerabilities: GitLab cannot mark one
// suppressed, and would open each as new. A message counts them.
func TestGitLabLeavesOutSuppressed(t *testing.T) {
	t.Parallel()
	for _, r := range []Report{sampleReport(), suppressedOnlyReport()} {
		var doc gitlabDoc
		if err := json.Unmarshal(render(t, FormatGitLab, Options{}, r), &doc); err != nil {
			t.Fatal(err)
		}
		for _, v := range doc.Vulnerabilities {
			if v.Location.File == "test/fixtures/keys.env" || v.Location.File == "docs/example.md" {
				t.Errorf("suppressed finding at %s written as a vulnerability", v.Location.File)
			}
		}
		m := doc.Scan.Messages
		if len(m) == 0 || m[len(m)-1].Level != "info" || !strings.HasPrefix(m[len(m)-1].Value, "2 findings suppressed") {
			t.Errorf("messages %+v, want an info message counting 2 suppressed findings", m)
		}
	}
	var doc gitlabDoc
	if err := json.Unmarshal(render(t, FormatGitLab, Options{}, cleanReport()), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Scan.Messages) != 0 {
		t.Errorf("messages %+v on a clean scan with nothing suppressed", doc.Scan.Messages)
	}
}

var uuidV8 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestGitLabVulnerabilities(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	out := render(t, FormatGitLab, Options{ShowSecrets: true}, r)
	var doc gitlabDoc
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	var counted []finding.Finding
	for _, f := range r.Findings {
		if f.Suppressed == "" {
			counted = append(counted, f)
		}
	}
	if len(doc.Vulnerabilities) != len(counted) {
		t.Fatalf("%d vulnerabilities, want %d", len(doc.Vulnerabilities), len(counted))
	}
	wantSeverity := []string{"High", "Medium", "Low", "Medium", "Critical", "Low"}
	wantName := []string{"Lofty API key", "Unconfirmed token in Lofty context", "Lofty API key", "Unconfirmed token in Lofty context",
		"Lofty API key", "Lofty API key"}
	ids := map[string]bool{}
	for i, v := range doc.Vulnerabilities {
		f := counted[i]
		if !uuidV8.MatchString(v.ID) || ids[v.ID] {
			t.Errorf("vulnerability %d: id %q is not a new UUID", i, v.ID)
		}
		ids[v.ID] = true
		if v.Severity != wantSeverity[i] || v.Name != wantName[i] {
			t.Errorf("vulnerability %d: name %q, severity %q", i, v.Name, v.Severity)
		}
		if id := v.Identifiers; len(id) != 1 || id[0].Type != "loftyscan_rule_id" || id[0].Value != f.RuleID {
			t.Errorf("vulnerability %d: identifiers %+v", i, id)
		}
		if !strings.Contains(v.Description, f.Redacted()) {
			t.Errorf("vulnerability %d: description lacks the redacted token", i)
		}
		if !strings.Contains(v.Description, verificationSentence[f.Verification]) {
			t.Errorf("vulnerability %d: description %q does not say what --verify learnt", i, v.Description)
		}
		if d, ok := v.Details["verification"]; ok != (f.Verification != "") || d.Value != describeVerification(f) || (ok && d.Type != "text") {
			t.Errorf("vulnerability %d: verification detail %+v (present %v), want %q", i, d, ok, describeVerification(f))
		}
		if v.Raw != nil {
			t.Errorf("vulnerability %d: raw_source_code_extract written", i)
		}
		loc := v.Location
		if loc.File != f.Shown().Path || loc.StartLine != f.Line || loc.EndLine != f.Line {
			t.Errorf("vulnerability %d: location %+v", i, loc)
		}
		if v.Details["status"].Value != describeExpiry(f) || v.Details["fingerprint"].Value != f.Fingerprint ||
			v.Details["token"].Value != f.Redacted() {
			t.Errorf("vulnerability %d: details %+v", i, v.Details)
		}
		if f.Commit == "" {
			if loc.Commit.SHA != "0000000" || loc.Commit.Author != "" {
				t.Errorf("vulnerability %d: commit %+v outside git, want sha 0000000 alone", i, loc.Commit)
			}
			continue
		}
		// Text from the repository as every report shows it: redacted and escaped.
		s := f.Shown()
		if c := loc.Commit; c.SHA != f.Commit || c.Author != s.Author+" <"+s.Email+">" || c.Date != rfc3339(f.Date) || c.Message != s.Message {
			t.Errorf("vulnerability %d: commit %+v", i, c)
		}
		if d := v.Details["commit"]; d.Type != "commit" || d.Value != f.Commit {
			t.Errorf("vulnerability %d: commit detail %+v", i, d)
		}
		if _, ok := v.Details["in_head"]; !ok {
			t.Errorf("vulnerability %d: no in_head detail", i)
		}
	}
}

// GitLab tracks a vulnerability by its id, so the id of a finding must not
// change from one scan to the next, and must change with where it is.
func TestGitLabIDStable(t *testing.T) {
	t.Parallel()
	f := sampleReport().Findings[2]
	id := gitlabID(f)
	if again := gitlabID(sampleReport().Findings[2]); again != id {
		t.Fatalf("id changed between calls: %s, %s", id, again)
	}
	// Time-dependent fields do not go into the id.
	g := f
	g.Status, g.Message, g.InHead = "active", "reworded", nil
	if gitlabID(g) != id {
		t.Error("id depends on more than where the token is")
	}
	for name, change := range map[string]func(*finding.Finding){
		"fingerprint": func(f *finding.Finding) { f.Fingerprint = strings.Repeat("0", 64) },
		"path":        func(f *finding.Finding) { f.Path = "other.yaml" },
		"line":        func(f *finding.Finding) { f.Line++ },
		"column":      func(f *finding.Finding) { f.Column++ },
		"commit":      func(f *finding.Finding) { f.Commit = "" },
	} {
		g := f
		change(&g)
		if gitlabID(g) == id {
			t.Errorf("changing the %s keeps the id", name)
		}
	}
	// Fields are delimited: moving text from one to the next changes the id.
	a, b := f, f
	a.Fingerprint, a.Path = "ab", "c"
	b.Fingerprint, b.Path = "a", "bc"
	if gitlabID(a) == gitlabID(b) {
		t.Error("ids of different fields collide")
	}
}
