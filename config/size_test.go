package config

import (
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{"0", 0, ""},
		{"1048576", 1 << 20, ""},
		{"10B", 10, ""},
		{"1KB", 1000, ""},
		{"1KiB", 1024, ""},
		{"256MiB", 256 << 20, ""},
		{"256 MiB", 256 << 20, ""},
		{"2MB", 2_000_000, ""},
		{"1GiB", 1 << 30, ""},
		{"1gib", 1 << 30, ""},
		{"3GB", 3_000_000_000, ""},
		{" 5KiB ", 5 << 10, ""},
		{"8589934591GiB", 1<<63 - 1<<30, ""},
		{"8589934592GiB", 0, "too large"},
		{"99999999999999999999", 0, "too large"},
		{"-1", 0, "negative"},
		{"-1MiB", 0, "negative"},
		{"1.5GiB", 0, "whole number"},
		{"", 0, "not a size"},
		{"MiB", 0, "not a size"},
		{"lots", 0, "not a size"},
		{"5TB", 0, "unknown unit"},
		{"5 M", 0, "unknown unit"},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ParseSize(%q) error = %v, want it to contain %q", tt.in, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("ParseSize(%q): %v", tt.in, err)
		case got != tt.want:
			t.Errorf("ParseSize(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
