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
	if got := slices.Sorted(maps.Keys(doc)); !slices.Equal(got, []string{"findings", "stats"}) {
		t.Errorf("top-level keys = %v", got)
	}
	stats := doc["stats"].(map[string]any)
	wantStats := []string{"bytes", "duration", "duration_ms", "errors", "files", "findings", "skipped", "warnings"}
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
	git := []string{"author", "commit", "date", "email", "in_head", "message"}
	tests := []struct {
		show bool
		want [][]string // extra keys per finding of sampleReport
	}{
		{false, [][]string{
			{"subject"},
			{"encoding", "subject"},
			git,
			git,
		}},
		{true, [][]string{
			{"subject", "secret"},
			{"encoding", "subject", "secret"},
			append(slices.Clone(git), "secret"),
			append(slices.Clone(git), "secret"),
		}},
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
	f0 := doc["findings"].([]any)[0].(map[string]any)
	f2 := doc["findings"].([]any)[2].(map[string]any)
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
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %v, want %v", i, tt.got, tt.want)
		}
	}
}
