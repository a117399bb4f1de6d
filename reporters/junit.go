package reporters

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/loftyscan/loftyscan/finding"
)

// junitReporter writes JUnit XML, the test report format that CI systems
// show in a tests pane: GitLab (artifacts: reports: junit), Jenkins (the
// junit step), Azure Pipelines (PublishTestResults with JUnit). Findings
// then appear as failed tests beside the build's own:
//
//	loftyscan:
//	  script: loftyscan dir --format junit --output loftyscan-junit.xml .
//	  artifacts:
//	    when: always   # upload the report when findings fail the job too
//	    reports:
//	      junit: loftyscan-junit.xml
//
// The document is one <testsuites> holding one <testsuite name="loftyscan">
// with tests, failures, errors and skipped counts and the scan's time in
// seconds. Each finding is one <testcase>: its classname is the finding's
// path (so panes group findings by file) and its name "rule-id at
// path:line:column". It holds a <failure> whose type is the rule id, whose
// message is one line with the redacted token, the expiry, the commit and
// what --verify learnt, and whose text is the finding's details, as the
// terminal format prints them (with the verification), and what to do. A
// scan that counted no finding has a passing testcase, "no Lofty keys
// found", so the pane shows the check ran.
//
// A suppressed finding (listed only with --show-suppressed) is a testcase
// with <skipped message="suppressed: REASON"/> instead of a failure, so that
// it shows in the pane without failing it, and the suite's skipped count
// counts it. The suite's <system-out> says how much was scanned, how many
// findings were suppressed and whether anything could not be read.
//
// JUnit files are archived with the pipeline and shown to everyone who can
// see it, so, as in SARIF, tokens are always redacted, whatever
// Options.ShowSecrets says. Text from the scanned content (paths, commit
// messages, author names) has control and bidirectional-override characters
// printed as escapes, as in the terminal.
type junitReporter struct {
	opts Options
}

// The pieces of JUnit XML loftyscan writes: the common subset that GitLab,
// Jenkins and Azure all read.
type (
	junitTestsuites struct {
		XMLName  xml.Name         `xml:"testsuites"`
		Name     string           `xml:"name,attr"`
		Tests    int              `xml:"tests,attr"`
		Failures int              `xml:"failures,attr"`
		Errors   int              `xml:"errors,attr"`
		Time     string           `xml:"time,attr"`
		Suites   []junitTestsuite `xml:"testsuite"`
	}
	junitTestsuite struct {
		Name      string          `xml:"name,attr"`
		Tests     int             `xml:"tests,attr"`
		Failures  int             `xml:"failures,attr"`
		Errors    int             `xml:"errors,attr"`
		Skipped   int             `xml:"skipped,attr"`
		Time      string          `xml:"time,attr"`
		Testcases []junitTestcase `xml:"testcase"`
		SystemOut string          `xml:"system-out,omitempty"`
	}
	junitTestcase struct {
		Classname string        `xml:"classname,attr"`
		Name      string        `xml:"name,attr"`
		Failure   *junitFailure `xml:"failure,omitempty"`
		Skipped   *junitSkipped `xml:"skipped,omitempty"`
	}
	junitSkipped struct {
		Message string `xml:"message,attr"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		// CDATA, so that the lines read as lines in the file, not as
		// &#xA; references. xmlText makes it valid XML first.
		Text string `xml:",cdata"`
	}
)

func (j *junitReporter) Report(w io.Writer, r Report) error {
	suite := junitTestsuite{
		Name:      "loftyscan",
		Time:      junitSeconds(r.Stats.Duration),
		SystemOut: junitSummary(r.Stats, countSuppressed(r), r.Notices),
	}
	for _, f := range r.Findings {
		tc := junitTestcaseFor(f)
		if tc.Failure != nil {
			suite.Failures++
		} else {
			suite.Skipped++
		}
		suite.Testcases = append(suite.Testcases, tc)
	}
	if suite.Failures == 0 {
		pass := junitTestcase{Classname: "loftyscan", Name: "no Lofty keys found"}
		suite.Testcases = append([]junitTestcase{pass}, suite.Testcases...)
	}
	suite.Tests = len(suite.Testcases)
	doc := junitTestsuites{
		Name:     "loftyscan",
		Tests:    suite.Tests,
		Failures: suite.Failures,
		Time:     suite.Time,
		Suites:   []junitTestsuite{suite},
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(xml.Header)
	bw.Write(out)
	bw.WriteString("\n")
	return bw.Flush()
}

func junitTestcaseFor(f finding.Finding) junitTestcase {
	s := f.Shown()
	tc := junitTestcase{
		Classname: s.Artifact,
		Name:      f.RuleID + " at " + placeLine(f),
	}
	if f.Suppressed != "" {
		tc.Skipped = &junitSkipped{Message: "suppressed: " + s.Suppressed}
		return tc
	}
	// The details are the terminal's block for the finding: the same words
	// in both places, and the terminal already redacts and sanitizes. A
	// reporter of its own, with no colour and no secrets, whatever the
	// options, and with expiry dates rather than "in 5 days", which would
	// go stale in an archived report.
	var text strings.Builder
	bw := bufio.NewWriter(&text)
	t := newTerminal(Options{})
	t.now = nil
	t.writeFinding(bw, f, "")
	bw.Flush()
	text.WriteString("\n" + remediation(f.RuleID) + "\n")
	tc.Failure = &junitFailure{
		Message: sarifMessage(f),
		Type:    f.RuleID,
		Text:    xmlText(text.String()),
	}
	return tc
}

// junitSummary says what the scan read, for the suite's system-out, and
// then each notice on a line of its own.
func junitSummary(s finding.Stats, suppressed int64, notices []finding.Notice) string {
	out := fmt.Sprintf("loftyscan scanned %s, %s in %s", plural(s.Files, "file", "files"), formatBytes(s.Bytes), formatDuration(s.Duration))
	if suppressed > 0 {
		out += "; " + plural(suppressed, "finding", "findings") + " suppressed (loftyscan:allow, .loftyscanignore or a baseline)"
	}
	if s.Errors > 0 {
		out += "; " + scanErrors(s.Errors)
	}
	for _, n := range notices {
		out += "\nNOTICE (" + n.Kind + "): " + finding.Sanitize(n.Message)
	}
	return out
}

// junitSeconds formats a duration as JUnit's time attribute: seconds, with
// millisecond precision.
func junitSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}

// xmlText makes s valid XML character data, for CDATA sections, which
// encoding/xml writes as they are: invalid UTF-8 and characters XML 1.0
// does not allow (most controls, U+FFFE, U+FFFF) become U+FFFD. Text from
// the terminal's block has its controls escaped already; this catches what
// is left.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			0x20 <= r && r <= 0xD7FF,
			0xE000 <= r && r <= 0xFFFD,
			0x10000 <= r && r <= 0x10FFFF:
			return r
		}
		return utf8.RuneError
	}, strings.ToValidUTF8(s, string(utf8.RuneError)))
}
