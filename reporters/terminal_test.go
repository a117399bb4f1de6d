package reporters

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testleak"
	"github.com/loftyscan/loftyscan/rules"
)

func TestTerminalColor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		report Report
	}{
		{"findings", sampleReport()},
		{"clean", cleanReport()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			plain := string(render(t, FormatTerminal, Options{}, tt.report))
			colored := string(render(t, FormatTerminal, Options{Color: true}, tt.report))
			if strings.Contains(plain, "\x1b[") {
				t.Errorf("escape codes with Color false:\n%s", plain)
			}
			if !strings.Contains(colored, "\x1b[") {
				t.Errorf("no escape codes with Color true:\n%s", colored)
			}
		})
	}
	// Red bold for live keys, red for active ones, yellow for unconfirmed
	// tokens, dim for expired and suppressed ones.
	out := string(render(t, FormatTerminal, Options{Color: true, Now: fixedNow}, sampleReport()))
	const redBold, red, yellow, dim = "\x1b[31;1m", "\x1b[31m", "\x1b[33m", "\x1b[2m"
	for _, want := range []string{
		redBold + "LIVE KEYS (1)\x1b[",
		redBold + "[critical]\x1b[",
		redBold + "LIVE: Lofty accepted this key\x1b[",
		red + "ACTIVE KEYS (1)\x1b[",
		red + "[high]\x1b[",
		yellow + "UNCONFIRMED TOKENS IN LOFTY CONTEXT (2)\x1b[",
		yellow + "[medium]\x1b[",
		dim + "EXPIRED (1)\x1b[",
		dim + "[low]\x1b[",
		dim + "SUPPRESSED (2)\x1b[",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// The suppressed findings, a high and a medium one, are dim.
	if strings.Count(out, dim+"[high]\x1b[") != 1 || strings.Count(out, dim+"[medium]\x1b[") != 1 {
		t.Errorf("suppressed findings are not dim:\n%q", out)
	}
}

// Scanned content must not be able to drive the terminal: a commit message
// or path holding escape sequences is printed escaped, even in colour.
func TestTerminalSanitizes(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	// The sub claim comes from the token, the reason for an ignore from a
	// file in the repository, the verification reason from the network.
	r.Findings[0].Subject = "agent\x1b[8m"
	r.Findings[7].Suppressed = ".loftyscanignore:3: \x1b]0;title\x07"
	r.Findings[3].VerificationReason = "network error: \u202ereversed"
	out := string(render(t, FormatTerminal, Options{Color: true}, r))
	for _, bad := range []string{"\x1b[2J", "\x1b[31mred", "\u202e", "\x1b[8m", "\x1b]0", "\x07"} {
		if strings.Contains(out, bad) {
			t.Errorf("output holds %q from scanned content", bad)
		}
	}
	for _, want := range []string{`\x1B[31mred\u202E`, `agent\x1B[8m`, `\x1B]0;title\x07`, `\u202Ereversed`} {
		if !strings.Contains(out, want) {
			t.Errorf("escaped text %s missing:\n%s", want, out)
		}
	}
}

func TestTerminalSummary(t *testing.T) {
	t.Parallel()
	out := oneLine(string(render(t, FormatTerminal, Options{Now: fixedNow}, sampleReport())))
	want := "6 findings (1 live key, 1 active key, 2 unconfirmed tokens, 1 rejected key, 1 expired token) and 2 suppressed " +
		"in 13 files (1.2 MB, 15ms); 1 error, see the warnings What to do:"
	if !strings.Contains(out, want) {
		t.Errorf("summary missing %q:\n%s", want, out)
	}
	clean := string(render(t, FormatTerminal, Options{}, cleanReport()))
	if want := "no Lofty keys found in 13 files (48.2 kB, 2ms)\n"; clean != want {
		t.Errorf("clean output = %q, want %q", clean, want)
	}
	r := cleanReport()
	r.Stats.Suppressed = 3
	clean = string(render(t, FormatTerminal, Options{}, r))
	if want := "no Lofty keys found (3 suppressed) in 13 files (48.2 kB, 2ms)\n"; clean != want {
		t.Errorf("clean output = %q, want %q", clean, want)
	}
}

