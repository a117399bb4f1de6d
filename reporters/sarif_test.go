package reporters

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// sarifSchema2 is the OASIS SARIF 2.1.0 schema (errata 01), copied into
// testdata so the test needs nothing outside the repository.
var sarifSchema2 = sync.OnceValues(func() (*jsonschema.Schema, error) {
	const file = "testdata/sarif-schema-2.1.0.json"
	c := jsonschema.NewCompiler()
	c.AssertFormat() // uri, uri-reference and date-time are part of the contract
	return c.Compile(file)
})

func TestSARIFSchema(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		opts   Options
		report Report
	}{
		{"clean", Options{}, cleanReport()},
		{"clean with root", Options{Version: "1.2.3"}, func() Report { r := cleanReport(); r.Root = "/src"; return r }()},
		{"findings", Options{Version: "1.2.3"}, sampleReport()},
		{"findings, show secrets", Options{ShowSecrets: true, Color: true}, sampleReport()},
		{"findings, no root", Options{}, func() Report { r := sampleReport(); r.Root = ""; return r }()},
		{"only suppressed findings", Options{Version: "1.2.3"}, suppressedOnlyReport()},
		{"suppressed by a baseline", Options{}, func() Report {
			r := suppressedOnlyReport()
			r.Findings[1].Suppressed = "baseline old.json"
			return r
		}()},
	}
	sch, err := sarifSchema2()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := render(t, FormatSARIF, tt.opts, tt.report)
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

// sarifDoc is the part of a SARIF log the tests look into.
type sarifDoc struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID         string         `json:"id"`
					Properties map[string]any `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		OriginalURIBaseIDs map[string]struct{ URI string } `json:"originalUriBaseIds"`
		Results            []struct {
			RuleID              string `json:"ruleId"`
			RuleIndex           int    `json:"ruleIndex"`
			Level               string `json:"level"`
			Message             struct{ Text string }
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Suppressions        []struct {
				Kind, Status, Justification string
			} `json:"suppressions"`
			Properties map[string]any `json:"properties"`
			Locations  []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI       string `json:"uri"`
						URIBaseID string `json:"uriBaseId"`
					} `json:"artifactLocation"`
					Region struct {
						StartLine, StartColumn, EndColumn int
					} `json:"region"`
				} `json:"physicalLocation"`
				LogicalLocations []struct {
					Name               string `json:"name"`
					FullyQualifiedName string `json:"fullyQualifiedName"`
					Kind               string `json:"kind"`
				} `json:"logicalLocations"`
			} `json:"locations"`
		} `json:"results"`
	} `json:"runs"`
}

// verificationSentence is how the one-line message of a SARIF result, a
// GitLab vulnerability or a JUnit failure starts to say what --verify
// learnt, by Finding.Verification.
var verificationSentence = map[finding.Verification]string{
	"":              "",
	finding.Live:    " Verified live: Lofty accepted it.",
	finding.Invalid: " Verified invalid: Lofty rejected it",
	finding.Unknown: " Verification unknown: ",
}

func TestSARIFClean(t *testing.T) {
	t.Parallel()
	out := render(t, FormatSARIF, Options{}, cleanReport())
	var doc struct {
		Runs []map[string]json.RawMessage `json:"runs"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if got := string(doc.Runs[0]["results"]); got != "[]" {
		t.Errorf("results = %s, want []", got)
	}
	if _, ok := doc.Runs[0]["originalUriBaseIds"]; ok {
		t.Error("originalUriBaseIds without a root")
	}
	var d sarifDoc
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatal(err)
	}
	if n := len(d.Runs[0].Tool.Driver.Rules); n != 2 {
		t.Errorf("%d rules on a clean scan, want both", n)
	}
}

