package gitscan

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/finding"
)

// Exposure: where each key went (finding.Exposure). It is worked out after
// the scan, for the keys found only: a scan that finds nothing does none
// of it. The commits every ref reaches are loaded (those the scan selected
// are reused), each commit is asked whether it carries each key found (its
// tree holds a blob with the key, or its message holds the key), and the
// answers flow from parents to children, so that each ref knows which
// keys its history carries and which finding commits it contains.
//
// Which blobs hold a key is known for every blob the scan read. A scan of
// everything read every blob, and the trees of every commit are walked to
// find them. A scan of a range or of some refs read only the blobs its
// commits introduced: only the paths keys were found at are followed, and
// the versions of those files the scan did not read are read now (a key
// moved to another file outside the range is not followed, and messages
// outside the range are not read). That keeps a pre-push hook that found
// a key quick: it walks no tree but the folders on those paths.

// maxExposureDepth bounds the folders followed into when a tree is asked
// whether it holds a key: git itself refuses trees deeper than 2048
// (core.maxTreeDepth).
const maxExposureDepth = 4096

// expose sets the Exposure of each finding. partial says whether the scan
// read fewer blobs than the refs hold (see watch).
func (a *attributor) expose(ctx context.Context, fs []finding.Finding, partial bool) {
	if len(fs) == 0 || ctx.Err() != nil {
		return
	}
	var early *earlyExposure
	if a.gs.walk != nil {
		early = a.gs.walk.early
	}
	x := early.exposer(fs, partial)
	if x == nil {
		if early != nil {
			a.gs.walk.early = nil // not used: its graph and counts go before exposure makes its own
		}
		if x = newExposer(a, fs); x == nil {
			return
		}
		x.partialScan = partial
		x.loadGraph(ctx)
	}
	x.findCarriers(ctx)
	x.flow()
	// The findings of one key one after the other: lastOnLine works out
	// each key's lines once.
	order := make([]int, len(fs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(keyID(fs[i]), keyID(fs[j])) })
	for _, i := range order {
		if fs[i].Location == finding.InPath || fs[i].Exposure != nil {
			// The name of an archive's entry: where a name went is not
			// counted, as for the names of trees (nameFindings). A blob a
			// ref holds with no commit between has its exposure already
			// (orphanFindings).
			continue
		}
		fs[i].Exposure = x.exposureOf(&fs[i])
		if fs[i].Exposure.ReachableFrom == finding.ReachNothing {
			fs[i].Unreachable = true
		}
	}
}

// exposer holds the work of expose.
type exposer struct {
	a           *attributor
	partialScan bool // the scan did not read every blob (see watch)

	keys    map[string]int        // bit of each key: "f"+fingerprint for files, "m" or "h" for commit messages or headers (keyID)
	commits map[plumbing.Hash]int // bit of each finding's commit
	sets    bitsets

	graph *refGraph // the commits of the refs, parents first
	carry []int32   // the keys each commit carries
	anc   []int32   // the keys its history carries
	finds []int32   // the finding commits its history contains
	count []int     // by key bit: the commits that carry it

	refs []refTip
	head plumbing.Hash

	lineKey int     // the key last holds the lines of; -1: none yet
	last    []int32 // by commit: the newest carrier of lineKey on its first-parent line, or -1

	blobBits map[plumbing.Hash]int32 // the file keys of each blob with findings
	watched  map[string]bool         // paths whose other versions are read now (partial scans)
	dirs     map[string]bool         // the folders on the way to watched paths
}

// refTip is a ref and the commit it points at.
type refTip struct {
	name   string // full name, redacted for reports
	commit plumbing.Hash
	tags   []plumbing.Hash // the annotated tags on the way, for tag messages
}

// treeAt is a tree at a path: the memo key for folders on watched paths.
type treeAt struct {
	tree plumbing.Hash
	dir  string
}

func newExposer(a *attributor, fs []finding.Finding) *exposer {
	x := emptyExposer(a)
	if !x.add(fs) {
		return nil
	}
	return x
}

func emptyExposer(a *attributor) *exposer {
	x := &exposer{a: a, keys: map[string]int{}, commits: map[plumbing.Hash]int{}, lineKey: -1}
	x.sets.init()
	return x
}

