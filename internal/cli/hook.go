package cli

import (
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
		Args: cobra.NoArgs,
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
	var prePush, force bool
	cmd := &cobra.Command{
		Use:   "install [REPO]",
		Short: "Install the pre-commit hook (or with --pre-push, the pre-push hook)",
		Long: `Install a git hook that runs loftyscan: by default the pre-commit hook,
which blocks commits that add a Lofty API key; with --pre-push the pre-push
hook, which blocks pushes that send one.

The hook calls loftyscan by the path it is installed from (falling back to
loftyscan on PATH). An existing hook that loftyscan did not write is left
alone unless --force: it is then kept as <hook>.before-loftyscan and run
first. 'loftyscan hook uninstall' puts it back.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k := hookKindFor(prePush)
			dir, err := hookRepoDir(e, args)
			if err != nil {
				return err
			}
			exe, err := executable()
			if err == nil {
				exe, err = filepath.EvalSymlinks(exe)
			}
			if err != nil {
				printWarning(e.stderr, fmt.Sprintf("cannot tell where this loftyscan is (%v): the hook will run loftyscan from PATH", err))
				exe = "loftyscan"
			} else if strings.Contains(exe, string(filepath.Separator)+"go-build") {
				printWarning(e.stderr, "this loftyscan runs from a temporary build folder (go run?): the hook will fall back to loftyscan on PATH once it is gone; install it with 'go install'")
			}
			path, kept, err := installHook(dir, k, exe, force)
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
	cmd.Flags().BoolVar(&force, "force", false, "replace a hook loftyscan did not write, keeping it to run first")
	return cmd
}

func newHookUninstallCommand(e env) *cobra.Command {
	var prePush bool
	cmd := &cobra.Command{
		Use:   "uninstall [REPO]",
		Short: "Remove loftyscan's pre-commit hook (or with --pre-push, its pre-push hook)",
		Long: `Remove the hook 'loftyscan hook install' wrote, and put back the hook it had
kept. A hook loftyscan did not write is left alone.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k := hookKindFor(prePush)
			dir, err := hookRepoDir(e, args)
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
	return cmd
}

func hookKindFor(prePush bool) hookKind {
	if prePush {
		return prePushHook
	}
	return preCommitHook
}

// hookRepoDir finds the hooks folder of the repository given, or of the
// one here.
func hookRepoDir(e env, args []string) (string, error) {
	if len(args) == 1 && gitscan.IsRemoteURL(args[0]) {
		return "", &cliError{err: fmt.Errorf("%s is a URL: hooks are installed in a local repository", finding.RedactURL(args[0])), hint: "run 'loftyscan hook install' in your clone"}
	}
	repo, err := openRepo(e, args)
	if err != nil {
		return "", err
	}
	dir, err := gitscan.HooksDir(repo, e.getenv)
	if err != nil {
		return "", &cliError{err: err, hint: "check core.hooksPath in your git config"}
	}
	return dir, nil
}
