package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// secret is a synthetic key, signed at test time with the public test
// secret. Error messages must never contain it, nor a long piece of it.
var secret = testtoken.Key("config-tests", time.Time{})

func TestLoadBaseline(t *testing.T) {
	t.Parallel()
	a, b := fp("a"), fp("b")
	report := `{
  "findings": [
    {
      "rule_id": "lofty-api-key",
      "fingerprint": "` + a + `",
      "path": "config/.env",
      "line": 3,
      "secret": "` + secret + `"
    },
    {
      "rule_id": "lofty-unconfirmed-token",
      "fingerprint": "` + strings.ToUpper(b) + `",
      "path": "outer.zip!inner/file",
      "commit": "0123abcd",
      "in_head": false
    },
    {"fingerprint": "` + a + `", "path": "moved/.env"}
  ],
  "stats": {"files": 13, "findings": 3, "duration": "2.1ms"}
}
`
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"report", report, []string{a, b}},
		{"stats first", `{"stats": {"findings": 1}, "findings": [{"fingerprint": "` + a + `"}]}`, []string{a}},
		{"bare array", `[{"fingerprint": "` + b + `"}]`, []string{b}},
		{"no findings", `{"findings": [], "stats": {}}`, nil},
		{"BOM", "\uFEFF[]", nil},
	}
	for _, tt := range tests {
		bl, err := LoadBaseline(strings.NewReader(tt.doc), "base.json")
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if bl.Len() != len(tt.want) {
			t.Errorf("%s: Len = %d, want %d", tt.name, bl.Len(), len(tt.want))
		}
		for _, f := range tt.want {
			if !bl.Contains(f) || !bl.Contains(strings.ToUpper(f)) {
				t.Errorf("%s: Contains(%.8s…) = false", tt.name, f)
			}
		}
		if bl.Contains(fp("c")) || bl.Contains("") || bl.Contains(secret) {
			t.Errorf("%s: contains what it should not", tt.name)
		}
	}
	var nilBaseline *Baseline
	if nilBaseline.Contains(a) || nilBaseline.Len() != 0 {
		t.Error("a nil baseline contains something")
	}
}

func TestLoadBaselineErrors(t *testing.T) {
	t.Parallel()
	a := fp("a")
	tests := []struct {
		name, doc, want string
	}{
		{"empty", " \n", "baseline x.json: not a loftyscan JSON report: the file is empty"},
		{"not JSON", "findings:\n  - " + secret + "\n", "baseline x.json:1: not a loftyscan JSON report: invalid JSON: invalid character"},
		{"a bare token", `"` + secret + `"`, "baseline x.json:1: not a loftyscan JSON report: want an object with a \"findings\" array, found a string"},
		{"a number", "42", "baseline x.json:1: not a loftyscan JSON report: want an object with a \"findings\" array, found a number"},
		{"SARIF", `{"version": "2.1.0", "runs": [{"results": [{"message": {"text": "` + secret + `"}}]}]}`,
			"baseline x.json:1: not a loftyscan JSON report: no \"findings\" array: this looks like a SARIF report; write the baseline with --format json"},
		{"GitLab", "{\n\"version\": \"15.2.1\",\n\"vulnerabilities\": []}", "baseline x.json:1: not a loftyscan JSON report: no \"findings\" array: this looks like a GitLab report"},
		{"other object", `{"stats": {}}`, "baseline x.json:1: not a loftyscan JSON report: no \"findings\" array: write the baseline with --format json"},
		{"findings not an array", `{"findings": {"secret": "` + secret + `"}}`, "baseline x.json:1: not a loftyscan JSON report: \"findings\" is an object, want an array"},
		{"findings null", `{"findings": null}`, "baseline x.json:1: not a loftyscan JSON report: \"findings\" is null, want an array"},
		{"list of tokens", "{\"findings\": [\n  \"" + secret + "\"\n]}", "baseline x.json:2: not a loftyscan JSON report: finding 1 is a string, want an object with a \"fingerprint\""},
		{"list of numbers", "[\n1234567]", "baseline x.json:2: not a loftyscan JSON report: finding 1 is a number, want an object with a \"fingerprint\""},
		{"no fingerprint", "[\n  {\"fingerprint\": \"" + a + "\"},\n  {\"secret\": \"" + secret + "\"}\n]", "baseline x.json:3: not a loftyscan JSON report: finding 2 has no \"fingerprint\""},
		{"fingerprint not a string", "[{\"fingerprint\": 12}]", "baseline x.json:1: not a loftyscan JSON report: finding 1: \"fingerprint\" is not a string"},
		{"secret as fingerprint", "[\n{\"fingerprint\": \"" + secret + "\"}]", "baseline x.json:2: not a loftyscan JSON report: finding 1: \"fingerprint\": this looks like a key"},
		{"secret cut as fingerprint", "[{\"fingerprint\": \"" + secret[:64] + "\"}]", "baseline x.json:1: not a loftyscan JSON report: finding 1: \"fingerprint\": a fingerprint is 64 hex digits"},
		{"truncated", "{\"findings\": [\n{\"fingerprint\": \"" + a + "\", \"secret\": \"" + secret, "baseline x.json:2: not a loftyscan JSON report: invalid JSON: the file ends too early"},
		{"bad escape in a secret", "{\"findings\": [{\"fingerprint\": \"" + a + "\", \"secret\": \"" + secret + `\q"}]}`, "baseline x.json:1: not a loftyscan JSON report: invalid JSON: invalid character 'q' in string escape code"},
		{"trailing data", "[]\n[]", "baseline x.json:2: not a loftyscan JSON report: unexpected data after the report"},
		{"two reports", `{"findings": []} {"findings": [{"secret": "` + secret + `"}]}`, "baseline x.json:1: not a loftyscan JSON report: unexpected data after the report"},
	}
	for _, tt := range tests {
		_, err := LoadBaseline(strings.NewReader(tt.doc), "x.json")
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, tt.want) {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, msg, tt.want)
		}
		for i := 0; i+12 <= len(secret); i++ {
			if strings.Contains(msg, secret[i:i+12]) {
				t.Errorf("%s: error contains part of the secret: %s", tt.name, msg)
				break
			}
		}
		if strings.HasSuffix(msg, ".") || strings.Contains(msg, "\n") {
			t.Errorf("%s: badly formed error: %q", tt.name, msg)
		}
	}
}

// TestLoadBaselineReporterGolden loads the JSON reporter's own golden
// files, so a change to the report that breaks baselines shows here.
func TestLoadBaselineReporterGolden(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join("..", "reporters", "testdata", "json*.golden"))
	if len(files) == 0 {
		t.Skip("no JSON reporter golden files")
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var report struct {
			Findings []struct {
				Fingerprint string `json:"fingerprint"`
			} `json:"findings"`
		}
		if err := json.Unmarshal(data, &report); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		bl, err := LoadBaseline(strings.NewReader(string(data)), name)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		for _, f := range report.Findings {
			if !bl.Contains(f.Fingerprint) {
				t.Errorf("%s: baseline lacks %s", name, f.Fingerprint)
			}
		}
	}
}
