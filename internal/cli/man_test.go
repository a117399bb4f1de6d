package cli

import (
	"strings"
	"testing"
	"time"
)

func TestVersionFlag(t *testing.T) {
	t.Parallel()
	code, flag, _ := runInProcess(t, "", "--version")
	if code != 0 {
		t.Fatalf("--version exited %d", code)
	}
	_, cmd, _ := runInProcess(t, "", "version")
	if flag != cmd || !strings.HasPrefix(flag, "loftyscan ") {
		t.Errorf("--version printed %q, version printed %q", flag, cmd)
	}
}

// TestManPage checks the page man(1) reads: a .TH header dated by
// SOURCE_DATE_EPOCH, a section for every visible command with its flags,
// and no text line that roff would take for a request.
func TestManPage(t *testing.T) {
	t.Parallel()
	root, _ := newRootCommand(env{getenv: func(string) string { return "" }})
	var b strings.Builder
	if err := writeMan(&b, root, time.Unix(1700000000, 0).UTC()); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if !strings.HasPrefix(page, `.TH LOFTYSCAN 1 "2023-11-14"`) {
		t.Errorf("header: %.80q", page)
	}
	for _, want := range []string{".SS loftyscan dir\n", ".SS loftyscan git\n", ".SS loftyscan hook install\n",
		".SS loftyscan baseline create\n", "--follow-symlinks", "--range", "--show-secrets", ".SH EXIT STATUS"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, ".SS loftyscan man\n") {
		t.Error("the hidden man command is documented")
	}
	requests := map[string]bool{"TH": true, "SH": true, "SS": true, "PP": true, "nf": true, "fi": true, "B": true, "I": true, "TP": true, "BR": true}
	for _, l := range strings.Split(page, "\n") {
		if r, ok := strings.CutPrefix(l, "."); ok && !requests[strings.Fields(r + " x")[0]] {
			t.Errorf("text line taken for a roff request: %q", l)
		}
	}
	if got := manDate(func(k string) string { return map[string]string{"SOURCE_DATE_EPOCH": "86400"}[k] }); !got.Equal(time.Unix(86400, 0)) {
		t.Errorf("manDate = %v", got)
	}
}
