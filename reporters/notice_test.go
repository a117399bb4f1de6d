package reporters

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// changeReport is the report of a scanned change (a --range) that edits
// the scanner's settings and adds a key with an inline loftyscan:allow,
// besides sampleReport's findings: the in-change allow is listed without
// --show-suppressed, and the notices are listed in every format.
func changeReport() Report {
	r := suppressedOnlyReport()
	r.Findings = append(r.Findings[:0], sampleReport().Findings[0])
	allowed := sampleReport().Findings[6] // test/fixtures/keys.env
	allowed.Suppressed = finding.SuppressedInlineInChange
	r.Findings = append(r.Findings, allowed)
	r.Stats.Findings, r.Stats.Suppressed = 1, 1
	r.Notices = []finding.Notice{
		{Kind: finding.NoticeSettingsChanged, Path: ".loftyscanignore", Message: "the scanned change edits .loftyscanignore (commit 1a2b3c4), which decides what loftyscan reports; this scan read its settings from commit 0f0f0f0 (the range's base), not from the change: review the edit, which takes effect for later changes once it is part of their base"},
		{Kind: finding.NoticeSkipEverything, Message: "the skip list from --skip skips every path: nothing is scanned. Fix the list, or give --skip to replace it"},
	}
	return r
}

// TestNoticesInEveryFormat: a reviewer sees, whatever the format, that the
// change edits the scanner's settings and which key the change allows
// inline.
func TestNoticesInEveryFormat(t *testing.T) {
	t.Parallel()
	r := changeReport()
	for _, format := range Formats() {
		out := visible(format, string(render(t, format, Options{Version: "1.0.0", Now: fixedNow}, r)))
		if format == FormatCounts { // numbers only
			if !strings.Contains(out, "\nnotices=2\n") || !strings.Contains(out, "\nallowed_by_change=1\n") {
				t.Errorf("counts: the notices or the key the change allows are not counted:\n%s", out)
			}
			continue
		}
		if format == FormatTerminal {
			out = oneLine(out) // wrapped at 80 columns
		}
		if !strings.Contains(out, "the scanned change edits .loftyscanignore") || !strings.Contains(out, "skips every path") {
			t.Errorf("%s: the notices are missing:\n%s", format, out)
		}
		if !strings.Contains(out, "test/fixtures/keys.env") {
			t.Errorf("%s: the key the change allows inline is not listed:\n%s", format, out)
		}
	}
}

func TestNoticesJSON(t *testing.T) {
	t.Parallel()
	var doc struct {
		Findings []struct {
			Path, Suppressed string
		}
		Notices []struct {
			Kind, Path, Message string
		}
	}
	if err := json.Unmarshal(render(t, FormatJSON, Options{}, changeReport()), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Notices) != 2 || doc.Notices[0].Kind != "settings-changed" || doc.Notices[0].Path != ".loftyscanignore" ||
		doc.Notices[1].Kind != "skip-everything" || doc.Notices[1].Path != "" {
		t.Errorf("notices %+v", doc.Notices)
	}
	if len(doc.Findings) != 2 || doc.Findings[1].Suppressed != "inline loftyscan:allow, added by the scanned change" {
		t.Errorf("findings %+v", doc.Findings)
	}
	// A report without notices still has the array, for scripts.
	if out := render(t, FormatJSON, Options{}, cleanReport()); !bytes.Contains(out, []byte(`"notices": []`)) {
		t.Errorf("no empty notices array:\n%s", out)
	}
}

