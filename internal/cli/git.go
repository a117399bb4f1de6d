package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/gitscan"
	"github.com/loftyscan/loftyscan/internal/ghaction"
	"github.com/loftyscan/loftyscan/reporters"
	"github.com/loftyscan/loftyscan/rules"
	"github.com/loftyscan/loftyscan/scanner"
	"github.com/spf13/cobra"
)

const gitLong = `Scan a git repository for Lofty API keys.

By default every commit reachable from every ref is read: branches,
remote-tracking branches, tags, notes and the stash; then the commits only a
reflog reaches (amended, reset, old stash entries), then every other commit,
blob and annotated tag the object database still holds. Each unique file
content (blob) is scanned once, however many commits hold it, and each key is
reported once, at the commit that introduced it and the path it had there,
with the commit's author, date and subject. The messages and header lines
of commits and annotated tags are scanned too (location commit-message,
commit-header, tag-message or tag-header), and so are the names of the
files and folders the commits add (location path).
in_head says whether the key is still in the checked-out HEAD; exposure says
which branches, remote-tracking branches and tags hold it, whether each tip
still does, and how many commits carry it. A key only in history needs
revoking and a history rewrite; a key in HEAD needs a fix now as well.
--range, --ref and --pre-push read only the commits they name (and the
annotated tags --ref names), never reflogs or unreachable objects.

REPO is a work tree (or any folder in it), a bare repository, or a URL
(https, ssh, git@host:path, file://): a URL is cloned bare into a temporary
folder, scanned and removed.

  loftyscan git                             all history of the repository here
  loftyscan git --range origin/main..HEAD   what a pull request adds
  loftyscan git --since 2024-01-01          what commits since then added
  loftyscan git --since "2 weeks ago"       ... or since a time ago (yesterday, 3.days)
  loftyscan git https://github.com/org/repo.git
  loftyscan git --staged                    what the commit being made adds
  loftyscan git --pre-push                  what a push sends (in a pre-push hook)

--staged reads the index (GIT_INDEX_FILE when git sets it, as for
'git commit -a'), not the work tree, and reports only keys the commit adds;
run by 'pre-commit run --all-files' (outside a commit) with nothing staged,
it scans every file the index holds.
--pre-push reads git's pre-push lines from standard input or, under the
pre-commit framework, PRE_COMMIT_FROM_REF and PRE_COMMIT_TO_REF. A new
branch is checked against what the remote the push goes to has
(--pre-push-remote NAME, which the installed hook passes, or
PRE_COMMIT_REMOTE_NAME): its remote-tracking branches. A push to a URL
(--pre-push-remote "") has none: its new branches are scanned whole.

Settings: a scan of a change (--range, --pre-push, --staged) reads
.loftyscan.toml, .loftyscanignore and files that --config, --ignore-file and
--baseline name inside the repository from the commit the change starts
from, never from the work tree or the scanned commits, and warns when the
change edits them. Other scans read the work tree. --settings-from REV
names the commit to read them from (none: read none).

In a GitHub Actions job, --github-event scans what the event that started
the workflow adds, as loftyscan's action does: a pull request's commits
from the merge-base, a push's before..after, a new branch's commits that no
other branch has, nothing for a deleted branch, every ref for other events.
--range (A..B, or one revision: its whole history), --github-base and
--github-head name the commits instead. A scan with no base reads the
settings of the default branch (origin/<default_branch>). The range is
written to $GITHUB_OUTPUT as range=, and a clone too shallow for it stops
the scan with exit 2 and a hint.`

// gitFlags are the flags of `loftyscan git`.
type gitFlags struct {
	rng          string
	since        string
	refs         []string
	staged       bool
	prePush      bool
	pushRemote   string // --pre-push-remote: the remote the push goes to
	pushToURL    bool   // --pre-push-remote given empty: a push to a URL
	recurse      bool
	settingsFrom string
	gh           githubFlags

	preReceive preReceiveFlags
}

