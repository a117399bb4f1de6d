package rules

import "testing"

func TestHasAllowComment(t *testing.T) {
	t.Parallel()
	tok := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
	tests := []struct {
		text string
		want bool
	}{
		{`KEY="` + tok + `" # loftyscan:allow`, true},
		{`// loftyscan:allow revoked in 2024` + "\n" + `KEY="` + tok + `"`, false}, // the line above does not count
		{`KEY="` + tok + `"` + "\n# loftyscan:allow", false},                       // nor the line below
		{`/* loftyscan:allow */ const k = "` + tok + `"`, true},
		{`KEY="` + tok + `"`, false},
	}
	for _, tc := range tests {
		buf := []byte(tc.text)
		c := FindCandidates(buf)
		if len(c) != 1 {
			t.Fatalf("%q: %d candidates", tc.text, len(c))
		}
		if got := HasAllowComment(buf, c[0].Start, c[0].End); got != tc.want {
			t.Errorf("%q: HasAllowComment = %v, want %v", tc.text, got, tc.want)
		}
	}
}
