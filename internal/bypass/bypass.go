// Package bypass is the audited way past a server's pre-receive check: the
// keys a push names with `git push -o loftyscan.allow=FINGERPRINT`, who
// pushed them, and the log every accepted key is appended to.
//
// A push option reaches the hook only when the server accepts push
// options (receive.advertisePushOptions; GitLab always does): git then
// sets GIT_PUSH_OPTION_COUNT and GIT_PUSH_OPTION_<i>. Nothing in the pushed
// commits can set them, and a key is named by its whole fingerprint, which
// the rejection message prints, so what was accepted is exact in the log.
package bypass

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/loftyscan/loftyscan/finding"
)

// Option is the push option that names a key to accept.
const Option = "loftyscan.allow"

// maxOptions bounds the push options read: git sends as many as the
// pusher gives, and a hook needs a handful.
const maxOptions = 100

// PushOptions returns the push options git passed to the hook, and
// whether git passed any at all: false when the server does not accept
// push options, or the pusher gave none and git negotiated none.
func PushOptions(getenv func(string) string) ([]string, bool, error) {
	cs := getenv("GIT_PUSH_OPTION_COUNT")
	if cs == "" {
		return nil, false, nil
	}
	n, err := strconv.Atoi(cs)
	if err != nil || n < 0 {
		return nil, true, fmt.Errorf("GIT_PUSH_OPTION_COUNT is %s, not a count", quote(cs))
	}
	if n > maxOptions {
		return nil, true, fmt.Errorf("the push has %d push options; at most %d are read", n, maxOptions)
	}
	out := make([]string, 0, n)
	for i := range n {
		out = append(out, getenv("GIT_PUSH_OPTION_"+strconv.Itoa(i)))
	}
	return out, true, nil
}

// quote writes s from the push in double quotes, through the redaction
// point and nothing after it: %q would write a rune that Sanitize keeps
// but strconv does not print (the private-use U+E00E) as "\ue00e", whose
// "e" can begin an "eyJ" and make a token again.
func quote(s string) string { return `"` + finding.Sanitize(s) + `"` }

// Allowed returns the fingerprints the push options name with Option,
// and a problem for each such option that does not name one: only a
// whole fingerprint (64 hex digits, the SHA-256 of the key, which every
// loftyscan report and the rejection message print) is accepted, so that
// the log says exactly which key went through. Other options are not
// loftyscan's and are left alone.
func Allowed(opts []string) (map[string]bool, []string) {
	allowed := map[string]bool{}
	var problems []string
	for _, o := range opts {
		name, value, ok := strings.Cut(o, "=")
		if !strings.EqualFold(strings.TrimSpace(name), Option) {
			continue
		}
		fp := strings.ToLower(strings.TrimSpace(value))
		if !ok || !IsFingerprint(fp) {
			problems = append(problems, fmt.Sprintf("push option %s does not name a key: give %s=<fingerprint>, the 64 hex digits the rejection message prints", quote(o), Option))
			continue
		}
		allowed[fp] = true
	}
	return allowed, problems
}

// IsFingerprint reports whether s is a whole fingerprint: 64 lowercase
// hex digits.
func IsFingerprint(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Pusher is who pushed, as the server names them.
type Pusher struct {
	Name string // the account; "" when the server does not say
	From string // the variable it came from: GL_USERNAME, GITHUB_USER_LOGIN...
}

// pusherVars are where servers name the pusher, most specific first:
// GitLab, GitHub Enterprise Server, Gitea and Forgejo, a web server in
// front of git http-backend, then the system account (a bare repository
// over SSH, where it is often a shared "git" account).
var pusherVars = []string{"GL_USERNAME", "GITHUB_USER_LOGIN", "GITEA_PUSHER_NAME", "REMOTE_USER", "USER", "LOGNAME"}

// PusherFromEnv reads who pushed from the hook's environment.
func PusherFromEnv(getenv func(string) string) Pusher {
	for _, v := range pusherVars {
		if name := getenv(v); name != "" {
			return Pusher{Name: name, From: v}
		}
	}
	return Pusher{}
}

// How a key went past the check.
const (
	ViaPushOption = "push-option" // named by git push -o loftyscan.allow=
	ViaIgnoreFile = "ignore-file" // listed in the server's ignore file
	ViaBaseline   = "baseline"    // in the server's baseline
)

// Record is one key a push added that the hook let through. Its strings
// are sanitized when it is written (finding.Sanitize): refs, paths and
// reasons come from the push or from files, and the log is read in
// terminals.
type Record struct {
	Time       time.Time `json:"time"`
	Pusher     string    `json:"pusher"`
	PusherFrom string    `json:"pusher_from,omitempty"`
	Repository string    `json:"repository"`
	Refs       []string  `json:"refs"`
	Commit     string    `json:"commit"`
	// Location is where in the commit the key is, as a report's location
	// ("file", "commit-message", "commit-header", "tag-message",
	// "tag-header"); Path is the file's path, "" for the others, and Line
	// the line in the file, message or headers.
	Location    string `json:"location"`
	Path        string `json:"path"`
	Line        int    `json:"line"`
	Fingerprint string `json:"fingerprint"`
	Redacted    string `json:"redacted"`
	Via         string `json:"via"`
	Reason      string `json:"reason,omitempty"`
}

// sanitized returns r with every string from the push or from files
// passed through the redaction point.
func (r Record) sanitized() Record {
	r.Pusher = finding.Sanitize(r.Pusher)
	r.Repository = finding.Sanitize(r.Repository)
	refs := make([]string, len(r.Refs))
	for i, ref := range r.Refs {
		refs[i] = finding.Sanitize(ref)
	}
	r.Refs = refs
	r.Path = finding.Sanitize(r.Path)
	r.Reason = finding.Sanitize(r.Reason)
	r.Time = r.Time.UTC().Truncate(time.Second)
	return r
}

// JSONLine is the record as one line of the log: JSON, sanitized, ending in a
// newline.
func (r Record) JSONLine() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // "\u003e" for '>' would end in the "e" of an "eyJ"
	if err := enc.Encode(r.sanitized()); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Append adds records to the log file at path, one JSON line each,
// creating it with mode 0600. The lines are written with one write to a
// file opened for appending, so that two pushes at once do not mix their
// lines. The file is never a place the push decides: the server names it.
func Append(path string, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	var buf []byte
	for _, r := range recs {
		line, err := r.JSONLine()
		if err != nil {
			return err
		}
		buf = append(buf, line...)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.Write(buf)
	return errors.Join(werr, f.Close())
}