// Findings come grouped, most urgent first, each group under a heading
// with its count.
func TestTerminalGroups(t *testing.T) {
	t.Parallel()
	out := string(render(t, FormatTerminal, Options{Now: fixedNow}, sampleReport()))
	// Each heading, then the paths of the findings under it.
	order := []string{
		"LIVE KEYS (1)\n", "src/lofty/client.py:42:15",
		"ACTIVE KEYS (1)\n", "config/.env:3:19",
		"UNCONFIRMED TOKENS IN LOFTY CONTEXT (2)\n", "outer.zip!inner/dir/file name.env:1:9", "docs/réunion: notes.md:7:1",
		"REJECTED BY LOFTY (1)\n", "scripts/sync.sh:5:27",
		"EXPIRED (1)\n", "deploy/k8s/secret.yaml:12:21",
		"SUPPRESSED (2)\n", "test/fixtures/keys.env:2:13", "docs/example.md:9:5",
		"6 findings",
	}
	rest := out
	for _, s := range order {
		i := strings.Index(rest, s)
		if i < 0 {
			t.Fatalf("%q missing or out of order:\n%s", s, out)
		}
		rest = rest[i+len(s):]
	}
	// A group with no findings has no heading.
	r := sampleReport()
	r.Findings = r.Findings[:1]
	out = string(render(t, FormatTerminal, Options{Now: fixedNow}, r))
	for _, h := range []string{"LIVE", "UNCONFIRMED", "REJECTED", "EXPIRED", "SUPPRESSED"} {
		if strings.Contains(out, h) {
			t.Errorf("heading %s without findings:\n%s", h, out)
		}
	}
}

