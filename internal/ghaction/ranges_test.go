package ghaction

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// compute runs Compute on the clone r with the real git.
func compute(t *testing.T, r *repo, env Env, in Inputs) (Result, error) {
	t.Helper()
	return Compute(context.Background(), r.cli(t), env, in)
}

// event is the Env of an event whose file holds payload (none when nil).
func event(t *testing.T, name string, payload any) Env {
	t.Helper()
	env := Env{EventName: name}
	if payload != nil {
		env.EventPath = writeEvent(t, payload)
	}
	return env
}

// wantRange checks a result's range, and that git rev-list selects the
// commits listed in want for it (newest first, as rev-list prints them).
func wantRange(t *testing.T, r *repo, res Result, err error, kind Kind, include, exclude []string, want ...string) {
	t.Helper()
	if err != nil {
		t.Fatalf("Compute: %v (hint: %s)", err, hintOf(err))
	}
	if res.Kind != kind || !slices.Equal(res.Include, include) || !sameSet(res.Exclude, exclude) {
		t.Fatalf("range kind %d include %v exclude %v, want kind %d include %v exclude %v\nnotes %q\nwarnings %q",
			res.Kind, res.Include, res.Exclude, kind, include, exclude, res.Notes, res.Warnings)
	}
	if kind == EveryRef {
		return
	}
	got := strings.Fields(r.revList(t, res.Range))
	if !sameSet(got, want) {
		t.Errorf("git rev-list %s selects %v, want %v", res.Range, got, want)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func hintOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Hint
	}
	return ""
}

// wantError checks that err is an *Error of kind whose message holds each
// of msgs, and returns it.
func wantError(t *testing.T, err error, kind error, msgs ...string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, kind) {
		t.Fatalf("error %v (%T), want a %v *Error", err, err, kind)
	}
	for _, m := range msgs {
		if !strings.Contains(e.Message+"\nhint: "+e.Hint, m) {
			t.Errorf("error %q (hint %q) does not say %q", e.Message, e.Hint, m)
		}
	}
	return e
}

func wantText(t *testing.T, what string, lines []string, want string) {
	t.Helper()
	for _, l := range lines {
		if strings.Contains(l, want) {
			return
		}
	}
	t.Errorf("no %s says %q: %q", what, want, lines)
}

