package e2e

// The release, as GoReleaser builds it from .goreleaser.yaml: a snapshot
// for this machine's platform only (CI cost), whose archives must carry the
// licence, README, completions and man page, whose checksums must hold,
// whose .deb must install and print the stamped version, and which must come
// out byte-identical when built again from another folder.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testtool"
	"gopkg.in/yaml.v3"
)

// releaseArtifact is one entry of GoReleaser's dist/artifacts.json.
type releaseArtifact struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	Goos   string `json:"goos"`
	Goarch string `json:"goarch"`
	Type   string `json:"type"`
}

// releaseSnapshot is a finished `goreleaser release --snapshot` run.
type releaseSnapshot struct {
	dir       string // the snapshot repository; dist/ is in it
	commit    string
	version   string // from dist/metadata.json
	artifacts []releaseArtifact
}

// singleTargetConfig writes a copy of the repository's .goreleaser.yaml
// that builds for this machine's GOOS and GOARCH only, and returns its
// path. Everything else (hooks, archives, packages, cask) is as released.
func singleTargetConfig(t *testing.T, repo string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repo, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	builds := mappingValue(doc.Content[0], "builds")
	if builds == nil || len(builds.Content) == 0 {
		t.Fatal(".goreleaser.yaml has no builds")
	}
	for _, b := range builds.Content {
		for key, value := range map[string]string{"goos": runtime.GOOS, "goarch": runtime.GOARCH} {
			v := mappingValue(b, key)
			if v == nil {
				t.Fatalf(".goreleaser.yaml: a build without %s", key)
			}
			*v = yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: value}}}
		}
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "goreleaser-single-target.yaml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// mappingValue returns the value of key in a YAML mapping node, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// buildReleaseSnapshot runs GoReleaser on a fresh snapshot of the working
// tree, publishing nothing and building no image (no docker here).
func buildReleaseSnapshot(t *testing.T, env []string) releaseSnapshot {
	t.Helper()
	dir, commit := snapshotWorkTree(t, env)
	cfg := singleTargetConfig(t, dir)
	start := time.Now()
	releaseMust(t, dir, env, "goreleaser", "release", "--snapshot", "--clean", "--skip=publish,docker", "-f", cfg)
	t.Logf("goreleaser release --snapshot (one target) in %s: %s", dir, time.Since(start).Round(time.Second))

	s := releaseSnapshot{dir: dir, commit: commit}
	var meta struct{ Version, Commit string }
	readJSON(t, filepath.Join(dir, "dist", "metadata.json"), &meta)
	readJSON(t, filepath.Join(dir, "dist", "artifacts.json"), &s.artifacts)
	if meta.Commit != commit || meta.Version == "" {
		t.Fatalf("dist/metadata.json: version %q, commit %q; want commit %s", meta.Version, meta.Commit, commit)
	}
	s.version = meta.Version
	return s
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// ofType returns the artifacts of one GoReleaser type ("Archive", "Linux
// Package", "Checksum", ...).
func (s releaseSnapshot) ofType(typ string) []releaseArtifact {
	var out []releaseArtifact
	for _, a := range s.artifacts {
		if a.Type == typ {
			out = append(out, a)
		}
	}
	return out
}

func (s releaseSnapshot) path(a releaseArtifact) string { return filepath.Join(s.dir, a.Path) }

// TestReleaseSnapshot builds the release with GoReleaser and checks what a
// user downloads: archives, checksums, the Debian package, the cask. Then it
// builds it again from another snapshot of the same commit, in another
// folder: every archive and package must come out byte-identical.
func TestReleaseSnapshot(t *testing.T) {
	t.Parallel()
	testtool.Need(t, "git")
	testtool.Need(t, "go")
	testtool.Need(t, "goreleaser")
	env := releaseEnv(t)
	s := buildReleaseSnapshot(t, env)
	commitTime := strings.TrimSpace(releaseMust(t, s.dir, env, "git", "log", "-1", "--format=%cI"))
	when, err := time.Parse(time.RFC3339, commitTime)
	if err != nil {
		t.Fatal(err)
	}
	wantVersion := "loftyscan " + s.version + " (commit " + s.commit + ", built " + when.UTC().Format(time.RFC3339) + ")"

	t.Run("archives", func(t *testing.T) {
		archives := s.ofType("Archive")
		if len(archives) != 1 {
			t.Fatalf("want the archive of %s/%s, got %+v", runtime.GOOS, runtime.GOARCH, archives)
		}
		for _, a := range archives {
			checkArchive(t, s.path(a), when)
		}
	})

	t.Run("checksums", func(t *testing.T) {
		sums := s.ofType("Checksum")
		if len(sums) != 1 {
			t.Fatalf("want one checksums file, got %+v", sums)
		}
		data, err := os.ReadFile(s.path(sums[0]))
		if err != nil {
			t.Fatal(err)
		}
		listed := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			sum, name, ok := strings.Cut(line, "  ")
			if !ok {
				t.Fatalf("checksums line %q is not `SUM  NAME` (what sha256sum -c reads)", line)
			}
			listed[name] = sum
		}
		for _, a := range append(s.ofType("Archive"), s.ofType("Linux Package")...) {
			b, err := os.ReadFile(s.path(a))
			if err != nil {
				t.Fatal(err)
			}
			got := sha256.Sum256(b)
			if listed[a.Name] != hex.EncodeToString(got[:]) {
				t.Errorf("%s: checksums.txt says %q, the file's SHA-256 is %x", a.Name, listed[a.Name], got)
			}
		}
	})

	t.Run("deb", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skipf("packages are built for linux only, this is %s", runtime.GOOS)
		}
		testtool.Need(t, "dpkg")
		var deb, rpm string
		for _, a := range s.ofType("Linux Package") {
			switch filepath.Ext(a.Name) {
			case ".deb":
				deb = s.path(a)
			case ".rpm":
				rpm = s.path(a)
			}
		}
		if deb == "" || rpm == "" {
			t.Fatalf("want a .deb and an .rpm, got %+v", s.ofType("Linux Package"))
		}
		root := installDeb(t, deb)
		for _, f := range []string{
			"usr/share/doc/loftyscan/LICENSE",
			"usr/share/man/man1/loftyscan.1.gz",
			"usr/share/bash-completion/completions/loftyscan",
			"usr/share/zsh/vendor-completions/_loftyscan",
			"usr/share/fish/vendor_completions.d/loftyscan.fish",
		} {
			if _, err := os.Stat(filepath.Join(root, f)); err != nil {
				t.Errorf("the package did not install /%s: %v", f, err)
			}
		}
		out := strings.TrimSpace(releaseMust(t, root, env, filepath.Join(root, "usr", "bin", "loftyscan"), "version"))
		if out != wantVersion {
			t.Errorf("installed loftyscan version:\n got %q\nwant %q", out, wantVersion)
		}
	})

	t.Run("cask", func(t *testing.T) {
		casks := s.ofType("Homebrew Cask")
		if len(casks) != 1 {
			t.Fatalf("want one Homebrew cask, got %+v", casks)
		}
		data, err := os.ReadFile(s.path(casks[0]))
		if err != nil {
			t.Fatal(err)
		}
		cask := string(data)
		for _, want := range []string{`cask "loftyscan"`, `version "` + s.version + `"`, `binary "loftyscan"`,
			`manpage "manpages/loftyscan.1.gz"`, `bash_completion "completions/loftyscan.bash"`} {
			if !strings.Contains(cask, want) {
				t.Errorf("the cask lacks %s:\n%s", want, cask)
			}
		}
	})

	t.Run("reproducible", func(t *testing.T) {
		again := buildReleaseSnapshot(t, env)
		if again.commit != s.commit {
			t.Fatalf("two snapshots of one working tree have different commits (%s, %s)", s.commit, again.commit)
		}
		if a, b := readChecksums(t, s), readChecksums(t, again); a != b {
			t.Errorf("two builds of one commit differ:\n%s\n%s", a, b)
		}
	})
}

