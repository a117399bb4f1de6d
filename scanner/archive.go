package scanner

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/loftyscan/loftyscan/finding"
)

// kind is what the first bytes of some content say it is.
type kind int

const (
	plain kind = iota
	zipKind
	gzipKind
	tarKind
	bzip2Kind // bzip2, xz, zstd and LZ4: compress.go
	xzKind
	zstdKind
	lz4Kind
	mozLz4Kind
	arKind       // ar.go
	gitLooseKind // gitloose.go
)

// sniffLen is how many leading bytes decide the kind: a tar header is 512.
const sniffLen = 512

func sniff(head []byte) kind {
	if k := sniffCompressed(head); k != plain {
		return k
	}
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return zipKind
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return gzipKind
	case len(head) >= 262 && bytes.Equal(head[257:262], []byte("ustar")):
		return tarKind
	case bytes.HasPrefix(head, []byte(arMagic)):
		return arKind
	}
	return plain
}

// A zip archive after a launcher: a Python zip application (zipapp, shiv,
// PEX: "#!/usr/bin/env python3", then the archive) or a Spring Boot "fully
// executable" jar (a shell script, then the jar). Python, Java and unzip
// run or read them: the archive's end record, at the file's end, says
// where its directory is, and archive/zip finds where the archive starts
// from it. Only content that starts with "#!" is looked at, at its end.
const (
	maxLauncher = 4 << 20      // the launcher before the archive, at most
	eocdReach   = 22 + 0xffff  // the end record and the longest comment after it
	eocdMagic   = "PK\x05\x06" // the end of central directory record's signature
	localMagic  = "PK\x03\x04" // a local file header's
)

// launcherZip reports whether content that starts with head and that ra
// holds, size bytes, is a zip archive after a launcher, and where the
// archive proper starts and its end record does: the content starts with
// "#!", and the end record, in its last eocdReach bytes, says where the
// central directory is relative to the archive's start, which is then
// where archive/zip takes it to be: after a launcher of at most
// maxLauncher bytes. The launcher, and the end record with its comment
// and what follows it, are text no entry holds (see scanZip).
func launcherZip(head []byte, ra io.ReaderAt, size int64) (base, end int64, ok bool) {
	if !bytes.HasPrefix(head, []byte("#!")) || size < 22 {
		return 0, 0, false
	}
	tail := make([]byte, min(size, eocdReach))
	from := size - int64(len(tail))
	if _, err := ra.ReadAt(tail, from); err != nil && !errors.Is(err, io.EOF) {
		return 0, 0, false
	}
	i := bytes.LastIndex(tail, []byte(eocdMagic))
	if i < 0 || len(tail)-i < 22 {
		return 0, 0, false
	}
	end = from + int64(i)
	dirSize := int64(binary.LittleEndian.Uint32(tail[i+12:]))
	dirOffset := int64(binary.LittleEndian.Uint32(tail[i+16:]))
	base = end - dirSize - dirOffset
	if base == 0 {
		// Offsets from the file's start, as Python's zipfile writes them
		// after a launcher: the launcher ends at the first entry's local
		// header, which the directory's first record names.
		var rec [46]byte
		if _, err := ra.ReadAt(rec[:], dirOffset); err != nil || string(rec[:4]) != "PK\x01\x02" {
			return 0, 0, false
		}
		base = int64(binary.LittleEndian.Uint32(rec[42:]))
	}
	if base <= 0 || base > maxLauncher {
		return 0, 0, false // no launcher, or Zip64's offsets (0xffffffff)
	}
	var magic [4]byte
	if _, err := ra.ReadAt(magic[:], base); err != nil || string(magic[:]) != localMagic {
		return 0, 0, false
	}
	return base, end, true
}

// hasEndRecord reports whether tail, a content's last bytes, holds a zip
// end record.
func hasEndRecord(tail []byte) bool {
	i := bytes.LastIndex(tail, []byte(eocdMagic))
	return i >= 0 && len(tail)-i >= 22
}

// launcherZipData is launcherZip for content held in memory.
func launcherZipData(data []byte) bool {
	if !bytes.HasPrefix(data, []byte("#!")) || !hasEndRecord(data[max(0, len(data)-eocdReach):]) {
		return false // most scripts: no end record
	}
	_, _, ok := launcherZip(data, bytes.NewReader(data), int64(len(data)))
	return ok
}

