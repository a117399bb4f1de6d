package reporters

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testleak"
	"github.com/loftyscan/loftyscan/internal/testtoken"
	"github.com/loftyscan/loftyscan/rules"
)

// Keys planted in a finding's data, apart from its token: none may reach a
// report in any form but the redacted one.
var (
	nameKey    = testtoken.Key("in-a-file-name", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	messageKey = testtoken.Key("in-a-commit-message", time.Time{})
	authorKey  = testtoken.Generic("in-an-author")
	reasonKey  = testtoken.Key("in-a-reason", time.Time{})
	tagKey     = testtoken.Key("in-a-tag-name", time.Time{})
	refKey     = testtoken.Key("in-a-ref-name", time.Time{})
)

// injection is what a hostile name adds: a terminal title, a bell, and a
// line that a CI runner would read as a workflow command.
const injection = "evil\x1b]0;PWNED\x07\n::error title=x::injected\r\u202egpj.exe"

// hostileReport is a scan whose every finding holds planted keys and
// control characters in each field that comes from scanned data.
func hostileReport() Report {
	tok := testtoken.Key("the-finding", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	f := finding.Finding{
		RuleID:             rules.RuleAPIKey,
		Path:               "d/" + nameKey + ".tar.gz!" + injection + "/" + nameKey + ".a.b",
		Line:               3,
		Column:             7,
		Encoding:           "base64",
		Status:             rules.StatusActive,
		ExpiresAt:          time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC),
		Alg:                "HS256" + injection,
		Subject:            "sub " + nameKey + injection,
		Secret:             tok,
		Verification:       finding.Unknown,
		VerificationReason: "server said: " + reasonKey + injection,
		Commit:             "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
		Author:             "Eve " + authorKey + injection,
		Email:              authorKey + "@example.com" + injection,
		Date:               time.Date(2024, 5, 6, 10, 0, 0, 0, time.UTC),
		Message:            "add LOFTY_API_KEY=" + messageKey + " " + injection,
	}
	f.Fingerprint = fingerprint(tok)
	sup := f
	sup.Path = "s/" + nameKey + injection
	sup.Suppressed = ".loftyscanignore:3: " + reasonKey + injection
	// A key in the message of a tag whose name holds a key, on refs whose
	// names hold keys: the tag's name and the refs' names are scanned
	// data too.
	tag := f
	tag.Path, tag.Line, tag.Column = "", 2, 1
	tag.Location, tag.Tag = finding.InTagMessage, "v1/"+tagKey+"/"+injection
	tag.Exposure = &finding.Exposure{ReachableFrom: finding.ReachRefs, Commits: 2, Pushed: true, RefCount: 3, Refs: []finding.RefExposure{
		{Name: "refs/heads/" + refKey + "/" + injection, ContainsCommit: true, InTip: true},
		{Name: "refs/remotes/origin/" + refKey + "/" + injection, ContainsCommit: true},
		{Name: "refs/tags/v1/" + tagKey + "/" + injection, ContainsCommit: true, InTip: true},
	}}
	return Report{
		Findings: []finding.Finding{f, sup, tag},
		Stats:    finding.Stats{Files: 3, Findings: 2, Suppressed: 1},
		Root:     "/src/repo",
	}
}

func fingerprint(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// TestHostileData renders the hostile report in every format, with and
// without ShowSecrets, and checks what a reader of the report and a
// terminal or CI log showing it would get: no planted key, no control or
// bidirectional character from the data, no line a CI runner would read as
// a command, a document its format's parser accepts, and SARIF URIs that
// are URIs.
func TestHostileData(t *testing.T) {
	t.Parallel()
	for _, format := range Formats() {
		for _, show := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/show=%v", format, show), func(t *testing.T) {
				t.Parallel()
				r := hostileReport()
				out := render(t, format, Options{ShowSecrets: show, Now: fixedNow, Version: "1.0.0"}, r)
				texts := testleak.Texts(t, out)
				if (format == FormatJSON || format == FormatSARIF || format == FormatGitLab) && !json.Valid(out) {
					t.Fatalf("%s output is not JSON", format)
				}
				for _, planted := range []string{nameKey, messageKey, authorKey, reasonKey, tagKey, refKey} {
					for _, s := range append(texts, string(out)) {
						if l := testleak.Leaked(s, planted); l != "" {
							t.Fatalf("%s of a planted key in the report:\n%s", l, out)
						}
					}
				}
				secretShown := strings.Contains(string(out), r.Findings[0].Secret)
				if want := show && printsSecrets(format); secretShown != want {
					t.Errorf("the finding's token in full: %v, want %v", secretShown, want)
				}
				if !testleak.Shows(texts, finding.Redact(nameKey)) && format != FormatCounts { // counts shows no path
					t.Errorf("the path's key is not shown in its redacted form %s:\n%s", finding.Redact(nameKey), out)
				}
				for _, s := range texts {
					testleak.CheckDisplaySafe(t, format, s)
				}
				if !testleak.Shows(texts, finding.Redact(tagKey)) && format != FormatCounts {
					t.Errorf("the tag's name is not shown with its key redacted as %s:\n%s", finding.Redact(tagKey), out)
				}
				if !testleak.Shows(texts, finding.Redact(refKey)) && (format == FormatJSON || format == FormatSARIF || format == FormatTerminal || format == FormatMarkdown || format == FormatGitHub) {
					t.Errorf("the refs' names are not shown with their keys redacted as %s:\n%s", finding.Redact(refKey), out)
				}
				if format == FormatSARIF {
					checkSARIFURIs(t, out)
				}
			})
		}
	}
}

