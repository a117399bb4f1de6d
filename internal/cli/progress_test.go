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
	p.Files.Store(12)
	p.Bytes.Store(3_400_000)
	pl := &progressLine{w: &buf, p: p, start: time.Now().Add(-2 * time.Second), unit: "files", done: make(chan struct{})}
	pl.draw()
	if !strings.Contains(buf.String(), "scanning: 12 files, 3.4 MB") {
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
