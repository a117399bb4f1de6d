// Package remediate writes the plan a person follows after a Lofty key
// leaked into git history: revoke each key, rewrite history without it with
// git filter-repo, and check that nothing is left.
//
// The plan is specific to what was found. Its input is the keys (each with
// its secret, held in memory, and the places it was found) and the facts
// of the repository (the refs that contain those places, the remotes).
// [BuildPlan] writes the one file that holds the keys in full, the
// replacements file, with mode 0600 into a folder outside the repository,
// and returns a [Plan]: structured steps whose commands can be run as they
// are, and which [Plan.Write] prints as text or Markdown with every string
// escaped and every key redacted.
//
// A key is replaced in every form loftyscan decodes, wherever it is (see
// keyForms), by a text of its own length (see replacementText), so files
// keep their layout; base64 wrapped across lines inside a key, and a key
// written in pieces (string literals joined, a continued line),
// are read back from their blob and replaced where they were found (see
// locateBase64, locateSplit).
package remediate
