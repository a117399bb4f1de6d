package remediate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/gitscan"
)

// Options are the choices of the person asking for the plan.
type Options struct {
	// PlanDir is where the plan folder is made: a new folder, mode 0700,
	// for the replacements file, the blob callback, the backup and the work
	// clones. It must exist and be outside the repository. Empty: the
	// system's temporary folder.
	PlanDir string
	// Dir is a plan folder MakePlanDir made, which BuildPlan fills and the
	// caller removes if it delivers no plan. Empty: BuildPlan makes one in
	// PlanDir and removes it if it fails.
	Dir string
	// Blobs reads files of commits, to locate keys stored as base64.
	// Nil: git cat-file in the repository.
	Blobs BlobReader
	// Loftyscan is the command the check step runs; "loftyscan" when empty.
	Loftyscan string
}

// Plan is what a person does to get rid of leaked keys: revoke each one,
// rewrite history without them, and check that nothing is left. Its
// strings are as found (paths, refs, subjects), but for any form of its
// keys they held, which is replaced (see hider): renderers escape and
// redact them. It holds no secret; the keys are in ReplacementsFile only.
type Plan struct {
	Repo             string // the repository, as commands name it
	Dir              string // the plan folder
	ReplacementsFile string // the keys in full, mode 0600: never print it
	CallbackFile     string // the blob callback, which reads ReplacementsFile
	// MessageCallbackFile is the message callback: it sets the bits a
	// base64 form's next character holds, as the blob callback does.
	MessageCallbackFile string
	Keys                []KeyPlan
	RewriteNotes        []string     // how the keys are matched and replaced
	Rewrite             []Step       // in order
	Manual              []ManualStep // occurrences the rewrite does not reach
	Unreachable         []string     // what no rewrite reaches
	Check               []Step
	Cleanup             Step // once the checks are clean
}

// KeyPlan is one key to revoke, in the order to revoke them: live keys
// first, expired and rejected ones last.
type KeyPlan struct {
	Fingerprint        string
	Redacted           string // the first 10 and last 4 characters
	Subject            string
	ExpiresAt          time.Time
	Status             string
	Verification       string
	VerificationReason string
	Urgency            string // what to do, and how urgently
	Occurrences        []Occurrence
	Refs               []Ref // the refs that contain its occurrences
	Replacement        string
}

// Step is one step of the plan: what it does, why, and its commands.
type Step struct {
	Title    string
	Notes    []string
	Commands []Command
}

// Command is one command line. Args is the program and its arguments, as
// run (a renderer quotes them for a shell); Pipe, when set, is a second
// command fed the first one's output. Expect says what success looks like.
type Command struct {
	Args   []string
	Pipe   []string
	Expect string
}

// ManualStep is an occurrence the replacements cannot reach, and what to do
// about it.
type ManualStep struct {
	Key        string // fingerprint prefix
	Occurrence Occurrence
	Why        string
	Do         string
	// Command removes (or renames) the file in every commit, when that is
	// the way: the rewrite steps run it in each repository they rewrite,
	// with git -C, before they push.
	Command *Command
}

// Revocation page in Lofty, where a key is deleted.
const revokeWhere = "Lofty: Settings → Integrations → API, signed in as the key's account: delete the key, create a new one if it is still needed, and keep the new one out of the repository (a secret manager or CI variable)"

// BuildPlan writes the replacements file and the blob callback into the
// plan folder and returns the plan. It reads the blobs of base64
// occurrences (to locate them) and nothing else of the repository; it runs
// no command of the plan.
//
// A plan folder it made is removed if it fails: the replacements file
// holds the keys in full, and no plan points at it.
func BuildPlan(ctx context.Context, keys []Key, facts Facts, opts Options) (*Plan, error) {
	if err := validate(keys); err != nil {
		return nil, err
	}
	if facts.Dir == "" {
		return nil, errors.New("no repository: Facts.Dir is empty")
	}
	if opts.Dir != "" {
		return fillPlan(ctx, keys, facts, opts, opts.Dir)
	}
	dir, err := MakePlanDir(opts.PlanDir, facts)
	if err != nil {
		return nil, err
	}
	p, err := fillPlan(ctx, keys, facts, opts, dir)
	if err != nil {
		os.RemoveAll(dir)
	}
	return p, err
}