func TestSARIFResults(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	out := render(t, FormatSARIF, Options{ShowSecrets: true}, r)
	if bytes.Contains(out, []byte("primaryLocationLineHash")) {
		t.Error("primaryLocationLineHash set: GitHub computes it from the line, which holds the secret")
	}
	var doc sarifDoc
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	run := doc.Runs[0]
	if got, want := run.OriginalURIBaseIDs["%SRCROOT%"].URI, "file:///home/dev/src/my%20repo/"; got != want {
		t.Errorf("%%SRCROOT%% = %q, want %q", got, want)
	}
	for _, rule := range run.Tool.Driver.Rules {
		if _, ok := rule.Properties["security-severity"].(string); !ok {
			t.Errorf("rule %s: security-severity is not a string", rule.ID)
		}
	}
	wantURI := []string{"config/.env", "outer.zip!inner/dir/file%20name.env", "deploy/k8s/secret.yaml",
		"docs/r%C3%A9union%3A%20notes.md", "src/lofty/client.py", "scripts/sync.sh", "test/fixtures/keys.env",
		"docs/example.md"}
	wantLevel := []string{"error", "warning", "note", "warning", "error", "note", "error", "warning"}
	wantSuppression := []string{6: "inSource", 7: "external"}
	if len(run.Results) != len(r.Findings) {
		t.Fatalf("%d results, want %d", len(run.Results), len(r.Findings))
	}
	for i, res := range run.Results {
		f := r.Findings[i]
		if rules := run.Tool.Driver.Rules; res.RuleIndex >= len(rules) || rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %d: ruleIndex %d does not point at %s", i, res.RuleIndex, res.RuleID)
		}
		if res.Level != wantLevel[i] {
			t.Errorf("result %d: level %q, want %q", i, res.Level, wantLevel[i])
		}
		if !strings.Contains(res.Message.Text, f.Redacted()) || !strings.Contains(res.Message.Text, f.RuleID) {
			t.Errorf("result %d: message %q lacks the redacted token or the rule", i, res.Message.Text)
		}
		if f.Commit != "" && !strings.Contains(res.Message.Text, f.Commit[:7]) {
			t.Errorf("result %d: message %q lacks the commit", i, res.Message.Text)
		}
		if !strings.Contains(res.Message.Text, verificationSentence[f.Verification]) {
			t.Errorf("result %d: message %q does not say what --verify learnt", i, res.Message.Text)
		}
		if got, _ := res.Properties["verification"].(string); got != string(f.Verification) {
			t.Errorf("result %d: properties.verification %q, want %q", i, got, f.Verification)
		}
		if got, _ := res.Properties["verification_reason"].(string); got != f.VerificationReason {
			t.Errorf("result %d: properties.verification_reason %q, want %q", i, got, f.VerificationReason)
		}
		switch sup := res.Suppressions; {
		case wantSuppression[i] == "" && sup != nil:
			t.Errorf("result %d: suppressions %+v on a finding that counts", i, sup)
		case wantSuppression[i] != "" && (len(sup) != 1 || sup[0].Kind != wantSuppression[i] ||
			sup[0].Status != "accepted" || sup[0].Justification != f.Suppressed):
			t.Errorf("result %d: suppressions %+v, want one of kind %s, accepted, justified by %q", i, sup, wantSuppression[i], f.Suppressed)
		}
		if got := res.PartialFingerprints["loftyscan/fingerprint/v1"]; got != f.Fingerprint {
			t.Errorf("result %d: fingerprint %q, want %q", i, got, f.Fingerprint)
		}
		loc := res.Locations[0].PhysicalLocation
		if loc.ArtifactLocation.URI != wantURI[i] || loc.ArtifactLocation.URIBaseID != "%SRCROOT%" {
			t.Errorf("result %d: artifactLocation %+v, want uri %q", i, loc.ArtifactLocation, wantURI[i])
		}
		reg := loc.Region
		if reg.StartLine != f.Line || reg.StartColumn != f.Column {
			t.Errorf("result %d: region %+v, want %d:%d", i, reg, f.Line, f.Column)
		}
		wantEnd := f.Column + len(f.Secret)
		if f.Encoding != "" {
			wantEnd = 0 // unknown: the encoded length is not in the finding
		}
		if reg.EndColumn != wantEnd {
			t.Errorf("result %d: endColumn %d, want %d", i, reg.EndColumn, wantEnd)
		}
	}
}

// A finding at line or column 0 (a scanner bug, or stdin with no lines)
// still makes a valid region: SARIF counts from 1.
func TestSARIFClampsRegion(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	r.Findings = r.Findings[:1]
	r.Findings[0].Line, r.Findings[0].Column = 0, 0
	var doc sarifDoc
	if err := json.Unmarshal(render(t, FormatSARIF, Options{}, r), &doc); err != nil {
		t.Fatal(err)
	}
	reg := doc.Runs[0].Results[0].Locations[0].PhysicalLocation.Region
	if reg.StartLine != 1 || reg.StartColumn != 1 || reg.EndColumn != 1+len(r.Findings[0].Secret) {
		t.Errorf("region %+v", reg)
	}
}

func TestEscapePath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, want string
	}{
		{"config/.env", "config/.env"},
		{"outer.zip!inner/dir/file name.env", "outer.zip!inner/dir/file%20name.env"},
		{"c:notes.txt", "c%3Anotes.txt"},
		{"100%/a#b?c", "100%25/a%23b%3Fc"},
		{"é/ü.txt", "%C3%A9/%C3%BC.txt"},
		{"a+b/(c)@d", "a+b/(c)@d"},
	}
	for _, tt := range tests {
		got := escapePath(tt.path)
		if got != tt.want {
			t.Errorf("escapePath(%q) = %q, want %q", tt.path, got, tt.want)
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || u.Path != tt.path {
			t.Errorf("escapePath(%q) = %q does not parse back as that relative path: %+v, %v", tt.path, got, u, err)
		}
	}
}

func TestRootURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		root, want string
		ok         bool
	}{
		{"", "", false},
		{"relative/dir", "", false},
		{"/", "file:///", true},
		{"/home/dev/src", "file:///home/dev/src/", true},
		{"/home/dev/my repo/", "file:///home/dev/my%20repo/", true},
		{`C:\src\app`, "file:///C:/src/app/", true},
	}
	for _, tt := range tests {
		got, ok := rootURI(tt.root)
		if got != tt.want || ok != tt.ok {
			t.Errorf("rootURI(%q) = %q, %v, want %q, %v", tt.root, got, ok, tt.want, tt.ok)
		}
	}
}

