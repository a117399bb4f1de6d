package reporters

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
)

func decodeJSON(t *testing.T, out []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, out)
	}
	return doc
}

func TestJSONClean(t *testing.T) {
	t.Parallel()
	out := render(t, FormatJSON, Options{}, cleanReport())
	if !strings.Contains(string(out), `"findings": []`) {
		t.Errorf("findings is not [] on a clean scan:\n%s", out)
	}
	doc := decodeJSON(t, out)
	if got := slices.Sorted(maps.Keys(doc)); !slices.Equal(got, []string{"findings", "notices", "stats"}) {
		t.Errorf("top-level keys = %v", got)
	}
	stats := doc["stats"].(map[string]any)
	wantStats := []string{"bytes", "duration", "duration_ms", "errors", "files", "findings", "skipped", "suppressed", "warnings"}
	if got := slices.Sorted(maps.Keys(stats)); !slices.Equal(got, wantStats) {
		t.Errorf("stats keys = %v, want %v", got, wantStats)
	}
	if stats["duration"] != "2.1ms" || stats["duration_ms"] != 2.0 {
		t.Errorf("duration = %v, duration_ms = %v", stats["duration"], stats["duration_ms"])
	}
}

func TestJSONFields(t *testing.T) {
	t.Parallel()
	base := []string{"alg", "column", "confirmed", "expires_at", "fingerprint", "line", "path",
		"redacted", "rule_id", "severity", "status"}
	git := []string{"author", "commit", "date", "email", "in_head", "location", "message"}
	verified := []string{"verification", "verification_reason"}
	extra := [][]string{ // the keys each finding of sampleReport adds to base
		{"subject"},
		{"encoding", "subject"},
		append(slices.Clone(git), verified...),
		append(slices.Clone(git), verified...),
		{"subject", "verification"},
		{"subject", "verification"},
		{"subject", "suppressed"},
		{"suppressed"},
	}
	withSecret := make([][]string, len(extra))
	for i, e := range extra {
		withSecret[i] = append(slices.Clone(e), "secret")
	}
	tests := []struct {
		show bool
		want [][]string // extra keys per finding of sampleReport
	}{
		{false, extra},
		{true, withSecret},
	}
	for _, tt := range tests {
		r := sampleReport()
		doc := decodeJSON(t, render(t, FormatJSON, Options{ShowSecrets: tt.show}, r))
		findings := doc["findings"].([]any)
		if len(findings) != len(r.Findings) {
			t.Fatalf("%d findings, want %d", len(findings), len(r.Findings))
		}
		for i, f := range findings {
			m := f.(map[string]any)
			want := slices.Sorted(slices.Values(append(slices.Clone(base), tt.want[i]...)))
			if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, want) {
				t.Errorf("show=%v finding %d keys = %v, want %v", tt.show, i, got, want)
			}
			if r.Findings[i].ExpiresAt.IsZero() != (m["expires_at"] == nil) {
				t.Errorf("finding %d: expires_at = %v", i, m["expires_at"])
			}
		}
	}
}

func TestJSONValues(t *testing.T) {
	t.Parallel()
	doc := decodeJSON(t, render(t, FormatJSON, Options{}, sampleReport()))
	fs := doc["findings"].([]any)
	f0 := fs[0].(map[string]any)
	f2 := fs[2].(map[string]any)
	f3 := fs[3].(map[string]any)
	f4 := fs[4].(map[string]any)
	f5 := fs[5].(map[string]any)
	f6 := fs[6].(map[string]any)
	f7 := fs[7].(map[string]any)
	stats := doc["stats"].(map[string]any)
	tests := []struct {
		got, want any
	}{
		{f0["rule_id"], "lofty-api-key"},
		{f0["confirmed"], true},
		{f0["status"], "active"},
		{f0["expires_at"], "2027-01-02T15:04:05Z"},
		{f0["severity"], "high"},
		{f2["severity"], "low"},
		{f2["date"], "2024-05-06T08:00:00Z"},
		{f2["in_head"], false},
		{f3["verification"], "unknown"},
		{f3["verification_reason"], "rate limited"},
		{f4["severity"], "critical"},
		{f4["verification"], "live"},
		{f5["severity"], "low"}, // rejected by Lofty
		{f5["verification"], "invalid"},
		{f6["suppressed"], "inline loftyscan:allow"},
		{f7["suppressed"], ".loftyscanignore:3: revoked 2024"},
		{stats["findings"], 6.0},
		{stats["suppressed"], 2.0},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %v, want %v", i, tt.got, tt.want)
		}
	}
}
