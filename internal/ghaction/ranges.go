package ghaction

import (
	"context"
	"fmt"
	"strings"
)

// Kind says what a Range means.
type Kind int

const (
	// Commits: the commits reachable from Include and from none of
	// Exclude (A..B; a branch's new commits; with no Exclude, the whole
	// history of Include).
	Commits Kind = iota
	// EveryRef: every commit of every ref (an event without commits of its
	// own, such as schedule or workflow_dispatch). Include and Exclude are
	// empty, as GitOptions wants them for that.
	EveryRef
	// Nothing: there is nothing to scan (a deleted branch, a new branch
	// whose commits are all on the default branch). Include and Exclude name
	// the same commit when one is known, so that a scan of them, should a
	// caller run one, reads nothing.
	Nothing
)

// Range is a set of commits in git rev-list's terms. Include and Exclude
// are full commit names: they are GitOptions.Refs and GitOptions.Exclude.
type Range struct {
	Kind    Kind
	Include []string
	Exclude []string
}

// String writes the range as git would read it: "A..B", "B" (its whole
// history), "B ^X ^Y" (several exclusions), or "" (every ref; and Nothing
// when no commit was known to name it).
func (r Range) String() string {
	switch {
	case len(r.Include) == 0:
		return ""
	case len(r.Include) == 1 && len(r.Exclude) == 1:
		return r.Exclude[0] + ".." + r.Include[0]
	}
	parts := append([]string(nil), r.Include...)
	for _, x := range r.Exclude {
		parts = append(parts, "^"+x)
	}
	return strings.Join(parts, " ")
}

// Result is the commits to scan and what to tell the user about them.
type Result struct {
	Range
	// Notes say what was chosen and why, for the log (stderr).
	Notes []string
	// Warnings are worth an annotation (::warning::): the scan goes on,
	// but reads more or other than the user may expect.
	Warnings []string
}

// Compute works out the commits to scan for the event env describes, or
// for the inputs when they name commits, asking git what it needs. See the
// package documentation for the rules. An *Error says why it cannot.
func Compute(ctx context.Context, git Git, env Env, in Inputs) (Result, error) {
	c := &computer{ctx: ctx, git: git, env: env}
	return c.compute(in)
}

// computer holds one computation's state: the payload is read once, and
// only when a rule needs it.
type computer struct {
	ctx     context.Context
	git     Git
	env     Env
	payload *payload
	res     Result
}

func (c *computer) event() (*payload, error) {
	if c.payload == nil {
		p, err := readPayload(c.env)
		if err != nil {
			return nil, err
		}
		c.payload = p
	}
	return c.payload, nil
}

func (c *computer) note(format string, args ...any) {
	c.res.Notes = append(c.res.Notes, fmt.Sprintf(format, args...))
}

func (c *computer) warn(format string, args ...any) {
	c.res.Warnings = append(c.res.Warnings, fmt.Sprintf(format, args...))
}

// done is the range r, once the clone is known to hold every blob of it:
// a partial clone's missing blobs would be warned about and skipped, and a
// key in one would pass the job, as a shallow clone's missing commits
// would.
func (c *computer) done(r Range) (Result, error) {
	if r.Kind != Nothing {
		partial, err := c.git.IsPartial(c.ctx)
		if err != nil {
			return Result{}, gitFailed(err)
		}
		if partial {
			return Result{}, &Error{
				Kind:    ErrPartialClone,
				Message: "this clone is partial (made with a filter, such as actions/checkout's filter: blob:none): the blobs the filter left out cannot be scanned, and a key in one would pass",
				Hint:    "remove the filter input from actions/checkout (keep fetch-depth: 0)",
			}
		}
	}
	c.res.Range = r
	return c.res, nil
}

