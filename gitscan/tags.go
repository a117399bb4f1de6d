package gitscan

import (
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/gitobj"
)

// tagSet is the annotated tags whose messages a scan reports, and what a
// report says of each: its name (a ref's, else its own), its tagger, the
// commit it tags, and whether a ref reaches it.
type tagSet struct {
	all      bool                   // every tag of the object database (a scan of everything)
	selected map[plumbing.Hash]bool // else these: the tags the refs given name
	since    time.Time              // tags made before it are left out
	names    map[plumbing.Hash]string
	cache    map[plumbing.Hash]tagInfo
}

// tagInfo is what a report says of an annotated tag.
type tagInfo struct {
	name, tagger, email, subject string
	date                         time.Time
	commit                       string // the commit it tags, peeled; "" for a tag of a tree or blob
	unreachable                  bool   // no ref reaches it
}

// newTagSet lists the tags of set, and the refs that reach each annotated
// tag: refs/tags/ first, then the others, by name.
func (g *gitRepo) newTagSet(set revSet) *tagSet {
	t := &tagSet{all: set.all, since: set.since, names: map[plumbing.Hash]string{}, cache: map[plumbing.Hash]tagInfo{}}
	if !set.all {
		t.selected = map[plumbing.Hash]bool{}
		for _, h := range set.tags {
			t.selected[h] = true
		}
	}
	refs, _ := g.listedRefs() // those it could list
	var names []plumbing.ReferenceName
	hashes := map[plumbing.ReferenceName]plumbing.Hash{}
	for _, ref := range refs {
		names = append(names, ref.Name())
		hashes[ref.Name()] = ref.Hash()
	}
	slices.SortFunc(names, func(a, b plumbing.ReferenceName) int {
		at, bt := a.IsTag(), b.IsTag()
		switch {
		case at && !bt:
			return -1
		case bt && !at:
			return 1
		}
		return strings.Compare(a.String(), b.String())
	})
	for _, n := range names {
		h := hashes[n]
		for range maxTagChain {
			tag, err := g.decodeTag(h)
			if err != nil {
				break
			}
			if _, ok := t.names[h]; !ok {
				t.names[h] = n.Short()
			}
			h = tag.Target
		}
	}
	return t
}

// info says what a report says of tag object h, and whether the scan
// reports its message.
func (t *tagSet) info(g *gitRepo, h plumbing.Hash) (tagInfo, bool) {
	if t == nil || !t.all && !t.selected[h] {
		return tagInfo{}, false
	}
	if i, ok := t.cache[h]; ok {
		return i, !i.date.Before(t.since)
	}
	tag, err := g.decodeTag(h)
	if err != nil {
		return tagInfo{}, false
	}
	name, reached := t.names[h]
	if !reached {
		name = gitobj.CutText(tag.Name, gitobj.MaxSubject) // the object's own, any length
	}
	subject, _, _ := strings.Cut(strings.TrimLeft(tag.Message, "\n"), "\n")
	i := tagInfo{ // cut as a commit's are: a report shows them for each finding
		name:        name,
		tagger:      gitobj.CutText(tag.Tagger.Name, gitobj.MaxAuthor),
		email:       gitobj.CutText(tag.Tagger.Email, gitobj.MaxAuthor),
		subject:     gitobj.CutText(strings.TrimSpace(subject), gitobj.MaxSubject),
		date:        tag.Tagger.When,
		unreachable: !reached,
	}
	if c, err := g.peelToCommit(tag.Target); err == nil && !c.IsZero() {
		i.commit = c.String()
	}
	t.cache[h] = i
	return i, t.since.IsZero() || !i.date.Before(t.since)
}