// fillPlan writes the replacements file and the blob callback into dir
// and returns the plan.
func fillPlan(ctx context.Context, keys []Key, facts Facts, opts Options, dir string) (*Plan, error) {
	blobs := opts.Blobs
	if blobs == nil {
		blobs = GitBlobs{GitDir: facts.GitDir}
	}
	p := &Plan{
		Repo:                facts.Dir,
		Dir:                 dir,
		ReplacementsFile:    filepath.Join(dir, "replacements.txt"),
		CallbackFile:        filepath.Join(dir, "blob-callback.py"),
		MessageCallbackFile: filepath.Join(dir, "message-callback.py"),
	}
	keys = storedPaths(ctx, blobs, keys)
	h := newHider(keys)
	var rs ruleSet
	var deferred []form // the keys' forms, after every located segment
	var cuts []cut
	for _, k := range keys {
		for _, o := range k.Occurrences {
			m, seg := placeOccurrence(ctx, blobs, facts.GitDir, k, o)
			if m != nil {
				p.Manual = append(p.Manual, *m)
			}
			if seg != nil {
				rs.addSegment(*seg)
			}
		}
		deferred = append(deferred, keyForms(k.Secret, k.Fingerprint)...)
		cuts = append(cuts, keyCuts(k.Secret, k.Fingerprint)...)
		p.Keys = append(p.Keys, keyPlan(k, facts))
	}
	for _, f := range deferred {
		rs.addLiteral(f)
	}
	if err := p.addNameSteps(ctx, blobs, keys, h); err != nil {
		return nil, fmt.Errorf("writing a paths file: %w", err)
	}
	for i := range p.Manual {
		if err := p.usePathsFile(&p.Manual[i], i+1, h); err != nil {
			return nil, fmt.Errorf("writing a paths file: %w", err)
		}
	}
	slices.SortStableFunc(p.Keys, func(a, b KeyPlan) int {
		return cmp.Or(cmp.Compare(urgencyRank(a), urgencyRank(b)), strings.Compare(a.Fingerprint, b.Fingerprint))
	})
	if err := writePrivate(p.ReplacementsFile, rs.bytes()); err != nil {
		return nil, fmt.Errorf("writing the replacements file: %w", err)
	}
	if err := writePrivate(p.CallbackFile, blobCallback(p.ReplacementsFile, cuts)); err != nil {
		return nil, fmt.Errorf("writing the blob callback: %w", err)
	}
	if err := writePrivate(p.MessageCallbackFile, messageCallback(cuts)); err != nil {
		return nil, fmt.Errorf("writing the message callback: %w", err)
	}
	p.RewriteNotes = []string{
		"The replacements file holds each key in every form loftyscan decodes: plain, UTF-16, hex, and base64 of the key or of its UTF-16 text at each of base64's three alignments, in both alphabets, wherever it is; and base64 wrapped across lines inside a key and keys written in pieces (string literals joined, a continued line), exactly as stored where the scan found them. Never print it or copy it into the repository.",
		"--replace-text applies it to files, --replace-message to commit and tag messages, and the blob callback to the files --replace-text skips (a zero byte in their first 8 KiB: UTF-16 text, databases, compiled files). In base64, the character after a key's last bits holds 2 or 4 of them: the blob and message callbacks give it the replacement's bits (they hold no key).",
		"Each key becomes ***REMOVED-LOFTY-KEY-<first 8 of its fingerprint>*** padded with * to the key's length, so every file keeps its size and layout; every other byte is left as it was.",
		"Rewriting changes the hash of every commit from the first one with a key on: everyone re-clones afterwards.",
	}
	p.Rewrite = rewriteSteps(p, facts, h)
	p.Unreachable = unreachable(facts)
	p.Check, p.Cleanup = checkSteps(p, facts, cmp.Or(opts.Loftyscan, "loftyscan"), h)
	p.hideAll(h)
	return p, nil
}

// byHandInRewrite starts what a step by hand with a command says: the
// rewrite steps run the command in each repository they rewrite, before
// they push (a step printed after them came after the pushes, and a
// second push was refused as stale), and in this repository while origin
// is renamed (filter-repo turns origin's remote-tracking branches into
// local branches and removes the remote, each time it runs).
const byHandInRewrite = "each rewrite step above runs the command that does it in its repository, before any push: "

// byHandCommands are the commands of the steps by hand, run in the
// repository dir (with --force when it is not a fresh clone).
func byHandCommands(p *Plan, dir string, force bool) []Command {
	var out []Command
	for _, m := range p.Manual {
		if m.Command == nil {
			continue
		}
		args := append([]string{"git", "-C", dir}, m.Command.Args[1:]...)
		if force {
			args = append(args, "--force")
		}
		out = append(out, Command{Args: args})
	}
	return out
}

// headersStep is what to do about a key in the header lines of a commit
// or tag, which no replacement reaches. git filter-repo makes each commit
// again with only its author and committer among its headers: a key in a
// mergetag (a merged signed tag), a signature or a tool's own header goes
// with the rewrite, one in an author's or committer's name or email does
// not. git commit --amend keeps every header but the signature.
func headersStep(fp string, o Occurrence) *ManualStep {
	if o.Tag != "" {
		return &ManualStep{
			Key: fp, Occurrence: o,
			Why: "it is in the header lines of the annotated tag (its name as the tag object records it, or its tagger), where the replacements do not reach",
			Do:  "delete the tag (git tag -d, and git push --delete on each remote that has it) and make it again with git tag -a, with a name and a tagger that hold no key",
		}
	}
	return &ManualStep{
		Key: fp, Occurrence: o,
		Why: "it is in the header lines of the commit (its author or committer, or a header such as the mergetag a merge of a signed tag writes), where the replacements do not reach",
		Do:  "the rewrite above makes each commit again with only its author and committer among its headers, which removes a key in any other header (git commit --amend would keep it); for a key in an author's or committer's name or email, write a mailmap file with a line 'New Name <new@example.com> <the old email>' and run 'git filter-repo --mailmap <that file>' in each repository rewritten above; then check as below",
	}
}

// pathArg is filter-repo's --path option for path, in one argument: a
// path that starts with "-" given as a separate argument is read by
// filter-repo's option parser as an option, and the command fails.
func pathArg(path string) string { return "--path=" + path }