func (c *computer) compute(in Inputs) (Result, error) {
	for _, v := range []struct{ what, s string }{{"the range input", in.Range}, {"the base input", in.Base}, {"the head input", in.Head}} {
		if v.s != "" {
			if err := checkRevision(v.what, v.s); err != nil {
				return Result{}, err
			}
		}
	}
	if in.Range != "" {
		return c.inputRange(in.Range)
	}
	switch c.env.EventName {
	case "pull_request", "pull_request_target":
		return c.pullRequest(in)
	case "merge_group":
		if r, ok, err := c.mergeGroup(in); ok || err != nil {
			return r, err
		}
	}
	if in.Base != "" {
		return c.mergeRange(in.Base, or(in.Head, "HEAD"), "given")
	}
	if c.env.EventName == "push" {
		return c.push(in)
	}
	if in.Head != "" {
		head, err := c.needCommit(in.Head, "the head commit")
		if err != nil {
			return Result{}, err
		}
		c.note("no range for the %s event: scanning all of %s's history", eventName(c.env), head)
		return c.done(Range{Kind: Commits, Include: []string{head}})
	}
	c.note("no range for the %s event: scanning every ref of the repository", eventName(c.env))
	return c.done(Range{Kind: EveryRef})
}

// inputRange is the range input: A..B (an empty side is HEAD), or one
// revision, meaning its whole history.
func (c *computer) inputRange(s string) (Result, error) {
	if strings.Contains(s, "...") {
		return Result{}, &Error{
			Kind:    ErrUnsupported,
			Message: fmt.Sprintf("range %q: the symmetric difference A...B is not supported", s),
			Hint:    "use A..B: what B has and A has not, as a pull request's base..head",
		}
	}
	a, b, isRange := strings.Cut(s, "..")
	if !isRange {
		rev, err := c.needCommit(s, "the range's revision")
		if err != nil {
			return Result{}, err
		}
		c.note("scanning the whole history of %s, as the range input says", rev)
		return c.done(Range{Kind: Commits, Include: []string{rev}})
	}
	if strings.Contains(b, "..") {
		return Result{}, &Error{Kind: ErrUnsupported, Message: fmt.Sprintf("range %q is not of the form A..B", s), Hint: "give one range, e.g. origin/main..HEAD"}
	}
	for _, side := range []struct{ what, s string }{{"the range's start", a}, {"the range's end", b}} {
		if side.s != "" {
			if err := checkRevision(side.what, side.s); err != nil {
				return Result{}, err
			}
		}
	}
	from, err := c.needCommit(or(a, "HEAD"), "the range's start")
	if err != nil {
		return Result{}, err
	}
	to, err := c.needCommit(or(b, "HEAD"), "the range's end")
	if err != nil {
		return Result{}, err
	}
	return c.done(Range{Kind: Commits, Include: []string{to}, Exclude: []string{from}})
}

// pullRequest is merge-base(base.sha, head.sha)..head.sha, the inputs
// taking the place of either.
func (c *computer) pullRequest(in Inputs) (Result, error) {
	base, head := in.Base, in.Head
	if base == "" || head == "" {
		p, err := c.event()
		if err != nil {
			return Result{}, err
		}
		if base == "" {
			if base, err = eventCommit(c.env, "pull_request.base.sha", p.PullRequest.Base.SHA); err != nil {
				return Result{}, err
			}
		}
		if head == "" {
			if head, err = eventCommit(c.env, "pull_request.head.sha", p.PullRequest.Head.SHA); err != nil {
				return Result{}, err
			}
		}
	}
	return c.mergeRange(base, head, "pull request's")
}

// mergeGroup is merge-base(base_sha, head_sha)..head_sha for a merge
// queue; ok is false when there is no base, and the generic rules apply.
func (c *computer) mergeGroup(in Inputs) (Result, bool, error) {
	base, head := in.Base, in.Head
	if base == "" || head == "" {
		p, err := c.event()
		if err != nil {
			return Result{}, false, err
		}
		if base == "" && p.MergeGroup.BaseSHA != "" {
			if base, err = commitName(eventField(c.env, "merge_group.base_sha"), p.MergeGroup.BaseSHA); err != nil {
				return Result{}, false, err
			}
		}
		if head == "" && p.MergeGroup.HeadSHA != "" {
			if head, err = commitName(eventField(c.env, "merge_group.head_sha"), p.MergeGroup.HeadSHA); err != nil {
				return Result{}, false, err
			}
		}
	}
	if base == "" {
		return Result{}, false, nil
	}
	r, err := c.mergeRange(base, or(head, "HEAD"), "merge group's")
	return r, true, err
}

