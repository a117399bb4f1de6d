package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/gitscan"
	"github.com/loftyscan/loftyscan/internal/remediate"
	"github.com/loftyscan/loftyscan/rules"
	"github.com/loftyscan/loftyscan/scanner"
	"github.com/spf13/cobra"
)

const remediateLong = `Write the plan to follow after a Lofty API key leaked into git history.

It scans every commit of REPO (the repository here by default), and the
messages of its commits and annotated tags, and writes a plan specific to
what it found:

  1. Revoke: each key's account and expiry, where to revoke it in Lofty
     (Settings → Integrations → API), live first with --verify.
  2. Rewrite: the git filter-repo commands that replace each key, in every
     form loftyscan decodes, in every branch, tag and message, of this
     repository and of each remote that holds it, and the force pushes; what
     a rewrite cannot reach (forks, other clones, pull-request refs, the
     host's caches).
  3. Check: the scans that show the keys are gone.

The keys themselves go into one file, replacements.txt, mode 0600, in a new
plan folder (mode 0700) outside the repository (--plan-dir, default the
system's temporary folder); the plan prints each key only in its redacted
form. Nothing is rewritten: the plan's commands are for you to run.

Keys the scan suppresses (.loftyscanignore, a baseline, loftyscan:allow) are
left out unless --key names them. --key and --from-report limit the plan to
some keys; either way the keys come from this scan, since a report holds no
secret to replace.

  loftyscan remediate                      all the keys in this repository
  loftyscan remediate --verify -o plan.md -f markdown
  loftyscan remediate --key 3f0c1a2b       one key, by its fingerprint's start
  loftyscan remediate --from-report report.json`

// remediateFlags are the flags of `loftyscan remediate`.
type remediateFlags struct {
	planDir    string
	format     string
	output     string
	keys       []string
	fromReport string
}

