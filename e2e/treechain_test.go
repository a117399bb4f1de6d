//go:build linux

package e2e

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/testgit"
)

// A chain of trees nested chainDepth deep, each of chainWidth files (a
// megabyte of entries) and the next folder: every tree but the deepest is
// a delta of 48 bytes against the deepest, so the pack takes a megabyte
// and claims 400. Three walks of the scan once held every tree on their
// path (the history walk, exposure's, and the walk of whole trees, which
// kept those it read again past their end): a peak of over 800 MiB. Each
// now holds 32 MiB of trees on its way and reads the others again (about
// 230 MiB at the peak), and the key at the bottom is still found.
const (
	chainDepth = 400
	chainWidth = 30_000
	// maxChainRSS is under what any one of the three walks holding its
	// whole path would take (over 500 MiB), above what the scan takes with
	// none doing so.
	maxChainRSS = 384 << 20
)

func TestHostileTreeChain(t *testing.T) {
	if testing.Short() || raceBuild {
		t.Skip("claims 400 MB of trees: runs without -race and -short (.ci/run's step for big tests)")
	}
	r, key, _ := ordinaryRepo(t)
	deepKey := gitKey("chain")
	top := wideTreeChain(t, r, looseBlob(t, r, "LOFTY_API_KEY="+deepKey+"\n"), looseBlob(t, r, "x\n"))
	msg := filepath.Join(t.TempDir(), "msg")
	os.WriteFile(msg, []byte("a chain of wide trees\n"), 0o644)
	r.CommitOnHead(top, msg)

	m := runMeasured(t, t.TempDir(), "git", "--format", "json", r.Dir)
	t.Logf("peak RSS %d MiB, CPU %s, exit %d", m.peak>>20, m.cpu, m.code)
	if m.killed != "" {
		t.Fatalf("%s; stderr: %.500s", m.killed, m.stderr)
	}
	if m.peak > maxChainRSS {
		t.Errorf("peak RSS %d MiB, over %d MiB", m.peak>>20, maxChainRSS>>20)
	}
	if m.code != 1 {
		t.Errorf("exit %d, want 1; stderr: %.1000s", m.code, m.stderr)
	}
	deepPath := strings.Repeat("d/", chainDepth-1) + "a.env"
	for _, s := range []string{key[len(key)-4:], "kept.env", deepKey[len(deepKey)-4:], deepPath} {
		if !strings.Contains(m.stdout, s) {
			t.Errorf("the report lacks %.80q", s)
		}
	}
	if strings.Contains(m.stderr, "warning") {
		t.Errorf("warnings: %.1000s", m.stderr)
	}
}

// wideTreeChain writes, in one pack, trees nested chainDepth deep: the
// deepest holds key as "a.env", each other the next as "d", and each
// chainWidth files that are all filler. It returns the top tree.
func wideTreeChain(t *testing.T, r *testgit.Repo, key, filler plumbing.Hash) plumbing.Hash {
	var files bytes.Buffer
	for i := range chainWidth {
		fmt.Fprintf(&files, "100644 f%05d\x00", i)
		files.Write(filler[:])
	}
	entry := func(mode, name string, h plumbing.Hash) []byte {
		return append([]byte(mode+" "+name+"\x00"), h[:]...)
	}
	deepest := append(entry("100644", "a.env", key), files.Bytes()...)
	tail := len(deepest) - files.Len()
	objs := []testgit.Object{{Type: plumbing.TreeObject, Data: deepest}}
	h := testgit.ObjectName(plumbing.TreeObject, deepest)
	for range chainDepth - 1 {
		head := entry("40000", "d", h)
		data := append(head, files.Bytes()...)
		h = testgit.ObjectName(plumbing.TreeObject, data)
		objs = append(objs, testgit.Object{Type: plumbing.OFSDeltaObject, Base: 0, Name: h,
			Data: treeDelta(len(deepest), len(data), head, tail)})
	}
	testgit.WritePack(t, r.ObjectsDir(), objs)
	return h
}

// treeDelta is a git delta that makes, of a base of baseLen bytes, head
// followed by the base from offset from on (target bytes in all).
func treeDelta(baseLen, target int, head []byte, from int) []byte {
	d := binary.AppendUvarint(nil, uint64(baseLen))
	d = binary.AppendUvarint(d, uint64(target))
	d = append(d, byte(len(head)))
	d = append(d, head...)
	// Copy: offset and size as little-endian bytes, each flagged.
	off, size := uint32(from), uint32(baseLen-from)
	op := byte(0x80)
	var args []byte
	for i := range 4 {
		if b := byte(off >> (8 * i)); b != 0 {
			op |= 1 << i
			args = append(args, b)
		}
	}
	for i := range 3 {
		if b := byte(size >> (8 * i)); b != 0 {
			op |= 0x10 << i
			args = append(args, b)
		}
	}
	return append(append(d, op), args...)
}