func TestComputePullRequest(t *testing.T) {
	f := newFixture(t)
	pr := f.checkout(t, 0, "refs/pull/1/merge")

	t.Run("merge-base, not base.sha", func(t *testing.T) {
		t.Parallel()
		// main moved on (rm, base) after the branch point bp: the pull
		// request's own commits start at the merge-base.
		for _, name := range []string{"pull_request", "pull_request_target"} {
			res, err := compute(t, pr, event(t, name, prEvent(f.base, f.head)), Inputs{})
			wantRange(t, pr, res, err, Commits, []string{f.head}, []string{f.bp}, f.head, f.f1)
			wantText(t, "note", res.Notes, "scanning from the merge-base "+f.bp+", not from the base "+f.base)
			if res.String() != f.bp+".."+f.head {
				t.Errorf("String() %q", res.String())
			}
		}
	})

	t.Run("base.sha is the merge-base", func(t *testing.T) {
		t.Parallel()
		res, err := compute(t, pr, event(t, "pull_request", prEvent(f.bp, f.head)), Inputs{})
		wantRange(t, pr, res, err, Commits, []string{f.head}, []string{f.bp}, f.head, f.f1)
		if len(res.Notes) != 0 || len(res.Warnings) != 0 {
			t.Errorf("notes %q warnings %q", res.Notes, res.Warnings)
		}
	})

	t.Run("inputs", func(t *testing.T) {
		t.Parallel()
		// head: the pull request up to f1.
		res, err := compute(t, pr, event(t, "pull_request", prEvent(f.base, f.head)), Inputs{Head: f.f1})
		wantRange(t, pr, res, err, Commits, []string{f.f1}, []string{f.bp}, f.f1)
		// base and head both given: the event file is not read at all.
		env := Env{EventName: "pull_request", EventPath: filepath.Join(t.TempDir(), "absent.json")}
		res, err = compute(t, pr, env, Inputs{Base: "origin/main", Head: "HEAD"})
		wantRange(t, pr, res, err, Commits, []string{f.merge}, []string{f.base}, f.merge, f.head, f.f1)
	})

	t.Run("no common history", func(t *testing.T) {
		t.Parallel()
		res, err := compute(t, pr, event(t, "pull_request", prEvent(f.base, f.o1)), Inputs{})
		wantRange(t, pr, res, err, Commits, []string{f.o1}, nil, f.o1)
		wantText(t, "warning", res.Warnings, "have no common history: scanning all of "+f.o1)
	})

	t.Run("shallow clone", func(t *testing.T) {
		t.Parallel()
		// The default fetch-depth: 1, the merge commit alone.
		r := f.checkout(t, 1, "refs/pull/1/merge")
		_, err := compute(t, r, event(t, "pull_request", prEvent(f.base, f.head)), Inputs{})
		e := wantError(t, err, ErrShallowClone, "the pull request's base commit "+f.base+" is not in this clone, which is shallow", "set fetch-depth: 0 on actions/checkout")
		if e.Commit != f.base {
			t.Errorf("Commit %q, want %s", e.Commit, f.base)
		}
		// fetch-depth: 2, the merge commit and its parents: base and head
		// are there, their merge-base is cut off.
		r = f.checkout(t, 2, "refs/pull/1/merge")
		_, err = compute(t, r, event(t, "pull_request", prEvent(f.base, f.head)), Inputs{})
		wantError(t, err, ErrShallowClone, "are in this clone but their merge-base is not", "fetch-depth: 0")
	})

	t.Run("head not fetched", func(t *testing.T) {
		t.Parallel()
		// A full clone that lacks the head (pull_request_target checks out
		// the base branch; a fork's commits are not fetched).
		_, err := compute(t, pr, event(t, "pull_request_target", prEvent(f.base, f.gone)), Inputs{})
		e := wantError(t, err, ErrMissingCommit, "the pull request's head commit "+f.gone+" is not in this clone", "git fetch origin "+f.gone)
		if e.Commit != f.gone {
			t.Errorf("Commit %q", e.Commit)
		}
	})

	t.Run("event without the commits", func(t *testing.T) {
		t.Parallel()
		p := prEvent(f.base, f.head)
		delete(p["pull_request"].(map[string]any)["base"].(map[string]any), "sha")
		_, err := compute(t, pr, event(t, "pull_request", p), Inputs{})
		wantError(t, err, ErrEvent, "has no pull_request.base.sha", "set the action's base and head inputs")
		p["pull_request"] = nil
		_, err = compute(t, pr, event(t, "pull_request", p), Inputs{})
		wantError(t, err, ErrEvent, "has no pull_request.base.sha")
	})
}

func TestComputeMergeGroup(t *testing.T) {
	f := newFixture(t)
	queue := "refs/heads/gh-readonly-queue/main/pr-1-" + f.head
	r := f.checkout(t, 0, queue)

	t.Run("merge-base..head", func(t *testing.T) {
		t.Parallel()
		res, err := compute(t, r, event(t, "merge_group", mergeGroupEvent(f.p2, f.mq)), Inputs{})
		wantRange(t, r, res, err, Commits, []string{f.mq}, []string{f.p2}, f.mq, f.head, f.f1)
	})
	t.Run("base behind", func(t *testing.T) {
		t.Parallel()
		// A base_sha that is not where the queue's branch joins main.
		res, err := compute(t, r, event(t, "merge_group", mergeGroupEvent(f.base, f.mq)), Inputs{})
		wantRange(t, r, res, err, Commits, []string{f.mq}, []string{f.base}, f.mq, f.head, f.f1, f.p1, f.p2)
	})
	t.Run("no head: HEAD", func(t *testing.T) {
		t.Parallel()
		res, err := compute(t, r, event(t, "merge_group", mergeGroupEvent(f.p2, "")), Inputs{})
		wantRange(t, r, res, err, Commits, []string{f.mq}, []string{f.p2}, f.mq, f.head, f.f1)
	})
	t.Run("no base: the head's history", func(t *testing.T) {
		t.Parallel()
		res, err := compute(t, r, event(t, "merge_group", mergeGroupEvent("", f.mq)), Inputs{Head: f.mq})
		wantRange(t, r, res, err, Commits, []string{f.mq}, nil, strings.Fields(r.run(t, r.dir, "rev-list", f.mq))...)
		wantText(t, "note", res.Notes, "no range for the merge_group event: scanning all of "+f.mq)
	})
	t.Run("shallow", func(t *testing.T) {
		t.Parallel()
		s := f.checkout(t, 1, queue)
		_, err := compute(t, s, event(t, "merge_group", mergeGroupEvent(f.p2, f.mq)), Inputs{})
		wantError(t, err, ErrShallowClone, "merge group's base commit "+f.p2, "which is shallow")
	})
}

