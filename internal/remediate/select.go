package remediate

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// A plan can be limited to some keys: those a person names by fingerprint
// (a prefix of at least 8 hex digits, as plans and reports show them), or
// those a JSON report lists. A report never holds the secrets the rewrite
// needs (unless made with --show-secrets), so the keys themselves always
// come from a scan of the repository; the report only selects.

// minPrefix is the shortest fingerprint prefix accepted: 8 hex digits name
// one of 4 billion, and is what the replacement text shows.
const minPrefix = 8

// SelectKeys returns the keys whose fingerprints start with one of the
// prefixes, in the order of keys. A prefix that matches no key, or more
// than one, is an error: a plan that silently skipped a key the person
// asked for would leave it in history.
func SelectKeys(keys []Key, prefixes []string) ([]Key, error) {
	chosen := map[int]bool{}
	for _, p := range prefixes {
		p = strings.ToLower(strings.TrimSpace(p))
		if len(p) < minPrefix || strings.Trim(p, "0123456789abcdef") != "" {
			return nil, fmt.Errorf("fingerprint %q: give at least %d hex digits of a fingerprint", clean(p), minPrefix)
		}
		var hits []int
		for i, k := range keys {
			if strings.HasPrefix(k.Fingerprint, p) {
				hits = append(hits, i)
			}
		}
		switch len(hits) {
		case 0:
			return nil, fmt.Errorf("no key with fingerprint %s in this repository's history: removed already, or the report is of another repository", clean(p))
		case 1:
			chosen[hits[0]] = true
		default:
			return nil, fmt.Errorf("fingerprint %s matches %d keys: give more digits", clean(p), len(hits))
		}
	}
	var out []Key
	for i, k := range keys {
		if chosen[i] {
			out = append(out, k)
		}
	}
	return out, nil
}

// ReportFingerprints reads the fingerprints of the findings of a loftyscan
// JSON report, each once, in the report's order. Suppressed findings are
// not in a report's findings unless it was made with --show-suppressed;
// they are taken as listed.
func ReportFingerprints(r io.Reader) ([]string, error) {
	var rep struct {
		Findings *[]struct {
			Fingerprint string `json:"fingerprint"`
		} `json:"findings"`
	}
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return nil, fmt.Errorf("reading the report: %w: give a report made with --format json", err)
	}
	if rep.Findings == nil {
		return nil, fmt.Errorf("the report has no findings array: give a report made with --format json")
	}
	var out []string
	seen := map[string]bool{}
	for i, f := range *rep.Findings {
		if len(f.Fingerprint) != 64 || strings.Trim(f.Fingerprint, "0123456789abcdef") != "" {
			return nil, fmt.Errorf("finding %d of the report has no valid fingerprint", i+1)
		}
		if !seen[f.Fingerprint] {
			seen[f.Fingerprint] = true
			out = append(out, f.Fingerprint)
		}
	}
	return out, nil
}
