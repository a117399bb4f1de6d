package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// newManCommand is the hidden `loftyscan man`: it prints loftyscan(1), one
// roff page for the whole command tree, for the release archives and
// packages (scripts/release-assets.sh). One page rather than one per
// subcommand: `man loftyscan` then answers every question, flags included.
func newManCommand(e env) *cobra.Command {
	return &cobra.Command{
		Use:    "man",
		Short:  "Print the man page (roff) to standard output",
		Args:   noArgs(func([]string) string { return "run 'loftyscan man' alone" }),
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeMan(e.stdout, cmd.Root(), manDate(e.getenv))
		},
	}
}

// manDate is the page's date: SOURCE_DATE_EPOCH when set (reproducible
// builds: the commit's time), else today.
func manDate(getenv func(string) string) time.Time {
	if s := getenv("SOURCE_DATE_EPOCH"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(n, 0).UTC()
		}
	}
	return time.Now().UTC()
}

// writeMan writes the page: the root's description, then a section per
// visible command with its usage, description and flags, then the flags
// every scan command shares.
func writeMan(w io.Writer, root *cobra.Command, date time.Time) error {
	var b strings.Builder
	fmt.Fprintf(&b, ".TH LOFTYSCAN 1 %q %q %q\n", date.Format("2006-01-02"), "loftyscan "+versionString(), "User Commands")
	b.WriteString(".SH NAME\nloftyscan \\- " + roffText(root.Short) + "\n")
	b.WriteString(".SH SYNOPSIS\n.B loftyscan\n.I command\n[flags]\n")
	b.WriteString(".SH DESCRIPTION\n" + roffParagraphs(root.Long))
	b.WriteString(".SH COMMANDS\n")
	var visit func(c *cobra.Command)
	visit = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() || sub.Name() == "help" {
				continue
			}
			fmt.Fprintf(&b, ".SS %s\n", roffText(sub.CommandPath()))
			b.WriteString(".nf\n" + roffText(sub.UseLine()) + "\n.fi\n")
			long := sub.Long
			if long == "" {
				long = sub.Short
			}
			b.WriteString(roffParagraphs(long))
			if fs := sub.NonInheritedFlags(); fs.HasAvailableFlags() {
				b.WriteString(".PP\nFlags:\n" + roffFlags(fs))
			}
			visit(sub)
		}
	}
	visit(root)
	b.WriteString(".SH OPTIONS\nFlags of every command:\n" + roffFlags(root.PersistentFlags()))
	b.WriteString(".SH EXIT STATUS\n0 nothing found, 1 findings (see \\-\\-exit\\-code), 2 usage or fatal error.\n")
	b.WriteString(".SH ENVIRONMENT\n.TP\n.B NO_COLOR\nno colours in terminal output\n.TP\n.B LOFTY_BASE_URL\nthe API --verify asks (default https://api.lofty.com)\n")
	b.WriteString(".SH SEE ALSO\n.BR git (1),\n.BR pre-commit (1)\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// roffFlags lists flags as pflag prints them, in a no-fill block.
func roffFlags(fs *pflag.FlagSet) string {
	return ".nf\n" + roffText(strings.TrimRight(fs.FlagUsagesWrapped(78), "\n")) + "\n.fi\n"
}

// roffParagraphs turns blank-line separated text into .PP paragraphs, kept
// unfilled so that indented examples stay as written.
func roffParagraphs(s string) string {
	var b strings.Builder
	for _, p := range strings.Split(strings.TrimSpace(s), "\n\n") {
		b.WriteString(".PP\n.nf\n" + roffText(p) + "\n.fi\n")
	}
	return b.String()
}

// roffText escapes text for roff: backslashes, and lines that would start
// with a control character ('.' or '\”).
func roffText(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}
