package reporters

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testleak"
	"github.com/loftyscan/loftyscan/internal/testtoken"
	"github.com/loftyscan/loftyscan/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sampleReport returns a fixed report that exercises every field: a
// confirmed key, an unconfirmed token in an archive and an encoding, two git
// findings (one expired, one with a hostile commit message and a path that
// needs escaping), a key --verify found live, one Lofty rejected, and two
// suppressed findings, one inline and one by .loftyscanignore, as
// --show-suppressed passes them. It returns a new value each call so
// parallel tests share nothing.
func sampleReport() Report {
	no, yes := false, true
	date := time.Date(2024, 5, 6, 10, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	fs := []finding.Finding{
		{
			RuleID:    rules.RuleAPIKey,
			Path:      "config/.env",
			Line:      3,
			Column:    19,
			Status:    rules.StatusActive,
			ExpiresAt: time.Date(2027, 1, 2, 15, 4, 5, 0, time.UTC),
			Alg:       "HS256",
			Subject:   "agent-1001",
			Secret:    testtoken.Key("agent-1001", time.Date(2027, 1, 2, 15, 4, 5, 0, time.UTC)),
		},
		{
			RuleID:   rules.RuleUnconfirmed,
			Path:     "outer.zip!inner/dir/file name.env",
			Line:     1,
			Column:   9,
			Encoding: "base64",
			Status:   rules.StatusNoExpiry,
			Alg:      "HS256",
			Subject:  "anon-42",
			Secret:   testtoken.Generic("anon-42"),
		},
		{
			RuleID:    rules.RuleAPIKey,
			Path:      "deploy/k8s/secret.yaml",
			Line:      12,
			Column:    21,
			Status:    rules.StatusExpired,
			ExpiresAt: time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC),
			Alg:       "HS256",
			Secret:    testtoken.Key("agent-7", time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)),
			Commit:    "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
			Author:    "Jane Doe",
			Email:     "jane@example.com",
			Date:      date,
			Message:   "add staging config",
			InHead:    &no,

			Verification:       finding.Unknown,
			VerificationReason: "expired by its claims: not sent",
		},
		{
			RuleID:  rules.RuleUnconfirmed,
			Path:    "docs/réunion: notes.md",
			Line:    7,
			Column:  1,
			Status:  rules.StatusNoExpiry,
			Alg:     "HS256",
			Secret:  testtoken.Generic("chime-legacy"),
			Commit:  "ffeeddccbbaa99887766554433221100ffeeddcc",
			Author:  "Bob\x1b[2J",
			Email:   "bob@example.com",
			Date:    date.Add(48 * time.Hour),
			Message: "docs: lofty setup \x1b[31mred\u202e",
			InHead:  &yes,

			Verification:       finding.Unknown,
			VerificationReason: "rate limited",
		},
		{
			RuleID:       rules.RuleAPIKey,
			Path:         "src/lofty/client.py",
			Line:         42,
			Column:       15,
			Status:       rules.StatusNoExpiry,
			Alg:          "HS256",
			Subject:      "agent-2002",
			Secret:       testtoken.Key("agent-2002", time.Time{}),
			Verification: finding.Live,
		},
		{
			RuleID:       rules.RuleAPIKey,
			Path:         "scripts/sync.sh",
			Line:         5,
			Column:       27,
			Status:       rules.StatusActive,
			ExpiresAt:    time.Date(2025, 3, 9, 12, 0, 0, 0, time.UTC),
			Alg:          "HS256",
			Subject:      "agent-3003",
			Secret:       testtoken.Key("agent-3003", time.Date(2025, 3, 9, 12, 0, 0, 0, time.UTC)),
			Verification: finding.Invalid,
		},
		{
			RuleID:     rules.RuleAPIKey,
			Path:       "test/fixtures/keys.env",
			Line:       2,
			Column:     13,
			Status:     rules.StatusActive,
			ExpiresAt:  time.Date(2028, 6, 1, 0, 0, 0, 0, time.UTC),
			Alg:        "HS256",
			Subject:    "fixture",
			Secret:     testtoken.Key("fixture", time.Date(2028, 6, 1, 0, 0, 0, 0, time.UTC)),
			Suppressed: finding.SuppressedInline,
		},
		{
			RuleID:     rules.RuleUnconfirmed,
			Path:       "docs/example.md",
			Line:       9,
			Column:     5,
			Status:     rules.StatusNoExpiry,
			Alg:        "HS256",
			Secret:     testtoken.Generic("example"),
			Suppressed: ".loftyscanignore:3: revoked 2024",
		},
	}
	var suppressed int64
	for i := range fs {
		sum := sha256.Sum256([]byte(fs[i].Secret))
		fs[i].Fingerprint = hex.EncodeToString(sum[:])
		if fs[i].Suppressed != "" {
			suppressed++
		}
	}
	return Report{
		Findings: fs,
		Stats: finding.Stats{
			Files:      13,
			Bytes:      1_234_567,
			Duration:   15300 * time.Microsecond,
			Findings:   int64(len(fs)) - suppressed,
			Suppressed: suppressed,
			Skipped:    1,
			Errors:     1,
			Warnings:   2,
		},
		Root: "/home/dev/src/my repo",
	}
}

