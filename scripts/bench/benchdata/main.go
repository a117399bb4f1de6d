// Command benchdata makes the synthetic inputs that scripts/bench.sh
// measures loftyscan on: a long git history (as a git fast-import stream)
// and three kinds of folder. Everything it writes is deterministic, and
// every key in it is a synthetic test token signed with the public test
// secret of internal/testtoken: none is, or ever was, a real Lofty key.
//
//	benchdata history -commits N -keys K | git fast-import
//	benchdata small   -dir D [-files N] [-keys K]
//	benchdata jwt     -dir D [-files N] [-tokens M] [-keys K]
//	benchdata empty   -dir D [-files N]
//	benchdata keys    -n N -kind NAME
//
// history is one branch (refs/heads/main) of N commits over 1,000 files in
// 100 folders: the first commit adds them all, each later commit changes
// one. With K keys, K commits spread over the older half of the history
// add a key to the file they change; the next change of that file drops
// it, so every key lives in history only and must be attributed to the
// commit that introduced it.
//
// small writes N small text files (100 to 1,500 bytes, like source code)
// with K keys planted; jwt writes N JSON fixtures, each holding M generic
// (non-Lofty) JWTs such as Supabase anon keys, with K Lofty keys planted;
// empty writes N empty files, 1,000 to a folder; keys prints N keys, one a
// line, for the script to plant (NAME keeps each use's keys apart).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/loftyscan/loftyscan/internal/testtoken"
)