// Each block says what a person needs to act: the account, when the key
// expires in plain words, what Lofty said, why it is suppressed.
func TestTerminalBlock(t *testing.T) {
	t.Parallel()
	out := string(render(t, FormatTerminal, Options{Now: fixedNow}, sampleReport()))
	for _, want := range []string{
		"account     agent-2002\n",
		"expiry      expires in 21 months (2027-01-02)\n",
		"expiry      expires in 5 days (2025-03-09)\n",
		"expiry      expired 2023-11-14\n",
		"expiry      no expiry: valid until revoked\n",
		"verified    LIVE: Lofty accepted this key\n",
		"verified    invalid: Lofty rejected it (revoked or expired)\n",
		"verified    unknown: rate limited\n",
		"suppressed  inline loftyscan:allow\n",
		"suppressed  .loftyscanignore:3: revoked 2024\n",
		"encoding    base64\n",
		"commit      1a2b3c4 by Jane Doe <jane@example.com>, 2024-05-06 08:00 UTC\n",
		"in HEAD     no, only in history\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// oneLine joins the lines of out with single spaces, so that a test can
// look for a sentence wherever the wrapping broke it.
func oneLine(out string) string { return strings.Join(strings.Fields(out), " ") }

// What to do next depends on what was found, and on what was scanned.
func TestTerminalNextSteps(t *testing.T) {
	t.Parallel()
	const (
		revoke   = "1. Revoke each key in Lofty → Settings → Integrations → API and create a new one"
		remove   = "2. Remove it from the files, and read keys from the environment or a secret manager instead."
		whose    = "find out whose it is"
		whoseAll = "Find out whose each unconfirmed token is"
		dead     = "nothing to revoke"
		verify   = "hint: --verify"
		accept   = "'loftyscan baseline create'"
		ignore   = "add its fingerprint to .loftyscanignore"
	)
	pick := func(mode Mode, idx ...int) Report {
		r := sampleReport()
		var fs []finding.Finding
		for _, i := range idx {
			fs = append(fs, r.Findings[i])
		}
		r.Findings = fs
		r.Mode = mode
		return r
	}
	unverified := func(r Report) Report {
		for i := range r.Findings {
			r.Findings[i].Verification, r.Findings[i].VerificationReason = "", ""
		}
		return r
	}
	tests := []struct {
		name      string
		report    Report
		want, not []string
	}{
		{"active key, not verified", pick(ModeFiles, 0), []string{revoke, remove, "'loftyscan git' finds the commits", verify, accept}, []string{whose, dead}},
		{"live key", pick(ModeFiles, 4), []string{revoke, remove, accept}, []string{verify, dead}},
		{"key and unconfirmed token", pick(ModeFiles, 0, 1), []string{revoke, whose, verify}, []string{whoseAll}},
		{"unconfirmed only", unverified(pick(ModeFiles, 1, 3)), []string{"1. " + whoseAll, remove, verify, accept}, []string{revoke, dead}},
		{"expired only", pick(ModeFiles, 2), []string{dead, accept}, []string{revoke, whose, verify}},
		{"rejected and expired", pick(ModeFiles, 5, 2), []string{dead, "(rejected and expired)"}, []string{revoke, verify}},
		{"live and expired", pick(ModeFiles, 4, 2), []string{revoke, "The expired ones no longer work"}, []string{verify}},
		{"suppressed only", suppressedOnlyReport(), []string{"no Lofty keys found (2 suppressed)"}, []string{revoke, dead, verify, accept, "What to do"}},

		// A baseline is made of folders; history is accepted with a JSON
		// report of its own, and a commit being made is fixed before it
		// is committed.
		{"history", pick(ModeHistory, 0), []string{revoke + ": every clone", "git filter-repo --replace-text) and force-push", ignore,
			"'loftyscan git --report json=.loftyscan-baseline.json' and scan with --baseline .loftyscan-baseline.json",
			"land the entry on the base branch first"}, []string{accept, "finds the commits"}},
		{"staged", pick(ModeStaged, 0), []string{"1. Remove the key from the file, read it from the environment instead, and stage the file again.",
			"Nothing is committed yet.", "If the key was ever pushed or shared, also revoke it", "loftyscan:allow comment", "commit its fingerprint to .loftyscanignore", "in a commit of its own first"}, []string{revoke, accept, "history"}},
		{"staged unconfirmed", unverified(pick(ModeStaged, 1)), []string{"1. " + whoseAll, "2. Remove the key from the file"}, []string{revoke, accept}},
		{"pre-push", pick(ModePrePush, 0), []string{revoke + ": it is committed", "2. Remove it from the commits before pushing (git rebase -i", ignore, "push that commit first", "loftyscan:allow comment"}, []string{accept, "stage the file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := oneLine(string(render(t, FormatTerminal, Options{Now: fixedNow}, tt.report)))
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Errorf("output has %q:\n%s", n, out)
				}
			}
		})
	}
}

// The terminal report fits 80 columns, in every mode and with every kind
// of finding: only a line that holds a finding's path, which is never cut
// so that it can be copied whole, may be longer.
func TestTerminalWidth(t *testing.T) {
	t.Parallel()
	long := sampleReport()
	long.Findings[0].Path = "services/billing/integrations/lofty/internal/config/environments/production.env"
	long.Findings[1].Message = strings.Repeat("a long commit message that goes on ", 6) + " ::error title=x::wrapped onto a line of its own?"
	long.Findings[1].Commit, long.Findings[1].Author, long.Findings[1].Email = "0123456789abcdef0123456789abcdef01234567", "Maria-Magdalena Oberhauser-Winterstein", "maria-magdalena.oberhauser-winterstein@example.com"
	long.Findings[6].Suppressed = ".loftyscanignore:12: revoked in March after the incident review, kept as a fixture for the parser tests"
	long.Findings[4].Subject = strings.Repeat("x", 90) // one word longer than a line: kept whole
	reports := map[string]Report{"sample": sampleReport(), "long": long, "clean": cleanReport(), "suppressed": suppressedOnlyReport(), "change": changeReport()}
	for name, r := range reports {
		for _, mode := range []Mode{ModeFiles, ModeHistory, ModeStaged, ModePrePush} {
			r.Mode = mode
			for _, opts := range []Options{{Now: fixedNow}, {Now: fixedNow, Color: true}, {Now: fixedNow, ShowSecrets: true}} {
				out := string(render(t, FormatTerminal, opts, r))
				out = regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(out, "")
				testleak.CheckDisplaySafe(t, "terminal", out) // no wrapped line starts a workflow command
				for _, line := range strings.Split(out, "\n") {
					if utf8.RuneCountInString(line) <= lineWidth || unbreakable(line, r) || strings.Contains(line, " ::error") {
						continue
					}
					t.Errorf("%s, mode %d: line of %d columns:\n%s", name, mode, utf8.RuneCountInString(line), line)
				}
			}
		}
	}
}