func readChecksums(t *testing.T, s releaseSnapshot) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(s.dir, "dist", "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// checkArchive checks that a release tar.gz holds the binary, LICENSE,
// README.md, the three completions and a gzipped roff man page, each dated
// with the commit's time (what makes the archive reproducible).
func checkArchive(t *testing.T, path string, commitTime time.Time) {
	t.Helper()
	if !strings.HasSuffix(path, ".tar.gz") {
		t.Fatalf("%s: this test reads tar.gz archives", path)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"loftyscan": false, "LICENSE": false, "README.md": false,
		"completions/loftyscan.bash": false, "completions/loftyscan.zsh": false,
		"completions/loftyscan.fish": false, "manpages/loftyscan.1.gz": false}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if _, ok := want[h.Name]; ok {
			want[h.Name] = true
		}
		if !h.ModTime.Equal(commitTime) {
			t.Errorf("%s: %s is dated %s, not the commit's %s", filepath.Base(path), h.Name, h.ModTime.UTC(), commitTime.UTC())
		}
		switch h.Name {
		case "LICENSE":
			b, _ := io.ReadAll(tr)
			if !bytes.Contains(b, []byte("Apache License\n                           Version 2.0")) {
				t.Errorf("%s: LICENSE is not the Apache License 2.0", filepath.Base(path))
			}
		case "manpages/loftyscan.1.gz":
			mr, err := gzip.NewReader(tr)
			if err != nil {
				t.Fatalf("%s: the man page is not gzip: %v", filepath.Base(path), err)
			}
			b, _ := io.ReadAll(mr)
			if !bytes.Contains(b, []byte("\n.TH ")) && !bytes.HasPrefix(b, []byte(".TH ")) {
				t.Errorf("%s: the man page is not roff (no .TH line):\n%.300s", filepath.Base(path), b)
			}
		case "completions/loftyscan.bash":
			b, _ := io.ReadAll(tr)
			if !bytes.Contains(b, []byte("complete ")) || !bytes.Contains(b, []byte("loftyscan")) {
				t.Errorf("%s: the bash completion does not complete loftyscan:\n%.300s", filepath.Base(path), b)
			}
		}
	}
	for name, found := range want {
		if !found {
			t.Errorf("%s lacks %s", filepath.Base(path), name)
		}
	}
}

