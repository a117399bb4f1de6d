package reporters

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/loftyscan/loftyscan/finding"
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
	return Report{
		Findings: []finding.Finding{f, sup},
		Stats:    finding.Stats{Files: 2, Findings: 1, Suppressed: 1},
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
				texts := decodedTexts(t, format, out)
				for _, planted := range []string{nameKey, messageKey, authorKey, reasonKey} {
					for _, s := range append(texts, string(out)) {
						if l := leaked(s, planted); l != "" {
							t.Fatalf("%s of a planted key in the report:\n%s", l, out)
						}
					}
				}
				secretShown := strings.Contains(string(out), r.Findings[0].Secret)
				if want := show && printsSecrets(format); secretShown != want {
					t.Errorf("the finding's token in full: %v, want %v", secretShown, want)
				}
				if !shows(texts, finding.Redact(nameKey)) {
					t.Errorf("the path's key is not shown in its redacted form %s:\n%s", finding.Redact(nameKey), out)
				}
				for _, s := range texts {
					checkDisplaySafe(t, s)
				}
				if format == FormatSARIF {
					checkSARIFURIs(t, out)
				}
			})
		}
	}
}

// shows reports whether one of texts holds s, as it is or percent-encoded
// in a URI.
func shows(texts []string, s string) bool {
	for _, t := range texts {
		u, _ := url.PathUnescape(t)
		if strings.Contains(t, s) || strings.Contains(u, s) {
			return true
		}
	}
	return false
}

// leaked says which part of key s holds: the key, its payload or its
// signature (the header is the same in every key).
func leaked(s, key string) string {
	if strings.Contains(s, key) {
		return "the whole"
	}
	seg := testtoken.Segments(key)
	if strings.Contains(s, seg[1]) {
		return "the payload"
	}
	if strings.Contains(s, seg[2]) {
		return "the signature"
	}
	return ""
}

// checkDisplaySafe fails on what could drive a terminal or a CI log:
// control characters other than the report's own line breaks and
// indentation, format characters (bidirectional overrides), and a line
// that starts with "::", which GitHub's runner reads as a command.
func checkDisplaySafe(t *testing.T, s string) {
	t.Helper()
	for i, r := range s {
		if r == '\n' || r == '\t' {
			continue
		}
		if finding.Unsafe(r) || r == utf8.RuneError {
			t.Errorf("unsafe character %U at byte %d of %q", r, i, s)
			return
		}
	}
	for line := range strings.SplitSeq(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "::") {
			t.Errorf("a line a CI runner would read as a command: %q", line)
		}
	}
}

// decodedTexts returns what a consumer of the report reads: every string
// of a JSON document, every attribute and character data of an XML one
// (parsed strictly, so that a document XML 1.0 refuses fails), or the
// output itself for a text format. A new format falls in one of the three.
func decodedTexts(t *testing.T, format string, out []byte) []string {
	t.Helper()
	switch {
	case json.Valid(out):
		var v any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatal(err)
		}
		var texts []string
		walkJSON(v, func(s string) { texts = append(texts, s) })
		return texts
	case bytes.HasPrefix(out, []byte("<?xml")):
		return xmlTexts(t, out)
	case format == FormatJSON || format == FormatSARIF || format == FormatGitLab:
		t.Fatalf("%s output is not valid JSON:\n%s", format, out)
	}
	return []string{string(out)}
}

func walkJSON(v any, yield func(string)) {
	switch v := v.(type) {
	case string:
		yield(v)
	case []any:
		for _, e := range v {
			walkJSON(e, yield)
		}
	case map[string]any:
		for k, e := range v {
			yield(k)
			walkJSON(e, yield)
		}
	}
}

func xmlTexts(t *testing.T, out []byte) []string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(out))
	d.Strict = true
	var texts []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return texts
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, out)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			for _, a := range tok.Attr {
				texts = append(texts, a.Value)
			}
		case xml.CharData:
			texts = append(texts, string(tok))
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
