package remediate

import (
	"archive/zip"
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testtoken"
	"github.com/loftyscan/loftyscan/scanner"
)

// TestManualStepsRemovePathsThatLookLikeOptions: the by-hand step for a
// key in an archive deletes the archive with git filter-repo --path. An
// archive whose name starts with "-" was passed as "--path -evil.zip",
// which filter-repo's option parser reads as a missing argument ("expected
// one argument"): the step failed and the key stayed. Run for real, each
// manual step's command must remove its file from every commit.
func TestManualStepsRemovePathsThatLookLikeOptions(t *testing.T) {
	requireFilterRepo(t)
	base := t.TempDir()
	r := newRepo(t, filepath.Join(base, "repo"))
	r.commit("add the archives", map[string]string{
		"-evil.zip":        zipOfKey(t, "dash"),
		"--force/then.zip": zipOfKey(t, "force"),
		"src/main.go":      "package main\n",
	})

	// Default options, as the CLI has them: archives are opened.
	p := buildPlan(t, r.dir, base, scanRepoWith(t, r.dir, scanner.DefaultOptions()))
	if len(p.Manual) != 2 {
		t.Fatalf("%d manual steps, want one for each archive: %+v", len(p.Manual), p.Manual)
	}
	for _, m := range p.Manual {
		args := append(append([]string{}, m.Command.Args[1:]...), "--force") // this is not a fresh clone
		cmd := exec.Command("git", args...)
		cmd.Dir = r.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", shellLine(*m.Command), err, out)
		}
	}
	files := r.git("log", "--all", "--format=", "--name-only")
	for _, f := range []string{"-evil.zip", "--force/then.zip"} {
		if strings.Contains(files, f) {
			t.Errorf("%s is still in the history after the plan's by-hand steps", f)
		}
	}
	if !strings.Contains(files, "src/main.go") {
		t.Errorf("the other files went too:\n%s", files)
	}
}

// runManualAsPrinted runs the command of each step by hand of p through
// bash, as its plan prints it, in the repository at dir (with --force:
// this is not a fresh clone).
func runManualAsPrinted(t *testing.T, dir string, p *Plan) {
	t.Helper()
	for _, m := range p.Manual {
		line := shellLine(*m.Command) + " --force"
		cmd := exec.Command("bash", "-c", line)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", line, err, out)
		}
	}
}

// zipOfKey is a zip archive holding an .env file with the key for sub.
func zipOfKey(t *testing.T, sub string) string {
	t.Helper()
	secret, _ := testKey(sub)
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, err := zw.Create("config/.env")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("LOFTY_API_KEY=" + secret + "\n")); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return zb.String()
}

// A path that holds a key-shaped part (a backup named after a token) is
// printed redacted, as every argument of the plan is: a step printed as
// --path=<redacted> named no file, so run as printed it deleted nothing and
// the key stayed. Such a path goes into a file of the plan folder that
// --paths-from-file reads; each command, run through a shell exactly as the
// plan prints it, removes its archive.
func TestManualStepsRemovePathsThatHoldAKey(t *testing.T) {
	requireFilterRepo(t)
	base := t.TempDir()
	r := newRepo(t, filepath.Join(base, "repo"))
	lofty, _ := testKey("in-a-name")
	paths := []string{"backups/keys-" + lofty + ".zip", "fixtures/" + testtoken.Generic("sample") + ".zip"}
	r.commit("add the archives", map[string]string{
		paths[0]:      zipOfKey(t, "named"),
		paths[1]:      zipOfKey(t, "generic-named"),
		"src/main.go": "package main\n",
	})
	p := buildPlan(t, r.dir, base, scanRepoWith(t, r.dir, scanner.DefaultOptions()))
	if len(p.Manual) != 2 {
		t.Fatalf("%d manual steps, want one for each archive: %+v", len(p.Manual), p.Manual)
	}
	var text bytes.Buffer
	p.Write(&text, FormatText)
	if strings.Contains(text.String(), lofty) {
		t.Fatal("the plan prints the key of a path")
	}
	runManualAsPrinted(t, r.dir, p)
	files := r.git("log", "--all", "--format=", "--name-only")
	for _, f := range paths {
		if strings.Contains(files, f) {
			t.Errorf("%s is still in the history after the plan's by-hand steps, run as printed", clean(f))
		}
	}
	if !strings.Contains(files, "src/main.go") {
		t.Errorf("the other files went too:\n%s", files)
	}
}

