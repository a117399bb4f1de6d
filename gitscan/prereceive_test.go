package gitscan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/internal/testtoken"
	"github.com/loftyscan/loftyscan/internal/testtool"
	"github.com/loftyscan/loftyscan/scanner"
)

func TestParsePreReceive(t *testing.T) {
	t.Parallel()
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	zero := strings.Repeat("0", 40)
	got, err := ParsePreReceive(strings.NewReader(zero + " " + a + " refs/heads/main\n\n" + a + " " + zero + " refs/tags/v1 with space\n" + b + " " + a + " refs/heads/x\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []PushedRef{{zero, a, "refs/heads/main"}, {a, zero, "refs/tags/v1 with space"}, {b, a, "refs/heads/x"}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %v, want %v", i, got[i], want[i])
		}
	}
	if !got[1].Deleted() || got[0].Deleted() {
		t.Error("Deleted is wrong")
	}
	for _, bad := range []string{a + " " + b, a + " " + b + " ", "xyz " + b + " refs/heads/m", a[:39] + " " + b + " r", strings.ToUpper(a) + " " + b + " r"} {
		if _, err := ParsePreReceive(strings.NewReader(bad + "\n")); err == nil || errors.Is(err, ErrSHA256) {
			t.Errorf("%q: err %v, want a parse error", bad, err)
		}
	}
	if _, err := ParsePreReceive(strings.NewReader(strings.Repeat("0", 64) + " " + strings.Repeat("c", 64) + " refs/heads/main\n")); !errors.Is(err, ErrSHA256) {
		t.Errorf("SHA-256 names: %v", err)
	}
}

