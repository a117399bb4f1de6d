package reporters

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/rules"
)

// gitlabReporter writes GitLab's secret detection report, schema 15.2.1
// (https://gitlab.com/gitlab-org/security-products/security-report-schemas),
// so that GitLab shows findings in merge requests, the pipeline's security
// tab and the vulnerability report. A CI job hands it over as an artifact:
//
//	loftyscan:
//	  script: loftyscan dir --format gitlab --output gl-secret-detection-report.json .
//	  artifacts:
//	    when: always   # upload the report when findings fail the job too
//	    reports:
//	      secret_detection: gl-secret-detection-report.json
//
// The report has version "15.2.1", a schema URL, a scan object and a
// vulnerabilities array ([] when nothing was found). The scan names
// loftyscan as both analyzer and scanner, lists both rules as its
// primary_identifiers (so that GitLab can resolve vulnerabilities whose
// finding has gone), and records start_time and end_time in UTC in the
// schema's "yyyy-mm-ddThh:mm:ss" form: end_time is when the report is
// written, start_time that less the scan's duration. Its status is always
// "success": a scan that fails produces no report. Files that could not be
// read are a "warn" message, not a failure, as everything else was scanned.
//
// Suppressed findings (an inline loftyscan:allow, .loftyscanignore, a
// baseline) are never written as vulnerabilities, even with
// --show-suppressed: the schema has no way to mark one suppressed, and
// GitLab would open every one of them as a new vulnerability. An "info"
// message says how many there were. A vulnerability whose finding is
// suppressed later is then no longer detected, and GitLab shows it so.
// The exception is a key that a scanned change adds on a line with a
// loftyscan:allow comment: it is written with severity "Info" and a name
// that says so, for the merge request's reviewers to see. The report's
// notices (the change edits the scanner's settings) are "warn" messages.
//
// Each vulnerability has:
//
//	id           a UUID (version 8, RFC 9562) hashed from the token's fingerprint, path,
//	             line, column and commit: the same finding has the same id in every scan
//	name         the rule's name, the same for all its findings
//	description  one line with the redacted token, the rule, the encoding, the expiry
//	             and the commit, then what the rule means
//	severity     "Critical" (a key --verify found live), "High", "Medium" or "Low"
//	             (see finding.Finding.Severity)
//	solution     what to do: revoke first, then clean up
//	identifiers  one, of type "loftyscan_rule_id", whose value is the rule id
//	location     file (the finding's path; "outer.zip!inner/file" in archives),
//	             start_line, end_line, and commit: sha, author, date and message of the
//	             commit that introduced the token; outside git, sha "0000000" (the
//	             schema requires one, and GitLab's own analyzers use this value)
//	details      a named list: the redacted token, its status, what --verify learnt
//	             ("verification", with --verify only), its fingerprint and encoding, and
//	             for git findings the commit and whether HEAD still has it
//
// Text from scanned data (file, author, message) is as finding.Sanitize
// shows it. raw_source_code_extract is never written: it would hold the
// token. Like
// SARIF, the report is uploaded and shown to everyone who can see the
// project's vulnerabilities, so it never holds a full token, whatever
// Options.ShowSecrets says.
type gitlabReporter struct {
	opts Options
}

