package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/loftyscan/loftyscan/config"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/gitscan"
	"github.com/loftyscan/loftyscan/internal/bypass"
	"github.com/loftyscan/loftyscan/internal/remediate"
	"github.com/loftyscan/loftyscan/rules"
	"github.com/loftyscan/loftyscan/scanner"
	"github.com/spf13/pflag"
)

// Server-side push protection: `loftyscan git --pre-receive` in a
// repository's pre-receive hook. Everything that decides what it reports
// comes from the server (the hook's flags and the files they name), never
// from the pushed commits: no .loftyscan.toml or .loftyscanignore is read
// from the repository, and an inline loftyscan:allow in a pushed file does
// not suppress anything. The audited ways past it are the server's ignore
// file and, where the server accepts push options, git push -o
// loftyscan.allow=FINGERPRINT; each key let through is logged.

// processStart is when loftyscan started: a server's time limit for its
// hooks counts from there.
var processStart = time.Now()

// defaultBudget leaves a second of GitHub Enterprise Server's 5 seconds,
// which all of a repository's pre-receive hooks share, for git and the
// other hooks.
const defaultBudget = 4 * time.Second

// preReceiveFlags are the flags of `loftyscan git --pre-receive`.
type preReceiveFlags struct {
	on         bool
	budget     time.Duration
	failOpen   bool
	pushOption bool
	bypassLog  string
}

func (p *preReceiveFlags) register(f *pflag.FlagSet) {
	f.BoolVar(&p.on, "pre-receive", false, "scan what a push adds, in a server's pre-receive hook: git's lines on standard input, the pushed objects in git's quarantine")
	f.DurationVar(&p.budget, "pre-receive-budget", defaultBudget, "with --pre-receive: stop scanning `DURATION` after loftyscan started, and reject the push (or accept it with --pre-receive-fail-open); 0 for no limit")
	f.BoolVar(&p.failOpen, "pre-receive-fail-open", false, "with --pre-receive: accept a push the budget or an error kept loftyscan from scanning wholly, with a warning (default: reject it)")
	f.BoolVar(&p.pushOption, "allow-push-option", true, "with --pre-receive: let through a key the push names with 'git push -o loftyscan.allow=FINGERPRINT' (only where the server accepts push options)")
	f.StringVar(&p.bypassLog, "bypass-log", "", "with --pre-receive: append each key let through (push option, --ignore-file, --baseline) to `FILE` as a JSON line")
}

// check rejects flags that do not go with --pre-receive, and pre-receive
// flags without it.
func (p *preReceiveFlags) check(gf *gitFlags, changed func(string) bool) error {
	if !p.on {
		for _, name := range []string{"pre-receive-budget", "pre-receive-fail-open", "allow-push-option", "bypass-log"} {
			if changed(name) {
				return &cliError{err: fmt.Errorf("--%s works with --pre-receive only", name), hint: "add --pre-receive in the server's hook, or leave the flag out"}
			}
		}
		return nil
	}
	switch {
	case gf.staged || gf.prePush || gf.rng != "" || gf.since != "" || len(gf.refs) > 0 || gf.recurse || gf.settingsFrom != "":
		return &cliError{err: errors.New("--pre-receive does not take --staged, --pre-push, --range, --since, --ref, --recurse-submodules or --settings-from"), hint: "--pre-receive reads what the push adds from git, and its settings from the hook's flags: give only those"}
	case changed("format") || changed("output"):
		return &cliError{err: errors.New("--pre-receive writes its own message for git to show the pusher; it takes no --format or --output"), hint: "for a record of what was let through, use --bypass-log FILE"}
	case p.budget < 0:
		return &cliError{err: fmt.Errorf("--pre-receive-budget %s is negative", p.budget), hint: "use a duration such as 4s, or 0 for no limit"}
	}
	return nil
}