func TestComputePush(t *testing.T) {
	f := newFixture(t)
	mainClone := f.checkout(t, 0, "refs/heads/main")
	topic := f.checkout(t, 0, "refs/heads/topic")

	t.Run("before..after", func(t *testing.T) {
		t.Parallel()
		res, err := compute(t, mainClone, event(t, "push", pushEvent("refs/heads/main", f.base, f.p2)), Inputs{})
		wantRange(t, mainClone, res, err, Commits, []string{f.p2}, []string{f.base}, f.p2, f.p1)
		if res.String() != f.base+".."+f.p2 {
			t.Errorf("String() %q", res.String())
		}
	})

	t.Run("deletion", func(t *testing.T) {
		t.Parallel()
		res, err := compute(t, mainClone, event(t, "push", pushEvent("refs/heads/gone", f.p1, zero40)), Inputs{})
		wantRange(t, mainClone, res, err, Nothing, []string{f.p2}, []string{f.p2})
		wantText(t, "note", res.Notes, "the push deleted refs/heads/gone: nothing to scan")
		if res.String() != f.p2+".."+f.p2 {
			t.Errorf("String() %q, want HEAD..HEAD as range.sh printed", res.String())
		}
	})

	t.Run("new branch", func(t *testing.T) {
		t.Parallel()
		// origin/topic is the pushed commit already: left out of what
		// counts as scanned before, unlike origin/main and origin/feature.
		res, err := compute(t, topic, event(t, "push", pushEvent("refs/heads/topic", zero40, f.t1)), Inputs{})
		wantRange(t, topic, res, err, Commits, []string{f.t1}, []string{f.p2}, f.t1)
		wantText(t, "note", res.Notes, "the push created refs/heads/topic")
		wantText(t, "note", res.Notes, "1 new commits, from "+f.p2)
		if res.String() != f.p2+".."+f.t1 {
			t.Errorf("String() %q", res.String())
		}
	})

	t.Run("new branch, ref from GITHUB_REF", func(t *testing.T) {
		t.Parallel()
		p := pushEvent("", zero40, f.t1)
		delete(p, "ref")
		env := event(t, "push", p)
		env.Ref = "refs/heads/topic"
		res, err := compute(t, topic, env, Inputs{})
		wantRange(t, topic, res, err, Commits, []string{f.t1}, []string{f.p2}, f.t1)
	})

	t.Run("force-push", func(t *testing.T) {
		t.Parallel()
		// The old commit is not in the clone.
		res, err := compute(t, topic, event(t, "push", pushEvent("refs/heads/topic", f.gone, f.t1)), Inputs{})
		wantRange(t, topic, res, err, Commits, []string{f.t1}, []string{f.p2}, f.t1)
		wantText(t, "warning", res.Warnings, "the commit before the push, "+f.gone+", is not in this clone (a force-push")
		// The old commit is still there (another branch has it): before..after.
		res, err = compute(t, topic, event(t, "push", pushEvent("refs/heads/topic", f.head, f.t1)), Inputs{})
		wantRange(t, topic, res, err, Commits, []string{f.t1}, []string{f.head}, f.t1, f.p2, f.p1, f.base, f.rm)
	})

	t.Run("new branch that merged another", func(t *testing.T) {
		t.Parallel()
		// topic2 joins main at p2, and feature at bp: feature's commits
		// are not on the default branch, so they are scanned again.
		r := f.checkout(t, 0, "refs/heads/topic2")
		res, err := compute(t, r, event(t, "push", pushEvent("refs/heads/topic2", zero40, f.t2)), Inputs{})
		wantRange(t, r, res, err, Commits, []string{f.t2}, []string{f.p2, f.bp}, f.t2, f.t2m, f.head, f.f1)
		wantText(t, "note", res.Notes, "4 new commits, which join the default branch at 2 commits")
	})

	t.Run("two new branches at one commit", func(t *testing.T) {
		t.Parallel()
		// git push origin t1:topic t1:twin starts two runs, one a branch.
		// Each run's clone has the other branch: counted as scanned, it
		// left t1 out of both runs, and the key in it was never scanned.
		r := f.checkout(t, 0, "refs/heads/topic")
		r.git("update-ref", "refs/remotes/origin/twin", f.t1)
		for _, ref := range []string{"refs/heads/topic", "refs/heads/twin"} {
			res, err := compute(t, r, event(t, "push", pushEvent(ref, zero40, f.t1)), Inputs{})
			wantRange(t, r, res, err, Commits, []string{f.t1}, []string{f.p2}, f.t1)
		}
	})

	t.Run("new branch with nothing new", func(t *testing.T) {
		t.Parallel()
		res, err := compute(t, mainClone, event(t, "push", pushEvent("refs/heads/copy", zero40, f.p1)), Inputs{})
		wantRange(t, mainClone, res, err, Nothing, []string{f.p1}, []string{f.p1})
		wantText(t, "note", res.Notes, "every commit of "+f.p1+" is on the default branch already")
	})

	t.Run("new branch, no other branch", func(t *testing.T) {
		t.Parallel()
		// The first push to a repository: its whole history is new.
		r := f.checkout(t, 0, "refs/heads/main")
		for _, b := range strings.Fields(r.git("for-each-ref", "--format=%(refname)", "refs/remotes/")) {
			if b != "refs/remotes/origin/main" {
				r.git("update-ref", "-d", b)
			}
		}
		res, err := compute(t, r, event(t, "push", pushEvent("refs/heads/main", zero40, f.p2)), Inputs{})
		wantRange(t, r, res, err, Commits, []string{f.p2}, nil, f.p2, f.p1, f.base, f.rm, f.bp, f.c1)
		wantText(t, "note", res.Notes, "no commit of "+f.p2+" is on the default branch (the push is to main itself): scanning its whole history (6 commits)")
	})

	t.Run("tags", func(t *testing.T) {
		t.Parallel()
		// A tag is no branch's own: every remote-tracking branch counts.
		r := f.checkout(t, 0, "refs/tags/v2")
		res, err := compute(t, r, event(t, "push", pushEvent("refs/tags/v2", zero40, f.x2)), Inputs{})
		wantRange(t, r, res, err, Commits, []string{f.x2}, []string{f.p2}, f.x2)
		// An annotated tag's push names the tag object: peeled to x3.
		res, err = compute(t, r, event(t, "push", pushEvent("refs/tags/v3", zero40, f.v3obj)), Inputs{})
		wantRange(t, r, res, err, Commits, []string{f.x3}, []string{f.p2}, f.x3)
		// A tag on main: nothing new.
		res, err = compute(t, r, event(t, "push", pushEvent("refs/tags/v1", zero40, f.p1)), Inputs{})
		wantRange(t, r, res, err, Nothing, []string{f.p1}, []string{f.p1})
		// A tag moved: before..after.
		res, err = compute(t, r, event(t, "push", pushEvent("refs/tags/v2", f.p2, f.x2)), Inputs{})
		wantRange(t, r, res, err, Commits, []string{f.x2}, []string{f.p2}, f.x2)
	})

	t.Run("shallow", func(t *testing.T) {
		t.Parallel()
		r := f.checkout(t, 1, "refs/heads/topic")
		// A new branch: which commits are new cannot be told.
		_, err := compute(t, r, event(t, "push", pushEvent("refs/heads/topic", zero40, f.t1)), Inputs{})
		wantError(t, err, ErrShallowClone, "the push created refs/heads/topic, and this clone is shallow", "fetch-depth: 0")
		// A push whose before was not fetched.
		_, err = compute(t, r, event(t, "push", pushEvent("refs/heads/topic", f.p2, f.t1)), Inputs{})
		e := wantError(t, err, ErrShallowClone, "the commit before the push "+f.p2+" is not in this clone, which is shallow")
		if e.Commit != f.p2 {
			t.Errorf("Commit %q", e.Commit)
		}
		// fetch-depth: 2 has p2: before..after works in a shallow clone.
		r = f.checkout(t, 2, "refs/heads/topic")
		res, err := compute(t, r, event(t, "push", pushEvent("refs/heads/topic", f.p2, f.t1)), Inputs{})
		wantRange(t, r, res, err, Commits, []string{f.t1}, []string{f.p2}, f.t1)
	})

	t.Run("pushed commit missing", func(t *testing.T) {
		t.Parallel()
		_, err := compute(t, mainClone, event(t, "push", pushEvent("refs/heads/rewritten", f.p2, f.gone)), Inputs{})
		wantError(t, err, ErrMissingCommit, "the pushed commit "+f.gone+" is not in this clone")
	})

	t.Run("head input", func(t *testing.T) {
		t.Parallel()
		res, err := compute(t, mainClone, event(t, "push", pushEvent("refs/heads/main", f.base, f.p2)), Inputs{Head: f.p1})
		wantRange(t, mainClone, res, err, Commits, []string{f.p1}, []string{f.base}, f.p1)
	})
}

