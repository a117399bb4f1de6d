package reporters

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The counts are NAME=INTEGER lines, a GitHub Actions output file and a
// shell script at once, and the groups add up to the findings.
func TestCounts(t *testing.T) {
	t.Parallel()
	for _, r := range []Report{sampleReport(), cleanReport(), suppressedOnlyReport()} {
		out := string(render(t, FormatCounts, Options{}, r))
		counts := map[string]int64{}
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			m := regexp.MustCompile(`^([a-z_]+)=(0|[1-9][0-9]*)$`).FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("line %q is not NAME=COUNT", line)
			}
			counts[m[1]], _ = strconv.ParseInt(m[2], 10, 64)
		}
		if sum := counts["live"] + counts["active"] + counts["unconfirmed"] + counts["rejected"] + counts["expired"]; sum != counts["findings"] {
			t.Errorf("the groups add up to %d, findings=%d", sum, counts["findings"])
		}
		if counts["findings"] != r.Stats.Findings || counts["suppressed"] != r.Stats.Suppressed || counts["files"] != r.Stats.Files {
			t.Errorf("counts %v disagree with the stats %+v", counts, r.Stats)
		}
	}
}