// refStep is the step by hand for a ref whose name holds a key: the
// rewrite changes what commits hold, never the names of refs, and a
// command naming the ref would be printed with the name hidden.
func refStep(fp string, o Occurrence) *ManualStep {
	return &ManualStep{
		Key: fp, Occurrence: o,
		Why: "the name of ref " + o.Ref + " holds the key: everyone who can list the repository's refs sees it, and a rewrite of what commits hold leaves the names of refs as they are",
		Do:  "once the rewrite is done, give the ref a name without the key and delete the old name, here and on every remote it was pushed to: for a branch 'git branch -m OLD NEW' and 'git push REMOTE --delete OLD', for a tag 'git tag NEW OLD', 'git tag -d OLD' and 'git push REMOTE --delete OLD'; this plan prints the name with the key hidden, so find it with 'git for-each-ref' (the check's scan reports it until it is gone); git's reflogs keep the old name in their messages ('branch: renamed …', 'checkout: moving from …'), which no scan reads: then run 'git reflog expire --expire=now --all'",
	}
}

// refTreeStep is the step by hand for a key in a tree a ref holds with no
// commit between (a tag of a tree): filter-repo rewrites commits and the
// tags of commits and blobs, and leaves such a tag as it was.
func refTreeStep(fp string, o Occurrence) *ManualStep {
	return &ManualStep{
		Key: fp, Occurrence: o,
		Why: "ref " + o.Ref + " holds a tree with no commit between, which git filter-repo leaves as it is",
		Do:  "once the rewrite is done, delete the ref here and on every remote it was pushed to ('git tag -d' or 'git update-ref -d', then 'git push REMOTE --delete'), and make it anew, if it is needed, from a tree without the key; this plan prints the ref's name with any key in it hidden: find it with 'git for-each-ref' (the check's scan reports the key until it is gone)",
	}
}

// placeOccurrence decides how an occurrence is rewritten: by the key's
// forms (nothing to return), by a segment located in its blob (base64
// wrapped inside the key, a key written in pieces), or by hand (a
// ManualStep). A base64 occurrence that cannot be located is left to
// the forms, which cover it unless its base64 is wrapped inside the key:
// the check step shows whether they did.
func placeOccurrence(ctx context.Context, blobs BlobReader, gitDir string, k Key, o Occurrence) (*ManualStep, *segment) {
	fp := shortFP(k.Fingerprint)
	switch {
	case o.Ref != "" && o.Path == "":
		return refStep(fp, o), nil
	case o.Ref != "" && strings.Contains(o.Path, ":"):
		return refTreeStep(fp, o), nil
	case o.Ref != "":
		return nil, nil // a tag of a blob: filter-repo rewrites the blob, as the replacements say
	}
	if !o.held() {
		return nil, nil // pruned by the rewrite of this repository
	}
	if o.InMessage {
		return nil, nil // --replace-message, with the plain form
	}
	if o.InHeaders {
		return headersStep(fp, o), nil
	}
	outer, inArchive := fileOf(ctx, blobs, o)
	if oid, ok := lfsPointerAt(ctx, blobs, o.Commit, outer); ok {
		return &ManualStep{
			Key: fp, Occurrence: o,
			Why:     "it is in a file Git LFS stores: git holds only a pointer, and the contents are in " + gitscan.LFSObjectPath(gitDir, oid) + " and on the LFS server, where a text replacement does not reach",
			Do:      byHandInRewrite + "it deletes the file from every commit (add it back without the key if it is needed); then delete " + gitscan.LFSObjectPath(gitDir, oid) + " here, and the object sha256:" + oid + " on the LFS server (GitHub removes it only with the repository, or through GitHub Support; GitLab: remove the repository's orphaned LFS files)",
			Command: &Command{Args: []string{"git", "filter-repo", "--invert-paths", pathArg(outer)}},
		}, nil
	}
	if inArchive {
		return &ManualStep{
			Key: fp, Occurrence: o,
			Why:     "it is inside an archive or compressed file, where a text replacement does not reach",
			Do:      byHandInRewrite + "it deletes the archive from every commit; add it back rebuilt without the key if it is needed",
			Command: &Command{Args: []string{"git", "filter-repo", "--invert-paths", pathArg(outer)}},
		}, nil
	}
	if !handledByForms(o.Encoding) {
		return &ManualStep{
			Key: fp, Occurrence: o,
			Why:     "it is stored as " + o.Encoding + ", which the replacements do not cover",
			Do:      byHandInRewrite + "it deletes the file from every commit; add it back without the key if it is needed",
			Command: &Command{Args: []string{"git", "filter-repo", "--invert-paths", pathArg(o.Path)}},
		}, nil
	}
	if o.Encoding == "" {
		return nil, locatedSplit(ctx, blobs, k, o)
	}
	inner, isB64 := base64Layers(o.Encoding)
	if !isB64 {
		return nil, nil
	}
	rd, err := blobs.ReadBlob(ctx, o.Commit, o.Path)
	if err != nil {
		return nil, nil
	}
	defer rd.Close()
	seg, err := locateBase64(rd, o.Line, o.Column, k.Secret, k.Fingerprint, inner)
	if err != nil {
		return nil, nil
	}
	return nil, &seg
}

// fileLister lists a commit's files as git stores them (GitBlobs does).
type fileLister interface {
	ListFiles(ctx context.Context, commit string) ([]string, error)
}