func TestComputeOtherEvents(t *testing.T) {
	f := newFixture(t)
	pr := f.checkout(t, 0, "refs/pull/1/merge")

	t.Run("every ref", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{"schedule", "workflow_dispatch", "release", ""} {
			res, err := compute(t, pr, event(t, name, map[string]any{"inputs": map[string]any{}}), Inputs{})
			wantRange(t, pr, res, err, EveryRef, nil, nil)
			wantText(t, "note", res.Notes, "scanning every ref of the repository")
			if res.String() != "" {
				t.Errorf("String() %q", res.String())
			}
		}
		// These events need nothing of the file: a broken one is not read.
		env := Env{EventName: "schedule", EventPath: writeFile(t, []byte("{not json"))}
		res, err := compute(t, pr, env, Inputs{})
		wantRange(t, pr, res, err, EveryRef, nil, nil)
	})

	t.Run("head input: its history", func(t *testing.T) {
		t.Parallel()
		res, err := compute(t, pr, event(t, "workflow_dispatch", nil), Inputs{Head: f.bp})
		wantRange(t, pr, res, err, Commits, []string{f.bp}, nil, f.bp, f.c1)
		if res.String() != f.bp {
			t.Errorf("String() %q", res.String())
		}
	})

	t.Run("base input", func(t *testing.T) {
		t.Parallel()
		// merge-base(origin/main, HEAD)..HEAD, with HEAD the pull
		// request's merge commit.
		res, err := compute(t, pr, event(t, "workflow_dispatch", nil), Inputs{Base: "origin/main"})
		wantRange(t, pr, res, err, Commits, []string{f.merge}, []string{f.base}, f.merge, f.head, f.f1)
	})

	t.Run("range input", func(t *testing.T) {
		t.Parallel()
		// As given, whatever the event.
		res, err := compute(t, pr, event(t, "pull_request", prEvent(f.base, f.head)), Inputs{Range: f.c1 + ".." + f.p1})
		wantRange(t, pr, res, err, Commits, []string{f.p1}, []string{f.c1}, f.p1, f.base, f.rm, f.bp)
		// Revisions, not only commit names; an empty side is HEAD.
		res, err = compute(t, pr, Env{}, Inputs{Range: "origin/feature.."})
		wantRange(t, pr, res, err, Commits, []string{f.merge}, []string{f.head}, f.merge, f.base, f.rm)
		// One revision: its whole history.
		res, err = compute(t, pr, event(t, "workflow_dispatch", nil), Inputs{Range: f.bp})
		wantRange(t, pr, res, err, Commits, []string{f.bp}, nil, f.bp, f.c1)

		_, err = compute(t, pr, Env{}, Inputs{Range: "HEAD..0123456789012345678901234567890123456789"})
		wantError(t, err, ErrMissingCommit, "the range's end 0123456789012345678901234567890123456789 is not in this clone", "git fetch origin 0123456789012345678901234567890123456789")
		_, err = compute(t, pr, Env{}, Inputs{Range: "origin/nowhere..HEAD"})
		wantError(t, err, ErrMissingCommit, "the range's start origin/nowhere is not in this clone", "fetch it before this step, or set fetch-depth: 0")
		_, err = compute(t, pr, Env{}, Inputs{Range: "main...HEAD"})
		wantError(t, err, ErrUnsupported, "A...B is not supported", "use A..B")
		_, err = compute(t, pr, Env{}, Inputs{Range: "a..b..c"})
		wantError(t, err, ErrUnsupported, "is not of the form A..B")
	})
}

