package gitobj

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// TestParseTree compares the tree parser with go-git's decoder on every
// tree of a repository, and on damaged trees.
func TestParseTree(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	r.Write("a b/c.txt", "c")
	r.Write("x.sh", "x")
	r.Write("sub/deep/y", "y")
	r.Git("update-index", "--add", "--chmod=+x", "x.sh")
	r.Commit("trees")
	s := Open(filepath.Join(gitDir(r), "objects"), nil)
	defer s.Close()
	rd := s.Reader(0)
	trees := 0
	for _, h := range allObjects(t, r) {
		typ, data, err := rd.Read(h)
		if err != nil || typ != plumbing.TreeObject {
			continue
		}
		trees++
		obj := &plumbing.MemoryObject{}
		obj.SetType(plumbing.TreeObject)
		obj.Write(data)
		var want object.Tree
		if err := want.Decode(obj); err != nil {
			t.Fatal(err)
		}
		var got []object.TreeEntry
		if err := ParseTree(data, func(name []byte, mode filemode.FileMode, h plumbing.Hash) {
			got = append(got, object.TreeEntry{Name: string(name), Mode: mode, Hash: h})
		}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want.Entries) {
			t.Errorf("tree %s: %v, go-git %v", h, got, want.Entries)
		}
	}
	if trees < 4 {
		t.Errorf("%d trees read", trees)
	}
	for _, bad := range []string{"100644 a", "100644 a\x00short", "1006448 a\x00" + strings.Repeat("x", 20), "10x644 a\x00" + strings.Repeat("x", 20), " a\x00" + strings.Repeat("x", 20)} {
		if err := ParseTree([]byte(bad), func([]byte, filemode.FileMode, plumbing.Hash) {}); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if err := ParseTree(nil, nil); err != nil {
		t.Errorf("the empty tree: %v", err)
	}
}

// keepFirst is firstOfEach written plainly: s without the elements an
// earlier one equals.
func keepFirst[T comparable](s []T) []T {
	var out []T
	for i, v := range s {
		if !slices.Contains(s[:i], v) {
			out = append(out, v)
		}
	}
	return out
}

// TestFirstOfEach checks firstOfEach against keepFirst on slices of every
// length up to past its map's threshold, with few and many distinct
// values.
func TestFirstOfEach(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 40 {
		for _, distinct := range []int{1, 2, 3, 8, 64} {
			s := make([]int, n)
			for i := range s {
				s[i] = rng.IntN(distinct)
			}
			want := keepFirst(s)
			if got := firstOfEach(slices.Clone(s)); !slices.Equal(got, want) {
				t.Errorf("firstOfEach(%v) = %v, want %v", s, got, want)
			}
		}
	}
}

// TestParseCommit compares the walk's commit parser with go-git's
// decoder on well-formed and odd commits; a parent named again is kept
// once (go-git keeps every line).
func TestParseCommit(t *testing.T) {
	t.Parallel()
	const (
		tree = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
		p1   = "parent 1111111111111111111111111111111111111111\n"
		p2   = "parent 2222222222222222222222222222222222222222\n"
		au   = "author Ada Author <ada@example.com> 1700000000 +0100\n"
		co   = "committer Cy Committer <cy@example.com> 1700000600 -0230\n"
		sig  = "gpgsig -----BEGIN PGP SIGNATURE-----\n \n abc\n -----END PGP SIGNATURE-----\n"
	)
	for _, body := range []string{
		tree + p1 + au + co + "\nsubject\n\nbody\n",
		tree + p1 + p2 + au + co + sig + "\nmerge\n",
		tree + p1 + p1 + au + co + "\none parent twice\n",
		tree + p1 + p2 + p1 + p2 + p2 + au + co + "\ntwo parents, repeated\n",
		tree + strings.Repeat(p2+p1, 20) + au + co + "\nforty parents, two of them\n",
		tree + au + co + "\n",
		tree + co + "\nno author\n",
		tree + au + "\nno committer\n",
		tree + co + au + "\nswapped\n",
		tree + au + p1 + co + "\nparent out of place\n",
		tree + p1 + "committer Cy <cy@example.com>\n\nno time\n",
		tree + p1 + "committer Cy <cy@example.com> notatime +0000\n\nbad time\n",
		tree + p1 + "committer Cy cy@example.com 1700000000 +0000\n\nno brackets\n",
		tree + "parent 123\n" + co + "\nbad parent\n",
		p1 + tree + co + "\ntree not first\n",
		"\n" + tree,
		"",
		tree,
		tree + p1,
		"tree 4b825dc642cb6eb9a060e54bf8d69288fbee490\n" + co + "\nshort tree\n",
	} {
		obj := &plumbing.MemoryObject{}
		obj.SetType(plumbing.CommitObject)
		obj.Write([]byte(body))
		want, werr := object.DecodeCommit(nil, obj)
		got, gerr := ParseCommit([]byte(body))
		if tree, err := CommitTree([]byte(body)); tree != got.Tree || fmt.Sprint(err) != fmt.Sprint(gerr) {
			t.Errorf("%q: CommitTree %s %v, ParseCommit %s %v", body, tree, err, got.Tree, gerr)
		}
		if (werr != nil) != (gerr != nil) {
			t.Errorf("%q: error %v, go-git %v", body, gerr, werr)
			continue
		}
		if werr != nil {
			continue
		}
		if got.Tree != want.TreeHash || !slices.Equal(got.Parents, keepFirst(want.ParentHashes)) || !got.When.Equal(want.Committer.When) {
			t.Errorf("%q: tree %s parents %v when %v; go-git %s %v %v", body, got.Tree, got.Parents, got.When, want.TreeHash, want.ParentHashes, want.Committer.When)
		}
	}
}

// TestSignatureTimeAsGit checks the committer dates read where go-git's
// reading differs from git's: git skips any blanks after the '>' and
// ignores what follows the digits; git 2.39 reads "-1" and numbers past
// 2^64 as far in the future, which MaxWhen stands for.
func TestSignatureTimeAsGit(t *testing.T) {
	t.Parallel()
	for line, want := range map[string]int64{
		"Cy <c@x> 1700000000 +0000":              1700000000,
		"Cy <c@x>  1700000000 +0000":             1700000000,
		"Cy <c@x>\t1700000000 +0000":             1700000000,
		"Cy <c@x> \t1700000000 +0000":            1700000000,
		"Cy <c@x>1700000000 +0000":               1700000000,
		"Cy <c@x> 1700000000abc +0000":           1700000000,
		"Cy <c@x> 1700000000 +0000 >":            1700000000, // git 2.39: from the first '>'
		"Cy <c@x> 5 +0000 > 1700000000":          1700000000, // later git: from the last
		"Cy <c@x> +1700000000 +0000":             1700000000,
		"Cy <c@x> -1 +0000":                      MaxWhen,
		"Cy <c@x> -0 +0000":                      0,
		"Cy <c@x> 0 +0000":                       0,
		"Cy <c@x> 9223372036854775807 +0000":     MaxWhen,
		"Cy <c@x> 18446744073709551615 +0000":    MaxWhen,
		"Cy <c@x> 99999999999999999999999 +0000": MaxWhen,
		"Cy <c@x> 4611686018427387903 +0000":     MaxWhen - 1,
	} {
		got := signatureTime([]byte(line))
		if got.Unix() != want {
			t.Errorf("%q: %d, want %d", line, got.Unix(), want)
		}
		if want == MaxWhen && !got.After(time.Now().AddDate(1000, 0, 0)) {
			t.Errorf("%q: %v does not compare as after now", line, got)
		}
	}
	for _, line := range []string{"Cy <c@x>", "Cy <c@x> abc +0000", "Cy c@x 1700000000 +0000", "Cy <c@x> - +0000"} {
		if got := signatureTime([]byte(line)); !got.IsZero() {
			t.Errorf("%q: %v, want the zero time", line, got)
		}
	}
}

// TestCanonMode checks the modes tree entries are read with: git's
// canon_mode, what 'git ls-tree' prints for them.
func TestCanonMode(t *testing.T) {
	t.Parallel()
	for m, want := range map[uint32]filemode.FileMode{
		0o100644: filemode.Regular, 0o100600: filemode.Regular, 0o100000: filemode.Regular, 0o100664: filemode.Regular,
		0o100755: filemode.Executable, 0o100777: filemode.Executable, 0o107777: filemode.Executable, 0o100100: filemode.Executable,
		0o120000: filemode.Symlink, 0o120777: filemode.Symlink,
		0o040000: filemode.Dir, 0o040755: filemode.Dir, 0o041777: filemode.Dir,
		0o160000: filemode.Submodule, 0o160644: filemode.Submodule, 0: filemode.Submodule, 0o777: filemode.Submodule, 0o060000: filemode.Submodule,
	} {
		if got := CanonMode(m); got != want {
			t.Errorf("%o: %v, want %v", m, got, want)
		}
	}
}