// storedPaths gives the keys' occurrences their paths as the commits store
// them. A scan reports a path as UTF-8, each byte that is not replaced by
// U+FFFD (finding.ValidPath): a command naming that path names no file,
// and the step by hand for an archive named "latin\xE9.zip" deleted
// nothing. The file of the commit whose path reads so is the one, when
// only one does; otherwise the path is left as reported (the check shows
// what is left).
func storedPaths(ctx context.Context, blobs BlobReader, keys []Key) []Key {
	lister, ok := blobs.(fileLister)
	if !ok {
		return keys
	}
	files := map[string][]string{} // by commit
	// The caller's keys are left as they are.
	keys = slices.Clone(keys)
	for i := range keys {
		k := &keys[i]
		k.Occurrences = slices.Clone(k.Occurrences)
		for j, o := range k.Occurrences {
			if !strings.ContainsRune(o.Path, utf8.RuneError) || o.InMessage || o.InHeaders || !o.held() {
				continue
			}
			list, ok := files[o.Commit]
			if !ok {
				list, _ = lister.ListFiles(ctx, o.Commit)
				files[o.Commit] = list
			}
			stored, n := "", 0
			for _, f := range list {
				if v := finding.ValidPath(f); v != f && (v == o.Path || strings.HasPrefix(o.Path, v+"!")) {
					stored, n = f+o.Path[len(v):], n+1
				}
			}
			if n == 1 {
				k.Occurrences[j].Path = stored
			}
		}
	}
	return keys
}

// addNameSteps adds a step by hand for each file whose name holds a form
// of a key: the replacements rewrite what files hold, never their names,
// so the rewrite would not touch it (the check's scan would find it
// still there). Its command renames the file in every commit, the key
// replaced in its name as in a file, from a paths file of the plan folder
// (mode 0600: the old name holds the key). A file a step by hand deletes
// needs none.
func (p *Plan) addNameSteps(ctx context.Context, blobs BlobReader, keys []Key, h hider) error {
	done := map[string]bool{}
	for _, m := range p.Manual {
		if m.Command != nil {
			if path, ok := strings.CutPrefix(m.Command.Args[len(m.Command.Args)-1], "--path="); ok {
				done[path] = true
			}
		}
	}
	for _, k := range keys {
		for _, o := range k.Occurrences {
			if o.InMessage || o.InHeaders || !o.held() {
				continue
			}
			file, _ := fileOf(ctx, blobs, o)
			if done[file] || !h.holds(file) {
				continue
			}
			done[file] = true
			renamed := h.rewrite(file)
			m := ManualStep{
				Key: shortFP(k.Fingerprint), Occurrence: o,
				Why: "the name of the file " + file + " holds a key, and the replacements rewrite what files hold, never their names (the check's scan would find it still there)",
			}
			if strings.ContainsAny(file, "\r\n") || strings.Contains(file, "==>") {
				m.Do = "rename the file in every commit by hand, in each repository rewritten above (git filter-repo --path-rename), to a name without the key"
				p.Manual = append(p.Manual, m)
				continue
			}
			list := filepath.Join(p.Dir, fmt.Sprintf("rename-%d.txt", len(p.Manual)+1))
			if err := writePrivate(list, []byte("literal:"+file+"==>"+renamed+"\n")); err != nil {
				return err
			}
			m.Do = byHandInRewrite + "it renames the file in every commit to " + renamed + ", the key in its name replaced as in the files (the old name is in the file the command reads)"
			m.Command = &Command{Args: []string{"git", "filter-repo", "--paths-from-file", list}}
			p.Manual = append(p.Manual, m)
		}
	}
	return nil
}

// fileOf is the file of the commit an occurrence is in, and whether the
// occurrence is inside that file (an archive, a compressed file) rather
// than in its text. A scan names a place inside an archive "outer!inner",
// but "!" is also a character of file names: the file "src!x.env" was
// taken for the archive "src", and the step by hand deleted the folder
// src from every commit. So the file is the path itself when the commit
// has a file there, else the shortest part before a "!" that is a file of
// the commit; when the commit cannot be read, the part before the first
// "!", as the scan writes archives.
func fileOf(ctx context.Context, blobs BlobReader, o Occurrence) (string, bool) {
	if !strings.Contains(o.Path, "!") || isFile(ctx, blobs, o.Commit, o.Path) {
		return o.Path, false
	}
	for i := range len(o.Path) {
		if o.Path[i] == '!' && isFile(ctx, blobs, o.Commit, o.Path[:i]) {
			return o.Path[:i], true
		}
	}
	outer, _, _ := strings.Cut(o.Path, "!")
	return outer, true
}

// usePathsFile makes the command of step m, number n, name its path in a
// file of the plan folder (mode 0600) that filter-repo's --paths-from-file
// reads, when the path holds a key-shaped part or a form of a key: the
// plan prints every argument redacted, and a --path=... printed so would
// name no file, so the command would delete nothing. A path that cannot
// be a line of that file (a line break, "==>") keeps its --path, and the
// check shows what is left.
func (p *Plan) usePathsFile(m *ManualStep, n int, h hider) error {
	if m.Command == nil {
		return nil
	}
	args := m.Command.Args
	path, ok := strings.CutPrefix(args[len(args)-1], "--path=")
	if !ok || finding.RedactText(path) == path && !h.holds(path) || strings.ContainsAny(path, "\r\n") || strings.Contains(path, "==>") {
		return nil
	}
	file := filepath.Join(p.Dir, fmt.Sprintf("paths-%d.txt", n))
	if err := writePrivate(file, []byte("literal:"+path+"\n")); err != nil {
		return err
	}
	m.Command.Args = append(slices.Clone(args[:len(args)-1]), "--paths-from-file", file)
	return nil
}

