package remediate

// The only file that calls the scanner: when the scanner's API changes,
// these helpers are what changes.

import (
	"context"
	"testing"

	"bytes"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/gitscan"
	"github.com/loftyscan/loftyscan/scanner"
)

// scanRepo scans the whole history of the repository at dir, as
// `loftyscan git` does, and returns the findings as Keys (one per
// fingerprint, with every place the scan reported).
func scanRepo(t testing.TB, dir string) []Key {
	t.Helper()
	return scanRepoWith(t, dir, scanner.Options{})
}

// scanRepoWith is scanRepo with the scanner's options o.
func scanRepoWith(t testing.TB, dir string, o scanner.Options) []Key {
	t.Helper()
	repo, err := gitscan.FindRepository(dir)
	if err != nil {
		t.Fatal(err)
	}
	var c scanner.Collector
	if _, err := gitscan.ScanHistory(context.Background(), scanner.New(o), repo, gitscan.HistoryOptions{}, &c); err != nil {
		t.Fatal(err)
	}
	for _, w := range c.Warnings {
		t.Errorf("scan warning: %s", w)
	}
	return keysFromFindings(c.Sorted())
}

// buildPlan reads the facts of the repository at dir and builds the plan
// for keys, its folder made in base.
func buildPlan(t testing.TB, dir, base string, keys []Key) *Plan {
	t.Helper()
	ctx := context.Background()
	facts, err := ReadFacts(ctx, dir, occurrenceCommits(keys))
	if err != nil {
		t.Fatal(err)
	}
	p, err := BuildPlan(ctx, keys, facts, Options{PlanDir: base})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// scanText scans data as a file named path and returns its findings' places.
func scanText(t testing.TB, path string, data []byte) []Key {
	t.Helper()
	var c scanner.Collector
	if _, err := scanner.New(scanner.Options{}).ScanReader(context.Background(), path, bytes.NewReader(data), &c); err != nil {
		t.Fatal(err)
	}
	return keysFromFindings(c.Sorted())
}

// keysFromFindings groups findings by key: what the CLI will do.
func keysFromFindings(fs []finding.Finding) []Key {
	var keys []Key
	index := map[string]int{}
	for _, f := range fs {
		i, ok := index[f.Fingerprint]
		if !ok {
			i = len(keys)
			index[f.Fingerprint] = i
			keys = append(keys, Key{
				Fingerprint:        f.Fingerprint,
				Secret:             f.Secret,
				Subject:            f.Subject,
				ExpiresAt:          f.ExpiresAt,
				Status:             string(f.Status),
				Verification:       string(f.Verification),
				VerificationReason: f.VerificationReason,
			})
		}
		keys[i].Occurrences = append(keys[i].Occurrences, OccurrenceOf(f))
	}
	return keys
}
