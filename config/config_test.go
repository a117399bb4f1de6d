package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func TestParse(t *testing.T) {
	t.Parallel()
	full := `# paths to skip, gitignore-style globs relative to the scan root
skip = ["vendor/", "**/*.min.js", "!vendor/keep.env"]
# extra names that put an unconfirmed JWS in a Lofty context
context_names = ["acme_crm"]
scopes = ["THIRD_PARTY_OPERATION", "ACME_OPERATION"]

[archives]
depth = 3
entry_bytes = "256MiB"
total_bytes = 1073741824
ratio = 200
entries = 100000
`
	tests := []struct {
		name string
		doc  string
		want Config
	}{
		{"empty", "", Config{}},
		{"comments only", "# nothing set\n\n", Config{}},
		{"full", full, Config{
			Skip:         []string{"vendor/", "**/*.min.js", "!vendor/keep.env"},
			ContextNames: []string{"acme_crm"},
			Scopes:       []string{"THIRD_PARTY_OPERATION", "ACME_OPERATION"},
			Archives: Archives{
				Depth:      ptr(3),
				EntryBytes: ptr(int64(256 << 20)),
				TotalBytes: ptr(int64(1 << 30)),
				Ratio:      ptr(int64(200)),
				Entries:    ptr(100000),
			},
		}},
		{"empty skip is set", "skip = []\n", Config{Skip: []string{}}},
		{"partial archives", "[archives]\ndepth = 0\nratio = 0\n", Config{
			Archives: Archives{Depth: ptr(0), Ratio: ptr(int64(0))},
		}},
		{"inline table", "archives = { entry_bytes = \"1 KiB\" }\n", Config{
			Archives: Archives{EntryBytes: ptr(int64(1024))},
		}},
		{"dotted keys", "archives.depth = 10\n", Config{Archives: Archives{Depth: ptr(10)}}},
		{"BOM and CRLF", "\uFEFFscopes = [\"X\"]\r\n", Config{Scopes: []string{"X"}}},
		{"unconfirmed off", "[rules]\nunconfirmed = false\n", Config{Rules: Rules{Unconfirmed: ptr(false)}}},
		{"unconfirmed on", "rules.unconfirmed = true\n", Config{Rules: Rules{Unconfirmed: ptr(true)}}},
	}
	for _, tt := range tests {
		got, err := parse(strings.NewReader(tt.doc), ".loftyscan.toml")
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		tt.want.Path = ".loftyscan.toml"
		if !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("%s: got %+v\nwant %+v", tt.name, *got, tt.want)
		}
	}
}