func (k kind) String() string {
	return [...]string{"plain", "zip", "gzip", "tar", "bzip2", "xz", "zstd", "LZ4", "mozLz4", "ar", "git object"}[k]
}

// scanEntry scans one file, archive entry or stream: it opens archives and
// gzip (up to the depth limit) and streams anything else through the rules.
// ra and size give random access when the content is a file on disk (zip
// needs it); otherwise size is -1. It returns read errors of the content
// itself; problems inside archives are reported as warnings.
func (r *Run) scanEntry(ctx context.Context, st *streamer, rd io.Reader, ra io.ReaderAt, size int64, p string, depth int, b *budget) error {
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(rd, head)
	head = head[:n]
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		if n > 0 && !isContextErr(err) { // what came before a corrupt part is still scanned
			r.scanPlain(ctx, st, bytes.NewReader(head), p)
		}
		return err
	}
	full := io.MultiReader(bytes.NewReader(head), rd)
	k := sniff(head)
	var around zipAround
	if k == plain && ra != nil {
		if base, end, ok := launcherZip(head, ra, size); ok {
			k, around = zipKind, zipAround{base: base, end: end}
		}
	}
	if k == plain {
		r.noteUnopened(p, head)
	}
	if k != plain && depth >= r.opts.Limits.ArchiveDepth {
		if r.opts.Limits.ArchiveDepth > 0 {
			r.Warn(p, "%s archive nested more than %d levels deep: scanned as plain bytes, not opened", k, r.opts.Limits.ArchiveDepth)
		}
		k = plain
	}
	// A file on disk can be read again: if it only looks like an archive
	// and cannot be opened, its raw bytes are scanned instead.
	var raw io.Reader
	if ra != nil && size >= 0 {
		raw = io.NewSectionReader(ra, 0, size)
	}
	switch k {
	case zipKind:
		return r.scanZip(ctx, st, full, ra, size, around, p, depth, b)
	case gzipKind:
		return r.scanGzip(ctx, st, full, raw, p, depth, b)
	case tarKind:
		r.scanTar(ctx, st, full, raw, p, depth+1, b)
		return nil
	case arKind:
		r.scanAr(ctx, st, full, raw, p, depth+1, b)
		return nil
	case bzip2Kind, xzKind, zstdKind, lz4Kind, mozLz4Kind, gitLooseKind:
		return r.scanCompressed(ctx, st, k, full, raw, p, depth, b)
	}
	if raw == nil || !isSQLite(head) {
		return r.scanPlain(ctx, st, full, p)
	}
	r.withSeams(st, r.sqliteSeams(ctx, st, ra, size, p), func(emit func(finding.Finding)) {
		err = r.scanPlainTo(ctx, st, full, p, emit)
	})
	return err
}

// scanPlain streams content through the rules.
func (r *Run) scanPlain(ctx context.Context, st *streamer, rd io.Reader, p string) error {
	return r.scanPlainTo(ctx, st, rd, p, r.emit)
}

// scanPlainTo is scanPlain reporting through emit.
func (r *Run) scanPlainTo(ctx context.Context, st *streamer, rd io.Reader, p string, emit func(finding.Finding)) error {
	r.progress.Files.Add(1)
	read, err := st.scan(ctx, rd, p, emit)
	r.addBytes(st, read)
	return err
}

// zipAround is the text around a zip archive after a launcher (see
// launcherZip): the launcher before base, and from end on the end record,
// its comment and what follows. Zero for any other archive.
type zipAround struct{ base, end int64 }

