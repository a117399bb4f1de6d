package scanner

// gzipSuffixes are the file-name endings stripped to name what a gzip
// file holds, as compressors lists them for the other formats.
var gzipSuffixes = [][2]string{{".tgz", ".tar"}, {".gz", ""}}

// InnerName names what the compressed file at path p holds when its
// header gives no name, as a scan of a folder names it: p's base name
// without the compressor's suffix ("a/b.env.xz!b.env", "c.tgz!c.tar", a
// file with no such suffix holds its own name). head is the file's first
// bytes, which tell the format. It reports false when head is not the
// start of a gzip, bzip2, xz, zstd or LZ4 stream.
//
// A source that scans content under a label rather than its path (a git
// blob under its hash, scanned before the walk of the trees names it)
// renames what was found inside with it once the path is known, so that
// a file is named the same in a folder and in a history.
func InnerName(p string, head []byte) (string, bool) {
	switch k := sniff(head); k {
	case gzipKind:
		return innerName(p, gzipSuffixes), true
	case bzip2Kind, xzKind, zstdKind, lz4Kind, mozLz4Kind, gitLooseKind:
		return innerName(p, compressors[k].suffixes), true
	}
	return "", false
}