// lfsPointerAt returns the contents a Git LFS pointer at commit:path
// names, or false when the file there is not a pointer (or cannot be read).
func lfsPointerAt(ctx context.Context, blobs BlobReader, commit, path string) (string, bool) {
	rd, err := blobs.ReadBlob(ctx, commit, path)
	if err != nil {
		return "", false
	}
	defer rd.Close()
	head, _ := io.ReadAll(io.LimitReader(rd, lfsPointerRead))
	return gitscan.LFSPointer(head)
}

// lfsPointerRead is one byte past the biggest pointer: a blob that long is
// none.
const lfsPointerRead = 1025

// locatedSplit is the segment of a key written in pieces at o (see
// locateSplit), or nil: a key written whole there is left to the forms,
// as is one that cannot be read back (the check step shows it).
func locatedSplit(ctx context.Context, blobs BlobReader, k Key, o Occurrence) *segment {
	rd, err := blobs.ReadBlob(ctx, o.Commit, o.Path)
	if err != nil {
		return nil
	}
	defer rd.Close()
	seg, ok, err := locateSplit(rd, o.Line, o.Column, k.Secret, k.Fingerprint)
	if err != nil || !ok {
		return nil
	}
	return &seg
}

// handledByForms reports whether keyForms covers an encoding wherever it
// is (base64 only where it is not wrapped inside the key).
func handledByForms(enc string) bool {
	switch enc {
	case "", "utf-16le", "utf-16be", "hex", "base64", "base64/utf-16le", "base64/utf-16be":
		return true
	}
	return false
}

// keyPlan summarises a key for the revoke step.
func keyPlan(k Key, facts Facts) KeyPlan {
	kp := KeyPlan{
		Fingerprint:        k.Fingerprint,
		Redacted:           redactToken(k.Secret),
		Subject:            k.Subject,
		ExpiresAt:          k.ExpiresAt,
		Status:             k.Status,
		Verification:       k.Verification,
		VerificationReason: k.VerificationReason,
		Occurrences:        slices.Clone(k.Occurrences),
		Replacement:        replacementLabel(k.Fingerprint),
	}
	kp.Urgency = urgency(kp)
	commits := map[string]bool{}
	for _, o := range k.Occurrences {
		commits[o.Commit] = true
	}
	for _, r := range facts.Refs {
		if slices.ContainsFunc(r.Contains, func(c string) bool { return commits[c] }) {
			kp.Refs = append(kp.Refs, r)
		}
	}
	return kp
}

// urgency says what to do with a key given what is known about it.
func urgency(k KeyPlan) string {
	switch {
	case k.Verification == "live":
		return "live: revoke now, before anything else (Lofty accepts this key today)"
	case k.Verification == "invalid":
		return "Lofty rejects it (already revoked, or never valid): nothing to revoke; remove it from history all the same"
	case k.Verification == "unknown":
		return "could not be checked (" + cmp.Or(k.VerificationReason, "no answer") + "): treat it as live and revoke it"
	case k.Status == "expired":
		return "expired by its own claims: revoke it all the same if Lofty still lists it"
	}
	return "not checked (loftyscan --verify asks Lofty): treat it as live and revoke it"
}

func urgencyRank(k KeyPlan) int {
	switch {
	case k.Verification == "live":
		return 0
	case k.Verification == "invalid":
		return 3
	case k.Verification == "unknown", k.Status != "expired":
		return 1
	}
	return 2
}

// filterRepoArgs are the options every rewrite runs with: the same file for
// blobs and for commit and tag messages, and the callback for the blobs
// --replace-text skips.
func filterRepoArgs(p *Plan) []string {
	return []string{"filter-repo", "--replace-text", p.ReplacementsFile, "--replace-message", p.ReplacementsFile, "--blob-callback", p.CallbackFile, "--message-callback", p.MessageCallbackFile}
}

// rewriteSteps are the commands that remove the keys: a backup, then each
// remote that holds them through a fresh clone of its own, then this
// repository in place.
func rewriteSteps(p *Plan, facts Facts, h hider) []Step {
	backup := filepath.Join(p.Dir, "backup.git")
	steps := []Step{{
		Title: "Back up the repository as it is",
		Notes: []string{
			"The backup holds the keys: it is deleted with the plan folder at the end.",
			"Ask everyone who pushes to stop until the rewrite is done: a push of the old history brings the keys back.",
		},
		Commands: []Command{{Args: []string{"git", "clone", "--mirror", "--no-local", "--", facts.Dir, backup}}},
	}}
	for i, rem := range remotesToRewrite(facts) {
		steps = append(steps, remoteStep(p, facts, rem, i+1, h))
	}
	steps = append(steps, localStep(p, facts))
	return steps
}

// remoteRewrite is a remote whose history holds keys: the branches known
// to hold them, by the refs that track them here.
type remoteRewrite struct {
	Remote
	branches []remoteBranch
}

