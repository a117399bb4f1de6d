package finding

import (
	"cmp"
	"slices"
)

// Sort sorts findings in the order reports list them: by path, line,
// column, rule, fingerprint and commit. Workers finish in any order;
// reports must not.
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
			cmp.Compare(a.RuleID, b.RuleID),
			cmp.Compare(a.Fingerprint, b.Fingerprint),
			cmp.Compare(a.Commit, b.Commit),
		)
	})
}
