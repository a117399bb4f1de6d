package bypass

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestPushOptions(t *testing.T) {
	t.Parallel()
	if opts, given, err := PushOptions(envOf(nil)); opts != nil || given || err != nil {
		t.Errorf("no variables: %v %v %v", opts, given, err)
	}
	opts, given, err := PushOptions(envOf(map[string]string{"GIT_PUSH_OPTION_COUNT": "2", "GIT_PUSH_OPTION_0": "ci.skip", "GIT_PUSH_OPTION_1": "loftyscan.allow=x"}))
	if err != nil || !given || strings.Join(opts, ",") != "ci.skip,loftyscan.allow=x" {
		t.Errorf("two options: %q %v %v", opts, given, err)
	}
	if _, given, err := PushOptions(envOf(map[string]string{"GIT_PUSH_OPTION_COUNT": "0"})); !given || err != nil {
		t.Errorf("a count of 0 is push options negotiated and none sent: %v %v", given, err)
	}
	for _, bad := range []string{"x", "-1", "101", "99999999999999999999"} {
		if _, _, err := PushOptions(envOf(map[string]string{"GIT_PUSH_OPTION_COUNT": bad})); err == nil {
			t.Errorf("count %q: no error", bad)
		}
	}
}

func TestAllowedTakesWholeFingerprintsOnly(t *testing.T) {
	t.Parallel()
	fp := strings.Repeat("ab", 32)
	allowed, problems := Allowed([]string{
		"ci.skip",
		"loftyscan.allow=" + fp,
		"LOFTYSCAN.ALLOW = " + strings.ToUpper(strings.Repeat("cd", 32)),
		"loftyscan.allow=" + fp[:16],
		"loftyscan.allow",
		"loftyscan.allow=" + strings.Repeat("zz", 32),
		"loftyscan.allowed=" + fp,
	})
	if len(allowed) != 2 || !allowed[fp] || !allowed[strings.Repeat("cd", 32)] {
		t.Errorf("allowed: %v", allowed)
	}
	if len(problems) != 3 {
		t.Errorf("problems: %q", problems)
	}
	// A key in the option is shown redacted.
	key := testtoken.Key("in-option", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	_, problems = Allowed([]string{"loftyscan.allow=" + key})
	if len(problems) != 1 || strings.Contains(problems[0], key) {
		t.Errorf("a key in a push option: %q", problems)
	}
	// Quoting adds no escape after the redaction point: %q wrote the
	// private-use U+E00E, which Sanitize keeps, as "\ue00e", whose "e"
	// made the key again from the rest of it.
	_, problems = Allowed([]string{"loftyscan.allow=\ue00e" + key[1:]})
	if len(problems) != 1 || strings.Contains(problems[0], key) {
		t.Errorf("a key without its e after U+E00E in a push option: %q", problems)
	}
}

func TestPusherFromEnv(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		want Pusher
	}{
		{map[string]string{"USER": "git", "GL_USERNAME": "alice"}, Pusher{"alice", "GL_USERNAME"}},
		{map[string]string{"USER": "git", "GITHUB_USER_LOGIN": "bob"}, Pusher{"bob", "GITHUB_USER_LOGIN"}},
		{map[string]string{"GITEA_PUSHER_NAME": "carol", "REMOTE_USER": "x"}, Pusher{"carol", "GITEA_PUSHER_NAME"}},
		{map[string]string{"REMOTE_USER": "dave", "USER": "www-data"}, Pusher{"dave", "REMOTE_USER"}},
		{map[string]string{"LOGNAME": "git"}, Pusher{"git", "LOGNAME"}},
		{nil, Pusher{}},
	} {
		if got := PusherFromEnv(envOf(tc.env)); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.env, got, tc.want)
		}
	}
}

// The log's strings are sanitized: a ref, path or reason from the push
// that holds a key or a control character is logged redacted and escaped.
func TestRecordIsSanitized(t *testing.T) {
	t.Parallel()
	key := testtoken.Key("in-ref", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	r := Record{
		Time:   time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600)),
		Pusher: "mallory\x1b[2J", Repository: "/srv/app.git",
		Refs: []string{"refs/heads/" + key}, Commit: strings.Repeat("a", 40), Path: "a\u202eb.env", Line: 2,
		Fingerprint: strings.Repeat("b", 64), Redacted: "eyJ…abcd#bbbbbbbb", Via: ViaIgnoreFile, Reason: "ok\nforged line",
	}
	line, err := r.JSONLine()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(line), "\n") != 1 || strings.Contains(string(line), key) || strings.Contains(string(line), "\x1b") || strings.Contains(string(line), "\u202e") {
		t.Fatalf("line: %s", line)
	}
	var back map[string]any
	if err := json.Unmarshal(line, &back); err != nil {
		t.Fatal(err)
	}
	// The JSON adds no escape after the redaction point: json.Marshal
	// wrote '>' as "\u003e", whose "e" made the key again from the rest
	// of it, in the line a person reads.
	r.Path = "x>" + key[1:]
	if line, err = r.JSONLine(); err != nil || strings.Contains(string(line), key) {
		t.Errorf("a path holding a key without its e after '>': %s %v", line, err)
	}
	if back["time"] != "2026-01-02T02:04:05Z" || back["reason"] != `ok\x0Aforged line` || back["via"] != "ignore-file" {
		t.Errorf("record: %v", back)
	}
}

// Appends from several pushes at once keep each line whole.
func TestAppendKeepsLinesWhole(t *testing.T) {
	t.Parallel()
	name := filepath.Join(t.TempDir(), "bypass.log")
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				recs := []Record{{Pusher: "p" + strconv.Itoa(w), Commit: strconv.Itoa(i), Reason: strings.Repeat("r", 300)}, {Pusher: "p" + strconv.Itoa(w), Commit: strconv.Itoa(i) + "b"}}
				if err := Append(name, recs); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 8*50*2 {
		t.Fatalf("%d lines, want %d", len(lines), 8*50*2)
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("a broken line %q: %v", l, err)
		}
	}
	if fi, _ := os.Stat(name); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	if err := Append(filepath.Join(t.TempDir(), "no", "such", "log"), []Record{{}}); err == nil {
		t.Error("no error for a log that cannot be made")
	}
}