func newGitCommand(e env, o *outputFlags) *cobra.Command {
	var sf scanFlags
	var gf gitFlags
	cmd := &cobra.Command{
		Use:   "git [REPO|URL]",
		Short: "Scan git history, a remote repository, the staged changes or a push",
		Long:  gitLong,
		Args: atMostOneArg("repository (a path or URL)", func(args []string) string {
			return "scan one repository at a time; to scan files and folders, run 'loftyscan dir " + shellWords(args) + "'"
		}),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := gf.preReceive.check(&gf, cmd.Flags().Changed); err != nil {
				return err
			}
			gf.pushToURL = cmd.Flags().Changed("pre-push-remote") && gf.pushRemote == ""
			if gf.preReceive.on {
				return gf.runPreReceive(cmd.Context(), e, o, &sf, args)
			}
			return gf.run(cmd.Context(), e, o, &sf, args)
		},
	}
	sf.register(cmd, true)
	gf.preReceive.register(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&gf.rng, "range", "", "scan only what the commits in `A..B` introduced: reachable from B, not from A (a pull request: base..head)")
	f.StringVar(&gf.since, "since", "", "scan only what commits made at or after `DATE` introduced: 2024-01-31, \"2 weeks ago\", yesterday, \"last monday\" (as git reads dates; a named day from midnight)")
	f.StringArrayVar(&gf.refs, "ref", nil, "scan only the history of `NAME` (branch, tag, remote-tracking branch or commit); repeatable")
	f.BoolVar(&gf.staged, "staged", false, "scan what the commit being made would add: the index against HEAD (the pre-commit check; under pre-commit run --from-ref A --to-ref B, the commits A..B; under pre-commit run --all-files with nothing staged, the whole index)")
	f.BoolVar(&gf.recurse, "recurse-submodules", false, "also scan the whole history of each checked-out submodule (paths below the submodule's path)")
	f.BoolVar(&gf.prePush, "pre-push", false, "scan the commits a push sends: git's pre-push lines on standard input, or PRE_COMMIT_FROM_REF/PRE_COMMIT_TO_REF")
	f.StringVar(&gf.pushRemote, "pre-push-remote", "", "with --pre-push, the remote the push goes to (`NAME`, git's first argument to the hook, which the installed hook passes; empty for a push to a URL): a new branch is checked against what that remote's tracking branches hold")
	f.StringVar(&gf.settingsFrom, "settings-from", "", "read .loftyscan.toml and .loftyscanignore from commit `REV` (none: from nowhere) instead of the range's base or the work tree")
	f.BoolVar(&gf.gh.event, "github-event", false, "in a GitHub Actions job, scan what the event that started the workflow adds (GITHUB_EVENT_NAME, GITHUB_EVENT_PATH), as the action does; --range then also takes one revision (its whole history)")
	f.StringVar(&gf.gh.base, "github-base", "", "with --github-event, scan from the merge-base of `REV` and the head instead of the event's base")
	f.StringVar(&gf.gh.head, "github-head", "", "with --github-event, the last commit to scan (`REV`) instead of the event's")
	return cmd
}

func (gf *gitFlags) check(args []string) error {
	history := gf.rng != "" || gf.since != "" || len(gf.refs) > 0
	switch {
	case gf.staged && gf.prePush:
		return &cliError{err: errors.New("--staged and --pre-push do not go together"), hint: "--staged is the pre-commit check, --pre-push the pre-push one: pick one"}
	case gf.staged && history:
		return &cliError{err: errors.New("--staged does not take --range, --since or --ref"), hint: "--staged scans the index; for commits use --range A..B"}
	case (gf.pushRemote != "" || gf.pushToURL) && !gf.prePush:
		return &cliError{err: errors.New("--pre-push-remote goes with --pre-push"), hint: "the pre-push hook passes git's remote name: loftyscan git --pre-push --pre-push-remote=\"$1\""}
	case gf.prePush && (gf.rng != "" || len(gf.refs) > 0):
		return &cliError{err: errors.New("--pre-push does not take --range or --ref"), hint: "--pre-push reads the refs being pushed from git; use --range A..B to name commits yourself"}
	case gf.rng != "" && len(gf.refs) > 0:
		return &cliError{err: errors.New("--range and --ref do not go together"), hint: "a range names its own commits: --range A..B"}
	case (gf.staged || gf.prePush) && len(args) == 1 && gitscan.IsRemoteURL(args[0]):
		return &cliError{err: errors.New("--staged and --pre-push work on a local repository, not a URL"), hint: "run the hook inside the repository's work tree"}
	case !gf.gh.event && (gf.gh.base != "" || gf.gh.head != ""):
		return &cliError{err: errors.New("--github-base and --github-head go with --github-event"), hint: "add --github-event, or name the commits with --range A..B"}
	case gf.gh.event && (gf.staged || gf.prePush || len(gf.refs) > 0):
		return &cliError{err: errors.New("--github-event does not take --staged, --pre-push or --ref"), hint: "the event names the commits; to name them yourself, add --range A..B (or one revision) to --github-event"}
	case gf.gh.event && len(args) == 1 && gitscan.IsRemoteURL(args[0]):
		return &cliError{err: errors.New("--github-event works on the job's clone, not a URL"), hint: "check the repository out with actions/checkout (fetch-depth: 0) and give its folder"}
	}
	return nil
}

