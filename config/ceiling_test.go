package config

import (
	"strings"
	"testing"
)

func TestClamp(t *testing.T) {
	t.Parallel()
	big, zero, low := int64(1)<<62, int64(0), int64(5)
	entries := 2_000_000
	a := Archives{EntryBytes: &big, TotalBytes: &low, Ratio: &zero, Entries: &entries}
	msgs := a.Clamp("repo/.loftyscan.toml")
	if *a.EntryBytes != CeilingEntryBytes || *a.TotalBytes != 5 || *a.Ratio != CeilingRatio || *a.Entries != CeilingEntries {
		t.Errorf("clamped to %d %d %d %d", *a.EntryBytes, *a.TotalBytes, *a.Ratio, *a.Entries)
	}
	want := []string{
		"config repo/.loftyscan.toml: archives.entry_bytes = 4294967296GiB is above what a settings file may set: using 1GiB (only --max-entry-bytes goes further)",
		"config repo/.loftyscan.toml: archives.ratio = 0 (no check) is above what a settings file may set: using 1000 (only --max-ratio goes further)",
		"config repo/.loftyscan.toml: archives.entries = 2000000 is above what a settings file may set: using 1000000 (only --max-entries goes further)",
	}
	if strings.Join(msgs, "\n") != strings.Join(want, "\n") {
		t.Errorf("messages:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}
	// At the ceiling, or unset: nothing to say.
	ceil, ratio := CeilingTotalBytes, CeilingRatio
	b := Archives{TotalBytes: &ceil, Ratio: &ratio}
	if msgs := b.Clamp("c"); len(msgs) != 0 {
		t.Errorf("at the ceilings: %q", msgs)
	}
	var none Archives
	if msgs := none.Clamp("c"); len(msgs) != 0 {
		t.Errorf("unset: %q", msgs)
	}
}

func TestFormatSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{256 << 20: "256MiB", 1 << 30: "1GiB", 1000: "1000B", 3 << 10: "3KiB", 1<<30 + 1: "1073741825B"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
		if back, err := ParseSize(FormatSize(n)); err != nil || back != n {
			t.Errorf("ParseSize(FormatSize(%d)) = %d, %v", n, back, err)
		}
	}
}

func TestSkipsEverything(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		patterns []string
		want     bool
	}{
		{[]string{"**"}, true},
		{[]string{"*"}, true},
		{[]string{"/*"}, true},
		{[]string{"**/*"}, true},
		{[]string{"vendor/", "*"}, true},
		{[]string{"*", "!keep.env"}, true}, // every other path still goes
		{[]string{"*/"}, false},            // files at the top are scanned
		{[]string{"vendor/", "**/*.min.js"}, false},
		{[]string{"**", "!*.env"}, false},
		{nil, false},
	} {
		m, err := NewSkipMatcher(tt.patterns)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.SkipsEverything(); got != tt.want {
			t.Errorf("%q: SkipsEverything %v, want %v", tt.patterns, got, tt.want)
		}
	}
	var m *SkipMatcher
	if m.SkipsEverything() {
		t.Error("a nil matcher skips everything")
	}
}
