package cli

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// parseSince reads --since as git reads a date (its "approxidate"), in
// the forms people write:
//
//   - a date, 2024-01-31 (from local midnight), a date and time
//     (2024-01-31 12:00, 2024-01-31T12:00:00), RFC 3339, or @UNIX-SECONDS
//     (see numericDate for 2024-1-5, 2024/01/31 and a bare number);
//   - a time ago: "2 weeks ago", "2.weeks.ago", "2.weeks" (ago is
//     optional, as for git), "1 year 2 months ago", "three days ago",
//     "a week ago", "last week", "last month"; units from seconds to years;
//   - a day: "now", "today", "yesterday", "midnight", "noon", a weekday
//     ("monday", "last friday": the last such day before today), or one of
//     them with a time ago ("yesterday noon").
//
// Where git keeps the time of day ("yesterday" is 24 hours ago for git),
// a named day here starts at midnight: the scan then covers the whole
// day, more than git's, never less. Unlike git, which reads a word it does
// not know as "now" and so silently scans nothing, any other word is an
// error. Midnight is in now's location.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if secs, ok := strings.CutPrefix(s, "@"); ok {
		if n, err := strconv.ParseInt(secs, 10, 64); err == nil {
			return time.Unix(n, 0), nil
		}
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			return t, nil
		}
	}
	if t, ok, err := numericDate(s, now); ok || err != nil {
		return t, err
	}
	t, err := approxidate(strings.ToLower(s), now)
	if err != nil {
		return time.Time{}, &cliError{err: fmt.Errorf("--since %q is not a date: %w", s, err),
			hint: `use a date (2024-01-31), a time ago ("2 weeks ago", "3.days"), or yesterday, today, "last monday"`}
	}
	return t, nil
}

var (
	ymdDate     = regexp.MustCompile(`^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$`)
	dayMonthish = regexp.MustCompile(`^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$`)
	allDigits   = regexp.MustCompile(`^\d+$`)
)

// numericDate reads the forms of a date written in digits that the
// layouts of parseSince do not take: a year-month-day with one-digit month
// or day, or slashes (2024-1-5, 2024/01/31), and seconds since 1970 as a
// bare number of 9 digits or more, as git reads them. A day of no calendar
// (2024-13-45), a day and month in either order (01/02/2024: git reads it
// as January 2nd, and 01.02.2024 as February 1st) and a shorter number are
// errors that say how to write the date. ok is false for anything else.
func numericDate(s string, now time.Time) (t time.Time, ok bool, err error) {
	fail := func(why, hint string) (time.Time, bool, error) {
		return time.Time{}, false, &cliError{err: fmt.Errorf("--since %q is not a date: %s", s, why), hint: hint}
	}
	const ymdHint = "write the day as YYYY-MM-DD (2024-01-31), optionally with a time (2024-01-31 12:00)"
	switch {
	case ymdDate.MatchString(s):
		m := ymdDate.FindStringSubmatch(s)
		y, _ := strconv.Atoi(m[1])
		mon, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		t := time.Date(y, time.Month(mon), d, 0, 0, 0, 0, now.Location())
		if mon < 1 || mon > 12 || t.Day() != d {
			return fail("no month has that day (it reads as year-month-day)", ymdHint)
		}
		return t, true, nil
	case dayMonthish.MatchString(s):
		return fail("the order of day and month differs from place to place", ymdHint)
	case allDigits.MatchString(s):
		if len(s) >= 9 {
			n, err := strconv.ParseInt(s, 10, 64)
			if err == nil {
				return time.Unix(n, 0), true, nil
			}
		}
		return fail("a number alone is not a day", ymdHint+"; or seconds since 1970 as @SECONDS (@1706659200)")
	}
	return time.Time{}, false, nil
}

// approxidate reads the relative forms of parseSince.
func approxidate(s string, now time.Time) (time.Time, error) {
	words := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) == 0 {
		return time.Time{}, fmt.Errorf("no date in it")
	}
	t := now
	midnight := func(t time.Time) time.Time {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		n, isNumber := number(w)
		switch {
		case w == "ago" || w == "now":
		case w == "today" || w == "midnight":
			t = midnight(t)
		case w == "yesterday":
			t = midnight(t).AddDate(0, 0, -1)
		case w == "noon":
			t = midnight(t).Add(12 * time.Hour)
			if t.After(now) {
				t = t.AddDate(0, 0, -1)
			}
		case isNumber || w == "last":
			if w == "last" {
				n = 1
			}
			if i+1 == len(words) {
				return time.Time{}, fmt.Errorf("%q is not followed by a unit (days, weeks...)", w)
			}
			i++
			if day, ok := weekday(words[i]); ok && w == "last" {
				t = lastWeekday(midnight(t), day)
				continue
			}
			var ok bool
			if t, ok = back(t, n, words[i]); !ok {
				return time.Time{}, fmt.Errorf("%q is not a unit of time", words[i])
			}
		default:
			day, ok := weekday(w)
			if !ok {
				return time.Time{}, fmt.Errorf("%q is not a word of a date", w)
			}
			t = lastWeekday(midnight(t), day)
		}
	}
	return t, nil
}

// number reads a count: digits, or a number word from one to ten ("a" and
// "an" are one).
func number(w string) (int, bool) {
	if n, err := strconv.Atoi(w); err == nil {
		return n, n >= 0 && n <= 100_000
	}
	for i, name := range []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"} {
		if w == name {
			return i, true
		}
	}
	if w == "a" || w == "an" {
		return 1, true
	}
	return 0, false
}

// back returns t, n units earlier; unit is singular or plural, or an
// abbreviation git knows (sec, min).
func back(t time.Time, n int, unit string) (time.Time, bool) {
	unit = strings.TrimSuffix(unit, "s")
	switch unit {
	case "second", "sec":
		return t.Add(-time.Duration(n) * time.Second), true
	case "minute", "min":
		return t.Add(-time.Duration(n) * time.Minute), true
	case "hour":
		return t.Add(-time.Duration(n) * time.Hour), true
	case "day":
		return t.AddDate(0, 0, -n), true
	case "week":
		return t.AddDate(0, 0, -7*n), true
	case "month":
		return t.AddDate(0, -n, 0), true
	case "year":
		return t.AddDate(-n, 0, 0), true
	}
	return t, false
}

// weekday reads a day's name, whole or in three letters.
func weekday(w string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		if w == name || w == name+"s" || w == name[:3] {
			return d, true
		}
	}
	return 0, false
}

// lastWeekday is the midnight of the last day before the one of midnight
// that falls on day: a week earlier when that day is today.
func lastWeekday(midnight time.Time, day time.Weekday) time.Time {
	back := (int(midnight.Weekday()) - int(day) + 7) % 7
	if back == 0 {
		back = 7
	}
	return midnight.AddDate(0, 0, -back)
}
