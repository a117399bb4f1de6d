package reporters

import (
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testtoken"
)

// workflowCommand is a line as the Actions runner reads it: the command,
// its properties and its data, unescaped (actions/runner ActionCommand.cs,
// TryParseV2).
type workflowCommand struct {
	name  string
	props map[string]string
	data  string
}

func parseWorkflowCommand(t *testing.T, line string) workflowCommand {
	t.Helper()
	rest, ok := strings.CutPrefix(strings.TrimLeft(line, " \t"), "::")
	if !ok {
		t.Fatalf("not a workflow command: %q", line)
	}
	head, data, ok := strings.Cut(rest, "::")
	if !ok {
		t.Fatalf("no data: %q", line)
	}
	unescape := strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%")
	c := workflowCommand{props: map[string]string{}, data: strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%").Replace(data)}
	name, props, _ := strings.Cut(head, " ")
	c.name = name
	for _, kv := range strings.Split(props, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("property without a value in %q", line)
		}
		c.props[k] = unescape.Replace(v)
	}
	return c
}

// One annotation per counted finding, most urgent first, errors for keys
// that may work and warnings for the rest, at the finding's place; the
// scanned text cannot add a command or a property.
func TestGitHubAnnotations(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	token := testtoken.Key("hostile", time.Time{})
	r.Findings[1].Path = "a,line=1::warning::x%0A\n::error file=evil::pwned " + token
	r.Findings[3].Author = "Eve\n::add-mask::x"
	out := string(render(t, FormatGitHub, Options{ShowSecrets: true}, r))
	if strings.Contains(out, token) {
		t.Fatal("a token in the annotations")
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines, want one per counted finding (6):\n%s", len(lines), out)
	}
	want := []struct{ level, file, line, col, title string }{
		{"error", "src/lofty/client.py", "42", "15", "Lofty API key (critical)"},
		{"error", "config/.env", "3", "19", "Lofty API key (high)"},
		{"warning", r.Findings[1].Shown().Path, "1", "9", "Unconfirmed token in Lofty context (medium)"},
		{"warning", "docs/réunion: notes.md", "7", "1", "Unconfirmed token in Lofty context (medium)"},
		{"warning", "scripts/sync.sh", "5", "27", "Lofty API key (low)"},
		{"warning", "deploy/k8s/secret.yaml", "12", "21", "Lofty API key (low)"},
	}
	var counted []finding.Finding
	g := byGroup(r.Findings)
	for _, fs := range g[:groupSuppressed] {
		counted = append(counted, fs...)
	}
	for i, line := range lines {
		c := parseWorkflowCommand(t, line)
		w := want[i]
		got := []string{c.name, c.props["file"], c.props["line"], c.props["col"], c.props["title"]}
		if strings.Join(got, "|") != strings.Join([]string{w.level, w.file, w.line, w.col, w.title}, "|") || len(c.props) != 4 {
			t.Errorf("line %d: %q\nparsed %q %v, want %+v", i, line, c.name, c.props, w)
		}
		if f := counted[i]; !strings.Contains(c.data, f.Fingerprint) || !strings.Contains(c.data, f.Redacted()) {
			t.Errorf("line %d does not name finding %s's fingerprint and redacted key: %q", i, f.Path, c.data)
		}
	}
	if !strings.Contains(lines[3], "Introduced in commit ffeeddc by Eve\\x0A::add-mask::x") {
		t.Errorf("the author's line break is not escaped: %q", lines[3])
	}
	if strings.Contains(out, "\n::add-mask") || strings.Contains(out, "\n::error file=evil") {
		t.Errorf("scanned text started a command:\n%s", out)
	}
}