func newRemediateCommand(e env, o *outputFlags) *cobra.Command {
	var sf scanFlags
	var rf remediateFlags
	cmd := &cobra.Command{
		Use:   "remediate [REPO]",
		Short: "Write the plan to revoke leaked keys and remove them from git history",
		Long:  remediateLong,
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return rf.run(cmd.Context(), e, o, &sf, args)
		},
	}
	sf.register(cmd, true)
	f := cmd.Flags()
	// These shadow the scan commands' --format and --output: a plan is
	// not a report.
	f.StringVarP(&rf.format, "format", "f", remediate.FormatText, "plan format: "+strings.Join(remediate.Formats(), ", "))
	f.StringVarP(&rf.output, "output", "o", "", "write the plan to `FILE` instead of standard output")
	f.StringVar(&rf.planDir, "plan-dir", "", "make the plan folder (replacements file, backup, work clones) in `DIR`, outside the repository (default: the system's temporary folder)")
	f.StringArrayVar(&rf.keys, "key", nil, "plan for the key whose fingerprint starts with `HEX` (at least 8 digits; repeatable), suppressed or not")
	f.StringVar(&rf.fromReport, "from-report", "", "plan for the keys of `FILE`, a JSON report of this repository")
	_ = cmd.RegisterFlagCompletionFunc("format", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return remediate.Formats(), cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

func (rf *remediateFlags) run(ctx context.Context, e env, o *outputFlags, sf *scanFlags, args []string) error {
	if !slices.Contains(remediate.Formats(), rf.format) {
		return &cliError{err: fmt.Errorf("unknown plan format %q", rf.format), hint: "use --format " + strings.Join(remediate.Formats(), " or ")}
	}
	if len(args) == 1 && gitscan.IsRemoteURL(args[0]) {
		return &cliError{err: fmt.Errorf("%s is a URL: a plan rewrites a clone", finding.RedactURL(args[0])), hint: "clone the repository (git clone --mirror), then run 'loftyscan remediate' on the clone"}
	}
	wanted, err := rf.wanted()
	if err != nil {
		return err
	}
	repo, err := openRepo(e, args)
	if err != nil {
		return notRepoHint(err, "run it inside the repository, or give the repository's path: 'loftyscan remediate path/to/repo'")
	}
	gitDir := repo.WorkTree
	if gitDir == "" {
		gitDir = repo.GitDir
	}
	if err := remediate.CheckComplete(ctx, gitDir); err != nil {
		if errors.Is(err, remediate.ErrIncomplete) {
			return &cliError{err: fmt.Errorf("cannot plan for %s: %w", repo.GitDir, err), hint: "make the plan in a fresh 'git clone --mirror' of the server (without --depth or --filter); in a shallow clone, 'git fetch --unshallow' also brings the whole history"}
		}
		if broken := (*remediate.BrokenRefsError)(nil); errors.As(err, &broken) {
			return &cliError{err: fmt.Errorf("cannot plan for %s: %w", repo.GitDir, err), hint: "fetch the missing objects from a clone that has them, or delete each ref ('git update-ref -d <ref>'; 'git for-each-ref' lists their names, shown redacted here where they hold a key), then run remediate again; 'git fsck' shows what else is missing"}
		}
		return &cliError{err: fmt.Errorf("cannot read the repository: %w", err), hint: "check that git is installed and can read the repository"}
	}

	// Settings as for a scan of the whole history.
	src, closeSrc, err := (&gitFlags{}).gitSettings(e, repo, nil, nil, nil)
	if err != nil {
		return err
	}
	st, err := loadSettings(src, sf, &o.triage)
	closeSrc()
	if err != nil {
		return err
	}
	for _, w := range st.warnings {
		printWarning(e.stderr, w)
	}
	opts, err := sf.options(st)
	if err != nil {
		return err
	}
	findings, err := o.scanHistoryForPlan(ctx, e, repo, opts, st)
	if err != nil {
		return err
	}

	keys := keysOf(findings, wanted)
	msgKeys, err := remediate.MessageKeys(ctx, gitDir, opts.Rules)
	if err != nil {
		return &cliError{err: fmt.Errorf("cannot read the commit and tag messages: %w", err), hint: "check that git can read the history of every ref: 'git fsck' names what is missing or damaged"}
	}
	keys = mergeKeys(keys, msgKeys)
	if len(wanted) > 0 {
		if keys, err = remediate.SelectKeys(keys, wanted); err != nil {
			return &cliError{err: err, hint: "list the keys with 'loftyscan git --show-suppressed'"}
		}
	}
	if len(keys) == 0 {
		printNote(e.stderr, "no Lofty API key in the history or messages of "+repo.GitDir+": nothing to remediate")
		subs, err := remediate.Submodules(ctx, gitDir)
		if err != nil {
			return &cliError{err: fmt.Errorf("cannot list the submodules: %w", err), hint: "check that git is installed and can read the repository"}
		}
		for _, sm := range subs {
			printNote(e.stderr, remediate.SubmoduleNote(sm))
		}
		return nil
	}
	if o.triage.verify {
		if err := o.verifyKeys(ctx, e, keys, confirmedKeys(findings, opts.Rules)); err != nil {
			return err
		}
	}

	facts, err := remediate.ReadFacts(ctx, gitDir, occurrenceCommits(keys))
	if err != nil {
		return &cliError{err: fmt.Errorf("cannot read the repository's refs and remotes: %w", err), hint: "check that git is installed and can read the repository"}
	}
	self, err := executable()
	if err == nil {
		self, err = filepath.EvalSymlinks(self)
	}
	if err != nil {
		self = "loftyscan"
	}
	dir, err := remediate.MakePlanDir(rf.planDir, facts)
	if err != nil {
		return &cliError{err: err, hint: "give --plan-dir an existing folder outside the repository"}
	}
	// Until the plan is written, the plan folder (the keys in full) is one
	// of the run's leftovers: a failure or a signal removes it.
	forget := e.temps.add(dir)
	plan, err := remediate.BuildPlan(ctx, keys, facts, remediate.Options{Dir: dir, Loftyscan: self})
	if err == nil {
		err = rf.writePlan(e, plan)
	} else {
		err = &cliError{err: err, hint: "check that the plan folder's file system has room and is writable"}
	}
	if err != nil {
		removeHard(dir)
		forget()
		return err
	}
	forget()
	printNote(e.stderr, fmt.Sprintf("wrote the plan for %s; the keys are in %s (mode 0600): never print or share it, and delete the plan folder once the checks are clean", plural(len(keys), "key"), plan.ReplacementsFile))
	return nil
}

// wanted reads --key and --from-report: the fingerprints, or their
// starts, the plan is limited to. None: every key the scan reports.
func (rf *remediateFlags) wanted() ([]string, error) {
	wanted := slices.Clone(rf.keys)
	if rf.fromReport != "" {
		f, err := os.Open(rf.fromReport)
		if err != nil {
			return nil, &cliError{err: fmt.Errorf("cannot read the report: %w", err), hint: "give a report made with 'loftyscan git --format json --output FILE'"}
		}
		fps, err := remediate.ReportFingerprints(f)
		f.Close()
		if err != nil {
			return nil, &cliError{err: err}
		}
		if len(fps) == 0 {
			return nil, &cliError{err: fmt.Errorf("%s lists no findings", rf.fromReport), hint: "make the report with 'loftyscan git --format json', or leave out --from-report to plan for every key"}
		}
		wanted = append(wanted, fps...)
	}
	return wanted, nil
}

// scanHistoryForPlan scans every ref of repo and triages the findings;
// --verify is left for the keys, once the messages' keys are in.
func (o *outputFlags) scanHistoryForPlan(ctx context.Context, e env, repo *gitscan.Repository, opts scanner.Options, st *settings) ([]finding.Finding, error) {
	pl, warn := o.startScan(e, &opts, "blobs")
	c := &scanner.Collector{OnWarning: warn}
	stats, err := gitscan.ScanHistory(ctx, scanner.New(opts), repo, gitscan.HistoryOptions{}, c)
	pl.stop()
	if err != nil {
		return nil, gitError(err)
	}
	findings := c.Sorted()
	verify := o.triage.verify
	o.triage.verify = false
	_, err = o.triage.apply(ctx, e, findings, &stats, st)
	o.triage.verify = verify
	return findings, err
}

// keysOf groups findings by key, each with every place it was found. A
// suppressed key is left out unless wanted names it.
func keysOf(findings []finding.Finding, wanted []string) []remediate.Key {
	var keys []remediate.Key
	at := map[string]int{}
	for _, f := range findings {
		if f.Suppressed != "" && !slices.ContainsFunc(wanted, func(w string) bool { return strings.HasPrefix(f.Fingerprint, strings.ToLower(w)) }) {
			continue
		}
		i, ok := at[f.Fingerprint]
		if !ok {
			i = len(keys)
			at[f.Fingerprint] = i
			keys = append(keys, remediate.Key{
				Fingerprint: f.Fingerprint,
				Secret:      f.Secret,
				Subject:     f.Subject,
				ExpiresAt:   f.ExpiresAt,
				Status:      string(f.Status),
			})
		}
		keys[i].Occurrences = append(keys[i].Occurrences, remediate.OccurrenceOf(f))
	}
	return keys
}

// sameMessage reports whether two occurrences are the same message: the
// same tag's (the scan names it by the commit it tags, MessageKeys by the
// tag object), or the same commit's.
func sameMessage(a, b remediate.Occurrence) bool {
	if !a.InMessage || !b.InMessage || a.Tag != b.Tag { // headers are not in MessageKeys
		return false
	}
	return a.Tag != "" || a.Commit == b.Commit
}

// mergeKeys adds the keys of more to keys: a key in both gets the places
// of both, each message once.
func mergeKeys(keys, more []remediate.Key) []remediate.Key {
	at := map[string]int{}
	for i, k := range keys {
		at[k.Fingerprint] = i
	}
	for _, k := range more {
		if i, ok := at[k.Fingerprint]; ok {
			for _, o := range k.Occurrences {
				if !slices.ContainsFunc(keys[i].Occurrences, func(p remediate.Occurrence) bool { return sameMessage(o, p) }) {
					keys[i].Occurrences = append(keys[i].Occurrences, o)
				}
			}
			continue
		}
		at[k.Fingerprint] = len(keys)
		keys = append(keys, k)
	}
	return keys
}

// occurrenceCommits lists the commits (and tag objects) of the keys'
// places, each once.
func occurrenceCommits(keys []remediate.Key) []string {
	var out []string
	for _, k := range keys {
		for _, o := range k.Occurrences {
			out = append(out, o.Commit)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// confirmedKeys says whether a key is a scope-confirmed Lofty key: as the
// scan reported it, or, for a key found only in a message, by its claims.
func confirmedKeys(findings []finding.Finding, cfg rules.Config) func(remediate.Key) bool {
	confirmed := map[string]bool{}
	for _, f := range findings {
		confirmed[f.Fingerprint] = confirmed[f.Fingerprint] || f.Confirmed()
	}
	return func(k remediate.Key) bool {
		if c, ok := confirmed[k.Fingerprint]; ok {
			return c
		}
		ms := cfg.Find([]byte(k.Secret))
		return len(ms) == 1 && ms[0].Confirmed()
	}
}

// verifyKeys asks Lofty about each key, as --verify does for a scan, and
// records the answer on the key. Unconfirmed tokens are sent only as
// --verify sends them for a scan.
func (o *outputFlags) verifyKeys(ctx context.Context, e env, keys []remediate.Key, confirmed func(remediate.Key) bool) error {
	fs := make([]finding.Finding, len(keys))
	for i, k := range keys {
		rule := rules.RuleUnconfirmed
		if confirmed(k) {
			rule = rules.RuleAPIKey
		}
		fs[i] = finding.Finding{Secret: k.Secret, Fingerprint: k.Fingerprint, Status: rules.Status(k.Status), RuleID: rule}
	}
	if err := o.triage.verifyAll(ctx, e, fs); err != nil {
		return err
	}
	for i := range keys {
		keys[i].Verification, keys[i].VerificationReason = string(fs[i].Verification), fs[i].VerificationReason
	}
	return nil
}

// writePlan writes the plan to --output or standard output. A file is
// written as reports are (createReportFile): whole, then renamed into
// place, so a symbolic link planted at the path (the README writes the
// plan inside the repository) is replaced, not followed.
func (rf *remediateFlags) writePlan(e env, plan *remediate.Plan) error {
	if rf.output == "" || rf.output == "-" {
		if err := plan.Write(e.stdout, rf.format); err != nil {
			return &cliError{err: fmt.Errorf("cannot write the plan: %w", err)}
		}
		return nil
	}
	f, err := createReportFile(e.temps, rf.output, 0o600)
	if err != nil {
		return outputFileError("the plan", rf.output, err)
	}
	if err := plan.Write(f, rf.format); err != nil {
		f.abort()
		return &cliError{err: fmt.Errorf("cannot write the plan: %w", err)}
	}
	if err := f.commit(); err != nil {
		return &cliError{err: fmt.Errorf("cannot write the plan: %w", err), hint: "check that the folder of --output is writable"}
	}
	return nil
}
