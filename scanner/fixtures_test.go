package scanner

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testtoken"
	"github.com/loftyscan/loftyscan/rules"
)

// The shared fixtures of the scanner tests (the git tests have their own, in
// git_helpers_test.go). Every token is synthetic (internal/testtoken); every
// file is built in t.TempDir().

// refNow is the clock the rules judge expiry by, so statuses do not drift.
var refNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

var (
	keyActive  = testtoken.Key("acct-active", refNow.Add(30*24*time.Hour))
	keyExpired = testtoken.Key("acct-expired", refNow.Add(-30*24*time.Hour))
	keyForever = testtoken.Key("acct-forever", time.Time{})
	jwtGeneric = testtoken.Generic("anon-user")
)

// keyN returns a distinct active key, for fixtures that need many.
func keyN(i int) string {
	return testtoken.Key(fmt.Sprintf("acct-%04d", i), refNow.Add(time.Hour))
}

// testOptions are DefaultOptions with the rules' clock fixed.
func testOptions() Options {
	o := DefaultOptions()
	o.Rules.Now = refNow
	o.Workers = 2
	return o
}

func fingerprintOf(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// statusOf is the status the fixture keys have at refNow.
func statusOf(tok string) rules.Status {
	switch tok {
	case keyExpired:
		return rules.StatusExpired
	case keyForever:
		return rules.StatusNoExpiry
	}
	return rules.StatusActive
}

// wantFinding is one expected finding. Rule defaults to rules.RuleAPIKey and
// Status to statusOf(Token).
type wantFinding struct {
	Path     string
	Line     int
	Column   int
	Encoding string
	Token    string
	Rule     string
	Status   rules.Status
}

func (w wantFinding) fill() wantFinding {
	if w.Rule == "" {
		w.Rule = rules.RuleAPIKey
	}
	if w.Status == "" {
		w.Status = statusOf(w.Token)
	}
	return w
}

func describe(f finding.Finding) string {
	return fmt.Sprintf("%s:%d:%d rule=%s enc=%q status=%s fp=%.12s", f.Path, f.Line, f.Column, f.RuleID, f.Encoding, f.Status, f.Fingerprint)
}

// checkFound compares every finding, in sorted order, with ws (sorted
// the same way): path, line, column, rule, encoding, status, fingerprint,
// and that the secret is the token the fingerprint is of.
func checkFound(t testing.TB, got []finding.Finding, ws ...wantFinding) {
	t.Helper()
	got = append([]finding.Finding(nil), got...)
	finding.Sort(got)
	exp := make([]finding.Finding, len(ws))
	for i, w := range ws {
		w = w.fill()
		exp[i] = finding.Finding{Path: w.Path, Line: w.Line, Column: w.Column, RuleID: w.Rule, Encoding: w.Encoding, Status: w.Status, Fingerprint: fingerprintOf(w.Token), Secret: w.Token}
	}
	finding.Sort(exp)
	ok := len(got) == len(exp)
	for i := 0; ok && i < len(got); i++ {
		g, e := got[i], exp[i]
		ok = g.Path == e.Path && g.Line == e.Line && g.Column == e.Column && g.RuleID == e.RuleID &&
			g.Encoding == e.Encoding && g.Status == e.Status && g.Fingerprint == e.Fingerprint && g.Secret == e.Secret
	}
	if ok {
		for _, g := range got {
			if g.Fingerprint != fingerprintOf(g.Secret) {
				t.Errorf("%s: fingerprint is not the SHA-256 of the secret", describe(g))
			}
		}
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "findings differ\ngot %d:\n", len(got))
	for _, g := range got {
		fmt.Fprintf(&b, "  %s\n", describe(g))
	}
	fmt.Fprintf(&b, "want %d:\n", len(exp))
	for _, e := range exp {
		fmt.Fprintf(&b, "  %s\n", describe(e))
	}
	t.Error(b.String())
}

// wantWarning is one expected warning: its path, and a part of its message.
type wantWarning struct {
	Path     string
	Contains string
}

// checkWarnings checks that each expected warning was given exactly once
// and that no other warning was given.
func checkWarnings(t testing.TB, got []finding.Warning, ws ...wantWarning) {
	t.Helper()
	used := make([]bool, len(got))
	for _, w := range ws {
		n := 0
		for i, g := range got {
			if g.Path == w.Path && strings.Contains(g.Message, w.Contains) {
				n++
				used[i] = true
			}
		}
		if n != 1 {
			t.Errorf("warning %q containing %q given %d times, want once; warnings: %q", w.Path, w.Contains, n, got)
		}
	}
	for i, g := range got {
		if !used[i] {
			t.Errorf("unexpected warning %q", g.String())
		}
	}
}

// checkStats checks the counters that tie to the sink, then the ones given.
func checkStats(t testing.TB, st finding.Stats, c *Collector, files, errs, skipped int64) {
	t.Helper()
	if st.Findings != 0 || st.Suppressed != 0 {
		t.Errorf("the scan counted %d findings and %d suppressed: only finding.Stats.Count counts them", st.Findings, st.Suppressed)
	}
	if st.Warnings != int64(len(c.Warnings)) {
		t.Errorf("Stats.Warnings = %d, sink got %d", st.Warnings, len(c.Warnings))
	}
	if files >= 0 && st.Files != files {
		t.Errorf("Stats.Files = %d, want %d", st.Files, files)
	}
	if errs >= 0 && st.Errors != errs {
		t.Errorf("Stats.Errors = %d, want %d", st.Errors, errs)
	}
	if skipped >= 0 && st.Skipped != skipped {
		t.Errorf("Stats.Skipped = %d, want %d", st.Skipped, skipped)
	}
}

// scanPaths runs ScanPaths, failing the test on an error. It sets no
// deadline: a busy machine must not fail a test, and a hang is go test's
// -timeout to report.
func scanPaths(t testing.TB, opts Options, roots ...string) (*Collector, finding.Stats) {
	t.Helper()
	c := &Collector{}
	st, err := New(opts).ScanPaths(context.Background(), roots, c)
	if err != nil {
		t.Fatalf("ScanPaths: %v", err)
	}
	return c, st
}

// scanData scans data as a stream (as standard input is) under the name
// "in".
func scanData(t testing.TB, opts Options, data []byte) (*Collector, finding.Stats) {
	t.Helper()
	c := &Collector{}
	st, err := New(opts).ScanReader(context.Background(), "in", bytes.NewReader(data), c)
	if err != nil {
		t.Fatalf("ScanReader: %v", err)
	}
	return c, st
}

// writeFixture writes data to dir/rel, creating directories.
func writeFixture(t testing.TB, dir, rel string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// entry is one file in a generated archive.
type entry struct {
	Name  string
	Data  []byte
	Store bool // zip: store instead of deflate
}

func zipBytes(t testing.TB, es ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range es {
		m := zip.Deflate
		if e.Store {
			m = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.Name, Method: m})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tarBytes(t testing.TB, es ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		if err := tw.WriteHeader(&tar.Header{Name: e.Name, Mode: 0o644, Size: int64(len(e.Data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gzipBytes compresses data; name goes in the gzip header when not empty.
func gzipBytes(t testing.TB, name string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Name = name
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