// runPreReceive is `loftyscan git --pre-receive`.
func (gf *gitFlags) runPreReceive(ctx context.Context, e env, o *outputFlags, sf *scanFlags, args []string) error {
	p := &gf.preReceive
	repo, err := preReceiveRepo(e, args)
	if err != nil {
		return err
	}
	if isTerminal(e.stdin) {
		return &cliError{err: errors.New("--pre-receive reads git's pre-receive lines from standard input, which is a terminal"), hint: "install it in the server's repository with 'loftyscan hook install --pre-receive'"}
	}
	updates, err := gitscan.ParsePreReceive(e.stdin)
	if err != nil {
		return p.cannotScan(e, err)
	}
	q, err := gitscan.QuarantineFromEnv(e.getenv)
	if err != nil {
		return p.cannotScan(e, err)
	}
	// Settings come from the hook's flags and the files they name, never
	// from the repository; an inline allow in a pushed file counts for
	// nothing.
	o.triage.noInlineAllow = true
	st, err := loadSettings(noSettings("the server's hook flags only"), sf, &o.triage)
	if err != nil {
		return err
	}
	opts, err := sf.options(st)
	if err != nil {
		return err
	}
	for _, w := range st.warnings {
		printWarning(e.stderr, w)
	}
	allowed, err := p.allowedKeys(e)
	if err != nil {
		return err
	}
	badNames := refNameKeys(updates, opts.Rules)

	popts := gitscan.PreReceiveOptions{Quarantine: q}
	if p.budget > 0 {
		popts.Deadline = processStart.Add(p.budget)
	}
	c := &scanner.Collector{}
	res, err := gitscan.ScanPreReceive(ctx, scanner.New(opts), repo, updates, popts, c)
	if cause := stopCause(ctx); cause != nil {
		// A signal (or --timeout) stops the hook as it stops any run, with
		// its exit code, and git rejects the push: --pre-receive-fail-open
		// accepts what the budget or an unreadable object left unscanned,
		// not a hook its server or administrator stopped.
		return o.stoppedError(cause, "push rejected: loftyscan", "the push was not wholly scanned", "raise --timeout, or use --pre-receive-budget, which --pre-receive-fail-open applies to")
	}
	if err != nil {
		return p.cannotScan(e, err)
	}
	findings := c.Sorted()
	// A name can hold a key encoded (a folder named after its base64),
	// which redaction does not see: the warnings, the bypasses and the
	// rejection hide every form of the keys found encoded.
	hide := remediate.HideEncoded(findings)
	for _, w := range c.Warnings {
		printWarning(e.stderr, hide(w.String()))
	}
	var recs []bypass.Record
	markBypasses(findings, st.ignore, allowed, func(f finding.Finding, via, reason string) {
		recs = append(recs, p.record(e, repo, res, f, via, reason))
	})
	stats := res.Stats
	if _, err := o.triage.apply(ctx, e, findings, &stats, st); err != nil {
		return err
	}
	for i, f := range findings {
		if f.Suppressed != "" && f.Suppressed != finding.SuppressedInline && !isBypass(f.Suppressed) {
			recs = append(recs, p.record(e, repo, res, findings[i], bypass.ViaBaseline, f.Suppressed))
		}
	}
	rejected := stats.Findings > 0 || (res.Found && len(findings) == 0)
	// Findings past the scan's cap were not listed, so not triaged: one
	// of them could be a key no setting accepts.
	capped := !rejected && res.Dropped > 0 && o.exitCode != 0
	// A bypass is logged only when the push goes through: a push rejected
	// for another key, or for what it could not scan, lets nothing through.
	accepted := res.Unfinished == "" && res.Unread == 0 || p.failOpen
	switch {
	case rejected:
		accepted = o.exitCode == 0 // --exit-code 0 reports and lets the push through
	case len(badNames) > 0 && o.exitCode != 0, capped:
		accepted = false // rejected for a key in a ref's name, or for findings not listed
	}
	for i := range recs {
		recs[i].Path = hide(recs[i].Path)
	}
	remediate.HideEncodedNames(findings, findings)
	if err := p.logBypasses(e, recs, accepted); err != nil {
		return err
	}
	for _, msg := range badNames {
		// Named first: a rejection for keys in files follows.
		if rejected || o.exitCode == 0 {
			printWarning(e.stderr, msg)
		}
	}
	switch {
	case rejected:
		writeRejection(e, findings, res, o.exitCode == 0, p.pushOption)
		return errFindings
	case capped:
		return &cliError{
			err:  fmt.Errorf("push rejected: it holds more findings than one scan lists (%d were not listed), and they were not all checked against the settings that accept keys", res.Dropped),
			hint: "push it in smaller parts, or see every finding with 'loftyscan git --range OLD..NEW --format json' in a clone of it",
		}
	case len(badNames) > 0 && o.exitCode != 0:
		return &cliError{err: errors.New("push rejected: " + badNames[0]), hint: "push under a name without the key ('git push origin HEAD:refs/heads/NEW-NAME'), and revoke the key in Lofty (Settings > Integrations > API): the name has left your machine"}
	case res.Unfinished != "":
		return p.unfinished(e, res)
	case res.Unread > 0:
		return p.unreadable(e, res.Unread)
	}
	printNote(e.stderr, fmt.Sprintf("checked %s: no Lofty API key", plural(res.Commits, "new commit")))
	return nil
}