// remoteBranch is a branch of a remote: its name there, and the ref that
// tracks it here (refs/remotes/<remote>/<name>, or refs/heads/<name> in a
// mirror), whose hash is what the remote had when this clone last fetched.
type remoteBranch struct {
	name string
	ref  Ref
}

// remotesToRewrite lists the remotes to rewrite: those with a branch that
// contains a key (a remote-tracking branch, or for a mirror clone a branch
// of its own), and, when a tag contains one, every remote (a tag's remote
// is not recorded; a fresh clone of a remote has only that remote's tags,
// so pushing them creates none).
func remotesToRewrite(facts Facts) []remoteRewrite {
	tags := slices.ContainsFunc(facts.Refs, func(r Ref) bool { return r.Kind() == "tag" })
	var out []remoteRewrite
	for _, rem := range facts.Remotes {
		rr := remoteRewrite{Remote: rem}
		prefix := "refs/remotes/" + rem.Name + "/"
		for _, r := range facts.Refs {
			switch {
			case strings.HasPrefix(r.Name, prefix) && r.Name != prefix+"HEAD":
				rr.branches = append(rr.branches, remoteBranch{strings.TrimPrefix(r.Name, prefix), r})
			case rem.Mirror && r.Kind() == "branch":
				rr.branches = append(rr.branches, remoteBranch{r.Short(), r})
			}
		}
		if len(rr.branches) > 0 || tags {
			out = append(out, rr)
		}
	}
	return out
}

// remoteStep rewrites one remote: a fresh bare clone (what filter-repo
// expects), the rewrite, and the force pushes.
func remoteStep(p *Plan, facts Facts, rem remoteRewrite, n int, h hider) Step {
	work := filepath.Join(p.Dir, "work", fmt.Sprintf("%d-%s.git", n, fileSafe(h.hide(rem.Name))))
	fetch := resolveURL(rem.FetchURL, facts.Dir)
	push := resolveURL(cmp.Or(rem.PushURL, rem.FetchURL), facts.Dir)
	st := Step{
		Title: fmt.Sprintf("Rewrite remote %s (%s)", rem.Name, fetch),
		Notes: []string{
			"A fresh bare clone of the remote is rewritten and pushed back: filter-repo wants a fresh clone, and the remote's branches and tags are rewritten as the remote has them, whatever this clone has.",
		},
		Commands: append([]Command{
			{Args: []string{"git", "clone", "--bare", "--no-local", "--", fetch, work}},
			{Args: append([]string{"git", "-C", work}, filterRepoArgs(p)...)},
		}, byHandCommands(p, work, false)...),
	}
	if len(rem.branches) > 0 {
		var names []string
		args := []string{"git", "-C", work, "push"}
		var refs []string
		for _, b := range rem.branches {
			if finding.RedactText(b.name) != b.name || h.holds(b.name) {
				// Printed redacted, the name would match no branch and
				// fail the whole push: left to a step by hand.
				st.Notes = append(st.Notes, "Branch "+b.name+" is not pushed here: its name holds a key-shaped text or a key's encoding, which the plan prints redacted, so a command naming it would name no branch. Its name itself shows the text to whoever can list the remote's branches: revoke it if it is a key, push the branch's rewritten commits under a new name ('git -C WORK-CLONE push REMOTE refs/heads/OLD-NAME:refs/heads/NEW-NAME', WORK-CLONE being the clone above), and delete the old name on the remote and here.")
				continue
			}
			names = append(names, b.name)
			args = append(args, "--force-with-lease=refs/heads/"+b.name+":"+b.ref.Hash)
			refs = append(refs, "refs/heads/"+b.name)
		}
		if len(refs) > 0 {
			args = append(append(args, "--", push), refs...)
			st.Notes = append(st.Notes, "Branches that hold a key: "+strings.Join(names, ", ")+". Each is pushed only if the remote still has the commit this clone last fetched (--force-with-lease); if a push is refused as \"stale info\", someone pushed since: fetch, scan again and make a new plan.")
			st.Commands = append(st.Commands, Command{Args: args})
		}
	} else {
		st.Notes = append(st.Notes, "No branch of this remote is known to hold a key (this clone's remote-tracking branches hold none); its tags may.")
	}
	if tags := refsOfKind(facts, "tag"); len(tags) > 0 {
		st.Notes = append(st.Notes, "Tags that hold a key: "+strings.Join(tags, ", ")+". The clone has only the remote's own tags, so pushing them all rewrites those it has and creates none.")
		st.Commands = append(st.Commands, Command{Args: []string{"git", "-C", work, "push", "--force", "--tags", "--", push}})
	}
	if dir, ok := localRepo(push); ok {
		st.Notes = append(st.Notes, "The remote is a repository on this machine: a force push leaves the old commits in its object store, where a scan of it, anyone who can read its folder and any web view of it still find the keys, until git prunes them (two weeks at the earliest). Once every push above went through, prune them now.")
		st.Commands = append(st.Commands,
			Command{Args: []string{"git", "-C", dir, "reflog", "expire", "--expire=now", "--all"}},
			Command{Args: []string{"git", "-C", dir, "gc", "--prune=now", "--quiet"}},
		)
	}
	return st
}