// installDeb installs a .deb with the real dpkg into a throwaway root and
// returns that root. --root makes dpkg unpack below the folder and keep its
// database in ROOT/var/lib/dpkg (--admindir says so explicitly), so the
// machine's own package database never learns of the package;
// --force-not-root lets a non-root user do it; --force-script-chrootless
// runs maintainer scripts (the package has none) without chroot, which needs
// root.
func installDeb(t *testing.T, deb string) string {
	t.Helper()
	root := t.TempDir()
	admin := filepath.Join(root, "var", "lib", "dpkg")
	for _, d := range []string{"info", "updates", "triggers"} {
		if err := os.MkdirAll(filepath.Join(admin, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"status", "available"} {
		if err := os.WriteFile(filepath.Join(admin, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := releaseEnv(t)
	hostBefore, _ := releaseRun(root, env, "dpkg-query", "-W", "loftyscan")
	releaseMust(t, root, env, "dpkg", "--root="+root, "--admindir="+admin, "--log=/dev/null",
		"--force-not-root", "--force-script-chrootless", "--no-triggers", "-i", deb)
	status := releaseMust(t, root, env, "dpkg-query", "--admindir="+admin, "-W", "-f=${Status}", "loftyscan")
	if status != "install ok installed" {
		t.Errorf("dpkg-query in the throwaway root: %q, want install ok installed", status)
	}
	if hostAfter, _ := releaseRun(root, env, "dpkg-query", "-W", "loftyscan"); hostAfter != hostBefore {
		t.Errorf("the machine's own dpkg database changed:\nbefore %q\nafter  %q", hostBefore, hostAfter)
	}
	return root
}
