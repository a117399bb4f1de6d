package finding

// Notice is something about a scan as a whole that a reviewer must see in
// the report itself, not only in the log: the scanned change edits the
// scanner's own settings, or the settings skip every path. Unlike a
// Warning, it says nothing went wrong while reading; it says the result
// needs a second look. Every format lists the notices.
type Notice struct {
	Kind    string // one of the Notice* kinds
	Path    string // the file it is about, slash-separated from the top of the repository; may be empty
	Message string // what it means, lowercase, no token in it
}

// The kinds of notices.
const (
	// NoticeSettingsChanged: the scanned change adds, edits or removes a
	// file that decides what loftyscan reports (.loftyscan.toml,
	// .loftyscanignore, or a file named by --config, --ignore-file or
	// --baseline). The scan did not use the change's version.
	NoticeSettingsChanged = "settings-changed"
	// NoticeSkipEverything: the skip list in force matches every path, so
	// the scan read nothing.
	NoticeSkipEverything = "skip-everything"
)

// SuppressedInlineInChange is Finding.Suppressed for a key that the scanned
// change adds (a range, a push, the staged commit) on a line that carries
// the rules.AllowMarker comment: it does not count, but it is new, so every
// report lists it for the reviewer, unlike an allow in a scan of files or of
// a whole history.
const SuppressedInlineInChange = SuppressedInline + ", added by the scanned change"