// localRepo is the folder of a remote URL that names a repository on this
// machine (an absolute path, as resolveURL makes it, or a file:// URL), for
// the commands that prune it.
func localRepo(u string) (string, bool) {
	if p, ok := strings.CutPrefix(u, "file://"); ok {
		u = p
	}
	if !filepath.IsAbs(u) {
		return "", false
	}
	return u, true
}

// localStep rewrites this repository in place: its local branches, tags,
// remote-tracking branches and reflogs hold the keys too.
func localStep(p *Plan, facts Facts) Step {
	st := Step{
		Title: "Rewrite this repository (" + facts.Dir + ")",
		Notes: []string{
			"--force: this is not a fresh clone. filter-repo expires the reflogs, prunes the old objects, and ends with git reset --hard: commit or copy away uncommitted changes first.",
		},
	}
	rewrite := append([]Command{{Args: append([]string{"git", "-C", facts.Dir}, append(filterRepoArgs(p), "--force")...)}},
		byHandCommands(p, facts.Dir, true)...)
	if !slices.ContainsFunc(facts.Remotes, func(r Remote) bool { return r.Name == "origin" }) {
		st.Commands = rewrite
	} else {
		aside := asideName(facts)
		st.Notes = append(st.Notes, "filter-repo turns origin's remote-tracking branches into local branches and removes the origin remote, each time it runs; renaming origin for the rewrite keeps both as they are, and the branches' upstreams. The rewritten commits are the same as the remotes' (filter-repo is deterministic), so a later fetch finds nothing new.")
		st.Commands = append(append([]Command{{Args: []string{"git", "-C", facts.Dir, "remote", "rename", "origin", aside}}}, rewrite...),
			Command{Args: []string{"git", "-C", facts.Dir, "remote", "rename", aside, "origin"}})
	}
	if len(facts.Worktrees) > 0 {
		st.Notes = append(st.Notes, "filter-repo resets only this work tree. Each other work tree of the repository keeps the old files, and its index the old blobs with the keys (a commit there would bring them back): each is reset to its rewritten HEAD, which discards its uncommitted changes (commit or copy them away first), and the blobs its index held are pruned.")
		for _, wt := range facts.Worktrees {
			st.Commands = append(st.Commands, Command{Args: []string{"git", "-C", wt, "reset", "--hard", "--quiet"}})
		}
		st.Commands = append(st.Commands,
			Command{Args: []string{"git", "-C", facts.Dir, "reflog", "expire", "--expire=now", "--all"}},
			Command{Args: []string{"git", "-C", facts.Dir, "gc", "--prune=now", "--quiet"}},
		)
	}
	return st
}

// asideName is a remote name no remote has, for origin during the rewrite.
func asideName(facts Facts) string {
	name := "loftyscan-origin"
	for i := 2; slices.ContainsFunc(facts.Remotes, func(r Remote) bool { return r.Name == name }); i++ {
		name = fmt.Sprintf("loftyscan-origin-%d", i)
	}
	return name
}

// refsOfKind lists the short names of the refs of one kind.
func refsOfKind(facts Facts, kind string) []string {
	var out []string
	for _, r := range facts.Refs {
		if r.Kind() == kind {
			out = append(out, r.Short())
		}
	}
	return out
}

// resolveURL makes a remote's URL usable from any folder: git reads a
// relative path as relative to the repository, the plan's commands run
// wherever the person is. URLs ("scheme://") and scp-like addresses
// ("host:path", no slash before the colon) are left as they are.
func resolveURL(u, repo string) string {
	if u == "" || strings.Contains(u, "://") || filepath.IsAbs(u) {
		return u
	}
	if colon := strings.IndexByte(u, ':'); colon >= 0 {
		if slash := strings.IndexByte(u, '/'); slash < 0 || colon < slash {
			return u
		}
	}
	return filepath.Join(repo, u)
}