// unbreakable reports whether a line longer than lineWidth is allowed: the
// line of a finding's path, or a field whose value is one word too long
// for a line.
func unbreakable(line string, r Report) bool {
	for _, f := range r.Findings {
		if strings.TrimSpace(line) == fmt.Sprintf("%s:%d:%d", f.Path, f.Line, f.Column) {
			return true
		}
	}
	for _, w := range strings.Fields(line) {
		if utf8.RuneCountInString(w) > lineWidth-(4+fieldWidth+1) {
			return true
		}
	}
	return false
}

func TestDescribeExpiryFrom(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	at := func(s rules.Status, exp time.Time) finding.Finding { return finding.Finding{Status: s, ExpiresAt: exp} }
	tests := []struct {
		f    finding.Finding
		want string
	}{
		{at(rules.StatusNoExpiry, time.Time{}), "no expiry: valid until revoked"},
		{at(rules.StatusActive, now.AddDate(3, 0, 0)), "expires in 3 years (2029-11-26)"},
		{at(rules.StatusActive, now.AddDate(2, 11, 30)), "expires in 2 years (2029-11-25)"},
		{at(rules.StatusActive, now.AddDate(1, 11, 0)), "expires in 23 months (2028-10-26)"},
		{at(rules.StatusActive, now.AddDate(0, 2, 0)), "expires in 2 months (2027-01-26)"},
		{at(rules.StatusActive, now.AddDate(0, 2, -1)), "expires in 60 days (2027-01-25)"},
		{at(rules.StatusActive, now.AddDate(0, 0, 5)), "expires in 5 days (2026-12-01)"},
		{at(rules.StatusActive, now.Add(30*time.Hour)), "expires in 30 hours (2026-11-27 15:30 UTC)"},
		{at(rules.StatusActive, now.Add(90*time.Minute)), "expires in 1 hour (2026-11-26 11:00 UTC)"},
		{at(rules.StatusActive, now.Add(45*time.Minute+30*time.Second)), "expires in 45 minutes (2026-11-26 10:15 UTC)"},
		{at(rules.StatusActive, now.Add(20*time.Second)), "expires in less than a minute (2026-11-26 09:30 UTC)"},
		{at(rules.StatusActive, now.Add(-time.Hour)), "expired 2026-11-26"}, // expired since the scan
		{at(rules.StatusExpired, time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)), "expired 2023-11-14"},
		{at(rules.StatusActive, now.In(time.FixedZone("X", 14*3600)).AddDate(0, 0, 5)), "expires in 5 days (2026-12-01)"},
		{at(rules.StatusActive, time.Time{}), "active"},
		{at(rules.StatusExpired, time.Time{}), "expired"},
	}
	for _, tt := range tests {
		if got := describeExpiryFrom(tt.f, now); got != tt.want {
			t.Errorf("describeExpiryFrom(%s, %v) = %q, want %q", tt.f.Status, tt.f.ExpiresAt, got, tt.want)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{999, "999 B"},
		{1000, "1.0 kB"},
		{1_234_567, "1.2 MB"},
		{5_000_000_000, "5.0 GB"},
	}
	for _, tt := range tests {
		if got := formatBytes(tt.n); got != tt.want {
			t.Errorf("formatBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{850400 * time.Nanosecond, "850µs"},
		{15300 * time.Microsecond, "15ms"},
		{1234567 * time.Microsecond, "1.23s"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.d); got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
