package config

import (
	"fmt"
	"strconv"
)

// Ceilings: the highest archive caps a settings file may set. A file can
// lower any cap, and raise one up to its ceiling, but no further: a file
// may come from the repository being scanned, and a cap of 2^62 bytes or a
// ratio check turned off would let a 25 KB zip bomb run for hours. Only the
// flags of the person running the scan (--max-entry-bytes and the rest) go
// past them.
const (
	CeilingEntryBytes int64 = 1 << 30 // 1 GiB of one archive entry (default 256 MiB)
	CeilingTotalBytes int64 = 4 << 30 // 4 GiB of one file's archives (default 1 GiB)
	CeilingRatio      int64 = 1000    // decompressed:compressed (default 200); a file cannot turn the check off
	CeilingEntries          = 1_000_000
	// The depth's ceiling is MaxArchiveDepth, which Parse enforces.
)

// MaxFlagBytes is the largest size a flag accepts (1 TiB): far beyond any
// archive worth opening, and far from overflowing a byte count.
const MaxFlagBytes int64 = 1 << 40

// Clamp lowers the caps of a that are above their ceilings to the
// ceilings, and returns one message for each, naming the file and the flag
// that can go further. A ratio of 0 (the check off) counts as above.
func (a *Archives) Clamp(file string) []string {
	var msgs []string
	clamp := func(key, flag string, v *int64, ceiling int64, show func(int64) string) {
		if v == nil || (*v != 0 || key != "archives.ratio") && *v <= ceiling {
			return
		}
		was := show(*v)
		if *v == 0 {
			was = "0 (no check)"
		}
		msgs = append(msgs, fmt.Sprintf("config %s: %s = %s is above what a settings file may set: using %s (only --%s goes further)", file, key, was, show(ceiling), flag))
		*v = ceiling
	}
	clamp("archives.entry_bytes", "max-entry-bytes", a.EntryBytes, CeilingEntryBytes, FormatSize)
	clamp("archives.total_bytes", "max-total-bytes", a.TotalBytes, CeilingTotalBytes, FormatSize)
	clamp("archives.ratio", "max-ratio", a.Ratio, CeilingRatio, func(n int64) string { return strconv.FormatInt(n, 10) })
	if a.Entries != nil && *a.Entries > CeilingEntries {
		msgs = append(msgs, fmt.Sprintf("config %s: archives.entries = %d is above what a settings file may set: using %d (only --max-entries goes further)", file, *a.Entries, CeilingEntries))
		*a.Entries = CeilingEntries
	}
	return msgs
}

// FormatSize writes a byte count the way ParseSize reads it, in the largest
// binary unit that divides it ("256MiB", "1GiB", "1000B").
func FormatSize(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// SkipsEverything reports whether the matcher skips every file and folder
// at the top of a scan root, so that a scan with it reads nothing: "**",
// "*", "/*" and the like. Such a list is almost always a mistake, or a way
// to switch a scan off, and the CLI says so loudly.
func (m *SkipMatcher) SkipsEverything() bool {
	if m == nil {
		return false
	}
	for _, probe := range []struct {
		path  string
		isDir bool
	}{{"loftyscan-probe.env", false}, {".loftyscan-probe", false}, {"loftyscan-probe", true}, {".loftyscan-probe", true}} {
		if !m.Match(probe.path, probe.isDir) {
			return false
		}
	}
	return true
}
