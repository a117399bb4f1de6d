package reporters

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
)

// junitDoc is a JUnit document as a consumer reads it back.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Name      string `xml:"name,attr"`
		Tests     int    `xml:"tests,attr"`
		Failures  int    `xml:"failures,attr"`
		Errors    int    `xml:"errors,attr"`
		Skipped   int    `xml:"skipped,attr"`
		Time      string `xml:"time,attr"`
		SystemOut string `xml:"system-out"`
		Testcases []struct {
			Classname string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func parseJUnit(t *testing.T, out []byte) junitDoc {
	t.Helper()
	if !bytes.HasPrefix(out, []byte(xml.Header)) {
		t.Errorf("no XML declaration")
	}
	var doc junitDoc
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(doc.Suites) != 1 || doc.Suites[0].Name != "loftyscan" {
		t.Fatalf("want one testsuite named loftyscan:\n%s", out)
	}
	s := doc.Suites[0]
	failures, skipped := 0, 0
	for _, tc := range s.Testcases {
		if tc.Failure != nil {
			failures++
		}
		if tc.Skipped != nil {
			skipped++
		}
		if tc.Failure != nil && tc.Skipped != nil {
			t.Errorf("testcase %q both failed and skipped", tc.Name)
		}
	}
	if s.Tests != len(s.Testcases) || s.Failures != failures || s.Skipped != skipped ||
		doc.Tests != s.Tests || doc.Failures != s.Failures || s.Errors != 0 {
		t.Errorf("counts: testsuites %d/%d, testsuite %d/%d/%d/%d, want %d tests, %d failures, %d skipped",
			doc.Tests, doc.Failures, s.Tests, s.Failures, s.Errors, s.Skipped, len(s.Testcases), failures, skipped)
	}
	return doc
}

func TestJUnitClean(t *testing.T) {
	t.Parallel()
	s := parseJUnit(t, render(t, FormatJUnit, Options{}, cleanReport())).Suites[0]
	if len(s.Testcases) != 1 || s.Testcases[0].Name != "no Lofty keys found" || s.Testcases[0].Failure != nil {
		t.Errorf("clean scan: testcases %+v, want one passing", s.Testcases)
	}
	if s.Time != "0.002" || !strings.Contains(s.SystemOut, "13 files") {
		t.Errorf("time %q, system-out %q", s.Time, s.SystemOut)
	}
}

func TestJUnitFindings(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	out := render(t, FormatJUnit, Options{ShowSecrets: true}, r)
	s := parseJUnit(t, out).Suites[0]
	if len(s.Testcases) != len(r.Findings) || s.Failures != 6 || s.Skipped != 2 {
		t.Fatalf("%d testcases, %d failures, %d skipped, want %d testcases, 6 failures, 2 skipped",
			len(s.Testcases), s.Failures, s.Skipped, len(r.Findings))
	}
	if !strings.Contains(s.SystemOut, "2 findings suppressed") {
		t.Errorf("system-out %q does not count the suppressed findings", s.SystemOut)
	}
	if !strings.Contains(s.SystemOut, "1 error") {
		t.Errorf("system-out %q does not mention the error", s.SystemOut)
	}
	wantClass := []string{"config/.env", "outer.zip!inner/dir/file name.env", "deploy/k8s/secret.yaml", "docs/réunion: notes.md",
		"src/lofty/client.py", "scripts/sync.sh", "test/fixtures/keys.env", "docs/example.md"}
	for i, tc := range s.Testcases {
		f := r.Findings[i]
		if tc.Classname != wantClass[i] {
			t.Errorf("testcase %d: classname %q, want %q", i, tc.Classname, wantClass[i])
		}
		if want := fmt.Sprintf("%s at %s:%d:%d", f.RuleID, f.Path, f.Line, f.Column); tc.Name != want {
			t.Errorf("testcase %d: name %q, want %q", i, tc.Name, want)
		}
		if f.Suppressed != "" {
			if tc.Failure != nil || tc.Skipped == nil || tc.Skipped.Message != "suppressed: "+f.Suppressed {
				t.Errorf("testcase %d: suppressed finding: failure %v, skipped %+v", i, tc.Failure, tc.Skipped)
			}
			continue
		}
		fl := tc.Failure
		if fl == nil {
			t.Fatalf("testcase %d: no failure", i)
		}
		if fl.Type != f.RuleID || !strings.Contains(fl.Message, f.Redacted()) || strings.Contains(fl.Message, "\n") {
			t.Errorf("testcase %d: failure type %q, message %q", i, fl.Type, fl.Message)
		}
		for _, want := range []string{f.Redacted(), describeExpiry(f), f.Fingerprint, "Revoke the key now"} {
			if !strings.Contains(fl.Text, want) {
				t.Errorf("testcase %d: failure text lacks %q:\n%s", i, want, fl.Text)
			}
		}
		if f.Commit != "" && !strings.Contains(fl.Text, f.Commit[:7]) {
			t.Errorf("testcase %d: failure text lacks the commit", i)
		}
		if v := describeVerification(f); !strings.Contains(fl.Text, v) || !strings.Contains(fl.Message, verificationSentence[f.Verification]) {
			t.Errorf("testcase %d: verification %q missing:\nmessage %s\n%s", i, v, fl.Message, fl.Text)
		}
	}
	// The hostile commit message of the last finding comes out as escapes,
	// as in the terminal: no escape byte, no bidi override.
	last := s.Testcases[3].Failure.Text
	if strings.ContainsAny(last, "\x1b\u202e") || !strings.Contains(last, `\x1B[31mred\u202E`) {
		t.Errorf("commit message not sanitized:\n%s", last)
	}
}

// A scan whose findings are all suppressed passes: one passing testcase,
// and the suppressed findings skipped beside it.
func TestJUnitOnlySuppressed(t *testing.T) {
	t.Parallel()
	s := parseJUnit(t, render(t, FormatJUnit, Options{}, suppressedOnlyReport())).Suites[0]
	if s.Failures != 0 || s.Skipped != 2 || len(s.Testcases) != 3 || s.Testcases[0].Name != "no Lofty keys found" {
		t.Errorf("testcases %+v, want one passing and two skipped", s.Testcases)
	}
}

// Paths with XML's special characters, a CDATA end, controls, invalid UTF-8
// and characters XML cannot hold still make a document that parses, and
// read back as what was meant: controls as escapes, the rest as U+FFFD.
func TestJUnitEscapes(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	r.Findings = r.Findings[:1]
	r.Findings[0].Path = `a<b>&"c'/]]>d` + "\x00\x01\x7f\xff\ufffe.env"
	out := render(t, FormatJUnit, Options{}, r)
	tc := parseJUnit(t, out).Suites[0].Testcases[0]
	want := `a<b>&"c'/]]>d\x00\x01\x7F\xFF\uFFFE.env`
	if tc.Classname != want {
		t.Errorf("classname %q, want %q", tc.Classname, want)
	}
	if !strings.Contains(tc.Failure.Text, want+":3:19") {
		t.Errorf("failure text lacks the path %q:\n%s", want, tc.Failure.Text)
	}
}