// refNameKeys says which refs the push creates or moves have a name that
// holds a key: the server keeps the name and shows it to everyone who
// lists its refs, and no scan of files or rewrite of them reaches it, so
// such a push is rejected. A push that deletes such a ref goes through.
func refNameKeys(updates []gitscan.PushedRef, cfg rules.Config) []string {
	var names []string
	for _, u := range updates {
		if !u.Deleted() {
			names = append(names, u.Ref)
		}
	}
	return keyedNames(names, cfg)
}

// keyedNames returns a message for each ref name that holds a Lofty API
// key, in any form a name is searched for (plain, base64, hex, UTF-16):
// no scan of files sees a name, and a push of such a ref hands the name
// to the server, which lists it to everyone who fetches. The name is
// shown as reports show a name: the key redacted, or its encoded form
// hidden (a plain search let a name holding the key's base64 through).
func keyedNames(names []string, cfg rules.Config) []string {
	opts := scanner.DefaultOptions()
	opts.Rules = cfg
	var c scanner.Collector
	w := scanner.New(opts).Start(&c).NewWorker()
	for _, n := range names {
		w.ScanName(n, n)
	}
	found := c.Sorted()
	shown := slices.Clone(found)
	remediate.HideEncodedNames(found, shown)
	var out []string
	for i, f := range shown {
		if i > 0 && found[i-1].Path == found[i].Path {
			continue // one message a ref
		}
		out = append(out, "the name of ref "+asciiSafe(finding.Sanitize(f.Path))+" holds a Lofty API key")
	}
	return out
}

// preReceiveRepo is the repository the hook runs in: GIT_DIR (git sets
// it for hooks), else the folder given, else the current one. Its work
// tree, if it has one, plays no part: the push is not checked out.
func preReceiveRepo(e env, args []string) (*gitscan.Repository, error) {
	var (
		repo *gitscan.Repository
		err  error
	)
	switch {
	case len(args) == 0 && e.getenv("GIT_DIR") != "":
		repo, err = gitscan.RepositoryAt(e.getenv("GIT_DIR"), "")
	case len(args) == 0:
		repo, err = gitscan.FindRepository(".")
	default:
		repo, err = gitscan.FindRepository(args[0])
	}
	if err != nil {
		return nil, gitError(err)
	}
	repo.WorkTree = ""
	return repo, nil
}

// allowedKeys reads the keys the push names with push options: nil when
// git passed no push options (the server does not accept them, or the
// pusher gave none) or the hook takes --allow-push-option=false.
func (p *preReceiveFlags) allowedKeys(e env) (map[string]bool, error) {
	opts, given, err := bypass.PushOptions(e.getenv)
	if err != nil && !p.pushOption {
		// A hook that reads no push option does not reject a push for
		// having many of them (GitLab's ci.variable, merge_request.label...).
		return nil, nil
	}
	if err != nil {
		return nil, &cliError{err: err, hint: "give at most a few -o options to git push"}
	}
	if !given {
		return nil, nil
	}
	allowed, problems := bypass.Allowed(opts)
	for _, pr := range problems {
		printWarning(e.stderr, pr)
	}
	if !p.pushOption {
		if len(allowed) > 0 || len(problems) > 0 {
			printWarning(e.stderr, "this server lets no key through by push option: "+bypass.Option+" is ignored")
		}
		return nil, nil
	}
	return allowed, nil
}

// Suppression reasons of the bypasses, as findings carry them.
const (
	suppressedByOption = "push option " + bypass.Option
	suppressedByIgnore = "server ignore file"
)

func isBypass(reason string) bool {
	return reason == suppressedByOption || strings.HasPrefix(reason, suppressedByIgnore)
}

// markBypasses suppresses the findings the server's ignore file lists and
// those the push names with a push option, and calls logged with each.
func markBypasses(findings []finding.Finding, ignore *config.IgnoreList, allowed map[string]bool, logged func(f finding.Finding, via, reason string)) {
	for i := range findings {
		f := &findings[i]
		if reason, ok := ignore.Suppresses(f.Fingerprint, f.Path); ok {
			f.Suppressed = suppressedByIgnore
			if reason != "" {
				f.Suppressed += ": " + reason
			}
			logged(*f, bypass.ViaIgnoreFile, reason)
			continue
		}
		if allowed[f.Fingerprint] {
			f.Suppressed = suppressedByOption
			logged(*f, bypass.ViaPushOption, "")
		}
	}
}

