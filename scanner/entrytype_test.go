package scanner

import (
	"archive/tar"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/internal/testtool"
)

// Archive entries whose type or mode is not "regular file" but that carry
// the content the unpacking tools write out. Skipping them by their type
// was a silent clean: no finding, no warning.

// TestZipEntryModes: Info-ZIP's zip reading standard input from a pipe
// (`kubectl get secret -o yaml | zip secrets.zip -`) records the entry as a
// named pipe; unzip writes its content all the same. A symbolic link
// entry (zip -y) holds its target as content, as git holds a link's target
// in a blob. Both are scanned.
func TestZipEntryModes(t *testing.T) {
	t.Parallel()
	zipTool := testtool.Need(t, "zip")
	unzip := testtool.Need(t, "unzip")
	dir := t.TempDir()
	content := "LOFTY_API_KEY=" + keyActive + "\n"

	piped := filepath.Join(dir, "piped.zip")
	cmd := exec.Command(zipTool, "-q", piped, "-")
	cmd.Stdin = strings.NewReader(content) // a pipe: zip records a FIFO
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("zip: %v\n%s", err, msg)
	}
	if out, err := exec.Command(unzip, "-p", piped).Output(); err != nil || string(out) != content {
		t.Fatalf("unzip -p gave %q (%v); want the key", out, err)
	}

	src := t.TempDir()
	if err := os.Symlink("/run/secrets/"+keyExpired, filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	linked := filepath.Join(dir, "linked.zip")
	cmd = exec.Command(zipTool, "-q", "-y", linked, "link")
	cmd.Dir = src
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("zip -y: %v\n%s", err, msg)
	}

	c, st := scanPaths(t, testOptions(), dir)
	checkFound(t, c.Findings,
		wantFinding{Path: "linked.zip!link", Line: 1, Column: 14, Token: keyExpired},
		wantFinding{Path: "piped.zip!-", Line: 1, Column: 15, Token: keyActive},
	)
	checkWarnings(t, c.Warnings)
	checkStats(t, st, c, 2, 0, 0)
}

// TestTarEntryTypes: GNU tar extracts a contiguous file (type '7') and an
// entry of a type it does not know as regular files; both are scanned.
func TestTarEntryTypes(t *testing.T) {
	t.Parallel()
	tarTool := testtool.Need(t, "tar")
	content := "LOFTY_API_KEY=" + keyActive + "\n"
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, h := range []struct {
		name string
		typ  byte
	}{{"contiguous.env", tar.TypeCont}, {"vendor.env", 'Z'}} {
		if err := tw.WriteHeader(&tar.Header{Name: h.name, Typeflag: h.typ, Mode: 0o644, Size: int64(len(content)), Format: tar.FormatGNU}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	p := writeFixture(t, t.TempDir(), "types.tar", b.Bytes())
	for _, name := range []string{"contiguous.env", "vendor.env"} {
		if out, err := exec.Command(tarTool, "-xOf", p, name).Output(); err != nil || string(out) != content {
			t.Fatalf("tar -xO %s gave %q (%v); want the key", name, out, err)
		}
	}

	c, st := scanPaths(t, testOptions(), p)
	checkFound(t, c.Findings,
		wantFinding{Path: "types.tar!contiguous.env", Line: 1, Column: 15, Token: keyActive},
		wantFinding{Path: "types.tar!vendor.env", Line: 1, Column: 15, Token: keyActive},
	)
	checkWarnings(t, c.Warnings)
	checkStats(t, st, c, 2, 0, 0)
}
