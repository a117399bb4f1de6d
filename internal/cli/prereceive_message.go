package cli

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/gitscan"
	"github.com/loftyscan/loftyscan/internal/bypass"
	"github.com/loftyscan/loftyscan/rules"
)

// The message a rejected push gets. git shows what a pre-receive hook
// prints as "remote: " lines, in a terminal, in an IDE's log or in a web
// page's push output: so it is short lines of plain ASCII, no colour,
// every string from the push through finding's redaction point
// (Finding.Shown, Redacted) and then asciiSafe, as git itself quotes
// non-ASCII paths by default (core.quotePath).

// writeRejection says which keys the push adds, where, and what to do.
// report is set when the hook only reports (--exit-code 0); options when
// the hook accepts a key named by a push option.
func writeRejection(e env, findings []finding.Finding, res gitscan.PushScan, report, options bool) {
	var counted []finding.Finding
	for _, f := range findings {
		if f.Suppressed == "" {
			counted = append(counted, f)
		}
	}
	line := func(s string) { printNote(e.stderr, asciiSafe(s)) }
	verdict := "push rejected"
	if report {
		verdict = "this hook only reports (--exit-code 0): the push goes through, but"
	}
	if len(counted) == 0 {
		if res.Unfinished != "" {
			line(verdict + ": it adds a Lofty API key, found as the time ran out, before loftyscan could say in which commit and file")
			line("run 'loftyscan git --range <old>..<new>' on your clone to see where, then remove it as below")
		} else {
			// The walk left out commits (see the warnings): a range would too.
			line(verdict + ": it adds a Lofty API key, in a commit loftyscan could not walk to (see the warnings above), so it cannot say in which commit and file")
			line("run 'loftyscan git' on your clone to see where, then remove it as below")
		}
	} else {
		line(fmt.Sprintf("%s: it adds %s", verdict, plural(len(counted), "Lofty API key")))
	}
	if res.Unfinished != "" {
		line("(loftyscan ran out of time before it had scanned all of the push, so there may be more: " + res.Unfinished + ")")
	}
	commit, inFile, inMessage, inHeaders, inName := "", false, false, false, false
	for _, f := range counted {
		sh := f.Shown()
		if f.Commit != commit {
			commit = f.Commit
			line("")
			head := "commit " + shortCommit(f.Commit)
			if refs := res.Refs[f.Commit]; len(refs) > 0 {
				shown := make([]string, len(refs))
				for i, r := range refs {
					shown[i] = finding.Sanitize(r) // a ref name may hold a key
				}
				head += " (" + strings.Join(shown, ", ") + ")"
			}
			if sh.Message != "" {
				head += " " + quoteSubject(sh.Message)
			}
			line(head)
		}
		inFile = inFile || f.Location == finding.InFile
		inName = inName || f.Location == finding.InPath
		inMessage = inMessage || f.Location.Part() == "message"
		inHeaders = inHeaders || f.Location.Part() == "headers"
		switch {
		case f.Location.OfCommit():
			line(fmt.Sprintf("  the commit's %s, line %d, column %d  %s", f.Location.Part(), f.Line, f.Column, f.Redacted()))
		case f.Location.OfTag():
			line(fmt.Sprintf("  the %s of tag %s, line %d, column %d  %s", f.Location.Part(), sh.Tag, f.Line, f.Column, f.Redacted()))
		case f.Location == finding.InPath:
			line(fmt.Sprintf("  the file or folder name %s, column %d  %s", sh.Path, f.Column, f.Redacted()))
		default:
			line(fmt.Sprintf("  %s:%d:%d  %s", sh.Path, f.Line, f.Column, f.Redacted()))
		}
		line("    " + describeKey(f, sh))
		line("    fingerprint " + f.Fingerprint)
	}
	line("")
	line("What to do:")
	line("- If the key ever left your machine (another push, a share, a CI log), revoke it in Lofty first: Settings > Integrations > API.")
	line("- Remove it from every commit above, then push again. Read the key from the environment instead.")
	if inName {
		line("  In a file's or folder's name: 'git mv' it to a name without the key, then 'git commit --amend' (the last commit) or 'git rebase -i <commit>~1' for older ones.")
	}
	if inFile || !inMessage && !inHeaders && !inName { // a file, or no place named
		line("  In the last commit: edit the file, 'git add' it, 'git commit --amend'.")
		line("  In older commits: 'git rebase -i <commit>~1', mark each commit 'edit', fix the file, 'git commit --amend', 'git rebase --continue'.")
	}
	if inMessage {
		line("  In a commit's message: 'git commit --amend' (the last commit), or 'git rebase -i <commit>~1' and mark it 'reword'; a tag: 'git tag -f -a <name>' with a new message.")
	}
	if inHeaders {
		line("  In a commit's headers ('git cat-file -p <commit>' shows them): an author or committer: set user.name and user.email, then 'git commit --amend --reset-author'; a merge of a signed tag (mergetag) or a tool's header, which --amend keeps: make the commit again (merge the tag's commit, '<tag>^{commit}', not the tag); a tag's name or tagger: delete the tag and make it again.")
	}
	if options {
		line("- A key your team has decided to accept (revoked, or a test key): git push -o " + bypass.Option + "=<fingerprint>")
		line("  (where the server accepts push options; every key let through is logged), or ask the server's administrator to list it in the ignore file.")
	} else {
		line("- A key your team has decided to accept (revoked, or a test key): ask the server's administrator to list its fingerprint in the ignore file.")
	}
}

// describeKey says what kind of key a finding is and when it expires.
func describeKey(f finding.Finding, sh finding.Shown) string {
	kind := "Lofty API key"
	if !f.Confirmed() {
		kind = "token next to a Lofty name (unconfirmed)"
	}
	var parts []string
	parts = append(parts, kind)
	if sh.Encoding != "" {
		parts = append(parts, "encoded as "+sh.Encoding)
	}
	if sh.Subject != "" {
		parts = append(parts, "account "+sh.Subject)
	}
	switch f.Status {
	case rules.StatusExpired:
		parts = append(parts, "expired "+f.ExpiresAt.UTC().Format("2006-01-02"))
	case rules.StatusNoExpiry:
		parts = append(parts, "never expires")
	default:
		if !f.ExpiresAt.IsZero() {
			parts = append(parts, "expires "+f.ExpiresAt.UTC().Format("2006-01-02"))
		}
	}
	return strings.Join(parts, ", ")
}

// quoteSubject quotes a commit's subject, cut to a line's worth.
func quoteSubject(s string) string {
	const max = 60
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max]) + "..."
	}
	return `"` + s + `"`
}

// asciiSafe writes s, already sanitized, in ASCII: the redacted form's
// ellipsis as "...", any other rune outside ASCII as \uNNNN in upper-case
// hex, so that no escape ends in the "e" of an "eyJ" (see finding.Sanitize).
func asciiSafe(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '…':
			b.WriteString("...")
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case r <= 0xFFFF:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			fmt.Fprintf(&b, `\U%08X`, r)
		}
	}
	return b.String()
}

// plural writes n and word, with an s when n is not 1.
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
