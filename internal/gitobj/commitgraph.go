package gitobj

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/loftyscan/loftyscan/internal/nonblock"
)

// Commit-graph files. git keeps, beside the packs, a table of every commit
// it has packed (objects/info/commit-graph, or a chain of layers under
// objects/info/commit-graphs/): its tree, its parents by position in the
// table, its committer time and its generation. A walk of a range reads
// its commits there without inflating a commit object, and orders them by
// generation, which unlike dates never goes backwards from a commit to a
// parent (see gitscan's revision walk). The format:
// https://git-scm.com/docs/commit-graph-format. go-git has a reader
// (plumbing/format/commitgraph/v2) that reads through io.ReaderAt, a few
// small reads and allocations per commit; this one reads the mapped files
// in place, which BenchmarkCommitGraph measures against it.
//
// Every chunk's size is checked against the file and the commit count, and
// every parent position against the commits the graph holds: a damaged or
// crafted file gives errors (the caller reads the commit object instead),
// never reads out of bounds.

// CommitGraph is an open commit-graph: one file or a chain of layers.
type CommitGraph struct {
	layers []graphLayer // the base first; positions number the commits of all layers in that order
	count  int
	// corrected is set when every layer has generation data (git 2.31 and
	// later write it): Generation is then the corrected commit date.
	corrected bool
	maps      [][]byte
}

// graphLayer is one commit-graph file.
type graphLayer struct {
	base   int // commits in the layers below
	count  int
	fanout [256]uint32
	oids   []byte // count × 20, sorted
	cdat   []byte // count × 36
	gda2   []byte // count × 4, or nil
	gdo2   []byte // 8 bytes each
	edge   []byte // 4 bytes each
}

// GraphCommit is what a commit-graph says of a commit.
type GraphCommit struct {
	Tree    plumbing.Hash
	Parents []int // positions in the graph
	When    int64 // committer time, Unix seconds
	// Generation orders commits: greater than each parent's. It is the
	// corrected commit date (at least When, and at least each parent's
	// plus one) when the graph has one, else the topological level.
	Generation uint64
}

var errBadGraph = errors.New("malformed commit-graph")

const (
	graphParentNone    = 0x70000000
	graphOctopus       = 0x80000000
	graphLastEdge      = 0x80000000
	graphCommitDataLen = hashLen + 16
	maxGraphLayers     = 512 // git gives up at far fewer
)

// OpenCommitGraph opens the commit-graph of the object folder objectsDir:
// objects/info/commit-graph, else the chain under
// objects/info/commit-graphs, as git looks for them. It returns nil when
// there is none or when it does not parse: a walk then reads the commit
// objects, as it would without one.
func OpenCommitGraph(objectsDir string) *CommitGraph {
	info := filepath.Join(objectsDir, "info")
	if g, err := openGraphFiles([]string{filepath.Join(info, "commit-graph")}); err == nil {
		return g
	}
	// A line a layer: a hash and a line break. A bigger chain is not
	// read (one of 256 MiB took 280 MB): the walk reads the commits.
	chain, err := nonblock.ReadRegularMax(filepath.Join(info, "commit-graphs", "commit-graph-chain"), maxGraphLayers*(hashLen*2+2))
	if err != nil {
		return nil
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(chain))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !plumbing.IsHash(line) || len(names) >= maxGraphLayers {
			return nil
		}
		names = append(names, filepath.Join(info, "commit-graphs", "graph-"+line+".graph"))
	}
	if len(names) == 0 {
		return nil
	}
	g, err := openGraphFiles(names)
	if err != nil {
		return nil
	}
	return g
}

// openGraphFiles maps and parses the layers named, the base first.
func openGraphFiles(names []string) (*CommitGraph, error) {
	g := &CommitGraph{corrected: true}
	for i, name := range names {
		b, mapped, err := mapOrRead(name)
		if err != nil {
			g.Close()
			return nil, err
		}
		if mapped {
			g.maps = append(g.maps, b)
		}
		l, err := parseGraphLayer(b, i, g.count)
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if l.gda2 == nil {
			g.corrected = false
		}
		g.layers = append(g.layers, l)
		g.count += l.count
	}
	return g, nil
}

// parseGraphLayer checks a commit-graph file's header and chunk table and
// returns its tables, which point into b. layer is its place in a chain,
// which must be its count of base graphs; base is how many commits the
// layers below hold.
func parseGraphLayer(b []byte, layer, base int) (graphLayer, error) {
	l := graphLayer{base: base}
	if len(b) < 8+hashLen || string(b[:4]) != "CGPH" || b[4] != 1 || b[5] != 1 {
		return l, fmt.Errorf("%w: not a version 1 SHA-1 commit-graph", errBadGraph)
	}
	chunks := int(b[6])
	if int(b[7]) != layer {
		return l, fmt.Errorf("%w: %d base graphs where the chain has %d", errBadGraph, b[7], layer)
	}
	table := 8
	end := len(b) - hashLen // the checksum
	if table+(chunks+1)*12 > end {
		return l, fmt.Errorf("%w: chunk table past the end", errBadGraph)
	}
	var oidf []byte
	for i := range chunks {
		e := b[table+12*i:]
		id := string(e[:4])
		start := binary.BigEndian.Uint64(e[4:12])
		stop := binary.BigEndian.Uint64(e[16:24])
		if start < uint64(table+(chunks+1)*12) || stop < start || stop > uint64(end) {
			return l, fmt.Errorf("%w: chunk %q at %d-%d outside the file", errBadGraph, id, start, stop)
		}
		data := b[start:stop]
		switch id {
		case "OIDF":
			oidf = data
		case "OIDL":
			l.oids = data
		case "CDAT":
			l.cdat = data
		case "GDA2":
			l.gda2 = data
		case "GDO2":
			l.gdo2 = data
		case "EDGE":
			l.edge = data
		}
	}
	if len(oidf) != 256*4 {
		return l, fmt.Errorf("%w: no fan-out table", errBadGraph)
	}
	prev := uint32(0)
	for i := range l.fanout {
		v := binary.BigEndian.Uint32(oidf[4*i:])
		if v < prev {
			return l, fmt.Errorf("%w: fan-out table not sorted", errBadGraph)
		}
		l.fanout[i], prev = v, v
	}
	l.count = int(l.fanout[255])
	if len(l.oids) != l.count*hashLen || len(l.cdat) != l.count*graphCommitDataLen {
		return l, fmt.Errorf("%w: tables do not hold %d commits", errBadGraph, l.count)
	}
	if l.gda2 != nil && len(l.gda2) != l.count*4 {
		l.gda2 = nil // unusable: walk without corrected dates
	}
	return l, nil
}