// scanZip scans each entry of a zip archive, and once it opens, the text
// around it as plain bytes.
func (r *Run) scanZip(ctx context.Context, st *streamer, rd io.Reader, ra io.ReaderAt, size int64, around zipAround, p string, depth int, b *budget) error {
	if ra == nil {
		// Inside another archive or on a pipe: zip needs random access, so
		// hold the archive (hold.go), within the entry cap.
		h, complete, err := holdArchive(rd, r.opts.Limits.EntryBytes, holdShare(r.Workers()))
		defer h.close()
		if !complete {
			// Too big to hold, or cut short by damage: what was read is
			// still scanned, as plain bytes. The caller reports err.
			if err == nil {
				r.Fail(p, "zip archive larger than the %s cap per archive entry: scanned as plain bytes", finding.HumanBytes(r.opts.Limits.EntryBytes))
			}
			r.progress.Files.Add(1)
			read, serr := st.scan(ctx, io.MultiReader(h.section(), rd), p, r.emit)
			r.addBytes(st, read)
			if err != nil {
				return err
			}
			return serr
		}
		ra, size = h.ra, h.size
	}
	view, viewSize, cut := cutCentralDirectory(ra, size, r.opts.Limits.Entries)
	rec := &recordingReaderAt{ReaderAt: view}
	zr, err := zip.NewReader(rec, viewSize)
	if err != nil {
		r.Fail(p, "not a readable zip archive (%v): scanned as plain bytes", err)
		r.progress.Files.Add(1)
		read, err := st.scan(ctx, io.NewSectionReader(ra, 0, size), p, r.emit)
		r.addBytes(st, read)
		return err
	}
	if around.base > 0 {
		if err := r.scanAround(ctx, st, ra, size, around, p); err != nil {
			return err
		}
	}
	zr.RegisterDecompressor(zip.Deflate, newFlateReader)
	zr.RegisterDecompressor(zipBzip2, newBzip2Reader)
	registerZipMethods(ctx, st, zr)
	lzmaLeft := lzmaBudget(viewSize)
	names := &entryNames{}
	for i, f := range zr.File {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if i >= r.opts.Limits.Entries {
			r.Fail(p, "zip archive has more than %d entries: the rest were not scanned", r.opts.Limits.Entries)
			break
		}
		// Only folders are passed over: an entry whose mode says named
		// pipe (zip reading a pipe records one), device or link still
		// holds the bytes unzip writes out (a link's target).
		st.scanEntryNames(p, f.Name, names, r.emit)
		if f.FileInfo().IsDir() {
			continue
		}
		inner := p + "!" + f.Name
		comp := zipDataBytes(f, viewSize)
		r.lzmaFor(ctx, st, zr, f, comp, &lzmaLeft)
		rc, err := st.openZipEntry(f)
		if err != nil {
			r.Fail(inner, "cannot read zip entry: %v", err)
			continue
		}
		cr := r.capped(rc, b, comp, nil)
		err = r.scanEntry(ctx, st, cr, nil, -1, inner, depth+1, b)
		rc.Close()
		r.reportEntryError(inner, "zip entry", cr, err)
		r.scanLocalMethod(ctx, st, rec, f, inner, depth+1, b)
	}
	if cut {
		r.Fail(p, "zip archive has more than %d entries: the rest were not scanned", r.opts.Limits.Entries)
	}
	return nil
}

// scanAround scans the text around a zip archive after a launcher as
// plain bytes, each part where it is in the file: the launcher, then the
// end record, its comment and what follows, whose lines and columns are
// counted from the file's start (the archive's bytes read once more for
// its line breaks).
func (r *Run) scanAround(ctx context.Context, st *streamer, ra io.ReaderAt, size int64, around zipAround, p string) error {
	if err := r.scanPlain(ctx, st, io.NewSectionReader(ra, 0, around.base), p); err != nil {
		return err
	}
	lines, col, err := lineBreaksBefore(ra, around.end)
	if err != nil {
		return err
	}
	return r.scanPlainTo(ctx, st, io.NewSectionReader(ra, around.end, size-around.end), p, func(f finding.Finding) {
		if f.Line == 1 {
			f.Column += col
		}
		f.Line += lines
		r.emit(f)
	})
}

// lineBreaksBefore returns the line feeds in ra's first n bytes and the
// bytes after the last of them.
func lineBreaksBefore(ra io.ReaderAt, n int64) (lines, col int, err error) {
	buf := make([]byte, 64<<10)
	for off := int64(0); off < n; {
		m, err := ra.ReadAt(buf[:min(int64(len(buf)), n-off)], off)
		if m == 0 && err != nil {
			return 0, 0, err
		}
		chunk := buf[:m]
		if k := bytes.Count(chunk, []byte{'\n'}); k > 0 {
			lines += k
			col = len(chunk) - 1 - bytes.LastIndexByte(chunk, '\n')
		} else {
			col += len(chunk)
		}
		off += int64(m)
	}
	return lines, col, nil
}