func TestComputeEventFile(t *testing.T) {
	f := newFixture(t)
	r := f.checkout(t, 0, "refs/heads/main")
	good := pushEvent("refs/heads/main", f.base, f.p2)

	for _, c := range []struct {
		name string
		env  Env
		msgs []string
	}{
		{"GITHUB_EVENT_PATH not set", Env{EventName: "push"}, []string{"the push event needs its event file, and GITHUB_EVENT_PATH is not set"}},
		{"missing file", Env{EventName: "push", EventPath: filepath.Join(t.TempDir(), "event.json")}, []string{"event.json\" (GITHUB_EVENT_PATH) does not exist"}},
		{"a folder", Env{EventName: "pull_request", EventPath: t.TempDir()}, []string{"cannot read the event file"}},
		{"malformed JSON", Env{EventName: "push", EventPath: writeFile(t, []byte(`{"ref": "refs/heads/main", "after": `))}, []string{"invalid JSON at byte 36"}},
		{"empty file", Env{EventName: "push", EventPath: writeFile(t, nil)}, []string{"invalid JSON"}},
		{"not an object", Env{EventName: "push", EventPath: writeFile(t, []byte(`["push"]`))}, []string{"the document is a JSON array, where an object is expected"}},
		{"a number for a commit", Env{EventName: "push", EventPath: writeFile(t, []byte(`{"after": 42}`))}, []string{"after is a JSON number, where a string is expected"}},
		{"a string for an object", Env{EventName: "pull_request", EventPath: writeFile(t, []byte(`{"pull_request": "x"}`))}, []string{"pull_request is a JSON string, where an object is expected"}},
		{"no after", Env{EventName: "push", EventPath: writeFile(t, []byte(`{"ref": "refs/heads/main", "before": "`+f.base+`"}`))}, []string{"the push event in", "has no after"}},
		{"merge group, missing file", Env{EventName: "merge_group", EventPath: filepath.Join(t.TempDir(), "x")}, []string{"does not exist"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := compute(t, r, c.env, Inputs{})
			wantError(t, err, ErrEvent, c.msgs...)
		})
	}

	t.Run("too large", func(t *testing.T) {
		// A sparse file: no disk is written for its size.
		name := writeFile(t, []byte(`{"after": "`))
		if err := os.Truncate(name, maxEventSize+1); err != nil {
			t.Fatal(err)
		}
		_, err := compute(t, r, Env{EventName: "push", EventPath: name}, Inputs{})
		wantError(t, err, ErrEvent, "is larger than 32 MiB")
	})

	t.Run("compact and unknown fields", func(t *testing.T) {
		// One line, fields of every type the ranges do not read, and
		// escapes in strings: as GitHub may write it.
		data := `{"ref":"refs\/heads\/main","before":"` + f.base + `","after":"` + f.p2 + `","commits":[{"id":1,"message":"a\"b\u0000"}],"forced":false,"pusher":null,"extra":{"after":"nope"}}`
		res, err := compute(t, r, Env{EventName: "push", EventPath: writeFile(t, []byte(data))}, Inputs{})
		wantRange(t, r, res, err, Commits, []string{f.p2}, []string{f.base}, f.p2, f.p1)
		// The indented form, for the record.
		res, err = compute(t, r, Env{EventName: "push", EventPath: writeEvent(t, good)}, Inputs{})
		wantRange(t, r, res, err, Commits, []string{f.p2}, []string{f.base}, f.p2, f.p1)
	})
}