// fixedNow is the clock of golden GitLab reports, which record the time.
func fixedNow() time.Time {
	return time.Date(2025, 3, 4, 5, 6, 7, 890_000_000, time.FixedZone("EST", -5*3600))
}

// printsSecrets reports whether format prints full tokens with
// --show-secrets: only the formats meant for the user. The uploaded and
// archived ones (SARIF, GitLab, JUnit) never do.
func printsSecrets(format string) bool {
	return format == FormatTerminal || format == FormatJSON
}

// omitsSuppressed reports whether format leaves out the token of a
// suppressed finding: GitLab does not list suppressed findings, and JUnit
// lists them as skipped tests with their reason only.
func omitsSuppressed(format string, f finding.Finding) bool {
	return f.Suppressed != "" && (format == FormatGitLab || format == FormatJUnit || format == FormatGitHub)
}

// omitsToken reports whether format leaves out finding f's redacted
// token: counts lists no finding, and some formats leave out suppressed
// ones (omitsSuppressed).
func omitsToken(format string, f finding.Finding) bool {
	return format == FormatCounts || omitsSuppressed(format, f)
}

// visible is the text a reader sees of output in format: Markdown's
// backslash escapes undone.
func visible(format, out string) string {
	if format != FormatMarkdown {
		return out
	}
	return testleak.UnescapeMarkdown(out)
}

// cleanReport is a scan that found nothing.
func cleanReport() Report {
	return Report{Stats: finding.Stats{Files: 13, Bytes: 48_213, Duration: 2100 * time.Microsecond}}
}

// suppressedOnlyReport is a scan whose every finding is suppressed, as
// --show-suppressed passes them: nothing counts.
func suppressedOnlyReport() Report {
	r := sampleReport()
	var fs []finding.Finding
	for _, f := range r.Findings {
		if f.Suppressed != "" {
			fs = append(fs, f)
		}
	}
	r.Findings = fs
	r.Stats.Findings = 0
	r.Stats.Errors, r.Stats.Warnings = 0, 0
	return r
}

// render runs the reporter for format over r.
func render(t *testing.T, format string, opts Options, r Report) []byte {
	t.Helper()
	rep, err := New(format, opts)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.Report(&buf, r); err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	return buf.Bytes()
}

// maskSecrets replaces each full token in out with a placeholder, so that
// golden files show where a secret is printed without holding one: a
// key-shaped string in the repository would be found by loftyscan itself
// and by every other secret scanner.
func maskSecrets(out []byte, r Report) []byte {
	for i, f := range r.Findings {
		out = bytes.ReplaceAll(out, []byte(f.Secret), fmt.Appendf(nil, "<secret %d>", i))
	}
	return out
}

func TestGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		format string
		opts   Options
		report Report
	}{
		{"terminal", FormatTerminal, Options{Now: fixedNow}, sampleReport()},
		{"terminal-secrets", FormatTerminal, Options{ShowSecrets: true, Now: fixedNow}, sampleReport()},
		{"terminal-clean", FormatTerminal, Options{Now: fixedNow}, cleanReport()},
		{"terminal-clean-suppressed", FormatTerminal, Options{Now: fixedNow}, suppressedOnlyReport()},
		{"json", FormatJSON, Options{}, sampleReport()},
		{"json-secrets", FormatJSON, Options{ShowSecrets: true}, sampleReport()},
		{"json-clean", FormatJSON, Options{}, cleanReport()},
		{"sarif", FormatSARIF, Options{Version: "1.0.0"}, sampleReport()},
		{"sarif-clean", FormatSARIF, Options{Version: "1.0.0"}, cleanReport()},
		{"gitlab", FormatGitLab, Options{Version: "1.0.0", Now: fixedNow}, sampleReport()},
		{"gitlab-clean", FormatGitLab, Options{Version: "1.0.0", Now: fixedNow}, cleanReport()},
		{"junit", FormatJUnit, Options{}, sampleReport()},
		{"junit-clean", FormatJUnit, Options{}, cleanReport()},
		{"junit-clean-suppressed", FormatJUnit, Options{}, suppressedOnlyReport()},
		// Keys and control characters in every field from scanned data.
		{"terminal-hostile", FormatTerminal, Options{Now: fixedNow}, hostileReport()},
		{"json-hostile", FormatJSON, Options{}, hostileReport()},
		{"terminal-change", FormatTerminal, Options{Now: fixedNow}, changeReport()},
		{"json-change", FormatJSON, Options{}, changeReport()},
		{"sarif-change", FormatSARIF, Options{Version: "1.0.0"}, changeReport()},
		{"gitlab-change", FormatGitLab, Options{Version: "1.0.0", Now: fixedNow}, changeReport()},
		{"junit-change", FormatJUnit, Options{}, changeReport()},
		{"markdown-change", FormatMarkdown, Options{}, changeReport()},
		{"github-change", FormatGitHub, Options{}, changeReport()},
		{"counts-change", FormatCounts, Options{}, changeReport()},
		{"markdown", FormatMarkdown, Options{}, sampleReport()},
		{"markdown-clean", FormatMarkdown, Options{}, cleanReport()},
		{"markdown-clean-suppressed", FormatMarkdown, Options{}, suppressedOnlyReport()},
		{"github", FormatGitHub, Options{}, sampleReport()},
		{"github-clean", FormatGitHub, Options{}, cleanReport()},
		{"counts", FormatCounts, Options{}, sampleReport()},
		{"counts-clean", FormatCounts, Options{}, cleanReport()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := maskSecrets(render(t, tt.format, tt.opts, tt.report), tt.report)
			file := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (run go test -update if the change is intended):\n%s", file, got)
			}
		})
	}
}