// fileSafe makes a remote's name usable as a file name.
func fileSafe(s string) string {
	// Redacted first: with its dots made underscores, a key in a remote's
	// name no longer looks like one to the redaction of the plan's
	// arguments, and was printed whole.
	b := []byte(finding.RedactText(s))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// unreachable lists what a rewrite cannot change, with what to do where
// the remotes' hosts are known.
func unreachable(facts Facts) []string {
	out := []string{
		"Forks and other clones keep the old history: everyone must re-clone (or reset every branch to the rewritten one); a push from an old clone brings the keys back.",
		"Pull-request and merge-request refs (refs/pull/*, refs/merge-requests/*) are read-only on the host and keep the old commits.",
		"The host's caches: commit and file views, compare pages, archive downloads (zip, tar.gz), search indexes, and old commits still reachable by their hash.",
		"CI logs, artifacts, caches and container images built from the old commits; package registries.",
		"Copies outside git: chat, tickets, wikis, backups, the plan folder's backup.",
	}
	for _, sm := range facts.Submodules {
		out = append(out, SubmoduleNote(sm))
	}
	for _, r := range facts.Refs {
		if r.Kind() == "other" && r.Name != "refs/stash" && !strings.HasPrefix(r.Name, "refs/replace/") {
			// The commands quote the name as the plan's commands do: a ref
			// name may hold $(...), backticks and quotes, and a person
			// copies these too.
			out = append(out, "Ref "+r.Name+" holds a key, and no push above sends it (only branches and tags are pushed): on each remote that has it, after the rewrite, push this clone's rewritten one over it (git push --force REMOTE "+shellWord(r.Name)+") or delete it (git push REMOTE "+shellWord(":"+r.Name)+"), REMOTE being the remote's name.")
		}
	}
	hosts := map[string]bool{}
	for _, r := range facts.Remotes {
		u := strings.ToLower(r.FetchURL + " " + r.PushURL)
		hosts["github"] = hosts["github"] || strings.Contains(u, "github")
		hosts["gitlab"] = hosts["gitlab"] || strings.Contains(u, "gitlab")
	}
	if hosts["github"] {
		out = append(out, "GitHub: ask GitHub Support to remove cached views and the pull-request refs that still point at the old commits (see GitHub's \"Removing sensitive data from a repository\"); give them the old commits from filter-repo/commit-map in the work clone.")
	}
	if hosts["gitlab"] {
		out = append(out, "GitLab: Settings → Repository → Repository cleanup, uploading filter-repo/commit-map from the work clone, removes the old commits from GitLab's internal refs and caches; then run housekeeping.")
	}
	if !hosts["github"] && !hosts["gitlab"] {
		out = append(out, "On a hosted service (GitHub, GitLab), ask for cached views to be purged: GitHub Support; GitLab's Repository cleanup with filter-repo/commit-map.")
	}
	for _, r := range facts.Remotes {
		u := cmp.Or(r.PushURL, r.FetchURL)
		low := strings.ToLower(u)
		if _, local := localRepo(resolveURL(u, facts.Dir)); !local && !strings.Contains(low, "github") && !strings.Contains(low, "gitlab") {
			out = append(out, "Remote "+r.Name+" ("+u+"): if it is a server you run (a bare repository over SSH, Gitea, Forgejo), the old commits stay in its object store until it prunes them: once every push went through, run 'git reflog expire --expire=now --all' and 'git gc --prune=now' in its repository on the server.")
		}
	}
	return out
}

// SubmoduleNote says what to do about the submodule at path, whose
// history no plan of the superproject scans or rewrites.
func SubmoduleNote(path string) string {
	return "Submodule " + path + " is a repository of its own: remediate neither scans nor rewrites its history. Scan it with 'loftyscan git --recurse-submodules' here, and if it holds a key, run 'loftyscan remediate' in a clone of the submodule's repository."
}

// checkSteps rescans the rewritten repository, its messages and a fresh
// clone of each rewritten remote; then the plan folder is deleted.
//
// Each scan runs with --fail-on-error: a check that could not read a file
// or object (a damaged archive, an object the rewrite left unreadable)
// has not shown that the key is gone, and exits 2 with a warning naming
// it instead of 0.
func checkSteps(p *Plan, facts Facts, loftyscan string, h hider) ([]Step, Step) {
	clean := "no Lofty keys found (exit code 0)"
	local := Step{
		Title: "Scan the rewritten repository, its commit messages and its tag messages",
		Commands: []Command{
			{Args: []string{loftyscan, "git", "--fail-on-error", facts.Dir}, Expect: clean},
			{Args: []string{"git", "-C", facts.Dir, "log", "--all", "--format=%B"}, Pipe: []string{loftyscan, "stdin", "--fail-on-error", "--path", "commit-messages"}, Expect: clean},
			{Args: []string{"git", "-C", facts.Dir, "for-each-ref", "--format=%(contents)", "refs/tags"}, Pipe: []string{loftyscan, "stdin", "--fail-on-error", "--path", "tag-messages"}, Expect: clean},
		},
		Notes: []string{
			"A scan reports each key once, where it first appeared, and each file once, at one of its paths, so a copy elsewhere in a form the replacements missed (base64 wrapped across lines), or the same archive or file removed by hand above at another path, shows up only now: if anything is found, make a new plan from the rewritten repository and run it too.",
			"Each scan exits 2 with a warning when it could not read a file or object (--fail-on-error): what it could not read may still hold a key, so look at what the warning names (git fsck for an object; a damaged archive may need its own tool) before taking the check as clean.",
		},
	}
	steps := []Step{local}
	for i, rem := range remotesToRewrite(facts) {
		dir := filepath.Join(p.Dir, "check", fmt.Sprintf("%d-%s", i+1, fileSafe(h.hide(rem.Name))))
		steps = append(steps, Step{
			Title: fmt.Sprintf("Scan a fresh clone of remote %s", rem.Name),
			Commands: []Command{
				// The push URL: where the rewrite went.
				{Args: []string{"git", "clone", "--no-local", "--", resolveURL(cmp.Or(rem.PushURL, rem.FetchURL), facts.Dir), dir}},
				{Args: []string{loftyscan, "git", "--fail-on-error", dir}, Expect: clean},
			},
		})
		if local, ok := localRepo(resolveURL(cmp.Or(rem.PushURL, rem.FetchURL), facts.Dir)); ok {
			// Every object it holds, the pruned ones' absence included.
			last := &steps[len(steps)-1]
			last.Commands = append(last.Commands, Command{Args: []string{loftyscan, "git", "--fail-on-error", local}, Expect: clean})
		}
	}
	cleanup := Step{
		Title:    "Delete the plan folder",
		Notes:    []string{"Once every check is clean: the folder holds the replacements file and the backup, both with the keys in full."},
		Commands: []Command{{Args: []string{"rm", "-rf", "--", p.Dir}}},
	}
	return steps, cleanup
}
