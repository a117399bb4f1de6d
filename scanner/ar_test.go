package scanner

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// arMember writes one member of an ar archive as it is written: the
// 60-byte header and the data, padded to an even length; name as the
// header holds it.
func arMember(name string, data []byte) string {
	s := fmt.Sprintf("%-16s%-12d%-6d%-6d%-8s%-10d`\n", name, 0, 0, 0, "100644", len(data)) + string(data)
	if len(data)%2 == 1 {
		s += "\n"
	}
	return s
}

// TestArArchives: a Debian package dpkg-deb builds (its data.tar.xz) and a
// static library ar builds (a member with a GNU long name) are opened and
// their members scanned, as are BSD long names; a damaged archive says so
// and keeps what was read.
func TestArArchives(t *testing.T) {
	t.Parallel()
	dpkgDeb, ar := tool(t, "dpkg-deb"), tool(t, "ar")
	dir := t.TempDir()
	pkg := filepath.Join(dir, "pkg")
	writeFixture(t, pkg, "DEBIAN/control", []byte("Package: crm-sync\nVersion: 1.0\nArchitecture: all\nMaintainer: ops <ops@example.com>\nDescription: sync\n"))
	writeFixture(t, pkg, "etc/crm-sync/settings.env", []byte("LOFTY_API_KEY="+keyActive+"\n"))
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(cmd *exec.Cmd) {
		t.Helper()
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd.Args, err, b)
		}
	}
	run(exec.Command(dpkgDeb, "-Zxz", "--root-owner-group", "--build", pkg, filepath.Join(out, "crm-sync_1.0_all.deb")))
	src := writeFixture(t, dir, "lib/a_rather_long_member_name.c", []byte("static const char *k = \""+keyActive+"\";\n"))
	cmd := exec.Command(ar, "rc", filepath.Join(out, "libcrm.a"), filepath.Base(src))
	cmd.Dir = filepath.Dir(src)
	run(cmd)
	// BSD ar: the name's length in the header, the name before the data.
	bsdName := "a_long_bsd_member_name.env"
	writeFixture(t, out, "bsd.a", []byte(arMagic+arMember(fmt.Sprintf("#1/%d", len(bsdName)), []byte(bsdName+"K="+keyActive+"\n"))))
	// Cut short in its second member: the first is still reported.
	writeFixture(t, out, "cut.a", []byte(arMagic+arMember("one.env", []byte("K="+keyActive+"\n"))+arMember("two.env", []byte(strings.Repeat("x", 100)))[:80]))

	c, st := scanPaths(t, testOptions(), out)
	var got []string
	for _, f := range c.Findings {
		got = append(got, fmt.Sprintf("%s:%d", strings.TrimPrefix(f.Path, filepath.ToSlash(out)+"/"), f.Line))
	}
	sort.Strings(got)
	want := []string{
		"bsd.a!" + bsdName + ":1",
		"crm-sync_1.0_all.deb!data.tar.xz!etc/crm-sync/settings.env:1",
		"cut.a!one.env:1",
		"libcrm.a!a_rather_long_member_name.c:1",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("found %v, want %v", got, want)
	}
	if st.Errors != 1 {
		t.Errorf("%d errors, want 1 (cut.a)", st.Errors)
	}
	var warned bool
	for _, w := range c.Warnings {
		warned = warned || strings.HasSuffix(w.Path, "cut.a") && strings.Contains(w.Message, "cut short")
	}
	if !warned {
		t.Errorf("no warning names cut.a as cut short: %+v", c.Warnings)
	}
}

// TestArCrafted: headers that claim what is not there cost nothing and
// lose nothing: a size of 10^9 bytes, a BSD name longer than its member, a
// GNU name past its table, a bad magic, many empty members.
func TestArCrafted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		data string
		want int // findings
	}{
		{"a size past the end", arMagic + arMember("k.env", []byte("K="+keyActive+"\n")) + "big.bin/        0           0     0     100644  999999999 `\n" + "K=" + keyActive + "\n", 2},
		{"a BSD name longer than its member", arMagic + "#1/999          0           0     0     100644  10        `\n0123456789", 0},
		{"a GNU name past its table", arMagic + arMember("//", []byte("x/\n")) + arMember("/999", []byte("K="+keyActive+"\n")), 1},
		{"a bad magic", arMagic + "k.env/          0           0     0     100644  10        XX0123456789" + "K=" + keyActive, 1},
		{"many empty members", arMagic + strings.Repeat(arMember("e/", nil), 5000) + arMember("k.env", []byte("K="+keyActive+"\n")), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, _ := scanData(t, testOptions(), []byte(tc.data))
			if len(c.Findings) != tc.want {
				t.Errorf("%d findings, want %d: %+v", len(c.Findings), tc.want, c.Findings)
			}
		})
	}
}
