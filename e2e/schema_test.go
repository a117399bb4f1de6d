package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// encodingShapes writes a folder with a key in each encoding a finding can
// name, and returns the encodings the report must hold.
func encodingShapes(t *testing.T) (string, []string) {
	dir := t.TempDir()
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	write("plain.env", []byte("LOFTY_API_KEY="+gitKey("plain")+"\n"))
	write("b64.yaml", []byte("data:\n  LOFTY_API_KEY: "+b64(gitKey("base64"))+"\n"))
	write("hex.txt", []byte(hex.EncodeToString([]byte("LOFTY_API_KEY="+gitKey("hex")))+"\n"))
	write("nested.txt", []byte("token: "+b64(hex.EncodeToString([]byte("LOFTY_API_KEY="+gitKey("base64 of hex"))))+"\n"))
	u := utf16.Encode([]rune("LOFTY_API_KEY=" + gitKey("utf-16") + "\r\n"))
	le := []byte{0xff, 0xfe}
	for _, c := range u {
		le = append(le, byte(c), byte(c>>8))
	}
	write("utf16.txt", le)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("LOFTY_API_KEY=" + gitKey("gzip") + "\n"))
	zw.Close()
	write("userdata.tf", []byte("user_data_base64 = \""+b64(b64(string(gz.Bytes())))+"\"\n"))
	write("saved-"+gitKey("name"), nil) // location "path"
	return dir, []string{"", "", "base64", "hex", "base64/hex", "utf-16le", "base64/base64/gzip"}
}

// TestReportMatchesSchema scans a key in every encoding a finding can name
// and checks the JSON report the binary writes against the published schema
// (schemas/report.schema.json), which scripts and outside checks validate
// reports with: its encoding pattern once left out hex, so a report with a
// hex finding broke it. The SARIF and GitLab reports of the same scan are
// checked against their official schemas too (validReport).
func TestReportMatchesSchema(t *testing.T) {
	dir, encodings := encodingShapes(t)
	sch := officialSchema(t, "schemas/report.schema.json")
	out := validReport(t, sch, "dir", dir)
	var rep struct {
		Findings []struct {
			Path     string `json:"path"`
			Encoding string `json:"encoding"`
			Location string `json:"location"`
			Column   int    `json:"column"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	var got []string
	names := 0
	for _, f := range rep.Findings {
		got = append(got, f.Encoding)
		if f.Location == "path" {
			names++
			if !strings.HasPrefix(f.Path, "saved-eyJ") || f.Column != 7 {
				t.Errorf("key in a name at %q, column %d; want saved-eyJ…, column 7", f.Path, f.Column)
			}
		}
	}
	if names != 1 {
		t.Errorf("%d findings at location path, want 1", names)
	}
	slices.Sort(got)
	slices.Sort(encodings)
	if !slices.Equal(got, encodings) {
		t.Errorf("encodings %q, want %q (one finding each)", got, encodings)
	}
}

// validReport runs loftyscan with args and --format json, expects exit 1
// (keys found), and checks the report against sch; then its SARIF and
// GitLab reports of the same scan against their official schemas.
func validReport(t *testing.T, sch *jsonschema.Schema, args ...string) []byte {
	t.Helper()
	out := reportIn(t, sch, "json", args)
	reportIn(t, officialSchema(t, "reporters/testdata/sarif-schema-2.1.0.json"), "sarif", args)
	reportIn(t, officialSchema(t, "reporters/testdata/gitlab-secret-detection-report-format-15.2.1.json"), "gitlab", args)
	return out
}

// officialSchema compiles the schema at path (from the module's top).
func officialSchema(t *testing.T, path string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// reportIn runs loftyscan with args and --format format, expects exit 1,
// and checks the report against sch.
func reportIn(t *testing.T, sch *jsonschema.Schema, format string, args []string) []byte {
	t.Helper()
	cmd := exec.Command(loftyscan, append(slices.Clone(args), "--format", format)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("%v: exit %d (%v), want 1; stderr: %s", args, code, err, stderr.String())
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(doc); err != nil {
		t.Errorf("%v: the %s report breaks its schema: %v\n%s", args, format, err, out)
	}
	return out
}

// TestGitReportMatchesSchema checks a history scan's report, with a key in
// every place of a repository a finding can name (a file, a commit message,
// an annotated tag's message, a commit no ref reaches), against the
// published schema, in a full scan and a range.
func TestGitReportMatchesSchema(t *testing.T) {
	sch := officialSchema(t, "schemas/report.schema.json")
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=Ada", "-c", "user.email=ada@example.com"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(bytes.TrimSpace(out))
	}
	git("init", "-q", "-b", "main")
	shapes, _ := encodingShapes(t)
	entries, _ := os.ReadDir(shapes)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(shapes, e.Name()))
		os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644)
	}
	git("add", "-A")
	git("commit", "-q", "-m", "shapes")
	base := git("rev-parse", "HEAD")
	git("commit", "-q", "--allow-empty", "-m", "a message\n\nLOFTY_API_KEY="+gitKey("message"))
	git("tag", "-a", "v1", "-m", "LOFTY_API_KEY="+gitKey("tag"))
	git("commit", "-q", "--allow-empty", "-m", "gone\n\nLOFTY_API_KEY="+gitKey("unreachable"))
	git("reset", "-q", "--hard", "HEAD~1")
	for _, args := range [][]string{{"git", dir}, {"git", "--range", base + "..main", dir}} {
		var rep struct {
			Findings []struct {
				Location string `json:"location"`
			} `json:"findings"`
		}
		if err := json.Unmarshal(validReport(t, sch, args...), &rep); err != nil {
			t.Fatal(err)
		}
		var places []string
		for _, f := range rep.Findings {
			places = append(places, f.Location)
		}
		slices.Sort(places)
		places = slices.Compact(places)
		n, want := 10, []string{"commit-message", "file", "path", "tag-message"} // 6 files, 1 file's name, 2 messages (1 unreachable), 1 tag
		if len(args) > 2 {
			n, want = 1, []string{"commit-message"} // the range holds one commit
		}
		if len(rep.Findings) != n || !slices.Equal(places, want) {
			t.Errorf("%v: %d findings in %q; want %d in %q", args, len(rep.Findings), places, n, want)
		}
	}
}