// add gives the keys and commits of fs their bits, and reports whether any
// finding is in a commit or unreachable (else there is nothing to expose).
func (x *exposer) add(fs []finding.Finding) bool {
	any := false
	for _, f := range fs {
		if k := keyID(f); k != "" {
			if _, ok := x.keys[k]; !ok {
				x.keys[k] = len(x.keys)
			}
		}
		if f.Commit != "" && !f.Location.OfTag() {
			h := plumbing.NewHash(f.Commit)
			if _, ok := x.commits[h]; !ok {
				x.commits[h] = len(x.commits)
			}
		}
		any = any || f.Commit != "" || f.Unreachable
	}
	return any
}

// keyID names the key of a finding in the exposer's bit sets: files,
// commit messages and commit headers are carried differently, a tag's text
// not by commits.
func keyID(f finding.Finding) string {
	switch f.Location {
	case finding.InFile:
		return "f" + f.Fingerprint
	case finding.InCommitMessage:
		return "m" + f.Fingerprint
	case finding.InCommitHeader:
		return "h" + f.Fingerprint
	}
	return ""
}

// loadGraph loads the commits the refs and HEAD reach, reusing those the
// scan loaded, and lists the refs.
func (x *exposer) loadGraph(ctx context.Context) {
	g := x.a.g
	x.refs = g.refTips()
	var tips []plumbing.Hash
	for _, t := range x.refs {
		if !t.commit.IsZero() {
			tips = append(tips, t.commit)
		}
	}
	if h, err := g.head(); err == nil && !h.IsZero() {
		x.head = h
		tips = append(tips, h)
	}
	x.graph = loadRefGraph(ctx, g, x.a.sel, tips)
	if c := x.graph.refused; c != nil {
		g.refuseOctopus(x.a.r, c.hash, len(c.parents), x.graph.err)
	}
}

// firstParent is the place of commit i's first parent in the graph, or
// -1 when it has none there.
func (x *exposer) firstParent(i int) int { return int(x.graph.firstParent(i)) }

// parentsOf lists the places of commit i's parents in the graph.
func (x *exposer) parentsOf(i int) []int32 { return x.graph.parents(i) }

// refTips lists the refs that point at commits or annotated tags (not the
// symbolic ones, such as refs/remotes/origin/HEAD), with the commit each
// reaches.
func (g *gitRepo) refTips() []refTip {
	refs, _ := g.listedRefs() // those it could list
	var out []refTip
	seen := map[plumbing.Hash]refTip{} // by target: many refs may share one
	for _, ref := range refs {
		name := finding.RedactText(finding.ValidPath(ref.Name().String()))
		if t, ok := seen[ref.Hash()]; ok {
			t.name = name
			out = append(out, t)
			continue
		}
		t := refTip{name: name}
		h := ref.Hash()
		for range maxTagChain {
			tag, err := g.decodeTag(h)
			if err != nil {
				break
			}
			t.tags = append(t.tags, h)
			h = tag.Target
		}
		if c, err := g.peelToCommit(h); err == nil {
			t.commit = c
		}
		seen[ref.Hash()] = t
		out = append(out, t)
	}
	return out
}

// findCarriers works out which keys each commit of the graph carries.
func (x *exposer) findCarriers(ctx context.Context) {
	x.blobFileKeys()
	x.watch()
	msgs := x.messageKeys()
	if x.carry == nil {
		x.carry = x.commitCounts(ctx)
	}
	// By position, in the graph's order: a commit's name is in the pack
	// index, and reading every commit's there costs a cache miss each.
	type placed struct {
		i    int
		keys int32
	}
	at := make([]placed, 0, len(msgs))
	for h, m := range msgs {
		if i, ok := x.graph.find(h); ok {
			at = append(at, placed{i, m})
		}
	}
	slices.SortFunc(at, func(a, b placed) int { return cmp.Compare(a.i, b.i) })
	for _, p := range at {
		x.carry[p.i] = x.sets.union(x.carry[p.i], p.keys)
	}
}

// blobFileKeys maps each blob with findings to the file keys in it.
func (x *exposer) blobFileKeys() {
	x.blobBits = x.foundBits()
}

// foundBits maps each blob with findings so far to the file keys in it.
func (x *exposer) foundBits() map[plumbing.Hash]int32 {
	gs := x.a.gs
	gs.mu.Lock()
	defer gs.mu.Unlock()
	bits := make(map[plumbing.Hash]int32, len(gs.found))
	for h, fs := range gs.found {
		bits[h] = x.fileBits(fs)
	}
	return bits
}

