package reporters

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/rules"
)

// sarifReporter writes SARIF 2.1.0 in the subset GitHub code scanning
// ingests, so that `loftyscan dir --format sarif` can feed
// github/codeql-action/upload-sarif directly.
//
// SARIF files are uploaded and shown to everyone who can read the
// repository's alerts, so they never hold a full token, whatever
// Options.ShowSecrets says: messages carry the redacted form and results are
// tracked by the token's SHA-256 fingerprint. Text from scanned data
// (author, message, justification) is as finding.Sanitize shows it; an
// artifact URI is the path with its token-shaped parts redacted
// (Finding.PathForURI), every other byte outside RFC 3986's unreserved set
// percent-encoded, so that it still names the file unless a key is in its
// name.
//
// A result's level follows the finding's severity: "error" for a live
// (critical) or an active (high) key, "warning" for an unconfirmed token,
// "note" for an expired one. With --verify, the message says what Lofty
// answered and properties.verification and properties.verification_reason
// hold it ("live", "invalid", "unknown"). A suppressed finding (listed only
// with --show-suppressed) is a result with one suppression: kind "inSource"
// for an inline loftyscan:allow, "external" for .loftyscanignore or a
// baseline, status "accepted", and the reason as its justification. GitHub
// code scanning shows such a result as a closed (dismissed) alert, not an
// open one. A key that a scanned change adds on a line with a
// loftyscan:allow comment is always listed that way, its justification
// saying the change added it.
//
// The report's notices (the scanned change edits the scanner's settings;
// the skip list skips everything) are the run's invocation's
// toolExecutionNotifications, level "warning", with the notice's kind as
// the descriptor's id and its file as the location. A scan with more than
// 25,000 findings, which GitHub would refuse whole, keeps the 25,000 most
// severe and says so in one more notification ("results-left-out").
//
// A key in a commit's or an annotated tag's message or header lines has no
// file. GitHub needs an artifact location all the same, so its result is
// located at a path under .git/ that no tracked file can have,
// ".git/commits/<hash>/message" or ".git/tags/<name>/headers"
// (finding.Finding.ArtifactPath), with the line and column in the message
// or headers, and a logical location of kind "text" that names them
// ("commit <hash>", "tag <name>"; named "message" or "headers");
// properties.location says "commit-message", "commit-header",
// "tag-message" or "tag-header". Git findings carry properties.location, and
// properties.exposure (as in the JSON report) says where the key went.
type sarifReporter struct {
	opts Options
}

