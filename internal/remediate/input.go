package remediate

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/loftyscan/loftyscan/finding"
)

// Key is one leaked key, as the plan needs it: what to revoke and where it
// was found. Secret is the full token; it goes into the replacements file
// (mode 0600, outside the repository) and nowhere else.
type Key struct {
	Fingerprint string    // lowercase hex SHA-256 of Secret
	Secret      string    // the full token, held in memory only
	Subject     string    // the account the key belongs to (its sub claim); may be empty
	ExpiresAt   time.Time // zero when the key never expires
	Status      string    // "active", "expired" or "no-expiry", by the key's own claims
	// Verification is what --verify found: "live", "invalid" or "unknown";
	// "" when the key was not checked. VerificationReason says why for
	// "unknown".
	Verification       string
	VerificationReason string
	Occurrences        []Occurrence
}

// Occurrence is one place a key was found in history.
type Occurrence struct {
	Commit string // the commit (or, for a tag message, the tag object) that holds it
	// Path is the file, slash-separated, relative to the repository's top;
	// "outer.zip!inner/file" inside an archive. Empty in a message.
	Path     string
	Line     int    // 1-based line of the key (of its encoded text, when encoded)
	Column   int    // 1-based column, as loftyscan reports it
	Encoding string // "" for plain text, else the wrapping, outermost first: "base64", "utf-16le", "base64/utf-16le"...
	// InMessage is true when the key is in the message of Commit (a commit
	// or an annotated tag) rather than in a file.
	InMessage bool
	// InHeaders is true when the key is in the header lines of Commit (a
	// commit or an annotated tag): an author, a mergetag, a tag's name.
	InHeaders bool
	// Tag is the name of the annotated tag whose message or headers hold
	// the key; "" for a commit's or a file.
	Tag string
	// Ref is the full name of a ref whose name holds the key
	// (refs/heads/wip/<key>), which no commit holds; or, with Path, of the
	// ref that holds the key's blob or tree with no commit between (a tag
	// of a blob, Path "refs/tags/t"; of a tree, "refs/tags/t:path"); ""
	// elsewhere.
	Ref string
}

// held reports whether a commit holds the occurrence: not a ref's name,
// nor a blob or a tree's name no commit holds (Commit is ""), which the
// rewrite of this repository prunes (filter-repo expires the reflogs and
// prunes what nothing reaches) and the check's scan looks for again.
func (o Occurrence) held() bool { return o.Commit != "" }

// OccurrenceOf is where finding f of a history scan is, as a plan needs it.
func OccurrenceOf(f finding.Finding) Occurrence {
	if f.Location == finding.InRef {
		return Occurrence{Ref: f.Path, Line: f.Line, Column: f.Column}
	}
	if f.Commit == "" && !f.Unreachable && strings.HasPrefix(f.Path, "refs/") {
		// A blob or tree a ref holds with no commit between.
		ref, _, _ := strings.Cut(f.Path, ":")
		return Occurrence{Ref: ref, Path: f.Path, Line: f.Line, Column: f.Column, Encoding: f.Encoding}
	}
	if f.Location.OfObject() {
		// A message or headers: a place of its own, not a file with no name.
		return Occurrence{Commit: f.Commit, InMessage: f.Location.Part() == "message", InHeaders: f.Location.Part() == "headers", Tag: f.Tag}
	}
	return Occurrence{Commit: f.Commit, Path: f.Path, Line: f.Line, Column: f.Column, Encoding: f.Encoding}
}

// Facts are what the plan needs to know about the repository besides the
// keys: where it is, the refs that contain the commits the keys were found
// in, and its remotes.
type Facts struct {
	// Dir is the repository as commands name it with git -C: the top of
	// its work tree, or the repository folder itself when it is bare.
	Dir string
	// GitDir is its .git folder (the repository folder when bare). The
	// plan's files must be outside both.
	GitDir string
	Bare   bool
	// Refs are the refs that contain at least one commit of the keys'
	// occurrences: local branches, tags and remote-tracking branches.
	Refs    []Ref
	Remotes []Remote
	// Submodules are the paths of HEAD's submodules: repositories of their
	// own, which the plan neither scans nor rewrites.
	Submodules []string
	// Worktrees are the repository's other work trees (git worktree add),
	// whose files and index the rewrite leaves as they were.
	Worktrees []string
}

// Ref is a ref that contains commits with keys.
type Ref struct {
	Name string // full name: refs/heads/main, refs/tags/v1.0, refs/remotes/origin/main
	// Hash is what the ref points at now (the tag object for an annotated
	// tag): the value a force push expects to replace.
	Hash     string
	Contains []string // the occurrence commits it contains
}

// Remote is a configured remote.
type Remote struct {
	Name     string
	FetchURL string
	PushURL  string // the same as FetchURL unless remote.<name>.pushurl is set
	// Mirror is set when its fetch refspec maps the remote's branches onto
	// this repository's own (git clone --mirror: +refs/*:refs/*), or when
	// the repository is bare and the remote has no fetch refspec (git
	// clone --bare): its branches are then this repository's
	// refs/heads/*, not refs/remotes/<name>/*.
	Mirror bool
}

// Kind says what a ref is, from its name: "branch", "tag",
// "remote-tracking" or "other".
func (r Ref) Kind() string {
	switch {
	case strings.HasPrefix(r.Name, "refs/heads/"):
		return "branch"
	case strings.HasPrefix(r.Name, "refs/tags/"):
		return "tag"
	case strings.HasPrefix(r.Name, "refs/remotes/"):
		return "remote-tracking"
	}
	return "other"
}

// Short is the ref's name as people write it: main, v1.0, origin/main.
func (r Ref) Short() string {
	for _, p := range []string{"refs/heads/", "refs/tags/", "refs/remotes/"} {
		if s, ok := strings.CutPrefix(r.Name, p); ok {
			return s
		}
	}
	return r.Name
}

// validate checks the keys before anything is written: a plan built from a
// key without its secret would promise a rewrite it cannot do.
func validate(keys []Key) error {
	if len(keys) == 0 {
		return errors.New("no keys to remediate: the scan found none, or the selection matched none")
	}
	seen := map[string]bool{}
	for i, k := range keys {
		if k.Secret == "" {
			return fmt.Errorf("key %d (%s) has no secret: build the plan from a scan of the repository, not from a report alone", i+1, shortFP(k.Fingerprint))
		}
		if fingerprint(k.Secret) != k.Fingerprint {
			return fmt.Errorf("key %d: fingerprint %s does not match its secret", i+1, shortFP(k.Fingerprint))
		}
		if strings.ContainsAny(k.Secret, "\r\n") {
			// A replacements file holds one rule per line.
			return fmt.Errorf("key %s holds a line break: it cannot be written as a replacement rule", shortFP(k.Fingerprint))
		}
		if seen[k.Fingerprint] {
			return fmt.Errorf("key %s is listed twice: merge its occurrences", shortFP(k.Fingerprint))
		}
		seen[k.Fingerprint] = true
	}
	return nil
}

// shortFP is the fingerprint prefix a plan names a key by.
func shortFP(fp string) string {
	if len(fp) > 12 {
		return fp[:12]
	}
	return fp
}