func (gf *gitFlags) run(ctx context.Context, e env, o *outputFlags, sf *scanFlags, args []string) (err error) {
	if gf.gh.event {
		defer func() { annotateFailure(e, err) }()
	}
	if err := gf.check(args); err != nil {
		return err
	}
	gf.preCommitRange(e)
	// A local repository is found first: its settings are read before the
	// scan (see gitSettings). A URL is cloned only once the flags are known
	// to be right; its scan reads the current folder's settings.
	remote := len(args) == 1 && gitscan.IsRemoteURL(args[0])
	var repo *gitscan.Repository
	if !remote {
		var err error
		if repo, err = openRepo(e, args); err != nil {
			return err
		}
		noteFileArg(e, args, repo)
	}
	var gopts gitscan.HistoryOptions
	var plan *githubPlan
	switch {
	case gf.gh.event:
		if plan, err = gf.githubPlan(ctx, e, repo); err != nil {
			return err
		}
		gopts.Refs, gopts.Exclude = plan.Include, plan.Exclude
		if gf.settingsFrom == "" {
			gf.settingsFrom = plan.settingsFrom
		}
		plan.announce(e)
		if err := writeStepOutput(e, "range", plan.String()); err != nil {
			return &cliError{err: err, hint: "GITHUB_OUTPUT must name the step's outputs file, as the runner sets it"}
		}
	case gf.rng != "":
		if gopts.Exclude, gopts.Refs, err = parseRange(gf.rng); err != nil {
			return err
		}
	default:
		gopts.Refs = gf.refs
	}
	if gf.since != "" {
		if gopts.Since, err = parseSince(gf.since, time.Now()); err != nil {
			return err
		}
	}
	var updates []gitscan.RefUpdate
	if gf.prePush {
		if updates, err = prePushUpdates(ctx, e); err != nil {
			if cause := stopCause(ctx); cause != nil {
				return o.stoppedError(cause, "reading the refs being pushed", "nothing was scanned and no report was written", "raise --timeout; git closes the hook's standard input once it has written the refs")
			}
			return err
		}
	}
	src, closeSrc, err := gf.gitSettings(e, repo, gopts.Exclude, gopts.Refs, updates)
	if err != nil {
		return err
	}
	st, err := loadSettings(src, sf, &o.triage)
	closeSrc()
	if err != nil {
		return err
	}
	st.inChange = len(gopts.Exclude) > 0 || gf.prePush || gf.staged
	opts, err := sf.options(st)
	if err != nil {
		return err
	}
	var keyedRefs []string
	if gf.prePush {
		keyedRefs = pushedKeyedNames(updates, opts.Rules)
	}

	mode := reporters.ModeHistory
	switch {
	case gf.staged:
		mode = reporters.ModeStaged
	case gf.prePush:
		mode = reporters.ModePrePush
	}
	sc := scan{
		unit: "blobs",
		mode: mode,
		opts: opts,
		run: func(ctx context.Context, s *scanner.Scanner, sink scanner.Sink) (finding.Stats, error) {
			switch {
			case gf.staged && preCommitRunOutsideCommit(e):
				st, whole, err := gitscan.ScanStagedOrIndex(ctx, s, repo, "", sink)
				if whole {
					printNote(e.stderr, "pre-commit run outside a commit (--all-files, or --files): the index adds nothing to HEAD, so every file it holds was scanned")
					// No change is scanned, so there is no base: the settings
					// are HEAD's, which in CI is the change itself.
					printWarning(e.stderr, "the settings (.loftyscan.toml, .loftyscanignore) were read from HEAD, the checkout: in CI that is the change being checked, which can accept its own keys; check a pull request with 'pre-commit run --from-ref BASE --to-ref HEAD', which reads them from BASE")
				}
				return st, err
			case gf.staged:
				return gitscan.ScanStaged(ctx, s, repo, e.getenv("GIT_INDEX_FILE"), sink)
			case gf.prePush:
				return gitscan.ScanPush(ctx, s, repo, gf.pushRemoteTo(e), updates, sink)
			case plan != nil && plan.Kind == ghaction.Nothing:
				return finding.Stats{}, nil
			}
			stats, err := gitscan.ScanHistory(ctx, s, repo, gopts, sink)
			if err != nil {
				return stats, err
			}
			sub, err := gitscan.ScanSubmodules(ctx, s, repo, gf.recurse, sink)
			return stats.Add(sub), err
		},
		fail:     gitError,
		root:     func() string { return repo.WorkTree },
		settings: st,
	}
	if remote {
		sc.prepare = func(ctx context.Context) (cleanup func(), err error) {
			repo, cleanup, err = cloneRepo(ctx, e, args[0])
			return cleanup, err
		}
	}
	err = o.scanThenReport(ctx, e, sc)
	for _, msg := range keyedRefs {
		printWarning(e.stderr, msg)
	}
	if err == nil && len(keyedRefs) > 0 {
		return &cliError{err: errors.New("push stopped: " + keyedRefs[0]), hint: "push under a name without the key ('git push REMOTE HEAD:refs/heads/NEW-NAME'), rename the branch ('git branch -m NEW-NAME'), and revoke the key in Lofty (Settings > Integrations > API) if the name has been shared"}
	}
	if errors.Is(err, errFindings) {
		switch {
		case gf.staged:
			printHint(e.stderr, "the commit adds a Lofty API key. Remove it from the file (or rename the file or folder named after it), read it from the environment instead, and stage the file again. A key that was ever pushed or shared must be revoked in Lofty (Settings → Integrations → API). Only once it is revoked, or if it is not a real key, commit with 'git commit --no-verify'.")
		case gf.prePush:
			printHint(e.stderr, "the push sends a Lofty API key. Revoke it in Lofty (Settings → Integrations → API), then remove it from the commits (git rebase -i, or git filter-repo --replace-text). Only once it is revoked, or if it is not a real key, push with 'git push --no-verify'.")
		}
	}
	return err
}