// The pieces of SARIF 2.1.0 loftyscan writes. Field order follows the
// specification's examples so that the output reads naturally.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool               sarifTool                   `json:"tool"`
		OriginalURIBaseIDs map[string]sarifArtifactLoc `json:"originalUriBaseIds,omitempty"`
		ColumnKind         string                      `json:"columnKind"`
		Invocations        []sarifInvocation           `json:"invocations,omitempty"` // only for notices
		Results            []sarifResult               `json:"results"`               // [] on a clean scan: "no results", not "not run"
	}
	sarifInvocation struct {
		ExecutionSuccessful        bool                `json:"executionSuccessful"`
		ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications"`
	}
	sarifNotification struct {
		Level      string                `json:"level"`
		Message    sarifText             `json:"message"`
		Descriptor sarifDescriptorRef    `json:"descriptor"`
		Locations  []sarifNoticeLocation `json:"locations,omitempty"`
	}
	sarifDescriptorRef struct {
		ID string `json:"id"`
	}
	sarifNoticeLocation struct {
		PhysicalLocation struct {
			ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
		} `json:"physicalLocation"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		InformationURI string      `json:"informationUri"`
		Version        string      `json:"version"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string            `json:"id"`
		Name                 string            `json:"name"`
		ShortDescription     sarifText         `json:"shortDescription"`
		FullDescription      sarifText         `json:"fullDescription"`
		Help                 sarifText         `json:"help"`
		DefaultConfiguration sarifRuleConfig   `json:"defaultConfiguration"`
		Properties           sarifRuleProperty `json:"properties"`
	}
	sarifText struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown,omitempty"`
	}
	sarifRuleConfig struct {
		Level string `json:"level"`
	}
	sarifRuleProperty struct {
		SecuritySeverity string   `json:"security-severity"` // a string: GitHub ignores numbers
		Tags             []string `json:"tags"`
		Precision        string   `json:"precision"`
		ProblemSeverity  string   `json:"problem.severity"`
	}
	sarifResult struct {
		RuleID              string              `json:"ruleId"`
		RuleIndex           int                 `json:"ruleIndex"`
		Level               string              `json:"level"`
		Message             sarifText           `json:"message"`
		Locations           []sarifLocation     `json:"locations"`
		PartialFingerprints map[string]string   `json:"partialFingerprints"`
		Suppressions        []sarifSuppression  `json:"suppressions,omitempty"`
		Properties          sarifResultProperty `json:"properties"`
	}
	sarifSuppression struct {
		Kind          string `json:"kind"`   // "inSource" or "external"
		Status        string `json:"status"` // always "accepted": the project's own decision
		Justification string `json:"justification"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysicalLocation  `json:"physicalLocation"`
		LogicalLocations []sarifLogicalLocation `json:"logicalLocations,omitempty"`
	}
	sarifLogicalLocation struct {
		Name               string `json:"name"`
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
	sarifPhysicalLocation struct {
		ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
		Region           sarifRegion      `json:"region"`
	}
	sarifArtifactLoc struct {
		URI       string `json:"uri"`
		URIBaseID string `json:"uriBaseId,omitempty"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn"`
		EndColumn   int `json:"endColumn,omitempty"`
	}
	sarifResultProperty struct {
		Status             string        `json:"status"`
		ExpiresAt          string        `json:"expires_at,omitempty"`
		Encoding           string        `json:"encoding,omitempty"`
		Verification       string        `json:"verification,omitempty"`
		VerificationReason string        `json:"verification_reason,omitempty"`
		Commit             string        `json:"commit,omitempty"`
		Author             string        `json:"author,omitempty"`
		Email              string        `json:"email,omitempty"`
		Date               string        `json:"date,omitempty"`
		Message            string        `json:"message,omitempty"`
		InHead             *bool         `json:"in_head,omitempty"`
		Location           string        `json:"location,omitempty"`
		Tag                string        `json:"tag,omitempty"`
		Unreachable        bool          `json:"unreachable,omitempty"`
		Exposure           *jsonExposure `json:"exposure,omitempty"`
	}
)

const (
	sarifSchema = "https://json.schemastore.org/sarif-2.1.0.json"
	// srcRoot is the conventional base id for "relative to the checkout";
	// GitHub resolves it to the repository root.
	srcRoot = "%SRCROOT%"
	// fingerprintKey names our partial fingerprint. It is versioned because
	// GitHub matches alerts across uploads by it: changing how it is computed
	// must change the key, or every alert would close and reopen.
	fingerprintKey = "loftyscan/fingerprint/v1"
)

// What to do about a leaked key, shared by both rules' help. Rotation comes
// first because the key stays valid until revoked, whatever happens to the
// repository.
const (
	remediationText = `What to do:
1. Revoke the key now: in Lofty, open Settings → Integrations → API and delete it. Then create a new key there.
2. Store the new key in a secret manager or as a CI secret, and read it from the environment (lofty-cli reads LOFTY_CUSTOMER_KEY). Do not commit it.
3. Remove the old key from the files, and from git history with git filter-repo (https://github.com/newren/git-filter-repo), then force-push and have collaborators clone again.

Revoke first. A pushed key has already been copied to clones, forks, CI logs and caches that no history rewrite reaches, and it keeps working until it is revoked or expires. Cleaning history without rotating leaves a live key in all of those copies.`

	remediationMarkdown = `**What to do**

1. **Revoke the key now:** in Lofty, open **Settings → Integrations → API** and delete it. Then create a new key there.
2. Store the new key in a secret manager or as a CI secret, and read it from the environment (lofty-cli reads ` + "`LOFTY_CUSTOMER_KEY`" + `). Do not commit it.
3. Remove the old key from the files, and from git history with [git filter-repo](https://github.com/newren/git-filter-repo), then force-push and have collaborators clone again.

**Revoke first.** A pushed key has already been copied to clones, forks, CI logs and caches that no history rewrite reaches, and it keeps working until it is revoked or expires. Cleaning history without rotating leaves a live key in all of those copies.`
)