func TestNoticesSARIF(t *testing.T) {
	t.Parallel()
	var doc struct {
		Runs []struct {
			Invocations []struct {
				ExecutionSuccessful        bool
				ToolExecutionNotifications []struct {
					Level      string
					Message    struct{ Text string }
					Descriptor struct{ ID string }
					Locations  []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string }
						}
					}
				}
			}
			Results []struct {
				Suppressions []struct {
					Kind, Status, Justification string
				}
			}
		}
	}
	if err := json.Unmarshal(render(t, FormatSARIF, Options{}, changeReport()), &doc); err != nil {
		t.Fatal(err)
	}
	inv := doc.Runs[0].Invocations
	if len(inv) != 1 || !inv[0].ExecutionSuccessful || len(inv[0].ToolExecutionNotifications) != 2 {
		t.Fatalf("invocations %+v", inv)
	}
	n := inv[0].ToolExecutionNotifications[0]
	if n.Level != "warning" || n.Descriptor.ID != "settings-changed" || len(n.Locations) != 1 || n.Locations[0].PhysicalLocation.ArtifactLocation.URI != ".loftyscanignore" {
		t.Errorf("notification %+v", n)
	}
	if s := doc.Runs[0].Results[1].Suppressions; len(s) != 1 || s[0].Kind != "inSource" || !strings.Contains(s[0].Justification, "added by the scanned change") {
		t.Errorf("suppressions %+v", s)
	}
	// No notices, no invocation: the files of scans of folders are as before.
	if out := render(t, FormatSARIF, Options{}, sampleReport()); bytes.Contains(out, []byte("invocations")) {
		t.Error("an invocation without notices")
	}
}

func TestNoticesGitLab(t *testing.T) {
	t.Parallel()
	var doc struct {
		Scan struct {
			Messages []struct{ Level, Value string }
		}
		Vulnerabilities []struct {
			Name, Severity string
			Location       struct{ File string }
		}
	}
	if err := json.Unmarshal(render(t, FormatGitLab, Options{Now: fixedNow}, changeReport()), &doc); err != nil {
		t.Fatal(err)
	}
	warns := 0
	for _, m := range doc.Scan.Messages {
		if m.Level == "warn" {
			warns++
		}
	}
	if warns != 3 { // two notices and the keys allowed by the change
		t.Errorf("messages %+v", doc.Scan.Messages)
	}
	if len(doc.Vulnerabilities) != 2 || doc.Vulnerabilities[1].Severity != "Info" ||
		doc.Vulnerabilities[1].Location.File != "test/fixtures/keys.env" || !strings.HasPrefix(doc.Vulnerabilities[1].Name, "Allowed by the scanned change") {
		t.Errorf("vulnerabilities %+v", doc.Vulnerabilities)
	}
}

func TestNoticesJUnit(t *testing.T) {
	t.Parallel()
	var doc struct {
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			SystemOut string `xml:"system-out"`
			Testcases []struct {
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(render(t, FormatJUnit, Options{}, changeReport()), &doc); err != nil {
		t.Fatal(err)
	}
	s := doc.Suites[0]
	if doc.Failures != 1 || !strings.Contains(s.SystemOut, "NOTICE (settings-changed)") || !strings.Contains(s.SystemOut, "NOTICE (skip-everything)") {
		t.Errorf("failures %d, system-out %q", doc.Failures, s.SystemOut)
	}
	if len(s.Testcases) != 2 || s.Testcases[1].Skipped == nil || !strings.Contains(s.Testcases[1].Skipped.Message, "added by the scanned change") {
		t.Errorf("testcases %+v", s.Testcases)
	}
}

func TestNoticesTerminal(t *testing.T) {
	t.Parallel()
	out := oneLine(string(render(t, FormatTerminal, Options{Now: fixedNow}, changeReport())))
	for _, want := range []string{
		"ALLOWED BY THE SCANNED CHANGE (1)",
		"REVIEW THE SCAN'S SETTINGS (2)",
		"1 finding (1 active key) and 1 suppressed in 13 files (1.2 MB, 15ms); 1 key the change adds is allowed inline (loftyscan:allow), see above",
		"2 notices about the settings, see above",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "SUPPRESSED (") {
		t.Errorf("the in-change allow is listed as an ordinary suppression:\n%s", out)
	}
}

// TestNoticesValid: reports with notices still pass their formats' schemas.
func TestNoticesValid(t *testing.T) {
	t.Parallel()
	schemas := map[string]func() (*jsonschema.Schema, error){FormatJSON: jsonSchema, FormatSARIF: sarifSchema2, FormatGitLab: gitlabSchema15}
	for format, load := range schemas {
		sch, err := load()
		if err != nil {
			t.Fatal(err)
		}
		out := render(t, format, Options{Version: "1.0.0", Now: fixedNow}, changeReport())
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(doc); err != nil {
			t.Errorf("%s: %v\n%s", format, err, out)
		}
	}
}