// TestWriteSARIFSamples writes SARIF logs to $LOFTYSCAN_SARIF_DIR, for
// checking with Microsoft's SARIF multitool, which is not a Go tool:
//
//	LOFTYSCAN_SARIF_DIR=/tmp/sarif go test -run TestWriteSARIFSamples ./reporters
//	Sarif.Multitool validate /tmp/sarif/*.sarif --rule-kind "Sarif;Gh" --level "Error;Warning;Note"
func TestWriteSARIFSamples(t *testing.T) {
	dir := os.Getenv("LOFTYSCAN_SARIF_DIR")
	if dir == "" {
		t.Skip("LOFTYSCAN_SARIF_DIR not set")
	}
	noRoot := sampleReport()
	noRoot.Root = ""
	samples := map[string]struct {
		opts   Options
		report Report
	}{
		"findings":         {Options{Version: "1.0.0"}, sampleReport()},
		"findings-no-root": {Options{ShowSecrets: true}, noRoot},
		"clean":            {Options{Version: "1.0.0"}, cleanReport()},
		"git":              {Options{Version: "1.0.0"}, gitSampleReport()},
	}
	for name, s := range samples {
		file := filepath.Join(dir, name+".sarif")
		if err := os.WriteFile(file, render(t, FormatSARIF, s.opts, s.report), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSARIFVersion(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", "0.0.0-dev"},
		{"(devel)", "0.0.0-dev"},
		{"v1.2.3", "1.2.3"},
		{"1.2.3-rc.1", "1.2.3-rc.1"},
		{"abc1234", "0.0.0-abc1234"},
	}
	for _, tt := range tests {
		if got := sarifVersion(tt.in); got != tt.want {
			t.Errorf("sarifVersion(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSARIFResultLimit: GitHub code scanning rejects a run of more than
// 25,000 results, which would show none of the findings there. A scan with
// more keeps the 25,000 most severe, in their order, and says how many are
// left out; one with exactly 25,000 keeps all and says nothing.
func TestSARIFResultLimit(t *testing.T) {
	t.Parallel()
	sample := sampleReport().Findings
	active, expired := sample[0], sample[2]
	if groupOf(active) >= groupOf(expired) {
		t.Fatal("the sample's active key does not sort before its expired one")
	}
	many := func(n int) Report {
		r := sampleReport()
		r.Findings = nil
		for i := range n {
			f := expired
			f.Line = i + 1
			r.Findings = append(r.Findings, f)
		}
		return r
	}
	if kept, left := sarifKept(many(maxSarifResults).Findings); len(kept) != maxSarifResults || left != 0 {
		t.Errorf("%d findings: %d kept, %d left out; want all kept", maxSarifResults, len(kept), left)
	}

	over := many(maxSarifResults)
	for i := range 3 { // the most severe come last: they must be kept
		f := active
		f.Line = maxSarifResults + 1 + i
		over.Findings = append(over.Findings, f)
	}
	out := render(t, FormatSARIF, Options{}, over)
	// Read without a decoder: decoding 25,000 results by reflection takes
	// most of a minute under the race detector on a busy machine.
	results := bytes.Split(out, []byte(`"ruleId": `))[1:]
	if len(results) != maxSarifResults {
		t.Fatalf("%d findings: %d results, want %d", len(over.Findings), len(results), maxSarifResults)
	}
	prev, errors := 0, 0
	for i, res := range results {
		_, after, _ := bytes.Cut(res, []byte(`"startLine": `))
		digits, _, _ := bytes.Cut(after, []byte(","))
		line, err := strconv.Atoi(string(digits))
		if err != nil || line <= prev {
			t.Fatalf("result %d at line %q after line %d: not in the findings' order", i, digits, prev)
		}
		prev = line
		if bytes.Contains(res, []byte(`"level": "error"`)) {
			errors++
		}
	}
	if errors != 3 || prev != len(over.Findings) {
		t.Errorf("%d active keys kept (want 3), last result at line %d (want %d)", errors, prev, len(over.Findings))
	}
	var run struct {
		Invocations []struct {
			Notifications []struct {
				Message    struct{ Text string }
				Descriptor struct{ ID string }
			} `json:"toolExecutionNotifications"`
		}
	}
	_, inv, _ := bytes.Cut(out, []byte(`"invocations": `))
	if err := json.NewDecoder(bytes.NewReader(inv)).Decode(&run.Invocations); err != nil {
		t.Fatalf("the run's invocations: %v\n%s", err, inv)
	}
	if len(run.Invocations) != 1 || len(run.Invocations[0].Notifications) != 1 {
		t.Fatalf("invocations %+v, want one notification", run.Invocations)
	}
	n := run.Invocations[0].Notifications[0]
	if n.Descriptor.ID != noticeResultsLeftOut || !strings.HasPrefix(n.Message.Text, "3 of 25003 findings are left out") {
		t.Errorf("notification %+v", n)
	}
}
