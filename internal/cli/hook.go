package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/gitscan"
	"github.com/spf13/cobra"
)

func newHookCommand(e env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hook",
		Short: "Install or remove the git hooks that block keys before they leave",
		Long: `Install or remove git hooks that run loftyscan.

The pre-commit hook runs 'loftyscan git --staged' and blocks a commit that
adds a Lofty API key; the pre-push hook (--pre-push) runs
'loftyscan git --pre-push' and blocks a push that sends one. Hooks go where
git runs them from: core.hooksPath when set, else the repository's hooks
folder.

For the pre-commit framework, use the hooks in loftyscan's
.pre-commit-hooks.yaml instead (ids loftyscan and loftyscan-pre-push).`,
		Args: unknownSubcommand,
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(e.stderr)
			_ = cmd.Help()
			return &cliError{err: errors.New("no hook command given"), hint: "run 'loftyscan hook install' in the repository"}
		},
	}
	cmd.AddCommand(newHookInstallCommand(e), newHookUninstallCommand(e))
	return cmd
}

func newHookInstallCommand(e env) *cobra.Command {
	var prePush, preReceive, force bool
	cmd := &cobra.Command{
		Use:   "install [REPO] [-- PRE-RECEIVE FLAGS...]",
		Short: "Install the pre-commit hook (or with --pre-push, the pre-push hook; --pre-receive, a server's)",
		Long: `Install a git hook that runs loftyscan: by default the pre-commit hook,
which blocks commits that add a Lofty API key; with --pre-push the pre-push
hook, which blocks pushes that send one; with --pre-receive, in a server's
repository, the pre-receive hook, which rejects pushes that add one.

The hook calls loftyscan by the path it is installed from (the pre-commit
and pre-push hooks fall back to loftyscan on PATH; the pre-receive hook
rejects pushes while that loftyscan is missing). An existing hook that
loftyscan did not write is left alone unless --force: it is then kept as
<hook>.before-loftyscan and run first. 'loftyscan hook uninstall' puts it
back. Where the hooks folder has a pre-receive.d folder (Gitea and Forgejo
run every script in it), the pre-receive hook goes there as
pre-receive.d/loftyscan.

Flags after -- are written into the pre-receive hook, after
'loftyscan git --pre-receive':

  loftyscan hook install --pre-receive /srv/git/app.git -- \
      --ignore-file /etc/loftyscan/ignore --bypass-log /var/log/loftyscan-bypass.log

When core.hooksPath points at a folder other repositories or other people
share (a folder of the work tree, which is committed, or one outside the
repository, such as a global hooks folder), install refuses: a hook naming
this machine's loftyscan would run, or fail, for all of them. Use the
pre-commit framework there, or commit a hook that runs loftyscan from
PATH; --force writes such a hook, which calls loftyscan from PATH.`,
		Args: hookArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := hookKindFor(prePush, preReceive)
			if err != nil {
				return err
			}
			args, extra := splitAtDash(cmd, args)
			if len(extra) > 0 && !k.server {
				return &cliError{err: errors.New("flags after -- go into the pre-receive hook only"), hint: "add --pre-receive, or leave out what follows --"}
			}
			if err := checkHookFlags(e, extra); err != nil {
				return err
			}
			repo, dir, err := hookRepoDir(e, args)
			if err != nil {
				return err
			}
			if k.server {
				if err := tryHookFlags(repo, extra); err != nil {
					return err
				}
			}
			if repo.WorkTree == "" && !k.server && !prePush {
				return &cliError{err: fmt.Errorf("%s is a bare repository: no commit is made in it, so a pre-commit hook there would never run", repo.GitDir),
					hint: "install it in a clone where commits are made; on a server, 'loftyscan hook install --pre-receive' rejects the pushes that add a key"}
			}
			var exe string
			if why := sharedHooksDir(repo, dir); why != "" && !k.server {
				if !force {
					return &cliError{
						err: fmt.Errorf("core.hooksPath points at %s, %s: a hook there naming this machine's loftyscan would run, or fail, for everyone who uses that folder", dir, why),
						hint: "use the pre-commit framework (hooks loftyscan and loftyscan-pre-push), or commit a hook that runs '" + k.command() +
							"' from PATH; --force writes such a hook there",
					}
				}
				printNote(e.stderr, fmt.Sprintf("core.hooksPath points at %s, %s: the hook runs loftyscan from PATH", dir, why))
			} else if exe = hookExecutable(e); exe == "" && k.server {
				return &cliError{err: errors.New("cannot tell where this loftyscan is"), hint: "run the loftyscan installed on the server by its full path"}
			}
			path, kept, err := installHook(dir, k, exe, extra, force)
			if err != nil {
				var ce *cliError
				if errors.As(err, &ce) {
					return err
				}
				return &cliError{err: err, hint: "check that " + dir + " is writable"}
			}
			printNote(e.stdout, fmt.Sprintf("installed the %s hook: %s", k.name, path))
			if kept {
				printNote(e.stdout, fmt.Sprintf("the hook that was there is kept as %s and runs first", path+keptSuffix))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&prePush, "pre-push", false, "install the pre-push hook, which scans the commits being pushed")
	cmd.Flags().BoolVar(&preReceive, "pre-receive", false, "install a server's pre-receive hook, which scans what each push adds")
	cmd.Flags().BoolVar(&force, "force", false, "replace a hook loftyscan did not write, keeping it to run first; in a shared core.hooksPath folder, write a hook that runs loftyscan from PATH")
	return cmd
}

// hookArgs allows a repository before --, and anything after it.
func hookArgs(cmd *cobra.Command, args []string) error {
	before, _ := splitAtDash(cmd, args)
	if len(before) > 1 {
		return fmt.Errorf("accepts at most 1 repository, received %d", len(before))
	}
	return nil
}

// splitAtDash splits the arguments at --: the repository, then the flags
// for the hook.
func splitAtDash(cmd *cobra.Command, args []string) ([]string, []string) {
	if i := cmd.ArgsLenAtDash(); i >= 0 {
		return args[:i], args[i:]
	}
	return args, nil
}

// checkHookFlags parses the flags to write into a pre-receive hook as
// 'loftyscan git --pre-receive' will, so that a mistake fails now rather
// than on every push.
func checkHookFlags(e env, extra []string) error {
	if len(extra) == 0 {
		return nil
	}
	root, _ := newRootCommand(e)
	git, _, err := root.Find([]string{"git"})
	if err == nil {
		err = git.ParseFlags(extra)
	}
	if err == nil && len(git.Flags().Args()) > 0 {
		err = fmt.Errorf("%q is not a flag: the hook scans the repository it runs in", git.Flags().Args()[0])
	}
	if err == nil {
		for _, name := range []string{"pre-receive", "staged", "pre-push", "range", "ref", "since", "format", "output"} {
			if git.Flags().Changed(name) {
				err = fmt.Errorf("--%s cannot go into the pre-receive hook", name)
			}
		}
	}
	if err != nil {
		return &cliError{err: fmt.Errorf("the flags for the hook: %w", err), hint: "give flags of 'loftyscan git --pre-receive' after --, e.g. -- --ignore-file /etc/loftyscan/ignore"}
	}
	return nil
}

// tryHookFlags runs the pre-receive hook's command in repo on a push of
// nothing, as git would, so that the values of its flags (a negative
// budget), the files they name (an ignore file not written yet, a config
// with an unknown key) and the repository itself (SHA-256, which the hook
// does not read) are checked now: the hook rejected every push until they
// were fixed. It runs with no flags too: a SHA-256 repository needs one.
func tryHookFlags(repo *gitscan.Repository, extra []string) error {
	var out bytes.Buffer
	args := append(append([]string{"git", "--pre-receive"}, extra...), repo.GitDir)
	code := runEnv(context.Background(), args, env{
		stdin: strings.NewReader(""), stdout: &out, stderr: &out,
		getenv: func(string) string { return "" },
	})
	if code == 0 {
		return nil
	}
	var why, hints []string
	for _, l := range strings.Split(out.String(), "\n") {
		if msg, ok := strings.CutPrefix(l, "loftyscan: error: "); ok {
			why = append(why, msg)
		}
		if msg, ok := strings.CutPrefix(l, "loftyscan: hint: "); ok {
			hints = append(hints, msg)
		}
	}
	hints = append(hints, "fix the flags after --, or create the files they name first (an empty ignore file accepts nothing), then install again")
	return &cliError{
		err:  fmt.Errorf("the hook would reject every push (exit %d): %s", code, strings.Join(why, "; ")),
		hint: strings.Join(hints, "; "),
	}
}

func newHookUninstallCommand(e env) *cobra.Command {
	var prePush, preReceive bool
	cmd := &cobra.Command{
		Use:   "uninstall [REPO]",
		Short: "Remove loftyscan's pre-commit hook (or with --pre-push, its pre-push hook)",
		Long: `Remove the hook 'loftyscan hook install' wrote, and put back the hook it had
kept. A hook loftyscan did not write is left alone.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := hookKindFor(prePush, preReceive)
			if err != nil {
				return err
			}
			_, dir, err := hookRepoDir(e, args)
			if err != nil {
				return err
			}
			path, removed, err := uninstallHook(dir, k)
			if err != nil {
				var ce *cliError
				if errors.As(err, &ce) {
					return err
				}
				return &cliError{err: err, hint: "check that " + dir + " is writable"}
			}
			if !removed {
				printNote(e.stdout, fmt.Sprintf("no %s hook in %s: nothing to remove", k.name, dir))
				return nil
			}
			printNote(e.stdout, fmt.Sprintf("removed the %s hook: %s", k.name, path))
			return nil
		},
	}
	cmd.Flags().BoolVar(&prePush, "pre-push", false, "remove the pre-push hook instead of the pre-commit one")
	cmd.Flags().BoolVar(&preReceive, "pre-receive", false, "remove the pre-receive hook instead of the pre-commit one")
	return cmd
}

func hookKindFor(prePush, preReceive bool) (hookKind, error) {
	switch {
	case prePush && preReceive:
		return hookKind{}, &cliError{err: errors.New("--pre-push and --pre-receive do not go together"), hint: "--pre-push is a clone's hook, --pre-receive a server's: pick one"}
	case prePush:
		return prePushHook, nil
	case preReceive:
		return preReceiveHook, nil
	}
	return preCommitHook, nil
}

// hookRepoDir finds the repository given, or the one here, and the
// folder git runs its hooks from.
func hookRepoDir(e env, args []string) (*gitscan.Repository, string, error) {
	if len(args) == 1 && gitscan.IsRemoteURL(args[0]) {
		return nil, "", &cliError{err: fmt.Errorf("%s is a URL: hooks are installed in a local repository", finding.RedactURL(args[0])), hint: "run 'loftyscan hook install' in your clone"}
	}
	repo, err := openRepo(e, args)
	if err != nil {
		return nil, "", notRepoHint(err, "run it inside the repository, or give the repository's path: 'loftyscan hook install path/to/repo' (or uninstall)")
	}
	dir, err := gitscan.HooksDir(repo, e.getenv)
	if err != nil {
		return nil, "", &cliError{err: err, hint: "check core.hooksPath in your git config"}
	}
	return repo, dir, nil
}

// hookExecutable is the path of this loftyscan for a hook to call, or ""
// (the hook then calls loftyscan from PATH) when it cannot be told.
func hookExecutable(e env) string {
	exe, err := executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		printWarning(e.stderr, fmt.Sprintf("cannot tell where this loftyscan is (%v): the hook will run loftyscan from PATH", err))
		return ""
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		printWarning(e.stderr, "this loftyscan runs from a temporary build folder (go run?): the hook will fall back to loftyscan on PATH once it is gone; install it with 'go install'")
	}
	return exe
}

// sharedHooksDir says why the hooks folder dir is shared beyond this clone
// of repo, or "" when it is the repository's own (its .git folder, or a
// core.hooksPath inside it). A core.hooksPath in the work tree is a folder
// the team commits; one outside the repository is a global folder or one
// that other repositories may name too. A hook with this machine's path to
// loftyscan does not belong in either.
func sharedHooksDir(repo *gitscan.Repository, dir string) string {
	for _, own := range []string{repo.CommonDir, repo.GitDir} {
		if within(dir, own) {
			return ""
		}
	}
	if repo.WorkTree != "" && within(dir, repo.WorkTree) {
		return "a folder of the work tree, committed and shared with the team"
	}
	return "a folder outside this repository, which other repositories may share"
}

// within reports whether path is root or inside it, once symbolic links
// in both are resolved as far as they exist.
func within(path, root string) bool {
	rel, err := filepath.Rel(resolveExisting(root), resolveExisting(path))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// resolveExisting resolves the symbolic links of path's longest part that
// exists, and keeps the rest as it is: a hooks folder may not exist yet.
func resolveExisting(path string) string {
	path = filepath.Clean(path)
	if r, err := filepath.EvalSymlinks(path); err == nil {
		return r
	}
	parent := filepath.Dir(path)
	if parent == path {
		return path
	}
	return filepath.Join(resolveExisting(parent), filepath.Base(path))
}