// sarifRules describes both rules. Both are always listed, even when a scan
// finds nothing, so that GitHub knows the rules and closes alerts whose
// findings are gone. Results refer to rules by their index in this list.
var sarifRules = []sarifRule{
	{
		ID:               rules.RuleAPIKey,
		Name:             "LoftyApiKey",
		ShortDescription: sarifText{Text: "Lofty API key."},
		FullDescription: sarifText{Text: "A JWS token whose claims carry the THIRD_PARTY_OPERATION scope: " +
			"a Lofty API key. It gives whoever holds it API access to the Lofty account that created it."},
		Help: sarifText{
			Text: "This is a Lofty API key: a JWS whose claims carry the THIRD_PARTY_OPERATION scope that Lofty " +
				"gives its API keys. Anyone who can read it can use the Lofty API as the account that created it.\n\n" +
				remediationText,
			Markdown: "This is a **Lofty API key**: a JWS whose claims carry the `THIRD_PARTY_OPERATION` scope that " +
				"Lofty gives its API keys. Anyone who can read it can use the Lofty API as the account that created it.\n\n" +
				remediationMarkdown,
		},
		DefaultConfiguration: sarifRuleConfig{Level: "error"},
		Properties: sarifRuleProperty{
			SecuritySeverity: "8.5",
			Tags:             []string{"security", "secret"},
			Precision:        "very-high",
			ProblemSeverity:  "error",
		},
	},
	{
		ID:               rules.RuleUnconfirmed,
		Name:             "LoftyUnconfirmedToken",
		ShortDescription: sarifText{Text: "Unconfirmed token in a Lofty context."},
		FullDescription: sarifText{Text: "A JWS token without the THIRD_PARTY_OPERATION scope, found in a Lofty " +
			"context: a LOFTY_, lofty or chime name on its line, an \"Authorization: token\" header, or " +
			"lofty-cli auth set. It may be a Lofty key in a form loftyscan does not recognise."},
		Help: sarifText{
			Text: "This JWS does not carry the THIRD_PARTY_OPERATION scope of a Lofty API key, but it was found in a " +
				"Lofty context: a LOFTY_, lofty or chime name on its line, an \"Authorization: token\" header, or " +
				"lofty-cli auth set. It may be a Lofty key in a form loftyscan does not recognise, or another " +
				"service's token used beside Lofty code. Find out which. If it is another service's token, rotate it " +
				"there. If it is a Lofty key, treat it as one.\n\n" + remediationText,
			Markdown: "This JWS does not carry the `THIRD_PARTY_OPERATION` scope of a Lofty API key, but it was found " +
				"in a Lofty context: a `LOFTY_`, `lofty` or `chime` name on its line, an `Authorization: token` header, " +
				"or `lofty-cli auth set`. It may be a Lofty key in a form loftyscan does not recognise, or another " +
				"service's token used beside Lofty code. Find out which. If it is another service's token, rotate it " +
				"there. If it is a Lofty key, treat it as one.\n\n" + remediationMarkdown,
		},
		DefaultConfiguration: sarifRuleConfig{Level: "warning"},
		Properties: sarifRuleProperty{
			SecuritySeverity: "5.5",
			Tags:             []string{"security", "secret"},
			Precision:        "medium",
			ProblemSeverity:  "warning",
		},
	},
}

