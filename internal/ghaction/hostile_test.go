package ghaction

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// recordingGit is the real git, with every revision it was asked about
// written down: the hostile-value tests check that none reached it.
type recordingGit struct {
	Git
	revs []string
}

func (g *recordingGit) Commit(ctx context.Context, rev string) (string, bool, error) {
	g.revs = append(g.revs, rev)
	return g.Git.Commit(ctx, rev)
}

func (g *recordingGit) MergeBase(ctx context.Context, a, b string) (string, bool, error) {
	g.revs = append(g.revs, a, b)
	return g.Git.MergeBase(ctx, a, b)
}

func (g *recordingGit) NewCommits(ctx context.Context, tip string, exclude []string) (int, []string, error) {
	g.revs = append(append(g.revs, tip), exclude...)
	return g.Git.NewCommits(ctx, tip, exclude)
}

// hostile are values an event or a workflow could carry to make a tool
// run git with an option, split an argument, or print a workflow command.
var hostile = []string{
	"--output=/tmp/pwned",
	"-c",
	"--upload-pack=touch /tmp/pwned",
	"deadbeef",                    // short
	strings.Repeat("g", 40),       // 40, not hex
	strings.Repeat("a", 39) + " ", // a space
	strings.Repeat("a", 41),       // 41 hex
	"HEAD",                        // a revision, not a commit name
	strings.Repeat("a", 20) + "\n::error::x\n",      // a line break and a command
	strings.Repeat("a", 38) + "\x00a",               // NUL
	strings.Repeat("a", 38) + "\u202e",              // a bidi override
	"\xff\xfe" + strings.Repeat("a", 38),            // not UTF-8
	"$(touch /tmp/pwned)" + strings.Repeat("a", 21), // shell, for a careless wrapper
}

func TestHostileEventValues(t *testing.T) {
	f := newFixture(t)
	r := f.checkout(t, 0, "refs/pull/1/merge")
	for _, v := range hostile {
		for _, c := range []struct {
			name, event string
			payload     map[string]any
		}{
			{"pull request base", "pull_request", prEvent(v, f.head)},
			{"pull request head", "pull_request_target", prEvent(f.base, v)},
			{"merge group base", "merge_group", mergeGroupEvent(v, f.head)},
			{"merge group head", "merge_group", mergeGroupEvent(f.base, v)},
			{"push before", "push", pushEvent("refs/heads/main", v, f.p2)},
			{"push after", "push", pushEvent("refs/heads/main", f.base, v)},
		} {
			g := &recordingGit{Git: r.cli(t)}
			_, err := Compute(context.Background(), g, event(t, c.event, c.payload), Inputs{})
			checkRefused(t, c.name, v, err, g)
		}
	}
}

func TestHostileRefs(t *testing.T) {
	f := newFixture(t)
	r := f.checkout(t, 0, "refs/heads/topic")
	for _, ref := range []string{
		"-x", "--upload-pack=x", "main", "refs/heads/-x", "refs/heads/a b", "refs/heads/x\n::error::y",
		"refs/heads/x\r", "refs/heads/a..b", "refs/heads/a:b", "refs/heads/a\\b", "refs/heads/x.lock",
		"refs/heads//x", "refs/heads/x/", "refs/heads/.x", "refs/heads/x@{1}", "refs/heads/\u202ex", "refs/heads/\xff",
	} {
		// In the payload, and in GITHUB_REF when the payload has none.
		g := &recordingGit{Git: r.cli(t)}
		_, err := Compute(context.Background(), g, event(t, "push", pushEvent(ref, zero40, f.t1)), Inputs{})
		checkRefused(t, "push ref", ref, err, g)
		p := pushEvent("", zero40, f.t1)
		delete(p, "ref")
		env := event(t, "push", p)
		env.Ref = ref
		g = &recordingGit{Git: r.cli(t)}
		_, err = Compute(context.Background(), g, env, Inputs{})
		checkRefused(t, "GITHUB_REF", ref, err, g)
	}
}

func TestHostileInputs(t *testing.T) {
	f := newFixture(t)
	r := f.checkout(t, 0, "refs/pull/1/merge")
	pr := prEvent(f.base, f.head)
	for _, v := range []string{
		"-x", "--output=/tmp/pwned", "--upload-pack=touch /tmp/pwned", "a b", "main\t", "x\n::error::y", "\x00", "\u2028x", "\xff",
		strings.Repeat("a", maxRevision+1),
	} {
		for _, in := range []Inputs{
			{Base: v}, {Head: v}, {Range: v}, {Range: v + "..HEAD"}, {Range: "HEAD.." + v},
		} {
			g := &recordingGit{Git: r.cli(t)}
			_, err := Compute(context.Background(), g, event(t, "pull_request", pr), in)
			checkRefused(t, "input", v, err, g)
		}
	}
}