func TestNewGitCLI(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, err := NewGitCLI(ctx, filepath.Join(dir, "nowhere"), testEnv(t.TempDir()))
	wantError(t, err, ErrNotRepository, "is not a folder", "actions/checkout")
	// GIT_CEILING_DIRECTORIES keeps git from finding a repository above
	// the temporary folder.
	_, err = NewGitCLI(ctx, dir, append(testEnv(t.TempDir()), "GIT_CEILING_DIRECTORIES="+filepath.Dir(dir)))
	wantError(t, err, ErrNotRepository, "is not a git repository", "fetch-depth: 0")
}

func TestRangeString(t *testing.T) {
	a, b, c := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	for _, tc := range []struct {
		r    Range
		want string
	}{
		{Range{Kind: EveryRef}, ""},
		{Range{Kind: Commits, Include: []string{b}}, b},
		{Range{Kind: Commits, Include: []string{b}, Exclude: []string{a}}, a + ".." + b},
		{Range{Kind: Commits, Include: []string{c}, Exclude: []string{a, b}}, c + " ^" + a + " ^" + b},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.r, got, tc.want)
		}
	}
}

func TestDefaultBranch(t *testing.T) {
	for _, c := range []struct {
		name, data, want string
		err              error
	}{
		{"named", `{"repository": {"default_branch": "main", "full_name": "acme/app"}}`, "main", nil},
		{"a branch with slashes", `{"repository": {"default_branch": "release/v2"}}`, "release/v2", nil},
		{"none", `{"repository": {"full_name": "acme/app"}}`, "", nil},
		{"null", `{"repository": {"default_branch": null}}`, "", nil},
		{"an option", `{"repository": {"default_branch": "--output=x"}}`, "", ErrBadValue},
		{"a range", `{"repository": {"default_branch": "main..x"}}`, "", ErrBadValue},
		{"not JSON", `{"repository": `, "", ErrEvent},
		{"a number", `{"repository": {"default_branch": 1}}`, "", ErrEvent},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := DefaultBranch(Env{EventName: "schedule", EventPath: writeFile(t, []byte(c.data))})
			if c.err != nil {
				wantError(t, err, c.err)
				return
			}
			if err != nil || got != c.want {
				t.Errorf("DefaultBranch: %q, %v; want %q", got, err, c.want)
			}
		})
	}
	if got, err := DefaultBranch(Env{EventName: "schedule"}); got != "" || err != nil {
		t.Errorf("no event file: %q, %v", got, err)
	}
}