// openRepo finds the local repository to scan: the folder given or the
// current one (or GIT_DIR, as git sets it for hooks in linked worktrees).
func openRepo(e env, args []string) (*gitscan.Repository, error) {
	var (
		repo *gitscan.Repository
		err  error
	)
	switch {
	case len(args) == 0 && e.getenv("GIT_DIR") != "":
		wt := e.getenv("GIT_WORK_TREE")
		if wt == "" {
			wt = "."
		}
		repo, err = gitscan.RepositoryAt(e.getenv("GIT_DIR"), wt)
	case len(args) == 0:
		repo, err = gitscan.FindRepository(".")
	default:
		repo, err = gitscan.FindRepository(args[0])
	}
	if err != nil {
		return nil, gitError(err)
	}
	return repo, nil
}

// noteFileArg says, when `loftyscan git` is given a file, that the file
// stands for the repository that holds it, as a folder does: `loftyscan git
// app.env` reads like a scan of one file's history, and scans every file
// of every commit.
func noteFileArg(e env, args []string, repo *gitscan.Repository) {
	if len(args) != 1 || isGitFile(args[0]) {
		return
	}
	if fi, err := os.Stat(args[0]); err != nil || fi.IsDir() {
		return
	}
	root := repo.WorkTree
	if root == "" {
		root = repo.GitDir
	}
	printNote(e.stderr, args[0]+" is a file: scanning the history of the whole repository that holds it, "+root+" (to scan only the file as it is now: loftyscan dir "+args[0]+")")
}

// isGitFile reports whether path is a .git file (a linked worktree's or a
// submodule's), which names a repository.
func isGitFile(path string) bool { return filepath.Base(path) == ".git" }