const usage = `usage:
  benchdata history -commits N -keys K      a git fast-import stream on stdout
  benchdata small   -dir D [-files N] [-keys K]
  benchdata jwt     -dir D [-files N] [-tokens M] [-keys K]
  benchdata empty   -dir D [-files N]
  benchdata keys    -n N -kind NAME           N synthetic keys, one a line
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "benchdata: error: %v\n", err)
		os.Exit(1)
	}
}

func run(cmd string, args []string) error {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	commits := fs.Int("commits", 100_000, "commits in the history")
	keys := fs.Int("keys", 0, "synthetic Lofty keys to plant")
	dir := fs.String("dir", "", "folder to write (must not exist)")
	files := fs.Int("files", 0, "files to write (default: 100,000 small, 1,000 jwt, 1,000,000 empty)")
	tokens := fs.Int("tokens", 100, "generic JWTs in each JSON fixture")
	n := fs.Int("n", 1, "keys to print")
	kind := fs.String("kind", "script", "name that keeps each use's keys apart")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cmd == "history" {
		if *commits < 1 || *keys < 0 || *keys > *commits/2 {
			return fmt.Errorf("history needs -commits >= 1 and 0 <= -keys <= commits/2 (got %d, %d)", *commits, *keys)
		}
		w := bufio.NewWriterSize(os.Stdout, 1<<20)
		writeHistory(w, *commits, *keys)
		return w.Flush()
	}
	if cmd == "keys" {
		for i := range *n {
			fmt.Println(key(*kind, i))
		}
		return nil
	}
	if *dir == "" {
		return fmt.Errorf("%s needs -dir", cmd)
	}
	if _, err := os.Lstat(*dir); err == nil {
		return fmt.Errorf("%s already exists: remove it or choose another -dir", *dir)
	}
	t := &tree{root: *dir}
	switch cmd {
	case "small":
		t.small(orDefault(*files, 100_000), *keys)
	case "jwt":
		t.jwt(orDefault(*files, 1_000), *tokens, *keys)
	case "empty":
		t.empty(orDefault(*files, 1_000_000))
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
	return t.err
}

func orDefault(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// key is the synthetic Lofty key number i (no expiry).
func key(kind string, i int) string {
	return testtoken.Key(fmt.Sprintf("bench-%s-%d", kind, i), time.Time{})
}

// historyEpoch is the date of the first synthetic commit; commit c is c
// seconds later.
var historyEpoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// writeHistory prints the fast-import stream described in the package doc.
func writeHistory(w io.Writer, commits, keys int) {
	// Commit number of each planted key: spread over the older half.
	planted := make(map[int]int, keys)
	for k := range keys {
		planted[1+k*(commits/2)/max(keys, 1)] = k
	}
	data := func(s string) { fmt.Fprintf(w, "data %d\n%s\n", len(s), s) }
	header := func(c int) {
		when := historyEpoch + int64(c)
		fmt.Fprintf(w, "commit refs/heads/main\n")
		fmt.Fprintf(w, "author Ada Author <ada@example.com> %d +0000\n", when)
		fmt.Fprintf(w, "committer Ada Author <ada@example.com> %d +0000\n", when)
	}
	file := func(i int, content string) {
		fmt.Fprintf(w, "M 100644 inline dir%02d/file%03d.txt\n", i%100, i)
		data(content)
	}
	header(0)
	data("first commit")
	for i := range 1000 {
		file(i, fmt.Sprintf("file %d\nversion 0\n", i))
	}
	for c := 1; c < commits; c++ {
		header(c)
		data(fmt.Sprintf("commit %d", c))
		i := (c * 7919) % 1000
		content := fmt.Sprintf("file %d\nversion %d\n", i, c)
		if k, ok := planted[c]; ok {
			content += "LOFTY_API_KEY=" + key("history", k) + "\n"
		}
		file(i, content)
	}
}

// tree writes files under root; the first error stops it and is kept.
type tree struct {
	root string
	err  error
}

func (t *tree) write(rel string, content []byte) {
	if t.err != nil {
		return
	}
	p := filepath.Join(t.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.err = err
		return
	}
	t.err = os.WriteFile(p, content, 0o644)
}

// plantedAt says whether file i of n holds one of the k planted keys, and
// which: keys sit at evenly spaced files.
func plantedAt(i, n, k int) (int, bool) {
	if k <= 0 {
		return 0, false
	}
	step := max(n/k, 1)
	if i%step != step/2 || i/step >= k {
		return 0, false
	}
	return i / step, true
}

// small writes n files of 100 to 1,500 bytes of Go-like text in folders of
// 100 files, 10 folders to a parent.
func (t *tree) small(n, keys int) {
	var b strings.Builder
	for i := range n {
		b.Reset()
		fmt.Fprintf(&b, "package p%d\n\n", i/100)
		size := 100 + (i*7919)%1400
		for line := 0; b.Len() < size; line++ {
			fmt.Fprintf(&b, "func f%d_%d(x int) int { return x*%d + %d }\n", i, line, line+1, i)
		}
		if k, ok := plantedAt(i, n, keys); ok {
			fmt.Fprintf(&b, "\nconst loftyKey = %q\n", key("small", k))
		}
		t.write(fmt.Sprintf("d%03d/s%02d/f%05d.go", i/1000, (i/100)%10, i), []byte(b.String()))
	}
}

// jwt writes n JSON fixtures of tokens records each: every record holds a
// generic JWT (no Lofty scope) that a scanner must decode to rule out.
func (t *tree) jwt(n, tokens, keys int) {
	var b strings.Builder
	for i := range n {
		b.Reset()
		b.WriteString("{\n  \"sessions\": [\n")
		for r := range tokens {
			id := i*tokens + r
			fmt.Fprintf(&b, "    {\"id\": %d, \"user\": \"user%d@example.com\", \"access_token\": %q}",
				id, id, testtoken.Generic(fmt.Sprintf("user-%d", id)))
			if r < tokens-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString("  ]")
		if k, ok := plantedAt(i, n, keys); ok {
			fmt.Fprintf(&b, ",\n  \"lofty_token\": %q", key("jwt", k))
		}
		b.WriteString("\n}\n")
		t.write(fmt.Sprintf("fixtures%02d/sessions%04d.json", i/100, i), []byte(b.String()))
	}
}

// empty writes n empty files, 1,000 to a folder.
func (t *tree) empty(n int) {
	for i := range n {
		t.write(fmt.Sprintf("e%04d/%04d", i/1000, i%1000), nil)
	}
}
