package gitscan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// rawTree writes a tree of the given bytes as they are, unchecked.
func rawTree(t *testing.T, r *testgit.Repo, data []byte) plumbing.Hash {
	t.Helper()
	out, err := r.Cmd(string(data), nil, "hash-object", "-t", "tree", "-w", "--literally", "--stdin").CombinedOutput()
	if err != nil {
		t.Fatalf("hash-object tree: %v\n%s", err, out)
	}
	return plumbing.NewHash(strings.TrimSpace(string(out)))
}

// rawEntry is one tree entry's bytes, the mode as given (it may not parse).
func rawEntry(mode, name string, h plumbing.Hash) []byte {
	return append([]byte(mode+" "+name+"\x00"), h[:]...)
}

// commitChain commits trees one on the other on refs/heads/main, HEAD on
// it, and returns the commits.
func commitChain(r *testgit.Repo, trees ...plumbing.Hash) []string {
	var out []string
	parent := ""
	for i, tr := range trees {
		var ps []string
		if parent != "" {
			ps = []string{parent}
		}
		parent = r.CommitTree(tr.String(), ps, testgit.Epoch.Unix()+int64(i)*60, fmt.Sprint("commit ", i))
		out = append(out, parent)
	}
	r.Git("update-ref", "refs/heads/main", parent)
	r.Git("symbolic-ref", "HEAD", "refs/heads/main")
	return out
}

// TestExposureCarryMalformedCommonEntry checks an entry that does not
// parse, alike in a tree and its parent's version: counted whole, a tree
// ends at such an entry, so the comparison must not skip it as common and
// compare the entries after it (which the counts never held).
func TestExposureCarryMalformedCommonEntry(t *testing.T) {
	t.Parallel()
	r := testgit.New(t, "")
	out, err := r.Cmd("LOFTY_API_KEY="+gitTestKey("malformed-common")+"\n", nil, "hash-object", "-w", "--stdin").CombinedOutput()
	if err != nil {
		t.Fatalf("hash-object: %v\n%s", err, out)
	}
	key := plumbing.NewHash(strings.TrimSpace(string(out)))
	first := rawEntry("100644", "0", key)
	bad := rawEntry("10x644", "q", key) // not an octal mode
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	commitChain(r,
		rawTree(t, r, cat(first, bad, rawEntry("100644", "a", key))), // holds the key once: the tree ends at bad
		rawTree(t, r, cat(first, bad)),                               // still holds it (0)
		rawTree(t, r, first),                                         // a well-formed tree that holds it
	)
	for _, partial := range []bool{false, true} {
		x := exposerAfterScan(t, repoOf(r), partial)
		if n := checkCarryOracle(t, fmt.Sprint("malformed common entry, paths followed ", partial), x); n == 0 {
			t.Error("no commit carries the key")
		}
	}
}
