package config

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// fp returns the fingerprint of a made-up token, as the scanner computes it.
func fp(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func TestIgnoreList(t *testing.T) {
	t.Parallel()
	a, b, c, d := fp("a"), fp("b"), fp("c"), fp("d")
	file := "\uFEFF# accepted findings\n" +
		"\n" +
		"# test fixtures: synthetic keys signed with the test secret\n" +
		a + " testdata/**\r\n" +
		strings.ToUpper(b) + "   # revoked 2024-05-02, see SEC-118\n" +
		"\n" +
		"   " + c + "\t*.zip\n" +
		c + " docs/ # the docs show a revoked key\n" +
		d + " issue#12/*.env\n"
	l, err := ParseIgnore(strings.NewReader(file), ".loftyscanignore")
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != 5 {
		t.Errorf("Len = %d, want 5", l.Len())
	}
	tests := []struct {
		fp, path string
		want     string // "" for not suppressed
	}{
		{a, "testdata/keys.env", ".loftyscanignore:4: test fixtures: synthetic keys signed with the test secret"},
		{a, "testdata/deep/x/keys.env", ".loftyscanignore:4: test fixtures: synthetic keys signed with the test secret"},
		{a, "src/keys.env", ""},
		{a, "src/testdata/keys.env", ""},
		{strings.ToUpper(a), "testdata/k", ".loftyscanignore:4: test fixtures: synthetic keys signed with the test secret"},
		{b, "anywhere/at/all.txt", ".loftyscanignore:5: revoked 2024-05-02, see SEC-118"},
		{b, "a.zip!b/c", ".loftyscanignore:5: revoked 2024-05-02, see SEC-118"},
		{c, "release.zip", ".loftyscanignore:7"},
		{c, "dist/release.zip!config/.env", ".loftyscanignore:7"},
		{c, "release.tar.gz!x.zip", ".loftyscanignore:7"},
		{c, "release.tar.gz!config/.env", ""},
		{c, "docs/guide.md", ".loftyscanignore:8: the docs show a revoked key"},
		{c, "docs.zip!docs/guide.md", ".loftyscanignore:7"},
		{c, "src/docs/guide.md", ".loftyscanignore:8: the docs show a revoked key"},
		{c, "src/guide.md", ""},
		{d, "issue#12/a.env", ".loftyscanignore:9"},
		{d, "issue#12/a/b.env", ""},
		{fp("e"), "testdata/keys.env", ""},
		{"", "testdata/keys.env", ""},
	}
	for _, tt := range tests {
		reason, ok := l.Suppresses(tt.fp, tt.path)
		if ok != (tt.want != "") || reason != tt.want {
			t.Errorf("Suppresses(%.8s…, %q) = %q, %v; want %q", tt.fp, tt.path, reason, ok, tt.want)
		}
	}
	var nilList *IgnoreList
	if _, ok := nilList.Suppresses(a, "x"); ok || nilList.Len() != 0 {
		t.Error("a nil list suppresses")
	}
}

func TestParseIgnoreErrors(t *testing.T) {
	t.Parallel()
	good := fp("good")
	token := secret // a synthetic key pasted where its fingerprint belongs
	tests := []struct {
		name, file, want string
	}{
		{"short", good + "\n\nabc123\n", "ignore .loftyscanignore:3: a fingerprint is 64 hex digits, found 6 characters: copy it from the \"fingerprint\" of a JSON report"},
		{"not hex", strings.Repeat("g", 64) + "\n", "ignore .loftyscanignore:1: a fingerprint is 64 hex digits, character 1 is not one: copy it from the \"fingerprint\" of a JSON report"},
		{"too many fields", good + " a b\n", `ignore .loftyscanignore:1: want "fingerprint [path-glob]", found 3 fields`},
		{"negated glob", good + " !x\n", `ignore .loftyscanignore:1: path glob "!x" starts with '!'`},
		{"bad glob", "# ok\n" + good + " src/[a\n", `ignore .loftyscanignore:2: path glob "src/[a" has an unclosed '['`},
		{"token pasted", "# oops\n" + token + " # the lofty key\n", "ignore .loftyscanignore:2: this looks like a key, not its fingerprint"},
		{"long line", strings.Repeat("x", 70000) + "\n", "ignore .loftyscanignore: a line is longer than 64 KiB"},
	}
	for _, tt := range tests {
		_, err := ParseIgnore(strings.NewReader(tt.file), ".loftyscanignore")
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: error = %v\nwant %s", tt.name, err, tt.want)
			continue
		}
		if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), token[:30]) {
			t.Errorf("%s: error contains the token: %v", tt.name, err)
		}
	}
}
