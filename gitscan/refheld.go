package gitscan

import (
	"context"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/loftyscan/loftyscan/finding"
)

// Objects refs hold with no commit between. A tag can name a blob (git.git's
// junio-gpg-pub holds a public key) and a tag or a ref a tree (Linux's
// v2.6.11-tree): such a blob or tree is fetched, cloned and pushed with the
// ref, yet no commit holds it, so a key in it was reported as in an object
// nothing reaches ("only the object database keeps it"). The scan of a
// whole repository reads it as it reads every object; these say where it
// is, as the pre-receive hook names a pushed ref's tree or blob:
// "refs/tags/t" for a blob, "refs/tags/t:path/in/tree" for a tree's file.

// refHeld is where a ref holds an object with no commit between: the place
// as reports name it, and the ref.
type refHeld struct {
	place, ref string
}

// maxRefHeldEntries bounds the entries of the trees refs hold that are
// walked: nearly no repository has any such tree, and a crafted one of
// millions of entries would hold their names.
const maxRefHeldEntries = 1 << 20

// refHeldObjects walks what refs hold with no commit between, once: each
// blob, and each file or folder name for which keep reports true (the
// names that hold keys), by hash or by name, mapped to where the first ref
// met holds it. A tree that cannot be read is passed over: its objects
// stay where the scan found them.
func (g *gitRepo) refHeldObjects(ctx context.Context, keep func(name []byte) bool) (blobs map[plumbing.Hash]refHeld, names map[string]refHeld) {
	blobs, names = map[plumbing.Hash]refHeld{}, map[string]refHeld{}
	refs, _ := g.listedRefs()
	entries := 0
	seen := map[plumbing.Hash]bool{}
	for _, ref := range refs {
		if ctx.Err() != nil || entries >= maxRefHeldEntries {
			break
		}
		name := ref.Name().String()
		target, typ, _, err := g.peel(ref.Hash())
		if err != nil || seen[target] || typ != plumbing.BlobObject && typ != plumbing.TreeObject {
			continue
		}
		seen[target] = true
		switch typ {
		case plumbing.BlobObject:
			blobs[target] = refHeld{finding.ValidPath(name), name}
		case plumbing.TreeObject:
			tw := &treeWalk{g: g, entry: func(dir string, entry []byte, mode filemode.FileMode, h plumbing.Hash) bool {
				entries++
				if entries > maxRefHeldEntries {
					return false
				}
				at := func() refHeld { return refHeld{finding.ValidPath(name + ":" + dir + string(entry)), name} }
				if keep != nil && keep(entry) {
					if _, ok := names[string(entry)]; !ok {
						names[string(entry)] = at()
					}
				}
				if seen[h] {
					return false
				}
				seen[h] = true
				if mode.IsFile() {
					blobs[h] = at()
				}
				return mode == filemode.Dir
			}, broken: func(string, plumbing.Hash, error) {}}
			tw.walk(ctx, target, "")
		}
	}
	return blobs, names
}
