package gitscan

import (
	"context"
	"strings"
	"testing"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/internal/testgit"
	"github.com/loftyscan/loftyscan/scanner"
)

// messageRepo is a history with keys pasted into messages: a commit's
// body, a merge commit's message, an annotated tag's message, a commit's
// subject, and a lightweight tag (which has no message) on a commit with
// none.
type messageRepo struct {
	r       *testgit.Repo
	keys    map[string]string
	commits map[string]string
}

func buildMessageRepo(t *testing.T) *messageRepo {
	t.Helper()
	r := testgit.New(t, "")
	m := &messageRepo{r: r, keys: map[string]string{}, commits: map[string]string{}}
	key := func(name string) string {
		k := gitTestKey("msg-" + name)
		m.keys[name] = k
		return k
	}
	r.Write("README.md", "hello\n")
	m.commits["base"] = r.Commit("first commit")
	r.Write("client.go", "package client\n")
	m.commits["body"] = r.Commit("configure the client\n\nThe demo account's key is\n" + key("body") + "\ndo not share it.")
	r.Git("tag", "light") // a lightweight tag: no message of its own

	r.Git("checkout", "-q", "-b", "topic")
	r.Write("topic.txt", "topic\n")
	r.Commit("topic work")
	r.Git("checkout", "-q", "main")
	r.Git("merge", "-q", "--no-ff", "-m", "Merge topic\n\nTested against prod with LOFTY_API_KEY="+key("merge"), "topic")
	r.Tick()
	m.commits["merge"] = r.Git("rev-parse", "HEAD")

	r.Git("tag", "-a", "v1.0", "-m", "Release 1.0\n\nSmoke-tested with "+key("tag")+".")
	r.Tick()
	m.commits["tagged"] = m.commits["merge"]

	r.Write("later.txt", "later\n")
	m.commits["subject"] = r.Commit("use key " + key("subject") + " for now")
	return m
}

// messageFindings returns the findings in messages, by name of their key.
func (m *messageRepo) byKey(t *testing.T, got []finding.Finding) map[string]finding.Finding {
	t.Helper()
	out := map[string]finding.Finding{}
	for _, f := range got {
		for name, k := range m.keys {
			if f.Secret == k {
				if _, dup := out[name]; dup {
					t.Errorf("key %s reported twice", name)
				}
				out[name] = f
			}
		}
	}
	return out
}

func TestGitMessages(t *testing.T) {
	t.Parallel()
	m := buildMessageRepo(t)
	got, c, _ := scanGit(t, repoOf(m.r), HistoryOptions{})
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: %v", c.Warnings)
	}
	if len(got) != 4 {
		t.Fatalf("got %d findings, want 4: %+v", len(got), got)
	}
	by := m.byKey(t, got)
	for _, tc := range []struct {
		key    string
		loc    finding.Location
		commit string
		line   int
		tag    string
	}{
		{"body", finding.InCommitMessage, m.commits["body"], 4, ""},
		{"merge", finding.InCommitMessage, m.commits["merge"], 3, ""},
		{"tag", finding.InTagMessage, m.commits["tagged"], 3, "v1.0"},
		{"subject", finding.InCommitMessage, m.commits["subject"], 1, ""},
	} {
		f, ok := by[tc.key]
		if !ok {
			t.Errorf("%s: not found", tc.key)
			continue
		}
		if f.Location != tc.loc || f.Commit != tc.commit || f.Line != tc.line || f.Tag != tc.tag || f.Path != "" {
			t.Errorf("%s: location %q commit %.7s line %d tag %q path %q; want %q %.7s %d %q \"\"", tc.key, f.Location, f.Commit, f.Line, f.Tag, f.Path, tc.loc, tc.commit, tc.line, tc.tag)
		}
		author := "Ada Author"
		if tc.loc == finding.InTagMessage {
			author = "Cy Committer" // the tagger
		}
		if f.Author != author || f.Date.IsZero() || f.Message == "" {
			t.Errorf("%s: git fields %q %q %v %q", tc.key, f.Author, f.Email, f.Date, f.Message)
		}
		if strings.Contains(f.Message, f.Secret) {
			t.Errorf("%s: the subject is reported with the full key: %q", tc.key, f.Message)
		}
		if f.Unreachable || f.Exposure == nil || f.Exposure.ReachableFrom != finding.ReachRefs {
			t.Errorf("%s: unreachable %v, exposure %+v", tc.key, f.Unreachable, f.Exposure)
		}
	}
	if f := by["subject"]; f.Message != "use key "+finding.Redact(m.keys["subject"])+" for now" {
		t.Errorf("subject reported as %q", f.Message)
	}
	if f := by["body"]; f.Column != 1 {
		t.Errorf("body: column %d, want 1", f.Column)
	}
	if e := by["body"].Exposure; e.Commits != 1 || e.LastCommit != m.commits["body"] || !hasRef(e, "refs/heads/main", true, false) || !hasRef(e, "refs/tags/light", true, true) {
		t.Errorf("body: exposure %+v", e)
	}
	if e := by["tag"].Exposure; len(e.Refs) != 1 || e.Refs[0].Name != "refs/tags/v1.0" || !e.Refs[0].InTip {
		t.Errorf("tag: exposure %+v", e)
	}
	checkFastMatchesSlow(t, repoOf(m.r), HistoryOptions{}, 0)
}