// TestParseUnset checks the contract the CLI's merge relies on: what the
// file does not set is nil.
func TestParseUnset(t *testing.T) {
	t.Parallel()
	c, err := parse(strings.NewReader("[archives]\ndepth = 2\n"), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Skip != nil || c.ContextNames != nil || c.Scopes != nil {
		t.Errorf("unset lists are not nil: %+v", c)
	}
	a := c.Archives
	if a.EntryBytes != nil || a.TotalBytes != nil || a.Ratio != nil || a.Entries != nil {
		t.Errorf("unset limits are not nil: %+v", a)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want []string // each a line of the error, in order
	}{
		{"unknown key", "skip = []\n\n[archives]\ndepth = 3\n\n\ndept = 3\n", []string{
			`config .loftyscan.toml:7: unknown key "archives.dept" (did you mean "archives.depth"?)`,
		}},
		{"unknown dotted key", "skip = []\narchive.dept = 3\n", []string{
			`config .loftyscan.toml:2: unknown key "archive.dept" (did you mean "archives.depth"?)`,
		}},
		{"key in the wrong table", "depth = 3\ncolor = true\n", []string{
			`config .loftyscan.toml:1: unknown key "depth" (did you mean "archives.depth"?)`,
			`config .loftyscan.toml:2: unknown key "color"`,
		}},
		{"syntax", "skip = [\"a\"\nscopes = 1\n", []string{
			`config .loftyscan.toml:2: expected ',' or ']' after array value`,
		}},
		{"unterminated string", "\n\nskip = [\"a]\n", []string{
			`config .loftyscan.toml:3: `,
		}},
		{"duplicate key", "[archives]\ndepth = 3\ndepth = 4\n", []string{
			`config .loftyscan.toml:3: `,
		}},
		{"wrong type", "\nskip = \"vendor/\"\n", []string{
			`config .loftyscan.toml:2: skip is a string: want an array of strings`,
		}},
		{"wrong element type", "scopes = [\"A\", 2]\n", []string{
			`config .loftyscan.toml:1: scopes holds an integer: want an array of strings`,
		}},
		{"date", "[archives]\ndepth = 2024-01-01\n", []string{
			`config .loftyscan.toml:2: archives.depth is a local date: want an integer`,
		}},
		{"integer wants integer", "[archives]\nratio = 1.5\n", []string{
			`config .loftyscan.toml:2: archives.ratio is a float: want an integer`,
		}},
		{"size of wrong type", "[archives]\nentry_bytes = true\n", []string{
			`config .loftyscan.toml:2: archives.entry_bytes is a boolean: want a number of bytes or a size such as "256MiB"`,
		}},
		{"archives not a table", "archives = 3\n", []string{
			`config .loftyscan.toml:1: archives is an integer: want a table`,
		}},
		{"values", `skip = [
  "vendor/",
  "",
  "src/[a",
]
context_names = ["acme", " "]
scopes = []

[archives]
depth = 11
entry_bytes = -1
total_bytes = "1.5GiB"
ratio = -2
entries = 0
`, []string{
			`config .loftyscan.toml:3: skip[1] is an empty string`,
			`config .loftyscan.toml:4: skip pattern "src/[a" has an unclosed '[' (write \[ for a literal one)`,
			`config .loftyscan.toml:6: context_names[1] is an empty string`,
			`config .loftyscan.toml:7: scopes is empty: remove the key to confirm keys by THIRD_PARTY_OPERATION, or list the scopes that confirm a key`,
			`config .loftyscan.toml:10: archives.depth is 11: want 0 (open no archives) to 10`,
			`config .loftyscan.toml:11: archives.entry_bytes is -1: a size cannot be negative`,
			`config .loftyscan.toml:12: archives.total_bytes: size "1.5GiB" is not a whole number: use a smaller unit ("1536MiB", not "1.5GiB")`,
			`config .loftyscan.toml:13: archives.ratio is -2: want at least 0`,
			`config .loftyscan.toml:14: archives.entries is 0: want at least 1 (set archives.depth = 0 to open no archives)`,
		}},
		{"inline table values", "archives = { depth = -1,\n  total_bytes = \"0\" }\n", []string{
			`config .loftyscan.toml:1: archives.depth is -1: want 0 (open no archives) to 10`,
			`config .loftyscan.toml:2: archives.total_bytes is 0: want at least 1 byte (set archives.depth = 0 to open no archives)`,
		}},
		{"size strings", "[archives]\nentry_bytes = \"lots\"\ntotal_bytes = \"-1GiB\"\n", []string{
			`config .loftyscan.toml:2: archives.entry_bytes: "lots" is not a size`,
			`config .loftyscan.toml:3: archives.total_bytes: size "-1GiB" is negative`,
		}},
		{"negative depth", "archives.depth = -1\n", []string{
			`config .loftyscan.toml:1: archives.depth is -1: want 0 (open no archives) to 10`,
		}},
	}
	for _, tt := range tests {
		c, err := parse(strings.NewReader(tt.doc), ".loftyscan.toml")
		if err == nil {
			t.Errorf("%s: no error, got %+v", tt.name, c)
			continue
		}
		lines := strings.Split(err.Error(), "\n")
		if len(lines) != len(tt.want) {
			t.Errorf("%s: got %d errors, want %d:\n%v", tt.name, len(lines), len(tt.want), err)
			continue
		}
		for i, want := range tt.want {
			if !strings.HasPrefix(lines[i], want) {
				t.Errorf("%s: error %d:\n got %s\nwant %s", tt.name, i+1, lines[i], want)
			}
			if strings.HasSuffix(lines[i], ".") {
				t.Errorf("%s: error ends in a period: %s", tt.name, lines[i])
			}
		}
	}
}

func TestParseManyErrors(t *testing.T) {
	t.Parallel()
	doc := "skip = [\n" + strings.Repeat("  \"[\",\n", 1000) + "]\n"
	_, err := parse(strings.NewReader(doc), "c.toml")
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxErrors+1 || lines[maxErrors] != "config c.toml: and 980 more problems" {
		t.Errorf("got %d lines, ending %q", len(lines), lines[len(lines)-1])
	}
}

func TestParseTooLarge(t *testing.T) {
	t.Parallel()
	doc := strings.Repeat("# padding\n", maxFileSize/10+1)
	_, err := parse(strings.NewReader(doc), "big.toml")
	if err == nil || !strings.HasPrefix(err.Error(), "config big.toml: larger than 1 MiB") {
		t.Errorf("error = %v", err)
	}
}

func TestFindAndLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if p, ok := Find(dir); ok {
		t.Errorf("Find in an empty dir = %q, true", p)
	}
	if p, ok := FindIgnore(dir); ok {
		t.Errorf("FindIgnore in an empty dir = %q, true", p)
	}
	// A file as the scan root (loftyscan dir some.env) has no config.
	file := filepath.Join(dir, "some.env")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if p, ok := Find(file); ok {
		t.Errorf("Find(file) = %q, true", p)
	}

	path := filepath.Join(dir, fileName)
	if err := os.WriteFile(path, []byte("context_names = [\"acme\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, ok := Find(dir)
	if !ok || got != path {
		t.Fatalf("Find = %q, %v; want %q, true", got, ok, path)
	}
	c, err := Load(got)
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != path || !reflect.DeepEqual(c.ContextNames, []string{"acme"}) {
		t.Errorf("Load = %+v", c)
	}

	_, err = Load(filepath.Join(dir, "missing.toml"))
	if err == nil || !strings.HasPrefix(err.Error(), "config "+filepath.Join(dir, "missing.toml")+": ") ||
		strings.Count(err.Error(), "missing.toml") != 1 {
		t.Errorf("Load(missing) error = %v", err)
	}
	// A directory where the file should be is found, and Load says what
	// is wrong, rather than the scan quietly running without it.
	sub := t.TempDir()
	if err := os.Mkdir(filepath.Join(sub, fileName), 0o755); err != nil {
		t.Fatal(err)
	}
	p, ok := Find(sub)
	if !ok {
		t.Fatal("Find did not report a directory named .loftyscan.toml")
	}
	if _, err := Load(p); err == nil || !strings.HasPrefix(err.Error(), "config ") {
		t.Errorf("Load(dir) error = %v", err)
	}
}

// TestConfigSkipCompiles checks the promise that a parsed Skip list always
// compiles.
func TestConfigSkipCompiles(t *testing.T) {
	t.Parallel()
	c, err := parse(strings.NewReader(`skip = ["vendor/", "**/*.min.js", "!vendor/keep.env", "\\#x", "[[:digit:]]*"]`), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewSkipMatcher(c.Skip); err != nil {
		t.Error(err)
	}
}