// scanGzip decompresses a gzip stream and scans what it holds: a tar
// archive (entries named "x.tar.gz!entry") or anything else ("x.gz!x").
// raw, when not nil, rereads the file when its gzip header is unreadable.
func (r *Run) scanGzip(ctx context.Context, st *streamer, rd, raw io.Reader, p string, depth int, b *budget) error {
	counted := &countingReader{r: rd}
	content, name, release, ok := st.inflateGzip(ctx, raw, depth)
	if ok {
		defer release()
	} else {
		// A stream cannot be reread: what reading the header takes is
		// kept, to scan as plain bytes if the header is bad, as a file is.
		keep := &replay{r: counted, max: replayMax}
		if raw != nil {
			keep.max = 0
		}
		gz, err := gzip.NewReader(keep)
		if err != nil {
			return r.scanUnreadable(ctx, st, "gzip", keep, raw, p, err)
		}
		keep.stop()
		defer gz.Close()
		content, name = gz, gz.Name
	}
	if name != "" {
		st.scanEntryNames(p, name, &entryNames{}, r.emit)
	}
	if name == "" || strings.ContainsAny(name, "/\\") {
		name = innerName(p, gzipSuffixes)
	}
	inner := p + "!" + name
	cr := r.capped(content, b, 0, counted)
	if depth == 0 {
		cr.floor = gzipRatioFloor
	}
	head := make([]byte, sniffLen)
	n, herr := io.ReadFull(cr, head)
	head = head[:n]
	full := io.MultiReader(bytes.NewReader(head), cr)
	if herr == nil && sniff(head) == tarKind {
		cr.b = nil // the tar entries count the bytes against the budget
		r.scanTar(ctx, st, full, nil, p, depth+1, b)
		r.reportEntryError(p, "gzip data", cr, nil)
		return nil
	}
	err := r.scanEntry(ctx, st, full, nil, -1, inner, depth+1, b)
	r.reportEntryError(inner, "gzip data", cr, err)
	return nil
}

// scanTar scans each regular file in a tar archive. raw, when not nil,
// rereads the file when not even its first header is readable. Entries
// count against the file's total (a sparse entry can expand far past the
// tar's size); in a tar.gz they count once, here, not again at the gzip
// layer.
func (r *Run) scanTar(ctx context.Context, st *streamer, rd, raw io.Reader, p string, depth int, b *budget) {
	tr := tar.NewReader(rd)
	names := &entryNames{}
	for i := 0; ; i++ {
		if ctx.Err() != nil {
			return
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			var ce *capError
			if errors.As(err, &ce) {
				if !ce.silent {
					ce.silent = true
					r.Fail(p, "%s", ce.Error())
				}
			} else if i == 0 && raw != nil {
				r.scanUnreadableArchive(ctx, st, raw, p, "tar", err)
			} else {
				r.Fail(p, "corrupt tar archive after %d entries (%v): the rest was not scanned", i, err)
			}
			return
		}
		if i >= r.opts.Limits.Entries {
			r.Fail(p, "tar archive has more than %d entries: the rest were not scanned", r.opts.Limits.Entries)
			return
		}
		st.scanEntryNames(p, hdr.Name, names, r.emit)
		if !tarHasContent(hdr.Typeflag) {
			continue
		}
		inner := p + "!" + strings.TrimPrefix(hdr.Name, "./")
		cr := r.capped(tr, b, 0, nil)
		err = r.scanEntry(ctx, st, cr, nil, -1, inner, depth, b)
		r.reportEntryError(inner, "tar entry", cr, err)
		if err != nil && cr.hit == nil {
			return // the tar stream itself is damaged: Next would only fail again
		}
	}
}

// scanUnreadableArchive scans raw, the bytes of an archive of the kind what that
// cannot be read from its start (why: err), as plain bytes, and says so.
func (r *Run) scanUnreadableArchive(ctx context.Context, st *streamer, raw io.Reader, p, what string, err error) {
	r.Fail(p, "not a readable %s archive (%v): scanned as plain bytes", what, err)
	if err := r.scanPlain(ctx, st, raw, p); err != nil && !isContextErr(err) {
		r.Fail(p, "read error: %v", err)
	}
}