// cloneRepo clones url bare into a temporary folder that cleanup removes.
// The folder is one of the run's leftovers until then: a second Ctrl-C,
// SIGQUIT or the hard-stop watchdog remove it even while the clone runs,
// once they have killed git.
func cloneRepo(ctx context.Context, e env, url string) (*gitscan.Repository, func(), error) {
	dir, err := os.MkdirTemp(e.getenv("TMPDIR"), "loftyscan-clone-")
	if err != nil {
		return nil, nil, &cliError{err: fmt.Errorf("cannot make a temporary folder for the clone: %w", err), hint: "check TMPDIR and free space"}
	}
	forget := e.temps.add(dir)
	cleanup := func() {
		removeHard(dir)
		forget()
	}
	printNote(e.stderr, "cloning "+finding.RedactURL(url)+" (bare, all refs) into a temporary folder")
	// A second signal or SIGQUIT exits without waiting for the clone:
	// git and its helpers are killed before the folder goes.
	repo, err := gitscan.CloneRepository(ctx, url, dir, gitscan.CloneOptions{Running: e.temps.addKill})
	if err != nil {
		cleanup()
		if ctx.Err() != nil {
			return nil, nil, gitError(ctx.Err())
		}
		return nil, nil, &cliError{err: err, hint: "check the URL, and that 'git clone' of it works for you: loftyscan clones with git when it is installed, so your credential helper and SSH settings apply"}
	}
	return repo, cleanup, nil
}

// gitError turns the scanner's git errors into errors with a hint.
func gitError(err error) error {
	switch {
	case errors.Is(err, scanner.ErrNoPath):
		return &cliError{err: err, hint: "check the path; with no path, 'loftyscan git' scans the repository of the current folder"}
	case errors.Is(err, gitscan.ErrNotRepository):
		return &cliError{err: err, hint: "run 'loftyscan git' inside a git work tree, or give a repository's path or URL; for plain folders use 'loftyscan dir'"}
	case errors.Is(err, gitscan.ErrUnknownRevision):
		return &cliError{err: err, hint: "check the name with 'git rev-parse --verify NAME'; in a shallow CI checkout, fetch the base first (actions/checkout: fetch-depth: 0)"}
	case errors.Is(err, gitscan.ErrNoWorkTree):
		return &cliError{err: err, hint: "run --staged inside the work tree the commit is made from"}
	case errors.Is(err, context.Canceled):
		return &cliError{err: errors.New("scan interrupted")}
	}
	var ce *cliError
	if errors.As(err, &ce) {
		return err
	}
	return &cliError{err: err}
}

// notRepoHint gives a command other than 'loftyscan git' its own hint when
// the folder is not a repository: gitError's speaks of 'loftyscan git'.
func notRepoHint(err error, hint string) error {
	var ce *cliError
	if errors.Is(err, gitscan.ErrNotRepository) && errors.As(err, &ce) {
		return &cliError{err: ce.err, hint: hint}
	}
	return err
}

// preCommitRange turns --staged into --range FROM..TO when the pre-commit
// framework runs the hook as `pre-commit run --from-ref FROM --to-ref TO`,
// the way CI runs pre-commit over a pull request: it asks for the files
// those commits changed, and the index, a clean checkout's HEAD, holds
// nothing to report. Only that command sets both variables for a hook of
// the commit stage (a pre-push run sets them for push-stage hooks).
func (gf *gitFlags) preCommitRange(e env) {
	from, to := e.getenv("PRE_COMMIT_FROM_REF"), e.getenv("PRE_COMMIT_TO_REF")
	if !gf.staged || from == "" || to == "" {
		return
	}
	gf.staged = false
	gf.rng = from + ".." + to
	printNote(e.stderr, "pre-commit run --from-ref --to-ref: scanning the commits "+gf.rng+", not the staged change")
}

// preCommitRunOutsideCommit reports whether the pre-commit framework runs
// the hook from its own command (pre-commit run --all-files, as CI and the
// pre-commit action run it), not from git commit: pre-commit sets
// PRE_COMMIT for every hook, and git sets GIT_INDEX_FILE for the hooks of
// every commit (git commit -a and git commit PATH name a temporary index).
func preCommitRunOutsideCommit(e env) bool {
	return e.getenv("PRE_COMMIT") != "" && e.getenv("GIT_INDEX_FILE") == ""
}