// Close unmaps the files.
func (g *CommitGraph) Close() {
	if g == nil {
		return
	}
	for _, m := range g.maps {
		unmapFile(m)
	}
	g.maps, g.layers = nil, nil
}

// Count returns how many commits the graph holds.
func (g *CommitGraph) Count() int { return g.count }

// HasCorrectedDates reports whether Generation is the corrected commit
// date, which bounds the committer time of every ancestor from above.
func (g *CommitGraph) HasCorrectedDates() bool { return g.corrected }

// Find returns the position of commit h in the graph.
func (g *CommitGraph) Find(h plumbing.Hash) (int, bool) {
	for i := len(g.layers) - 1; i >= 0; i-- {
		l := &g.layers[i]
		if pos := searchNames(&l.fanout, l.oids, h[:]); pos >= 0 {
			return l.base + pos, true
		}
	}
	return 0, false
}

// layer returns the layer that holds position pos, and pos in it.
func (g *CommitGraph) layer(pos int) (*graphLayer, int, bool) {
	if pos < 0 || pos >= g.count {
		return nil, 0, false
	}
	for i := len(g.layers) - 1; i >= 0; i-- {
		if l := &g.layers[i]; pos >= l.base {
			return l, pos - l.base, true
		}
	}
	return nil, 0, false
}

// Hash returns the name of the commit at pos.
func (g *CommitGraph) Hash(pos int) (plumbing.Hash, bool) {
	var h plumbing.Hash
	l, i, ok := g.layer(pos)
	if !ok {
		return h, false
	}
	copy(h[:], l.oids[i*hashLen:])
	return h, true
}

// Commit returns what the graph says of the commit at pos. Its parents
// are appended to parents[:0].
func (g *CommitGraph) Commit(pos int, parents []int) (GraphCommit, error) {
	var c GraphCommit
	l, i, ok := g.layer(pos)
	if !ok {
		return c, fmt.Errorf("%w: no commit at position %d", errBadGraph, pos)
	}
	d := l.cdat[i*graphCommitDataLen : (i+1)*graphCommitDataLen]
	copy(c.Tree[:], d[:hashLen])
	p1 := binary.BigEndian.Uint32(d[hashLen:])
	p2 := binary.BigEndian.Uint32(d[hashLen+4:])
	hi := binary.BigEndian.Uint32(d[hashLen+8:])
	lo := binary.BigEndian.Uint32(d[hashLen+12:])
	c.When = int64(hi&3)<<32 | int64(lo)
	c.Parents = parents[:0]
	if p1 != graphParentNone {
		c.Parents = append(c.Parents, int(p1))
	}
	switch {
	case p2 == graphParentNone:
	case p2&graphOctopus == 0:
		c.Parents = append(c.Parents, int(p2))
	default:
		// The other parents are in the extra edge list, the last marked.
		for k := int(p2 &^ graphOctopus); ; k++ {
			if (k+1)*4 > len(l.edge) || len(c.Parents) > 1<<16 {
				return c, fmt.Errorf("%w: extra edge list overrun at %d", errBadGraph, k)
			}
			e := binary.BigEndian.Uint32(l.edge[4*k:])
			c.Parents = append(c.Parents, int(e&^graphLastEdge))
			if e&graphLastEdge != 0 {
				break
			}
		}
	}
	c.Parents = firstOfEach(c.Parents) // as ParseCommit reads the commit
	for _, p := range c.Parents {
		if p >= g.count {
			return c, fmt.Errorf("%w: parent position %d of %d commits", errBadGraph, p, g.count)
		}
	}
	if !g.corrected {
		c.Generation = uint64(hi >> 2)
		return c, nil
	}
	off := binary.BigEndian.Uint32(l.gda2[4*i:])
	if off&0x80000000 != 0 {
		k := int(off &^ 0x80000000)
		if (k+1)*8 > len(l.gdo2) {
			return c, fmt.Errorf("%w: generation overflow entry %d missing", errBadGraph, k)
		}
		c.Generation = uint64(c.When) + binary.BigEndian.Uint64(l.gdo2[8*k:])
	} else {
		c.Generation = uint64(c.When) + uint64(off)
	}
	return c, nil
}
