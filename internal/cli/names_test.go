package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testgit"
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

// TestEncodedNamesHiddenEverywhere: a folder named after a key's base64
// stays hidden where TestEncodedNamesHidden does not look: in the paths of
// warnings (a broken link below it) and of --verbose's skips, printed as
// the scan meets them, and in the path of a key below it when the name's
// own finding is accepted by .loftyscanignore (the report then holds no
// finding of the name to hide it by).
func TestEncodedNamesHiddenEverywhere(t *testing.T) {
	nameKey := testtoken.Key("named", time.Time{})
	b64 := base64.URLEncoding.EncodeToString([]byte(nameKey))
	root := t.TempDir()
	dir := filepath.Join(root, b64)
	must(t, os.MkdirAll(filepath.Join(dir, "skipped"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "token.env"), []byte("LOFTY_API_KEY="+testtoken.Key("in the file", time.Time{})+"\n"), 0o644))
	must(t, os.Symlink(filepath.Join(root, "nowhere"), filepath.Join(dir, "link")))
	run := func(args ...string) (string, string) {
		var out, errb bytes.Buffer
		code := runEnv(context.Background(), append([]string{"dir", root}, args...), env{
			stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
			getenv: func(string) string { return "" },
		})
		if code != 1 {
			t.Fatalf("%v: exit %d, want 1\n%s", args, code, errb.String())
		}
		return out.String(), errb.String()
	}
	out, _ := run("--format", "json")
	var rep struct {
		Findings []struct{ Fingerprint, Location string }
	}
	must(t, json.Unmarshal([]byte(out), &rep))
	var fp string
	for _, f := range rep.Findings {
		if f.Location == "path" {
			fp = f.Fingerprint
		}
	}
	if fp == "" {
		t.Fatalf("no finding at location path:\n%s", out)
	}
	must(t, os.WriteFile(filepath.Join(root, ".loftyscanignore"), []byte(fp+"\n"), 0o644))
	for _, format := range reporters.Formats() {
		out, errb := run("--format", format, "-v", "--skip", "skipped/")
		for _, want := range []string{"link", "skipped"} {
			if !strings.Contains(errb, want) {
				t.Errorf("%s: no warning names %s:\n%s", format, want, errb)
			}
		}
		for _, s := range []string{b64, b64[10 : len(b64)-10]} {
			if strings.Contains(out, s) || strings.Contains(errb, s) {
				t.Errorf("%s: the name that holds the key as base64 is printed:\n%s\n%s", format, out, errb)
				break
			}
		}
	}
}

// TestEncodedRefNamesHidden: a branch and a tag named after a key's base64
// are findings (location ref, encoding base64), and no report prints the
// name as it is: not in their own findings, nor in the refs the exposure
// of a key in a file lists (the tag and the branch hold its commit).
func TestEncodedRefNamesHidden(t *testing.T) {
	nameKey := testtoken.Short("a ref named after it")
	b64 := base64.RawURLEncoding.EncodeToString([]byte(nameKey))
	r := testgit.New(t, "")
	r.Write("app.env", "LOFTY_API_KEY="+gitKey("in the file")+"\n")
	r.Commit("settings")
	r.Git("branch", "b-"+b64)
	r.Git("tag", "t-"+b64)
	for _, format := range reporters.Formats() {
		code, stdout, stderr := runGit(t, nil, "", "git", r.Dir, "--format", format)
		if code != 1 {
			t.Fatalf("%s: exit %d, want 1\n%s", format, code, stderr)
		}
		if strings.Contains(stdout+stderr, b64[20:60]) {
			t.Errorf("%s: the report prints a ref name that holds the key as base64:\n%s", format, stdout)
		}
		if format == reporters.FormatJSON && (strings.Count(stdout, `"location": "ref"`) != 2 || !strings.Contains(stdout, `"name": "refs/tags/t-[key eyJ`)) {
			t.Errorf("json: want two findings at location ref, and the tag in the file's exposure hidden:\n%s", stdout)
		}
	}
}