// checkSARIFURIs checks that every artifact URI is a relative reference of
// RFC 3986's characters that url.Parse reads back.
func checkSARIFURIs(t *testing.T, out []byte) {
	t.Helper()
	var log struct {
		Runs []struct {
			Results []struct {
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string } `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	for _, res := range log.Runs[0].Results {
		uri := res.Locations[0].PhysicalLocation.ArtifactLocation.URI
		u, err := url.Parse(uri)
		if err != nil || u.Scheme != "" || u.Host != "" {
			t.Errorf("artifact URI %q is not a relative reference: %v", uri, err)
		}
		for i := 0; i < len(uri); i++ {
			if c := uri[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"<>\^`+"`{|}#?", c) >= 0 {
				t.Errorf("artifact URI %q has %q, which a URI cannot", uri, c)
				break
			}
		}
	}
}

// TestWorkflowCommandsInNames: a file named like a workflow command, and
// the runner's older "##[name]" syntax in every other field. The terminal
// and JUnit reports start a line with the path, and a script printing a
// JSON field prints it alone on a line: no line of any report, and no
// string a consumer reads from it, is a command GitHub's runner would run
// (a step output set, an annotation forged) but the github format's own.
func TestWorkflowCommandsInNames(t *testing.T) {
	t.Parallel()
	const v1 = " ##[error]forged ##[set-output name=findings]0"
	r := hostileReport()
	for i := range r.Findings {
		f := &r.Findings[i]
		f.Path = "::set-output name=findings::0" + v1
		f.Message, f.Author, f.Subject = "fix"+v1, "Eve"+v1, "sub"+v1
		if f.Tag != "" {
			f.Tag = "::warning::v1" + v1
		}
		if f.Exposure != nil {
			for j := range f.Exposure.Refs {
				f.Exposure.Refs[j].Name += v1
			}
		}
	}
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			out := render(t, format, Options{Now: fixedNow, Version: "1.0.0"}, r)
			if format != FormatGitHub { // whose lines are commands, checked as texts
				testleak.CheckDisplaySafe(t, format, string(out))
			}
			for _, s := range testleak.Texts(t, out) {
				testleak.CheckDisplaySafe(t, format+" text", s)
			}
		})
	}
}
