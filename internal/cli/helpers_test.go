package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Helpers for the tests of stopping runs (signals, --timeout) and of
// report files.

// childDeadline bounds how long a child process or a stopped run may take
// to end. It is generous (the machine may be busy, the binary built with
// -race): it only keeps a broken build from hanging the suite, and is no
// measure of speed.
const childDeadline = 2 * time.Minute

// hangingServer is a loopback HTTP server that never answers: each request
// waits until its client goes away. The channel receives each request's
// path as it arrives.
func hangingServer(t *testing.T) (string, <-chan string) {
	t.Helper()
	url, got, _ := watchedHangingServer(t)
	return url, got
}

// watchedHangingServer is hangingServer that also says, on gone, each time
// a client hangs up a request the server was holding: the client process
// was killed or gave up.
func watchedHangingServer(t *testing.T) (url string, got <-chan string, gone <-chan struct{}) {
	t.Helper()
	paths := make(chan string, 100)
	hangups := make(chan struct{}, 100)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case paths <- r.URL.Path:
		default:
		}
		select {
		case <-r.Context().Done():
			select {
			case hangups <- struct{}{}:
			default:
			}
		case <-release:
		}
	}))
	t.Cleanup(func() {
		close(release)
		srv.Close()
	})
	return srv.URL, paths, hangups
}

// waitRequest waits for the server's first request.
func waitRequest(t *testing.T, got <-chan string) string {
	t.Helper()
	select {
	case p := <-got:
		return p
	case <-time.After(childDeadline):
		t.Fatalf("no request reached the server within %s", childDeadline)
	}
	return ""
}

// keyFolder writes n files with a distinct confirmed key each, and returns
// the folder.
func keyFolder(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	for i := range n {
		key := gitKey(fmt.Sprintf("signal-%d", i))
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("k%d.env", i)), []byte("LOFTY_API_KEY="+key+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// reportFinding is what the tests read of a JSON or SARIF finding.
type reportFinding struct {
	Path               string `json:"path"`
	Verification       string `json:"verification"`
	VerificationReason string `json:"verification_reason"`
}

// readJSONReport reads a complete JSON report, failing on anything else.
func readJSONReport(t *testing.T, data []byte) []reportFinding {
	t.Helper()
	var rep struct {
		Findings []reportFinding `json:"findings"`
		Stats    *struct{}       `json:"stats"`
	}
	if err := json.Unmarshal(data, &rep); err != nil || rep.Stats == nil {
		t.Fatalf("not a complete JSON report (%v):\n%s", err, data)
	}
	return rep.Findings
}

// readSARIF reads a complete SARIF log and returns its results' verification
// properties.
func readSARIF(t *testing.T, data []byte) []reportFinding {
	t.Helper()
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				Properties reportFinding `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &log); err != nil || log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("not a complete SARIF log (%v):\n%s", err, data)
	}
	var out []reportFinding
	for _, r := range log.Runs[0].Results {
		out = append(out, r.Properties)
	}
	return out
}

// onlyFiles fails unless dir holds exactly the names given: no temporary
// report file is left next to the report.
func onlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, "\n") != strings.Join(names, "\n") {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}
