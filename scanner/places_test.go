package scanner

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestFindingsPerFile scans a file with one key on 500 lines, and one with
// more distinct keys than a file may report: each gives its first places,
// a warning that counts the rest (saying which are more places of keys
// already reported and which are of keys reported nowhere), and the same
// keys as before.
func TestFindingsPerFile(t *testing.T) {
	t.Parallel()
	repeated := strings.Repeat("LOFTY_API_KEY="+keyActive+"\n", 500)
	var many strings.Builder
	for i := range maxFindingsPerFile + 50 { // allowed inline: a key that counts is listed past the cap
		many.WriteString("LOFTY_API_KEY=" + keyN(i) + " # loftyscan:allow test fixture\n")
	}
	for _, tc := range []struct {
		name     string
		content  string
		findings int
		dropped  string
	}{
		{"one key 500 times", repeated, maxPlacesPerKey, "400 more findings were not reported: 400 are more places of keys already reported"},
		// Keys past the cap were reported nowhere: the warning must not
		// call them more places of keys already shown.
		{"too many keys", many.String(), maxFindingsPerFile, "50 more findings were not reported: 50 are of keys reported nowhere else"},
	} {
		c := &Collector{}
		w := New(testOptions()).Start(c).NewWorker()
		if err := w.ScanBytes(context.Background(), "keys.env", []byte(tc.content)); err != nil {
			t.Fatal(err)
		}
		if len(c.Findings) != tc.findings {
			t.Errorf("%s: %d findings, want %d", tc.name, len(c.Findings), tc.findings)
		}
		if len(c.Warnings) != 1 || c.Warnings[0].Path != "keys.env" || !strings.Contains(c.Warnings[0].Message, tc.dropped) {
			t.Errorf("%s: warnings %v; want one saying %q", tc.name, c.Warnings, tc.dropped)
		}
		// The worker's next file starts afresh.
		c.Findings, c.Warnings = nil, nil
		if err := w.ScanBytes(context.Background(), "one.env", []byte("LOFTY_API_KEY="+keyActive+"\n")); err != nil || len(c.Findings) != 1 || len(c.Warnings) != 0 {
			t.Errorf("%s: the next file: %d findings, %v, %v", tc.name, len(c.Findings), c.Warnings, err)
		}
	}
}

// TestFindingsPerRun scans files that each hold fewer distinct keys than a
// file may report, and more than a scan may report in all: the scan
// reports its first maxFindingsPerRun findings; past them, more places of
// keys it showed and keys allowed inline are not reported, with one
// warning counted as an error, but a key not shown yet is (allowed keys
// must not crowd out the key a change adds and make its report clean).
func TestFindingsPerRun(t *testing.T) {
	t.Parallel()
	c := &Collector{}
	r := New(testOptions()).Start(c)
	w := r.NewWorker()
	scan := func(name string, lines []string) {
		if err := w.ScanBytes(context.Background(), name, []byte(strings.Join(lines, "\n")+"\n")); err != nil {
			t.Fatal(err)
		}
	}
	key := 0
	for f := 0; key < maxFindingsPerRun; f++ {
		var lines []string
		for range maxFindingsPerFile / 2 {
			lines = append(lines, "LOFTY_API_KEY="+keyN(key))
			key++
		}
		scan(fmt.Sprintf("keys%d.env", f), lines)
	}
	scan("again.env", []string{"LOFTY_API_KEY=" + keyN(0), "LOFTY_API_KEY=" + keyN(1)})
	var allowed []string
	for range 30 {
		allowed = append(allowed, "LOFTY_API_KEY="+keyN(key)+" # loftyscan:allow test fixture")
		key++
	}
	scan("allowed.env", allowed)
	scan("new.env", []string{"LOFTY_API_KEY=" + keyN(key)})
	if len(c.Findings) != maxFindingsPerRun+1 {
		t.Errorf("%d findings, want %d", len(c.Findings), maxFindingsPerRun+1)
	}
	if last := c.Findings[len(c.Findings)-1]; last.Path != "new.env" || last.Suppressed != "" {
		t.Errorf("the last finding is at %s (suppressed %q), want the key of new.env", last.Path, last.Suppressed)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].Message, fmt.Sprintf("more than %d findings", maxFindingsPerRun)) || r.Stats().Errors != 1 {
		t.Errorf("warnings %v, %d errors; want one saying there were more, counted as an error", c.Warnings, r.Stats().Errors)
	}
}

// TestAllowedPlacesHideNoKey fills a file's caps with places of keys
// allowed inline (or, with --no-inline-allow, that count but could be
// accepted later, by a push option or an ignore entry) and puts a key
// after them: its place that counts is still reported. Past the keys a
// file lists beyond its cap, a key not listed is an error and a finding
// the scan did not list (a pre-receive hook rejects the push).
func TestAllowedPlacesHideNoKey(t *testing.T) {
	t.Parallel()
	const allow = " # loftyscan:allow test fixture"
	decoys := func(keys, places int, comment string) []string {
		var lines []string
		for range places {
			for k := range keys {
				lines = append(lines, "K="+keyN(k)+comment)
			}
		}
		return lines
	}
	real := keyN(99_999)
	for _, tc := range []struct {
		name          string
		lines         []string
		noInlineAllow bool
		// want: the key real reported once, counting; lost: findings
		// the file could not list that count.
		want bool
		lost int
	}{
		{"10,000 allowed places of 100 keys", append(decoys(100, 100, allow), "REAL="+real), false, true, 0},
		{"the same key allowed 150 times first", append(slices.Repeat([]string{"K=" + real + allow}, 150), "REAL="+real), false, true, 0},
		{"decoys that count (--no-inline-allow)", append(decoys(100, 100, allow), "REAL="+real), true, true, 0},
		{"past the keys listed beyond the cap", append(decoys(maxFindingsPerFile+maxNewKeysPastFile, 1, ""), "REAL="+real), false, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := testOptions()
			opts.NoInlineAllow = tc.noInlineAllow
			c := &Collector{}
			r := New(opts).Start(c)
			if err := r.NewWorker().ScanBytes(context.Background(), "fixtures.env", []byte(strings.Join(tc.lines, "\n")+"\n")); err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, f := range c.Findings {
				if f.Secret == real && f.Suppressed == "" {
					got = append(got, f.Line)
				}
			}
			if tc.want && (len(got) != 1 || got[0] != len(tc.lines)) {
				t.Errorf("the key of the last line (%d) reported, counting, at lines %v; want it once, there", len(tc.lines), got)
			}
			if !tc.want && len(got) != 0 {
				t.Errorf("the key reported at lines %v; want it past every cap", got)
			}
			if errs, dropped := r.Stats().Errors, r.FindingsDropped(); errs != int64(min(tc.lost, 1)) || dropped != tc.lost {
				t.Errorf("%d errors, %d findings dropped; want %d and %d (warnings %v)", errs, dropped, min(tc.lost, 1), tc.lost, c.Warnings)
			}
		})
	}
}
