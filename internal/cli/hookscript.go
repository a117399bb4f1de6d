package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/loftyscan/loftyscan/internal/atomicfile"
	"github.com/loftyscan/loftyscan/internal/nonblock"
)

// Git hooks that run loftyscan. A hook is a small sh script that calls
// loftyscan by the absolute path it was installed from, falling back to
// loftyscan on PATH when that binary has moved; a hook for a shared folder
// names no path and calls loftyscan from PATH only. It holds no secret and no
// repository path: a hook that another tool had installed is kept next to
// it as <hook>.before-loftyscan and run first, found from $0.

// hookMarker is the line that tells a hook loftyscan wrote from any other.
const hookMarker = "# loftyscan-hook:"

// keptSuffix names the hook that was there before loftyscan's.
const keptSuffix = ".before-loftyscan"

// hookKind is one of the hooks loftyscan installs.
type hookKind struct {
	name    string // git's name for the hook
	args    string // what the hook runs: loftyscan's arguments
	stdin   bool   // the hook reads git's input, which the kept hook needs too
	flag    string // how to choose it on 'loftyscan hook install'
	verb    string // the git command it checks
	purpose string
	server  bool // a server's hook: no --no-verify, and no loftyscan but the one installed
	remote  bool // git gives the hook the remote's name and URL: the name goes on to loftyscan
}

var (
	preCommitHook  = hookKind{name: "pre-commit", args: "git --staged", verb: "commit", purpose: "Blocks commits that add a Lofty API key."}
	prePushHook    = hookKind{name: "pre-push", args: "git --pre-push", stdin: true, remote: true, flag: " --pre-push", verb: "push", purpose: "Blocks pushes that send a commit with a Lofty API key."}
	preReceiveHook = hookKind{name: "pre-receive", args: "git --pre-receive", stdin: true, flag: " --pre-receive", verb: "push", purpose: "Rejects pushes that add a commit with a Lofty API key.", server: true}
)

// executable is os.Executable, replaced in tests.
var executable = os.Executable

// shellQuote quotes s for sh. Inside single quotes nothing is special,
// not $, backquotes, backslashes nor spaces; a single quote in s closes the
// quoting, is written escaped, and opens it again.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// command is what the hook runs, as a person would type it.
func (k hookKind) command() string { return "loftyscan " + k.args }

// hookScript is the hook that runs loftyscan at exe, or with exe "" the
// loftyscan on PATH; a server's hook takes extra arguments (already
// checked) after its own. The kept hook, if any, is found from $0, so the
// script names no path but exe. The PATH lookup is `command -v` of a bare
// name: never a file of the work tree, where git runs hooks from.
func hookScript(k hookKind, exe string, extra []string) string {
	if k.server {
		return serverHookScript(k, exe, extra)
	}
	run := `if [ -x "$0` + keptSuffix + `" ]; then
	"$0` + keptSuffix + `" "$@" || exit $?
fi
exec "$loftyscan" ` + k.args + "\n"
	if k.stdin {
		run = `input=$(cat)
if [ -x "$0` + keptSuffix + `" ]; then
	printf '%s\n' "$input" | "$0` + keptSuffix + `" "$@" || exit $?
fi
printf '%s\n' "$input" | "$loftyscan" ` + k.args + "\n"
	}
	if k.remote {
		// --pre-push-remote: what the remote already has is what its
		// tracking branches hold. A push to a URL (git then gives the URL
		// twice) has no name, and the URL, which may hold credentials, is
		// not passed on.
		run = `remote=$1
if [ "$1" = "$2" ]; then
	remote=
fi
` + strings.Replace(run, k.args+"\n", k.args+` --pre-push-remote="$remote"`+"\n", 1)
	}
	head := "#!/bin/sh\n" +
		hookMarker + " " + k.name + " v1\n" +
		"# " + k.purpose + "\n" +
		"# Written by 'loftyscan hook install" + k.flag + "'; remove it with 'loftyscan hook uninstall" + k.flag + "'.\n" +
		"# To skip it once, only after revoking the key (or for a false positive): git " + k.verb + " --no-verify\n"
	notFound := `	echo "loftyscan: error: the ` + k.name + ` hook cannot find the loftyscan program" >&2
	echo "loftyscan: hint: put loftyscan on PATH (go install github.com/loftyscan/loftyscan@latest), or run 'loftyscan hook install` + k.flag + `' again" >&2
	exit 1
`
	if exe == "" {
		return head + "loftyscan=loftyscan\n" +
			"if ! command -v loftyscan >/dev/null 2>&1; then\n" + notFound + "fi\n" + run
	}
	return head + "loftyscan=" + shellQuote(exe) + "\n" +
		`if [ ! -x "$loftyscan" ]; then
	loftyscan=loftyscan
	if ! command -v loftyscan >/dev/null 2>&1; then
` + indent(notFound) + `	fi
fi
` + run
}

// indent puts one more tab before each line of s.
func indent(s string) string {
	return "\t" + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n\t") + "\n"
}

