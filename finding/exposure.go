package finding

import "strings"

// Location says where in a git repository a key was found: in a file, or
// in a commit's or an annotated tag's own text (its message, or the
// header lines above it), which no file holds and which a rewrite of
// files alone leaves in place.
type Location string

// The locations. The zero value is a file, as every finding outside git is.
const (
	InFile          Location = ""
	InCommitMessage Location = "commit-message" // the whole message of Finding.Commit, from its subject (line 1) on
	InTagMessage    Location = "tag-message"    // the message of the annotated tag Finding.Tag
	// The header lines of a commit or tag object, above its message: the
	// author and committer (or tagger), and any other header, such as the
	// whole tag object a merge of a signed tag copies into its commit
	// (mergetag) or one a tool writes. Line 1 is the object's first line
	// (tree, or object for a tag).
	InCommitHeader Location = "commit-header"
	InTagHeader    Location = "tag-header"
	// A name in Finding.Path: of a file, a folder, a link or an archive
	// entry (the path's last element), as a scan of folders or of a
	// stream searches them. Line and column are the key's in that name.
	InPath Location = "path"
	// The name of a ref in Finding.Path (refs/heads/wip/<key>): a branch
	// or tag named after a pasted key, which everyone who can list the
	// repository's refs sees, and every remote it was pushed to. No file
	// holds it and no rewrite of files removes it. Line is 1 and column
	// the key's in the name.
	InRef Location = "ref"
)

// Name is the location as reports spell it: "file", "path", "ref",
// "commit-message", "commit-header", "tag-message" or "tag-header".
func (l Location) Name() string {
	if l == InFile {
		return "file"
	}
	return string(l)
}

// OfObject reports whether l is a commit's or an annotated tag's own
// text (its message or headers), which no file holds.
func (l Location) OfObject() bool { return l.OfCommit() || l.OfTag() }

// OfCommit reports whether l is a commit's own text: its message or its
// headers.
func (l Location) OfCommit() bool { return l == InCommitMessage || l == InCommitHeader }

// OfTag reports whether l is an annotated tag's own text: its message or
// its headers.
func (l Location) OfTag() bool { return l == InTagMessage || l == InTagHeader }

// Part names the part of a commit or tag object l is: "message" or
// "headers"; "" for a file.
func (l Location) Part() string {
	switch l {
	case InCommitMessage, InTagMessage:
		return "message"
	case InCommitHeader, InTagHeader:
		return "headers"
	}
	return ""
}

// artifactPath is the path that stands for where f is, in the formats that
// need a file (SARIF's artifact location, GitLab's location.file, JUnit's
// class name, GitHub's annotations). A key in a file is at Path. A key in a
// commit's or an annotated tag's own text has no file, and gets a path
// under .git/, which no tracked file can have:
//
//	.git/commits/<full hash>/message   a commit's message
//	.git/commits/<full hash>/headers   a commit's header lines
//	.git/tags/<tag name>/message       an annotated tag's message
//	.git/tags/<tag name>/headers       an annotated tag's header lines
//	.git/refs/heads/<name>             a ref's name (where git keeps the ref)
//
// A message's Path is "", or the submodule's folder ("lib/") for a commit
// of a submodule scanned with --recurse-submodules, which comes first (and
// before a submodule's ref: lib/.git/refs/heads/...).
// It is raw scanned data (a tag's name): reports print it through
// Shown.Artifact or PathForURI.
func (f Finding) artifactPath() string {
	switch {
	case f.Location.OfCommit():
		return f.Path + ".git/commits/" + f.Commit + "/" + f.Location.Part()
	case f.Location.OfTag():
		return f.Path + ".git/tags/" + f.Tag + "/" + f.Location.Part()
	case f.Location == InRef:
		// A submodule's ref comes with its folder first: lib/refs/...
		i := 0
		if !strings.HasPrefix(f.Path, "refs/") {
			i = strings.Index(f.Path, "/refs/") + 1 // 0 when there is none
		}
		return f.Path[:i] + ".git/" + f.Path[i:]
	}
	return f.Path
}

// Reach says how a finding's commit (or tag, or blob) can be reached.
type Reach string

// The reaches, from the most shared to the least.
const (
	// ReachRefs: a ref or HEAD reaches it; every clone may carry it.
	ReachRefs Reach = "refs"
	// ReachReflog: only a reflog entry reaches it (an amended or reset
	// commit, an old stash entry). It stays until the reflog expires
	// (90 days by default) and is not pushed or cloned, but a copy of
	// the .git folder carries it.
	ReachReflog Reach = "reflog"
	// ReachNothing: only the object database holds it, until git gc
	// prunes it (two weeks after it became unreachable, by default).
	ReachNothing Reach = "nothing"
)

// Exposure says where a key found in a history went, for a person judging
// the damage: which refs hold it (a remote-tracking ref means it was
// pushed), whether each tip still has it, and how many commits carry it.
// A commit carries a key when its tree holds the key in any file (for a
// key found in a file) or its message holds it (for a key found in a
// commit message).
type Exposure struct {
	// ReachableFrom says what reaches the finding's commit: refs, only a
	// reflog, or nothing.
	ReachableFrom Reach
	// Commits counts the commits reachable from a ref or HEAD that carry
	// the key.
	Commits int
	// LastCommit is the newest commit of the main line (the first-parent
	// history of HEAD) that carries the key: HEAD itself while the key is
	// still there. Empty when the main line never carried it.
	LastCommit string
	// Pushed is true when a remote-tracking branch's history carries the
	// key: it was pushed, or came from the remote.
	Pushed bool
	// Refs are the refs whose history carries the key, branches first,
	// then remote-tracking branches, tags and the rest, each by name; at
	// most MaxExposureRefs of them. RefCount is how many there are in all.
	Refs     []RefExposure
	RefCount int
}

// MaxExposureRefs bounds Exposure.Refs: a mirror with thousands of
// pull-request refs would otherwise repeat them in every finding.
const MaxExposureRefs = 100

// RefExposure is one ref whose history carries a key.
type RefExposure struct {
	Name string // the full name: refs/heads/main, refs/remotes/origin/main, refs/tags/v1.0
	// ContainsCommit is true when the finding's own commit is in the ref's
	// history. A ref may carry the key without it: a cherry-picked or
	// amended copy of the commit, the key added again.
	ContainsCommit bool
	// InTip is true when the commit the ref points at carries the key: the
	// key is still there.
	InTip bool
	// LastCommit is the newest commit of the ref's first-parent history
	// that carries the key; the tip when InTip. Empty when the key is only
	// on a merged side branch.
	LastCommit string
}

// Kind says what the ref is, from its name: "branch", "remote-tracking",
// "tag", "stash", "notes" or "other" (refs/pull/..., refs/changes/...).
func (r RefExposure) Kind() string {
	switch {
	case strings.HasPrefix(r.Name, "refs/heads/"):
		return "branch"
	case strings.HasPrefix(r.Name, "refs/remotes/"):
		return "remote-tracking"
	case strings.HasPrefix(r.Name, "refs/tags/"):
		return "tag"
	case r.Name == "refs/stash":
		return "stash"
	case strings.HasPrefix(r.Name, "refs/notes/"):
		return "notes"
	}
	return "other"
}

// Short is the ref's name as people write it: main, origin/main, v1.0.
func (r RefExposure) Short() string {
	for _, p := range []string{"refs/heads/", "refs/remotes/", "refs/tags/"} {
		if s, ok := strings.CutPrefix(r.Name, p); ok {
			return s
		}
	}
	return r.Name
}
