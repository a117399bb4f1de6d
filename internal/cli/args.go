package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// Positional arguments a command does not take get a message that says
// what the command wanted and what to run instead, rather than cobra's
// "unknown command" or "accepts at most 1 arg(s)".

// noArgs refuses any argument; hint says what to do instead, given them.
func noArgs(hint func(args []string) string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		return &cliError{err: fmt.Errorf("'%s' takes no arguments, but was given %s", cmd.CommandPath(), quoteArgs(args)), hint: hint(args)}
	}
}

// atMostOneArg refuses a second argument; what names the one it takes.
func atMostOneArg(what string, hint func(args []string) string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) <= 1 {
			return nil
		}
		return &cliError{err: fmt.Errorf("'%s' takes one %s, but was given %d: %s", cmd.CommandPath(), what, len(args), quoteArgs(args)), hint: hint(args)}
	}
}

// quoteArgs lists arguments as the shell would need them quoted, at most
// five of them.
func quoteArgs(args []string) string {
	var q []string
	for i, a := range args {
		if i == 5 {
			q = append(q, fmt.Sprintf("and %d more", len(args)-i))
			break
		}
		q = append(q, strconv.Quote(a))
	}
	return strings.Join(q, " ")
}

// shellWords joins arguments for a command line to suggest, quoting those
// that need it.
func shellWords(args []string) string {
	var out []string
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~!") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}
