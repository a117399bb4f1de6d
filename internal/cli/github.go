package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/gitscan"
	"github.com/loftyscan/loftyscan/internal/ghaction"
)

// `loftyscan git --github-event` scans what the event that started a
// GitHub Actions workflow adds, as the action (action.yml) does: the
// commits come from internal/ghaction, which reads $GITHUB_EVENT_NAME and
// the JSON file at $GITHUB_EVENT_PATH, and the action's range, base and
// head inputs (--range, --github-base, --github-head). In a job
// ($GITHUB_ACTIONS=true) the range's warnings and a failure are
// annotations on the run, and the range is a step output (range=, in
// $GITHUB_OUTPUT).

// githubFlags are the flags of `loftyscan git` for a GitHub Actions job.
type githubFlags struct {
	event bool   // --github-event
	base  string // --github-base: the action's base input
	head  string // --github-head: the action's head input
}

// githubPlan is what the event says to scan, and where the scan's
// settings come from when --settings-from does not say.
type githubPlan struct {
	ghaction.Result
	// settingsFrom is a revision, "none", or "" for the scan's own rule
	// (a range's base; the work tree for every ref).
	settingsFrom string
	why          string // for the log: why the settings come from there
}

// githubPlan computes the commits to scan in repo for the event in e's
// environment. A range that cannot be computed is a *cliError with the
// message and hint of ghaction's *Error.
func (gf *gitFlags) githubPlan(ctx context.Context, e env, repo *gitscan.Repository) (*githubPlan, error) {
	dir := repo.WorkTree
	if dir == "" {
		dir = repo.GitDir
	}
	ghEnv := ghaction.EnvFrom(e.getenv)
	git, err := ghaction.NewGitCLI(ctx, dir, nil)
	if err == nil {
		var res ghaction.Result
		res, err = ghaction.Compute(ctx, git, ghEnv, ghaction.Inputs{Range: gf.rng, Base: gf.gh.base, Head: gf.gh.head})
		if err == nil {
			p := &githubPlan{Result: res}
			if gf.settingsFrom == "" {
				err = p.chooseSettings(ctx, git, ghEnv)
			}
			if err == nil {
				return p, nil
			}
		}
	}
	var ge *ghaction.Error
	if errors.As(err, &ge) {
		return nil, &cliError{err: errors.New(ge.Message), hint: ge.Hint}
	}
	return nil, &cliError{err: err}
}

// chooseSettings applies the action's rule for settings: a range reads
// them from its base (the commit the change starts from); a scan with no
// base (a whole history, every ref) reads the default branch's, as the
// remote-tracking branch origin/<default_branch> of actions/checkout's
// clone holds it, and none when the history scanned is that branch itself
// or the clone has no such branch. Every ref with no default branch known
// reads the work tree, which the job checked out.
func (p *githubPlan) chooseSettings(ctx context.Context, git ghaction.Git, env ghaction.Env) error {
	switch {
	case p.Kind == ghaction.Nothing:
		p.settingsFrom, p.why = "none", "nothing is scanned"
		return nil
	case len(p.Exclude) > 0:
		return nil // the range's base
	}
	branch, err := ghaction.DefaultBranch(env)
	if err != nil {
		return err
	}
	if branch == "" {
		if p.Kind == ghaction.Commits {
			p.settingsFrom, p.why = "none", "the scan has no base and the event names no default branch"
		}
		return nil
	}
	ref := "refs/remotes/origin/" + branch
	tip, ok, err := git.Commit(ctx, ref)
	switch {
	case err != nil:
		return err
	case !ok:
		p.settingsFrom, p.why = "none", "the scan has no base and the clone has no "+ref+" (fetch-depth: 0 fetches it)"
	case p.Kind == ghaction.Commits && p.Include[0] == tip:
		p.settingsFrom, p.why = "none", "the history scanned is the default branch's own"
	default:
		p.settingsFrom, p.why = ref, "the scan has no base: the default branch's settings apply"
	}
	return nil
}

// inActions reports whether loftyscan runs in a GitHub Actions job.
func inActions(e env) bool { return e.getenv("GITHUB_ACTIONS") == "true" }

// announce prints what the range computation found: notes to the log,
// warnings as annotations in a job (else as warnings), and where the
// settings come from.
func (p *githubPlan) announce(e env) {
	for _, n := range p.Notes {
		printNote(e.stderr, n)
	}
	for _, w := range p.Warnings {
		if inActions(e) {
			printAnnotation(e.stdout, ghaction.LevelWarning, w)
		} else {
			printWarning(e.stderr, w)
		}
	}
	switch p.Kind {
	case ghaction.Nothing:
		printNote(e.stderr, "nothing to scan: the reports are written empty")
	case ghaction.EveryRef:
		printNote(e.stderr, "scanning every ref of the repository")
	default:
		printNote(e.stderr, "scanning "+describeRange(p.Range))
	}
	if p.why != "" {
		printNote(e.stderr, "settings from "+p.settingsFrom+": "+p.why)
	}
}

// describeRange says which commits a range selects, in git's terms.
func describeRange(r ghaction.Range) string {
	if len(r.Exclude) == 0 {
		return "the whole history of " + r.String()
	}
	return "the commits " + r.String()
}

// printAnnotation writes a workflow command the Actions runner shows as
// an annotation on the run: each line of the message is sanitized, then
// the whole escaped as a command's data (line breaks as %0A), so that
// nothing in it can end the command or start another.
func printAnnotation(w io.Writer, level ghaction.Level, msg string) {
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		lines[i] = finding.Sanitize(l)
	}
	fmt.Fprintln(w, ghaction.Annotation{Level: level, Title: "loftyscan", Message: strings.Join(lines, "\n")}.String())
}

// writeStepOutput appends name=value to the step outputs file the runner
// names in $GITHUB_OUTPUT, when there is one. The value is loftyscan's
// own (full commit names, ^ and ..): one that could hold a line break,
// and so set another output, is refused.
func writeStepOutput(e env, name, value string) error {
	path := e.getenv("GITHUB_OUTPUT")
	if path == "" {
		return nil
	}
	if strings.ContainsAny(name+value, "\r\n") || strings.Contains(name, "=") {
		return fmt.Errorf("refusing to write the step output %q: it holds a line break or '='", name)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("cannot write the step output %s to $GITHUB_OUTPUT: %w", name, err)
	}
	_, err = fmt.Fprintf(f, "%s=%s\n", name, value)
	return errors.Join(err, f.Close())
}

// annotateFailure shows a failure of a --github-event scan as an error
// annotation on the run, besides the message and hint on standard error.
func annotateFailure(e env, err error) {
	var ce *cliError
	if !inActions(e) || !errors.As(err, &ce) {
		return
	}
	msg := ce.err.Error()
	if ce.hint != "" {
		msg += "\n" + ce.hint
	}
	printAnnotation(e.stdout, ghaction.LevelError, msg)
}
