package gitscan

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// Loops. No history holds a commit that is its own ancestor, but a
// commit-graph that does not match the commits, or commit objects whose
// content does not match their names (a copied .git folder), can say
// one does. git log walks past the loop; a scan that orders the commits
// parents first must too, or the commits in and behind the loop, and the
// keys they add, are silently left out.

// scanLoops scans r's history by each way of choosing commits, with the
// commit-graph or not, and checks that each finds the key of sub at path
// and warns of the loop.
func scanLoops(t *testing.T, r *testgit.Repo, base, sub, path, warning string) {
	t.Helper()
	for _, opts := range []HistoryOptions{{}, {Refs: []string{"HEAD"}}, {Refs: []string{"HEAD"}, Exclude: []string{base}}, {Since: testgit.Epoch}} {
		c := &scanner.Collector{}
		if _, err := ScanHistory(context.Background(), scanner.New(scanner.DefaultOptions()), repoOf(r), opts, c); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range c.Sorted() {
			found = found || f.Subject == sub && f.Path == path
		}
		if !found {
			t.Errorf("%+v: no finding of the key at %s: %v", opts, path, findingPaths(c.Findings))
		}
		warned := 0
		for _, w := range c.Warnings {
			if strings.Contains(w.Message, warning) {
				warned++
			}
		}
		if warned == 0 {
			t.Errorf("%+v: no warning %q: %v", opts, warning, c.Warnings)
		}
	}
}

func findingPaths(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Path+"@"+f.Commit)
	}
	return out
}

// TestLoopOfLyingCommits: two loose commits, each written under a name
// that is not its content's, each the other's parent; the second adds a
// key, and the first, its own parent too, another.
func TestLoopOfLyingCommits(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, t.TempDir())
	r.Write("x.txt", "x\n")
	base := r.Commit("base")
	key := plumbing.NewHash(strings.TrimSpace(mustOutput(t, r, "LOFTY_API_KEY="+gitTestKey("loop-objects")+"\n", "hash-object", "-w", "--stdin")))
	keyTree := r.MkTree(testgit.TreeEntry{Mode: "100644", Hash: key, Name: "k.env"})
	key2 := plumbing.NewHash(strings.TrimSpace(mustOutput(t, r, "LOFTY_API_KEY="+gitTestKey("loop-self")+"\n", "hash-object", "-w", "--stdin")))
	selfTree := r.MkTree(testgit.TreeEntry{Mode: "100644", Hash: key, Name: "k.env"}, testgit.TreeEntry{Mode: "100644", Hash: key2, Name: "self.env"})
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	commit := func(tree, parents, msg string, when int64) string {
		return fmt.Sprintf("tree %s\n%sauthor Ada Author <ada@example.com> %d +0000\ncommitter Ada Author <ada@example.com> %d +0000\n\n%s\n", tree, parents, when, when, msg)
	}
	now := testgit.Epoch.Unix() + 3600
	writeLooseAs(t, r.ObjectsDir(), a, "commit", commit(selfTree.String(), "parent "+b+"\nparent "+a+"\n", "a", now+60))
	writeLooseAs(t, r.ObjectsDir(), b, "commit", commit(keyTree.String(), "parent "+a+"\nparent "+base+"\n", "b", now))
	// Written by hand: git checks the object it is given.
	ref := filepath.Join(r.Dir, ".git", filepath.FromSlash(r.Git("symbolic-ref", "HEAD")))
	if err := os.WriteFile(ref, []byte(a+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	scanLoops(t, r, base, "loop-objects", "k.env", "commits that are their own ancestors")
	scanLoops(t, r, base, "loop-self", "self.env", "commits that are their own ancestors")
}

// TestLoopInCommitGraph: a commit-graph that gives a commit in the middle
// of a history the history's tip as a second parent.
func TestLoopInCommitGraph(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, t.TempDir())
	r.Write("x.txt", "x\n")
	base := r.Commit("base")
	var commits []string
	for i := range 12 {
		r.Write("notes.txt", fmt.Sprintf("%d\n", i))
		if i == 3 {
			r.Write("k.env", "LOFTY_API_KEY="+gitTestKey("loop-graph")+"\n")
		}
		commits = append(commits, r.Commit(fmt.Sprint("c", i)))
	}
	r.Git("commit-graph", "write", "--reachable")
	name := filepath.Join(r.ObjectsDir(), "info", "commit-graph")
	g, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	chunk := func(id string) int {
		for i := range int(g[6]) {
			if string(g[8+12*i:][:4]) == id {
				return int(binary.BigEndian.Uint64(g[8+12*i+4:]))
			}
		}
		t.Fatalf("no %s chunk", id)
		return 0
	}
	oidl, cdat := chunk("OIDL"), chunk("CDAT")
	pos := func(c string) int {
		h := plumbing.NewHash(c)
		for i := 0; oidl+20*i < cdat; i++ {
			if bytes.Equal(g[oidl+20*i:oidl+20*i+20], h[:]) {
				return i
			}
		}
		t.Fatalf("%s not in the graph", c)
		return 0
	}
	binary.BigEndian.PutUint32(g[cdat+36*pos(commits[5])+24:], uint32(pos(commits[11])))
	if err := os.Chmod(name, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, g, 0o644); err != nil {
		t.Fatal(err)
	}
	scanLoops(t, r, base, "loop-graph", "k.env", "the commit-graph makes a commit its own ancestor")
}

// writeLooseAs writes a loose object of type typ and content under name,
// whatever its content's name is.
func writeLooseAs(t *testing.T, objectsDir, name, typ, content string) {
	t.Helper()
	var b bytes.Buffer
	zw := zlib.NewWriter(&b)
	fmt.Fprintf(zw, "%s %d\x00%s", typ, len(content), content)
	zw.Close()
	dir := filepath.Join(objectsDir, name[:2])
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name[2:]), b.Bytes(), 0o444); err != nil {
		t.Fatal(err)
	}
}

func mustOutput(t *testing.T, r *testgit.Repo, stdin string, args ...string) string {
	t.Helper()
	out, err := r.Cmd(stdin, nil, args...).Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