// parseRange splits git's A..B into what to leave out and what to scan.
// An empty end is HEAD, as for git. An empty start is an error, where git
// reads HEAD: in CI, --range "$BASE..$HEAD" with both variables unset (or
// the start alone) would be HEAD..HEAD, which selects no commit, and the
// job would pass having scanned nothing.
func parseRange(s string) (exclude, include []string, err error) {
	if strings.Contains(s, "...") {
		return nil, nil, &cliError{err: fmt.Errorf("--range %q: the symmetric difference A...B is not supported", s), hint: "use A..B: what B has and A has not, as a pull request's base..head"}
	}
	a, b, ok := strings.Cut(s, "..")
	if !ok {
		return nil, nil, &cliError{err: fmt.Errorf("--range %q is not of the form A..B", s), hint: "for a pull request: --range origin/main..HEAD; for one ref's whole history: --ref NAME"}
	}
	if a == "" {
		return nil, nil, &cliError{err: fmt.Errorf("--range %q has no start (the A of A..B is empty), so it would select no commit", s), hint: "is a variable unset? Give the commit to scan from (--range origin/main..HEAD), write HEAD..B if you mean it, or use --ref B for the whole history of B"}
	}
	if len(a) >= 40 && isZeroHash(a) {
		return nil, nil, &cliError{err: fmt.Errorf("--range %q starts at the all-zero commit, which CI gives as the base of a push that creates a branch (github.event.before, CI_COMMIT_BEFORE_SHA)", s), hint: "scan the new branch's history with --ref " + orHead(b) + " (and --settings-from origin/main for the default branch's settings), or in GitHub Actions use --github-event, which does so"}
	}
	if b == "" {
		b = "HEAD"
	}
	return []string{a}, []string{b}, nil
}

func orHead(rev string) string {
	if rev == "" {
		return "HEAD"
	}
	return rev
}

// pushRemote is where a push goes: --pre-push-remote, which the installed
// hook passes (empty for a push to a URL, which is not passed on: it may
// hold credentials), or the pre-commit framework's PRE_COMMIT_REMOTE_NAME.
// Neither: every remote-tracking branch stands for what the remote has.
func (gf *gitFlags) pushRemoteTo(e env) gitscan.PushRemote {
	switch {
	case gf.pushToURL:
		return gitscan.PushRemote{URL: true}
	case gf.pushRemote != "":
		return gitscan.PushRemote{Name: gf.pushRemote}
	}
	return gitscan.PushRemote{Name: e.getenv("PRE_COMMIT_REMOTE_NAME")}
}

// prePushUpdates reads what a push sends: from the pre-commit framework's
// variables when it runs the hook, else from git's pre-push lines on
// standard input.
func prePushUpdates(ctx context.Context, e env) ([]gitscan.RefUpdate, error) {
	if to := e.getenv("PRE_COMMIT_TO_REF"); to != "" {
		return []gitscan.RefUpdate{{LocalHash: to, RemoteHash: e.getenv("PRE_COMMIT_FROM_REF")}}, nil
	}
	if local := e.getenv("PRE_COMMIT_LOCAL_BRANCH"); local != "" {
		// pre-commit found that the push includes a root commit: all of the
		// branch that no remote-tracking branch has.
		return []gitscan.RefUpdate{{LocalRef: local, LocalHash: local}}, nil
	}
	if isTerminal(e.stdin) {
		return nil, &cliError{err: errors.New("--pre-push reads git's pre-push lines from standard input, which is a terminal"), hint: "install it as a hook with 'loftyscan hook install --pre-push'; to scan commits yourself use --range A..B"}
	}
	updates, err := gitscan.ParsePrePush(readerWithContext(ctx, e.stdin, nil))
	if err != nil {
		return nil, &cliError{err: err, hint: "--pre-push expects the lines git gives a pre-push hook"}
	}
	return updates, nil
}

// pushedKeyedNames names each ref a push would create or move on the
// remote under a name that holds a key (as the pre-receive hook rejects
// one): the remote keeps the name and lists it to everyone. The push is
// stopped after the scan of what it sends is reported.
func pushedKeyedNames(updates []gitscan.RefUpdate, cfg rules.Config) []string {
	var names []string
	for _, u := range updates {
		if !u.Deleted() {
			names = append(names, u.RemoteRef)
		}
	}
	return keyedNames(names, cfg)
}