// fileBits is the set of the file keys among the findings of one blob.
func (x *exposer) fileBits(fs []finding.Finding) int32 {
	var bits []int
	for _, f := range fs {
		if b, ok := x.keys["f"+f.Fingerprint]; ok {
			bits = append(bits, b)
		}
	}
	return x.sets.of(bits...)
}

// watch lists the paths whose versions the scan may not have read: those
// of the file findings, in a scan that did not read every blob.
func (x *exposer) watch() {
	if !x.partial() {
		return
	}
	x.watched, x.dirs = map[string]bool{}, map[string]bool{"": true}
	x.a.gs.mu.Lock()
	found := maps.Clone(x.a.gs.found)
	x.a.gs.mu.Unlock()
	for h, fs := range found {
		o, ok := x.a.gs.origin(h)
		if !ok || o.commit < 0 || len(fs) == 0 {
			continue
		}
		x.watched[o.path] = true
		for dir := o.path; ; {
			i := strings.LastIndexByte(dir, '/')
			if i < 0 {
				break
			}
			dir = dir[:i]
			x.dirs[dir+"/"] = true
		}
	}
}

// partial reports whether the scan read fewer blobs than the refs hold: a
// range, some refs, --since or --skip.
func (x *exposer) partial() bool { return x.partialScan }

// messageKeys maps each commit whose message or headers hold keys to those
// keys.
func (x *exposer) messageKeys() map[plumbing.Hash]int32 {
	gs := x.a.gs
	gs.mu.Lock()
	defer gs.mu.Unlock()
	out := map[plumbing.Hash]int32{}
	for k, fs := range gs.messages {
		if !k.loc.OfCommit() {
			continue
		}
		var bits []int
		for _, f := range fs {
			if b, ok := x.keys[keyID(f)]; ok {
				bits = append(bits, b)
			}
		}
		if len(bits) > 0 {
			out[k.obj] = x.sets.of(bits...)
		}
	}
	return out
}

// keysFrame is a folder wholeCounts is in: its entries not yet read and
// the counts of those read. A frame dropped to stay under treesHeld is
// read again, from skip.
type keysFrame struct {
	h          plumbing.Hash
	rest       []byte
	size, skip int
	depth      int
	dropped    bool
	c          keyCounts
}

// watchedBlob returns the file keys of blob h at a watched path, reading
// it when the scan did not.
func (x *exposer) watchedBlob(ctx context.Context, h plumbing.Hash, p string) int32 {
	if s, ok := x.blobBits[h]; ok {
		return s
	}
	x.a.fingerprints(ctx, h, p, true)
	x.a.gs.mu.Lock()
	s := x.fileBits(x.a.gs.found[h])
	x.a.gs.mu.Unlock()
	x.blobBits[h] = s
	return s
}

// flow works out, for each commit, the keys its history carries and the
// finding commits it contains, parents first, and counts the carriers.
func (x *exposer) flow() {
	n := x.graph.len()
	x.anc, x.finds = make([]int32, n), make([]int32, n)
	x.count = make([]int, len(x.keys))
	bitAt := make(map[int]int, len(x.commits)) // the finding commits' bits by position
	for h, b := range x.commits {
		if i, ok := x.graph.find(h); ok {
			bitAt[i] = b
		}
	}
	for i := range x.graph.len() {
		anc := x.carry[i]
		var finds int32
		if b, ok := bitAt[i]; ok {
			finds = x.sets.of(b)
		}
		for _, j := range x.parentsOf(i) {
			anc = x.sets.union(anc, x.anc[j])
			finds = x.sets.union(finds, x.finds[j])
		}
		x.anc[i], x.finds[i] = anc, finds
		for _, b := range x.sets.members(x.carry[i]) {
			x.count[b]++
		}
	}
}

// exposureOf says where the key of f went.
func (x *exposer) exposureOf(f *finding.Finding) *finding.Exposure {
	e := &finding.Exposure{ReachableFrom: finding.ReachRefs, Refs: []finding.RefExposure{}}
	if f.Location.OfTag() {
		return x.tagExposure(f, e)
	}
	if f.Commit == "" {
		e.ReachableFrom = finding.ReachNothing
		return e
	}
	commit := plumbing.NewHash(f.Commit)
	if _, ok := x.graph.find(commit); !ok {
		e.ReachableFrom = x.reachOf(commit)
	}
	key, ok := x.keys[keyID(*f)]
	if !ok {
		return e
	}
	e.Commits = x.count[key]
	cbit := x.commits[commit]
	var refs []finding.RefExposure
	for _, t := range x.refs {
		i, ok := x.graph.find(t.commit)
		if !ok || !x.sets.has(x.anc[i], key) {
			continue
		}
		refs = append(refs, finding.RefExposure{
			Name:           t.name,
			ContainsCommit: x.sets.has(x.finds[i], cbit),
			InTip:          x.sets.has(x.carry[i], key),
			LastCommit:     x.lastOnLine(t.commit, key),
		})
	}
	if !x.head.IsZero() {
		e.LastCommit = x.lastOnLine(x.head, key)
	}
	return x.listRefs(e, refs)
}