// A scan names a place inside an archive "outer!inner", and "!" is also a
// character a file's name can hold. A key in plain text in the file
// "src!x.env" was read as a key inside the archive "src", and the plan's
// step by hand deleted the folder src, with every file in it, from every
// commit. A file is taken for an archive only when the part before a "!"
// is a file of the commit; the archive "a!b.zip" is still deleted whole.
func TestManualStepsDeleteNoFolderForAnExclamationMark(t *testing.T) {
	requireFilterRepo(t)
	base := t.TempDir()
	r := newRepo(t, filepath.Join(base, "repo"))
	secret, _ := testKey("bang")
	r.commit("add", map[string]string{
		"src/main.go":    "package main\n",
		"src!x.env":      "LOFTY_API_KEY=" + secret + "\n",
		"docs/a!b.zip":   zipOfKey(t, "bang-archive"),
		"docs/guide.md":  "# guide\n",
		"docs/a/keep.md": "kept\n",
	})
	p := buildPlan(t, r.dir, base, scanRepoWith(t, r.dir, scanner.DefaultOptions()))
	if len(p.Manual) != 1 || shellLine(*p.Manual[0].Command) != "git filter-repo --invert-paths '--path=docs/a!b.zip'" {
		t.Fatalf("manual steps %+v, want one deleting docs/a!b.zip", p.Manual)
	}
	runCommands(t, base, p.Rewrite)
	runManualAsPrinted(t, r.dir, p)
	files := r.git("log", "--all", "--format=", "--name-only")
	for _, f := range []string{"src/main.go", "src!x.env", "docs/guide.md", "docs/a/keep.md"} {
		if !strings.Contains(files, f+"\n") {
			t.Errorf("%s went from the history:\n%s", f, files)
		}
	}
	if strings.Contains(files, "docs/a!b.zip") {
		t.Errorf("the archive is still in the history")
	}
	if left := scanRepo(t, r.dir); len(left) > 0 {
		t.Errorf("keys left:\n%s", describeKeys(left))
	}
}

// A scan reports a path as UTF-8, each byte that is not replaced by U+FFFD
// (finding.ValidPath), and the by-hand step named that path: for an
// archive named "latin\xE9\xFF.zip" it deleted "latin\uFFFD\uFFFD.zip",
// no file, and the key stayed. The step names the path as the commit
// stores it, and run as printed, it removes the archive.
func TestManualStepsRemovePathsThatAreNotUTF8(t *testing.T) {
	requireFilterRepo(t)
	base := t.TempDir()
	r := newRepo(t, filepath.Join(base, "repo"))
	r.commit("add", map[string]string{
		"latin\xe9\xff.zip":  zipOfKey(t, "latin"),
		"dir\xfe/inner.zip":  zipOfKey(t, "latin-dir"),
		"latin\xe9\xfe.keep": "kept\n",
		"src/main.go":        "package main\n",
	})
	p := buildPlan(t, r.dir, base, scanRepoWith(t, r.dir, scanner.DefaultOptions()))
	if len(p.Manual) != 2 {
		t.Fatalf("%d manual steps, want one for each archive: %+v", len(p.Manual), p.Manual)
	}
	runManualAsPrinted(t, r.dir, p)
	files := r.git("-c", "core.quotePath=false", "log", "--all", "--format=", "--name-only")
	for _, f := range []string{"latin\xe9\xff.zip", "dir\xfe/inner.zip"} {
		if strings.Contains(files, f) {
			t.Errorf("%s is still in the history after the plan's by-hand steps, run as printed", clean(f))
		}
	}
	for _, f := range []string{"src/main.go", "latin\xe9\xfe.keep"} {
		if !strings.Contains(files, f) {
			t.Errorf("%s went too:\n%s", clean(f), clean(files))
		}
	}
}