// tarHasContent reports whether a tar entry of type typ holds a file's
// content. Only the types that are a header alone are passed over (folders,
// links, devices, named pipes; archive/tar reads no data for them) and PAX
// global headers; regular and sparse files, contiguous files ('7') and
// types GNU tar does not know, which it extracts as regular files, are
// scanned.
func tarHasContent(typ byte) bool {
	switch typ {
	case tar.TypeLink, tar.TypeSymlink, tar.TypeChar, tar.TypeBlock, tar.TypeDir, tar.TypeFifo, tar.TypeXGlobalHeader:
		return false
	}
	return true
}

// reportEntryError turns the end of an entry's read into a warning: a cap
// that was hit, or data that was corrupt part-way.
func (r *Run) reportEntryError(p, what string, cr *capReader, err error) {
	var ce *capError
	if cr.hit != nil {
		err = cr.hit
	}
	switch {
	case errors.As(err, &ce):
		if !ce.silent {
			ce.silent = true
			r.Fail(p, "%s", ce.Error())
		}
	case err != nil && !isContextErr(err):
		r.Fail(p, "corrupt %s (%v): scanned what could be read", what, err)
	}
}

// budget is what is left of a file's TotalBytes cap, shared by all layers.
type budget struct {
	left     int64
	reported bool // the cap was already named in a warning
}

func newBudget(total int64) *budget { return &budget{left: total} }

// capError says which cap stopped an entry.
type capError struct {
	msg    string
	silent bool // already reported for this file
}

func (e *capError) Error() string { return e.msg }

// capReader reads decompressed data within the caps: bytes per entry, bytes
// per file (the budget), and the ratio to the compressed bytes behind it.
type capReader struct {
	r          io.Reader
	n          int64
	max        int64
	b          *budget
	compressed int64           // known compressed size, or 0
	counted    *countingReader // compressed bytes read so far, or nil
	ratio      int64
	floor      int64 // decompressed bytes before the ratio is checked
	hit        *capError
}

func (r *Run) capped(rd io.Reader, b *budget, compressed int64, counted *countingReader) *capReader {
	return &capReader{r: rd, max: r.opts.Limits.EntryBytes, b: b, compressed: compressed, counted: counted, ratio: r.opts.Limits.Ratio, floor: ratioFloor}
}

// ratioFloor is the decompressed size below which the ratio is not checked:
// small files of one repeated byte compress 1000:1 innocently.
const ratioFloor = 1 << 20

// gzipRatioFloor is ratioFloor for a gzip file that is the file or blob
// scanned (depth 0): the most it may decode to and be decoded whole
// (bigMember, inflate.go), so that the ratio cap stops it at the same
// place whether it is decoded whole or streamed.
const gzipRatioFloor = bigMember

func (c *capReader) Read(p []byte) (int, error) {
	if c.hit != nil {
		return 0, c.hit
	}
	switch {
	case c.max > 0 && c.n >= c.max:
		c.hit = &capError{msg: fmt.Sprintf("decompresses past the %s cap per entry: scanned the first %s", finding.HumanBytes(c.max), finding.HumanBytes(c.n))}
	case c.b != nil && c.b.left <= 0:
		c.hit = &capError{msg: "archives in this file decompress past the total cap per file: the rest was not scanned", silent: c.b.reported}
		c.b.reported = true
	case c.ratio > 0 && c.n > c.floor && c.compressedSoFar() > 0 && c.n/c.compressedSoFar() > c.ratio:
		c.hit = &capError{msg: fmt.Sprintf("compression ratio above %d:1 (a zip bomb?): scanned the first %s", c.ratio, finding.HumanBytes(c.n))}
	}
	if c.hit != nil {
		return 0, c.hit
	}
	if c.max > 0 && int64(len(p)) > c.max-c.n {
		p = p[:c.max-c.n]
	}
	if c.b != nil && int64(len(p)) > c.b.left {
		p = p[:c.b.left]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.b != nil {
		c.b.left -= int64(n)
	}
	return n, err
}

func (c *capReader) compressedSoFar() int64 {
	if c.counted != nil {
		return c.counted.n
	}
	return c.compressed
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// addBytes counts what a streamer read, unless it already counted it
// chunk by chunk.
func (r *Run) addBytes(st *streamer, read int64) {
	if st.progress == nil {
		r.progress.Bytes.Add(read)
	}
}
