package leakcheck

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// root is the module's folder.
func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestModule is the check itself: loftyscan's code prints scanned data
// only through the redaction point.
func TestModule(t *testing.T) {
	t.Parallel()
	problems, err := Check(root(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// TestCatches plants each kind of bypass in the real packages (as files
// laid over them) and checks that each is reported, so that the check
// cannot pass by finding nothing.
func TestCatches(t *testing.T) {
	if raceBuild {
		t.Skip("type-checks the packages once for each planted bypass (26 s under -race): .ci/run runs it without -race")
	}
	t.Parallel()
	r := root(t)
	overlay := map[string][]byte{
		filepath.Join(r, "reporters", "zz_probe.go"): []byte(`package reporters

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/loftyscan/loftyscan/finding"
)

func probePath(w io.Writer, f finding.Finding) {
	p := &f
	fmt.Fprintln(w, p.Path)                 // a raw field through a pointer
	fmt.Fprintln(w, f.Shown().Path, f.RuleID) // fine
	if f.Author != "" && len(f.Email) > 0 {   // fine: compared, measured
		fmt.Fprintln(w, finding.Sanitize(f.Message)) // fine: sanitized
	}
	msg := f.Message // a raw field through another variable
	fmt.Fprintln(w, msg)
}

func probeWhole(w io.Writer, r Report) {
	json.NewEncoder(w).Encode(r.Findings[0]) // a whole finding
	fmt.Fprintf(w, "%v", r)                  // a whole report
	for _, f := range r.Findings {
		_ = sarifResultFor(f) // fine: reporters' own code
	}
	fmt.Fprintln(w, r.Root)
}
`),
		filepath.Join(r, "internal", "cli", "zz_probe.go"): []byte(`package cli

import (
	"fmt"
	"strings"
)

func probeCLI(e env, path string) {
	fmt.Fprintf(e.stderr, "loftyscan: scanning %s\n", path)
	e.stdout.Write([]byte(path))
	var b strings.Builder
	fmt.Fprintf(&b, "%s", path) // fine: a buffer
	printNote(e.stderr, b.String())
}
`),
		filepath.Join(r, "scanner", "zz_probe.go"): []byte(`package scanner

import (
	"fmt"
	"log"
	stdos "os"
)

func probeScanner(p string) {
	fmt.Println(p)
	log.Printf("%s", p)
	fmt.Fprintln(stdos.Stderr, p)
	println(p)
}
`),
	}
	problems, err := Check(r, overlay)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		if strings.HasSuffix(p.Pos.Filename, "zz_probe.go") {
			got = append(got, filepath.Base(filepath.Dir(p.Pos.Filename))+":"+strconv.Itoa(p.Pos.Line)+" "+p.Msg)
		} else {
			t.Errorf("a problem outside the probes: %s", p)
		}
	}
	want := []string{
		"reporters:13 Finding.Path in probePath",
		"reporters:18 Finding.Message in probePath",
		"reporters:23 r.Findings[0] in probeWhole hands",
		"reporters:24 r in probeWhole hands",
		"reporters:28 Report.Root in probeWhole",
		"cli:9 fmt.Fprintf writes to the user directly from probeCLI",
		"cli:10 e.stdout.Write writes to the user directly from probeCLI",
		"scanner:10 package github.com/loftyscan/loftyscan/scanner writes to the terminal itself (fmt.Println)",
		"scanner:11 package github.com/loftyscan/loftyscan/scanner writes to the terminal itself (log.Printf)",
		"scanner:12 package github.com/loftyscan/loftyscan/scanner writes to the terminal itself (stdos.Stderr)",
		"scanner:13 package github.com/loftyscan/loftyscan/scanner writes to standard error itself (println)",
	}
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			if strings.HasPrefix(g, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("not reported: %s\ngot:\n%s", w, strings.Join(got, "\n"))
		}
	}
}