// checkRefused checks that v was refused as a bad value, that the message
// quotes it on one line of printable text, and that git never saw it.
func checkRefused(t *testing.T, what, v string, err error, g *recordingGit) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrBadValue) {
		t.Errorf("%s %q: error %v, want a bad-value *Error", what, v, err)
		return
	}
	if !printable(e.Message) {
		t.Errorf("%s %q: the message holds the raw value: %q", what, v, e.Message)
	}
	if e.Hint == "" {
		t.Errorf("%s %q: no hint", what, v)
	}
	for _, rev := range g.revs {
		if strings.Contains(rev, strings.TrimSpace(v)) && v != "HEAD" {
			t.Errorf("%s %q: git was asked about %q", what, v, rev)
		}
	}
}

// TestGitCLIRefusesOptions calls GitCLI directly with revisions that are
// options: it refuses them before git runs (git would write the file
// --output names).
func TestGitCLIRefusesOptions(t *testing.T) {
	r := newRepo(t, filepath.Join(t.TempDir(), "r"))
	head := r.commit("one")
	g := r.cli(t)
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "pwned")
	bad := "--output=" + out
	_, _, err := g.Commit(ctx, bad)
	wantBad := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, ErrBadValue) {
			t.Errorf("%s: %v, want ErrBadValue", op, err)
		}
	}
	wantBad("Commit", err)
	_, _, err = g.MergeBase(ctx, head, bad)
	wantBad("MergeBase", err)
	_, _, err = g.NewCommits(ctx, head, []string{bad})
	wantBad("NewCommits exclude", err)
	_, _, err = g.NewCommits(ctx, head+"\n--all", nil)
	wantBad("NewCommits line break", err)
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s was written", out)
	}
	// Even unchecked, --end-of-options keeps git from reading an option.
	cmd := exec.Command("git", "rev-parse", "--verify", "--quiet", "--end-of-options", bad+"^{commit}")
	cmd.Dir, cmd.Env = r.dir, testEnv(r.home)
	if err := cmd.Run(); err == nil {
		t.Error("git rev-parse --end-of-options took an option as a revision")
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s was written", out)
	}
}

// TestCheckRefAgainstGit checks checkRef against git check-ref-format, the
// reference: every name git refuses is refused, and every name git
// accepts is accepted unless it is one checkRef is stricter about.
func TestCheckRefAgainstGit(t *testing.T) {
	stricter := map[string]bool{"refs/heads/-x": true, "refs/heads/a/-b": true, "refs/heads/\xff": true, "refs/heads/\u202ex": true, "refs/heads/a\u00a0b": true}
	names := []string{
		"refs/heads/main", "refs/heads/feature/x-1", "refs/tags/v1.2.3", "refs/heads/ünïcode", "refs/heads/a_b+c=d",
		"refs/heads/-x", "refs/heads/a/-b", "refs/heads/\xff", "refs/heads/\u202ex", "refs/heads/a\u00a0b",
		"refs/heads/a b", "refs/heads/a\tb", "refs/heads/a\x7f", "refs/heads/a..b", "refs/heads/a~1", "refs/heads/a^",
		"refs/heads/a:b", "refs/heads/a?", "refs/heads/a*", "refs/heads/a[b", "refs/heads/a\\b", "refs/heads/.a",
		"refs/heads/a/.b", "refs/heads/a.lock", "refs/heads/a.lock/b", "refs/heads/a.", "refs/heads/a/", "refs//heads",
		"refs/heads/a@{b", "refs/heads/@", "refs/heads/a@b", "refs/heads/a.b", "refs/heads/a-.b", "/refs/heads/a",
	}
	for _, n := range names {
		cmd := exec.Command("git", "check-ref-format", n)
		cmd.Env = testEnv(t.TempDir())
		gitOK := cmd.Run() == nil
		ours := checkRef("ref", n) == nil
		switch {
		case stricter[n] && ours:
			t.Errorf("%q: accepted, want refused (stricter than git)", n)
		case !stricter[n] && ours != gitOK:
			t.Errorf("%q: accepted %v, git check-ref-format %v", n, ours, gitOK)
		}
	}
	for _, n := range []string{"main", "heads/main", "-x", ""} {
		if checkRef("ref", n) == nil {
			t.Errorf("%q: accepted, want refused (not refs/...)", n)
		}
	}
}

func TestCommitName(t *testing.T) {
	sha1, sha256 := strings.Repeat("0123456789abcdef", 3)[:40], strings.Repeat("0123456789abcdef", 4)
	for _, c := range []struct {
		in, want string
	}{
		{sha1, sha1}, {sha256, sha256}, {strings.ToUpper(sha1), sha1},
		{sha1[:39], ""}, {sha1 + "0", ""}, {sha256[:63], ""}, {"", ""}, {"-" + sha1[1:], ""}, {sha1[:39] + "g", ""},
	} {
		got, err := commitName("x", c.in)
		if got != c.want || (err == nil) != (c.want != "") {
			t.Errorf("commitName(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

// printable reports whether s is valid UTF-8 without control characters
// or bidirectional overrides: one line, shown as it reads.
func printable(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool {
		return r != ' ' && unsafeInName(r)
	}) < 0
}