// The pieces of the 15.2.1 secret detection report loftyscan writes.
type (
	gitlabReport struct {
		Version         string                `json:"version"`
		Schema          string                `json:"schema"`
		Scan            gitlabScan            `json:"scan"`
		Vulnerabilities []gitlabVulnerability `json:"vulnerabilities"`
	}
	gitlabScan struct {
		Analyzer           gitlabTool         `json:"analyzer"`
		Scanner            gitlabTool         `json:"scanner"`
		Type               string             `json:"type"`
		StartTime          string             `json:"start_time"`
		EndTime            string             `json:"end_time"`
		Status             string             `json:"status"`
		Messages           []gitlabMessage    `json:"messages,omitempty"`
		PrimaryIdentifiers []gitlabIdentifier `json:"primary_identifiers"`
	}
	gitlabTool struct {
		ID      string       `json:"id"`
		Name    string       `json:"name"`
		URL     string       `json:"url"`
		Version string       `json:"version"`
		Vendor  gitlabVendor `json:"vendor"`
	}
	gitlabVendor struct {
		Name string `json:"name"`
	}
	gitlabMessage struct {
		Level string `json:"level"`
		Value string `json:"value"`
	}
	gitlabIdentifier struct {
		Type  string `json:"type"`
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	gitlabVulnerability struct {
		ID          string             `json:"id"`
		Name        string             `json:"name"`
		Description string             `json:"description"`
		Severity    string             `json:"severity"`
		Solution    string             `json:"solution"`
		Identifiers []gitlabIdentifier `json:"identifiers"`
		Location    gitlabLocation     `json:"location"`
		Details     gitlabDetails      `json:"details"`
	}
	gitlabLocation struct {
		File      string       `json:"file"`
		StartLine int          `json:"start_line"`
		EndLine   int          `json:"end_line"`
		Commit    gitlabCommit `json:"commit"`
	}
	gitlabCommit struct {
		Author  string `json:"author,omitempty"`
		Date    string `json:"date,omitempty"`
		Message string `json:"message,omitempty"`
		SHA     string `json:"sha"`
	}
	// gitlabDetails is a named list's items, in the order GitLab shows
	// them. A struct rather than a map keeps that order.
	gitlabDetails struct {
		Token        gitlabDetail  `json:"token"`
		Status       gitlabDetail  `json:"status"`
		Verification *gitlabDetail `json:"verification,omitempty"`
		Fingerprint  gitlabDetail  `json:"fingerprint"`
		Encoding     *gitlabDetail `json:"encoding,omitempty"`
		Commit       *gitlabDetail `json:"commit,omitempty"`
		InHead       *gitlabDetail `json:"in_head,omitempty"`
		Location     *gitlabDetail `json:"location,omitempty"`
		Exposure     *gitlabDetail `json:"exposure,omitempty"`
	}
	gitlabDetail struct {
		Name  string `json:"name"`
		Type  string `json:"type"` // "text", or "commit" for a link to the commit
		Value string `json:"value"`
	}
)

const (
	gitlabVersion = "15.2.1"
	gitlabSchema  = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v" +
		gitlabVersion + "/dist/secret-detection-report-format.json"
	// gitlabTime is the schema's "yyyy-mm-ddThh:mm:ss": no fraction, no zone.
	gitlabTime = "2006-01-02T15:04:05"
	// noCommit is the commit sha of a finding outside git. The schema
	// requires a non-empty sha; GitLab's own secret detection analyzer
	// writes this one for files scanned outside git history.
	noCommit = "0000000"
	// idNamespace is hashed into every vulnerability id. It is versioned:
	// changing what goes into an id must change it, so that old and new ids
	// never collide by accident.
	idNamespace = "loftyscan/gitlab-id/v1"
)

func (g *gitlabReporter) Report(w io.Writer, r Report) error {
	now := time.Now
	if g.opts.Now != nil {
		now = g.opts.Now
	}
	end := now().UTC()
	start := end.Add(-r.Stats.Duration)
	tool := gitlabTool{
		ID:      "loftyscan",
		Name:    "loftyscan",
		URL:     "https://github.com/loftyscan/loftyscan",
		Version: sarifVersion(g.opts.Version), // "1.2.3"; "0.0.0-dev" for a build without a version
		Vendor:  gitlabVendor{Name: "loftyscan"},
	}
	scan := gitlabScan{
		Analyzer:  tool,
		Scanner:   tool,
		Type:      "secret_detection",
		StartTime: start.Format(gitlabTime),
		EndTime:   end.Format(gitlabTime),
		Status:    "success",
		PrimaryIdentifiers: []gitlabIdentifier{
			gitlabRuleIdentifier(rules.RuleAPIKey),
			gitlabRuleIdentifier(rules.RuleUnconfirmed),
		},
	}
	if n := r.Stats.Errors; n > 0 {
		scan.Messages = append(scan.Messages, gitlabMessage{Level: "warn", Value: scanErrors(n)})
	}
	for _, n := range r.Notices {
		scan.Messages = append(scan.Messages, gitlabMessage{Level: "warn", Value: finding.Sanitize(n.Message)})
	}
	allowed := 0
	for _, f := range r.Findings {
		if f.Suppressed == finding.SuppressedInlineInChange {
			allowed++
		}
	}
	if n := countSuppressed(r) - int64(allowed); n > 0 {
		scan.Messages = append(scan.Messages, gitlabMessage{
			Level: "info",
			Value: plural(n, "finding", "findings") + " suppressed by loftyscan:allow, .loftyscanignore or a baseline, not listed",
		})
	}
	if allowed > 0 {
		scan.Messages = append(scan.Messages, gitlabMessage{
			Level: "warn",
			Value: plural(int64(allowed), "key", "keys") + " that the scanned change adds on lines with a loftyscan:allow comment: listed with severity Info, not failing the job",
		})
	}
	out := gitlabReport{
		Version:         gitlabVersion,
		Schema:          gitlabSchema,
		Scan:            scan,
		Vulnerabilities: make([]gitlabVulnerability, 0, len(r.Findings)),
	}
	for _, f := range r.Findings {
		if f.Suppressed != "" && f.Suppressed != finding.SuppressedInlineInChange {
			continue
		}
		out.Vulnerabilities = append(out.Vulnerabilities, gitlabVulnerabilityFor(f))
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func gitlabVulnerabilityFor(f finding.Finding) gitlabVulnerability {
	s := f.Shown()
	line := max(1, f.Line)
	loc := gitlabLocation{File: s.Artifact, StartLine: line, EndLine: line, Commit: gitlabCommit{SHA: noCommit}}
	details := gitlabDetails{
		Token:       gitlabDetail{Name: "Token (redacted)", Type: "text", Value: f.Redacted()},
		Status:      gitlabDetail{Name: "Status", Type: "text", Value: describeExpiry(f)},
		Fingerprint: gitlabDetail{Name: "Fingerprint (SHA-256 of the token)", Type: "text", Value: f.Fingerprint},
	}
	if v := describeVerification(f); v != "" {
		details.Verification = &gitlabDetail{Name: "Verification", Type: "text", Value: v}
	}
	if f.Encoding != "" {
		details.Encoding = &gitlabDetail{Name: "Encoding", Type: "text", Value: s.Encoding}
	}
	if f.Commit != "" {
		loc.Commit = gitlabCommit{
			Author:  strings.TrimSpace(s.Author + " <" + s.Email + ">"),
			Date:    rfc3339(f.Date),
			Message: s.Message,
			SHA:     f.Commit,
		}
		details.Commit = &gitlabDetail{Name: "Introduced in commit", Type: "commit", Value: f.Commit}
		if f.InHead != nil && !f.Location.OfObject() {
			inHead := "no, only in history"
			if *f.InHead {
				inHead = "yes"
			}
			details.InHead = &gitlabDetail{Name: "Still in HEAD", Type: "text", Value: inHead}
		}
	}
	if f.Location != finding.InFile {
		details.Location = &gitlabDetail{Name: "Found in", Type: "text", Value: describePlace(f)}
	}
	if s := exposureSummary(f); s != "" {
		details.Exposure = &gitlabDetail{Name: "Where the key went", Type: "text", Value: s}
	}
	l := label(f.RuleID)
	v := gitlabVulnerability{
		ID:          gitlabID(f),
		Name:        strings.ToUpper(l[:1]) + l[1:],
		Description: sarifMessage(f) + "\n\n" + gitlabRuleText(f.RuleID),
		Severity:    gitlabSeverity(f.Severity()),
		Solution:    remediation(f.RuleID),
		Identifiers: []gitlabIdentifier{gitlabRuleIdentifier(f.RuleID)},
		Location:    loc,
		Details:     details,
	}
	if f.Suppressed == finding.SuppressedInlineInChange {
		v.Name = "Allowed by the scanned change: " + l
		v.Severity = "Info"
		v.Description = "The scanned change adds this key on a line with a loftyscan:allow comment, so it does not fail the job. Review it: is it a test fixture, or a real key let through?\n\n" + v.Description
	}
	return v
}

func gitlabRuleIdentifier(ruleID string) gitlabIdentifier {
	return gitlabIdentifier{Type: "loftyscan_rule_id", Name: "loftyscan rule ID " + ruleID, Value: ruleID}
}

// gitlabRuleText is what a rule means, from its SARIF description, so that
// both formats explain it in the same words.
func gitlabRuleText(ruleID string) string {
	for _, rule := range sarifRules {
		if rule.ID == ruleID {
			return rule.FullDescription.Text
		}
	}
	return ""
}

// gitlabSeverity maps a finding's severity to the schema's capitalised
// values.
func gitlabSeverity(severity finding.Severity) string {
	switch severity {
	case finding.Critical:
		return "Critical"
	case finding.High:
		return "High"
	case finding.Medium:
		return "Medium"
	case finding.Low:
		return "Low"
	}
	return "Unknown"
}

// gitlabID derives a vulnerability's id from where the token is, so that the
// same finding keeps its id from one scan to the next. It is shaped as a
// UUID, as the schema recommends: version 8 (RFC 9562's custom layout)
// over the first 16 bytes of a SHA-256.
func gitlabID(f finding.Finding) string {
	h := sha256.New()
	fields := []string{idNamespace, f.Fingerprint, f.Path, strconv.Itoa(f.Line), strconv.Itoa(f.Column), f.Commit}
	if f.Location != finding.InFile { // a file's id stays as it was
		fields = append(fields, string(f.Location), f.Tag)
	}
	for _, s := range fields {
		// Length-prefixed, so that no two lists of fields hash alike.
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(s))))
		io.WriteString(h, s)
	}
	var b [16]byte
	copy(b[:], h.Sum(nil))
	b[6] = b[6]&0x0f | 0x80 // version 8
	b[8] = b[8]&0x3f | 0x80 // variant 10
	x := hex.EncodeToString(b[:])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}
