package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testtoken"
	"github.com/loftyscan/loftyscan/verify"
)

// TestVerifyFlag runs --verify against a local server that mimics Lofty's
// /v1.0/me: one key live (200), one revoked (401), one rate limited for
// good (429 with a reset in the past), and an expired key that must never be
// sent.
func TestVerifyFlag(t *testing.T) {
	t.Parallel()
	live, revoked, limited := scriptKeys["KEY"], scriptKeys["KEY2"], scriptKeys["NOEXP"]
	expired := scriptKeys["EXPIRED"]
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "token ")
		mu.Lock()
		seen[tok]++
		mu.Unlock()
		if r.Method != http.MethodGet || r.URL.Path != "/v1.0/me" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		switch tok {
		case live:
			w.Write([]byte(`{"id":1}`))
		case revoked:
			w.WriteHeader(http.StatusUnauthorized)
		default:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()

	dir := t.TempDir()
	content := "LOFTY_A=" + live + "\nLOFTY_B=" + revoked + "\nLOFTY_C=" + limited + "\nLOFTY_D=" + expired + "\nLOFTY_E=" + live + "\n"
	if err := os.WriteFile(filepath.Join(dir, "keys.env"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := runEnv(context.Background(), []string{"dir", "--verify", "--format", "json", dir}, env{
		stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
		getenv: func(k string) string {
			if k == "LOFTY_BASE_URL" {
				return srv.URL
			}
			return ""
		},
	})
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %s", code, errb.String())
	}
	var rep struct {
		Findings []struct {
			Line         int    `json:"line"`
			Verification string `json:"verification"`
			Severity     string `json:"severity"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	want := map[int][2]string{1: {"live", "critical"}, 2: {"invalid", "low"}, 3: {"unknown", "high"}, 4: {"unknown", "low"}, 5: {"live", "critical"}}
	for _, f := range rep.Findings {
		if w := want[f.Line]; f.Verification != w[0] || f.Severity != w[1] {
			t.Errorf("line %d: verification %q severity %q, want %q %q", f.Line, f.Verification, f.Severity, w[0], w[1])
		}
	}
	if len(rep.Findings) != 5 {
		t.Errorf("%d findings, want 5", len(rep.Findings))
	}
	mu.Lock()
	defer mu.Unlock()
	if seen[expired] != 0 {
		t.Errorf("the expired key was sent %d times", seen[expired])
	}
	if seen[live] != 1 {
		t.Errorf("the live key was sent %d times, want once for two findings", seen[live])
	}
	if strings.Contains(errb.String(), testtoken.Segments(live)[2]) {
		t.Errorf("stderr has a key")
	}
}

func TestVerifyRefusesPlainHTTPElsewhere(t *testing.T) {
	t.Parallel()
	dir, _ := keyTree(t)
	var out, errb bytes.Buffer
	code := runEnv(context.Background(), []string{"dir", "--verify", dir}, env{
		stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
		getenv: func(k string) string {
			if k == "LOFTY_BASE_URL" {
				return "http://api.example.com"
			}
			return ""
		},
	})
	if code != 2 || !strings.Contains(errb.String(), "https") {
		t.Errorf("exit %d, stderr %q; want 2 and a message about https", code, errb.String())
	}
}

// An unconfirmed token (no Lofty scope: maybe another service's secret) is
// sent only with --verify-unconfirmed.
func TestVerifyUnconfirmed(t *testing.T) {
	t.Parallel()
	generic := scriptKeys["GENERIC"]
	var mu sync.Mutex
	sent := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sent[strings.TrimPrefix(r.Header.Get("Authorization"), "token ")]++
		mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.env"), []byte("LOFTY_TOKEN="+generic+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runWithBase(t, srv.URL, strings.NewReader(""), "dir", dir, "--verify", "--format", "json")
	fs := readJSONReport(t, []byte(stdout))
	if code != 1 || len(fs) != 1 || fs[0].Verification != "unknown" || fs[0].VerificationReason != verify.ReasonUnconfirmed {
		t.Errorf("without --verify-unconfirmed: exit %d, findings %+v; stderr:\n%s", code, fs, stderr)
	}
	mu.Lock()
	if sent[generic] != 0 {
		t.Errorf("the unconfirmed token was sent %d times without --verify-unconfirmed", sent[generic])
	}
	mu.Unlock()

	code, stdout, stderr = runWithBase(t, srv.URL, strings.NewReader(""), "dir", dir, "--verify", "--verify-unconfirmed", "--format", "json")
	fs = readJSONReport(t, []byte(stdout))
	if code != 1 || len(fs) != 1 || fs[0].Verification != "invalid" {
		t.Errorf("with --verify-unconfirmed: exit %d, findings %+v; stderr:\n%s", code, fs, stderr)
	}
	mu.Lock()
	if sent[generic] != 1 {
		t.Errorf("the unconfirmed token was sent %d times with --verify-unconfirmed, want once", sent[generic])
	}
	mu.Unlock()

	// A flag that sets how keys are verified, given without --verify, is
	// a slip: the person meant them verified (--verify-rate and
	// --verify-timeout were ignored without a word).
	for _, flag := range []string{"--verify-unconfirmed", "--verify-rate=20", "--verify-timeout=5s"} {
		name, _, _ := strings.Cut(flag, "=")
		code, _, stderr = runWithBase(t, srv.URL, strings.NewReader(""), "dir", dir, flag)
		if code != 2 || !strings.Contains(stderr, name+" needs --verify") || !strings.Contains(stderr, "add --verify") {
			t.Errorf("%s alone: exit %d, stderr:\n%s", flag, code, stderr)
		}
	}
	if code, _, stderr = runWithBase(t, srv.URL, strings.NewReader(""), "dir", dir, "--verify-rate=20", "--verify-timeout=5s", "--verify", "--format", "json"); code != 1 {
		t.Errorf("--verify-rate and --verify-timeout with --verify: exit %d, stderr:\n%s", code, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if sent[generic] != 1 {
		t.Errorf("the unconfirmed token was sent %d times in all, want once", sent[generic])
	}
}