func TestNewUnknownFormat(t *testing.T) {
	t.Parallel()
	_, err := New("xml", Options{})
	if err == nil {
		t.Fatal("New(\"xml\") succeeded")
	}
	for _, f := range Formats() {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not name format %q", err, f)
		}
	}
}

// Format names are read in any case: --format JSON is json.
func TestParseFormat(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"JSON": "json", " Sarif ": "sarif", "markdown": "markdown", "GitHub": "github", "COUNTS": "counts"} {
		if got, err := ParseFormat(in); got != want || err != nil {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "xml", "json=out.json", "jsonl"} {
		if _, err := ParseFormat(bad); err == nil {
			t.Errorf("ParseFormat(%q) succeeded", bad)
		}
	}
	if _, err := New("JUnit", Options{}); err != nil {
		t.Errorf("New(\"JUnit\"): %v", err)
	}
}

// TestSecretsOnlyOnRequest is the promise of DESIGN.md: redaction is the
// default everywhere, full tokens appear only with --show-secrets and only in
// the formats meant for the user, never in SARIF, GitLab or JUnit, which are
// uploaded and archived.
func TestSecretsOnlyOnRequest(t *testing.T) {
	t.Parallel()
	for _, format := range Formats() {
		for _, show := range []bool{false, true} {
			for _, col := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/show=%v/color=%v", format, show, col), func(t *testing.T) {
					t.Parallel()
					r := sampleReport()
					out := visible(format, string(render(t, format, Options{ShowSecrets: show, Color: col, Version: "test"}, r)))
					if !strings.HasSuffix(out, "\n") {
						t.Error("output does not end in a newline")
					}
					want := show && printsSecrets(format)
					for i, f := range r.Findings {
						seg := testtoken.Segments(f.Secret)
						payload, sig := seg[1], seg[2]
						if got := strings.Contains(out, f.Secret); got != want {
							t.Errorf("finding %d: full token in output = %v, want %v", i, got, want)
						}
						if !want && (strings.Contains(out, sig) || strings.Contains(out, payload)) {
							t.Errorf("finding %d: a token segment leaked", i)
						}
						if !strings.Contains(out, f.Redacted()) && !want && !omitsToken(format, f) {
							t.Errorf("finding %d: redacted form %q missing", i, f.Redacted())
						}
					}
				})
			}
		}
	}
}

// TestShowSecretsIgnored checks that the formats that never print secrets
// write the same bytes whatever ShowSecrets says.
func TestShowSecretsIgnored(t *testing.T) {
	t.Parallel()
	for _, format := range Formats() {
		if printsSecrets(format) {
			continue
		}
		for _, r := range []Report{sampleReport(), cleanReport()} {
			without := render(t, format, Options{Now: fixedNow}, r)
			with := render(t, format, Options{ShowSecrets: true, Color: true, Now: fixedNow}, r)
			if !bytes.Equal(with, without) {
				t.Errorf("%s: ShowSecrets or Color changed the output", format)
			}
		}
	}
}

func TestNoColorUnlessAsked(t *testing.T) {
	t.Parallel()
	for _, format := range Formats() {
		for _, r := range []Report{sampleReport(), cleanReport()} {
			out := render(t, format, Options{ShowSecrets: true}, r)
			if bytes.Contains(out, []byte("\x1b")) {
				t.Errorf("%s: escape byte in output with Color false", format)
			}
		}
	}
}
