package scanner

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestLauncherZip: a zip archive after a launcher, as Python's zipapp
// writes a zip application (a "#!" line, then the archive) and as a
// "fully executable" jar is made (a shell script, then the jar), is opened
// and its entries scanned, and so is the launcher: in a folder, as a blob
// scanned in memory (ScanBytes, as git blobs are), at any size around the
// worker's buffer. A script that only starts like one is scanned as
// before.
func TestLauncherZip(t *testing.T) {
	t.Parallel()
	python, zipTool := tool(t, "python3"), tool(t, "zip")
	dir := t.TempDir()
	app := writeFixture(t, dir, "src/app/__main__.py", []byte("LOFTY_API_KEY = \""+keyActive+"\"\n"))

	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	out := filepath.Join(dir, "out")
	run(python, "-m", "zipapp", filepath.Dir(app), "-p", "/usr/bin/env python3", "-c", "-o", filepath.Join(dir, "crm_sync.pyz"))
	jar := filepath.Join(dir, "app.jar")
	cmd := exec.Command(zipTool, "-q", jar, "__main__.py")
	cmd.Dir = filepath.Dir(app)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("zip: %v\n%s", err, b)
	}
	jarBytes, err := os.ReadFile(jar)
	if err != nil {
		t.Fatal(err)
	}
	pyz, err := os.ReadFile(filepath.Join(dir, "crm_sync.pyz"))
	if err != nil {
		t.Fatal(err)
	}
	launcher := "#!/bin/bash\n# launch script\nexport LOFTY_API_KEY=" + keyActive + "\nexec java -jar \"$0\" \"$@\"\n"
	files := map[string][]byte{
		"crm_sync.pyz": pyz,
		"exec.jar":     append([]byte(launcher), jarBytes...),
		// A launcher longer than the worker's buffer: the file is read
		// the general way.
		"big.jar": append([]byte(launcher+"# "+strings.Repeat("x", 3<<19)+"\n"), jarBytes...),
	}
	want := map[string][]string{
		"crm_sync.pyz": {"crm_sync.pyz!__main__.py:1"},
		"exec.jar":     {"exec.jar!__main__.py:1", "exec.jar:3"},
		"big.jar":      {"big.jar!__main__.py:1", "big.jar:3"},
	}
	for name, data := range files {
		writeFixture(t, out, name, data)
	}
	c, st := scanPaths(t, testOptions(), out)
	got := map[string][]string{}
	for _, f := range c.Findings {
		top, _, _ := strings.Cut(f.Path, "!")
		got[filepath.Base(top)] = append(got[filepath.Base(top)], fmt.Sprintf("%s:%d", strings.TrimPrefix(f.Path, filepath.ToSlash(out)+"/"), f.Line))
	}
	for name, w := range want {
		g := got[name]
		sort.Strings(g)
		if strings.Join(g, " ") != strings.Join(w, " ") {
			t.Errorf("folder: %s: found %v, want %v", name, g, w)
		}
	}
	if st.Warnings != 0 || st.Errors != 0 {
		t.Errorf("folder: %d warnings, %d errors", st.Warnings, st.Errors)
	}
	// Held in memory, as a git blob is.
	for name, data := range files {
		c := &Collector{}
		r := New(testOptions()).Start(c)
		if err := r.NewWorker().ScanBytes(t.Context(), name, data); err != nil {
			t.Fatal(err)
		}
		var g []string
		for _, f := range c.Findings {
			g = append(g, fmt.Sprintf("%s:%d", f.Path, f.Line))
		}
		sort.Strings(g)
		if strings.Join(g, " ") != strings.Join(want[name], " ") {
			t.Errorf("in memory: %s: found %v, want %v", name, g, want[name])
		}
	}
	// Text no entry holds, around the archive: after it, in its comment,
	// and in a launcher that holds a local header's magic itself. Each is
	// reported at its line and column in the file.
	comment := exec.Command(zipTool, "-z", jar)
	comment.Stdin = strings.NewReader("KEY=" + keyActive + "\n.\n")
	if b, err := comment.CombinedOutput(); err != nil {
		t.Fatalf("zip -z: %v\n%s", err, b)
	}
	commented, err := os.ReadFile(jar)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"after.sh":   append(append([]byte("#!/bin/sh\nexit 0\n"), jarBytes...), []byte("LOFTY_KEY="+keyActive+"\n")...),
		"comment.sh": append([]byte("#!/usr/bin/env python3\n"), commented...),
		"decoy.sh":   append([]byte("#!/bin/sh\n# marker PK\x03\x04 here\nKEY="+keyActive+"\n"), jarBytes...),
	} {
		at := bytes.LastIndex(data, []byte(keyActive))
		line := bytes.Count(data[:at], []byte("\n")) + 1
		col := at - bytes.LastIndexByte(data[:at], '\n')
		for _, how := range []string{"folder", "in memory"} {
			var c *Collector
			if how == "folder" {
				d := t.TempDir()
				writeFixture(t, d, name, data)
				c, _ = scanPaths(t, testOptions(), d)
			} else {
				c = &Collector{}
				if err := New(testOptions()).Start(c).NewWorker().ScanBytes(t.Context(), name, data); err != nil {
					t.Fatal(err)
				}
			}
			var found bool
			for _, f := range c.Findings {
				found = found || !strings.Contains(f.Path, "!") && f.Line == line && f.Column == col
			}
			if !found {
				t.Errorf("%s, %s: the key at %d:%d not found: %+v", name, how, line, col, c.Findings)
			}
		}
	}
	// Scripts that only start like one: no end record, or no local header.
	for _, data := range [][]byte{
		[]byte("#!/bin/sh\nLOFTY_API_KEY=" + keyActive + "\n"),
		append([]byte("#!/bin/sh\nLOFTY_API_KEY="+keyActive+"\n"), jarBytes[bytes.LastIndex(jarBytes, []byte(eocdMagic)):]...),
	} {
		c, st := scanData(t, testOptions(), data)
		if len(c.Findings) != 1 || c.Findings[0].Line != 2 || st.Warnings != 0 {
			t.Errorf("a script: %d findings, %d warnings", len(c.Findings), st.Warnings)
		}
		dir := t.TempDir()
		writeFixture(t, dir, "run.sh", data)
		if c, _ := scanPaths(t, testOptions(), dir); len(c.Findings) != 1 || c.Findings[0].Line != 2 {
			t.Errorf("a script in a folder: %d findings", len(c.Findings))
		}
	}
}
