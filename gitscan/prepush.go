package gitscan

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/finding"
	"github.com/loftyscan/loftyscan/scanner"
)

// Pre-push: the commits a push sends, read from what git tells a pre-push
// hook.

// RefUpdate is one line of git's pre-push input: what a push would change
// on the remote.
type RefUpdate struct {
	LocalRef, LocalHash, RemoteRef, RemoteHash string
}

// Deleted reports whether the push deletes the remote ref.
func (u RefUpdate) Deleted() bool { return isZeroID(u.LocalHash) }

// ParsePrePush reads the lines git writes to a pre-push hook's standard
// input, "<local ref> <local sha> <remote ref> <remote sha>", one per ref
// pushed. Blank lines are skipped.
func ParsePrePush(rd io.Reader) ([]RefUpdate, error) {
	var out []RefUpdate
	sc := bufio.NewScanner(rd)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 4 {
			return nil, fmt.Errorf("pre-push input, line %d: want \"<local ref> <local sha> <remote ref> <remote sha>\", got %d fields", n, len(f))
		}
		out = append(out, RefUpdate{LocalRef: f[0], LocalHash: f[1], RemoteRef: f[2], RemoteHash: f[3]})
	}
	return out, sc.Err()
}

// isZeroID reports whether id is git's all-zero object name, which in
// pre-push input means "no such ref": a new branch or a deletion.
func isZeroID(id string) bool {
	return id == "" || strings.Trim(id, "0") == ""
}

// PushRemote is what a pre-push hook knows of where a push goes. The zero
// value knows nothing (a hook installed by an older loftyscan, which does
// not pass git's arguments on).
type PushRemote struct {
	Name string // the remote's name: git's first argument to the hook
	URL  bool   // a push to a URL, not to a named remote
}

// ScanPush scans the commits a push would send, given git's pre-push
// updates: for each updated ref, the commits reachable from its new local
// commit and not from the remote's old one. A new branch (remote sha all
// zeros), or a remote commit this clone does not have, is measured
// against the remote-tracking branches of the remote the push goes to
// (refs/remotes/<name>/): what this clone knows that remote has. Another
// remote's branches say nothing of it: a history pushed to origin, then
// to a new remote, sends its keys there too. A push to a URL, or to a
// remote never fetched, has no remote-tracking branch, and its new
// branches are scanned whole. When to says nothing, every remote-tracking
// branch counts, as before hooks passed it. Deletions send nothing. The
// messages of the commits sent are scanned, and that of an annotated tag
// pushed.
func ScanPush(ctx context.Context, s *scanner.Scanner, repo *Repository, to PushRemote, updates []RefUpdate, sink scanner.Sink) (finding.Stats, error) {
	g, err := repo.open(tuning{})
	if err != nil {
		return finding.Stats{}, err
	}
	defer g.close()
	set := revSet{remote: to.Name, noRemote: to.URL}
	var others []pushedObject // refs set to a tree or a blob (git tag NAME BLOB)
	for _, u := range updates {
		if u.Deleted() {
			continue
		}
		h, err := g.resolve(u.LocalHash)
		if err != nil {
			if o, ok := g.pushedTarget(u); ok {
				others = append(others, o)
				continue
			}
			return finding.Stats{}, err
		}
		set.include = append(set.include, h)
		if u.LocalHash != u.RemoteHash {
			set.tags = append(set.tags, g.tagChain(u.LocalHash)...) // an annotated tag sends its message
		}
		if isZeroID(u.RemoteHash) {
			set.excludeRemotes = true
			continue
		}
		if rh, err := g.resolve(u.RemoteHash); err == nil {
			set.exclude = append(set.exclude, rh)
		} else {
			set.excludeRemotes = true
		}
	}
	var st finding.Stats
	if len(set.include) > 0 {
		if st, err = scanHistory(ctx, s, g, set, sink); err != nil {
			return st, err
		}
	}
	if len(others) > 0 {
		var res PushScan
		g.scanTargets(ctx, s, others, sink, &res)
		st = st.Add(res.Stats)
		if res.Unread > 0 && ctx.Err() == nil {
			return st, fmt.Errorf("%d of the trees and blobs the push sets refs to could not be read (the warnings above say which)", res.Unread)
		}
	}
	return st, nil
}

// pushedTarget is what a pushed ref is set to when it is a tree or a blob
// itself, which the push sends whole (git tag NAME BLOB, then git push):
// it was refused as an unknown revision, and the push could not be made.
// An annotated tag of one is still refused (its message would go
// unscanned), as before.
func (g *gitRepo) pushedTarget(u RefUpdate) (pushedObject, bool) {
	if len(u.LocalHash) != 40 || !plumbing.IsHash(u.LocalHash) {
		return pushedObject{}, false
	}
	target, typ, tags, err := g.peel(plumbing.NewHash(u.LocalHash))
	if err != nil || len(tags) > 0 || (typ != plumbing.BlobObject && typ != plumbing.TreeObject) {
		return pushedObject{}, false
	}
	return pushedObject{ref: u.RemoteRef, hash: target, typ: typ}, true
}
