package reporters

import (
	"fmt"
	"strings"

	"github.com/loftyscan/loftyscan/finding"
)

// How reports show finding.Exposure: the same object in JSON and in SARIF's
// result properties, and a few lines in the terminal report.

// jsonExposure is finding.Exposure as JSON and SARIF write it.
type jsonExposure struct {
	ReachableFrom string    `json:"reachable_from"`
	Commits       int       `json:"commits"`
	LastCommit    string    `json:"last_commit,omitempty"`
	Pushed        bool      `json:"pushed"`
	RefCount      int       `json:"ref_count"`
	Refs          []jsonRef `json:"refs"`
}

type jsonRef struct {
	Name           string `json:"name"`
	Kind           string `json:"kind"`
	ContainsCommit bool   `json:"contains_commit"`
	InTip          bool   `json:"in_tip"`
	LastCommit     string `json:"last_commit,omitempty"`
}

// exposureJSON converts f's exposure, or returns nil for none. Ref names
// are sanitized, as every text from scanned data is.
func exposureJSON(f finding.Finding) *jsonExposure {
	e := f.Exposure
	if e == nil {
		return nil
	}
	names := f.Shown().Refs
	out := &jsonExposure{
		ReachableFrom: string(e.ReachableFrom),
		Commits:       e.Commits,
		LastCommit:    e.LastCommit,
		Pushed:        e.Pushed,
		RefCount:      e.RefCount,
		Refs:          make([]jsonRef, 0, len(e.Refs)),
	}
	for i, r := range e.Refs {
		out.Refs = append(out.Refs, jsonRef{Name: names[i].Name, Kind: r.Kind(), ContainsCommit: r.ContainsCommit, InTip: r.InTip, LastCommit: r.LastCommit})
	}
	return out
}

// maxRefsShown bounds the refs the terminal report names on one line.
const maxRefsShown = 6

// exposureLines are the terminal report's lines about where a key went:
// name and value, in order.
func exposureLines(f finding.Finding) [][2]string {
	e := f.Exposure
	if e == nil {
		return nil
	}
	var out [][2]string
	if r := describeReach(f); r != "" {
		return append(out, [2]string{"reached by", r})
	}
	names := f.Shown().Refs
	groups := []struct{ name, kind string }{
		{"branches", "branch"}, {"pushed to", "remote-tracking"}, {"tags", "tag"},
	}
	for _, g := range groups {
		var in []string
		for i, r := range e.Refs {
			if r.Kind() == g.kind {
				in = append(in, describeRef(f, r, names[i].Short))
			}
		}
		if len(in) > 0 {
			out = append(out, [2]string{g.name, joinShort(in)})
		}
	}
	var other []string
	for i, r := range e.Refs {
		if k := r.Kind(); k != "branch" && k != "remote-tracking" && k != "tag" {
			other = append(other, describeRef(f, r, names[i].Short))
		}
	}
	if len(other) > 0 || e.RefCount > len(e.Refs) {
		if more := e.RefCount - len(e.Refs); more > 0 {
			other = append(other, fmt.Sprintf("%d more refs", more))
		}
		out = append(out, [2]string{"other refs", joinShort(other)})
	}
	if e.RefCount == 0 {
		out = append(out, [2]string{"refs", "none: no branch or tag holds it"})
	}
	if !f.Location.OfTag() {
		carried := plural(int64(e.Commits), "commit carries it", "commits carry it")
		if e.LastCommit != "" {
			carried += "; the last on the main line is " + shortCommit(e.LastCommit)
		}
		out = append(out, [2]string{"history", carried})
	}
	return out
}

// describeRef names a ref for the terminal: "main (still there)",
// "origin/main (removed; last in 1a2b3c4)". name is the ref's short name,
// sanitized (finding.ShownRef).
func describeRef(f finding.Finding, r finding.RefExposure, name string) string {
	switch {
	case f.Location.OfObject(): // a message or header stays where it is
		return name
	case r.InTip:
		return name + " (still there)"
	case r.LastCommit != "":
		return name + " (removed; last in " + shortCommit(r.LastCommit) + ")"
	}
	return name + " (removed)"
}

// joinShort joins names, naming at most maxRefsShown of them.
func joinShort(names []string) string {
	if len(names) > maxRefsShown {
		names = append(names[:maxRefsShown:maxRefsShown], fmt.Sprintf("%d more", len(names)-maxRefsShown))
	}
	return strings.Join(names, ", ")
}

// exposureSummary is one sentence about where a key went, for the CI
// formats' descriptions: "On 3 refs (pushed: origin/main); 4 commits carry
// it."
func exposureSummary(f finding.Finding) string {
	e := f.Exposure
	if e == nil {
		return ""
	}
	if r := describeReach(f); r != "" {
		return "Reached by " + r + "."
	}
	var pushed []string
	names := f.Shown().Refs
	for i, r := range e.Refs {
		if r.Kind() == "remote-tracking" {
			pushed = append(pushed, names[i].Short)
		}
	}
	s := "On " + plural(int64(e.RefCount), "ref", "refs")
	if len(pushed) > 0 {
		s += " (pushed: " + joinShort(pushed) + ")"
	} else {
		s += " (not on any remote-tracking branch)"
	}
	if !f.Location.OfTag() {
		s += "; " + plural(int64(e.Commits), "commit carries", "commits carry") + " it"
	}
	return s + "."
}

// whereItWent is exposureSummary, or for a finding that has no exposure
// but that nothing reaches (a blob no commit holds) the sentence that
// says so; "" outside history scans.
func whereItWent(f finding.Finding) string {
	if s := exposureSummary(f); s != "" {
		return s
	}
	if f.Unreachable {
		return "Reached by " + describeReach(f) + "."
	}
	return ""
}
