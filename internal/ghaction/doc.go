// Package ghaction works out which commits a GitHub Actions job should
// scan, from the event that started the workflow, and writes the workflow
// commands (annotations, stop-commands) that report on it.
//
// # Brief overview
//
// Compute reads the event ($GITHUB_EVENT_NAME and the JSON file at
// $GITHUB_EVENT_PATH, described by Env) and the action's inputs (Inputs),
// asks the repository what it needs through the small Git interface (GitCLI
// runs the git command, which a runner always has), and returns a Result:
// the commits to scan as include and exclude lists of full commit names,
// which go straight into the scanner's GitOptions (Refs and Exclude), plus
// notes for the log and warnings for annotations. When the range cannot be
// computed it returns an *Error whose Kind says why (a shallow clone, a
// missing commit, a bad event, a hostile value, an unsupported request)
// and whose Hint says what to do.
//
//	pull_request, pull_request_target   merge-base(base.sha, head.sha)..head.sha
//	merge_group                         merge-base(base_sha, head_sha)..head_sha
//	push                                before..after; a new branch or tag, or a
//	                                    force-push whose old commit is gone: the
//	                                    commits the default branch lacks (all
//	                                    for the default branch itself); a
//	                                    deletion: nothing
//	anything else                       every ref
//
// Every commit name and ref name that comes from the event is checked
// (40 or 64 hexadecimal digits; a well-formed full ref name) before git
// sees it, and git is always run without a shell, with --end-of-options
// before revisions.
//
// Annotation and StopCommands render workflow commands with GitHub's
// escaping rules, so that text taken from scanned data can never start a
// command of its own.
package ghaction