// listRefs puts refs in the report's order and bounds them.
func (x *exposer) listRefs(e *finding.Exposure, refs []finding.RefExposure) *finding.Exposure {
	rank := map[string]int{"branch": 0, "remote-tracking": 1, "tag": 2}
	slices.SortFunc(refs, func(a, b finding.RefExposure) int {
		ra, ok := rank[a.Kind()]
		if !ok {
			ra = 3
		}
		rb, ok := rank[b.Kind()]
		if !ok {
			rb = 3
		}
		return cmp.Or(cmp.Compare(ra, rb), cmp.Compare(a.Name, b.Name))
	})
	for _, r := range refs {
		if r.Kind() == "remote-tracking" {
			e.Pushed = true
		}
	}
	e.RefCount = len(refs)
	if len(refs) > finding.MaxExposureRefs {
		refs = refs[:finding.MaxExposureRefs]
	}
	e.Refs = refs
	return e
}

// lastOnLine returns the newest commit of the first-parent history of tip
// that carries key, or "" when none does. The answers for every commit
// are worked out at once for a key, parents first (a ref's line may be
// hundreds of thousands of commits long, and a repository may have
// thousands of tags on it), and kept for the next call with that key.
func (x *exposer) lastOnLine(tip plumbing.Hash, key int) string {
	i, ok := x.graph.find(tip)
	if !ok {
		return ""
	}
	if x.lineKey != key {
		x.lineKey = key
		x.last = slices.Grow(x.last[:0], x.graph.len())[:x.graph.len()]
		for k := range x.last {
			switch p := x.firstParent(k); {
			case !x.sets.has(x.anc[k], key):
				x.last[k] = -1 // no commit behind it carries the key
			case x.sets.has(x.carry[k], key):
				x.last[k] = int32(k)
			case p >= 0 && p < k:
				x.last[k] = x.last[p]
			default:
				x.last[k] = -1
			}
		}
	}
	if l := x.last[i]; l >= 0 {
		return x.graph.hash(int(l)).String()
	}
	return ""
}

// reachOf says what reaches a commit no ref reaches: the selection knows
// for a scan of everything; else a reflog, or nothing.
func (x *exposer) reachOf(h plumbing.Hash) finding.Reach {
	for _, c := range x.a.sel.commits[x.firstHidden():] {
		if x.a.sel.hash(&c) == h {
			return c.reach.reach()
		}
	}
	for _, t := range x.a.g.reflogTips() {
		if t == h {
			return finding.ReachReflog
		}
	}
	return finding.ReachNothing
}

// firstHidden is the index of the first selected commit no ref reaches:
// walkHidden puts them last.
func (x *exposer) firstHidden() int {
	cs := x.a.sel.commits
	return sort.Search(len(cs), func(i int) bool { return cs[i].reach != reachRefs })
}

// tagExposure is the exposure of a key in an annotated tag's message: the
// refs that reach the tag object.
func (x *exposer) tagExposure(f *finding.Finding, e *finding.Exposure) *finding.Exposure {
	if f.Unreachable {
		e.ReachableFrom = finding.ReachNothing
		return e
	}
	var refs []finding.RefExposure
	for _, t := range x.refs {
		for _, tag := range t.tags {
			if x.tagHolds(tag, f) {
				refs = append(refs, finding.RefExposure{Name: t.name, InTip: true})
				break
			}
		}
	}
	return x.listRefs(e, refs)
}

// tagHolds reports whether tag object h holds f's key where f has it (its
// message or its headers).
func (x *exposer) tagHolds(h plumbing.Hash, f *finding.Finding) bool {
	x.a.gs.mu.Lock()
	defer x.a.gs.mu.Unlock()
	for _, mf := range x.a.gs.messages[msgKey{f.Location, h}] {
		if mf.Fingerprint == f.Fingerprint {
			return true
		}
	}
	return false
}
