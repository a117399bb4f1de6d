package ghaction

import "errors"

// The kinds of Error, for errors.Is. Each is a reason the range cannot be
// computed; the Error's Message and Hint say more.
var (
	// ErrShallowClone: the commits the range needs are cut off by a shallow
	// clone (actions/checkout's default fetch-depth: 1).
	ErrShallowClone = errors.New("the clone is shallow")
	// ErrPartialClone: the clone was made with a filter (actions/checkout's
	// filter input), so blobs of the commits to scan may be missing.
	ErrPartialClone = errors.New("the clone is partial")
	// ErrMissingCommit: a commit the range needs is not in a full clone.
	ErrMissingCommit = errors.New("a commit is not in the clone")
	// ErrEvent: the event file is missing, unreadable, not JSON, too large,
	// or lacks what the event needs.
	ErrEvent = errors.New("the event cannot be used")
	// ErrBadValue: a commit name, ref or revision from the event or the
	// inputs is not well-formed (a leading '-', white space, control
	// characters, not 40 or 64 hexadecimal digits). It is never passed on.
	ErrBadValue = errors.New("a malformed value")
	// ErrUnsupported: a request the action does not support, such as the
	// symmetric difference A...B.
	ErrUnsupported = errors.New("not supported")
	// ErrNotRepository: the folder is missing or is not a git repository.
	ErrNotRepository = errors.New("not a git repository")
	// ErrGit: git failed in a way none of the above explains.
	ErrGit = errors.New("git failed")
)

// Error is a range that cannot be computed: what happened (Message, which
// Error returns) and what the user should do about it (Hint).
type Error struct {
	Kind    error  // one of the Err* values above
	Message string // what happened, lower case, no final period
	Hint    string // what to do; may be empty
	Commit  string // the commit that is missing, when one is
	Err     error  // the cause, when there is one (git's own message, a JSON error)
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the Kind and the cause, so that errors.Is(err,
// ErrShallowClone) and errors.As on the cause both work.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// fetchHint is the advice for a clone that lacks history.
const fetchHint = "set fetch-depth: 0 on actions/checkout so the clone has the history the scan needs (or fetch the commits before this step, e.g. git fetch --unshallow)"