// A partial clone (actions/checkout's filter: blob:none, with fetch-depth:
// 0) has the commits but not the blobs of those the checkout did not need:
// the scan warned about them and passed, so a pull request that adds a key
// in one commit and removes it in the next passed the job. The range is
// refused, as a shallow clone's is.
func TestComputePartialClone(t *testing.T) {
	f := newFixture(t)
	origin := &repo{t: t, dir: f.origin, home: t.TempDir()}
	origin.git("config", "uploadpack.allowFilter", "true")
	r := newRepo(t, filepath.Join(t.TempDir(), "ws"))
	r.git("remote", "add", "origin", "file://"+filepath.ToSlash(f.origin))
	r.git("fetch", "-q", "--no-tags", "--filter=blob:none", "origin", "+refs/heads/*:refs/remotes/origin/*")
	r.git("checkout", "-q", "--detach", "refs/remotes/origin/feature")
	for name, env := range map[string]Env{
		"pull_request": event(t, "pull_request", prEvent(f.base, f.head)),
		"push":         event(t, "push", pushEvent("refs/heads/feature", f.f1, f.head)),
		"schedule":     event(t, "schedule", nil),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := compute(t, r, env, Inputs{})
			wantError(t, err, ErrPartialClone, "this clone is partial", "remove the filter input")
		})
	}
	// A deletion scans nothing, and a full clone is not partial.
	res, err := compute(t, r, event(t, "push", pushEvent("refs/heads/gone", f.p1, zero40)), Inputs{})
	if err != nil || res.Kind != Nothing {
		t.Errorf("a deletion in a partial clone: %v, %v", res.Range, err)
	}
	full := f.checkout(t, 0, "refs/heads/feature")
	if partial, err := full.cli(t).IsPartial(context.Background()); partial || err != nil {
		t.Errorf("a full clone: partial %v, %v", partial, err)
	}
}