// mergeRange is merge-base(base, head)..head. base.sha is the tip of the
// base branch when the event fired, which may have moved on since the
// branch point; the merge-base is where the branch's own commits start.
func (c *computer) mergeRange(base, head, what string) (Result, error) {
	b, err := c.needCommit(base, "the "+what+" base commit")
	if err != nil {
		return Result{}, err
	}
	h, err := c.needCommit(head, "the "+what+" head commit")
	if err != nil {
		return Result{}, err
	}
	mb, ok, err := c.git.MergeBase(c.ctx, b, h)
	if err != nil {
		return Result{}, gitFailed(err)
	}
	if !ok {
		shallow, err := c.git.IsShallow(c.ctx)
		if err != nil {
			return Result{}, gitFailed(err)
		}
		if shallow {
			return Result{}, &Error{
				Kind:    ErrShallowClone,
				Message: fmt.Sprintf("the %s base %s and head %s are in this clone but their merge-base is not: the history is cut by a shallow checkout", what, b, h),
				Hint:    fetchHint,
			}
		}
		c.warn("the %s base %s and head %s have no common history: scanning all of %s", what, b, h, h)
		return c.done(Range{Kind: Commits, Include: []string{h}})
	}
	if mb != b {
		c.note("the base branch moved on after the branch point: scanning from the merge-base %s, not from the base %s", mb, b)
	}
	return c.done(Range{Kind: Commits, Include: []string{h}, Exclude: []string{mb}})
}

// push is before..after. A new branch or tag, or a force-push whose old
// commit is not in the clone, is the commits the default branch lacks
// (newCommits); a deletion is nothing.
func (c *computer) push(in Inputs) (Result, error) {
	p, err := c.event()
	if err != nil {
		return Result{}, err
	}
	ref := or(p.Ref, c.env.Ref)
	if ref != "" {
		if err := checkRef(eventField(c.env, "ref"), ref); err != nil {
			return Result{}, err
		}
	}
	after := in.Head
	if after == "" {
		if after, err = eventCommit(c.env, "after", p.After); err != nil {
			return Result{}, err
		}
		if isZero(after) {
			return c.deleted(ref)
		}
	}
	after, err = c.needCommit(after, "the pushed commit")
	if err != nil {
		return Result{}, err
	}
	before := p.Before
	if before != "" {
		if before, err = commitName(eventField(c.env, "before"), before); err != nil {
			return Result{}, err
		}
	}
	if before == "" || isZero(before) {
		return c.created(after, ref)
	}
	full, ok, err := c.git.Commit(c.ctx, before)
	if err != nil {
		return Result{}, gitFailed(err)
	}
	if !ok {
		if err := c.needFullClone(before, "the commit before the push"); err != nil {
			return Result{}, err
		}
		c.warn("the commit before the push, %s, is not in this clone (a force-push replaced it): scanning the commits of %s that the default branch lacks", before, after)
		return c.newCommits(after, ref)
	}
	return c.done(Range{Kind: Commits, Include: []string{after}, Exclude: []string{full}})
}

// deleted is a push that deleted ref: nothing to scan.
func (c *computer) deleted(ref string) (Result, error) {
	c.note("the push deleted %s: nothing to scan", or(ref, "a ref"))
	r := Range{Kind: Nothing}
	if head, ok, err := c.git.Commit(c.ctx, "HEAD"); err == nil && ok {
		r.Include, r.Exclude = []string{head}, []string{head}
	}
	return c.done(r)
}

// created is a push that created ref at after.
func (c *computer) created(after, ref string) (Result, error) {
	shallow, err := c.git.IsShallow(c.ctx)
	if err != nil {
		return Result{}, gitFailed(err)
	}
	if shallow {
		return Result{}, &Error{
			Kind:    ErrShallowClone,
			Message: fmt.Sprintf("the push created %s, and this clone is shallow, so the commits the default branch lacks cannot be told apart", or(ref, "a ref")),
			Hint:    fetchHint,
		}
	}
	c.note("the push created %s: scanning the commits the default branch lacks", or(ref, "a ref"))
	return c.newCommits(after, ref)
}