// hasRef reports whether e lists ref name with the given facts.
func hasRef(e *finding.Exposure, name string, contains, inTip bool) bool {
	for _, r := range e.Refs {
		if r.Name == name {
			return r.ContainsCommit == contains && r.InTip == inTip
		}
	}
	return false
}

// TestGitMessagesSelected checks that a range reports the messages of its
// own commits only, and that --ref with an annotated tag reports the tag's
// message.
func TestGitMessagesSelected(t *testing.T) {
	t.Parallel()
	m := buildMessageRepo(t)
	repo := repoOf(m.r)

	got, _, _ := scanGit(t, repo, HistoryOptions{Refs: []string{"main"}, Exclude: []string{m.commits["merge"]}})
	by := m.byKey(t, got)
	if len(got) != 1 || by["subject"].Commit != m.commits["subject"] {
		t.Errorf("range after the merge: %+v", got)
	}

	got, _, _ = scanGit(t, repo, HistoryOptions{Refs: []string{"v1.0"}})
	by = m.byKey(t, got)
	if len(got) != 3 || by["tag"].Tag != "v1.0" || by["body"].Commit == "" || by["merge"].Commit == "" {
		t.Errorf("--ref v1.0: %+v", got)
	}

	got, _, _ = scanGit(t, repo, HistoryOptions{Refs: []string{"light"}})
	by = m.byKey(t, got)
	if len(got) != 1 || by["body"].Location != finding.InCommitMessage {
		t.Errorf("--ref light: %+v", got)
	}
	checkFastMatchesSlow(t, repo, HistoryOptions{Refs: []string{"v1.0"}}, 0)
}

// TestGitLongMessage checks that a message longer than maxMessageBytes is
// cut with a warning: a key before the cut is found, one after is not.
func TestGitLongMessage(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	early, late := gitTestKey("msg-early"), gitTestKey("msg-late")
	filler := strings.Repeat(strings.Repeat("x", 99)+"\n", maxMessageBytes/100+10)
	r.Write("a.txt", "a\n")
	r.Git("add", "-A")
	if out, err := r.Cmd("long message\n\n"+early+"\n"+filler+late+"\n", nil, "commit", "-q", "-F", "-").CombinedOutput(); err != nil {
		t.Fatalf("git commit: %v\n%s", err, out)
	}
	c := r.Git("rev-parse", "HEAD")
	got, col, st := scanGit(t, repoOf(r), HistoryOptions{})
	if len(got) != 1 || got[0].Secret != early || got[0].Commit != c {
		t.Errorf("findings %+v, want the early key only", got)
	}
	if len(col.Warnings) != 1 || !strings.Contains(col.Warnings[0].Message, "only the first") || !strings.Contains(col.Warnings[0].Message, c) || st.Errors != 1 {
		t.Errorf("warnings %v (errors %d), want one that the message was cut", col.Warnings, st.Errors)
	}
}

