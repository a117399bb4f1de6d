package reporters

import (
	"strings"
	"testing"
	"time"
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
}

// Scanned content must not be able to drive the terminal: a commit message
// or path holding escape sequences is printed escaped, even in colour.
func TestTerminalSanitizes(t *testing.T) {
	t.Parallel()
	out := string(render(t, FormatTerminal, Options{Color: true}, sampleReport()))
	for _, bad := range []string{"\x1b[2J", "\x1b[31mred", "\u202e"} {
		if strings.Contains(out, bad) {
			t.Errorf("output holds %q from scanned content", bad)
		}
	}
	if !strings.Contains(out, `\x1b[31mred\u202e`) {
		t.Errorf("escaped commit message missing:\n%s", out)
	}
}

func TestTerminalSummary(t *testing.T) {
	t.Parallel()
	out := string(render(t, FormatTerminal, Options{}, sampleReport()))
	want := "4 findings (2 Lofty API keys, 2 unconfirmed tokens) in 13 files, 1.2 MB, 15ms; 1 error, see the warnings\n"
	if !strings.Contains(out, want) {
		t.Errorf("summary missing %q:\n%s", want, out)
	}
	if !strings.Contains(out, "Settings → Integrations → API") {
		t.Errorf("no next step:\n%s", out)
	}
	clean := string(render(t, FormatTerminal, Options{}, cleanReport()))
	if want := "no Lofty keys found in 13 files, 48.2 kB, 2ms\n"; clean != want {
		t.Errorf("clean output = %q, want %q", clean, want)
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
