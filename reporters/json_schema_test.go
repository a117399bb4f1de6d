package reporters

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// jsonSchema is the published schema of the JSON report, schemas/
// report.schema.json at the repository's top: what scripts and baselines
// rely on.
var jsonSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	return c.Compile("../schemas/report.schema.json")
})

func TestJSONSchema(t *testing.T) {
	t.Parallel()
	sch, err := jsonSchema()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		opts   Options
		report Report
	}{
		{"clean", Options{}, cleanReport()},
		{"findings", Options{}, sampleReport()},
		{"findings, show secrets", Options{ShowSecrets: true}, sampleReport()},
		{"only suppressed", Options{}, suppressedOnlyReport()},
		{"keys and control characters in the data", Options{ShowSecrets: true}, hostileReport()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := render(t, FormatJSON, tt.opts, tt.report)
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(doc); err != nil {
				t.Errorf("%v\n%s", err, out)
			}
		})
	}
	// The schema must reject what breaks the contract, or it checks nothing.
	bad := []string{
		`{"stats": {"files": 0, "bytes": 0, "duration": "1ms", "duration_ms": 1, "findings": 0}}`,
		`{"findings": null, "stats": {"files": 0, "bytes": 0, "duration": "1ms", "duration_ms": 1, "findings": 0}}`,
		`{"findings": [{"rule_id": "generic-jwt", "fingerprint": "00", "path": "a", "line": 0, "column": 1, "confirmed": true, "status": "active", "expires_at": null, "redacted": "x", "severity": "high"}], "stats": {"files": 0, "bytes": 0, "duration": "1ms", "duration_ms": 1, "findings": 0}}`,
		// A path with a raw escape, and a redacted form that shows more of
		// the key than its last 4 characters.
		`{"findings": [{"rule_id": "lofty-api-key", "fingerprint": "` + strings.Repeat("0", 64) + `", "path": "a\u001b]0;x", "line": 1, "column": 1, "confirmed": true, "status": "active", "expires_at": null, "redacted": "eyJ…abcd#00000000", "severity": "high"}], "stats": {"files": 0, "bytes": 0, "duration": "1ms", "duration_ms": 1, "findings": 0}}`,
		`{"findings": [{"rule_id": "lofty-api-key", "fingerprint": "` + strings.Repeat("0", 64) + `", "path": "a", "line": 1, "column": 1, "confirmed": true, "status": "active", "expires_at": null, "redacted": "eyJhbGciOi…abcd", "severity": "high"}], "stats": {"files": 0, "bytes": 0, "duration": "1ms", "duration_ms": 1, "findings": 0}}`,
	}
	for _, b := range bad {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(b)))
		if err != nil {
			t.Fatal(err)
		}
		if sch.Validate(doc) == nil {
			t.Errorf("the schema accepts a broken report: %s", b)
		}
	}
}