// TestGitPushMessages checks that a push scans the messages of the commits
// it sends and of an annotated tag it sends.
func TestGitPushMessages(t *testing.T) {
	t.Parallel()
	m := buildMessageRepo(t)
	base := m.commits["base"]
	zero := strings.Repeat("0", 40)
	tagObj := m.r.Git("rev-parse", "v1.0")
	for _, tc := range []struct {
		name    string
		updates []RefUpdate
		want    []string
	}{
		{"branch", []RefUpdate{{"refs/heads/main", m.commits["subject"], "refs/heads/main", base}}, []string{"body", "merge", "subject"}},
		{"new tag", []RefUpdate{{"refs/tags/v1.0", tagObj, "refs/tags/v1.0", zero}}, []string{"body", "merge", "tag"}},
		{"tag of a commit the remote has", []RefUpdate{{"refs/tags/v1.0", tagObj, "refs/tags/v1.0", zero}, {"refs/heads/main", m.commits["subject"], "refs/heads/main", m.commits["merge"]}}, []string{"tag", "subject"}},
	} {
		c := &scanner.Collector{}
		if _, err := ScanPush(context.Background(), scanner.New(scanner.DefaultOptions()), repoOf(m.r), PushRemote{}, tc.updates, c); err != nil {
			t.Fatal(err)
		}
		by := m.byKey(t, c.Sorted())
		var got []string
		for _, name := range []string{"body", "merge", "tag", "subject"} {
			if _, ok := by[name]; ok {
				got = append(got, name)
			}
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: keys %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestPushOfABlobOrTree: a push that sets a ref to a blob or a tree (git
// tag NAME BLOB; git push origin NAME) sends it whole, and the pre-push
// hook scans it as the pre-receive hook does. It stopped every such push
// with '"<hash>": unknown revision'. An annotated tag of one is still
// refused: its message would go unscanned.
func TestPushOfABlobOrTree(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	r.Write("a.txt", "a\n")
	r.Commit("first")
	gitIn := func(stdin string, args ...string) string {
		out, ok := r.Try(stdin, args...)
		if !ok {
			t.Fatalf("git %v: %s", args, out)
		}
		return strings.TrimSpace(out)
	}
	hashOf := func(content string) string { return gitIn(content, "hash-object", "-w", "--stdin") }
	blob := hashOf("LOFTY_API_KEY=" + gitTestKey("pushed-blob") + "\n")
	clean := hashOf("nothing here\n")
	tree := gitIn("100644 blob "+blob+"\tx.env\n", "mktree")
	r.Git("tag", "-a", "-m", "a tag of a blob", "annotated", blob)
	zero := strings.Repeat("0", 40)
	for _, tc := range []struct {
		name, hash, ref string
		want            []string
	}{
		{"blob", blob, "refs/tags/b", []string{"refs/tags/b"}},
		{"tree", tree, "refs/tags/t", []string{"refs/tags/t:x.env"}},
		{"clean blob", clean, "refs/tags/c", nil},
	} {
		c := &scanner.Collector{}
		u := []RefUpdate{{tc.ref, tc.hash, tc.ref, zero}}
		if _, err := ScanPush(context.Background(), scanner.New(scanner.DefaultOptions()), repoOf(r), PushRemote{}, u, c); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for _, f := range c.Sorted() {
			got = append(got, f.Path)
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: findings at %q, want %q", tc.name, got, tc.want)
		}
	}
	u := []RefUpdate{{"refs/tags/annotated", r.Git("rev-parse", "annotated"), "refs/tags/annotated", zero}}
	if _, err := ScanPush(context.Background(), scanner.New(scanner.DefaultOptions()), repoOf(r), PushRemote{}, u, &scanner.Collector{}); err == nil {
		t.Error("an annotated tag of a blob was not refused")
	}
}
