package cli

import (
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testgit"
)

func TestParseSince(t *testing.T) {
	t.Parallel()
	// A Saturday, mid-afternoon.
	now := time.Date(2024, 6, 15, 15, 30, 0, 0, time.UTC)
	day := func(m time.Month, d, h int) time.Time { return time.Date(2024, m, d, h, 0, 0, 0, time.UTC) }
	tests := map[string]time.Time{
		"2024-01-31":           day(1, 31, 0),
		"2024-01-31 10:00":     day(1, 31, 10),
		"2024-01-31T10:00:00Z": day(1, 31, 10),
		"@1700000000":          time.Unix(1700000000, 0),
		"now":                  now,
		"2 weeks ago":          now.AddDate(0, 0, -14),
		"2.weeks.ago":          now.AddDate(0, 0, -14),
		"2.weeks":              now.AddDate(0, 0, -14),
		"2 WEEKS AGO":          now.AddDate(0, 0, -14),
		"3.days.ago":           now.AddDate(0, 0, -3),
		"1 day":                now.AddDate(0, 0, -1),
		"1 month ago":          now.AddDate(0, -1, 0),
		"1 year 2 months ago":  now.AddDate(-1, -2, 0),
		"three days ago":       now.AddDate(0, 0, -3),
		"a week ago":           now.AddDate(0, 0, -7),
		"last week":            now.AddDate(0, 0, -7),
		"last month":           now.AddDate(0, -1, 0),
		"10 minutes ago":       now.Add(-10 * time.Minute),
		"90.secs.ago":          now.Add(-90 * time.Second),
		"5 hours":              now.Add(-5 * time.Hour),
		"today":                day(6, 15, 0),
		"midnight":             day(6, 15, 0),
		"yesterday":            day(6, 14, 0),
		"noon":                 day(6, 15, 12),
		"yesterday noon":       day(6, 14, 12),
		"last monday":          day(6, 10, 0),
		"monday":               day(6, 10, 0),
		"last saturday":        day(6, 8, 0), // today is a Saturday: the one before
		"fri":                  day(6, 14, 0),
		" 2 days ago ":         now.AddDate(0, 0, -2),
		// Digits git reads too: a one-digit month or day, slashes, and a
		// bare number of seconds since 1970 (9 digits or more).
		"2024-1-5":   day(1, 5, 0),
		"2024/01/31": day(1, 31, 0),
		"2024-2-29":  day(2, 29, 0),
		"1706659200": time.Unix(1706659200, 0),
	}
	for in, want := range tests {
		got, err := parseSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	// Words git would silently read as "now", scanning nothing, are errors.
	for _, bad := range []string{"", "someday", "2 fortnights ago", "ago 3", "last", "2", "2 weeks and a day", "2024-13-01"} {
		if got, err := parseSince(bad, now); err == nil {
			t.Errorf("parseSince(%q) = %v, want an error", bad, got)
		} else if !strings.Contains(err.Error(), "is not a date") {
			t.Errorf("parseSince(%q): %v", bad, err)
		}
	}
}

// TestParseSinceDigitsSayWhy: a date in digits that is not one says what is
// wrong with it and how to write it, not that "13" is not a unit of time.
func TestParseSinceDigitsSayWhy(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 6, 15, 15, 30, 0, 0, time.UTC)
	for in, why := range map[string]string{
		"2024-13-45": "no month has that day",
		"2024-02-30": "no month has that day",
		"2023-2-29":  "no month has that day",
		"31/01/2024": "the order of day and month",
		"01.02.2024": "the order of day and month",
		"20240131":   "a number alone is not a day",
	} {
		_, err := parseSince(in, now)
		var ce *cliError
		if !errors.As(err, &ce) {
			t.Errorf("parseSince(%q): %v, want a cliError", in, err)
			continue
		}
		if want := "--since " + strconv.Quote(in) + " is not a date: " + why; !strings.Contains(ce.err.Error(), want) {
			t.Errorf("parseSince(%q): %q, want it to hold %q", in, ce.err, want)
		}
		if !strings.Contains(ce.hint, "YYYY-MM-DD") {
			t.Errorf("parseSince(%q): hint %q does not say how to write a date", in, ce.hint)
		}
	}
}

// The relative forms mean what they mean to git: git rev-parse --since
// prints the time it reads, bracketed by ours from just before and just
// after it ran. Where we start a day at midnight and git keeps the time
// of day, ours is earlier: the scan covers at least what git's would.
func TestParseSinceAgainstGit(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, t.TempDir())
	env := append(r.Env(), "TZ=UTC")
	gitSince := func(expr string) time.Time {
		cmd := exec.Command("git", "rev-parse", "--since="+expr)
		cmd.Dir, cmd.Env = r.Dir, env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git rev-parse --since=%q: %v", expr, err)
		}
		secs, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(string(out)), "--max-age="), 10, 64)
		if err != nil {
			t.Fatalf("git rev-parse --since=%q printed %q", expr, out)
		}
		return time.Unix(secs, 0)
	}
	for _, c := range []struct {
		expr    string
		earlier bool // ours starts at midnight, git keeps the time of day
	}{
		{"now", false}, {"2 weeks ago", false}, {"2.weeks.ago", false}, {"2.weeks", false}, {"3 days", false},
		{"1 year 2 months ago", false}, {"three days ago", false}, {"last week", false}, {"last month", false},
		{"10 minutes ago", false}, {"1.day.ago", false}, {"5 hours ago", false}, {"4 years ago", false},
		{"yesterday", true}, {"last monday", true}, {"last friday", true},
		{"2024-1-5", true}, {"2024/01/31", true}, {"1706659200", false},
	} {
		before := time.Now().UTC()
		git := gitSince(c.expr)
		after := time.Now().UTC()
		lo, err1 := parseSince(c.expr, before)
		hi, err2 := parseSince(c.expr, after)
		if err1 != nil || err2 != nil {
			t.Fatalf("parseSince(%q): %v %v", c.expr, err1, err2)
		}
		lo, hi = lo.Truncate(time.Second), hi.Add(time.Second)
		switch {
		case c.earlier && hi.After(git):
			t.Errorf("%q: ours %v is after git's %v", c.expr, hi, git)
		case c.earlier && git.Sub(lo) > 24*time.Hour:
			t.Errorf("%q: ours %v is more than a day before git's %v", c.expr, lo, git)
		case !c.earlier && (git.Before(lo) || git.After(hi)):
			t.Errorf("%q: git reads %v, ours is between %v and %v", c.expr, git, lo, hi)
		}
	}
}
