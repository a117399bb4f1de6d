package scanner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ar archives: a Debian package (.deb: debian-binary, control.tar.*,
// data.tar.*, whose files a team's deploy package installs, settings
// among them) and a static library (.a). The format is the magic, then
// for each member a 60-byte header (name 16 bytes, modification time 12,
// owner 6, group 6, mode 8, size 10, "`\n") and the member's data, padded
// to an even length. GNU ar writes a name longer than 15 bytes in a "//"
// member and the name as "/N", N its offset there; BSD ar writes "#1/N"
// and the name's N bytes before the data. Each member is scanned as an
// archive entry, "x.deb!data.tar.xz!etc/app/settings.env".

// arMagic starts an ar archive.
const arMagic = "!<arch>\n"

// maxArNames bounds the GNU long-names member read into memory and a BSD
// name: names are a few bytes each.
const maxArNames = 1 << 20

// arHeader is one member's header, read.
type arHeader struct {
	name string
	size int64
}

// readArHeader reads the header of the next member of br, and for a BSD
// long name, the name: size is then what follows it. io.EOF when the
// archive ends where a member would start.
func readArHeader(br *bufio.Reader, longNames []byte) (arHeader, error) {
	h, err := br.Peek(60) // consumed once it reads as a header
	switch {
	case len(h) == 0 && errors.Is(err, io.EOF):
		return arHeader{}, io.EOF // the end
	case len(h) < 60:
		return arHeader{}, errors.New("a member's header is cut short")
	case string(h[58:60]) != "`\n":
		return arHeader{}, errors.New("a member's header does not end with its magic")
	}
	size, err := strconv.ParseInt(strings.TrimRight(string(h[48:58]), " "), 10, 64)
	if err != nil || size < 0 {
		return arHeader{}, fmt.Errorf("a member's size is not a number: %q", strings.TrimRight(string(h[48:58]), " "))
	}
	name := strings.TrimRight(string(h[:16]), " ")
	br.Discard(60)
	switch {
	case strings.HasPrefix(name, "#1/"):
		n, err := strconv.Atoi(name[3:])
		if err != nil || n < 0 || n > maxArNames || int64(n) > size {
			return arHeader{}, errors.New("a BSD member name's length is wrong")
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return arHeader{}, errors.New("a BSD member name is cut short")
		}
		return arHeader{name: string(bytes.TrimRight(b, "\x00")), size: size - int64(n)}, nil
	case name == "/" || name == "//" || name == "/SYM64/" || name == "__.SYMDEF" || name == "__.SYMDEF SORTED":
		return arHeader{name: name, size: size}, nil // tables, not members
	case len(name) > 1 && name[0] == '/':
		off, err := strconv.Atoi(name[1:])
		if err != nil || off < 0 || off >= len(longNames) {
			return arHeader{name: name, size: size}, nil
		}
		end := bytes.Index(longNames[off:], []byte("/\n"))
		if end < 0 {
			end = bytes.IndexByte(longNames[off:], '\n')
		}
		if end < 0 {
			end = len(longNames) - off
		}
		return arHeader{name: string(longNames[off : off+end]), size: size}, nil
	}
	return arHeader{name: strings.TrimSuffix(name, "/"), size: size}, nil
}

// scanAr scans each member of an ar archive, its magic already checked by
// sniff. An archive whose first member's header cannot be read is scanned
// as plain bytes: raw, when not nil, rereads the file.
func (r *Run) scanAr(ctx context.Context, st *streamer, rd, raw io.Reader, p string, depth int, b *budget) {
	br := bufio.NewReader(rd)
	if _, err := br.Discard(len(arMagic)); err != nil {
		r.Fail(p, "corrupt ar archive: %v", err)
		return
	}
	var longNames []byte
	names := &entryNames{}
	for i := 0; ; i++ {
		if ctx.Err() != nil {
			return
		}
		h, err := readArHeader(br, longNames)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			if i == 0 {
				if raw == nil {
					// What the header was read from is still in br.
					raw = io.MultiReader(strings.NewReader(arMagic), br)
				}
				r.scanUnreadableArchive(ctx, st, raw, p, "ar", err)
			} else {
				r.Fail(p, "corrupt ar archive after %d members (%v): the rest was not scanned", i, err)
			}
			return
		}
		if i >= r.opts.Limits.Entries {
			r.Fail(p, "ar archive has more than %d members: the rest were not scanned", r.opts.Limits.Entries)
			return
		}
		body := &io.LimitedReader{R: br, N: h.size}
		switch h.name {
		case "//":
			longNames, _ = io.ReadAll(io.LimitReader(body, maxArNames))
		case "/", "/SYM64/", "__.SYMDEF", "__.SYMDEF SORTED":
		default:
			st.scanEntryNames(p, h.name, names, r.emit)
			inner := p + "!" + h.name
			cr := r.capped(body, b, 0, nil)
			err := r.scanEntry(ctx, st, cr, nil, -1, inner, depth, b)
			r.reportEntryError(inner, "ar member", cr, err)
		}
		// What the member's scan left, then the padding to an even length.
		if _, err := io.Copy(io.Discard, body); err != nil || body.N > 0 {
			if ctx.Err() == nil {
				r.Fail(p, "corrupt ar archive: member %d is cut short: the rest was not scanned", i+1)
			}
			return
		}
		if h.size%2 == 1 {
			br.Discard(1) // at the archive's end, no padding: the next read ends it
		}
	}
}