// The alternates list is split as git splits it: git itself reads objects
// through each list here, so a folder name with the separator in it,
// quoted, is checked against git.
func TestParseAlternatesAsGitDoes(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	src := testgit.New(t, filepath.Join(base, `with:colon "q"`))
	src.Write("a.txt", "alternate\n")
	commit := src.Commit("in the alternate")
	objects := filepath.Join(src.Dir, ".git", "objects")
	other := testgit.New(t, filepath.Join(base, "other"))
	list := `"` + strings.ReplaceAll(strings.ReplaceAll(objects, `\`, `\\`), `"`, `\"`) + `":` + filepath.Join(other.Dir, ".git", "objects")

	got, err := parseAlternates(list, ':')
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != objects || got[1] != filepath.Join(other.Dir, ".git", "objects") {
		t.Fatalf("parseAlternates(%q) = %q", list, got)
	}
	if out, err := other.Cmd("", []string{"GIT_ALTERNATE_OBJECT_DIRECTORIES=" + list}, "cat-file", "-e", commit).CombinedOutput(); err != nil {
		t.Fatalf("git does not read the list the same way: %v\n%s", err, out)
	}
	for _, bad := range []string{`"unterminated`, `"a"b`} {
		if _, err := parseAlternates(bad, ':'); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if got, _ := parseAlternates("a::b:", ':'); len(got) != 2 {
		t.Errorf("empty entries: %q", got)
	}
}

// quarantinePush pushes from c to srv with a pre-receive hook that keeps a
// copy of git's quarantine, its input and its environment, then rejects
// the push. It returns what the hook saw.
func quarantinePush(t *testing.T, srv, c *testgit.Repo, refspecs ...string) (Quarantine, []PushedRef) {
	t.Helper()
	keep := t.TempDir()
	hook := "#!/bin/sh\ncat > '" + keep + "/input'\ncp -R \"$GIT_QUARANTINE_PATH\" '" + keep + "/quarantine'\nexit 1\n"
	if err := testtool.WriteExecutable(filepath.Join(srv.Dir, "hooks", "pre-receive"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := c.Cmd("", nil, append([]string{"push", srv.Dir}, refspecs...)...).CombinedOutput(); err == nil {
		t.Fatalf("the push went through:\n%s", out)
	}
	in, err := os.Open(filepath.Join(keep, "input"))
	if err != nil {
		t.Fatalf("the hook did not run: %v", err)
	}
	defer in.Close()
	updates, err := ParsePreReceive(in)
	if err != nil {
		t.Fatal(err)
	}
	return Quarantine{ObjectDir: filepath.Join(keep, "quarantine"), Alternates: []string{filepath.Join(srv.Dir, "objects")}}, updates
}

// ScanPreReceive reads a push from git's quarantine, loose (a small push)
// or packed (receive.unpackLimit), and reports what it adds only.
func TestScanPreReceiveReadsTheQuarantine(t *testing.T) {
	t.Parallel()
	for _, packed := range []bool{false, true} {
		name := "loose"
		if packed {
			name = "packed"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := testgit.New(t, filepath.Join(t.TempDir(), "srv.git"), "--bare")
			if packed {
				srv.Git("config", "receive.unpackLimit", "1")
			}
			c := testgit.New(t, "")
			old := testtoken.Key("old", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
			c.Write("old.env", "LOFTY_API_KEY="+old+"\n")
			c.Commit("before")
			c.Git("push", "-q", srv.Dir, "main")

			key := testtoken.Key("new", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
			c.Write("old.env", "DEBUG=1\nLOFTY_API_KEY="+old+"\n")
			c.Write("cfg/new.env", "x\nlofty_token="+key+"\n")
			commit := c.Commit("add a key")
			c.Write("other.txt", "clean\n")
			c.Commit("after")
			q, updates := quarantinePush(t, srv, c, "main", "main:refs/heads/copy")
			if packed {
				if m, _ := filepath.Glob(filepath.Join(q.ObjectDir, "pack", "*.pack")); len(m) == 0 {
					t.Fatal("the quarantine holds no pack")
				}
			}

			repo := repoAt(t, srv.Dir)
			collect := &scanner.Collector{}
			res, err := ScanPreReceive(context.Background(), scanner.New(scanner.DefaultOptions()), repo, updates, PreReceiveOptions{Quarantine: q}, collect)
			if err != nil {
				t.Fatal(err)
			}
			fs := collect.Sorted()
			if len(fs) != 1 || fs[0].Commit != commit || fs[0].Path != "cfg/new.env" || fs[0].Line != 2 || !res.Found || res.Commits != 2 {
				t.Fatalf("findings %+v, result %+v; warnings %v", fs, res, collect.Warnings)
			}
			if refs := res.Refs[commit]; strings.Join(refs, ",") != "refs/heads/copy,refs/heads/main" {
				t.Errorf("refs of the commit: %v", refs)
			}

			// Outside the quarantine the pushed objects are nowhere.
			_, err = ScanPreReceive(context.Background(), scanner.New(scanner.DefaultOptions()), repo, updates, PreReceiveOptions{}, &scanner.Collector{})
			if err == nil || !strings.Contains(err.Error(), "cannot be read") {
				t.Errorf("without the quarantine: %v", err)
			}
		})
	}
}

// A pushed commit of 40 MiB whose headers pass their first MiB (a long
// author line, a big signature) is read as git reads it: the keys of its
// tree, of its message and of a header after the signature are reported.
// Its headers were once read only up to their first MiB, so the hook said
// the commit was "missing or corrupt", found no key and let the push
// through.
func TestScanPreReceiveSignedCommit(t *testing.T) {
	if raceBuild {
		t.Skip("scans 40 MiB of signature lines (50 s under -race): .ci/run runs it without -race")
	}
	t.Parallel()
	srv := testgit.New(t, filepath.Join(t.TempDir(), "srv.git"), "--bare")
	c := testgit.New(t, "")
	c.Write("readme", "clean\n")
	base := c.Commit("base")
	c.Git("push", "-q", srv.Dir, "main")

	inTree, inMessage, inHeader := gitTestKey("pushed tree"), gitTestKey("pushed message"), gitTestKey("pushed header")
	blob := testgit.WriteLoose(t, c.ObjectsDir(), fmt.Sprintf("blob %d", len("LOFTY_API_KEY="+inTree+"\n")), strings.NewReader("LOFTY_API_KEY="+inTree+"\n"))
	signed := writeSignedCommit(t, c, base, c.MkTree(testgit.TreeEntry{Mode: "100644", Hash: blob, Name: "k.env"}), inMessage, inHeader)
	c.Git("update-ref", "refs/heads/main", signed.String())
	q, updates := quarantinePush(t, srv, c, "main")

	collect := &scanner.Collector{}
	res, err := ScanPreReceive(context.Background(), scanner.New(scanner.DefaultOptions()), repoAt(t, srv.Dir), updates, PreReceiveOptions{Quarantine: q}, collect)
	if err != nil {
		t.Fatal(err)
	}
	keys := keysFound(collect.Sorted())
	if !res.Found || keys[inTree] != 1 || keys[inMessage] != 1 || keys[inHeader] != 1 || len(collect.Warnings) != 0 {
		t.Fatalf("result %+v, findings %v, warnings %v; want the three keys of the signed commit", res, keys, collect.Warnings)
	}
}

// What the pushed commits add to their parents' trees that git did not
// store again (the repository held it: an unreachable blob, a file of
// another branch) is read from the repository and scanned, by each way
// of reading: a sweep of the packs, of the blobs' delta chains, one by
// one. The quarantine lacks both blobs here, and the hook used to find
// nothing.
func TestScanPreReceiveContentTheRepositoryHad(t *testing.T) {
	t.Parallel()
	srv := testgit.New(t, filepath.Join(t.TempDir(), "srv.git"), "--bare")
	c := testgit.New(t, "")
	for i := range 100 { // a pack big enough that two blobs are read by their delta chains
		c.Write(fmt.Sprintf("src/f%03d.txt", i), fmt.Sprintf("file %d\n", i))
	}
	c.Commit("first")
	onBranch, unreachable := gitTestKey("on a branch"), gitTestKey("unreachable")
	c.Git("checkout", "-q", "-b", "keyed")
	c.Write("keys/app.env", "LOFTY_API_KEY="+onBranch+"\n")
	c.Commit("a key on a branch")
	c.Git("checkout", "-q", "main")
	c.Git("push", "-q", srv.Dir, "main", "keyed")
	srv.Git("repack", "-q", "-a", "-d")
	if out, ok := srv.Try("LOFTY_API_KEY="+unreachable+"\n", "hash-object", "-w", "--stdin"); !ok {
		t.Fatal(out)
	}
	c.Write("copy.env", "LOFTY_API_KEY="+onBranch+"\n")
	c.Write("leak.env", "LOFTY_API_KEY="+unreachable+"\n")
	commit := c.Commit("both keys")
	c.Write("src/f000.txt", "changed\n")
	c.Commit("after")
	q, updates := quarantinePush(t, srv, c, "main")
	for _, blob := range []string{c.Git("rev-parse", "HEAD:copy.env"), c.Git("rev-parse", "HEAD:leak.env")} {
		if _, err := os.Stat(filepath.Join(q.ObjectDir, blob[:2], blob[2:])); err == nil {
			t.Fatalf("the quarantine holds %s", blob)
		}
	}
	for _, mode := range []readMode{readAuto, readSweep, readOneByOne} {
		collect := &scanner.Collector{}
		res, err := scanPreReceive(context.Background(), scanner.New(scanner.DefaultOptions()), repoAt(t, srv.Dir), updates, PreReceiveOptions{Quarantine: q}, collect, tuning{mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range collect.Sorted() {
			got = append(got, f.Path+"@"+f.Commit[:7])
		}
		if want := "copy.env@" + commit[:7] + ",leak.env@" + commit[:7]; strings.Join(got, ",") != want || !res.Found || res.Unread != 0 || res.Commits != 2 {
			t.Errorf("mode %d: found %v, want %s; %+v, warnings %v", mode, got, want, res, collect.Warnings)
		}
	}
}

// A push that sets a ref to a commit the repository holds unreachable, or
// builds on one, adds what that commit adds: git does not store it again,
// so the quarantine lacks it, and the hook used to find no new commit.
// The commits no ref reached are walked whether the push sent them or
// not. A push onto the old tip of its branch, or a new branch from a ref's
// tip, reads the commits it sent and their parents, not the history.
func TestScanPreReceiveUnreachableCommits(t *testing.T) {
	t.Parallel()
	srv := testgit.New(t, filepath.Join(t.TempDir(), "srv.git"), "--bare")
	c := testgit.New(t, "")
	c.Write("a.txt", "a\n")
	c.Commit("first")
	c.Write("old.env", "LOFTY_API_KEY="+gitTestKey("old on main")+"\n")
	oldCommit := c.Commit("an old key")
	c.Git("rm", "-q", "old.env")
	for i := range 30 {
		c.Write("a.txt", fmt.Sprintf("a %d\n", i))
		c.Commit(fmt.Sprintf("main %d", i))
	}
	c.Git("checkout", "-q", "-b", "tmp")
	c.Write("keys/app.env", "LOFTY_API_KEY="+gitTestKey("unreachable")+"\n")
	keyed := c.Commit("a key on a branch deleted later")
	c.Write("msg.txt", "x\n")
	c.Git("add", "msg.txt")
	c.Git("commit", "-q", "--no-verify", "-m", "a key in a message "+gitTestKey("message"))
	inMessage := c.Git("rev-parse", "HEAD")
	c.Git("push", "-q", srv.Dir, "main", "tmp")
	srv.Git("update-ref", "-d", "refs/heads/tmp")
	c.Git("checkout", "-q", "main")

	c.Git("branch", "child", keyed)
	c.Git("checkout", "-q", "child")
	c.Write("b.txt", "b\n")
	c.Commit("a child of the unreachable commit")
	c.Git("checkout", "-q", "main")
	c.Write("a.txt", "next\n")
	c.Commit("next")
	c.Write("a.txt", "next again\n")
	c.Commit("next again")

	scan := func(t *testing.T, refspec string, extra ...PushedRef) (PushScan, []string, *tuneSeen) {
		t.Helper()
		q, updates := quarantinePush(t, srv, c, refspec)
		updates = append(updates, extra...)
		collect := &scanner.Collector{}
		seen := &tuneSeen{}
		res, err := scanPreReceive(context.Background(), scanner.New(scanner.DefaultOptions()), repoAt(t, srv.Dir), updates, PreReceiveOptions{Quarantine: q}, collect, tuning{seen: seen})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range collect.Sorted() {
			got = append(got, f.Path+"@"+f.Commit[:7])
		}
		return res, got, seen
	}
	keyedAt := []string{"keys/app.env@" + keyed[:7]}
	for _, tc := range []struct {
		name, refspec string
		want          []string
		commits       int
	}{
		{"a branch at it", keyed + ":refs/heads/back", keyedAt, 1},
		{"a child of it", "child", keyedAt, 2},
		{"a tag of it", keyed + ":refs/tags/light", keyedAt, 1},
		{"its message", inMessage + ":refs/heads/msg", append([]string{"@" + inMessage[:7]}, keyedAt...), 2},
		{"an old commit of main", oldCommit + ":refs/heads/old", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, got, _ := scan(t, tc.refspec)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") || res.Found != (len(tc.want) > 0) || res.Commits != tc.commits || res.Unfinished != "" {
				t.Errorf("found %v, want %v; %+v", got, tc.want, res)
			}
		})
	}
	// The old values of the pre-receive lines are the pusher's word: git
	// checks them only when it moves each ref, so a line that names the
	// held commit as a ref's old value (that ref's update then fails)
	// does not make it reachable for the others.
	liar := PushedRef{Old: keyed, New: srv.Git("rev-parse", "main"), Ref: "refs/heads/main"}
	if res, got, _ := scan(t, "child", liar); strings.Join(got, ",") != strings.Join(keyedAt, ",") || !res.Found || res.Commits != 2 {
		t.Errorf("a child of it, named as an old value: found %v, want %v; %+v", got, keyedAt, res)
	}
	// Pushes whose edge is what a ref pointed at: no walk of the history.
	for _, refspec := range []string{"main", "main~2:refs/heads/topic"} {
		res, got, seen := scan(t, refspec)
		if len(got) != 0 || res.Found {
			t.Errorf("%s: found %v", refspec, got)
		}
		if seen.commitsLoaded > 3 {
			t.Errorf("%s: the walks read %d commits, want the 2 pushed and their parent at most", refspec, seen.commitsLoaded)
		}
	}
}

// A ref set to a blob or a tree (a tag of one) has it scanned whole.
func TestScanPreReceiveTagOfATreeOrBlob(t *testing.T) {
	t.Parallel()
	srv := testgit.New(t, filepath.Join(t.TempDir(), "srv.git"), "--bare")
	c := testgit.New(t, "")
	c.Write("a.txt", "a\n")
	c.Commit("first")
	c.Git("push", "-q", srv.Dir, "main")
	key := testtoken.Key("tree", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	c.Write("dir/k.env", "LOFTY_API_KEY="+key+"\n")
	c.Git("add", "-A")
	tree := c.Git("write-tree")
	blob := c.Git("rev-parse", tree+":dir/k.env")
	c.Git("tag", "-a", "-m", "a tree", "t-tree", tree)
	c.Git("tag", "t-blob", blob)
	q, updates := quarantinePush(t, srv, c, "t-tree", "t-blob")
	collect := &scanner.Collector{}
	res, err := ScanPreReceive(context.Background(), scanner.New(scanner.DefaultOptions()), repoAt(t, srv.Dir), updates, PreReceiveOptions{Quarantine: q}, collect)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range collect.Sorted() {
		paths = append(paths, f.Path)
	}
	if !res.Found || strings.Join(paths, ",") != "refs/tags/t-blob,refs/tags/t-tree:dir/k.env" {
		t.Fatalf("found %v at %v", res.Found, paths)
	}
}

// A tag of a tag (git tag -a outer inner) makes the inner tag reachable
// too: its message is scanned, whether the push sent it or the repository
// held it unreachable. Only the outer tag's message was.
func TestScanPreReceiveTagOfATag(t *testing.T) {
	t.Parallel()
	srv := testgit.New(t, filepath.Join(t.TempDir(), "srv.git"), "--bare")
	c := testgit.New(t, "")
	c.Write("a.txt", "a\n")
	c.Commit("first")
	c.Git("push", "-q", srv.Dir, "main")
	key := testtoken.Key("inner tag", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	c.Git("tag", "-a", "-m", "inner "+key, "inner", "main")
	c.Git("tag", "-a", "-m", "outer", "outer", "inner")
	held := c.Git("rev-parse", "inner")
	if out, ok := srv.Try(c.Git("cat-file", "tag", held)+"\n", "hash-object", "-t", "tag", "-w", "--stdin"); !ok || strings.TrimSpace(out) != held {
		t.Fatalf("the server does not hold the inner tag: %s", out)
	}
	// Packed, the push keeps the inner tag in its quarantine; unpacked,
	// git does not write again an object the repository has.
	for _, sent := range []bool{true, false} {
		srv.Git("config", "receive.unpackLimit", map[bool]string{true: "1", false: "100"}[sent])
		q, updates := quarantinePush(t, srv, c, "refs/tags/outer")
		collect := &scanner.Collector{}
		res, err := ScanPreReceive(context.Background(), scanner.New(scanner.DefaultOptions()), repoAt(t, srv.Dir), updates, PreReceiveOptions{Quarantine: q}, collect)
		if err != nil {
			t.Fatal(err)
		}
		var tags []string
		for _, f := range collect.Sorted() {
			tags = append(tags, f.Tag)
		}
		if !res.Found || strings.Join(tags, ",") != "inner" {
			t.Errorf("inner tag sent %v: found %v in the messages of tags %v; %+v", sent, res.Found, tags, res)
		}
	}
}

// A pushed object that cannot be read is counted, with a warning: what it
// holds was not scanned.
func TestScanPreReceiveCountsUnreadObjects(t *testing.T) {
	t.Parallel()
	srv := testgit.New(t, filepath.Join(t.TempDir(), "srv.git"), "--bare")
	c := testgit.New(t, "")
	c.Write("a.txt", "a\n")
	c.Write("b.env", "b\n")
	c.Commit("first")
	blob := c.Git("rev-parse", "HEAD:b.env")
	q, updates := quarantinePush(t, srv, c, "main")
	loose := filepath.Join(q.ObjectDir, blob[:2], blob[2:])
	if err := os.Chmod(loose, 0o644); err != nil {
		t.Fatalf("the push was not unpacked into loose objects: %v", err)
	}
	if err := os.WriteFile(loose, []byte("not zlib"), 0o644); err != nil {
		t.Fatal(err)
	}
	collect := &scanner.Collector{}
	res, err := ScanPreReceive(context.Background(), scanner.New(scanner.DefaultOptions()), repoAt(t, srv.Dir), updates, PreReceiveOptions{Quarantine: q}, collect)
	if err != nil {
		t.Fatal(err)
	}
	if res.Unread != 1 || len(collect.Warnings) != 1 || !strings.Contains(collect.Warnings[0].String(), blob) {
		t.Fatalf("unread %d, warnings %v", res.Unread, collect.Warnings)
	}
}

// A deadline already past stops the scan and says what was left.
func TestScanPreReceiveDeadline(t *testing.T) {
	t.Parallel()
	srv := testgit.New(t, filepath.Join(t.TempDir(), "srv.git"), "--bare")
	c := testgit.New(t, "")
	c.Write("a.txt", "a\n")
	c.Commit("first")
	q, updates := quarantinePush(t, srv, c, "main")
	res, err := ScanPreReceive(context.Background(), scanner.New(scanner.DefaultOptions()), repoAt(t, srv.Dir), updates,
		PreReceiveOptions{Quarantine: q, Deadline: time.Now().Add(-time.Second)}, &scanner.Collector{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Unfinished == "" {
		t.Fatalf("no word of what was left: %+v", res)
	}
}

// Outside a quarantine (a hook run by hand, git before 2.11) the new
// commits are walked: the pushed objects are in the repository already,
// and only the refs have not moved.
func TestScanPreReceiveWithoutQuarantine(t *testing.T) {
	t.Parallel()
	srv := testgit.New(t, filepath.Join(t.TempDir(), "srv.git"), "--bare")
	c := testgit.New(t, "")
	old := testtoken.Key("old", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	c.Write("old.env", "LOFTY_API_KEY="+old+"\n")
	base := c.Commit("before")
	c.Git("push", "-q", srv.Dir, "main")
	key := testtoken.Key("walked", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))
	c.Write("old.env", "DEBUG=1\nLOFTY_API_KEY="+old+"\n")
	c.Write("new.env", "lofty_token="+key+"\n")
	commit := c.Commit("a key")
	// The objects go in under a ref that is then deleted.
	c.Git("push", "-q", srv.Dir, "main:refs/tmp/x")
	srv.Git("update-ref", "-d", "refs/tmp/x")

	collect := &scanner.Collector{}
	res, err := ScanPreReceive(context.Background(), scanner.New(scanner.DefaultOptions()), repoAt(t, srv.Dir),
		[]PushedRef{{Old: base, New: commit, Ref: "refs/heads/main"}}, PreReceiveOptions{}, collect)
	if err != nil {
		t.Fatal(err)
	}
	fs := collect.Sorted()
	if len(fs) != 1 || fs[0].Path != "new.env" || fs[0].Commit != commit || res.Commits != 1 {
		t.Fatalf("findings %+v, result %+v", fs, res)
	}
}

// A push whose key sits behind merges past the budget of octopus links
// (countParents; here 6) is rejected: the sweep finds the key in the blobs
// the push sent, but the walk leaves out the merge past the budget and
// the commits only it reaches, so the key cannot be named. The hook used
// to count it as not found and let the push through ("checked 5301 new
// commits: no Lofty API key", for 4,300 merges of 1,000 parents, a 643 KB
// pack, with the default budget). Outside a quarantine the commits behind
// the merge are not scanned at all: the push is not wholly read.
func TestScanPreReceiveOctopusBudget(t *testing.T) {
	t.Parallel()
	srv := testgit.New(t, filepath.Join(t.TempDir(), "srv.git"), "--bare")
	c := testgit.New(t, "")
	c.Write("a.txt", "a\n")
	base := c.Commit("base")
	c.Git("push", "-q", srv.Dir, "main")
	key := gitTestKey("behind the merges")
	c.Write("key.env", "LOFTY_API_KEY="+key+"\n")
	c.Commit("a key")
	c.Git("rm", "-q", "key.env")
	prev := c.Commit("no key")
	tree := c.Git("rev-parse", "HEAD^{tree}")
	var sides []string
	for i := range 4 {
		sides = append(sides, c.CommitTree(tree, []string{base}, 1700000000+int64(i), fmt.Sprintf("side %d", i)))
	}
	for i := range 4 { // 3 links each
		prev = c.CommitTree(tree, append([]string{prev}, sides...), 1700001000+int64(i), fmt.Sprintf("merge %d", i))
	}
	c.Git("update-ref", "refs/heads/main", prev)
	q, updates := quarantinePush(t, srv, c, "main")
	// For the scan outside a quarantine, the objects go in under a ref
	// that is then deleted.
	if err := os.Remove(filepath.Join(srv.Dir, "hooks", "pre-receive")); err != nil {
		t.Fatal(err)
	}
	c.Git("push", "-q", srv.Dir, "main:refs/tmp/x")
	srv.Git("update-ref", "-d", "refs/tmp/x")

	for _, quarantined := range []bool{true, false} {
		for _, budget := range []int64{0, 6} {
			opts := PreReceiveOptions{Quarantine: q}
			if !quarantined {
				opts = PreReceiveOptions{}
			}
			collect := &scanner.Collector{}
			res, err := scanPreReceive(context.Background(), scanner.New(scanner.DefaultOptions()), repoAt(t, srv.Dir), updates, opts, collect, tuning{octopusLinks: budget})
			if err != nil {
				t.Fatal(err)
			}
			n := keysFound(collect.Sorted())
			switch {
			case budget == 0 && (n[key] != 1 || !res.Found || res.Unread != 0):
				t.Errorf("quarantine %v, the default budget: keys %v, %+v; warnings %v", quarantined, n, res, collect.Warnings)
			case budget != 0 && (res.Unread == 0 || quarantined && !res.Found):
				t.Errorf("quarantine %v, budget %d: %+v, keys %v; want the push not wholly read, the key found; warnings %v", quarantined, budget, res, n, collect.Warnings)
			}
		}
	}
}
