package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testtoken"
	"github.com/loftyscan/loftyscan/reporters"
)

// TestEncodedNamesHidden: a folder named after a key's base64 is a
// finding (location path, encoding base64), and no report prints that
// name as it is, in that finding's path or in the path of a key found in
// a file below it: finding's redaction sees only key-shaped text, so the
// report hides every form of such a key in every path.
func TestEncodedNamesHidden(t *testing.T) {
	nameKey := testtoken.Key("named", time.Time{})
	b64 := base64.URLEncoding.EncodeToString([]byte(nameKey))
	if len(b64) > 250 {
		t.Fatalf("base64 of the key is %d bytes: too long for a name", len(b64))
	}
	fileKey := testtoken.Key("in the file", time.Time{})
	root := t.TempDir()
	dir := filepath.Join(root, "cache", b64)
	must(t, os.MkdirAll(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "token.env"), []byte("LOFTY_API_KEY="+fileKey+"\n"), 0o644))
	for _, format := range reporters.Formats() {
		var out, errb bytes.Buffer
		code := runEnv(context.Background(), []string{"dir", root, "--format", format}, env{
			stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
			getenv: func(string) string { return "" },
		})
		if code != 1 {
			t.Fatalf("%s: exit %d, want 1\n%s", format, code, errb.String())
		}
		for _, s := range []string{b64, b64[10 : len(b64)-10]} {
			if strings.Contains(out.String(), s) || strings.Contains(errb.String(), s) {
				t.Errorf("%s: the report prints the name that holds the key as base64:\n%s", format, out.String())
				break
			}
		}
		if format == reporters.FormatJSON {
			for _, want := range []string{`"location": "path"`, `"encoding": "base64"`, `as base64]`, `/token.env"`} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("json: no %s in\n%s", want, out.String())
				}
			}
		}
	}
}