func (s *sarifReporter) Report(w io.Writer, r Report) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:           "loftyscan",
			InformationURI: "https://github.com/loftyscan/loftyscan",
			Version:        sarifVersion(s.opts.Version),
			Rules:          sarifRules,
		}},
		// Finding columns count characters. Said explicitly, because
		// consumers otherwise assume UTF-16 code units, as editors count.
		ColumnKind: "unicodeCodePoints",
		Results:    make([]sarifResult, 0, len(r.Findings)),
	}
	if base, ok := rootURI(r.Root); ok {
		run.OriginalURIBaseIDs = map[string]sarifArtifactLoc{srcRoot: {URI: base}}
	}
	kept, left := sarifKept(r.Findings)
	for _, f := range kept {
		run.Results = append(run.Results, sarifResultFor(f))
	}
	notices := r.Notices
	if left > 0 {
		notices = append(slices.Clone(notices), finding.Notice{Kind: noticeResultsLeftOut, Message: fmt.Sprintf(
			"%d of %d findings are left out of this file, the least severe first: GitHub code scanning rejects a run of more than %d results. The json and terminal reports list them all.",
			left, len(r.Findings), maxSarifResults)})
	}
	if len(notices) > 0 {
		inv := sarifInvocation{ExecutionSuccessful: true}
		for _, n := range notices {
			sn := sarifNotification{Level: "warning", Message: sarifText{Text: finding.Sanitize(n.Message)}, Descriptor: sarifDescriptorRef{ID: n.Kind}}
			if n.Path != "" {
				var loc sarifNoticeLocation
				loc.PhysicalLocation.ArtifactLocation = sarifArtifactLoc{URI: escapePath(finding.Sanitize(n.Path)), URIBaseID: srcRoot}
				sn.Locations = []sarifNoticeLocation{loc}
			}
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sn)
		}
		run.Invocations = []sarifInvocation{inv}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: sarifSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}

// maxSarifResults is the most results a run holds: GitHub code scanning
// rejects an upload with more ("Analysis SARIF file rejected due to result
// limits"), so a scan with more findings would show none of them there.
const maxSarifResults = 25_000

// noticeResultsLeftOut is the notification of a run that holds only
// maxSarifResults of the findings.
const noticeResultsLeftOut = "results-left-out"

// sarifKept returns the findings a run holds, in their order, and how
// many are left out: when there are more than maxSarifResults, the most
// severe are kept (live, then active, then unconfirmed keys, then
// expired ones, then those that do not count), as the terminal report
// groups them.
func sarifKept(findings []finding.Finding) ([]finding.Finding, int) {
	if len(findings) <= maxSarifResults {
		return findings, 0
	}
	idx := make([]int, len(findings))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		return cmp.Compare(groupOf(findings[a]), groupOf(findings[b]))
	})
	idx = idx[:maxSarifResults]
	slices.Sort(idx)
	kept := make([]finding.Finding, len(idx))
	for i, j := range idx {
		kept[i] = findings[j]
	}
	return kept, len(findings) - len(kept)
}

func sarifResultFor(f finding.Finding) sarifResult {
	idx := 0
	for i, rule := range sarifRules {
		if rule.ID == f.RuleID {
			idx = i
		}
	}
	s := f.Shown()
	region := sarifRegion{StartLine: max(1, f.Line), StartColumn: max(1, f.Column)}
	if f.Encoding == "" {
		// The token is in the file as is, so its length there is its length.
		// An encoded token's length in the file is not known here; without an
		// endColumn the region runs to the end of the line.
		region.EndColumn = region.StartColumn + utf8.RuneCountInString(f.Secret)
	}
	props := sarifResultProperty{
		Status:             string(f.Status),
		Encoding:           s.Encoding,
		Verification:       string(f.Verification),
		VerificationReason: s.VerificationReason,
	}
	if !f.ExpiresAt.IsZero() {
		props.ExpiresAt = rfc3339(f.ExpiresAt)
	}
	if f.Commit != "" {
		props.Commit = f.Commit
		props.Author = s.Author
		props.Email = s.Email
		props.Date = rfc3339(f.Date)
		props.Message = s.Message
	}
	if fromGit(f) {
		props.InHead = f.InHead
		props.Location = f.Location.Name()
		props.Tag = s.Tag
		props.Unreachable = f.Unreachable
		props.Exposure = exposureJSON(f)
	}
	if f.Location == finding.InPath {
		props.Location = f.Location.Name()
	}
	var suppressions []sarifSuppression
	if f.Suppressed != "" {
		kind := "external"
		if suppressedInSource(f) {
			kind = "inSource"
		}
		suppressions = []sarifSuppression{{Kind: kind, Status: "accepted", Justification: s.Suppressed}}
	}
	return sarifResult{
		RuleID:    f.RuleID,
		RuleIndex: idx,
		Level:     sarifLevel(f.Severity()),
		Message:   sarifText{Text: sarifMessage(f)},
		Locations: []sarifLocation{{
			PhysicalLocation: sarifPhysicalLocation{
				ArtifactLocation: sarifArtifactLoc{URI: escapePath(f.PathForURI()), URIBaseID: srcRoot},
				Region:           region,
			},
			LogicalLocations: sarifMessageLocation(f),
		}},
		PartialFingerprints: map[string]string{fingerprintKey: f.Fingerprint},
		Suppressions:        suppressions,
		Properties:          props,
	}
}