// record describes one key let through, for the log.
func (p *preReceiveFlags) record(e env, repo *gitscan.Repository, res gitscan.PushScan, f finding.Finding, via, reason string) bypass.Record {
	who := bypass.PusherFromEnv(e.getenv)
	return bypass.Record{
		Time:        time.Now(),
		Pusher:      who.Name,
		PusherFrom:  who.From,
		Repository:  repo.GitDir,
		Refs:        res.Refs[f.Commit],
		Commit:      f.Commit,
		Location:    f.Location.Name(),
		Path:        f.Path,
		Line:        f.Line,
		Fingerprint: f.Fingerprint,
		Redacted:    f.Redacted(),
		Via:         via,
		Reason:      reason,
	}
}

// logBypasses says on standard error, which the pusher sees, which keys
// went through and how, and appends them to --bypass-log. A bypass that
// cannot be logged is not allowed: the push is rejected. When the push is
// rejected anyway, the pusher is told which keys would have been let
// through, and nothing is logged: none went through.
func (p *preReceiveFlags) logBypasses(e env, recs []bypass.Record, accepted bool) error {
	for _, r := range recs {
		verb := "let through"
		if !accepted {
			verb = "would be let through, but the push is rejected"
		}
		where := fmt.Sprintf("%s:%d", r.Path, r.Line)
		if r.Location != finding.InFile.Name() {
			where = fmt.Sprintf("%s, line %d", r.Location, r.Line)
		}
		msg := fmt.Sprintf("%s (%s): key %s in commit %s, %s", verb, r.Via, r.Redacted, shortCommit(r.Commit), where)
		if r.Pusher != "" {
			msg += ", pushed by " + r.Pusher
		}
		printNote(e.stderr, asciiSafe(msg))
	}
	if p.bypassLog == "" || len(recs) == 0 || !accepted {
		return nil
	}
	if err := bypass.Append(p.bypassLog, recs); err != nil {
		return &cliError{err: fmt.Errorf("push rejected: the keys it would let through cannot be logged: %w", err), hint: "the server's --bypass-log must be writable by the account git runs hooks as"}
	}
	return nil
}

// cannotScan is a push loftyscan could not scan at all: rejected, unless
// the server chose to fail open.
func (p *preReceiveFlags) cannotScan(e env, err error) error {
	hint := "the server's administrator can see why in this message; to let pushes through when loftyscan cannot scan, the hook takes --pre-receive-fail-open"
	if errors.Is(err, gitscan.ErrSHA256) {
		hint = "loftyscan reads SHA-1 repositories only; remove the hook from this repository, or run it with --pre-receive-fail-open"
	}
	if p.failOpen {
		printWarning(e.stderr, "push accepted without a scan for Lofty API keys (--pre-receive-fail-open): "+err.Error())
		return nil
	}
	return &cliError{err: fmt.Errorf("push rejected: loftyscan cannot scan it: %w", err), hint: hint}
}

// unfinished is a push the budget cut short, with nothing found before.
func (p *preReceiveFlags) unfinished(e env, res gitscan.PushScan) error {
	what := fmt.Sprintf("loftyscan ran out of its %s budget: %s", p.budget, res.Unfinished)
	if p.failOpen {
		printWarning(e.stderr, "push accepted without a whole scan for Lofty API keys (--pre-receive-fail-open): "+what)
		return nil
	}
	return &cliError{
		err:  errors.New("push rejected: " + what),
		hint: "push fewer commits at a time (a branch at a time, or in steps of a few thousand commits); the server's administrator can raise --pre-receive-budget",
	}
}

// unreadable is a push some of whose objects could not be read, with
// nothing found in the rest: what they hold was not scanned.
func (p *preReceiveFlags) unreadable(e env, n int64) error {
	what := fmt.Sprintf("%s of the push could not be read, or not wholly (a damaged object, a commit or tag message past 1 MiB, a folder past git's limits of depth and path length), so what they hold was not all scanned (the warnings above say which)", plural(int(n), "object"))
	if p.failOpen {
		printWarning(e.stderr, "push accepted without a whole scan for Lofty API keys (--pre-receive-fail-open): "+what)
		return nil
	}
	return &cliError{
		err:  errors.New("push rejected: " + what),
		hint: "shorten a message or a path the warnings above name and push again; otherwise push again, and if it happens again, the server's administrator can see the objects in the warnings above, check the repository with 'git fsck', and let such pushes through with --pre-receive-fail-open",
	}
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
