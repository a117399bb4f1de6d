package config

import (
	"bytes"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// skipTree is the tree the git oracle test asks about: every file, and
// every directory above one.
var skipTree = []string{
	"README.md",
	"app.min.js",
	"src/app.js",
	"src/app.min.js",
	"src/lib/util.min.js",
	"src/lib/deep/x.min.js",
	"vendor/keep.env",
	"vendor/.env",
	"vendor/lib/a.go",
	"build/out.bin",
	"docs/build",
	"docs/guide.md",
	"docs/api/index.md",
	"a/b/c/d.txt",
	"a/x/b/c.txt",
	"x/a/a/b",
	"sub/foo",
	"foo/bar.txt",
	".env",
	"config/.env.local",
	"#notes.txt",
	"!bang.txt",
	"with space.txt",
	"node_modules/pkg/index.js",
	"pkg/node_modules/dep/index.js",
	"test/fixtures/key.txt",
	"test/unit/fixtures/key.txt",
	"abc/keep",
	"abc/drop",
	"file[1].txt",
	"a1.txt",
	"ab.txt",
	"a-.txt",
	"Upper.TXT",
	"archive.zip",
}

// skipCases are pattern lists, each a .gitignore of its own. Several are
// where go-git's gitignore package and git disagree (see wildmatch.go).
var skipCases = [][]string{
	{"vendor/"},
	{"vendor/", "!vendor/keep.env"},
	{"vendor/**", "!vendor/keep.env"},
	{"**/*.min.js"},
	{"*.min.js", "!src/app.min.js"},
	{"build"},
	{"/build"},
	{"build/"},
	{"docs/*.md"},
	{"docs/**/*.md"},
	{"a/**/b"},
	{"**/a/b"},
	{"abc/**", "!abc/keep"},
	{"abc/", "!abc/keep"},
	{"[!a]*.txt"},
	{"a[[:digit:]].txt", "a[b-].txt"},
	{"node**"},
	{`\#notes.txt`, `\!bang.txt`},
	{"with space.txt   "},
	{`with\ space.txt`},
	{"*", "!*/", "!*.md"},
	{"node_modules/"},
	{"test/**/fixtures/"},
	{".env*"},
	{"*.TXT"},
	{"a?.txt"},
	{"src/lib/", "!src/lib/deep/"},
	{"/*", "!/src/", "/src/*", "!/src/lib/"},
	{"src/**/"},
	{"**/deep/**"},
	{"**"},
	{"file[1].txt", `file\[1\].txt`},
	{"*.zip", "!archive.zip", "*.zip"},
	{"/docs/api"},
	{"x/*/a/b"},
	{"pkg/node**/"},
	{"a/**/c/**/d.txt", "**/x/**"},
	{"*/b"},
	{"[[:upper:]]*", "[^#!]*.txt"},
}

// TestSkipMatcherGit checks SkipMatcher against git itself: for each case,
// "git check-ignore --no-index" in a repository holding skipTree says
// which files and directories the patterns ignore.
func TestSkipMatcherGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not in PATH")
	}
	t.Parallel()
	dir := t.TempDir()
	var paths []string
	isDir := map[string]bool{}
	for _, f := range skipTree {
		full := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, f)
		for d := path.Dir(f); d != "."; d = path.Dir(d) {
			if !isDir[d] {
				isDir[d] = true
				paths = append(paths, d)
			}
		}
	}
	git(t, dir, nil, "init", "-q")
	if err := os.WriteFile(filepath.Join(dir, ".git", "info", "exclude"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	input := []byte(strings.Join(paths, "\x00") + "\x00")

	for _, patterns := range skipCases {
		if err := os.WriteFile(filepath.Join(dir, ".gitignore"), []byte(strings.Join(patterns, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := git(t, dir, input, "check-ignore", "--no-index", "--stdin", "-z")
		ignored := map[string]bool{}
		for _, p := range strings.Split(string(out), "\x00") {
			if p != "" {
				ignored[p] = true
			}
		}
		m, err := NewSkipMatcher(patterns)
		if err != nil {
			t.Errorf("NewSkipMatcher(%q): %v", patterns, err)
			continue
		}
		for _, p := range paths {
			if got := m.Match(p, isDir[p]); got != ignored[p] {
				t.Errorf("patterns %q: Match(%q, dir=%v) = %v, git says %v", patterns, p, isDir[p], got, ignored[p])
			}
		}
	}
}

// git runs git in dir with the user's and system's configuration shut
// out, so a global excludes file cannot change the answers.
func git(t *testing.T, dir string, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "core.ignorecase=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"HOME="+dir,
		"XDG_CONFIG_HOME="+dir,
	)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	// check-ignore exits 1 when nothing is ignored.
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 && slices.Contains(args, "check-ignore") {
		err = nil
	}
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

func TestSkipMatcher(t *testing.T) {
	t.Parallel()
	tests := []struct {
		patterns []string
		path     string
		dir      bool
		want     bool
	}{
		{nil, "anything", false, false},
		{[]string{"vendor/"}, "vendor", true, true},
		{[]string{"vendor/"}, "vendor", false, false},
		{[]string{"vendor/"}, "vendor/a/b.go", false, true},
		{[]string{"vendor/"}, "src/vendor/x", false, true},
		{[]string{"vendor/", "!vendor/keep.env"}, "vendor/keep.env", false, true},
		{[]string{"vendor/**", "!vendor/keep.env"}, "vendor/keep.env", false, false},
		{[]string{"vendor/**", "!vendor/keep.env"}, "vendor/other.env", false, true},
		{[]string{"**/*.min.js"}, "a/b/c.min.js", false, true},
		{[]string{"**/*.min.js"}, "c.min.js", false, true},
		{[]string{"/build"}, "build", true, true},
		{[]string{"/build"}, "x/build", true, false},
		{[]string{"docs/*.md"}, "docs/a/b.md", false, false},
		{[]string{"docs/**/*.md"}, "docs/a/b.md", false, true},
		{[]string{"*.env", "!.env"}, ".env", false, false},
		{[]string{"*.env"}, "./a.env", false, true},
		{[]string{"logs/"}, "logs/", false, true},
		{[]string{"*"}, "", true, false},
		{[]string{"*"}, ".", true, false},
	}
	for _, tt := range tests {
		m, err := NewSkipMatcher(tt.patterns)
		if err != nil {
			t.Fatalf("NewSkipMatcher(%q): %v", tt.patterns, err)
		}
		if got := m.Match(tt.path, tt.dir); got != tt.want {
			t.Errorf("patterns %q: Match(%q, %v) = %v, want %v", tt.patterns, tt.path, tt.dir, got, tt.want)
		}
	}
	var nilMatcher *SkipMatcher
	if nilMatcher.Match("a", false) {
		t.Error("nil matcher skipped a path")
	}
}

func TestNewSkipMatcherErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern string
		want    string
	}{
		{"", "is empty"},
		{"   ", "is empty"},
		{"#x", "comment"},
		{"!", "matches nothing"},
		{"/", "matches nothing"},
		{"a[b", "unclosed '['"},
		{"a[]", "unclosed '['"},
		{`a\`, "backslash"},
		{"[[:alfa:]]", "unknown character class [:alfa:]"},
		{"./src", `"." element`},
		{"src/../x", `".." element`},
		{"a//b", "empty element"},
		{"a\x00b", "NUL"},
	}
	for _, tt := range tests {
		_, err := NewSkipMatcher([]string{"ok", tt.pattern})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewSkipMatcher(%q) error = %v, want it to contain %q", tt.pattern, err, tt.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), "skip pattern ") {
			t.Errorf("NewSkipMatcher(%q) error = %q, want it to start with \"skip pattern \"", tt.pattern, err)
		}
	}
	// Valid oddities that git accepts and that do match something.
	for _, p := range []string{"[]]", "[!]]", "a[[]", `\#x`, "[a-]", "**", "x/**/", "[[:alpha:]]"} {
		if _, err := NewSkipMatcher([]string{p}); err != nil {
			t.Errorf("NewSkipMatcher(%q): %v", p, err)
		}
	}
}