// sarifMessageLocation names the message or headers a key is in, for
// SARIF's logical locations; nil for a key in a file.
func sarifMessageLocation(f finding.Finding) []sarifLogicalLocation {
	switch {
	case f.Location.OfCommit():
		return []sarifLogicalLocation{{Name: f.Location.Part(), FullyQualifiedName: "commit " + f.Commit, Kind: "text"}}
	case f.Location.OfTag():
		return []sarifLogicalLocation{{Name: f.Location.Part(), FullyQualifiedName: "tag " + f.Shown().Tag, Kind: "text"}}
	}
	return nil
}

// sarifVersion returns the tool version in the form SARIF validators expect
// (SARIF2005): starting with a digit, so "v1.2.3" becomes "1.2.3". A build
// without a version still gets one, as a log whose producer cannot be told
// apart is hard to triage.
func sarifVersion(v string) string {
	if t := strings.TrimPrefix(v, "v"); t != "" && '0' <= t[0] && t[0] <= '9' {
		return t
	}
	if v == "" || v == "(devel)" {
		return "0.0.0-dev"
	}
	return "0.0.0-" + v
}

// sarifLevel maps a finding's severity to a SARIF level, so that an expired
// key is a note rather than an error that fails a required check. SARIF has
// nothing above "error", so critical and high share it.
func sarifLevel(severity finding.Severity) string {
	switch severity {
	case finding.Critical, finding.High:
		return "error"
	case finding.Medium:
		return "warning"
	}
	return "note"
}

// sarifMessage is the one line GitHub shows for an alert, and the GitLab
// and JUnit formats' summary of a finding. It carries the redacted token,
// never the full one.
func sarifMessage(f finding.Finding) string {
	var b strings.Builder
	l := label(f.RuleID)
	b.WriteString(strings.ToUpper(l[:1]) + l[1:])
	b.WriteString(" '" + f.Redacted() + "' (" + f.RuleID + ")")
	if f.Encoding != "" {
		b.WriteString(", " + f.Shown().Encoding + " encoded")
	}
	b.WriteString(", " + describeExpiry(f))
	switch {
	case f.Location != finding.InFile:
		b.WriteString(", in " + describePlace(f))
		if f.Location == finding.InPath && f.Commit != "" {
			b.WriteString(", introduced in commit " + shortCommit(f.Commit))
		}
	case f.Commit != "":
		b.WriteString(", introduced in commit " + shortCommit(f.Commit))
	}
	if f.Unreachable {
		b.WriteString(", which no ref or reflog reaches")
	}
	b.WriteString(".")
	if s := exposureSummary(f); s != "" && !f.Unreachable {
		b.WriteString(" " + s)
	}
	switch f.Verification {
	case "":
	case finding.Live:
		b.WriteString(" Verified live: Lofty accepted it.")
	case finding.Invalid:
		b.WriteString(" Verified invalid: Lofty rejected it (revoked or expired).")
	default:
		b.WriteString(" Verification " + describeVerification(f) + ".")
	}
	return b.String()
}

// escapePath turns a finding's slash-separated path into a relative URI
// reference. Spaces, '%', '#', '?' and non-ASCII bytes are percent-escaped.
// '!' (the archive separator in "outer.zip!inner/file") and '/' are kept. A
// ':' is escaped too, as one in the first segment would read as a scheme.
func escapePath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-._~/!$&'()*+,;=@", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		const hex = "0123456789ABCDEF"
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// rootURI returns the file URI of an absolute root directory, with the
// trailing slash SARIF requires of a base URI. It reports false for an empty
// or relative root, which cannot make an absolute URI.
func rootURI(root string) (string, bool) {
	if root == "" {
		return "", false
	}
	p := strings.ReplaceAll(root, `\`, "/")
	if len(p) >= 2 && p[1] == ':' { // a Windows drive: C:/src
		p = "/" + p
	}
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return "", false
	}
	p = path.Clean(p)
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return (&url.URL{Scheme: "file", Path: p}).String(), true
}
