package reporters

import (
	"fmt"
	"strings"

	"github.com/loftyscan/loftyscan/finding"
)

// Places. A key in a file is at its path; a key in a commit's or an
// annotated tag's message has no path. People read where it is in words
// ("message of commit 1a2b3c4"), and the formats that need a file (SARIF's
// artifact location, GitLab's location.file, JUnit's class name, GitHub's
// annotations) get the path finding.Finding.ArtifactPath gives it, under
// .git/, which no tracked file can have. A blob no commit holds keeps its
// path: the one an index names it under, or its hash.

// describePlace says where f is, in words, without its line: "config/.env",
// "the message of commit 1a2b3c4", "the headers of tag v1.0". It is
// sanitized.
func describePlace(f finding.Finding) string {
	s := f.Shown()
	in := ""
	if s.Path != "" {
		in = " in " + s.Path
	}
	switch {
	case f.Location.OfCommit():
		return "the " + f.Location.Part() + " of commit " + shortCommit(f.Commit) + in
	case f.Location.OfTag():
		return "the " + f.Location.Part() + " of tag " + s.Tag + in
	case f.Location == finding.InPath:
		return "the file or folder name " + s.Path
	case f.Location == finding.InRef:
		return "the name of ref " + s.Path
	}
	return s.Path
}

// placeLine is where f is, with its line and column: "config/.env:2:15",
// "message of commit 1a2b3c4, line 3, column 1", "file or folder name
// tmp/eyJ…, column 5" (a name's line only past its first). It is
// sanitized.
func placeLine(f finding.Finding) string {
	switch {
	case f.Location == finding.InFile:
		return fmt.Sprintf("%s:%d:%d", f.Shown().Path, f.Line, f.Column)
	case (f.Location == finding.InPath || f.Location == finding.InRef) && f.Line == 1:
		return fmt.Sprintf("%s, column %d", strings.TrimPrefix(describePlace(f), "the "), f.Column)
	}
	return fmt.Sprintf("%s, line %d, column %d", strings.TrimPrefix(describePlace(f), "the "), f.Line, f.Column)
}

// describeReach says in words what reaches a finding no ref reaches, or ""
// when a ref does.
func describeReach(f finding.Finding) string {
	reach := finding.ReachRefs
	if f.Exposure != nil {
		reach = f.Exposure.ReachableFrom
	}
	switch {
	case reach == finding.ReachReflog:
		return "only a reflog (an amended or reset commit, an old stash): it is not pushed or cloned, but every copy of this .git folder has it until the reflog expires"
	case reach == finding.ReachNothing, f.Unreachable:
		return "nothing: only the object database keeps it, and every copy of this .git folder, until git gc prunes it"
	}
	return ""
}

// fromGit reports whether f was found in a git repository's history (it
// has the git fields), rather than in a file on disk.
func fromGit(f finding.Finding) bool {
	return f.Commit != "" || f.Location.OfObject() || f.Location == finding.InRef || f.Unreachable || f.Exposure != nil || f.InHead != nil
}
