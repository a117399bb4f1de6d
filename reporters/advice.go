package reporters

import (
	"bufio"
	"strconv"
	"strings"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/rules"
)

// advice is what the terminal report tells the user to do once it has
// listed the findings: numbered steps, most urgent first, notes that
// qualify them, and hints about loftyscan's own options.
type advice struct {
	steps []string
	notes []string
	hints []string
}

// revokeStep is the first thing to do about a key that may work.
const revokeStep = "Revoke each key in Lofty → Settings → Integrations → API and create a new one"

// modeAdvice is what to say in each mode: where the key is decides how it
// is removed, and how a finding is accepted.
var modeAdvice = map[Mode]struct {
	revoke string // the revoke step, or "" when the mode puts removal first
	remove string // how to take the key out
	accept string // how to accept a finding that was checked
}{
	ModeFiles: {
		revoke: revokeStep + ".",
		remove: "Remove it from the files, and read keys from the environment or a secret manager instead. " +
			"If the files are in a git repository, the key may be in its history too: 'loftyscan git' finds the commits.",
		accept: "to accept a finding you have checked (a revoked key, a test fixture), add its fingerprint to " +
			".loftyscanignore with a comment saying why, or record all of today's with 'loftyscan baseline create'",
	},
	ModeHistory: {
		revoke: revokeStep + ": every clone of the repository holds it.",
		remove: "Remove it from the files where it is still in HEAD, and read keys from the environment or a " +
			"secret manager instead. Once revoked, a key left in history is harmless; to remove it anyway, rewrite " +
			"history (git filter-repo --replace-text) and force-push.",
		accept: "to accept a finding you have checked (a revoked key, a test fixture), add its fingerprint to " +
			".loftyscanignore with a comment saying why; to accept all of today's, write a baseline with " +
			"'loftyscan git --report json=.loftyscan-baseline.json' and scan with --baseline .loftyscan-baseline.json. " +
			"A scan of a range (a pull request, CI) reads both from the range's base: land the entry on the base branch first",
	},
	ModeStaged: {
		remove: "Remove the key from the file, read it from the environment instead, and stage the file again. " +
			"Nothing is committed yet. If the key was ever pushed or shared, also revoke it in Lofty → Settings → " +
			"Integrations → API and create a new one.",
		accept: "for a test fixture, end the key's line with a " + rules.AllowMarker + " comment, or commit its " +
			"fingerprint to .loftyscanignore (with a comment saying why) in a commit of its own first: a commit " +
			"is checked against HEAD's .loftyscanignore, not the one it adds",
	},
	ModePrePush: {
		revoke: revokeStep + ": it is committed, and may be in other clones already.",
		remove: "Remove it from the commits before pushing (git rebase -i, or git filter-repo --replace-text), " +
			"and read keys from the environment instead.",
		accept: "for a test fixture, end the key's line with a " + rules.AllowMarker + " comment, or add its " +
			"fingerprint to .loftyscanignore (with a comment saying why) and push that commit first, on its own: " +
			"a push is checked against the .loftyscanignore the remote already has",
	},
}

// advise decides what to say about the findings of a scan in mode, grouped
// as the terminal report lists them: revoke what may work, find out what
// is unclear, clean up what no longer works.
func advise(mode Mode, byGroup [numGroups][]finding.Finding) advice {
	m, ok := modeAdvice[mode]
	if !ok {
		m = modeAdvice[ModeFiles]
	}
	keys := len(byGroup[groupLive]) + len(byGroup[groupActive])
	unconfirmed := len(byGroup[groupUnconfirmed])
	var a advice
	switch {
	case keys > 0:
		if m.revoke != "" {
			a.steps = append(a.steps, m.revoke)
		}
		a.steps = append(a.steps, m.remove)
		if unconfirmed > 0 {
			a.notes = append(a.notes, "For each unconfirmed token, find out whose it is: rotate another service's "+
				"token there, and treat a Lofty key as above.")
		}
	case unconfirmed > 0:
		a.steps = append(a.steps, "Find out whose each unconfirmed token is. If it is another service's, rotate it there; "+
			"if it is a Lofty key, revoke it in Lofty → Settings → Integrations → API and create a new one.", m.remove)
	}
	if inName(byGroup, finding.InPath) {
		a.notes = append(a.notes, "A key in a file's or folder's name is removed by renaming it (git mv, then "+
			"commit; in commits already made, git filter-repo --path-rename OLD:NEW or an interactive rebase).")
	}
	if inName(byGroup, finding.InRef) {
		a.notes = append(a.notes, "A key in a branch's or tag's name is seen by everyone who can list the "+
			"repository's refs: give the ref a name without it (git branch -m), delete the old one here and on "+
			"every remote it was pushed to (git push REMOTE --delete), and revoke the key.")
	}
	var dead []string
	if len(byGroup[groupRejected]) > 0 {
		dead = append(dead, "rejected")
	}
	if len(byGroup[groupExpired]) > 0 {
		dead = append(dead, "expired")
	}
	switch {
	case len(dead) > 0 && keys+unconfirmed > 0:
		a.notes = append(a.notes, "The "+strings.Join(dead, " and ")+" ones no longer work: nothing to revoke, but remove them too.")
	case len(dead) > 0:
		a.notes = append(a.notes, "These no longer work ("+strings.Join(dead, " and ")+"): nothing to revoke. Remove them "+
			"when convenient, so that no one mistakes them for live keys.")
	}
	if keys+unconfirmed > 0 && !anyVerified(byGroup) {
		a.hints = append(a.hints, "--verify asks Lofty which of these keys are live (it sends each key to Lofty's API)")
	}
	a.hints = append(a.hints, m.accept)
	return a
}

// writeAdvice writes a under "What to do:", each paragraph wrapped at
// lineWidth with a hanging indent.
func writeAdvice(w *bufio.Writer, a advice) {
	w.WriteString("What to do:\n")
	for i, s := range a.steps {
		w.WriteString(wrapString(s, lineWidth, "  "+strconv.Itoa(i+1)+". ", "     "))
	}
	for _, n := range a.notes {
		w.WriteString(wrapString(n, lineWidth, "  ", "  "))
	}
	for _, h := range a.hints {
		w.WriteString(wrapString(h, lineWidth, "hint: ", "      "))
	}
}

// inName reports whether any finding is a key in a name at location l
// (path or ref).
func inName(byGroup [numGroups][]finding.Finding, l finding.Location) bool {
	for _, fs := range byGroup {
		for _, f := range fs {
			if f.Location == l {
				return true
			}
		}
	}
	return false
}
