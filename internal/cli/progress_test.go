package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/scanner"
)

func TestProgressOnlyOnATerminal(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	e := env{stderr: &buf, getenv: func(string) string { return "" }}
	if progressWanted(e, false) {
		t.Error("progress wanted on a buffer")
	}
	ci := env{stderr: &buf, getenv: func(k string) string {
		if k == "CI" {
			return "true"
		}
		return ""
	}}
	if progressWanted(ci, false) {
		t.Error("progress wanted in CI")
	}
}

func TestProgressLine(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := &scanner.Progress{}
	p.Done.Store(12)
	p.Bytes.Store(3_400_000)
	pl := &progressLine{w: &buf, p: p, start: time.Now().Add(-2 * time.Second), unit: "files", done: make(chan struct{})}
	pl.draw()
	if !strings.HasPrefix(buf.String(), "\r\033[Kscanning: 12 files (") || !strings.Contains(buf.String(), "3.4 MB at ") {
		t.Errorf("progress line %q", buf.String())
	}
	buf.Reset()
	pl.printWarning(&buf, "a.zip: corrupt")
	if got := buf.String(); got != "\r\033[Kloftyscan: warning: a.zip: corrupt\n" {
		t.Errorf("warning printed as %q: the progress line must be erased first", got)
	}
	buf.Reset()
	pl.stop()
	if buf.Len() != 0 {
		t.Errorf("stop after a warning wrote %q; the line was already erased", buf.String())
	}
	var nilLine *progressLine
	nilLine.printWarning(&buf, "x")
	nilLine.stop()
}

// The progress line says how far and how long is left when the total is
// known, and the pace when it is not; it fits 80 columns.
func TestProgressText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		unit               string
		done, total, bytes int64
		elapsed            time.Duration
		want               string
	}{
		{"files", 0, 0, 0, 0, "scanning: 0 files (0/s), 0.0 MB at 0.0 MB/s, 0s"},
		{"files", 1234, 0, 12_300_000, 5 * time.Second, "scanning: 1,234 files (246/s), 12.3 MB at 2.5 MB/s, 5s"},
		{"blobs", 1234, 5678, 12_300_000, 4 * time.Second, "scanning: 1,234/5,678 blobs (21%), 12.3 MB at 3.1 MB/s, about 14s left"},
		{"files", 10, 1000, 1000, 500 * time.Millisecond, "scanning: 10/1,000 files (1%), 0.0 MB at 0.0 MB/s"}, // too soon to tell
		{"files", 0, 1000, 0, 3 * time.Second, "scanning: 0/1,000 files (0%), 0.0 MB at 0.0 MB/s"},             // nothing done: no pace yet
		{"blobs", 1_000_000, 4_000_000, 9_876_000_000, 10 * time.Minute, "scanning: 1,000,000/4,000,000 blobs (25%), 9.88 GB at 16.5 MB/s, about 30m left"},
		{"blobs", 1, 100, 1, 2 * time.Hour, "scanning: 1/100 blobs (1%), 0.0 MB at 0.0 MB/s, about 198h0m left"},
		{"blobs", 120, 100, 1e6, 2 * time.Second, "scanning: 120 blobs (60/s), 1.0 MB at 0.5 MB/s, 2s"}, // past the estimate
	}
	for _, tt := range tests {
		got := progressText(tt.unit, tt.done, tt.total, tt.bytes, tt.elapsed)
		if got != tt.want {
			t.Errorf("progressText(%d/%d, %v) =\n%q, want\n%q", tt.done, tt.total, tt.elapsed, got, tt.want)
		}
		if len(got) > 80 {
			t.Errorf("%q is %d columns", got, len(got))
		}
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
	for d, want := range map[time.Duration]string{0: "0s", 1400 * time.Millisecond: "1s", 59 * time.Second: "59s", 90 * time.Second: "2m", 61 * time.Minute: "1h1m", 3 * time.Hour: "3h0m"} {
		if got := roughDuration(d); got != want {
			t.Errorf("roughDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, out, _ := runInProcess(t, "", "completion", shell)
		if code != 0 || !strings.Contains(out, "loftyscan") {
			t.Errorf("completion %s: exit %d, %d bytes", shell, code, len(out))
		}
	}
	code, out, _ := runInProcess(t, "", "__complete", "dir", "--format", "")
	if code != 0 || !strings.Contains(out, "sarif") || !strings.Contains(out, "gitlab") {
		t.Errorf("--format completion: exit %d, %q", code, out)
	}
}