// serverHookScript is a server's hook: it runs the loftyscan installed
// and no other (a server's PATH may hold an older one), and rejects every
// push while that loftyscan is missing, saying so.
func serverHookScript(k hookKind, exe string, extra []string) string {
	args := k.args
	for _, a := range extra {
		args += " " + shellQuote(a)
	}
	return "#!/bin/sh\n" +
		hookMarker + " " + k.name + " v1\n" +
		"# " + k.purpose + "\n" +
		"# Written by 'loftyscan hook install" + k.flag + "'; remove it with 'loftyscan hook uninstall" + k.flag + "'.\n" +
		"# A key a team has decided to accept: git push -o loftyscan.allow=FINGERPRINT (where the server accepts\n" +
		"# push options), or its fingerprint in the ignore file named by --ignore-file. Both are logged.\n" +
		"loftyscan=" + shellQuote(exe) + "\n" +
		`if [ ! -x "$loftyscan" ]; then
	echo "loftyscan: error: push rejected: the ` + k.name + ` hook cannot find loftyscan at $loftyscan" >&2
	echo "loftyscan: hint: the server's administrator must install loftyscan there, or run 'loftyscan hook install` + k.flag + `' again" >&2
	exit 1
fi
input=$(cat)
if [ -x "$0` + keptSuffix + `" ]; then
	printf '%s\n' "$input" | "$0` + keptSuffix + `" "$@" || exit $?
fi
printf '%s\n' "$input" | "$loftyscan" ` + args + "\n"
}

// isOurs reports whether a hook file is one loftyscan wrote.
func isOurs(script []byte) bool {
	return bytes.Contains(script, []byte("\n"+hookMarker+" "))
}

// installHook writes loftyscan's hook of kind k into dir. A hook loftyscan
// wrote is replaced; another is kept and run first only with force. It
// returns the hook's path and whether a previous hook is kept.
func installHook(dir string, k hookKind, exe string, extra []string, force bool) (string, bool, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, fmt.Errorf("cannot create the hooks folder: %w", err)
	}
	path := hookPath(dir, k)
	kept := path + keptSuffix
	old, err := readHook(path)
	switch {
	case err == nil && isOurs(old):
		// An update of loftyscan's own hook: a kept hook stays kept.
	case err == nil || isSymlink(path):
		if !force {
			return path, false, &cliError{
				err:  fmt.Errorf("%s already exists and loftyscan did not write it", path),
				hint: fmt.Sprintf("rerun with --force to keep it: it is moved to %s and run before loftyscan", filepath.Base(kept)),
			}
		}
		if _, err := os.Lstat(kept); err == nil {
			return path, false, &cliError{
				err:  fmt.Errorf("%s already exists and so does %s", path, kept),
				hint: "merge or remove one of them, then install again",
			}
		}
		if err := os.Rename(path, kept); err != nil {
			return path, false, fmt.Errorf("cannot keep the existing hook: %w", err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return path, false, fmt.Errorf("cannot read the existing hook: %w", err)
	}
	// Through a temporary file renamed into place: never half a hook, and a
	// link at path (core.hooksPath may be a folder of the repository) is
	// replaced, not written through.
	if err := atomicfile.WriteFile(path, []byte(hookScript(k, exe, extra)), 0o755); err != nil {
		return path, false, fmt.Errorf("cannot write the hook: %w", err)
	}
	_, kerr := os.Lstat(kept)
	return path, kerr == nil, nil
}

// uninstallHook removes loftyscan's hook of kind k from dir, and puts back
// the hook it had kept. It leaves any other hook alone. It returns the
// hook's path and whether there was one of loftyscan's to remove.
func uninstallHook(dir string, k hookKind) (string, bool, error) {
	path := hookPath(dir, k)
	old, err := readHook(path)
	if errors.Is(err, fs.ErrNotExist) && !isSymlink(path) {
		return path, false, nil
	}
	if err != nil && !isSymlink(path) {
		return path, false, fmt.Errorf("cannot read the hook: %w", err)
	}
	if !isOurs(old) {
		return path, false, &cliError{
			err:  fmt.Errorf("%s was not written by loftyscan: left alone", path),
			hint: "remove it yourself if you no longer want it",
		}
	}
	if err := os.Remove(path); err != nil {
		return path, false, fmt.Errorf("cannot remove the hook: %w", err)
	}
	kept := path + keptSuffix
	if _, err := os.Lstat(kept); err == nil {
		if err := os.Rename(kept, path); err != nil {
			return path, true, fmt.Errorf("cannot put back the hook kept in %s: %w", kept, err)
		}
	}
	return path, true, nil
}

// hookPath is where the hook of kind k goes in the hooks folder dir: the
// file named after it, or, for a server's hook where the folder has a
// <hook>.d folder (Gitea and Forgejo run every script in it from their own
// hook), a script named loftyscan in that folder.
func hookPath(dir string, k hookKind) string {
	if k.server {
		d := filepath.Join(dir, k.name+".d")
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return filepath.Join(d, "loftyscan")
		}
	}
	return filepath.Join(dir, k.name)
}

func isSymlink(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode()&fs.ModeSymlink != 0
}

// maxHookRead is how much of an existing hook is read to tell whether
// loftyscan wrote it: its marker is on the second line.
const maxHookRead = 64 << 10

// readHook reads the start of the hook at path. It follows a link, as git
// does when it runs the hook, but never blocks or reads without end: a hook
// that is a FIFO, or a link to one or to a device (core.hooksPath can name
// a folder of the repository), reads as empty, and a large one is cut.
func readHook(path string) ([]byte, error) {
	f, err := nonblock.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil
	}
	return io.ReadAll(io.LimitReader(f, maxHookRead))
}