// newCommits is the commits of after that the default branch lacks (its
// remote-tracking branch): the default branch's commits were scanned as
// they were pushed or merged. Other branches do not count: a push of two
// new branches at one commit (or a new branch beside a force-push) starts
// a run for each, which would each leave the commits out as the other
// branch's, and neither would scan them. A push that creates or
// force-pushes the default branch itself, or an event that names no
// default branch, scans all of after's history. The default branch is
// excluded through the boundary, the commits where the new history joins
// it.
func (c *computer) newCommits(after, ref string) (Result, error) {
	def, err := DefaultBranch(c.env)
	if err != nil {
		return Result{}, err
	}
	remotes, err := c.git.Remotes(c.ctx)
	if err != nil {
		return Result{}, gitFailed(err)
	}
	branches, err := c.git.RemoteBranches(c.ctx)
	if err != nil {
		return Result{}, gitFailed(err)
	}
	scanned := map[string]bool{}
	if def != "" && ref != "refs/heads/"+def {
		for _, r := range remotes {
			scanned["refs/remotes/"+r+"/"+def] = true
		}
	}
	var exclude []string
	seen := map[string]bool{}
	for _, b := range branches {
		if scanned[b.Ref] && !seen[b.Commit] {
			seen[b.Commit] = true
			exclude = append(exclude, b.Commit)
		}
	}
	n, boundary, err := c.git.NewCommits(c.ctx, after, exclude)
	if err != nil {
		return Result{}, gitFailed(err)
	}
	switch {
	case n == 0:
		c.note("every commit of %s is on the default branch already: nothing new to scan", after)
		return c.done(Range{Kind: Nothing, Include: []string{after}, Exclude: []string{after}})
	case len(boundary) == 0:
		c.note("no commit of %s is on the default branch (%s): scanning its whole history (%d commits)", after, defaultBranchNote(def, ref), n)
	case len(boundary) == 1:
		c.note("%d new commits, from %s", n, boundary[0])
	default:
		c.note("%d new commits, which join the default branch at %d commits: %s", n, len(boundary), strings.Join(boundary, " "))
	}
	return c.done(Range{Kind: Commits, Include: []string{after}, Exclude: boundary})
}

// needCommit returns the full name of the commit rev names, or the error
// that says it is not in the clone and how to get it.
func (c *computer) needCommit(rev, what string) (string, error) {
	name, ok, err := c.git.Commit(c.ctx, rev)
	if err != nil {
		return "", gitFailed(err)
	}
	if ok {
		return name, nil
	}
	if err := c.needFullClone(rev, what); err != nil {
		return "", err
	}
	fetch := "fetch it before this step"
	if isHex(rev) && (len(rev) == 40 || len(rev) == 64) {
		fetch = "fetch it before this step (git fetch origin " + rev + ")"
	}
	return "", &Error{
		Kind:    ErrMissingCommit,
		Message: fmt.Sprintf("%s %s is not in this clone", what, rev),
		Hint:    fetch + ", or " + fetchHint,
		Commit:  rev,
	}
}

// needFullClone returns the shallow-clone error for a commit the clone
// lacks, when the clone is shallow.
func (c *computer) needFullClone(rev, what string) error {
	shallow, err := c.git.IsShallow(c.ctx)
	if err != nil {
		return gitFailed(err)
	}
	if !shallow {
		return nil
	}
	return &Error{
		Kind:    ErrShallowClone,
		Message: fmt.Sprintf("%s %s is not in this clone, which is shallow (actions/checkout fetches one commit by default)", what, rev),
		Hint:    fetchHint,
		Commit:  rev,
	}
}

// eventCommit checks a commit name the event must have.
func eventCommit(env Env, field, s string) (string, error) {
	if s == "" {
		return "", &Error{
			Kind:    ErrEvent,
			Message: fmt.Sprintf("the %s event in %q has no %s", eventName(env), env.EventPath, field),
			Hint:    "set the action's base and head inputs (or range)",
		}
	}
	return commitName(eventField(env, field), s)
}

func eventField(env Env, field string) string {
	return fmt.Sprintf("the %s event's %s", eventName(env), field)
}

// gitFailed wraps an unexpected git failure; an *Error passes through.
func gitFailed(err error) error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return &Error{
		Kind:    ErrGit,
		Message: err.Error(),
		Hint:    "check that git can read the repository in this job (a container job may need git config --global --add safe.directory)",
		Err:     err,
	}
}

// defaultBranchNote names the default branch for a note, or says why no
// commit counts as scanned before.
func defaultBranchNote(def, ref string) string {
	switch def {
	case "":
		return "the event names none"
	case strings.TrimPrefix(ref, "refs/heads/"):
		if strings.HasPrefix(ref, "refs/heads/") {
			return "the push is to " + def + " itself"
		}
	}
	return def
}

func or(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}
